// `ingot run --failover gossip|fast` through the built CLI: bad values refused with the flag named (exit 2), the fast
// profile's heartbeat started on the memberlist port + 1 in standalone mode (the flag wins over Node spec.failover)
// and in Kubernetes speaker mode (against the fake API server), its counters on /metrics, SIGTERM exits 0.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort } from './fixtures/loopback-port.js';
import { FakeApiServer } from './kubernetes/fake-api-server.js';
import { startWithKubeconfig } from './kubernetes/fake-kubeconfig.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type LogRecord = { msg: string; [k: string]: unknown };

/** Runs the CLI; collects its JSON log records (stderr is a pipe, so the daemon logs JSON lines). */
function run(args: string[], env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const records: LogRecord[] = [];
  let stderr = '';
  let buf = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    buf += chunk.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('{')) records.push(JSON.parse(line) as LogRecord);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, records, stderr: () => stderr, exited };
}

async function until(cond: () => boolean, timeoutMs: number, what: string, detail = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const bindUdp = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/** A loopback port P with TCP P, UDP P (gossip) and UDP P+1 (heartbeat) free now. */
async function gossipPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeTcpPort();
    if (port < 65535 && (await bindUdp(port)) && (await bindUdp(port + 1))) return port;
  }
  throw new Error('no free loopback port pair');
}

describe('ingot run --failover: parsing', () => {
  it('refuses a profile other than gossip or fast, naming the flag (exit 2)', async () => {
    const r = run(['run', '--failover', 'quick']);
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toContain('invalid --failover "quick": expected gossip or fast');
  });

  it('refuses fast for a Kubernetes speaker without --memberlist-bind (exit 2); a controller ignores it', async () => {
    for (const role of ['speaker', 'all']) {
      const r = run(['run', '--kubernetes', `--role=${role}`, '--failover=fast']);
      expect(await r.exited).toBe(2);
      expect(r.stderr()).toContain('invalid --failover fast: the Kubernetes speaker needs --memberlist-bind');
    }
    // A controller has no layer 2: the flag passes parsing, and it fails later only on the missing kubeconfig.
    const c = run(['run', '--kubeconfig=/nonexistent/kubeconfig', '--role=controller', '--failover=fast']);
    expect(await c.exited).toBe(1);
    expect(c.stderr()).not.toContain('--failover');
  });

  it('--help lists the flag', async () => {
    const r = spawn(process.execPath, [CLI, '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    r.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise((resolve) => r.once('exit', resolve));
    expect(out).toMatch(/^ {2}--failover PROFILE {2}layer-2 failover when an owner is killed: gossip/m);
  });
});

describe('ingot run --failover: the heartbeat starts on the memberlist port + 1', () => {
  const heartbeatStarted = (records: LogRecord[]) =>
    records.find((r) => r.msg === 'failover profile fast: per-pair heartbeat');

  it('standalone: --failover fast starts it; --failover gossip wins over a Node document saying fast', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingot-failover-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'ingot.yaml');
    writeFileSync(
      config,
      `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: node-a }
spec: { failover: fast }
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: p, namespace: metallb-system }
spec: { addresses: [192.0.2.10/32] }
`,
    );
    const common = async () => {
      const port = await gossipPort();
      const status = await freeTcpPort();
      return {
        port,
        status,
        args: [
          'run',
          `--config=${config}`,
          '--node=node-a',
          `--memberlist-bind=127.0.0.1:${port}`,
          '--memberlist-insecure-plaintext',
          `--status-address=127.0.0.1:${status}`,
        ],
      };
    };
    const fast = await common();
    const a = run([...fast.args, '--failover=fast']);
    await until(() => heartbeatStarted(a.records) !== undefined, 20_000, 'the heartbeat', a.stderr);
    expect(heartbeatStarted(a.records)?.address).toBe(`127.0.0.1:${fast.port + 1}`);
    await until(() => a.records.some((r) => r.msg === 'ingot starting'), 1_000, 'the start record', a.stderr);
    expect(a.records.find((r) => r.msg === 'ingot starting')?.failover).toBe('fast');
    const metrics = await fetchWhenUp(`http://127.0.0.1:${fast.status}/metrics`);
    expect(metrics).toMatch(/^ingot_heartbeat_frames_sent_total \d+$/m);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);

    const gossip = await common();
    const b = run([...gossip.args, '--failover=gossip']);
    await until(() => b.records.some((r) => r.msg === 'ingot starting'), 20_000, 'the start record', b.stderr);
    expect(b.records.find((r) => r.msg === 'ingot starting')?.failover).toBe('gossip');
    const text = await fetchWhenUp(`http://127.0.0.1:${gossip.status}/metrics`);
    expect(text).not.toContain('ingot_heartbeat_');
    expect(heartbeatStarted(b.records)).toBeUndefined();
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 60_000);

  it('Kubernetes speaker: --failover fast starts it, with its counters on the speaker /metrics', async () => {
    const server = new FakeApiServer();
    server.apply('nodes', { metadata: { name: 'node-a' } });
    const { kubeconfig } = await startWithKubeconfig(server, cleanups, 'ingot-failover-kube-');
    const port = await gossipPort();
    const metricsPort = await freeTcpPort();
    const r = run(
      [
        'run',
        `--kubeconfig=${kubeconfig}`,
        '--role=speaker',
        '--failover=fast',
        `--memberlist-bind=127.0.0.1:${port}`,
        '--memberlist-insecure-plaintext',
        `--metrics-bind=127.0.0.1:${metricsPort}`,
      ],
      { NODE_NAME: 'node-a' },
    );
    await until(() => heartbeatStarted(r.records) !== undefined, 20_000, 'the heartbeat', r.stderr);
    expect(heartbeatStarted(r.records)?.address).toBe(`127.0.0.1:${port + 1}`);
    const text = await fetchWhenUp(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(text).toMatch(/^ingot_heartbeat_frames_sent_total \d+$/m);
    expect(text).toMatch(/^ingot_layer2_fast_takeovers_pending 0$/m);
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  }, 60_000);
});

/** GET a URL, retrying while the server is not up yet (bounded). */
async function fetchWhenUp(url: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      return await res.text();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
