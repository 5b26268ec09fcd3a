// Drives test/lab/member-child.mjs (one Membership in a lab namespace) from a lab test.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LabHost, LabProcess } from '@ingot/lab';

const CHILD = fileURLToPath(new URL('./member-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Event message from the child. */
export interface MemberEvent {
  event: 'join' | 'update' | 'suspect' | 'alive' | 'dead' | 'leave';
  member: string;
  incarnation: number;
  t: number;
}

/** A member running in a namespace; `events` collects every membership event it reported. */
export class MemberChild {
  readonly events: MemberEvent[] = [];
  private seq = 0;

  private constructor(
    readonly name: string,
    readonly proc: LabProcess,
    readonly host: LabHost,
  ) {
    proc.child.on('message', (m: unknown) => {
      const e = m as Partial<MemberEvent> | undefined;
      if (e && typeof e.event === 'string' && e.event !== ('ready' as string)) this.events.push(e as MemberEvent);
    });
  }

  /** Forks the child in `host` and starts a member bound to host.ipv4:7946. */
  static async start(
    name: string,
    host: LabHost,
    extra: { keys?: string[]; options?: Record<string, unknown>; transport?: Record<string, unknown> } = {},
  ): Promise<MemberChild> {
    if (!existsSync(DIST))
      throw new Error(`build @ingot/election first (cd packages/election && npx tsup): ${DIST} is missing`);
    const proc = host.fork(CHILD);
    const child = new MemberChild(name, proc, host);
    await proc.waitMessage((m) => m?.event === 'ready', 15_000);
    await child.request('start', { name, host: host.ipv4, port: 7946, ...extra });
    return child;
  }

  /** Sends a command and resolves with its result (rejects with the child's error). */
  async request<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<T> {
    const id = ++this.seq;
    this.proc.send({ id, cmd, ...args });
    const reply = await this.proc.waitMessage((m) => m?.id === id, timeoutMs);
    if (!reply.ok) throw new Error(`member child ${this.name}: ${cmd} failed: ${reply.error}`);
    return reply.result as T;
  }

  /** Members as this child sees them. */
  members(): Promise<{ name: string; status: string; incarnation: number }[]> {
    return this.request('members');
  }

  /** First event about `member` of kind `event` at or after `since` (ms since epoch). */
  find(event: MemberEvent['event'], member: string, since = 0): MemberEvent | undefined {
    return this.events.find((e) => e.event === event && e.member === member && e.t >= since);
  }
}
