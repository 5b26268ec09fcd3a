import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createPair, labSuite, liveNamespaces } from '../../src/index.js';
import { runChildVitest } from '../child-vitest.js';

function netnsList(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

const stateDir = mkdtempSync(join(tmpdir(), 'ingot-lab-cleanup-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** Run a child fixture, then check everything it reported creating is gone. */
async function runAndCheck(fixture: string): Promise<{ code: number | null; output: string }> {
  const file = join(stateDir, `${fixture}.jsonl`);
  const r = await runChildVitest(fixture, { INGOT_LAB_STATE: file });
  expect(existsSync(file), `child reported nothing:\n${r.output}`).toBe(true);
  const state = JSON.parse(readFileSync(file, 'utf8').trim()) as { namespaces: string[]; pids: number[] };
  expect(state.namespaces.length).toBeGreaterThanOrEqual(2);
  const left = netnsList().filter((n) => state.namespaces.includes(n));
  expect(left, `namespaces left behind by ${fixture}`).toEqual([]);
  for (const pid of state.pids) expect(alive(pid), `pid ${pid} left running by ${fixture}`).toBe(false);
  return r;
}

labSuite('lab cleanup', { tools: ['ip'] }, () => {
  it('useTopology destroys the topology and its processes when a test throws', async () => {
    const r = await runAndCheck('throws.fixture.ts');
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('intentional failure inside a lab test');
  });

  it('the exit handler removes topologies a test never destroyed', async () => {
    const r = await runAndCheck('forgets.fixture.ts');
    expect(r.code).toBe(0);
  });

  it('the SIGTERM handler removes namespaces and kills tracked processes', async () => {
    const r = await runAndCheck('signal.fixture.ts');
    expect(r.code).not.toBe(0);
  });

  it('a failed createPair leaves nothing behind', async () => {
    const before = liveNamespaces().length;
    await expect(createPair({ name: 'failpair', a4: '192.0.2.1/99' })).rejects.toThrow(/192\.0\.2\.1\/99/);
    expect(liveNamespaces()).toHaveLength(before);
    expect(netnsList().filter((n) => n.startsWith(`igfailpair-${process.pid.toString(36)}`))).toEqual([]);
  });
});
