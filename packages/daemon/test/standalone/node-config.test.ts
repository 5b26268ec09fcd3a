import { describe, expect, it } from 'vitest';
import { selectNode } from '../../src/config/node-config.js';
import { parseConfig } from '../../src/config/parse-config.js';

const node = (name: string, spec: string) => `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: ${name}, labels: { zone: a } }
spec:
${spec}
---
`;

describe('kind: Node documents', () => {
  it('reads every field with its default', () => {
    const r = parseConfig(
      node(
        'node-1',
        `  announce: live
  interfaces: [eth0]
  memberlist: { bindAddress: 192.0.2.1:7946, join: ['192.0.2.2:7946', '[2001:db8::2]:7946'], secret: s3cret-s3cret-s3cret }
  bgp: { routerID: 192.0.2.1, sourceAddress: '2001:db8::1' }
  statusAddress: 192.0.2.1:7472
  stateDirectory: /var/lib/ingot
  dataPath: local`,
      ) + node('node-2', '  interfaces: []'),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.nodes[0]).toEqual({
      name: 'node-1',
      labels: { zone: 'a' },
      announce: 'live',
      interfaces: ['eth0'],
      memberlist: {
        bindAddress: '192.0.2.1:7946',
        join: ['192.0.2.2:7946', '[2001:db8::2]:7946'],
        secret: 's3cret-s3cret-s3cret',
      },
      bgp: { routerID: '192.0.2.1', sourceAddress: '2001:db8::1' },
      statusAddress: '192.0.2.1:7472',
      stateDirectory: '/var/lib/ingot',
      dataPath: 'local',
    });
    expect(r.config.nodes[1]).toEqual({ name: 'node-2', labels: { zone: 'a' }, interfaces: [], bgp: {} });
  });

  it('rejects bad values with the field and reason', () => {
    const r = parseConfig(
      node(
        'bad',
        `  announce: maybe
  dataPath: kernel
  memberlist: { bindAddress: 'node-1:7946', join: ['192.0.2.2'], secret: a, secretFile: /b }
  bgp: { routerID: '2001:db8::1', sourceAddress: nope }
  statusAddress: ':7472'
  stateDirectory: relative/dir`,
      ) + node('bad', '  interfaces: []'),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const got = r.issues.map((i) => `${i.resource} ${i.field}`);
    expect(got).toEqual(
      expect.arrayContaining([
        'Node/bad spec.announce',
        'Node/bad spec.dataPath',
        'Node/bad spec.memberlist.bindAddress',
        'Node/bad spec.memberlist.join[0]',
        'Node/bad spec.memberlist',
        'Node/bad spec.bgp.routerID',
        'Node/bad spec.bgp.sourceAddress',
        'Node/bad spec.statusAddress',
        'Node/bad spec.stateDirectory',
        'Node/bad metadata.name',
      ]),
    );
    expect(r.issues.find((i) => i.field === 'spec.announce')?.reason).toBe('must be live or dry-run, got "maybe"');
  });

  it('rejects a foreign apiVersion on Ingot kinds', () => {
    const r = parseConfig(node('n', '  interfaces: []').replace('ingot.dev/v1alpha1', 'metallb.io/v1beta1'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.reason).toBe('must be ingot.dev/v1alpha1, got "metallb.io/v1beta1"');
  });

  it('selects the document named after this node, or the only one', () => {
    const r = parseConfig(node('a', '  interfaces: []') + node('b', '  interfaces: []'));
    if (!r.ok) throw new Error('invalid');
    expect(selectNode(r.config.nodes, 'b')?.name).toBe('b');
    expect(selectNode(r.config.nodes, 'c')).toBeUndefined();
    expect(selectNode(r.config.nodes, undefined)).toBeUndefined();
    expect(selectNode(r.config.nodes.slice(0, 1), undefined)?.name).toBe('a');
  });
});
