import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import { renderMetrics } from '../../src/metrics.js';
import { layer2Pool, services } from '../fixtures/config-documents.js';

const cfg = parseConfig(`${layer2Pool('192.0.2.10-192.0.2.20')}${services(['a', 'b', 'c'])}`);
if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));

function follower(layer2Announce: (ip: string) => void) {
  const logs: string[] = [];
  const daemon = new Daemon({
    nodeName: 'n1',
    log: createLogger({ write: (l) => logs.push(l) }),
    layer2: { announce: layer2Announce, withdraw: () => {} },
    bgp: { setPeers: () => {}, announce: () => {}, withdraw: () => {} },
    allocating: () => false,
  });
  return { daemon, logs };
}

describe('Daemon with assignments it did not compute', () => {
  it('never announces an IP outside its pool, and an IP that does not parse does not crash it', () => {
    const announced: string[] = [];
    const { daemon } = follower((ip) => announced.push(ip));
    daemon.applyConfig(cfg.config);
    daemon.setAssignments({
      'demo/a': { ips: ['not-an-ip'], pool: 'pool' },
      'demo/b': { ips: ['203.0.113.9'], pool: 'pool' },
      'demo/c': { ips: ['192.0.2.12'], pool: 'pool' },
    });
    expect(() => daemon.reconcile()).not.toThrow();
    expect(announced).toEqual(['192.0.2.12']);
  });

  it('reconcile never throws: a failure is logged and counted', () => {
    const { daemon, logs } = follower(() => {
      throw new Error('backend exploded');
    });
    daemon.applyConfig(cfg.config);
    daemon.setAssignments({ 'demo/a': { ips: ['192.0.2.10'], pool: 'pool' } });
    expect(() => daemon.reconcile()).not.toThrow();
    expect(logs.join('\n')).toMatch(/"error":"backend exploded","msg":"reconcile failed"/);
    expect(renderMetrics(daemon.metrics())).toMatch(/^ingot_reconcile_errors_total 1$/m);
  });
});
