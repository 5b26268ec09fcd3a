import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import { handlesClass, type KubeObject, nodeCandidate, ServingEndpoints } from '../../src/kubernetes/kube-objects.js';
import { POOL_ANNOTATION, writeServiceState } from '../../src/kubernetes/service-status-writer.js';
import type { ServiceWriteApi } from '../../src/kubernetes/service-write-api.js';
import { speakerConfig } from '../../src/kubernetes/speaker-config.js';

const CONFIG = (() => {
  const r = parseConfig(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: p }
spec:
  addresses: [192.0.2.0/28, 2001:db8::/124]
  serviceAllocation: { namespaces: [only-here] }
`);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
})();

function svc(spec: Record<string, unknown>, ips: string[], annotations: Record<string, string> = {}): KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default', resourceVersion: '7', annotations },
    spec: { type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 80 }], ...spec },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  };
}

describe('speakerConfig', () => {
  it('turns status IPs into the only request, drops pool pinning, and leaves out services without IPs', () => {
    const held = svc({ clusterIPs: ['198.51.100.1'], loadBalancerIP: '192.0.2.9' }, ['192.0.2.3'], {
      'metallb.io/address-pool': 'elsewhere',
      'metallb.universe.tf/loadBalancerIPs': '192.0.2.9',
      'metallb.io/allow-shared-ip': 'k',
    });
    const pending: KubeObject = { ...svc({ clusterIPs: ['198.51.100.2'] }, []), metadata: { name: 'p' } };
    const out = speakerConfig(CONFIG, [held, pending]);
    expect(out.services).toHaveLength(1);
    expect(out.services[0]?.annotations).toEqual({
      'metallb.io/allow-shared-ip': 'k',
      'metallb.io/loadBalancerIPs': '192.0.2.3',
    });
    expect(out.services[0]?.loadBalancerIP).toBeUndefined();
    expect(out.pools[0]?.serviceAllocation).toBeUndefined();
    expect(CONFIG.pools[0]?.serviceAllocation).toBeDefined();
  });

  it('narrows a PreferDualStack service that holds one IP to that family, so the speaker never adds one', () => {
    const dual = svc({ clusterIPs: ['198.51.100.1', '2001:db8:1::1'], ipFamilyPolicy: 'PreferDualStack' }, [
      '192.0.2.4',
    ]);
    const out = speakerConfig(CONFIG, [dual]);
    expect(out.services[0]).toMatchObject({ clusterIPs: ['198.51.100.1'], ipFamilyPolicy: 'SingleStack' });
    const both = speakerConfig(CONFIG, [
      svc({ clusterIPs: ['198.51.100.1', '2001:db8:1::1'], ipFamilyPolicy: 'PreferDualStack' }, [
        '192.0.2.4',
        '2001:db8::4',
      ]),
    ]);
    expect(both.services[0]).toMatchObject({ ipFamilyPolicy: 'PreferDualStack' });
    expect(both.services[0]?.clusterIPs).toHaveLength(2);
  });

  it('gives externalTrafficPolicy: Local services the nodes of their serving endpoints', () => {
    const serving = { has: () => true, nodesOf: () => ['node-b'] };
    const local = svc({ clusterIPs: ['198.51.100.1'], externalTrafficPolicy: 'Local' }, ['192.0.2.5']);
    const cluster = svc({ clusterIPs: ['198.51.100.2'] }, ['192.0.2.6']);
    const out = speakerConfig(CONFIG, [local, { ...cluster, metadata: { name: 'c', namespace: 'ns' } }], { serving });
    expect(out.services.map((s) => s.endpointNodes)).toEqual([['node-b'], undefined]);
  });

  it('leaves out a service whose IP lies in no pool (the controller has yet to move it)', () => {
    const stray = svc({ clusterIPs: ['198.51.100.1'] }, ['203.0.113.9']);
    expect(speakerConfig(CONFIG, [stray]).services).toHaveLength(0);
  });

  it('filters by loadBalancerClass', () => {
    const classy = svc({ clusterIPs: ['198.51.100.1'], loadBalancerClass: 'x/y' }, ['192.0.2.5']);
    expect(speakerConfig(CONFIG, [classy]).services).toHaveLength(0);
    expect(speakerConfig(CONFIG, [classy], { loadBalancerClass: 'x/y' }).services).toHaveLength(1);
    expect(handlesClass(classy, undefined)).toBe(false);
    expect(handlesClass(svc({}, []), '')).toBe(true);
  });
});

describe('nodeCandidate', () => {
  it('drops nodes whose network is unavailable and can ignore the exclude label', () => {
    const excluded = {
      metadata: { name: 'n', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } },
    };
    expect(nodeCandidate(excluded)?.labels).toHaveProperty(['node.kubernetes.io/exclude-from-external-load-balancers']);
    expect(nodeCandidate(excluded, { ignoreExcludeLabel: true })).toEqual({ name: 'n', labels: {} });
    const down = { metadata: { name: 'd' }, status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }] } };
    expect(nodeCandidate(down)).toBeUndefined();
    const up = { metadata: { name: 'u' }, status: { conditions: [{ type: 'NetworkUnavailable', status: 'False' }] } };
    expect(nodeCandidate(up)).toEqual({ name: 'u', labels: {} });
  });

  it('drops out-of-service nodes, and not-Ready nodes when asked (no memberlist to notice them)', () => {
    const shutDown = {
      metadata: { name: 's' },
      spec: { taints: [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }] },
    };
    expect(nodeCandidate(shutDown)).toBeUndefined();
    const notReady = { metadata: { name: 'r' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } };
    expect(nodeCandidate(notReady)).toEqual({ name: 'r', labels: {} });
    expect(nodeCandidate(notReady, { requireReady: true })).toBeUndefined();
    const ready = { metadata: { name: 'r' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    expect(nodeCandidate(ready, { requireReady: true })).toEqual({ name: 'r', labels: {} });
  });
});

describe('writeServiceState', () => {
  function recordingApi(current: KubeObject | undefined) {
    const calls: { op: string; patch?: unknown }[] = [];
    const api: ServiceWriteApi = {
      patchServiceStatus: async (_ns, _n, patch) => {
        calls.push({ op: 'status', patch });
        return { ...(current as KubeObject), status: (patch as { status: unknown }).status };
      },
      patchService: async (_ns, _n, patch) => {
        calls.push({ op: 'service', patch });
        return current as KubeObject;
      },
      readService: async () => current,
      createEvent: async () => {},
    };
    return { api, calls };
  }

  it('writes nothing when status and annotation already match', async () => {
    const s = svc({}, ['192.0.2.1'], { [POOL_ANNOTATION]: 'p' });
    const { api, calls } = recordingApi(s);
    const r = await writeServiceState(api, s, { ips: ['192.0.2.1'], pool: 'p' });
    expect(r).toEqual({
      statusWritten: false,
      annotationWritten: false,
      conflicts: 0,
      gone: false,
      resourceVersions: [],
    });
    expect(calls).toEqual([]);
  });

  it('keeps the other fields of kept ingress entries, and clears with null', async () => {
    const s: KubeObject = {
      metadata: { name: 'web', namespace: 'default', resourceVersion: '9', annotations: { [POOL_ANNOTATION]: 'p' } },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'Proxy' }] } },
    };
    const { api, calls } = recordingApi(s);
    await writeServiceState(api, s, { ips: ['192.0.2.1', '2001:db8::1'], pool: 'p' });
    expect(calls[0]?.patch).toEqual({
      metadata: { resourceVersion: '9' },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'Proxy' }, { ip: '2001:db8::1' }] } },
    });
    const cleared = recordingApi(s);
    await writeServiceState(cleared.api, s, { ips: [] });
    // This API drops metadata sent with the status: the annotation gets a patch of its own.
    expect(cleared.calls.map((c) => c.patch)).toEqual([
      {
        metadata: { resourceVersion: '9', annotations: { [POOL_ANNOTATION]: null } },
        status: { loadBalancer: { ingress: null } },
      },
      { metadata: { annotations: { [POOL_ANNOTATION]: null } } },
    ]);
  });

  it('writes status and pool annotation in one status patch when the server keeps metadata (as kube-apiserver does)', async () => {
    const s = svc({}, []);
    const calls: string[] = [];
    const keeping: ServiceWriteApi = {
      patchServiceStatus: async (_ns, _n, patch) => {
        calls.push('status');
        const p = patch as { metadata: { annotations?: Record<string, string> }; status: unknown };
        return {
          ...s,
          metadata: { ...s.metadata, resourceVersion: '10', annotations: { ...p.metadata.annotations } },
          status: p.status,
        } as KubeObject;
      },
      patchService: async () => {
        calls.push('service');
        return s;
      },
      readService: async () => s,
      createEvent: async () => {},
    };
    const r = await writeServiceState(keeping, s, { ips: ['192.0.2.1'], pool: 'p' });
    expect(calls).toEqual(['status']);
    expect(r).toMatchObject({ statusWritten: true, annotationWritten: true, resourceVersions: ['10'] });
  });

  it('stops when the service disappears during a conflict, and gives up after the attempts with the error', async () => {
    const s = svc({}, []);
    const conflict = Object.assign(new Error('conflict'), { code: 409 });
    const gone: ServiceWriteApi = {
      patchServiceStatus: async () => {
        throw conflict;
      },
      patchService: async () => s,
      readService: async () => undefined,
      createEvent: async () => {},
    };
    expect(await writeServiceState(gone, s, { ips: ['192.0.2.1'] }, { retry: { initialMs: 1 } })).toMatchObject({
      gone: true,
      conflicts: 1,
    });
    const stubborn: ServiceWriteApi = { ...gone, readService: async () => s };
    await expect(
      writeServiceState(stubborn, s, { ips: ['192.0.2.1'] }, { retry: { initialMs: 1 }, attempts: 3 }),
    ).rejects.toBe(conflict);
  });
});

describe('ServingEndpoints', () => {
  const slice = (name: string, service: string, conditions: Record<string, boolean | null>[]): KubeObject =>
    ({
      metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': service } },
      endpoints: conditions.map((c) => ({ addresses: ['198.51.100.1'], conditions: c })),
    }) as KubeObject;

  it('reports a Service flipping only when its first serving slice appears or its last one goes', () => {
    const s = new ServingEndpoints();
    expect(s.update(slice('a', 'web', [{ ready: false, serving: false }]))).toEqual([]);
    expect(s.has('ns/web')).toBe(false);
    expect(s.update(slice('a', 'web', [{ ready: null }]))).toEqual(['ns/web']);
    expect(s.update(slice('b', 'web', [{ ready: false, serving: true }]))).toEqual([]);
    expect(s.update(slice('a', 'web', []), true)).toEqual([]);
    expect(s.has('ns/web')).toBe(true);
    expect(s.update(slice('b', 'web', [{ ready: false, serving: false }]))).toEqual(['ns/web']);
    expect(s.has('ns/web')).toBe(false);
    // A slice moving to another Service (label change) flips both.
    s.update(slice('c', 'one', [{ ready: true }]));
    expect(s.update(slice('c', 'two', [{ ready: true }])).sort()).toEqual(['ns/one', 'ns/two']);
    expect(s.update(slice('x', '', [{ ready: true }]))).toEqual([]);
  });

  it('tracks the nodes of serving endpoints and reports a Service when they change', () => {
    const s = new ServingEndpoints();
    const onNodes = (name: string, nodes: [string, boolean][]): KubeObject =>
      ({
        metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } },
        endpoints: nodes.map(([nodeName, ready]) => ({ addresses: ['198.51.100.1'], nodeName, conditions: { ready } })),
      }) as KubeObject;
    expect(
      s.update(
        onNodes('a', [
          ['n1', true],
          ['n2', false],
        ]),
      ),
    ).toEqual(['ns/web']);
    expect(s.nodesOf('ns/web')).toEqual(['n1']);
    expect(s.update(onNodes('b', [['n3', true]]))).toEqual(['ns/web']);
    expect(s.nodesOf('ns/web')).toEqual(['n1', 'n3']);
    expect(s.update(onNodes('b', [['n3', true]]))).toEqual([]);
    expect(s.update(onNodes('a', [['n2', true]]))).toEqual(['ns/web']);
    expect(s.nodesOf('ns/web')).toEqual(['n2', 'n3']);
    expect(s.update(onNodes('a', []), true)).toEqual(['ns/web']);
    expect(s.update(onNodes('b', []), true)).toEqual(['ns/web']);
    expect(s.has('ns/web')).toBe(false);
    expect(s.nodesOf('ns/web')).toEqual([]);
  });

  it('counts serving endpoints per node over all slices, and reports a Service when a count changes (weighted ECMP)', () => {
    const s = new ServingEndpoints();
    const onNodes = (name: string, nodes: [string, boolean][]): KubeObject =>
      ({
        metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } },
        endpoints: nodes.map(([nodeName, ready]) => ({ addresses: ['198.51.100.1'], nodeName, conditions: { ready } })),
      }) as KubeObject;
    s.update(
      onNodes('a', [
        ['n1', true],
        ['n1', true],
        ['n2', true],
        ['n2', false],
      ]),
    );
    expect(s.update(onNodes('b', [['n1', true]]))).toEqual(['ns/web']); // same nodes, n1's count changes
    expect(s.countsOf('ns/web')).toEqual({ n1: 3, n2: 1 });
    expect(s.update(onNodes('b', [['n1', true]]))).toEqual([]);
    expect(s.update(onNodes('b', []), true)).toEqual(['ns/web']);
    expect(s.countsOf('ns/web')).toEqual({ n1: 2, n2: 1 });
    expect(s.countsOf('ns/other')).toEqual({});
  });
});
