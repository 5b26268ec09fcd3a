import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import { loadKubeClient } from './kube-client.js';
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

/** The HTTP status of an API error, when it has one. */
export function statusCodeOf(err: unknown): number | undefined {
  // ApiException carries `code`; the watch's errors carry `statusCode`.
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return typeof e?.code === 'number' ? e.code : undefined;
}

/** A {@link ServiceWriteApi} over `@kubernetes/client-node`'s `CoreV1Api` (merge patches, `application/merge-patch+json`). */
export async function coreV1WriteApi(kubeConfig: KubeConfig): Promise<ServiceWriteApi> {
  const k8s = await loadKubeClient();
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  return {
    patchServiceStatus: async (namespace, name, body) =>
      toPlain(await core.patchNamespacedServiceStatus({ namespace, name, body }, merge)) as KubeObject,
    patchService: async (namespace, name, body) =>
      toPlain(await core.patchNamespacedService({ namespace, name, body }, merge)) as KubeObject,
    readService: async (namespace, name) => {
      try {
        return toPlain(await core.readNamespacedService({ namespace, name })) as KubeObject;
      } catch (err) {
        if (statusCodeOf(err) === 404) return undefined;
        throw err;
      }
    },
    createEvent: async (namespace, body) => {
      await core.createNamespacedEvent({ namespace, body });
    },
  };
}
