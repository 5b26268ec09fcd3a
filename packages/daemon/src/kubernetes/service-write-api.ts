import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import { type RetryTransientOptions, retryTransient, statusCodeOf } from './backoff.js';
import { loadKubeClient, shareConnections } from './kube-client.js';
import { type KubeObject, toPlain } from './kube-objects.js';

/** The writes the controller makes to the API server (an interface so tests and other clients can stand in). */
export interface ServiceWriteApi {
  /** JSON merge patch of a Service's `status` subresource; returns the updated Service. */
  patchServiceStatus(namespace: string, name: string, patch: object): Promise<KubeObject>;
  /** JSON merge patch of a Service (metadata); returns the updated Service. */
  patchService(namespace: string, name: string, patch: object): Promise<KubeObject>;
  /** Reads a Service; undefined when it no longer exists. */
  readService(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Creates a core/v1 Event. */
  createEvent(namespace: string, event: CoreV1Event): Promise<void>;
}

/** True when an API error is `409 Conflict` (a resourceVersion precondition failed). */
export function isConflict(err: unknown): boolean {
  return statusCodeOf(err) === 409;
}

export { statusCodeOf };

/**
 * A {@link ServiceWriteApi} over `@kubernetes/client-node`'s `CoreV1Api` (merge patches, `application/merge-patch+json`),
 * on the kubeconfig's shared keep-alive connections ({@link shareConnections}). Each call is repeated after `429 Too
 * Many Requests` (waiting the `Retry-After` asked for) and after a `5xx` (backoff), a few times at most
 * ({@link retryTransient}); other errors are thrown at once.
 */
export async function coreV1WriteApi(
  kubeConfig: KubeConfig,
  retry: RetryTransientOptions = {},
): Promise<ServiceWriteApi> {
  const k8s = await loadKubeClient();
  const core = shareConnections(kubeConfig).makeApiClient(k8s.CoreV1Api);
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const call = <T>(fn: () => Promise<T>) => retryTransient(fn, retry);
  return {
    patchServiceStatus: async (namespace, name, body) =>
      toPlain(await call(() => core.patchNamespacedServiceStatus({ namespace, name, body }, merge))) as KubeObject,
    patchService: async (namespace, name, body) =>
      toPlain(await call(() => core.patchNamespacedService({ namespace, name, body }, merge))) as KubeObject,
    readService: async (namespace, name) => {
      try {
        return toPlain(await call(() => core.readNamespacedService({ namespace, name }))) as KubeObject;
      } catch (err) {
        if (statusCodeOf(err) === 404) return undefined;
        throw err;
      }
    },
    createEvent: async (namespace, body) => {
      await call(() => core.createNamespacedEvent({ namespace, body }));
    },
  };
}
