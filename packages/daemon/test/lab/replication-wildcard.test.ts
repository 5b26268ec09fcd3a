// Two ingot nodes on a LAN (namespaces), both with `statusAddress: 0.0.0.0:7472` and a loopback local listener. The
// wildcard is never gossiped (every peer would fetch /assignments from itself, issue 13): each node advertises its
// memberlist host, so the follower adopts the allocator's table, and /readyz (on the loopback listener) turns 200 only
// then. The LAN-facing address answers /assignments only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLan, type LabHost, labSuite, pollUntil, useTopology } from '@ingot/lab';
import { afterAll, expect, it } from 'vitest';
import { layer2Pool, services } from '../fixtures/config-documents.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const NAMES = ['node-1', 'node-2'];
const dir = mkdtempSync(join(tmpdir(), 'ingot-wildcard-lab-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fleet = `${NAMES.map(
  (name, i) => `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: ${name} }
spec:
  memberlist:
    bindAddress: 192.0.2.${i + 1}:7946
    join: [192.0.2.1:7946, 192.0.2.2:7946]
    secret: aW5nb3QtbGFiLXdpbGRjYXJkLXNlY3JldA
  statusAddress: 0.0.0.0:7472
  localStatusAddress: 127.0.0.1:7473
---
`,
).join('')}${layer2Pool('198.51.100.10-198.51.100.20')}${services(['a', 'b', 'c'])}`;

interface Status {
  assignments: { generation: number; writer: string };
  services: { service: string; ips: string[] }[];
}

const curl = async (host: LabHost, url: string) => {
  const r = await host.exec('curl', ['-s', '-m', '2', '-w', '\n%{http_code}', url], {
    timeoutMs: 5_000,
  });
  const lines = r.stdout.trimEnd().split('\n');
  return { code: Number(lines.pop()), body: lines.join('\n') };
};

labSuite('standalone replication with a wildcard status address', { tools: ['ip', 'curl'] }, () => {
  const lab = useTopology(() => createLan(2, { name: 'wild' }));

  it('the follower syncs from the advertised memberlist host, then is ready; peers see only /assignments', async () => {
    const lan = lab();
    writeFileSync(join(dir, 'fleet.yaml'), fleet);
    const procs = NAMES.map((name, i) =>
      (lan.hosts[i] as LabHost).spawn(process.execPath, [
        CLI,
        'run',
        '--config',
        join(dir, 'fleet.yaml'),
        '--node',
        name,
      ]),
    );
    let last = '';
    const views = await pollUntil(
      async () => {
        const out: Status[] = [];
        for (const [i, host] of lan.hosts.entries()) {
          const ready = await curl(host, 'http://127.0.0.1:7473/readyz');
          const status = await curl(host, 'http://127.0.0.1:7473/status');
          last = `${NAMES[i]}: readyz ${ready.code} ${ready.body} status ${status.code} ${status.body.slice(0, 300)}`;
          if (ready.code !== 200 || status.code !== 200) return undefined;
          out[i] = JSON.parse(status.body) as Status;
        }
        const same = new Set(out.map((s) => JSON.stringify([s.assignments, s.services.map((x) => x.ips)])));
        last = [...same].join(' / ');
        return same.size === 1 && (out[0]?.assignments.generation ?? 0) > 0 ? out : undefined;
      },
      20_000,
      () =>
        `no convergence: ${last}\n${procs.map((p) => p.stdout().slice(-2500) + p.stderr().slice(-1500)).join('\n')}`,
      200,
    );
    expect(views[0]?.services.every((s) => s.ips.length === 1)).toBe(true);
    // Over the LAN: /assignments only (signed); status and metrics stay on loopback.
    const [h1, h2] = lan.hosts as [LabHost, LabHost];
    const assignments = await curl(h2, 'http://192.0.2.1:7472/assignments');
    expect(assignments.code).toBe(200);
    expect((await curl(h2, 'http://192.0.2.1:7472/metrics')).code).toBe(404);
    expect((await curl(h1, 'http://192.0.2.2:7472/status')).code).toBe(404);
  }, 60_000);
});
