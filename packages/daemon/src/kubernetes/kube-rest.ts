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

/** A read that answers undefined for `404 Not Found`. */
export async function orUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/** `coordination.k8s.io/v1` Leases. */
export function rawCoordinationV1Api(client: KubeHttp) {
  const lease = (namespace: string, name?: string) =>
    `/apis/coordination.k8s.io/v1/namespaces/${enc(namespace)}/leases${name === undefined ? '' : `/${enc(name)}`}`;
  return {
    /** GET a Lease. */
    readNamespacedLease: (p: { namespace: string; name: string }) =>
      client.request<KubeObject>({ method: 'GET', path: lease(p.namespace, p.name) }),
    /** POST a Lease. */
    createNamespacedLease: (p: { namespace: string; body: object }) =>
      client.request<KubeObject>({ method: 'POST', path: lease(p.namespace), body: p.body }),
    /** PUT a Lease (its resourceVersion is the precondition). */
    replaceNamespacedLease: (p: { namespace: string; name: string; body: object }) =>
      client.request<KubeObject>({ method: 'PUT', path: lease(p.namespace, p.name), body: p.body }),
  };
}

/** Secrets (`core/v1`), for the webhook certificate. */
export function rawSecretsApi(client: KubeHttp) {
  const secret = (namespace: string, name?: string) =>
    `/api/v1/namespaces/${enc(namespace)}/secrets${name === undefined ? '' : `/${enc(name)}`}`;
  return {
    /** GET a Secret. */
    readNamespacedSecret: (p: { namespace: string; name: string }) =>
      client.request<KubeObject>({ method: 'GET', path: secret(p.namespace, p.name) }),
    /** POST a Secret. */
    createNamespacedSecret: (p: { namespace: string; body: object }) =>
      client.request<KubeObject>({ method: 'POST', path: secret(p.namespace), body: p.body }),
    /** PUT a Secret. */
    replaceNamespacedSecret: (p: { namespace: string; name: string; body: object }) =>
      client.request<KubeObject>({ method: 'PUT', path: secret(p.namespace, p.name), body: p.body }),
  };
}

/** `admissionregistration.k8s.io/v1` ValidatingWebhookConfigurations. */
export function rawAdmissionregistrationV1Api(client: KubeHttp) {
  const path = (name: string) => `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${enc(name)}`;
  return {
    /** GET a ValidatingWebhookConfiguration. */
    readValidatingWebhookConfiguration: (p: { name: string }) =>
      client.request<KubeObject>({ method: 'GET', path: path(p.name) }),
    /** Merge patch of a ValidatingWebhookConfiguration. */
    patchValidatingWebhookConfiguration: (p: { name: string; body: object }) =>
      client.request<KubeObject>({ method: 'PATCH', path: path(p.name), body: p.body, contentType: MERGE_PATCH }),
  };
}

/** `apiextensions.k8s.io/v1` CustomResourceDefinitions. */
export function rawApiextensionsV1Api(client: KubeHttp) {
  const path = (name: string) => `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${enc(name)}`;
  return {
    /** GET a CustomResourceDefinition. */
    readCustomResourceDefinition: (p: { name: string }) =>
      client.request<KubeObject>({ method: 'GET', path: path(p.name) }),
    /** Merge patch of a CustomResourceDefinition. */
    patchCustomResourceDefinition: (p: { name: string; body: object }) =>
      client.request<KubeObject>({ method: 'PATCH', path: path(p.name), body: p.body, contentType: MERGE_PATCH }),
  };
}

/** Custom objects of one kind (`metallb.io` status objects): reads, creates, status patches, deletes. */
export function rawCustomObjectsWriteApi(client: KubeHttp) {
  type Ref = { group: string; version: string; namespace: string; plural: string };
  const path = (p: Ref, name?: string) =>
    `/apis/${enc(p.group)}/${enc(p.version)}/namespaces/${enc(p.namespace)}/${enc(p.plural)}${name === undefined ? '' : `/${enc(name)}`}`;
  return {
    /** GET a list with a label selector. */
    listNamespacedCustomObject: (p: Ref & { labelSelector?: string }) =>
      client.request<KubeList>({ method: 'GET', path: path(p), query: { labelSelector: p.labelSelector } }),
    /** GET one object. */
    getNamespacedCustomObject: (p: Ref & { name: string }) =>
      client.request<KubeObject>({ method: 'GET', path: path(p, p.name) }),
    /** POST an object. */
    createNamespacedCustomObject: (p: Ref & { body: object }) =>
      client.request<KubeObject>({ method: 'POST', path: path(p), body: p.body }),
    /** Merge patch of the status subresource. */
    patchNamespacedCustomObjectStatus: (p: Ref & { name: string; body: object }) =>
      client.request<KubeObject>({
        method: 'PATCH',
        path: `${path(p, p.name)}/status`,
        body: p.body,
        contentType: MERGE_PATCH,
      }),
    /** DELETE an object. */
    deleteNamespacedCustomObject: (p: Ref & { name: string }) =>
      client.request<unknown>({ method: 'DELETE', path: path(p, p.name) }),
  };
}
