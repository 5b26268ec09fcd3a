import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateCommand } from '../src/commands/validate.js';
import { type ParseConfigResult, parseConfig, parseConfigObjects } from '../src/config/parse-config.js';
import { MAX_YAML_DEPTH } from '../src/config/yaml-limits.js';

/**
 * parseConfig reads files an operator (or an attacker with write access to the configuration) controls, and the
 * Kubernetes webhook feeds it whatever the API server holds: whatever the input, it returns typed issues and never throws.
 */

const FIXTURES = join(import.meta.dirname, 'fixtures', 'metallb-parity');
const SEEDS = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(join(FIXTURES, f), 'utf8'));

/** The result is well formed: a config or issues, and warnings, each issue a resource, a field and a reason. */
function checkShape(r: ParseConfigResult): void {
  expect(typeof r.ok).toBe('boolean');
  const all = [...(r.ok ? [] : r.issues), ...r.warnings];
  if (!r.ok) expect(r.issues.length).toBeGreaterThan(0);
  for (const i of all) {
    expect(typeof i.resource).toBe('string');
    expect(typeof i.field).toBe('string');
    expect(typeof i.reason).toBe('string');
    if (i.line !== undefined) expect(i.line).toBeGreaterThan(0);
  }
}

const KINDS = [
  'IPAddressPool',
  'L2Advertisement',
  'BGPAdvertisement',
  'BGPPeer',
  'Community',
  'Service',
  'Node',
  'IPRange',
  'List',
  'BFDProfile',
];
const API_VERSIONS = ['metallb.io/v1beta1', 'metallb.io/v1beta2', 'ingot.dev/v1alpha1', 'v1', 'x/y'];
const FIELDS = [
  'addresses',
  'autoAssign',
  'avoidBuggyIPs',
  'serviceAllocation',
  'ipAddressPools',
  'ipAddressPoolSelectors',
  'nodeSelectors',
  'serviceSelectors',
  'interfaces',
  'preferredNodeSelectors',
  'aggregationLength',
  'aggregationLengthV6',
  'localPref',
  'communities',
  'peers',
  'myASN',
  'peerASN',
  'peerAddress',
  'sourceAddress',
  'holdTime',
  'keepaliveTime',
  'connectTime',
  'routerID',
  'password',
  'passwordSecret',
  'localASN',
  'dynamicASN',
  'ebgpMultiHop',
  'iprange',
  'memberlist',
  'bgp',
  'statusAddress',
  'stateDirectory',
  'dataPath',
  'announce',
  'clusterIPs',
  'ports',
  'ipFamilyPolicy',
  'externalTrafficPolicy',
];

const address = fc.oneof(
  fc.constantFrom('192.0.2.0/28', '0.0.0.0/0', '::/0', '2001:db8::/120', '192.0.2.1-192.0.2.9', '127.0.0.1', 'x'),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(40)).map(([a, b, l]) => `198.51.${a}.${b}/${l}`),
  fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `203.0.113.${a}-203.0.113.${b}`),
);
const selector = fc.record(
  {
    matchLabels: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 6 }), fc.jsonValue())),
    matchExpressions: fc.array(
      fc.record(
        {
          key: fc.oneof(fc.string({ maxLength: 6 }), fc.jsonValue()),
          operator: fc.oneof(fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'), fc.string({ maxLength: 4 })),
          values: fc.oneof(fc.array(fc.string({ maxLength: 4 }), { maxLength: 4 }), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(address, { maxLength: 4 }),
  fc.array(selector, { maxLength: 3 }),
  fc.constantFrom('2.5s', '500ms', '1m30s', '90', '', 'large:1:2:3', '70000:1', 'eth0'),
  fc.integer(),
  fc.double(),
);
const resource = fc.record(
  {
    apiVersion: fc.oneof(fc.constantFrom(...API_VERSIONS), fc.jsonValue()),
    kind: fc.oneof(fc.constantFrom(...KINDS), fc.jsonValue()),
    metadata: fc.oneof(
      fc.record(
        {
          name: fc.oneof(fc.constantFrom('a', 'b', 'p', '__proto__', 'constructor', ''), fc.jsonValue()),
          labels: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 })),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    ),
    spec: fc.oneof(fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 8 }), fc.jsonValue()),
  },
  { requiredKeys: [] },
);

/** Random edits of a real configuration text: cut a range, insert YAML punctuation, repeat a line. */
const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.nat(40),
        fc.constantFrom(
          '',
          '&a ',
          '*a',
          '[',
          ']',
          '{',
          '}',
          ': ',
          '- ',
          '---\n',
          '\t',
          '"',
          "'",
          '#',
          '!!str ',
          '\n  ',
          '%',
        ),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([text, edits]) => {
    let t = text;
    for (const [at, cut, insert] of edits) {
      const i = at % (t.length + 1);
      t = t.slice(0, i) + insert + t.slice(i + cut);
    }
    return t;
  });

const RUNS = { numRuns: 200 };

describe('parseConfig never throws (fast-check)', () => {
  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => checkShape(parseConfig(text))),
      RUNS,
    );
  });

  it('on real configurations with random edits', () => {
    fc.assert(
      fc.property(mutated, (text) => {
        checkShape(parseConfig(text));
        const lines: string[] = [];
        expect([0, 1]).toContain(validateCommand('f.yaml', text, (s) => lines.push(s)));
      }),
      RUNS,
    );
  });

  it('on random resources, as YAML text and as decoded objects', () => {
    fc.assert(
      fc.property(fc.array(resource, { minLength: 1, maxLength: 6 }), (objects) => {
        checkShape(parseConfig(objects.map((o) => stringify(o)).join('---\n')));
        checkShape(parseConfigObjects(objects));
      }),
      RUNS,
    );
  });

  it('on arbitrary JavaScript values handed to parseConfigObjects', () => {
    fc.assert(
      fc.property(
        fc.array(fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withBoxedValues: true }), {
          maxLength: 4,
        }),
        (objects) => checkShape(parseConfigObjects(objects)),
      ),
      { numRuns: 200 },
    );
  });

  it('on hostile nesting, aliases and self-references: refused as YAML issues', () => {
    const hostile = fc.oneof(
      fc.integer({ min: MAX_YAML_DEPTH + 1, max: 20_000 }).map((n) => '['.repeat(n)),
      fc.integer({ min: MAX_YAML_DEPTH + 1, max: 5_000 }).map((n) => `spec: ${'- '.repeat(n)}x`),
      fc
        .integer({ min: MAX_YAML_DEPTH + 1, max: 2_000 })
        .map((n) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')),
      fc.integer({ min: 3, max: 12 }).map((levels) => {
        let text = 'kind: IPAddressPool\nspec:\n  a: &a [x, x, x, x, x, x, x, x, x]\n';
        for (let i = 1; i < levels; i++)
          text += `  a${i}: &a${i} [${Array(9)
            .fill(`*a${i > 1 ? i - 1 : ''}`)
            .join(', ')}]\n`;
        return text;
      }),
      fc.constantFrom(
        'spec: &x { holdTime: *x }',
        'a: *missing',
        '? &k [*k]\n: v',
        // a list that contains itself, where a duration is expected (its message once tried to print it as JSON)
        'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: { name: r }\nspec: { myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, holdTime: &y [*y] }',
        'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: { name: r }\nspec: { myASN: 1, peerASN: 2, peerAddress: 192.0.2.1, keepaliveTime: &y { a: *y } }',
      ),
    );
    fc.assert(
      fc.property(hostile, (text) => {
        const r = parseConfig(text);
        checkShape(r);
        expect(r.ok).toBe(false);
      }),
      { numRuns: 60 },
    );
  });
});
