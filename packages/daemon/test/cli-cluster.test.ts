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
  /** Everything the daemon wrote on stderr. */
  output: string;
}

const started: ChildProcess[] = [];

function startNode(name: string, port: number, join?: number): Node {
  const args = [
    CLI,
    'run',
    '--node',
    name,
    '--memberlist-bind',
    `127.0.0.1:${port}`,
    '--memberlist-insecure-plaintext',
  ];
  // Each node serves its status (and its assignment table, which the other fetches) on its own port.
  args.push('--status-address', `127.0.0.1:${port + 1000}`);
  if (join) args.push('--memberlist-join', `127.0.0.1:${join}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  const node: Node = { name, child, announced: new Set(), members: new Set([name]), output: '' };
  let buf = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    node.output += chunk.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let rec: { msg: string; ip?: string; member?: string };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        continue; // not a log record (e.g. a crash trace): kept in output for the failure message
      }
      if (rec.msg === 'dry run: would answer ARP/NDP' && rec.ip) node.announced.add(rec.ip);
      if (rec.msg === 'dry run: would stop answering ARP/NDP' && rec.ip) node.announced.delete(rec.ip);
      if (rec.msg === 'member join' && rec.member) node.members.add(rec.member);
      if ((rec.msg === 'member dead' || rec.msg === 'member leave') && rec.member) node.members.delete(rec.member);
    }
  });
  return node;
}

async function until(cond: () => boolean, timeoutMs: number, what: string, nodes: Node[] = []): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      const tails = nodes.map((n) => `--- ${n.name} (exit ${n.child.exitCode}) ---\n${n.output.slice(-3000)}`);
      throw new Error(`timed out waiting for ${what}\n${tails.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('ingot run with gossip membership (two processes on loopback, dry-run announcements)', () => {
  it('splits the IPs between two nodes with MetalLB leader choice, and fails over when one dies', async () => {
    // Below the ephemeral range (32768+), so no outgoing connection of a parallel test holds one of these ports.
    const base = 10000 + Math.floor(Math.random() * 20000);
    const a = startNode('node-a', base);
    // Start-up (loading the daemon) can take seconds on a loaded CI machine.
    await until(() => a.announced.size === IPS.length, 20_000, 'node-a to announce everything alone', [a]);
    const b = startNode('node-b', base + 1, base);
    await until(() => a.members.has('node-b') && b.members.has('node-a'), 10_000, 'both nodes to see each other', [
      a,
      b,
    ]);
    await until(
      () => a.announced.size + b.announced.size === IPS.length && a.announced.size > 0 && b.announced.size > 0,
      10_000,
      'the IPs to be split',
      [a, b],
    );
    expect([...a.announced, ...b.announced].sort()).toEqual([...IPS].sort());
    b.child.kill('SIGKILL');
    await until(() => a.announced.size === IPS.length, 10_000, 'node-a to take over every IP after node-b died', [
      a,
      b,
    ]);
    expect(a.members.has('node-b')).toBe(false);
  }, 60_000);
});
