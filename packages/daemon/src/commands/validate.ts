import { parseConfig } from '../config/parse-config.js';
import type { ConfigIssue, IngotConfig } from '../config/resources.js';

/** How the summary of a valid configuration names each list of {@link IngotConfig}, singular and plural. */
const SUMMARY_NAMES: Record<string, [string, string]> = {
  pools: ['pool', 'pools'],
  l2Advertisements: ['L2 advertisement', 'L2 advertisements'],
  bgpAdvertisements: ['BGP advertisement', 'BGP advertisements'],
  bgpPeers: ['BGP peer', 'BGP peers'],
  communities: ['community alias', 'community aliases'],
  services: ['service', 'services'],
  nodes: ['node', 'nodes'],
};

/**
 * One line per issue: `FILE:LINE: Kind/name field: reason` (`FILE: …` when the issue has no line, no field part when
 * the issue concerns the whole resource); with a `label`, `FILE:LINE: label: Kind/name field: reason`.
 */
export function formatIssue(file: string, issue: ConfigIssue, label?: string): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}`;
  const what = issue.field === '' ? issue.resource : `${issue.resource} ${issue.field}`;
  return `${where}: ${label ? `${label}: ` : ''}${what}: ${issue.reason}`;
}

/** `N pools, M L2 advertisements, …`: the pool count always, the other lists when not empty. */
export function summarizeConfig(config: IngotConfig): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!Array.isArray(value) || (value.length === 0 && key !== 'pools')) continue;
    const [one, many] = SUMMARY_NAMES[key] ?? [key, key];
    parts.push(`${value.length} ${value.length === 1 ? one : many}`);
  }
  return parts.join(', ');
}

/**
 * `ingot validate FILE`: checks a configuration and prints every problem as `FILE:LINE: Kind/name field: reason` and
 * every warning as `FILE:LINE: warning: Kind/name field: reason`, together in file order, then, when there is no
 * problem, `FILE: valid (N pools, …)`. Warnings (what MetalLB accepts but is probably a mistake) do not make the file
 * invalid.
 * @param file - the file name, as shown in the output
 * @param text - the file's contents
 * @param out - writes to standard output (each call is one line with its newline)
 * @returns the exit code: 0 valid (with or without warnings), 1 invalid
 */
export function validateCommand(file: string, text: string, out: (s: string) => void): number {
  const result = parseConfig(text);
  const lines = [
    ...(result.ok ? [] : result.issues.map((issue) => ({ issue, text: formatIssue(file, issue) }))),
    ...result.warnings.map((issue) => ({ issue, text: formatIssue(file, issue, 'warning') })),
  ]
    .map((entry, order) => ({ ...entry, order }))
    .sort(
      (a, b) =>
        (a.issue.line ?? Number.MAX_SAFE_INTEGER) - (b.issue.line ?? Number.MAX_SAFE_INTEGER) || a.order - b.order,
    );
  for (const { text: line } of lines) out(`${line}\n`);
  if (!result.ok) return 1;
  out(`${file}: valid (${summarizeConfig(result.config)})\n`);
  return 0;
}
