import { hostname } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import type { IngotConfig } from '../../src/config/resources.js';
import { createLogger } from '../../src/logger.js';
import { resolveNodeSettings } from '../../src/standalone/node-settings.js';

const log = createLogger({ level: 'error', write: () => {} });
const fleet = (names: string[]): IngotConfig => {
  const r = parseConfig(
    names
      .map(
        (n, i) => `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: ${n}, labels: { rack: r${i} } }
spec:
  announce: live
  interfaces: [eth${i}]
  memberlist: { bindAddress: '192.0.2.${i + 1}:7946', join: ['192.0.2.1:7946'], insecurePlaintext: true }
  stateDirectory: /var/lib/ingot
`,
      )
      .join('---\n'),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('resolveNodeSettings (command line over Node document over defaults)', () => {
  it('takes the Node document named by --node, deriving status address and router ID from its memberlist host', () => {
    const s = resolveNodeSettings({ nodeName: 'b', log, version: 'x' }, fleet(['a', 'b']));
    expect(s).toMatchObject({
      name: 'b',
      labels: { rack: 'r1' },
      announce: 'live',
      interfaces: ['eth1'],
      statusAddress: '192.0.2.2:7472',
      statusExplicit: false,
      stateDirectory: '/var/lib/ingot',
      dataPath: 'local',
      routerId: '192.0.2.2',
    });
  });

  it('lets every command-line setting win', () => {
    const s = resolveNodeSettings(
      {
        nodeName: 'a',
        announce: 'dry-run',
        interfaces: ['br0'],
        routerId: '198.51.100.9',
        labels: { rack: 'override', extra: 'x' },
        statusAddress: '127.0.0.1:9000',
        stateDirectory: '/tmp/s',
        dataPath: 'none',
        log,
        version: 'x',
      },
      fleet(['a', 'b']),
    );
    expect(s).toMatchObject({
      announce: 'dry-run',
      interfaces: ['br0'],
      routerId: '198.51.100.9',
      labels: { rack: 'override', extra: 'x' },
      statusAddress: '127.0.0.1:9000',
      statusExplicit: true,
      stateDirectory: '/tmp/s',
      dataPath: 'none',
    });
  });

  it("--memberlist-wire wins over the document's wire; without it the document's wire is kept", () => {
    const doc = fleet(['a']);
    const node = doc.nodes[0];
    if (!node?.memberlist) throw new Error('fleet without memberlist');
    node.memberlist.wire = 'memberlist';
    const flags = { bindAddress: '192.0.2.1:7946', join: [], insecurePlaintext: true };
    const fromDoc = resolveNodeSettings({ nodeName: 'a', memberlist: flags, log, version: 'x' }, doc);
    expect(fromDoc.memberlist?.wire).toBe('memberlist');
    const fromFlag = resolveNodeSettings(
      { nodeName: 'a', memberlist: { ...flags, wire: 'ingot' }, log, version: 'x' },
      doc,
    );
    expect(fromFlag.memberlist?.wire).toBe('ingot');
  });

  it("--failover wins over the document's spec.failover; without either the profile is gossip", () => {
    const doc = fleet(['a', 'b']);
    const a = doc.nodes[0];
    if (!a) throw new Error('fleet without nodes');
    a.failover = 'fast';
    expect(resolveNodeSettings({ nodeName: 'a', log, version: 'x' }, doc).failover).toBe('fast');
    expect(resolveNodeSettings({ nodeName: 'a', failover: 'gossip', log, version: 'x' }, doc).failover).toBe('gossip');
    expect(resolveNodeSettings({ nodeName: 'b', log, version: 'x' }, doc).failover).toBe('gossip');
    expect(resolveNodeSettings({ nodeName: 'b', failover: 'fast', log, version: 'x' }, doc).failover).toBe('fast');
  });

  it('without a name: $NODE_NAME, else the host name, else the only document; defaults without any', () => {
    vi.stubEnv('NODE_NAME', 'a');
    expect(resolveNodeSettings({ log, version: 'x' }, fleet(['a', 'b'])).node?.name).toBe('a');
    vi.stubEnv('NODE_NAME', '');
    expect(resolveNodeSettings({ log, version: 'x' }, fleet([hostname(), 'b'])).node?.name).toBe(hostname());
    expect(resolveNodeSettings({ log, version: 'x' }, fleet(['only'])).name).toBe('only');
    const none = resolveNodeSettings({ log, version: 'x' }, fleet(['p', 'q']));
    expect(none).toMatchObject({
      node: undefined,
      name: hostname(),
      announce: 'dry-run',
      dataPath: 'none',
      statusAddress: '127.0.0.1:7472',
    });
  });
});
