import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchStatus } from '../../src/commands/status.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ingot-reload-'));
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('ingot run reloads on SIGHUP', () => {
  it('re-reads the file on SIGHUP and applies it; SIGTERM exits 0', async () => {
    const file = join(dir, 'ingot.yaml');
    const config = (services: string[]) =>
      `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool }
spec: { addresses: [192.0.2.10-192.0.2.20] }
${services.map((s) => `---\napiVersion: v1\nkind: Service\nmetadata: { name: ${s}, namespace: demo }\nspec: { type: LoadBalancer }\n`).join('')}`;
    writeFileSync(file, config(['a']));
    const address = `127.0.0.1:${12000 + Math.floor(Math.random() * 18000)}`;
    child = spawn(
      process.execPath,
      [CLI, 'run', '--config', file, '--status-address', address, '--log-format', 'json'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let logs = '';
    child.stderr?.on('data', (c: Buffer) => {
      logs += c.toString();
    });
    const services = async () => (await fetchStatus(address)).services.map((s) => `${s.service} ${s.ips.join(',')}`);
    const until = async (want: string[]) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const got = await services().catch(() => []);
        if (JSON.stringify(got) === JSON.stringify(want)) return;
        if (Date.now() > deadline) throw new Error(`status ${JSON.stringify(got)}, wanted ${JSON.stringify(want)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(['demo/a 192.0.2.10']);
    // The file watcher may apply the change as well; the SIGHUP path is checked by its own log line.
    writeFileSync(file, config(['a', 'b']));
    child.kill('SIGHUP');
    await until(['demo/a 192.0.2.10', 'demo/b 192.0.2.11']);
    expect(logs).toContain('"msg":"reloading configuration"');
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
