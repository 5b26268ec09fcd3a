// Real members for the network tests: UDP and TCP on 127.0.0.1 (ephemeral ports), closed after each test.
import { afterEach } from 'vitest';
import {
  Membership,
  type MembershipOptions,
  type Transport,
  UdpTransport,
  type UdpTransportOptions,
} from '../../src/index.js';

/** Starts members on 127.0.0.1; registers an afterEach that closes every member it started or was given. */
export function loopbackMembers(
  defaults: { transport?: UdpTransportOptions; options?: Partial<MembershipOptions> } = {},
): {
  /** A started member named `name`; `wrap` decorates its transport. */
  member(name: string, options?: Partial<MembershipOptions>, wrap?: (t: Transport) => Transport): Promise<Membership>;
  /** Closes `m` after the test too. */
  track(m: Membership): void;
} {
  const started: Membership[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((m) => m.close()));
  });
  return {
    async member(name, options = {}, wrap) {
      const bound = await UdpTransport.bind({ host: '127.0.0.1', port: 0, ...defaults.transport });
      const m = new Membership({
        name,
        transport: wrap ? wrap(bound) : bound,
        ...defaults.options,
        ...options,
      }).start();
      started.push(m);
      return m;
    },
    track(m) {
      started.push(m);
    },
  };
}

/** Polls `pred` every 10 ms; throws naming `what` if it is still false after `timeoutMs`. */
export async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The status `m` holds for the member `name`, or undefined if it does not know it. */
export const statusOf = (m: Membership, name: string) => m.members().find((x) => x.name === name)?.status;

/** A 32-byte key, every byte `b`. */
export const key = (b: number) => new Uint8Array(32).fill(b);
