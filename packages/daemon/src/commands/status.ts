import { getJson } from '../http-json.js';
import type { StatusDocument } from '../standalone/standalone-status.js';

/** Reads `GET http://<address>/status` (2 s timeout). */
export async function fetchStatus(address: string): Promise<StatusDocument> {
  return (await getJson(address, '/status')) as StatusDocument;
}

/** Renders rows as a left-aligned text table with a header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The human view of a status document: node summary, services, BGP peers, members. */
export function formatStatus(s: StatusDocument): string {
  const out: string[] = [];
  const cfg = s.config.stale
    ? `STALE (last change rejected: ${s.config.issues.length} issue(s); the last good one is in force)`
    : s.config.loaded
      ? 'loaded'
      : 'not loaded';
  out.push(
    `node ${s.node}  version ${s.version}  announce ${s.announce}  controller ${s.controller ?? '-'}`,
    `config ${s.config.source}: ${cfg}`,
    `assignments generation ${s.assignments.generation}${s.assignments.writer ? ` (written by ${s.assignments.writer})` : ''}`,
    '',
  );
  for (const i of s.config.issues) out.push(`  ${i.resource} ${i.field}: ${i.reason}`);
  out.push(
    table(
      ['SERVICE', 'IPS', 'POOL', 'PROTOCOL', 'OWNER', 'HERE', 'REASON'],
      s.services.map((r) => [
        r.service,
        r.ips.join(',') || '<pending>',
        r.pool ?? '-',
        r.protocol,
        [...new Set(Object.values(r.owners))].join(',') || (r.protocol.includes('bgp') ? 'bgp (ECMP)' : '-'),
        r.announcedHere ? 'yes' : 'no',
        r.reason ?? (Object.keys(r.owners).length > 0 ? 'elected (MetalLB leader hash over live eligible nodes)' : ''),
      ]),
    ),
    '',
  );
  if (s.peers.length > 0)
    out.push(
      table(
        ['BGP PEER', 'ADDRESS', 'AS', 'STATE', 'PREFIXES'],
        s.peers.map((p) => [p.name, p.address, String(p.asn), p.state, String(p.prefixesAdvertised)]),
      ),
      '',
    );
  out.push(
    table(
      ['MEMBER', 'STATE', 'ADDRESS'],
      s.members.map((m) => [m.name, m.state, m.address]),
    ),
  );
  if (s.localAddresses.length > 0) out.push('', `on lo: ${s.localAddresses.join(' ')}`);
  return `${out.join('\n')}\n`;
}
