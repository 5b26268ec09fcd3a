import { describe, expect, it } from 'vitest';
import type { IPAddressPool, ServiceResource } from '../src/index.js';
import { ServiceController } from '../src/index.js';

const pool = (name: string, addresses: string[], extra: Partial<IPAddressPool> = {}): IPAddressPool => ({
  name,
  labels: {},
  addresses,
  autoAssign: true,
  avoidBuggyIPs: false,
  ...extra,
});

const svc = (name: string, extra: Partial<ServiceResource> = {}): ServiceResource => ({
  key: `demo/${name}`,
  namespace: 'demo',
  name,
  labels: {},
  annotations: {},
  type: 'LoadBalancer',
  clusterIPs: ['198.51.100.1'],
  ipFamilyPolicy: 'SingleStack',
  ipFamilies: [],
  ports: [{ protocol: 'TCP', port: 80 }],
  selector: { app: name },
  externalTrafficPolicy: 'Cluster',
  ...extra,
});

function controller(...pools: IPAddressPool[]) {
  const c = new ServiceController();
  c.setPools(pools);
  return c;
}

describe('ServiceController.converge', () => {
  it('allocates the lowest free address and reports IPAllocated with the pool', () => {
    const c = controller(pool('a', ['192.0.2.0/30']));
    expect(c.converge(svc('one'), [])).toEqual({
      ips: ['192.0.2.0'],
      pool: 'a',
      events: [{ type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP ["192.0.2.0"]' }],
      reprocessAll: false,
    });
    expect(c.converge(svc('two'), []).ips).toEqual(['192.0.2.1']);
  });

  it('re-claims the IP in the status (restart) without a new event', () => {
    const c = controller(pool('a', ['192.0.2.0/30']));
    const r = c.converge(svc('one'), ['192.0.2.3']);
    expect(r.ips).toEqual(['192.0.2.3']);
    expect(r.events).toEqual([]);
  });

  it('clears an IP the configuration no longer allows, then re-allocates (ClearAssignment)', () => {
    const c = controller(pool('a', ['192.0.2.0/30']));
    const r = c.converge(svc('one'), ['203.0.113.7']);
    expect(r.ips).toEqual(['192.0.2.0']);
    expect(r.events.map((e) => e.reason)).toEqual(['ClearAssignment', 'IPAllocated']);
    expect(r.events[0]?.message).toBe(
      'current IP for "demo/one" not allowed by config, will attempt for new IP assignment: ["203.0.113.7"] is not allowed in config',
    );
  });

  it('honours requested IPs and the address-pool annotation, old prefix as fallback', () => {
    const c = controller(pool('a', ['192.0.2.0/30']), pool('b', ['203.0.113.0/30']));
    expect(c.converge(svc('req', { annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.2' } }), []).ips).toEqual([
      '192.0.2.2',
    ]);
    expect(c.converge(svc('legacy', { annotations: { 'metallb.universe.tf/address-pool': 'b' } }), [])).toMatchObject({
      ips: ['203.0.113.0'],
      pool: 'b',
    });
    const moved = c.converge(svc('req', { annotations: { 'metallb.io/address-pool': 'b' } }), ['192.0.2.2']);
    expect(moved).toMatchObject({ ips: ['203.0.113.1'], pool: 'b' });
  });

  it('rejects both loadBalancerIPs and spec.loadBalancerIP (LoadBalancerFailed)', () => {
    const c = controller(pool('a', ['192.0.2.0/30']));
    const r = c.converge(
      svc('x', { annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.1' }, loadBalancerIP: '192.0.2.2' }),
      [],
    );
    expect(r.ips).toEqual([]);
    expect(r.events[0]).toMatchObject({ type: 'Warning', reason: 'LoadBalancerFailed' });
  });

  it('reports AllocationFailed with MetalLB text when the pools are exhausted', () => {
    const c = controller(pool('a', ['192.0.2.7/32']));
    c.converge(svc('one'), []);
    expect(c.converge(svc('two'), []).events).toEqual([
      {
        type: 'Warning',
        reason: 'AllocationFailed',
        message: 'Failed to allocate IP for "demo/two": no available IPs',
      },
    ]);
  });

  it('shares an IP under one sharing key with disjoint ports', () => {
    const c = controller(pool('a', ['192.0.2.0/30']));
    const shared = { annotations: { 'metallb.io/allow-shared-ip': 'k' } };
    const tcp = c.converge(svc('tcp', { ...shared, ports: [{ protocol: 'TCP', port: 53 }] }), []);
    const udp = c.converge(svc('udp', { ...shared, ports: [{ protocol: 'UDP', port: 53 }] }), []);
    expect(udp.ips).toEqual(tcp.ips);
  });

  it('gives PreferDualStack services one IP per family, [v4, v6], and RequireDualStack needs two ClusterIPs', () => {
    const c = controller(pool('a', ['192.0.2.0/30', '2001:db8::/126']));
    const dual = { clusterIPs: ['198.51.100.1', '2001:db8:96::1'], ipFamilyPolicy: 'PreferDualStack' as const };
    expect(c.converge(svc('d', dual), []).ips).toEqual(['192.0.2.0', '2001:db8::']);
    const r = c.converge(svc('r', { ipFamilyPolicy: 'RequireDualStack' }), []);
    expect(r.events[0]?.reason).toBe('not enough clusterips');
  });

  it('clears services that are not LoadBalancer and asks to reprocess when an IP was released', () => {
    const c = controller(pool('a', ['192.0.2.0/30']));
    c.converge(svc('one'), []);
    expect(c.converge(svc('one', { type: 'ClusterIP' }), ['192.0.2.0'])).toMatchObject({ ips: [], reprocessAll: true });
    expect(c.delete('demo/one')).toBe(false);
  });
});
