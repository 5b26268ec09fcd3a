// Drives test/lab/speaker-child.mjs (our BgpSpeaker in a lab namespace) from a lab test.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LabHost, LabProcess, PeerRoute } from '@ingot/lab';

const CHILD = fileURLToPath(new URL('./speaker-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Event message from the child. */
export interface ChildEvent {
  event: string;
  address?: string;
  [k: string]: unknown;
}

/** Our speaker running in a namespace. */
export class SpeakerChild {
  private seq = 0;

  private constructor(
    readonly proc: LabProcess,
    readonly host: LabHost,
  ) {}

  /** Forks the child in `host` and starts a speaker with `speaker` options and `peers`. */
  static async start(host: LabHost, speaker: Record<string, unknown>, peers: Record<string, unknown>[] = []) {
    if (!existsSync(DIST)) throw new Error(`build @ingot/bgp first (cd packages/bgp && npx tsup): ${DIST} is missing`);
    const proc = host.fork(CHILD);
    const child = new SpeakerChild(proc, host);
    await proc.waitMessage((m) => m?.event === 'ready', 15_000);
    await child.request('start', { speaker, peers });
    return child;
  }

  /** Sends a command and resolves with its result (rejects with the child's error). */
  async request<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    const id = ++this.seq;
    this.proc.send({ id, cmd, ...args });
    const reply = await this.proc.waitMessage((m) => m?.id === id, timeoutMs);
    if (!reply.ok) throw new Error(`speaker child: ${cmd} failed: ${reply.error}`);
    return reply.result as T;
  }

  /** Resolves with the next event matching `pred` (events already received but not yet returned count). */
  waitEvent(pred: (e: ChildEvent) => boolean, timeoutMs = 30_000): Promise<ChildEvent> {
    return this.proc.waitMessage((m) => typeof m?.event === 'string' && pred(m as ChildEvent), timeoutMs);
  }

  /** Resolves once the peer at `address` is Established in our speaker. */
  waitEstablished(address: string, timeoutMs = 30_000): Promise<ChildEvent> {
    return this.waitEvent((e) => e.event === 'established' && e.address === address, timeoutMs);
  }

  /** Peer summaries (state, counters, negotiated session). */
  peers(): Promise<
    { address: string; state: string; counters: Record<string, number>; session?: Record<string, unknown> }[]
  > {
    return this.request('peers');
  }

  /** Graceful close (Cease to every peer), then the process exits. */
  async close(): Promise<void> {
    try {
      await this.request('close', {}, 5000);
    } catch {
      // already gone
    }
    await this.proc.stop();
  }
}

/** The route for `prefix` in a peer's RIB, if any. */
export const find = (routes: PeerRoute[], prefix: string) => routes.find((r) => r.prefix === prefix);
/** A predicate: every prefix is in the RIB. */
export const has =
  (...prefixes: string[]) =>
  (routes: PeerRoute[]) =>
    prefixes.every((p) => find(routes, p));
/** A predicate: no prefix is in the RIB. */
export const lacks =
  (...prefixes: string[]) =>
  (routes: PeerRoute[]) =>
    prefixes.every((p) => !find(routes, p));
