import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeClient } from './kube-client.js';
import { type KubeObject, toPlain } from './kube-objects.js';
import { statusCodeOf } from './service-write-api.js';

/** The `metallb.io/v1beta1` objects Ingot writes status to. */
export type StatusPlural = 'servicel2statuses' | 'servicebgpstatuses' | 'configurationstates' | 'ipaddresspools';

/** Reads and writes of `metallb.io/v1beta1` status objects in one namespace (an interface so tests can stand in). */
export interface StatusObjectApi {
  /** Objects of a kind with these labels (`key=value,...`). */
  list(plural: StatusPlural, labelSelector: string): Promise<KubeObject[]>;
  /** One object, or undefined. */
  get(plural: StatusPlural, name: string): Promise<KubeObject | undefined>;
  /** Creates an object (`metadata.generateName` or `name`); returns it with its server-given name. */
  create(plural: StatusPlural, obj: KubeObject): Promise<KubeObject>;
  /** JSON merge patch of the `status` subresource. */
  patchStatus(plural: StatusPlural, name: string, status: unknown): Promise<void>;
  /** Deletes an object (a missing one is not an error). */
  delete(plural: StatusPlural, name: string): Promise<void>;
}

/** A {@link StatusObjectApi} over `@kubernetes/client-node`'s `CustomObjectsApi`. */
export async function customObjectStatusApi(kubeConfig: KubeConfig, namespace: string): Promise<StatusObjectApi> {
  const k8s = await loadKubeClient();
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const ref = (plural: StatusPlural) => ({ group: 'metallb.io', version: 'v1beta1', namespace, plural });
  return {
    list: async (plural, labelSelector) =>
      ((toPlain(await custom.listNamespacedCustomObject({ ...ref(plural), labelSelector })) as { items?: KubeObject[] })
        .items ?? []) as KubeObject[],
    get: async (plural, name) => {
      try {
        return toPlain(await custom.getNamespacedCustomObject({ ...ref(plural), name })) as KubeObject;
      } catch (err) {
        if (statusCodeOf(err) === 404) return undefined;
        throw err;
      }
    },
    create: async (plural, body) =>
      toPlain(await custom.createNamespacedCustomObject({ ...ref(plural), body })) as KubeObject,
    patchStatus: async (plural, name, status) => {
      await custom.patchNamespacedCustomObjectStatus({ ...ref(plural), name, body: { status } }, merge);
    },
    delete: async (plural, name) => {
      try {
        await custom.deleteNamespacedCustomObject({ ...ref(plural), name });
      } catch (err) {
        if (statusCodeOf(err) !== 404) throw err;
      }
    },
  };
}
