import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pollUntil, tail } from '../command.js';
import type { LabHost } from '../host.js';
import type { LabProcess } from '../lab-process.js';
import { trackDir, untrackDir } from '../registry.js';
import { canonicalAddress, familyOf } from './normalize.js';
import type { BgpPeer, PeerFamily, PeerKind, PeerOptions, PeerRoute, PeerSession } from './types.js';

/** What each daemon implementation provides; the shared waiting and cleanup logic lives in {@link LabBgpPeer}. */
export interface PeerDriver {
  sessions(): Promise<Record<string, PeerSession>>;
  /** Received routes of every family. */
  routes(): Promise<PeerRoute[]>;
  command(cli: string): Promise<string>;
  logs(): Promise<string>;
  /** A description of the first daemon process that has exited (undefined while all run). */
  exited(): string | undefined;
  /** Called once after the control interface first answered (e.g. GoBGP adds its announced routes here). */
  ready?(): Promise<void>;
  /** Stop the daemon's processes (the directory is removed by the caller). */
  stop(): Promise<void>;
}

/** Describe the first of `procs` that has exited, with its output tail. */
export function firstExited(procs: readonly LabProcess[]): string | undefined {
  const p = procs.find((x) => x.exitCode() !== undefined);
  if (!p) return undefined;
  return `${p.description} exited with ${p.exitCode()}\n${tail(p.stderr() + p.stdout(), 3000)}`;
}

/** True when every directory from `dir` up to / is searchable by other users (mode o+x). */
export function searchableByOthers(dir: string): boolean {
  let d = resolve(dir);
  for (;;) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    const up = dirname(d);
    if (up === d) return true;
    d = up;
  }
}

/**
 * Make a per-peer temp dir, mode 755, removed at process exit. FRR runs as user frr, so the dir and all its parents
 * must be searchable by others: when $TMPDIR is not (e.g. a 0700 CI temp dir), /tmp is used instead.
 */
export function makePeerDir(kind: PeerKind): string {
  const base = searchableByOthers(tmpdir()) ? tmpdir() : '/tmp';
  const dir = mkdtempSync(join(base, `ingot-${kind}-`));
  chmodSync(dir, 0o755);
  trackDir(dir);
  return dir;
}

/** Common {@link BgpPeer} behaviour over a {@link PeerDriver}. */
export class LabBgpPeer implements BgpPeer {
  private stopping: Promise<void> | undefined;

  constructor(
    readonly kind: PeerKind,
    readonly dir: string,
    readonly host: LabHost,
    private readonly driver: PeerDriver,
    private readonly onStopped?: () => void,
  ) {}

  sessions(): Promise<Record<string, PeerSession>> {
    return this.driver.sessions();
  }

  async routes(family?: PeerFamily): Promise<PeerRoute[]> {
    const all = await this.driver.routes();
    return family ? all.filter((r) => familyOf(r.prefix) === family) : all;
  }

  command(cli: string): Promise<string> {
    return this.driver.command(cli);
  }

  logs(): Promise<string> {
    return this.driver.logs();
  }

  async waitEstablished(neighbor: string, timeoutMs = 30_000): Promise<void> {
    const key = canonicalAddress(neighbor);
    await pollUntil(
      async () => ((await this.sessions())[key]?.state === 'Established' ? true : undefined),
      timeoutMs,
      async () => this.describeState(`${this.kind} session with ${neighbor} to be Established`),
      150,
    );
  }

  waitRoutes(pred: (routes: PeerRoute[]) => boolean, timeoutMs = 30_000): Promise<PeerRoute[]> {
    return pollUntil(
      async () => {
        const r = await this.routes();
        return pred(r) ? r : undefined;
      },
      timeoutMs,
      async () => {
        let routes: string;
        try {
          routes = JSON.stringify(await this.routes());
        } catch (e) {
          routes = String(e);
        }
        return `${await this.describeState(`${this.kind} routes to satisfy the predicate`)}\nroutes: ${routes}`;
      },
      150,
    );
  }

  /** A failure description: what we waited for, the sessions and the log tail. */
  async describeState(what: string): Promise<string> {
    let sessions: string;
    try {
      sessions = JSON.stringify(await this.sessions());
    } catch (e) {
      sessions = `(unavailable: ${e instanceof Error ? e.message : String(e)})`;
    }
    let logs: string;
    try {
      logs = await this.logs();
    } catch (e) {
      logs = String(e);
    }
    return `waiting for ${what} in netns ${this.host.ns} (dir ${this.dir})\nsessions: ${sessions}\n--- log tail ---\n${logs}`;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await this.driver.stop();
      } finally {
        if (!process.env.INGOT_LAB_KEEP) {
          rmSync(this.dir, { recursive: true, force: true });
          untrackDir(this.dir);
        }
        this.onStopped?.();
      }
    })();
    return this.stopping;
  }
}

/** Validate options shared by every daemon. */
export function validatePeerOptions(kind: PeerKind, opts: PeerOptions): void {
  const asnOk = (n: number) => Number.isInteger(n) && n >= 1 && n <= 0xffffffff;
  if (!asnOk(opts.asn)) throw new Error(`lab: startPeer(${kind}): bad asn ${opts.asn}`);
  if (opts.neighbors.length === 0 && !opts.acceptAny) throw new Error(`lab: startPeer(${kind}): no neighbors`);
  for (const n of opts.neighbors) {
    if (!asnOk(n.asn)) throw new Error(`lab: startPeer(${kind}): neighbor ${n.address}: bad asn ${n.asn}`);
    if (n.multihop !== undefined && n.ttlSecurity) {
      throw new Error(`lab: startPeer(${kind}): neighbor ${n.address}: multihop and ttlSecurity exclude each other`);
    }
  }
  if (opts.acceptAny && kind !== 'frr') throw new Error(`lab: startPeer(${kind}): acceptAny is supported by frr only`);
}

/** Families a neighbor activates (default: its transport family). */
export function neighborFamilies(n: { address: string; families?: PeerFamily[] }): PeerFamily[] {
  return n.families && n.families.length > 0 ? [...new Set(n.families)] : [familyOf(n.address)];
}

/** The host's own address in a family (the default next hop and local address). */
export function ownAddress(host: LabHost, family: PeerFamily): string {
  return family === 'ipv4' ? host.ipv4 : host.ipv6;
}
