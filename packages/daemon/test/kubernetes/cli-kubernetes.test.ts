import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from './fake-api-server.js';
import { startWithKubeconfig } from './fake-kubeconfig.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ingot run --kubernetes (the built CLI against a fake API server)', () => {
  it('allocates, writes the status, announces (dry run), and stops on SIGTERM', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', {
      metadata: { name: 'p', namespace: 'metallb-system' },
      spec: { addresses: ['192.0.2.100/32'] },
    });
    server.apply('l2advertisements', { metadata: { name: 'l2', namespace: 'metallb-system' }, spec: {} });
    server.apply('nodes', { metadata: { name: 'node-a' } });
    server.apply('services', {
      metadata: { name: 'web', namespace: 'demo' },
      spec: { type: 'LoadBalancer', clusterIPs: ['198.51.100.7'], ports: [{ protocol: 'TCP', port: 443 }] },
    });
    server.apply('endpointslices', {
      metadata: { name: 'web-1', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'web' } },
      endpoints: [{ addresses: ['198.51.100.70'], conditions: { ready: true } }],
    });
    const { kubeconfig } = await startWithKubeconfig(server, cleanups);
    const child: ChildProcess = spawn(process.execPath, [CLI, 'run', '--kubeconfig', kubeconfig, '--role', 'all'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_NAME: 'node-a' },
    });
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const records: { msg: string; ip?: string }[] = [];
    let buf = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        records.push(JSON.parse(buf.slice(0, i)) as { msg: string; ip?: string });
        buf = buf.slice(i + 1);
      }
    });
    await until(() => server.ingressIps('web', 'demo').length === 1, 15_000, 'the status write');
    expect(server.ingressIps('web', 'demo')).toEqual(['192.0.2.100']);
    await until(
      () => records.some((r) => r.msg === 'dry run: would answer ARP/NDP' && r.ip === '192.0.2.100'),
      10_000,
      'the announcement',
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});

describe('ingot run --memberlist-wire', () => {
  it('refuses a wire other than ingot or memberlist, naming the flag (exit 2)', async () => {
    const child = spawn(process.execPath, [CLI, 'run', '--memberlist-wire', 'serf'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('invalid --memberlist-wire "serf": expected ingot or memberlist');
  });
});
