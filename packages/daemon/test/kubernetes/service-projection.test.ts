import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServiceObject } from '../../src/config/parse-config.js';
import { ClusterWatch } from '../../src/kubernetes/cluster-watch.js';
import { KubeAccess } from '../../src/kubernetes/kube-access.js';
import {
  handlesClass,
  ingressEntries,
  ingressIps,
  type KubeObject,
  objectKey,
} from '../../src/kubernetes/kube-objects.js';
import { LAST_APPLIED_ANNOTATION, projectService } from '../../src/kubernetes/service-projection.js';
import { POOL_ANNOTATION, writeServiceState } from '../../src/kubernetes/service-status-writer.js';
import type { ServiceWriteApi } from '../../src/kubernetes/service-write-api.js';
import { createLogger } from '../../src/logger.js';
import { FakeApiServer, type FakeObject } from './fake-api-server.js';

/** A Service as kube-apiserver 1.34 sends it (managedFields, server-set fields, a kubectl-applied copy). */
function apiServerService(): KubeObject & Record<string, unknown> {
  return {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: '0b2c5a1e-7f3d-4c1b-9a2e-000000000001',
      resourceVersion: '4711',
      creationTimestamp: '2026-12-07T17:23:01Z',
      labels: { app: 'web' },
      annotations: {
        'metallb.io/ip-allocated-from-pool': 'public',
        'metallb.io/allow-shared-ip': 'web',
        [LAST_APPLIED_ANNOTATION]: '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"}}',
      },
      finalizers: ['service.kubernetes.io/load-balancer-cleanup'],
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'x' }],
      managedFields: [
        {
          manager: 'kubectl',
          operation: 'Apply',
          apiVersion: 'v1',
          time: '2026-12-07T17:23:01Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { 'f:ports': {}, 'f:type': {} } },
        },
      ],
    } as KubeObject['metadata'],
    spec: {
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 31080, appProtocol: 'http' }],
      selector: { app: 'web' },
      clusterIP: '198.51.100.10',
      clusterIPs: ['198.51.100.10', '2001:db8:5::a'],
      type: 'LoadBalancer',
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'PreferDualStack',
      allocateLoadBalancerNodePorts: true,
      internalTrafficPolicy: 'Cluster',
      loadBalancerIP: '192.0.2.10',
      loadBalancerClass: 'ingot.dev/lb',
    },
    status: {
      loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }] },
      conditions: [{ type: 'LoadBalancerReady', status: 'True', lastTransitionTime: '2026-12-07T17:23:02Z' }],
    },
  };
}

describe('projectService', () => {
  it('keeps the fields Ingot reads and drops the rest', () => {
    expect(projectService(apiServerService())).toEqual({
      kind: 'Service',
      apiVersion: 'v1',
      metadata: {
        name: 'web',
        namespace: 'shop',
        uid: '0b2c5a1e-7f3d-4c1b-9a2e-000000000001',
        resourceVersion: '4711',
        labels: { app: 'web' },
        annotations: { 'metallb.io/ip-allocated-from-pool': 'public', 'metallb.io/allow-shared-ip': 'web' },
      },
      spec: {
        type: 'LoadBalancer',
        clusterIP: '198.51.100.10',
        clusterIPs: ['198.51.100.10', '2001:db8:5::a'],
        ipFamilyPolicy: 'PreferDualStack',
        ipFamilies: ['IPv4', 'IPv6'],
        externalTrafficPolicy: 'Local',
        loadBalancerIP: '192.0.2.10',
        loadBalancerClass: 'ingot.dev/lb',
        selector: { app: 'web' },
        ports: [{ protocol: 'TCP', port: 80 }],
      },
      status: {
        loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }] },
      },
    });
  });

  it('leaves absent fields absent, and does not change the object it was given', () => {
    const bare = { metadata: { name: 'a' } };
    expect(projectService(bare)).toEqual({ metadata: { name: 'a' } });
    const full = apiServerService();
    const before = JSON.stringify(full);
    projectService(full);
    expect(JSON.stringify(full)).toBe(before);
  });

  it('copies fields of the wrong type as they are, so parsing still reports them', () => {
    const bad = apiServerService();
    (bad.spec as Record<string, unknown>).clusterIPs = 'not-a-list';
    (bad.spec as Record<string, unknown>).ports = [{ protocol: 'TCP', port: 'eighty' }, 7];
    const parsed = parseServiceObject(projectService(bad));
    expect(parsed.ok).toBe(false);
    expect(parsed).toEqual(parseServiceObject(bad));
  });

  it('reads the same as the whole object for every reader (fast-check over Service-like objects)', () => {
    const text = fc.oneof(fc.constantFrom('', 'TCP', 'UDP', 'IPv4', 'IPv6', 'Local', 'None'), fc.string());
    const ip = fc.constantFrom('192.0.2.1', '198.51.100.7', '2001:db8::1', 'not-an-ip', '');
    const value = fc.oneof(text, ip, fc.integer(), fc.boolean(), fc.constant(null), fc.array(ip, { maxLength: 3 }));
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const record = <T>(arb: fc.Arbitrary<T>) =>
      fc.dictionary(
        fc.constantFrom('a', 'b', 'metallb.io/address-pool', 'ingot.dev/add-path', LAST_APPLIED_ANNOTATION),
        arb,
      );
    const service = fc.record(
      {
        metadata: fc.record(
          {
            name: fc.oneof(fc.constantFrom('web', 'db'), value),
            namespace: maybe(fc.constantFrom('default', 'shop')),
            uid: maybe(fc.uuid()),
            resourceVersion: maybe(fc.nat().map(String)),
            labels: maybe(record(text)),
            annotations: maybe(record(fc.oneof(text, value))),
            managedFields: maybe(fc.array(fc.object(), { maxLength: 2 })),
            creationTimestamp: maybe(fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
          },
          { requiredKeys: [] },
        ),
        spec: fc.oneof(
          fc.record(
            {
              type: maybe(fc.oneof(fc.constantFrom('LoadBalancer', 'ClusterIP'), value)),
              clusterIP: maybe(fc.oneof(ip, fc.constant('None'))),
              clusterIPs: maybe(fc.oneof(fc.array(ip, { maxLength: 2 }), value)),
              ipFamilyPolicy: maybe(fc.oneof(fc.constantFrom('SingleStack', 'PreferDualStack'), value)),
              ipFamilies: maybe(fc.oneof(fc.array(fc.constantFrom('IPv4', 'IPv6', 'IPv5')), value)),
              externalTrafficPolicy: maybe(fc.oneof(fc.constantFrom('Cluster', 'Local'), value)),
              loadBalancerIP: maybe(ip),
              loadBalancerClass: maybe(fc.oneof(fc.constantFrom('ingot.dev/lb', ''), value)),
              selector: maybe(fc.oneof(record(text), value)),
              ports: maybe(
                fc.oneof(
                  fc.array(
                    fc.oneof(
                      fc.record(
                        {
                          protocol: maybe(fc.constantFrom('TCP', 'UDP', 'SCTP')),
                          port: maybe(fc.oneof(fc.integer({ min: -1, max: 70_000 }), value)),
                          targetPort: maybe(fc.integer()),
                          nodePort: maybe(fc.integer()),
                          name: maybe(text),
                        },
                        { requiredKeys: [] },
                      ),
                      value,
                    ),
                    { maxLength: 3 },
                  ),
                  value,
                ),
              ),
              sessionAffinity: maybe(text),
            },
            { requiredKeys: [] },
          ),
          value,
        ),
        status: fc.oneof(
          fc.record(
            {
              loadBalancer: maybe(
                fc.record({ ingress: maybe(fc.oneof(fc.array(fc.record({ ip, ipMode: maybe(text) })), value)) }),
              ),
              conditions: maybe(fc.array(fc.object(), { maxLength: 2 })),
            },
            { requiredKeys: [] },
          ),
          value,
        ),
      },
      { requiredKeys: ['metadata'] },
    );
    fc.assert(
      fc.property(service, (raw) => {
        // kubectl's last-applied copy is dropped on purpose (as trimObject always did): the reference is the whole
        // object without it.
        const obj = structuredClone(raw) as KubeObject;
        if (obj.metadata?.annotations && typeof obj.metadata.annotations === 'object')
          delete obj.metadata.annotations[LAST_APPLIED_ANNOTATION];
        const slim = projectService(raw as KubeObject);
        expect(parseServiceObject({ ...slim, apiVersion: 'v1', kind: 'Service' })).toEqual(
          parseServiceObject({ ...obj, apiVersion: 'v1', kind: 'Service' }),
        );
        expect(objectKey(slim)).toEqual(objectKey(obj));
        expect(ingressIps(slim)).toEqual(ingressIps(obj));
        expect(ingressEntries(slim)).toEqual(ingressEntries(obj));
        for (const cls of [undefined, 'ingot.dev/lb']) expect(handlesClass(slim, cls)).toBe(handlesClass(obj, cls));
        expect(slim.metadata?.uid).toEqual(obj.metadata?.uid);
        expect(slim.metadata?.resourceVersion).toEqual(obj.metadata?.resourceVersion);
        expect(JSON.stringify(slim)).not.toContain('managedFields');
      }),
      { numRuns: 500 },
    );
  });
});

describe('status writes from a projected Service', () => {
  /** Answers status patches with whole objects (as the API server does); `conflicts` patches answer 409 first. */
  function api(conflicts: number) {
    const patches: Record<string, unknown>[] = [];
    let stored = apiServerService();
    const write: ServiceWriteApi = {
      async patchServiceStatus(_ns, _name, patch) {
        patches.push(patch as Record<string, unknown>);
        if (conflicts-- > 0) {
          // Someone else changed it meanwhile.
          stored = {
            ...stored,
            metadata: { ...stored.metadata, resourceVersion: String(Number(stored.metadata?.resourceVersion) + 1) },
          };
          throw Object.assign(new Error('conflict'), { statusCode: 409 });
        }
        const p = patch as { metadata: { annotations?: Record<string, string | null> }; status: unknown };
        stored = {
          ...stored,
          metadata: {
            ...stored.metadata,
            resourceVersion: String(Number(stored.metadata?.resourceVersion) + 1),
            annotations: { ...stored.metadata?.annotations, ...(p.metadata.annotations as Record<string, string>) },
          },
          status: p.status,
        };
        return stored;
      },
      async patchService() {
        throw new Error('not expected: the annotation rides with the status');
      },
      async readService() {
        return stored;
      },
      async createEvent() {},
    };
    return { write, patches, stored: () => stored };
  }

  it('patches from the projection: the resourceVersion it was read at, kept entries keep ipMode and ports', async () => {
    const { write, patches } = api(0);
    const slim = projectService(apiServerService());
    const r = await writeServiceState(write, slim, { ips: ['192.0.2.10', '192.0.2.11'], pool: 'other' });
    expect(r.statusWritten).toBe(true);
    expect(patches).toEqual([
      {
        metadata: { resourceVersion: '4711', annotations: { [POOL_ANNOTATION]: 'other' } },
        status: {
          loadBalancer: {
            ingress: [
              { ip: '192.0.2.10', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] },
              { ip: '192.0.2.11' },
            ],
          },
        },
      },
    ]);
    expect(r.resourceVersions).toEqual(['4712']);
  });

  it('after a 409 reads the Service again and patches with the fresh resourceVersion', async () => {
    const { write, patches } = api(1);
    const slim = projectService(apiServerService());
    const r = await writeServiceState(
      write,
      slim,
      { ips: ['192.0.2.11'], pool: 'public' },
      { retry: { initialMs: 1 } },
    );
    expect(r.conflicts).toBe(1);
    expect(patches.map((p) => (p.metadata as { resourceVersion: string }).resourceVersion)).toEqual(['4711', '4712']);
    expect(r.resourceVersions).toEqual(['4713']);
  });
});

describe('ClusterWatch caches Services as projections', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('from the paginated list and from watch events alike', async () => {
    const server = new FakeApiServer();
    const full = apiServerService();
    server.apply('services', full as FakeObject);
    for (let i = 0; i < 3; i++)
      server.apply('services', {
        ...(full as FakeObject),
        metadata: { ...(full.metadata as FakeObject['metadata']), name: `s${i}` },
      });
    const url = await server.start();
    cleanups.push(() => server.stop());
    const watch = new ClusterWatch({
      kubeConfig: new KubeAccess({ server: url, token: 't' }),
      namespace: 'metallb-system',
      log: createLogger({ write: () => {} }),
      listPageSize: 2,
    });
    cleanups.push(() => watch.stop());
    await watch.start();
    expect(watch.services()).toHaveLength(4);
    const listed = watch.service('shop', 'web');
    const shape = (o: KubeObject | undefined) => {
      // The fake sets its own uid and resourceVersion.
      const { resourceVersion: _rv, uid: _uid, ...meta } = o?.metadata ?? {};
      return { ...o, kind: undefined, apiVersion: undefined, metadata: meta };
    };
    expect(shape(listed)).toEqual(shape(projectService(full)));
    server.apply('services', {
      ...(full as FakeObject),
      metadata: { ...(full.metadata as FakeObject['metadata']), labels: { app: 'web', v: '2' } },
    });
    const deadline = Date.now() + 5_000;
    while (watch.service('shop', 'web')?.metadata?.labels?.v !== '2') {
      if (Date.now() > deadline) throw new Error('timed out waiting for the watch event');
      await new Promise((r) => setTimeout(r, 10));
    }
    const watched = watch.service('shop', 'web');
    expect(JSON.stringify(watched)).not.toMatch(
      /managedFields|targetPort|nodePort|last-applied|conditions|creationTimestamp/,
    );
    expect(watched?.spec).toEqual(projectService(full).spec);
  });
});
