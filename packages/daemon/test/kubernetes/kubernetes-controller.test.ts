import type { CoreV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import type { IngotConfig } from '../../src/config/resources.js';
import { ingressIps, type KubeObject, objectKey } from '../../src/kubernetes/kube-objects.js';
import { KubernetesController } from '../../src/kubernetes/kubernetes-controller.js';
import type { ServiceWriteApi } from '../../src/kubernetes/service-write-api.js';
import { createLogger } from '../../src/logger.js';

function config(addresses: string): IngotConfig {
  const r = parseConfig(
    `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: p }\nspec: { addresses: [${addresses}] }\n`,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

function svc(name: string, ips: string[] = [], extra: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name, namespace: 'default', resourceVersion: '1' },
    spec: { type: 'LoadBalancer', clusterIPs: ['198.51.100.1'], ports: [{ protocol: 'TCP', port: 80 }], ...extra },
    ...(ips.length > 0 ? { status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } } : {}),
  };
}

/** An in-memory API: patches apply to `objects`; `failures` upcoming status patches throw a 500. */
class MemoryApi implements ServiceWriteApi {
  readonly objects = new Map<string, KubeObject>();
  readonly events: CoreV1Event[] = [];
  statusPatches = 0;
  failures = 0;
  /** Called (and awaited) before each status patch is applied. */
  beforeStatusPatch: (name: string) => Promise<void> | void = () => {};

  private rv = 100;

  /** Stores an object as a user's write would: with a new resourceVersion. */
  add(obj: KubeObject): void {
    this.objects.set(objectKey(obj), { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }

  ips(name: string): string[] {
    const obj = this.objects.get(`default/${name}`);
    return obj ? ingressIps(obj) : [];
  }

  async patchServiceStatus(namespace: string, name: string, patch: object): Promise<KubeObject> {
    this.statusPatches++;
    await this.beforeStatusPatch(name);
    if (this.failures > 0) {
      this.failures--;
      throw Object.assign(new Error('internal error'), { code: 500 });
    }
    const obj = this.objects.get(`${namespace}/${name}`) as KubeObject;
    const next: KubeObject = {
      ...obj,
      metadata: { ...obj.metadata, resourceVersion: String(++this.rv) },
      status: (patch as { status: unknown }).status,
    };
    this.objects.set(`${namespace}/${name}`, next);
    return next;
  }

  async patchService(namespace: string, name: string, patch: object): Promise<KubeObject> {
    const obj = this.objects.get(`${namespace}/${name}`) as KubeObject;
    const annotations = (patch as { metadata: { annotations: Record<string, string | null> } }).metadata.annotations;
    const merged: Record<string, string> = { ...(obj.metadata?.annotations ?? {}) };
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    const next = { ...obj, metadata: { ...obj.metadata, annotations: merged, resourceVersion: String(++this.rv) } };
    this.objects.set(`${namespace}/${name}`, next);
    return next;
  }

  async readService(namespace: string, name: string): Promise<KubeObject | undefined> {
    return this.objects.get(`${namespace}/${name}`);
  }

  async createEvent(_namespace: string, event: CoreV1Event): Promise<void> {
    this.events.push(event);
  }
}

function controllerOver(api: MemoryApi, writeConcurrency?: number): KubernetesController {
  return new KubernetesController({
    ...(writeConcurrency ? { writeConcurrency } : {}),
    api,
    services: () => [...api.objects.values()],
    service: (key) => api.objects.get(key),
    log: createLogger({ write: () => {} }),
    retry: { initialMs: 5, maxMs: 20 },
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('KubernetesController', () => {
  it('touches nothing before a configuration, and ignores single-service changes until a full pass succeeded', async () => {
    const api = new MemoryApi();
    api.add(svc('a'));
    const c = controllerOver(api);
    c.serviceChanged(svc('a'));
    await c.idle();
    expect(api.statusPatches).toBe(0);
    expect(c.initialLoadPerformed).toBe(false);
    c.setConfig(config('192.0.2.1/32'));
    await c.idle();
    expect(api.ips('a')).toEqual(['192.0.2.1']);
    expect(c.initialLoadPerformed).toBe(true);
    c.close();
  });

  it('retries a failed full pass with backoff and stays in initial load until one pass is clean', async () => {
    const api = new MemoryApi();
    api.add(svc('a'));
    api.add(svc('b'));
    api.failures = 3;
    const c = controllerOver(api);
    c.setConfig(config('192.0.2.1/31'));
    await c.idle();
    expect(c.initialLoadPerformed).toBe(false);
    await until(() => c.initialLoadPerformed, 'a clean pass');
    expect([...api.ips('a'), ...api.ips('b')].sort()).toEqual(['192.0.2.0', '192.0.2.1']);
    expect(c.counters.updateErrors).toBe(3);
    c.close();
  });

  it('retries a failed write of a changed service although the object did not change since (no event to requeue it)', async () => {
    const api = new MemoryApi();
    const c = controllerOver(api);
    c.setConfig(config('192.0.2.1/32'));
    await c.idle();
    api.add(svc('late'));
    api.failures = 1; // e.g. the API server restarted: the kept-alive connection hangs up
    c.serviceChanged(api.objects.get('default/late') as KubeObject);
    await until(() => api.ips('late').length > 0, 'the retried status write');
    expect(api.ips('late')).toEqual(['192.0.2.1']);
    expect(c.counters.updateErrors).toBe(1);
    c.close();
  });

  it('converges a change that lands during the first full pass right after it (MetalLB would drop it)', async () => {
    const api = new MemoryApi();
    api.add(svc('a', ['192.0.2.1']));
    api.add(svc('b'));
    const c = controllerOver(api, 1);
    api.beforeStatusPatch = (name) => {
      if (name !== 'b') return;
      // While the pass writes b, a (already decided) stops being a LoadBalancer.
      const a = api.objects.get('default/a') as KubeObject;
      const changed = { ...a, spec: { ...(a.spec as object), type: 'ClusterIP' } };
      api.add(changed);
      c.serviceChanged(api.objects.get('default/a') as KubeObject);
    };
    c.setConfig(config('192.0.2.1/31'));
    await c.idle();
    expect(c.initialLoadPerformed).toBe(true);
    expect(api.ips('a')).toEqual([]);
    expect(api.ips('b')).toEqual(['192.0.2.0']);
    c.close();
  });

  it('writes statuses without waiting for Events, posts every Event in order, and idle() waits for them', async () => {
    const api = new MemoryApi();
    for (const n of ['a', 'b', 'c']) api.add(svc(n));
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const posted: string[] = [];
    api.createEvent = async (_ns, event) => {
      await gate;
      posted.push(`${event.involvedObject.name}:${event.reason}`);
    };
    const c = controllerOver(api);
    c.setConfig(config('192.0.2.0/30'));
    await until(() => ['a', 'b', 'c'].every((n) => api.ips(n).length === 1), 'every status written');
    expect(posted).toEqual([]);
    let idle = false;
    const waiting = c.idle().then(() => {
      idle = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(idle).toBe(false);
    release();
    await waiting;
    expect(posted).toEqual(['a:IPAllocated', 'b:IPAllocated', 'c:IPAllocated']);
    c.close();
  });

  it('posts each Event about the Service as it was decided (uid, resourceVersion), though the cache moved on', async () => {
    const api = new MemoryApi();
    api.add({ ...svc('a'), metadata: { name: 'a', namespace: 'default', uid: 'uid-a' } });
    const decidedRv = api.objects.get('default/a')?.metadata?.resourceVersion;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const posted: CoreV1Event[] = [];
    api.createEvent = async (_ns, event) => {
      await gate;
      posted.push(event);
    };
    const c = controllerOver(api);
    c.setConfig(config('192.0.2.1/32'));
    await until(() => api.ips('a').length === 1, 'the status written');
    // The cached object is now the one the status patch produced; the waiting Event still names the decided one.
    expect(api.objects.get('default/a')?.metadata?.resourceVersion).not.toBe(decidedRv);
    release();
    await c.idle();
    expect(posted.map((e) => e.involvedObject)).toEqual([
      { apiVersion: 'v1', kind: 'Service', name: 'a', namespace: 'default', uid: 'uid-a', resourceVersion: decidedRv },
    ]);
    expect(posted[0]?.metadata?.namespace).toBe('default');
    c.close();
  });

  it('decides each Service of a pass when it is written: one deleted meanwhile is neither allocated nor written', async () => {
    const api = new MemoryApi();
    for (const n of ['a', 'b', 'c']) api.add(svc(n));
    const c = controllerOver(api, 1);
    api.beforeStatusPatch = (name) => {
      if (name !== 'a') return;
      // Deleted while the pass writes 'a': the watch reports it and the cache no longer has it.
      const gone = api.objects.get('default/b') as KubeObject;
      api.objects.delete('default/b');
      c.serviceDeleted(gone);
    };
    c.setConfig(config('192.0.2.0/30'));
    await c.idle();
    expect(api.statusPatches).toBe(2);
    expect(c.controller.allocator.ipsOf('default/b')).toEqual([]);
    expect(c.controller.allocator.serviceKeys().sort()).toEqual(['default/a', 'default/c']);
    expect(c.counters.updateErrors).toBe(0);
    expect(c.initialLoadPerformed).toBe(true);
    c.close();
  });

  it('does not repeat an identical event for a service across passes', async () => {
    const api = new MemoryApi();
    api.add(svc('holder', ['192.0.2.1']));
    api.add(svc('pending'));
    const c = controllerOver(api);
    c.setConfig(config('192.0.2.1/32'));
    await c.idle();
    c.setConfig(config('192.0.2.1/32'));
    await c.idle();
    const reasons = api.events.map((e) => `${e.involvedObject.name}:${e.reason}`);
    expect(reasons).toEqual(['pending:AllocationFailed']);
    c.close();
  });

  it('releases the IPs of a service that leaves our loadBalancerClass, and a pending one takes them', async () => {
    const api = new MemoryApi();
    api.add(svc('holder', ['192.0.2.1']));
    api.add(svc('pending'));
    const c = controllerOver(api);
    c.setConfig(config('192.0.2.1/32'));
    await c.idle();
    expect(api.ips('pending')).toEqual([]);
    const moved = { ...(api.objects.get('default/holder') as KubeObject) };
    moved.spec = { ...(moved.spec as object), loadBalancerClass: 'example.com/other' };
    api.add(moved);
    c.serviceChanged(api.objects.get('default/holder') as KubeObject);
    await c.idle();
    expect(api.ips('pending')).toEqual(['192.0.2.1']);
    // The other class's service is not written by us.
    expect(api.ips('holder')).toEqual(['192.0.2.1']);
    c.close();
  });

  it('clears the status and the pool annotation of a service that stops being a LoadBalancer', async () => {
    const api = new MemoryApi();
    api.add(svc('web'));
    const c = controllerOver(api);
    c.setConfig(config('192.0.2.1/32'));
    await c.idle();
    expect(api.objects.get('default/web')?.metadata?.annotations).toEqual({ 'metallb.io/ip-allocated-from-pool': 'p' });
    const changed = { ...(api.objects.get('default/web') as KubeObject) };
    changed.spec = { ...(changed.spec as object), type: 'ClusterIP' };
    api.add(changed);
    c.serviceChanged(api.objects.get('default/web') as KubeObject);
    await c.idle();
    expect(api.ips('web')).toEqual([]);
    expect(api.objects.get('default/web')?.metadata?.annotations).toEqual({});
    expect(c.controller.allocator.ipsOf('default/web')).toEqual([]);
    c.close();
  });
});
