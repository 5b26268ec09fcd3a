import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBody } from '../../src/http-json.js';
import { createLogger } from '../../src/logger.js';
import { type MembershipSource, startMembership } from '../../src/membership-source.js';
import { ASSIGNMENTS_LABEL, controllerOf, STATUS_LABEL } from '../../src/standalone/assignment-sync.js';
import { runStandalone, type StandaloneHandle } from '../../src/standalone/standalone-mode.js';
import { replicationKey, SIGNATURE_HEADER, signBody } from '../../src/standalone/table-auth.js';
import { layer2Pool } from '../fixtures/config-documents.js';

// A real node (in-process, dry-run, gossip and HTTP on loopback) follows a hostile allocator: a gossip member holding
// the cluster secret whose name wins the allocator hash, serving whatever fast-check makes up.
const dir = mkdtempSync(join(tmpdir(), 'ingot-fuzz-'));
const base = 20000 + Math.floor(Math.random() * 20000);
const SECRET = 'bm90LWEtcmVhbC1zZWNyZXQtYnV0LWxvbmctZW5vdWdo';
const KEY = replicationKey(SECRET);
// Names where the hostile member wins the allocator hash against every real node.
const REAL = Array.from({ length: 12 }, (_, i) => `node-${i}`);
let HOSTILE = 'allocator-0';
for (let i = 0; controllerOf([...REAL, HOSTILE]) !== HOSTILE; i++) HOSTILE = `allocator-${i}`;
const gossip = (i: number) => `127.0.0.1:${base + i}`;
const status = (i: number) => `127.0.0.1:${base + 100 + i}`;
const HOSTILE_GOSSIP = `127.0.0.1:${base + 99}`;
const HOSTILE_HTTP = `127.0.0.1:${base + 199}`;
const POOL = Array.from({ length: 11 }, (_, i) => `192.0.2.${10 + i}`);

const fleet = REAL.map(
  (name, i) => `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: ${name} }
spec:
  memberlist: { bindAddress: '${gossip(i)}', join: ['${HOSTILE_GOSSIP}'], secret: ${SECRET} }
  statusAddress: '${status(i)}'
  stateDirectory: ${join(dir, name)}
---
`,
).join('');
const CONFIG = `${fleet}apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: ${HOSTILE} }
---
${layer2Pool('192.0.2.10-192.0.2.20')}${['a', 'b', 'c', 'd']
  .map(
    (n) => `apiVersion: v1
kind: Service
metadata: { name: ${n}, namespace: demo${n === 'c' || n === 'd' ? ', annotations: { metallb.io/allow-shared-ip: k }' : ''} }
spec: { type: LoadBalancer, ports: [{ port: ${n === 'd' ? 81 : 80} }] }
---
`,
  )
  .join('')}`;
writeFileSync(join(dir, 'fleet.yaml'), CONFIG);

/** What the hostile allocator serves next. */
let answer: { body: Buffer | string; signature?: string; status?: number } = { body: '{}' };
let requests = 0;
let hostile: MembershipSource;
let server: Server;
const logs: string[] = [];
const quiet = createLogger({ level: 'error', write: () => {} });

/** Every IP a real node said it announces, from its log. */
function announced(): string[] {
  const ips: string[] = [];
  for (const line of logs) {
    const r = JSON.parse(line) as { msg: string; ip?: string };
    if (r.msg.startsWith('announcing') || r.msg.startsWith('dry run: would answer')) ips.push(String(r.ip));
  }
  return ips;
}

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(answer.status ?? 200, answer.signature ? { [SIGNATURE_HEADER]: answer.signature } : {});
    res.end(answer.body);
  });
  await new Promise<void>((r) => server.listen(base + 199, '127.0.0.1', r));
  hostile = await startMembership({
    name: HOSTILE,
    labels: { [ASSIGNMENTS_LABEL]: '0.', [STATUS_LABEL]: HOSTILE_HTTP },
    bind: HOSTILE_GOSSIP,
    join: [],
    secret: SECRET,
    log: quiet,
    onChange: () => {},
  });
});

afterAll(async () => {
  await hostile?.close();
  server?.closeAllConnections();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(i: number): Promise<StandaloneHandle> {
  return runStandalone({
    configFile: join(dir, 'fleet.yaml'),
    nodeName: REAL[i] as string,
    log: createLogger({ level: 'info', write: (l) => logs.push(l) }),
    version: 'test',
  });
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ipText = fc.oneof(
  fc.constantFrom(...POOL),
  fc.constantFrom('203.0.113.7', '0.0.0.0', '255.255.255.255', '::ffff:192.0.2.10', '2001:db8::1', 'not-an-ip', ''),
  fc.ipV4(),
  fc.ipV6(),
  fc.string({ maxLength: 20 }),
);
const anyValue = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 10 }), fc.constant(null), fc.boolean());
const entry = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ ips: fc.array(ipText, { maxLength: 3 }), pool: fc.constantFrom('pool', 'other') }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ ips: fc.oneof(anyValue, fc.array(anyValue, { maxLength: 3 })), pool: anyValue }),
  },
  { weight: 1, arbitrary: anyValue },
);
const serviceKey = fc.oneof(
  fc.constantFrom('demo/a', 'demo/b', 'demo/c', 'demo/d', 'gone/x', '__proto__', 'constructor'),
  fc.string({ maxLength: 12 }),
);
const generation = fc.oneof(
  { weight: 4, arbitrary: fc.constant('next') },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 53 - 1, 2 ** 48 + 1, -1, 1.5, '7', null, 1e300) },
);
const writer = fc.oneof({ weight: 2, arbitrary: fc.constant(HOSTILE) }, { weight: 1, arbitrary: fc.string() });
const table = fc.record({ generation, writer, services: fc.dictionary(serviceKey, entry, { maxKeys: 6 }) });
const signing = fc.constantFrom('right', 'right', 'right', 'none', 'wrong');
// Tables the configuration allows, so some get through and the node announces.
const good = fc.uniqueArray(fc.constantFrom(...POOL), { minLength: 2, maxLength: 2 }).map(([x, y]) => ({
  generation: 'next' as const,
  writer: HOSTILE,
  services: { 'demo/a': { ips: [x as string], pool: 'pool' }, 'demo/b': { ips: [y as string], pool: 'pool' } },
}));
const body = fc.oneof(
  { weight: 3, arbitrary: good.map((t) => ({ kind: 'table' as const, t })) },
  { weight: 6, arbitrary: table.map((t) => ({ kind: 'table' as const, t })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => ({ kind: 'raw' as const, s })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ kind: 'bytes' as const, b })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'huge' as const }) },
);

describe('a running node fed hostile tables, state files and HTTP bodies', () => {
  it('never crashes and never announces outside the pool', async () => {
    // State files first: each real node starts from a made-up assignments.json while the hostile allocator serves nothing.
    const files = fc.sample(
      fc.oneof(
        table.map((t) => JSON.stringify({ ...t, generation: t.generation === 'next' ? 3 : t.generation })),
        fc.string({ maxLength: 100 }),
        fc.constant('{"generation": 1, "writer": "x", "services": {"demo/a": {"ips": ["not-an-ip"], "pool": "pool"}}}'),
        fc.constant(
          `{"generation": 1, "writer": "${HOSTILE}", "services": {"demo/a": {"ips": ["203.0.113.7"], "pool": "pool"}}}`,
        ),
      ),
      { numRuns: 11, seed: 42 },
    );
    answer = { body: '', status: 404 };
    for (const [i, text] of files.entries()) {
      mkdirSync(join(dir, REAL[i + 1] as string), { recursive: true });
      writeFileSync(join(dir, REAL[i + 1] as string, 'assignments.json'), text);
      const node = await start(i + 1);
      try {
        expect(node.status().node).toBe(REAL[i + 1]);
        expect(announced().filter((ip) => !POOL.includes(ip))).toEqual([]);
      } finally {
        await node.stop();
      }
    }

    // Then HTTP bodies: node-0 follows the hostile allocator through 60 made-up tables.
    const node = await start(0);
    try {
      let advertised = 0;
      await fc.assert(
        fc.asyncProperty(body, signing, async (b, sig) => {
          advertised++;
          let text: Buffer | string;
          if (b.kind === 'table')
            text = JSON.stringify({ ...b.t, generation: b.t.generation === 'next' ? advertised : b.t.generation });
          else if (b.kind === 'raw') text = b.s;
          else if (b.kind === 'bytes') text = Buffer.from(b.b);
          else text = Buffer.alloc(9 * 1024 * 1024, 0x20);
          answer = {
            body: text,
            ...(sig === 'right' ? { signature: signBody(KEY, text) } : {}),
            ...(sig === 'wrong' ? { signature: signBody(replicationKey('wrong'), text) } : {}),
          };
          const before = requests;
          hostile.setLabels({ [ASSIGNMENTS_LABEL]: `${advertised}.${HOSTILE}`, [STATUS_LABEL]: HOSTILE_HTTP });
          await until('the node to fetch the table', () => requests > before);
          await new Promise((r) => setTimeout(r, 30));
          // Alive, answering, and only pool IPs announced.
          await getBody(status(0), '/healthz');
          expect(node.status().node).toBe(REAL[0]);
          expect(announced().filter((ip) => !POOL.includes(ip))).toEqual([]);
          // Ready exactly when it holds the newest table the allocator advertises.
          const before2 = node.status().assignments.generation;
          const ready = await getBody(status(0), '/readyz').then(
            () => true,
            () => false,
          );
          if (node.status().assignments.generation === before2) expect(ready).toBe(before2 === advertised);
        }),
        { numRuns: 60, seed: 7, endOnFailure: true },
      );
      const metrics = (await getBody(status(0), '/metrics')).body.toString();
      // The generator made each kind of refusal, and good tables got through.
      for (const reason of ['unauthenticated', 'malformed', 'writer', 'config', 'too-large'])
        expect(metrics, reason).toMatch(new RegExp(`ingot_assignments_rejected_total\\{reason="${reason}"\\} [1-9]`));
      expect(node.status().assignments.writer).toBe(HOSTILE);
      expect(announced().length).toBeGreaterThan(0);
    } finally {
      await node.stop();
    }
  }, 120_000);

  it('a member named to win the allocator hash but listed in no Node document is logged and never read', async () => {
    let intruder = 'intruder-0';
    for (let i = 0; controllerOf([...REAL, HOSTILE, intruder]) !== intruder; i++) intruder = `intruder-${i}`;
    let forgedRequests = 0;
    const forged = createServer((_req, res) => {
      forgedRequests++;
      res.end('{}');
    });
    await new Promise<void>((r) => forged.listen(base + 198, '127.0.0.1', r));
    const member = await startMembership({
      name: intruder,
      labels: { [ASSIGNMENTS_LABEL]: `${2 ** 48}.${intruder}`, [STATUS_LABEL]: `127.0.0.1:${base + 198}` },
      bind: `127.0.0.1:${base + 98}`,
      join: [HOSTILE_GOSSIP],
      secret: SECRET,
      log: quiet,
      onChange: () => {},
    });
    const node = await start(2);
    try {
      await until('the intruder to be seen', () => node.status().members.some((m) => m.name === intruder));
      await new Promise((r) => setTimeout(r, 300));
      expect(node.status().controller).toBe(HOSTILE);
      expect(forgedRequests).toBe(0);
      expect(logs.some((l) => l.includes('can never allocate') && l.includes(intruder))).toBe(true);
    } finally {
      await node.stop();
      await member.close();
      forged.close();
    }
  }, 30_000);

  it('a table refused under the configuration in force is adopted once a reload allows it', async () => {
    const text = JSON.stringify({
      generation: 1000,
      writer: HOSTILE,
      services: { 'demo/a': { ips: ['203.0.113.20'], pool: 'extra' } },
    });
    answer = { body: text, signature: signBody(KEY, text) };
    hostile.setLabels({ [ASSIGNMENTS_LABEL]: `1000.${HOSTILE}`, [STATUS_LABEL]: HOSTILE_HTTP });
    const node = await start(1);
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(node.status().assignments.generation).not.toBe(1000);
      expect((await getBody(status(1), '/metrics')).body.toString()).toMatch(
        /ingot_assignments_rejected_total\{reason="config"\} [1-9]/,
      );
      await expect(getBody(status(1), '/readyz')).rejects.toThrow(/HTTP 503/);
      writeFileSync(
        join(dir, 'fleet.yaml'),
        `${CONFIG}apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: extra }
spec: { addresses: [203.0.113.16/28] }
`,
      );
      node.reload();
      await until('the table to be adopted', () => node.status().assignments.generation === 1000);
      expect(node.status().services.find((r) => r.service === 'demo/a')?.ips).toEqual(['203.0.113.20']);
      await getBody(status(1), '/readyz');
    } finally {
      await node.stop();
      writeFileSync(join(dir, 'fleet.yaml'), CONFIG);
    }
  }, 30_000);
});
