import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PollAbort, pollUntil, tail } from '../command.js';
import { NamespaceHost } from '../host.js';
import { startBird } from './bird.js';
import { startExabgp } from './exabgp.js';
import { startFrr } from './frr.js';
import { startGobgp } from './gobgp.js';
import { LabBgpPeer, makePeerDir, type PeerDriver, validatePeerOptions } from './peer-base.js';
import type { BgpPeer, PeerKind, PeerOptions } from './types.js';

const STARTERS: Record<PeerKind, (opts: PeerOptions, dir: string, host: PeerOptions['host']) => Promise<PeerDriver>> = {
  frr: startFrr,
  bird: startBird,
  gobgp: startGobgp,
  exabgp: startExabgp,
};

/** Namespaces with a running lab peer: one per namespace, since they would share TCP port 179. */
const running = new Map<string, PeerKind>();

/**
 * Start a real BGP daemon in `opts.host`'s namespace with a generated config in a fresh temp dir, and wait until
 * its control interface answers. The peer accepts every route from its neighbors and exports only its own
 * `announce` routes. It is stopped by `peer.stop()` or when the host's topology is destroyed. One peer per
 * namespace at a time. On failure the error carries the generated config and the daemon's log tail.
 */
export async function startPeer(kind: PeerKind, opts: PeerOptions): Promise<BgpPeer> {
  validatePeerOptions(kind, opts);
  const start = STARTERS[kind];
  if (!start) throw new Error(`lab: unknown peer kind ${kind}`);
  const ns = opts.host.ns;
  const other = running.get(ns);
  if (other) {
    throw new Error(
      `lab: startPeer(${kind}): a ${other} peer already runs in netns ${ns}; two BGP daemons in one namespace ` +
        'compete for TCP port 179. Stop it first (peer.stop()) or use another host.',
    );
  }
  running.set(ns, kind);
  const dir = makePeerDir(kind);
  let driver: PeerDriver | undefined;
  let peer: LabBgpPeer | undefined;
  try {
    driver = await start(opts, dir, opts.host);
    peer = new LabBgpPeer(kind, dir, opts.host, driver, () => running.delete(ns));
    const d = driver;
    await pollUntil(
      async () => {
        const dead = d.exited();
        if (dead) throw new PollAbort(`daemon exited while starting: ${dead}`);
        await d.sessions();
        return true;
      },
      opts.startTimeoutMs ?? 15_000,
      async () => `${kind} control interface to answer in netns ${ns}\n${await d.logs()}`,
      50,
    );
    await driver.ready?.();
    const p = peer;
    if (opts.host instanceof NamespaceHost) opts.host.onDestroy(() => p.stop());
    return peer;
  } catch (e) {
    const config = configText(dir);
    await (peer ? peer.stop() : driver?.stop())?.catch(() => {});
    running.delete(ns);
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`lab: startPeer(${kind}) failed: ${msg}\n--- generated config ---\n${config}`);
  }
}

function configText(dir: string): string {
  try {
    return readdirSync(dir)
      .filter((f) => /\.(conf|toml)$/.test(f))
      .map((f) => `[${f}]\n${tail(readFileSync(join(dir, f), 'utf8'), 4000)}`)
      .join('\n');
  } catch {
    return '(unavailable)';
  }
}
