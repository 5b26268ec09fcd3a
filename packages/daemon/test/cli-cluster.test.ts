import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const IPS = ['192.0.2.240', '192.0.2.241', '2001:db8:0:1::f0'];

interface Node {
  name: string;
  child: ChildProcess;
  announced: Set<string>;
  members: Set<string>;
}

const started: ChildProcess[] = [];

function startNode(name: string, port: number, join?: number): Node {
  const args = [CLI, 'run', '--node', name, '--memberlist-bind', `127.0.0.1:${port}`];
  // Each node serves its status (and its assignment table, which the other fetches) on its own port.
  args.push('--status-address', `127.0.0.1:${port + 1000}`);
  if (join) args.push('--memberlist-join', `127.0.0.1:${join}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  const node: Node = { name, child, announced: new Set(), members: new Set([name]) };
  let buf = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const rec = JSON.parse(buf.slice(0, i)) as { msg: string; ip?: string; member?: string };
      buf = buf.slice(i + 1);
      if (rec.msg === 'dry run: would answer ARP/NDP' && rec.ip) node.announced.add(rec.ip);
      if (rec.msg === 'dry run: would stop answering ARP/NDP' && rec.ip) node.announced.delete(rec.ip);
      if (rec.msg === 'member join' && rec.member) node.members.add(rec.member);
      if ((rec.msg === 'member dead' || rec.msg === 'member leave') && rec.member) node.members.delete(rec.member);
    }
  });
  return node;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('ingot run with gossip membership (two processes on loopback, dry-run announcements)', () => {
  it('splits the IPs between two nodes with MetalLB leader choice, and fails over when one dies', async () => {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const a = startNode('node-a', base);
    await until(() => a.announced.size === IPS.length, 10_000, 'node-a to announce everything alone');
    const b = startNode('node-b', base + 1, base);
    await until(() => a.members.has('node-b') && b.members.has('node-a'), 10_000, 'both nodes to see each other');
    await until(
      () => a.announced.size + b.announced.size === IPS.length && a.announced.size > 0 && b.announced.size > 0,
      10_000,
      'the IPs to be split',
    );
    expect([...a.announced, ...b.announced].sort()).toEqual([...IPS].sort());
    b.child.kill('SIGKILL');
    await until(() => a.announced.size === IPS.length, 10_000, 'node-a to take over every IP after node-b died');
    expect(a.members.has('node-b')).toBe(false);
  }, 40_000);
});
