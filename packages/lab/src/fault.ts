import { execCommand, runCommand } from './command.js';
import type { LabHost } from './host.js';

/** Name of the nftables netdev table the lab uses for faults on `ifname`. */
export function faultTableName(ifname: string): string {
  return `ingot_fault_${ifname.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/**
 * nftables script installing a netdev ingress drop on `ifname`: a random `percent`% of frames (0 < percent < 100,
 * `numgen random mod 100` yields 0..99) or everything (percent >= 100). Replaces any previous fault table.
 */
export function faultRuleset(ifname: string, percent: number): string {
  if (!Number.isFinite(percent) || percent <= 0 || percent > 100) {
    throw new RangeError(`lab: loss percent must be in (0, 100], got ${percent}`);
  }
  const p = Math.round(percent);
  const rule = p >= 100 ? 'counter drop' : `numgen random mod 100 < ${p} counter drop`;
  const table = faultTableName(ifname);
  return (
    `table netdev ${table}\ndelete table netdev ${table}\n` +
    `table netdev ${table} {\n  chain in {\n    type filter hook ingress device "${ifname}" priority 0; policy accept;\n` +
    `    ${rule}\n  }\n}\n`
  );
}

/** Parse the drop counter of `nft -j list table netdev ...` output (sum over counter statements). */
export function parseDropCounter(nftJson: string): number {
  const doc = JSON.parse(nftJson) as { nftables?: { rule?: { expr?: { counter?: { packets?: number } }[] } }[] };
  let dropped = 0;
  for (const item of doc.nftables ?? []) {
    for (const e of item.rule?.expr ?? []) dropped += e.counter?.packets ?? 0;
  }
  return dropped;
}

/**
 * Fault injection with nftables on the receiving interface (netdev ingress; this kernel has no netem). Dropping on
 * ingress looks like real loss; an egress drop would make the sender's send() fail with ENOBUFS instead. Apply to
 * both hosts of a link for loss in both directions.
 */
export const fault = {
  /** Drop a random `percent`% of frames arriving on host.ifname (every frame type: IPv4, IPv6, ARP, NDP). */
  async loss(host: LabHost, percent: number): Promise<void> {
    await runCommand('ip', ['netns', 'exec', host.ns, 'nft', '-f', '-'], {
      input: faultRuleset(host.ifname, percent),
      timeoutMs: 10_000,
    });
  },
  /** Drop everything arriving on host.ifname. */
  async partition(host: LabHost): Promise<void> {
    await fault.loss(host, 100);
  },
  /** Remove the fault table of host.ifname (no error when there is none). */
  async heal(host: LabHost): Promise<void> {
    const r = await execCommand(
      'ip',
      ['netns', 'exec', host.ns, 'nft', 'delete', 'table', 'netdev', faultTableName(host.ifname)],
      { timeoutMs: 10_000 },
    );
    if (r.code !== 0 && !/No such file or directory/.test(r.stderr)) {
      throw new Error(`lab: fault.heal ${host.ns}/${host.ifname}: ${r.stderr.trim()}`);
    }
  },
  /** `ip link set host.ifname down` (the other end sees NO-CARRIER; addresses are kept). */
  async linkDown(host: LabHost): Promise<void> {
    await runCommand('ip', ['-n', host.ns, 'link', 'set', host.ifname, 'down'], { timeoutMs: 10_000 });
  },
  /** `ip link set host.ifname up`. */
  async linkUp(host: LabHost): Promise<void> {
    await runCommand('ip', ['-n', host.ns, 'link', 'set', host.ifname, 'up'], { timeoutMs: 10_000 });
  },
  /** Frames dropped so far by the fault table of host.ifname (0 when there is none). */
  async counters(host: LabHost): Promise<{ dropped: number }> {
    const r = await execCommand(
      'ip',
      ['netns', 'exec', host.ns, 'nft', '-j', 'list', 'table', 'netdev', faultTableName(host.ifname)],
      { timeoutMs: 10_000 },
    );
    if (r.code !== 0) return { dropped: 0 };
    return { dropped: parseDropCounter(r.stdout) };
  },
};
