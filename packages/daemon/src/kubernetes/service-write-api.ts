import type { CoreV1Event } from '@kubernetes/client-node';
import { type RetryTransientOptions, retryTransient, statusCodeOf } from './backoff.js';
import { type KubeEndpoint, KubeHttp, type KubeHttpOptions } from './kube-http.js';
import type { KubeObject } from './kube-objects.js';
import { rawCoreV1Api } from './kube-rest.js';

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
 * A {@link ServiceWriteApi} in plain JSON over {@link KubeHttp} (merge patches, `application/merge-patch+json`), on the
 * kubeconfig's shared keep-alive connections, at most `maxInFlight` requests at once. Each
 * call is repeated after `429 Too Many Requests` (waiting the `Retry-After` asked for) and after a `5xx` (backoff), a
 * few times at most ({@link retryTransient}); other errors are thrown at once.
 */
export async function coreV1WriteApi(
  kubeConfig: KubeEndpoint,
  retry: RetryTransientOptions = {},
  options: KubeHttpOptions = {},
): Promise<ServiceWriteApi> {
  const core = rawCoreV1Api(new KubeHttp(kubeConfig, options));
  const call = <T>(fn: () => Promise<T>) => retryTransient(fn, retry);
  return {
    patchServiceStatus: (namespace, name, body) =>
      call(() => core.patchNamespacedServiceStatus({ namespace, name, body })),
    patchService: (namespace, name, body) => call(() => core.patchNamespacedService({ namespace, name, body })),
    readService: async (namespace, name) => {
      try {
        return await call(() => core.readNamespacedService({ namespace, name }));
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
