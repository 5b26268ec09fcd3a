import { describe, expect, it } from 'vitest';
import { LineCounter, parseAllDocuments } from 'yaml';
import { formatIssue, summarizeConfig, validateCommand } from '../src/commands/validate.js';
import { parseConfig, parseConfigObjects } from '../src/config/parse-config.js';
import { fieldLine } from '../src/config/source-positions.js';

function validate(text: string, file = 'ingot.yaml'): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = validateCommand(file, text, (s) => {
    expect(s.endsWith('\n')).toBe(true);
    lines.push(s.slice(0, -1));
  });
  return { code, lines };
}

/** The line numbers of the text whose content includes `marker` (1-based). */
function lineOf(text: string, marker: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`marker ${marker} found ${hits.length} times`);
  return hits[0]!;
}

describe('fieldLine', () => {
  const text = `# a comment
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: p
  labels:
    kubernetes.io/hostname: n1
spec:
  addresses:
    - 192.0.2.0/28
    - bogus
  serviceAllocation:
    namespaceSelectors:
      - matchLabels: { team: a }
        matchExpressions:
          - { key: x, operator: Nope }
`;
  const lines = new LineCounter();
  const [doc] = parseAllDocuments(text, { lineCounter: lines }) as ReturnType<typeof parseAllDocuments> & unknown[];

  it.each([
    ['', 2],
    ['metadata.name', 5],
    ['spec', 8],
    ['spec.addresses', 9],
    ['spec.addresses[0]', 10],
    ['spec.addresses[1]', 11],
    ['metadata.labels.kubernetes.io/hostname', 7],
    ['spec.serviceAllocation.namespaceSelectors[0].matchExpressions', 15],
    ['spec.serviceAllocation.namespaceSelectors[0].matchExpressions[0].operator', 16],
    ['spec.serviceAllocation.namespaceSelectors[0].matchLabels.team', 14],
  ])('%s is on line %i', (field, line) => {
    expect(fieldLine(doc as never, lines, field)).toBe(line);
  });

  it.each([
    ['spec.addresses[7]', 9],
    ['spec.autoAssign', 8],
    ['spec.serviceAllocation.priority', 12],
    ['status.x', 2],
    ['metadata.labels.missing.key', 6],
  ])('%s does not exist: the deepest existing node, line %i', (field, line) => {
    expect(fieldLine(doc as never, lines, field)).toBe(line);
  });

  it('follows a base path into a kind: List item', () => {
    const list = `apiVersion: v1
kind: List
items:
  - kind: A
    spec: { x: 1 }
  - kind: B
    spec:
      x: 1
`;
    const lc = new LineCounter();
    const [d] = parseAllDocuments(list, { lineCounter: lc }) as unknown[];
    expect(fieldLine(d as never, lc, 'spec.x', ['items', 1])).toBe(8);
    expect(fieldLine(d as never, lc, '', ['items', 1])).toBe(6);
    expect(fieldLine(d as never, lc, 'spec.x', ['items', 0])).toBe(5);
    expect(fieldLine(d as never, lc, 'spec.x', ['items', 5])).toBe(3);
  });
});

describe('parseConfig: issue lines and documents', () => {
  const text = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: first
spec:
  addresses:
    - 192.0.2.0/28
    - not-an-address        # L-bad-address
---
# a comment before the second document
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: adv                 # L-adv-name
spec:
  ipAddressPools: [first, ghost]   # L-pools
  interfaces: eth0          # L-interfaces
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: r }       # L-peer
spec:
  myASN: 64512
  peerASN: 70000000000      # L-peer-asn
  holdTime: 1s              # L-hold
---
apiVersion: metallb.io/v1beta1   # L-no-name
kind: Community
spec: {}
`;

  it('every issue carries the line of its field and its document number', () => {
    const r = parseConfig(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const got = r.issues.map((i) => [`${i.resource} ${i.field}`, i.line, i.document]);
    expect(got).toEqual(
      expect.arrayContaining([
        ['L2Advertisement/adv spec.interfaces', lineOf(text, 'L-interfaces'), 2],
        ['BGPPeer/r spec.peerASN', lineOf(text, 'L-peer-asn'), 3],
        ['BGPPeer/r spec.holdTime', lineOf(text, 'L-hold'), 3],
        ['document 4 metadata.name', lineOf(text, 'L-no-name'), 4],
      ]),
    );
    // found after reading every object, and only a warning (MetalLB skips the name): placed in that Kind/name
    expect(r.warnings.map((i) => [`${i.resource} ${i.field}`, i.line, i.document])).toEqual([
      ['L2Advertisement/adv spec.ipAddressPools[1]', lineOf(text, 'L-pools'), 2],
    ]);
    for (const issue of [...r.issues, ...r.warnings]) {
      expect(issue.line).toBeGreaterThan(0);
      expect(issue.document).toBeGreaterThan(0);
    }
  });

  it('pool validation issues (checked once everything else is valid) point into their pool', () => {
    const pools = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: a }
spec:
  addresses: [192.0.2.0/28]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: b }
spec:
  addresses:
    - 198.51.100.0/24
    - 192.0.2.8/29
`;
    const r = parseConfig(pools);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toHaveLength(1);
    // the allocator names the list, so the line is that of pool b's addresses key
    expect(r.issues[0]).toMatchObject({ resource: 'IPAddressPool/b', field: 'spec.addresses', line: 11, document: 2 });
  });

  it('a duplicate name is reported at the second object', () => {
    const dup = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: p }
spec: { addresses: [192.0.2.0/28] }
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: p                 # L-dup
spec: { addresses: [198.51.100.0/28] }
`;
    const r = parseConfig(dup);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([
      {
        resource: 'IPAddressPool/p',
        field: 'metadata.name',
        reason: 'duplicate IPAddressPool name',
        line: lineOf(dup, 'L-dup'),
        document: 2,
      },
    ]);
  });

  it('places issues of kind: List items in their item', () => {
    const list = `apiVersion: v1
kind: List
items:
  - apiVersion: metallb.io/v1beta1
    kind: IPAddressPool
    metadata: { name: p }
    spec: { addresses: [192.0.2.0/28] }
  - apiVersion: metallb.io/v1beta1
    kind: L2Advertisement
    metadata: { name: a }
    spec:
      interfaces: 7               # L-item
`;
    const r = parseConfig(list);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([expect.objectContaining({ field: 'spec.interfaces', line: lineOf(list, 'L-item') })]);
    expect(r.issues[0]!.document).toBe(1);
  });

  it('gives YAML syntax errors their line and document', () => {
    const bad = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: p }
spec: { addresses: [192.0.2.0/28] }
---
kind: L2Advertisement
metadata:
  name: [unclosed
spec: {}
`;
    const r = parseConfig(bad);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ resource: 'document 2', field: '', document: 2 });
    expect(r.issues[0]!.reason).toMatch(/^invalid YAML: /);
    expect(r.issues[0]!.reason).not.toContain('\n');
    expect(r.issues[0]!.line).toBeGreaterThanOrEqual(6);
  });

  it('labels nameless objects by their YAML document (empty documents and List items counted right)', () => {
    const text = `---
# an empty document
---
apiVersion: v1
kind: List
items:
  - apiVersion: metallb.io/v1beta1
    kind: IPAddressPool
    metadata: { name: p }
    spec: { addresses: [192.0.2.0/28] }
  - apiVersion: metallb.io/v1beta1
    metadata: { name: nokind }       # L-nokind
---
- just a list                        # L-list
`;
    const r = parseConfig(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => [i.resource, i.field, i.line, i.document])).toEqual([
      ['document 2 items[1]', 'kind', lineOf(text, 'L-nokind') - 1, 2],
      ['document 3', '', lineOf(text, 'L-list'), 3],
    ]);
  });

  it('parseConfigObjects (no text) leaves line and document unset', () => {
    const r = parseConfigObjects([
      { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'p' } },
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([
      { resource: 'IPAddressPool/p', field: 'spec.addresses', reason: 'must list at least one CIDR or range' },
    ]);
  });
});

describe('ingot validate', () => {
  it('prints FILE:LINE: Kind/name field: reason for every issue, in file order, exit 1', () => {
    const text = `apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: adv }
spec:
  ipAddressPools:
    - ghost                  # L-ghost
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: p
spec:
  autoAssign: maybe          # L-auto
`;
    const r = validate(text, 'cfg/fleet.yaml');
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      `cfg/fleet.yaml:${lineOf(text, 'L-ghost')}: warning: L2Advertisement/adv spec.ipAddressPools[0]: unknown pool "ghost": skipped, as MetalLB does`,
      `cfg/fleet.yaml:12: IPAddressPool/p spec.addresses: must list at least one CIDR or range`,
      `cfg/fleet.yaml:${lineOf(text, 'L-auto')}: IPAddressPool/p spec.autoAssign: must be true or false, got string "maybe"`,
    ]);
  });

  it('prints a summary for a valid file, exit 0', () => {
    const text = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: p }
spec: { addresses: [192.0.2.0/28, 2001:db8::/124] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: a }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
`;
    const r = validate(text);
    expect(r).toEqual({ code: 0, lines: ['ingot.yaml: valid (1 pool, 1 L2 advertisement, 1 service)'] });
    expect(validate('').lines).toEqual(['ingot.yaml: valid (0 pools)']);
  });

  it('formats issues without a line or a field', () => {
    expect(formatIssue('f', { resource: 'document 3', field: '', reason: 'must be a Kubernetes object' })).toBe(
      'f: document 3: must be a Kubernetes object',
    );
    expect(formatIssue('f', { resource: 'X/y', field: 'spec', reason: 'r', line: 4, document: 1 })).toBe(
      'f:4: X/y spec: r',
    );
  });

  it('summarizes every non-empty list', () => {
    const r = parseConfig(`apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: r }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 192.0.2.254 }
`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(summarizeConfig(r.config)).toBe('0 pools, 1 BGP peer');
  });
});
