import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchStatus } from '../../src/commands/status.js';
import type { StatusDocument } from '../../src/standalone/standalone-status.js';
import { layer2Pool, services as serviceDocs } from '../fixtures/config-documents.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ingot-replication-'));
const base = 11000 + Math.floor(Math.random() * 18000);
const NAMES = ['node-1', 'node-2', 'node-3'];
const gossip = (i: number) => `127.0.0.1:${base + i}`;
const statusAt = (i: number) => `127.0.0.1:${base + 100 + i}`;
const children = new Map<string, ChildProcess>();

const nodeDoc = (i: number) => `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: ${NAMES[i]} }
spec:
  memberlist: { bindAddress: '${gossip(i)}', join: ['${gossip(0)}', '${gossip(1)}', '${gossip(2)}'], insecurePlaintext: true }
  statusAddress: '${statusAt(i)}'
  stateDirectory: ${join(dir, NAMES[i] as string)}
---
`;
const writeConfig = (services: string[]) =>
  writeFileSync(
    join(dir, 'fleet.yaml'),
    `${NAMES.map((_, i) => nodeDoc(i)).join('')}${layer2Pool('192.0.2.10-192.0.2.20')}${serviceDocs(services)}`,
  );

function start(name: string): void {
  const child = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'fleet.yaml'), '--node', name], {
    stdio: 'ignore',
  });
  children.set(name, child);
}

async function statuses(): Promise<StatusDocument[]> {
  return Promise.all(NAMES.map((_, i) => fetchStatus(statusAt(i))));
}

const ipsOf = (s: StatusDocument) => Object.fromEntries(s.services.map((r) => [r.service, r.ips.join(',')]));

/** Polls until every node reports the same assignment version and the same IPs for every service. */
async function converged(services: number, timeoutMs = 15_000): Promise<StatusDocument[]> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const all = await statuses();
      const views = all.map((s) => JSON.stringify([s.assignments, ipsOf(s)]));
      last = views.join('\n');
      const ips = Object.values(ipsOf(all[0] as StatusDocument));
      if (new Set(views).size === 1 && ips.length === services && ips.every((x) => x !== '')) return all;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`nodes did not converge:\n${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(() => {
  for (const c of children.values()) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('standalone assignment replication (three processes on loopback, dry-run)', () => {
  it('every node sees the same assignments; a restart of every node keeps every IP', async () => {
    writeConfig(['a', 'b', 'c']);
    for (const n of NAMES) start(n);
    const before = await converged(3);
    const first = ipsOf(before[0] as StatusDocument);
    expect(new Set(Object.values(first)).size).toBe(3);
    const controller = before[0]?.controller;
    expect(before.every((s) => s.controller === controller)).toBe(true);
    expect(before[0]?.assignments.generation).toBeGreaterThan(0);

    for (const c of children.values()) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    // A new service listed first must not take an IP a restarted node knows to be held.
    writeConfig(['z-new', 'a', 'b', 'c']);
    for (const n of [...NAMES].reverse()) {
      start(n);
      await new Promise((r) => setTimeout(r, 150));
    }
    const after = await converged(4);
    const now = ipsOf(after[0] as StatusDocument);
    for (const key of Object.keys(first)) expect(now[key]).toBe(first[key]);
    expect(Object.values(first)).not.toContain(now['demo/z-new']);
  }, 60_000);
});
