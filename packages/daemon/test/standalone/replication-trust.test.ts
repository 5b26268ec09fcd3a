import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import type { IngotConfig } from '../../src/config/resources.js';
import { createLogger } from '../../src/logger.js';
import {
  ASSIGNMENTS_LABEL,
  AssignmentSync,
  controllerOf,
  ReplicationError,
  STATUS_LABEL,
} from '../../src/standalone/assignment-sync.js';
import {
  type AssignmentTable,
  MAX_GENERATION,
  parseTableVersion,
  validateTable,
} from '../../src/standalone/assignment-table.js';
import { checkTable } from '../../src/standalone/table-check.js';

const log = createLogger({ level: 'error', write: () => {} });
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ingot-trust-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const NAMES = ['node-1', 'node-2', 'node-3'];
const ALLOCATOR = controllerOf(NAMES) as string;
const FOLLOWER = NAMES.find((n) => n !== ALLOCATOR) as string;
const OTHER = NAMES.find((n) => n !== ALLOCATOR && n !== FOLLOWER) as string;

function config(extra = ''): IngotConfig {
  const r = parseConfig(`${NAMES.map(
    (n) => `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: ${n} }
---
`,
  ).join('')}apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool }
spec: { addresses: [192.0.2.10-192.0.2.20, 2001:db8::10/126] }
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: other }
spec: { addresses: [198.51.100.0/28] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: demo }
spec: { type: LoadBalancer, ports: [{ port: 443 }] }
---
${extra}`);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

const table = (generation: number, writer: string, services: AssignmentTable['services']): AssignmentTable => ({
  generation,
  writer,
  services,
});
const WEB = { 'demo/web': { ips: ['192.0.2.10'], pool: 'pool' } };

describe('a replicated table is checked against the configuration in force', () => {
  const cfg = config(`apiVersion: v1
kind: Service
metadata: { name: s1, namespace: demo, annotations: { metallb.io/allow-shared-ip: k } }
spec: { type: LoadBalancer, ports: [{ port: 81 }] }
---
apiVersion: v1
kind: Service
metadata: { name: s2, namespace: demo, annotations: { metallb.io/allow-shared-ip: k } }
spec: { type: LoadBalancer, ports: [{ port: 82 }] }
---
`);
  const problems = (services: AssignmentTable['services']) =>
    checkTable(table(1, ALLOCATOR, services), cfg).map((p) => `${p.service}: ${p.reason}`);

  it('allows what the allocator would hold, including MetalLB IP sharing', () => {
    expect(problems(WEB)).toEqual([]);
    expect(
      problems({
        'demo/s1': { ips: ['192.0.2.11'], pool: 'pool' },
        'demo/s2': { ips: ['192.0.2.11'], pool: 'pool' },
        'gone/svc': { ips: ['198.51.100.3'], pool: 'other' },
      }),
    ).toEqual([]);
  });

  it('refuses IPs that do not parse, lie outside every pool, in another pool, of the wrong family, or held twice', () => {
    expect(problems({ 'demo/web': { ips: ['not-an-ip'], pool: 'pool' } })).toEqual([
      'demo/web: invalid IP "not-an-ip"',
    ]);
    expect(problems({ 'demo/web': { ips: ['203.0.113.7'], pool: 'pool' } })[0]).toMatch(/not allowed in config/);
    expect(problems({ 'demo/web': { ips: ['198.51.100.3'], pool: 'pool' } })[0]).toMatch(/pool "other"/);
    expect(problems({ 'demo/web': { ips: ['2001:db8::10'], pool: 'pool' } })[0]).toMatch(/IP families/);
    expect(
      problems({
        'demo/web': { ips: ['192.0.2.12'], pool: 'pool' },
        'demo/api': { ips: ['192.0.2.12'], pool: 'pool' },
      }),
    ).toEqual([expect.stringMatching(/^demo\/api: .*sharing/)]);
  });
});

describe('versions are bounded', () => {
  it('a generation above 2^48 is refused, as label and as table', () => {
    expect(parseTableVersion('9007199254740991.zzz')).toBeUndefined();
    expect(parseTableVersion(`${MAX_GENERATION}.a`)).toEqual({ generation: MAX_GENERATION, writer: 'a' });
    expect(() => validateTable(table(2 ** 53 - 1, 'a', {}))).toThrow(/generation/);
    expect(() => validateTable(table(1, 'a'.repeat(300), {}))).toThrow(/writer/);
    expect(() => validateTable(table(1, 'a', { x: { ips: ['192.0.2.1', '192.0.2.2', '192.0.2.3'] } }))).toThrow(
      /at most 2/,
    );
  });
});

describe('AssignmentSync trusts only the elected allocator', () => {
  function make(node: string, served: Record<string, unknown>, extra: { dir?: string; cfg?: IngotConfig } = {}) {
    const adopted: AssignmentTable[] = [];
    const fetched: string[] = [];
    const cfg = extra.cfg ?? config();
    const sync = new AssignmentSync({
      node,
      ...(extra.dir ? { stateDirectory: extra.dir } : {}),
      log,
      adopt: (t) => adopted.push(t),
      advertise: () => {},
      fetchTable: async (address) => {
        fetched.push(address);
        if (!(address in served)) throw new ReplicationError('unreachable', 'connection refused');
        return served[address];
      },
      check: (t) => checkTable(t, cfg),
      eligible: () => new Set(cfg.nodes.map((n) => n.name)),
      now: () => new Date('2026-12-07T12:00:00Z'),
    });
    return { sync, adopted, fetched };
  }
  const member = (name: string, version: string) => ({
    name,
    labels: { [ASSIGNMENTS_LABEL]: version, [STATUS_LABEL]: `192.0.2.${NAMES.indexOf(name) + 1 || 99}:7472` },
  });
  const at = (name: string) => `192.0.2.${NAMES.indexOf(name) + 1 || 99}:7472`;

  it('a member that is not the allocator serving a forged, newer table is never read', async () => {
    const forged = table(2 ** 53 - 1, OTHER, { 'demo/web': { ips: ['203.0.113.9'], pool: 'pool' } });
    const { sync, adopted, fetched } = make(FOLLOWER, { [at(OTHER)]: forged });
    await sync.observe([member(ALLOCATOR, '0.'), member(OTHER, `${2 ** 53 - 1}.zzz`), member(OTHER, '99.x')]);
    expect(fetched).toEqual([]);
    expect(adopted).toEqual([]);
  });

  it("the allocator's table is adopted only when it names the allocator and the configuration allows it", async () => {
    const served: Record<string, unknown> = {};
    const { sync, adopted } = make(FOLLOWER, served);
    served[at(ALLOCATOR)] = table(3, OTHER, WEB);
    await sync.observe([member(ALLOCATOR, '3.x')]);
    served[at(ALLOCATOR)] = table(3, ALLOCATOR, { 'demo/web': { ips: ['not-an-ip'], pool: 'pool' } });
    await sync.observe([member(ALLOCATOR, '3.x')]);
    served[at(ALLOCATOR)] = table(3, ALLOCATOR, { 'demo/web': { ips: ['203.0.113.1'], pool: 'pool' } });
    await sync.observe([member(ALLOCATOR, '3.x')]);
    served[at(ALLOCATOR)] = { generation: '3', writer: ALLOCATOR, services: {} };
    await sync.observe([member(ALLOCATOR, '3.x')]);
    expect(adopted).toEqual([]);
    expect(sync.rejections()).toEqual({ writer: 1, config: 2, malformed: 1 });
    expect(sync.upToDate([member(ALLOCATOR, `3.${ALLOCATOR}`)])).toBe(false);
    // Replication is not frozen: the next genuine table is adopted.
    served[at(ALLOCATOR)] = table(4, ALLOCATOR, WEB);
    await sync.observe([member(ALLOCATOR, `4.${ALLOCATOR}`)]);
    expect(adopted).toEqual([table(4, ALLOCATOR, WEB)]);
    expect(sync.upToDate([member(ALLOCATOR, `4.${ALLOCATOR}`)])).toBe(true);
  });

  it('a member that is not a configured Node never becomes the allocator, whatever its name hashes to', () => {
    // Find a name that would win the allocator hash against the configured nodes.
    let intruder = 'x0';
    for (let i = 0; controllerOf([...NAMES, intruder]) !== intruder; i++) intruder = `x${i}`;
    const { sync } = make(ALLOCATOR, {});
    expect(sync.allocatorOf([...NAMES, intruder].map((n) => ({ name: n, labels: {} })))).toBe(ALLOCATOR);
    expect(sync.isAllocator([...NAMES, intruder].map((n) => ({ name: n, labels: {} })))).toBe(true);
  });

  it('a new allocator re-stamps the table it inherited, above every generation it heard of', async () => {
    const served = { [at(OTHER)]: table(7, OTHER, WEB) };
    const { sync } = make(ALLOCATOR, served);
    await sync.observe([member(OTHER, `7.${OTHER}`), member(FOLLOWER, '9.whatever')]);
    expect(sync.table).toEqual(table(7, OTHER, WEB));
    // Not while a newer table it would accept is advertised but unreachable.
    sync.claim([member(OTHER, `8.${OTHER}`)]);
    expect(sync.table).toEqual(table(7, OTHER, WEB));
    sync.claim(NAMES.map((n) => ({ name: n, labels: {} })));
    expect(sync.table).toEqual(table(10, ALLOCATOR, WEB));
  });

  it("a new allocator without state catches up from a follower holding the former allocator's table", async () => {
    const served = { [at(FOLLOWER)]: table(5, OTHER, WEB), [at(OTHER)]: table(6, 'not-a-node', WEB) };
    const { sync, adopted } = make(ALLOCATOR, served);
    await sync.observe([member(OTHER, '6.not-a-node')]);
    expect(adopted).toEqual([]);
    expect(sync.rejections()).toEqual({ writer: 1 });
    await sync.observe([member(FOLLOWER, `5.${OTHER}`)]);
    expect(adopted).toEqual([table(5, OTHER, WEB)]);
  });

  it('a corrupt state file is set aside, not fatal', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'assignments.json'), '{"generation": 1, "writer": "a", "services": {"x": {"ips": [7]}}}');
    const { sync } = make(FOLLOWER, {}, { dir });
    expect(sync.table.generation).toBe(0);
    expect(existsSync(join(dir, 'assignments.json'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['assignments.json.corrupt-2026-12-07T120000.000Z']);
    expect(sync.rejections()).toEqual({ 'state-file': 1 });
  });

  it('entries of the state file the configuration does not allow are not adopted; the file is kept aside', () => {
    const dir = tempDir();
    const original = JSON.stringify(
      table(4, ALLOCATOR, { ...WEB, 'demo/api': { ips: ['203.0.113.5'], pool: 'pool' } }),
    );
    writeFileSync(join(dir, 'assignments.json'), original);
    const { sync } = make(FOLLOWER, {}, { dir });
    expect(sync.table).toEqual(table(4, ALLOCATOR, WEB));
    expect(readFileSync(join(dir, 'assignments.json.rejected-2026-12-07T120000.000Z'), 'utf8')).toBe(original);
  });
});
