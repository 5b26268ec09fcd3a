import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { METALLB_RESOURCE_TYPES } from '../../src/kubernetes/kube-objects.js';
import { MEMBERLIST_SECRET } from '../../src/kubernetes/memberlist-secret.js';
import { CONVERSION_CRDS, WEBHOOK_CERT_SECRET, WEBHOOK_CONFIGURATION } from '../../src/kubernetes/webhook-tls.js';
import { type Manifest, readManifests } from './manifests.js';

const SRC = fileURLToPath(new URL('../../src/kubernetes/', import.meta.url));
const NAMESPACE = 'metallb-system';
type Role = 'controller' | 'speaker';

/**
 * What each `@kubernetes/client-node` call in src/kubernetes needs, keyed `file#method`, and which process makes it.
 * `namespaced` calls are granted by a Role in MetalLB's namespace, the others by a ClusterRole. A list fed to an
 * informer needs watch too.
 */
interface Use {
  group: string;
  resources: readonly string[];
  verbs: readonly string[];
  namespaced: boolean;
  roles: readonly Role[];
  /** resourceNames the rule is limited to (none: every object). */
  names?: readonly string[];
}
const CONFIG_PLURALS = METALLB_RESOURCE_TYPES.map((t) => t.plural);
const BOTH: Role[] = ['controller', 'speaker'];
const USES: Record<string, Use> = {
  'cluster-watch.ts#listNamespacedCustomObject': {
    group: 'metallb.io',
    resources: CONFIG_PLURALS,
    verbs: ['list', 'watch'],
    namespaced: true,
    roles: BOTH,
  },
  'cluster-watch.ts#listServiceForAllNamespaces': {
    group: '',
    resources: ['services'],
    verbs: ['list', 'watch'],
    namespaced: false,
    roles: BOTH,
  },
  'cluster-watch.ts#listNode': {
    group: '',
    resources: ['nodes'],
    verbs: ['list', 'watch'],
    namespaced: false,
    roles: BOTH,
  },
  'cluster-watch.ts#listNamespace': {
    group: '',
    resources: ['namespaces'],
    verbs: ['list', 'watch'],
    namespaced: false,
    roles: ['controller'],
  },
  'cluster-watch.ts#listEndpointSliceForAllNamespaces': {
    group: 'discovery.k8s.io',
    resources: ['endpointslices'],
    verbs: ['list', 'watch'],
    namespaced: false,
    roles: ['speaker'],
  },
  'cluster-watch.ts#listNamespacedSecret': {
    group: '',
    resources: ['secrets'],
    verbs: ['list', 'watch'],
    namespaced: true,
    roles: ['speaker'],
  },
  'service-write-api.ts#patchNamespacedServiceStatus': {
    group: '',
    resources: ['services/status'],
    verbs: ['patch'],
    namespaced: false,
    roles: ['controller'],
  },
  'service-write-api.ts#patchNamespacedService': {
    group: '',
    resources: ['services'],
    verbs: ['patch'],
    namespaced: false,
    roles: ['controller'],
  },
  'service-write-api.ts#readNamespacedService': {
    group: '',
    resources: ['services'],
    verbs: ['get'],
    namespaced: false,
    roles: ['controller'],
  },
  'service-write-api.ts#createNamespacedEvent': {
    group: '',
    resources: ['events'],
    verbs: ['create'],
    namespaced: false,
    roles: BOTH,
  },
  // The same Secret reads serve the webhook certificate and the memberlist Secret (memberlist-secret.ts).
  'webhook-tls.ts#readNamespacedSecret': {
    group: '',
    resources: ['secrets'],
    verbs: ['get'],
    namespaced: true,
    roles: ['controller'],
    names: [WEBHOOK_CERT_SECRET],
  },
  'webhook-tls.ts#readNamespacedSecret (memberlist)': {
    group: '',
    resources: ['secrets'],
    verbs: ['get'],
    namespaced: true,
    roles: ['controller'],
    names: [MEMBERLIST_SECRET],
  },
  'webhook-tls.ts#createNamespacedSecret': {
    group: '',
    resources: ['secrets'],
    verbs: ['create'],
    namespaced: true,
    roles: ['controller'],
  },
  'webhook-tls.ts#replaceNamespacedSecret': {
    group: '',
    resources: ['secrets'],
    verbs: ['update'],
    namespaced: true,
    roles: ['controller'],
    names: [WEBHOOK_CERT_SECRET],
  },
  'webhook-tls.ts#readValidatingWebhookConfiguration': {
    group: 'admissionregistration.k8s.io',
    resources: ['validatingwebhookconfigurations'],
    verbs: ['get'],
    namespaced: false,
    roles: ['controller'],
    names: [WEBHOOK_CONFIGURATION],
  },
  'webhook-tls.ts#patchValidatingWebhookConfiguration': {
    group: 'admissionregistration.k8s.io',
    resources: ['validatingwebhookconfigurations'],
    verbs: ['patch'],
    namespaced: false,
    roles: ['controller'],
    names: [WEBHOOK_CONFIGURATION],
  },
  'webhook-tls.ts#readCustomResourceDefinition': {
    group: 'apiextensions.k8s.io',
    resources: ['customresourcedefinitions'],
    verbs: ['get'],
    namespaced: false,
    roles: ['controller'],
    names: CONVERSION_CRDS,
  },
  'webhook-tls.ts#patchCustomResourceDefinition': {
    group: 'apiextensions.k8s.io',
    resources: ['customresourcedefinitions'],
    verbs: ['patch'],
    namespaced: false,
    roles: ['controller'],
    names: CONVERSION_CRDS,
  },
  'status-objects-api.ts#listNamespacedCustomObject': {
    group: 'metallb.io',
    resources: ['servicel2statuses', 'servicebgpstatuses'],
    verbs: ['list'],
    namespaced: true,
    roles: ['speaker'],
  },
  'status-objects-api.ts#createNamespacedCustomObject': {
    group: 'metallb.io',
    resources: ['servicel2statuses', 'servicebgpstatuses'],
    verbs: ['create'],
    namespaced: true,
    roles: ['speaker'],
  },
  'status-objects-api.ts#createNamespacedCustomObject (state)': {
    group: 'metallb.io',
    resources: ['configurationstates'],
    verbs: ['create'],
    namespaced: true,
    roles: BOTH,
  },
  'status-objects-api.ts#getNamespacedCustomObject': {
    group: 'metallb.io',
    resources: ['configurationstates'],
    verbs: ['get'],
    namespaced: true,
    roles: BOTH,
  },
  'status-objects-api.ts#patchNamespacedCustomObjectStatus': {
    group: 'metallb.io',
    resources: ['servicel2statuses/status', 'servicebgpstatuses/status'],
    verbs: ['patch'],
    namespaced: true,
    roles: ['speaker'],
  },
  'status-objects-api.ts#patchNamespacedCustomObjectStatus (state)': {
    group: 'metallb.io',
    resources: ['configurationstates/status'],
    verbs: ['patch'],
    namespaced: true,
    roles: BOTH,
  },
  'status-objects-api.ts#patchNamespacedCustomObjectStatus (pools)': {
    group: 'metallb.io',
    resources: ['ipaddresspools/status'],
    verbs: ['patch'],
    namespaced: true,
    roles: ['controller'],
  },
  'status-objects-api.ts#deleteNamespacedCustomObject': {
    group: 'metallb.io',
    resources: ['servicel2statuses', 'servicebgpstatuses'],
    verbs: ['delete'],
    namespaced: true,
    roles: ['speaker'],
  },
  'leader-election.ts#readNamespacedLease': {
    group: 'coordination.k8s.io',
    resources: ['leases'],
    verbs: ['get'],
    namespaced: true,
    roles: ['controller'],
  },
  'leader-election.ts#createNamespacedLease': {
    group: 'coordination.k8s.io',
    resources: ['leases'],
    verbs: ['create'],
    namespaced: true,
    roles: ['controller'],
  },
  'leader-election.ts#replaceNamespacedLease': {
    group: 'coordination.k8s.io',
    resources: ['leases'],
    verbs: ['update'],
    namespaced: true,
    roles: ['controller'],
  },
};

/** Every request method of every `@kubernetes/client-node` API class. */
function clientMethods(): Set<string> {
  const names = new Set<string>();
  for (const [exported, value] of Object.entries(k8s)) {
    if (!/Api$/.test(exported) || typeof value !== 'function') continue;
    for (const m of Object.getOwnPropertyNames((value as { prototype: object }).prototype))
      if (/^(list|read|get|create|patch|replace|delete|watch|connect)[A-Z]/.test(m))
        names.add(m.replace(/WithHttpInfo$/, ''));
  }
  return names;
}

/** `file#method` for every client call in src/kubernetes. */
function callsInCode(): Set<string> {
  const methods = clientMethods();
  const calls = new Set<string>();
  for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(SRC, file), 'utf8');
    for (const m of text.matchAll(/\.([a-zA-Z]+)(?:WithHttpInfo)?\(/g))
      if (methods.has(m[1] as string)) calls.add(`${file}#${m[1]}`);
  }
  return calls;
}

/** `scope group resource verb [names]` strings. */
function expand(u: Pick<Use, 'group' | 'resources' | 'verbs' | 'names'>, scope: string): string[] {
  const names = u.names && u.names.length > 0 ? ` [${[...u.names].sort().join(',')}]` : '';
  return u.resources.flatMap((r) => u.verbs.map((v) => `${scope} ${u.group || 'core'} ${r} ${v}${names}`));
}

function granted(objects: Manifest[], role: Role): string[] {
  const name = `ingot-${role}`;
  const bound = (kind: string) =>
    objects.some(
      (o) =>
        o.kind === `${kind}Binding` &&
        (o.roleRef as { kind: string; name: string }).kind === kind &&
        (o.roleRef as { name: string }).name === name &&
        (o.subjects as { kind: string; name: string; namespace: string }[]).some(
          (s) => s.kind === 'ServiceAccount' && s.name === name && s.namespace === NAMESPACE,
        ),
    );
  const rules = (kind: string) => {
    const obj = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!obj || !bound(kind)) return [];
    if (kind === 'Role') expect(obj.metadata.namespace).toBe(NAMESPACE);
    return (
      obj.rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]
    ).flatMap((r) =>
      r.apiGroups.flatMap((group) =>
        expand(
          { group, resources: r.resources, verbs: r.verbs, ...(r.resourceNames ? { names: r.resourceNames } : {}) },
          kind === 'Role' ? 'namespace' : 'cluster',
        ),
      ),
    );
  };
  return [...rules('ClusterRole'), ...rules('Role')].sort();
}

describe('deploy/rbac.yaml against the API calls in src/kubernetes', () => {
  const objects = readManifests('rbac.yaml');

  it('every client call in the code is accounted for (and nothing listed is gone from the code)', () => {
    expect(
      [...callsInCode()].sort(),
      'a client call changed: list it in USES here (resource, verbs, which role) and grant exactly that in deploy/rbac.yaml',
    ).toEqual([...new Set(Object.keys(USES).map((k) => k.split(' ')[0]))].sort());
  });

  it('has one ServiceAccount per role in the namespace', () => {
    expect(
      objects
        .filter((o) => o.kind === 'ServiceAccount')
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
        .sort(),
    ).toEqual([`${NAMESPACE}/ingot-controller`, `${NAMESPACE}/ingot-speaker`]);
  });

  for (const role of ['controller', 'speaker'] as const) {
    it(`ingot-${role}: every verb it uses is granted, and nothing else`, () => {
      const needed = new Set(
        Object.values(USES)
          .filter((u) => u.roles.includes(role))
          .flatMap((u) => expand(u, u.namespaced ? 'namespace' : 'cluster')),
      );
      const rules = granted(objects, role);
      expect(rules.length, 'a rule is granted twice').toBe(new Set(rules).size);
      expect(rules).toEqual([...needed].sort());
    });
  }

  it('grants no wildcard', () => {
    for (const o of objects.filter((x) => x.kind === 'Role' || x.kind === 'ClusterRole'))
      for (const r of o.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[])
        expect([...r.apiGroups, ...r.resources, ...r.verbs]).not.toContain('*');
  });
});
