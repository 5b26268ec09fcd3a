import { type KubeEndpoint, KubeHttp } from './kube-http.js';
import type { KubeObject } from './kube-objects.js';
import { orUndefined, rawCustomObjectsWriteApi } from './kube-rest.js';
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

/** A {@link StatusObjectApi} in plain JSON over {@link KubeHttp}. */
export async function customObjectStatusApi(kubeConfig: KubeEndpoint, namespace: string): Promise<StatusObjectApi> {
  const custom = rawCustomObjectsWriteApi(new KubeHttp(kubeConfig));
  const ref = (plural: StatusPlural) => ({ group: 'metallb.io', version: 'v1beta1', namespace, plural });
  return {
    list: async (plural, labelSelector) =>
      (await custom.listNamespacedCustomObject({ ...ref(plural), labelSelector })).items ?? [],
    get: (plural, name) => orUndefined(() => custom.getNamespacedCustomObject({ ...ref(plural), name })),
    create: (plural, body) => custom.createNamespacedCustomObject({ ...ref(plural), body }),
    patchStatus: async (plural, name, status) => {
      await custom.patchNamespacedCustomObjectStatus({ ...ref(plural), name, body: { status } });
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
