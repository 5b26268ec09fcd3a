// The systemd unit's SystemCallFilter (with SystemCallErrorNumber=EPERM) must not break the daemon. Without systemd
// as PID 1 the unit cannot be started here, so the test applies the same filter itself: the unit's groups, expanded by
// `systemd-analyze syscall-filter`, loaded with libseccomp (test/lab/seccomp-run.mjs) before the CLI runs, live, in
// a namespace. The daemon answers ARP for its service IP (answer thread), puts the IP on lo (the `ip` command, which
// inherits the filter), and reports ready; no "operation not permitted" in its log.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPair, labSuite, pollUntil, useTopology } from '@ingot/lab';
import { afterAll, expect, it } from 'vitest';
import { layer2Pool, service } from '../fixtures/config-documents.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const RUNNER = fileURLToPath(new URL('./seccomp-run.mjs', import.meta.url));
const UNIT = readFileSync(fileURLToPath(new URL('../../packaging/ingot.service', import.meta.url)), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'ingot-seccomp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The system calls of a systemd group, groups expanded recursively. */
function expand(group: string, seen = new Set<string>()): string[] {
  if (seen.has(group)) return [];
  seen.add(group);
  const r = spawnSync('systemd-analyze', ['syscall-filter', group, '--no-pager'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`systemd-analyze syscall-filter ${group}: ${r.stderr}`);
  const names = r.stdout
    .split('\n')
    .slice(1)
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
  return names.flatMap((n) => (n.startsWith('@') ? expand(n, seen) : [n]));
}

labSuite('the daemon under the unit system-call filter', { tools: ['ip', 'arping', 'curl', 'systemd-analyze'] }, () => {
  const lab = useTopology(() => createPair({ name: 'scmp' }));

  it('runs live: answers ARP, adds the IP to lo, is ready, and nothing is refused', async () => {
    const filter = /^SystemCallFilter=(.+)$/m.exec(UNIT)?.[1]?.trim() ?? '';
    expect(filter).toBe('@system-service');
    expect(/^SystemCallErrorNumber=EPERM$/m.test(UNIT)).toBe(true);
    const allowed = [...new Set(filter.split(/\s+/).flatMap((g) => expand(g)))];
    expect(allowed).toContain('recvmmsg');
    expect(allowed).not.toContain('mount');
    writeFileSync(join(dir, 'allowed.txt'), `${allowed.join('\n')}\n`);
    writeFileSync(
      join(dir, 'ingot.yaml'),
      `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: filtered }
spec: { announce: live, interfaces: [veth-a], dataPath: local, statusAddress: '127.0.0.1:7472' }
---
${layer2Pool('192.0.2.100/32')}${service('web')}`,
    );
    const { a, b } = lab();
    const daemon = a.spawn(process.execPath, [
      RUNNER,
      join(dir, 'allowed.txt'),
      CLI,
      'run',
      '--config',
      join(dir, 'ingot.yaml'),
      '--node',
      'filtered',
      '--log-format',
      'json',
    ]);
    const logs = () => `${daemon.stderr()}${daemon.stdout()}`;
    await daemon.waitOutput(/seccomp: \d+ system calls allowed/, 10_000);
    await pollUntil(
      async () => {
        if (daemon.exitCode() !== undefined) throw new Error(`daemon exited ${daemon.exitCode()}\n${logs()}`);
        const r = await a.exec('curl', ['-s', '-f', '-m', '2', 'http://127.0.0.1:7472/readyz'], { timeoutMs: 5_000 });
        return r.code === 0 ? true : undefined;
      },
      20_000,
      () => `never ready\n${logs()}`,
      200,
    );
    const arping = await b.exec('arping', ['-c', '2', '-w', '5', '-I', 'veth-b', '192.0.2.100'], { timeoutMs: 10_000 });
    expect(arping.stdout, logs()).toMatch(/Received 2 response/);
    await pollUntil(
      async () =>
        (await a.run('ip', ['-o', 'addr', 'show', 'dev', 'lo'])).includes('192.0.2.100/32') ? true : undefined,
      10_000,
      () => `192.0.2.100 never on lo\n${logs()}`,
      100,
    );
    const status = JSON.parse(await a.run('curl', ['-s', '-m', '2', 'http://127.0.0.1:7472/status'])) as {
      layer2?: { answering?: string };
    };
    expect(status.layer2?.answering).toBe('answer-thread');
    const daemonLines = logs()
      .split('\n')
      .filter((l) => !l.startsWith('seccomp:'));
    expect(daemonLines.filter((l) => /operation not permitted|EPERM/i.test(l))).toEqual([]);
    await daemon.stop('SIGTERM');
  }, 60_000);
});
