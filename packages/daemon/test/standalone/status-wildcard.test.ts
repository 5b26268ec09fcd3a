import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getBody } from '../../src/http-json.js';
import { createLogger } from '../../src/logger.js';
import { runStandalone, type StandaloneHandle } from '../../src/standalone/standalone-mode.js';
import { layer2Pool, service } from '../fixtures/config-documents.js';

const dir = mkdtempSync(join(tmpdir(), 'ingot-wildcard-'));
const base = 20000 + Math.floor(Math.random() * 20000);
const NAMES = ['node-1', 'node-2'];
const handles: StandaloneHandle[] = [];
afterAll(async () => {
  for (const h of handles) await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

const readyz = (port: number) =>
  getBody(`127.0.0.1:${port}`, '/readyz').then(
    () => 200,
    (err: Error) => err.message,
  );

describe('a wildcard status address with gossip', () => {
  it('gossips the memberlist host instead, so the follower syncs and only then is ready', async () => {
    writeFileSync(
      join(dir, 'fleet.yaml'),
      `${NAMES.map(
        (n, i) => `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: ${n} }
spec:
  memberlist:
    bindAddress: '127.0.0.1:${base + i}'
    join: ['127.0.0.1:${base}', '127.0.0.1:${base + 1}']
    secret: c2VjcmV0LWZvci10aGUtd2lsZGNhcmQtdGVzdA
  statusAddress: '0.0.0.0:${base + 100 + i}'
---
`,
      ).join('')}${layer2Pool('192.0.2.10-192.0.2.20')}${service('web')}`,
    );
    for (const name of NAMES)
      handles.push(
        await runStandalone({
          configFile: join(dir, 'fleet.yaml'),
          nodeName: name,
          log: createLogger({ level: 'error', write: () => {} }),
          version: 'test',
        }),
      );
    const deadline = Date.now() + 10_000;
    let views: string[] = [];
    for (;;) {
      views = handles.map((h) => JSON.stringify([h.status().assignments, h.status().services[0]?.ips]));
      const ready = await Promise.all(NAMES.map((_, i) => readyz(base + 100 + i)));
      if (new Set(views).size === 1 && handles[0]?.status().assignments.generation && ready.every((r) => r === 200))
        break;
      if (Date.now() > deadline) throw new Error(`no convergence: ${views.join(' / ')} ready ${ready.join(',')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(handles[0]?.status().services[0]?.ips).toHaveLength(1);
  }, 20_000);
});
