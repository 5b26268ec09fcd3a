import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LabHost, LabProcess, SpawnOptions } from '@ingot/lab';

const PKG = fileURLToPath(new URL('../..', import.meta.url));
const DIST = join(PKG, 'dist', 'index.js');
const CHILD = fileURLToPath(new URL('./responder-child.mjs', import.meta.url));

/** Fails clearly when the built package the child imports is missing or older than the sources. */
export function assertBuilt(): void {
  if (!existsSync(DIST)) throw new Error(`build @ingot/arp first (cd packages/arp && npx tsup): ${DIST} is missing`);
  const built = statSync(DIST).mtimeMs;
  const src = join(PKG, 'src');
  const stale = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => statSync(join(src, f)).mtimeMs > built);
  if (stale.length > 0) throw new Error(`dist is older than src/${stale[0]}: rebuild with cd packages/arp && npx tsup`);
}

/** A responder running as a child process inside a lab namespace. */
export interface ResponderChild {
  proc: LabProcess;
  macs: Record<string, string>;
  interfaces: string[];
  announce(ip: string, interfaces?: string[]): Promise<void>;
  withdraw(ip: string): Promise<void>;
  reannounce(ip?: string): Promise<void>;
  stats(): Promise<{
    counters: Record<string, { requestsReceived: number; responsesSent: number; gratuitousSent: number }>;
    stats: Record<string, { framesReceived: number; malformed: number; foreign: number; notAnnounced: number }>;
    metrics: string;
    drops: Record<string, number>;
    answerThread: { state: string; failures: number; lastError?: string };
  }>;
  /**
   * Keeps the child's event loop busy for `ms`: `started` resolves once the child is inside its busy loop, `done`
   * when the loop is free again.
   */
  block(ms: number): { started: Promise<void>; done: Promise<void> };
  close(): Promise<void>;
}

/** How {@link startResponder} runs the child: its environment, and node flags before `-e` code importing it. */
export interface ChildLaunch extends SpawnOptions {
  /** Run `node <evalFlags> -e "await import(child)"` instead of `node child` (e.g. `['--input-type=module']`). */
  evalFlags?: string[];
}

/** Forks responder-child.mjs in `host`'s namespace (as `launch` says) and starts a responder with `options`. */
export async function startResponder(
  host: LabHost,
  options: Record<string, unknown>,
  launch: ChildLaunch = {},
): Promise<ResponderChild> {
  const { evalFlags, ...spawn } = launch;
  const [first, ...rest] = evalFlags ?? [];
  const proc =
    first === undefined
      ? host.fork(CHILD, [], spawn)
      : host.fork(first, [...rest, '-e', `await import(${JSON.stringify(pathToFileURL(CHILD).href)});`], spawn);
  await proc.waitMessage((m) => m?.type === 'spawned', 10_000);
  // biome-ignore lint/suspicious/noExplicitAny: IPC messages are untyped JSON; each caller checks what it reads.
  const call = async (msg: Record<string, unknown>, want: (m: any) => boolean) => {
    const p = proc.waitMessage((m) => want(m) || (m?.type === 'error' && m.cmd === msg.cmd), 10_000);
    proc.send(msg);
    const r = await p;
    if (r.type === 'error') throw new Error(`responder child: ${r.message}`);
    return r;
  };
  const ready = await call({ cmd: 'start', options }, (m) => m?.type === 'ready');
  return {
    proc,
    macs: ready.macs,
    interfaces: ready.interfaces,
    announce: async (ip, interfaces) => {
      await call({ cmd: 'announce', ip, interfaces }, (m) => m?.type === 'ok' && m.cmd === 'announce' && m.ip === ip);
    },
    withdraw: async (ip) => {
      await call({ cmd: 'withdraw', ip }, (m) => m?.type === 'ok' && m.cmd === 'withdraw' && m.ip === ip);
    },
    reannounce: async (ip) => {
      await call({ cmd: 'reannounce', ip }, (m) => m?.type === 'ok' && m.cmd === 'reannounce');
    },
    stats: () => call({ cmd: 'stats' }, (m) => m?.type === 'stats'),
    block: (ms) => {
      const started = proc.waitMessage((m) => m?.type === 'blocking', 10_000).then(() => {});
      const done = call({ cmd: 'block', ms }, (m) => m?.type === 'ok' && m.cmd === 'block').then(() => {});
      return { started, done };
    },
    close: async () => {
      if (proc.child.exitCode !== null || !proc.child.connected) return;
      await call({ cmd: 'close' }, (m) => m?.type === 'ok' && m.cmd === 'close').catch(() => {});
      await proc.stop();
    },
  };
}

/** Runs a scapy snippet with /usr/bin/python3 in `host`'s namespace; returns stdout. */
export async function scapy(host: LabHost, code: string, timeoutMs = 20_000): Promise<string> {
  const r = await host.exec(
    '/usr/bin/python3',
    ['-c', `import time\nfrom scapy.all import *\nconf.verb = 0\n${code}`],
    {
      timeoutMs,
    },
  );
  if (r.code !== 0) throw new Error(`scapy failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
