import type { CoreV1Event } from '@kubernetes/client-node';
import { type KubeHttp, MERGE_PATCH } from './kube-http.js';
import type { KubeObject } from './kube-objects.js';

/**
 * The few API calls the daemon's hot paths make, over {@link KubeHttp} in plain JSON. Each is named and called as the
 * `@kubernetes/client-node` method of the same request (`test/deploy/rbac.test.ts` reads these names in the code
 * beside deploy/rbac.yaml), but answers the server's JSON as is: no typed model instances to build and copy.
 */

/** A list answer: its items and `metadata.resourceVersion` / `metadata.continue`. */
export interface KubeList {
  /** apiVersion of the list. */
  apiVersion?: string;
  /** kind of the list (`ServiceList`, ...). */
  kind?: string;
  /** The list's metadata: the snapshot's resourceVersion, and the token of the next page. */
  metadata?: { resourceVersion?: string; continue?: string };
  /** The objects of this page. */
  items?: KubeObject[];
}

/** One page of a list: `limit` objects from `_continue` (client-node's parameter names). */
export interface PageParams {
  /** Objects per page. */
  limit?: number;
  /** The previous page's `metadata.continue`. */
  _continue?: string;
}

const enc = encodeURIComponent;
const page = (p: PageParams) => ({ continue: p._continue, limit: p.limit });

/** `core/v1` reads and writes of Services, Events, Nodes, Namespaces and Secrets. */
export function rawCoreV1Api(client: KubeHttp) {
  const get = <T>(path: string, query?: Record<string, string | number | undefined>) =>
    client.request<T>({ method: 'GET', path, ...(query ? { query } : {}) });
  const service = (namespace: string, name: string) => `/api/v1/namespaces/${enc(namespace)}/services/${enc(name)}`;
  return {
    /** GET /api/v1/services (every namespace). */
    listServiceForAllNamespaces: (p: PageParams) => get<KubeList>('/api/v1/services', page(p)),
    /** GET /api/v1/nodes. */
    listNode: (p: PageParams) => get<KubeList>('/api/v1/nodes', page(p)),
    /** GET /api/v1/namespaces. */
    listNamespace: (p: PageParams) => get<KubeList>('/api/v1/namespaces', page(p)),
    /** GET /api/v1/namespaces/{namespace}/secrets. */
    listNamespacedSecret: (p: PageParams & { namespace: string }) =>
      get<KubeList>(`/api/v1/namespaces/${enc(p.namespace)}/secrets`, page(p)),
    /** GET a Service. */
    readNamespacedService: (p: { namespace: string; name: string }) => get<KubeObject>(service(p.namespace, p.name)),
    /** Merge patch of a Service's status subresource. */
    patchNamespacedServiceStatus: (p: { namespace: string; name: string; body: object }) =>
      client.request<KubeObject>({
        method: 'PATCH',
        path: `${service(p.namespace, p.name)}/status`,
        body: p.body,
        contentType: MERGE_PATCH,
      }),
    /** Merge patch of a Service. */
    patchNamespacedService: (p: { namespace: string; name: string; body: object }) =>
      client.request<KubeObject>({
        method: 'PATCH',
        path: service(p.namespace, p.name),
        body: p.body,
        contentType: MERGE_PATCH,
      }),
    /** POST an Event. */
    createNamespacedEvent: (p: { namespace: string; body: CoreV1Event }) =>
      client.request<unknown>({ method: 'POST', path: `/api/v1/namespaces/${enc(p.namespace)}/events`, body: p.body }),
  };
}

/** `discovery.k8s.io/v1` EndpointSlices. */
export function rawDiscoveryV1Api(client: KubeHttp) {
  return {
    /** GET /apis/discovery.k8s.io/v1/endpointslices (every namespace). */
    listEndpointSliceForAllNamespaces: (p: PageParams) =>
      client.request<KubeList>({ method: 'GET', path: '/apis/discovery.k8s.io/v1/endpointslices', query: page(p) }),
  };
}

/** Custom resources (MetalLB's CRs). */
export function rawCustomObjectsApi(client: KubeHttp) {
  return {
    /** GET /apis/{group}/{version}/namespaces/{namespace}/{plural}. */
    listNamespacedCustomObject: (
      p: PageParams & { group: string; version: string; namespace: string; plural: string },
    ) =>
      client.request<KubeList>({
        method: 'GET',
        path: `/apis/${enc(p.group)}/${enc(p.version)}/namespaces/${enc(p.namespace)}/${enc(p.plural)}`,
        query: page(p),
      }),
  };
}
