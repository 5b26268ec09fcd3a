// Shared by the lab benchmarks (speaker.mjs, bfd.mjs): @ingot/lab loaded from its TypeScript source, a private copy
// of the build for speaker children, and the IPC driver of test/lab/speaker-child.mjs.

import { copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const DIST = join(here, '../dist/index.js');
const CHILD = join(here, '../test/lab/speaker-child.mjs');
const LAB = join(here, '../../lab');

/** Loads @ingot/lab (TypeScript) through a small esbuild bundle. */
export async function loadLab() {
  const { build } = await import('esbuild');
  const out = join(tmpdir(), `ingot-lab-bench-${process.pid}.mjs`);
  await build({
    stdin: {
      contents: [
        "export { createPair, createLan } from './src/topology.ts';",
        "export { startPeer } from './src/peers/start-peer.ts';",
        "export { cleanupAllSync } from './src/registry.ts';",
      ].join('\n'),
      resolveDir: LAB,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    logLevel: 'silent',
    // the ExaBGP driver finds its sink script next to its own source file
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(LAB, 'src/peers/exabgp.ts')).href) },
  });
  try {
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(out, { force: true });
  }
}

// A private copy of the build for the speaker children, so a concurrent `tsup` (which empties dist/) cannot break a run.
// It sits next to this script so that its bare imports (eventemitter3, koffi) still resolve; removed on exit.
let distCopy;
/** The private copy of dist/index.js (made on first use, removed on exit). */
export function privateDist() {
  if (!distCopy) {
    distCopy = join(here, `.speaker-dist-${process.pid}.mjs`);
    copyFileSync(DIST, distCopy);
    process.on('exit', () => rmSync(distCopy, { force: true }));
  }
  return distCopy;
}

export function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]);
}

/** Our speaker in a namespace (test/lab/speaker-child.mjs), driven over IPC. */
export async function startOurs(host, speaker) {
  const childEnv = { INGOT_BGP_DIST: privateDist() };
  // e.g. BENCH_CHILD_NODE_OPTIONS=--max-semi-space-size=4 to see the effect of V8's young-generation size on RSS
  if (process.env.BENCH_CHILD_NODE_OPTIONS) childEnv.NODE_OPTIONS = process.env.BENCH_CHILD_NODE_OPTIONS;
  const proc = host.fork(CHILD, [], { env: childEnv });
  let seq = 0;
  const ours = {
    proc,
    async request(cmd, args = {}, timeoutMs = 60_000) {
      const id = ++seq;
      proc.send({ id, cmd, ...args });
      const reply = await proc.waitMessage((m) => m?.id === id, timeoutMs);
      if (!reply.ok) throw new Error(`speaker child ${cmd}: ${reply.error}`);
      return reply.result;
    },
    waitEvent: (pred, timeoutMs = 30_000) =>
      proc.waitMessage((m) => typeof m?.event === 'string' && pred(m), timeoutMs),
    async close() {
      await ours.request('close', {}, 5000).catch(() => {});
      await proc.stop();
    },
  };
  await proc.waitMessage((m) => m?.event === 'ready', 15_000);
  await ours.request('start', { speaker });
  return ours;
}
