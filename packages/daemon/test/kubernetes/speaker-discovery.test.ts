import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/kubernetes/kube-objects.js';
import { ensureMemberlistSecret, MEMBERLIST_SECRET } from '../../src/kubernetes/memberlist-secret.js';
import { SpeakerDiscovery, seedsFromNodes } from '../../src/kubernetes/speaker-discovery.js';
import { createLogger } from '../../src/logger.js';

const log = createLogger({ level: 'error' });
const node = (name: string, addresses: [string, string][]): KubeObject =>
  ({
    metadata: { name },
    status: { addresses: addresses.map(([type, address]) => ({ type, address })) },
  }) as KubeObject;

const NODES = [
  node('a', [
    ['InternalIP', '192.0.2.1'],
    ['InternalIP', '2001:db8::1'],
    ['Hostname', 'a'],
  ]),
  node('b', [['InternalIP', '192.0.2.2']]),
  node('c', [
    ['ExternalIP', '198.51.100.3'],
    ['InternalIP', '2001:db8::3'],
  ]),
  node('d', [['Hostname', 'd']]),
];

describe('seedsFromNodes', () => {
  it('every other Node at its InternalIP (else ExternalIP) of the gossip family, minus live members', () => {
    expect(seedsFromNodes(NODES, 'a', 7946, 4, [])).toEqual(['192.0.2.2:7946', '198.51.100.3:7946']);
    expect(seedsFromNodes(NODES, 'b', 7946, 4, ['192.0.2.1:7946'])).toEqual(['198.51.100.3:7946']);
    expect(seedsFromNodes(NODES, 'a', 7946, 6, [])).toEqual(['[2001:db8::3]:7946']);
    expect(seedsFromNodes([], 'a', 7946, 4, [])).toEqual([]);
  });
});

describe('SpeakerDiscovery', () => {
  it('joins the Nodes that are not members, again when asked, and coalesces overlapping passes', async () => {
    const joined: string[][] = [];
    let members: string[] = [];
    let release: () => void = () => {};
    const d = new SpeakerDiscovery({
      nodes: () => NODES,
      self: 'a',
      advertised: '192.0.2.1:7946',
      members: () => members,
      join: async (seeds) => {
        joined.push(seeds);
        await new Promise<void>((r) => {
          release = r;
        });
        return seeds.length;
      },
      intervalMs: 3_600_000,
      log,
    });
    const first = d.start();
    members = ['192.0.2.2:7946'];
    const second = d.rejoin();
    const third = d.rejoin();
    release();
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all([first, second, third]);
    d.stop();
    expect(joined).toEqual([['192.0.2.2:7946', '198.51.100.3:7946'], ['198.51.100.3:7946']]);
  });

  it('a join that fails is logged, not thrown', async () => {
    const d = new SpeakerDiscovery({
      nodes: () => NODES,
      self: 'a',
      advertised: '192.0.2.1:7946',
      members: () => [],
      join: async () => {
        throw new Error('no seed answered');
      },
      log,
    });
    await expect(d.rejoin()).resolves.toBeUndefined();
  });
});

describe('ensureMemberlistSecret', () => {
  it('creates 16 random bytes as raw base64 under secretkey, once; never touches an existing Secret', async () => {
    const store = new Map<string, KubeObject>();
    const api = {
      readSecret: async (_ns: string, name: string) => store.get(name),
      createSecret: async (_ns: string, s: KubeObject) => {
        if (store.has(s.metadata?.name ?? '')) throw Object.assign(new Error('exists'), { code: 409 });
        store.set(s.metadata?.name ?? '', s);
        return s;
      },
    };
    expect(await ensureMemberlistSecret(api, 'metallb-system', MEMBERLIST_SECRET, log)).toBe(true);
    const data = (store.get(MEMBERLIST_SECRET) as unknown as { data: { secretkey: string } }).data;
    const value = Buffer.from(data.secretkey, 'base64').toString('utf8');
    expect(value).toMatch(/^[A-Za-z0-9+/]{22}$/);
    expect(Buffer.from(value, 'base64')).toHaveLength(16);
    expect(await ensureMemberlistSecret(api, 'metallb-system', MEMBERLIST_SECRET, log)).toBe(false);
    expect((store.get(MEMBERLIST_SECRET) as unknown as { data: { secretkey: string } }).data.secretkey).toBe(
      data.secretkey,
    );
    // Another controller created it between our read and our create.
    const racing = { ...api, readSecret: async () => undefined };
    expect(await ensureMemberlistSecret(racing, 'metallb-system', MEMBERLIST_SECRET, log)).toBe(false);
  });
});
