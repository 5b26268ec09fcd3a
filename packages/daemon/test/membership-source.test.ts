// Issue 13 (gossip): encryption never turns off silently, rejected gossip shows in /metrics, a wildcard bind address
// advertises a concrete one.
import dgram from 'node:dgram';
import type { NetworkInterfaceInfo } from 'node:os';
import { encodePacket } from '@ingot/election';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/parse-config.js';
import { createLogger } from '../src/logger.js';
import { gossipSecretProblem, MIN_SECRET_BYTES } from '../src/membership-secret.js';
import {
  advertiseAddress,
  type MembershipSource,
  type MembershipSourceOptions,
  startMembership,
} from '../src/membership-source.js';
import { renderMetrics } from '../src/metrics.js';

const SECRET = 'AAECAwQFBgcICQoLDA0ODw'; // 22 raw-base64 characters, as MetalLB's controller generates
const running: MembershipSource[] = [];
const base = 23_000 + (process.pid % 2000) * 3;

function start(extra: Partial<MembershipSourceOptions>, logs: string[] = []): Promise<MembershipSource> {
  return startMembership({
    name: 'n1',
    labels: {},
    bind: '127.0.0.1:0',
    join: [],
    log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    onChange: () => {},
    ...extra,
  }).then((m) => {
    running.push(m);
    return m;
  });
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.close()));
});

describe('gossip encryption never turns off silently', () => {
  it('refuses an empty or short secret, and no secret without the plaintext opt-in', async () => {
    await expect(start({ secret: '' })).rejects.toThrow(/secret is empty/);
    await expect(start({ secret: 'short-secret' })).rejects.toThrow(/12 bytes; at least 16/);
    await expect(start({})).rejects.toThrow(/insecurePlaintext/);
    expect(MIN_SECRET_BYTES).toBe(16);
    expect(gossipSecretProblem(SECRET)).toBeUndefined();
  });

  it('runs plaintext only with insecurePlaintext, and says so at warn level', async () => {
    const logs: string[] = [];
    await start({ insecurePlaintext: true }, logs);
    const warn = logs.map((l) => JSON.parse(l) as { level: string; msg: string }).find((l) => l.level === 'warn');
    expect(warn?.msg).toMatch(/NOT encrypted/);
  });

  it('counts plaintext packets refused by an encrypted member in ingot_gossip_rejected_total', async () => {
    const logs: string[] = [];
    const m = await start({ secret: SECRET, bind: `127.0.0.1:${base}` }, logs);
    const sock = dgram.createSocket('udp4');
    const alive = encodePacket({
      messages: [{ type: 'alive', incarnation: 1, node: 'x', address: { host: '127.0.0.1', port: 9 }, labels: {} }],
    });
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => sock.send(alive, base, '127.0.0.1', () => r()));
    sock.close();
    await new Promise((r) => setTimeout(r, 200));
    const text = renderMetrics(m.metrics());
    expect(text).toContain('# TYPE ingot_gossip_rejected_total counter');
    expect(text).toContain('ingot_gossip_rejected_total{reason="plaintext-refused"} 3');
    expect(text).toContain('ingot_gossip_rejected_total{reason="oversize"} 0');
    const warns = logs.filter((l) => l.includes('rejected gossip packet: plaintext-refused'));
    expect(warns.length).toBe(1); // rate-limited
  });

  it('ingot validate reports an empty or short inline secret and a missing secret', () => {
    const doc = (memberlist: string) =>
      parseConfig(`apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: n1 }
spec:
  memberlist: { bindAddress: '192.0.2.1:7946', join: [], ${memberlist} }
`);
    const issue = (memberlist: string) => {
      const r = doc(memberlist);
      return r.ok ? undefined : r.issues.map((i) => `${i.field}: ${i.reason}`).join('\n');
    };
    expect(issue("secret: ''")).toMatch(/spec.memberlist.secret: the memberlist secret is empty/);
    expect(issue('secret: abc')).toMatch(/spec.memberlist.secret: .*3 bytes/);
    expect(issue('insecurePlaintext: false')).toMatch(/spec.memberlist: set secret or secretFile/);
    expect(issue(`secret: ${SECRET}`)).toBeUndefined();
    expect(issue('secretFile: /etc/ingot/memberlist-secret')).toBeUndefined();
    expect(issue('insecurePlaintext: true')).toBeUndefined();
    expect(issue(`secret: ${SECRET}, advertiseAddress: '0.0.0.0'`)).toMatch(/advertiseAddress/);
    expect(issue(`secret: ${SECRET}, advertiseAddress: '[::]:7946'`)).toMatch(/advertiseAddress/);
    expect(issue(`secret: ${SECRET}, advertiseAddress: '192.0.2.1:7946'`)).toBeUndefined();
  });
});

describe('spec.memberlist.wire', () => {
  it('accepts ingot or memberlist and nothing else', () => {
    const issue = (wire: string) => {
      const r = parseConfig(`apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: n1 }
spec:
  memberlist: { bindAddress: '192.0.2.1:7946', join: [], insecurePlaintext: true, wire: ${wire} }
`);
      return r.ok ? undefined : r.issues.map((i) => `${i.field}: ${i.reason}`).join('\n');
    };
    expect(issue('memberlist')).toBeUndefined();
    expect(issue('ingot')).toBeUndefined();
    expect(issue('swim')).toMatch(/spec.memberlist.wire: must be ingot or memberlist/);
  });

  it('two daemons on the memberlist wire (MetalLB key) see each other, labels included', async () => {
    const a = await start({
      secret: SECRET,
      wire: 'memberlist',
      bind: `127.0.0.1:${base + 150}`,
      labels: { zone: 'a' },
    });
    const b = await start({
      name: 'n2',
      secret: SECRET,
      wire: 'memberlist',
      bind: `127.0.0.1:${base + 151}`,
      join: [`127.0.0.1:${base + 150}`],
    });
    const end = Date.now() + 5000;
    while (b.members().length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    // with its address (the next hop ADD-PATH announces for it)
    expect(b.members()).toContainEqual({ name: 'n1', labels: { zone: 'a' }, address: '127.0.0.1' });
    expect(
      a
        .members()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['n1', 'n2']);
  });
});

describe('wildcard --memberlist-bind', () => {
  const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
    ({ address, family, internal, netmask: '', mac: '', cidr: null }) as unknown as NetworkInterfaceInfo;

  it('starts on 0.0.0.0 with an advertise address (no "invalid option advertise") and gossips that address', async () => {
    const m = await start({ secret: SECRET, bind: `0.0.0.0:${base + 1}`, advertise: '127.0.0.1' });
    expect(m.advertised).toBe(`127.0.0.1:${base + 1}`);
    expect(m.view()).toEqual([{ name: 'n1', state: 'alive', address: `127.0.0.1:${base + 1}` }]);
  });

  it('advertises the only candidate address, else asks for --memberlist-advertise naming the candidates', () => {
    const one = { lo: [nic('127.0.0.1', 'IPv4', true)], eth0: [nic('192.0.2.7', 'IPv4'), nic('fe80::1', 'IPv6')] };
    expect(advertiseAddress({ host: '0.0.0.0', port: 7946 }, undefined, one)).toEqual({
      host: '192.0.2.7',
      port: 7946,
    });
    const two = { ...one, eth1: [nic('198.51.100.7', 'IPv4'), nic('2001:db8::7', 'IPv6')] };
    expect(() => advertiseAddress({ host: '0.0.0.0', port: 7946 }, undefined, two)).toThrow(
      /--memberlist-advertise .*candidates: 192.0.2.7, 198.51.100.7/,
    );
    expect(advertiseAddress({ host: '::', port: 7946 }, undefined, two)).toEqual({ host: '2001:db8::7', port: 7946 });
    expect(advertiseAddress({ host: '0.0.0.0', port: 7946 }, '198.51.100.7:8000', two)).toEqual({
      host: '198.51.100.7',
      port: 8000,
    });
    expect(advertiseAddress({ host: '192.0.2.7', port: 7946 }, undefined, {})).toEqual({
      host: '192.0.2.7',
      port: 7946,
    });
    expect(() => advertiseAddress({ host: '0.0.0.0', port: 7946 }, '0.0.0.0', two)).toThrow(/cluster network/);
  });
});

describe('ingot run with a wildcard memberlist bind (standalone daemon)', () => {
  const quiet = createLogger({ level: 'error', write: () => {} });

  it('gossips the advertise address; without one, runs on the only candidate or names the flag to set', async () => {
    const { runStandalone } = await import('../src/standalone/standalone-mode.js');
    const h = await runStandalone({
      nodeName: 'w1',
      memberlist: {
        bindAddress: `0.0.0.0:${base + 2}`,
        join: [],
        advertiseAddress: '127.0.0.1',
        insecurePlaintext: true,
      },
      statusAddress: `127.0.0.1:${base + 100}`,
      log: quiet,
      version: 'test',
    });
    try {
      expect(h.status().members).toEqual([{ name: 'w1', state: 'alive', address: `127.0.0.1:${base + 2}` }]);
    } finally {
      await h.stop();
    }
    const started = runStandalone({
      nodeName: 'w2',
      memberlist: { bindAddress: `0.0.0.0:${base + 2}`, join: [], insecurePlaintext: true },
      statusAddress: `0.0.0.0:${base + 101}`,
      log: quiet,
      version: 'test',
    });
    const outcome = await started.then(
      async (h2) => {
        const address = h2.status().members[0]?.address;
        await h2.stop();
        return `started on ${address}`;
      },
      (err: Error) => err.message,
    );
    expect(outcome).not.toMatch(/invalid option advertise/);
    expect(outcome).toMatch(/^started on (?!0\.0\.0\.0)\d+\.\d+\.\d+\.\d+:\d+$|--memberlist-advertise/);
  }, 20_000);
});
