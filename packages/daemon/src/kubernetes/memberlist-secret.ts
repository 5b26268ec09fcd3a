import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { KubeObject } from './kube-objects.js';
import { isConflict } from './service-write-api.js';

/** The default name of the Secret the speakers' gossip key comes from (deploy/speaker-daemonset.yaml mounts it). */
export const MEMBERLIST_SECRET = 'ingot-memberlist';
/** Its key (MetalLB's name). */
export const MEMBERLIST_SECRET_KEY = 'secretkey';

/** The Secret reads and writes {@link ensureMemberlistSecret} makes. */
export interface SecretApi {
  /** A Secret of the namespace, or undefined. */
  readSecret(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Creates a Secret (409 when it exists). */
  createSecret(namespace: string, secret: KubeObject): Promise<KubeObject>;
}

/**
 * Creates the memberlist Secret when it is missing, as MetalLB's controller does: 16 random bytes, raw (unpadded)
 * base64, under key `secretkey`. An existing Secret is never changed (every speaker must keep the same key). Resolves
 * with true when it created the Secret.
 */
export async function ensureMemberlistSecret(
  api: SecretApi,
  namespace: string,
  name: string,
  log: Logger,
): Promise<boolean> {
  if (await api.readSecret(namespace, name)) return false;
  const value = randomBytes(16).toString('base64').replace(/=+$/, '');
  try {
    await api.createSecret(namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        namespace,
        labels: { 'app.kubernetes.io/name': 'ingot', 'app.kubernetes.io/component': 'speaker' },
      },
      ...{ type: 'Opaque', data: { [MEMBERLIST_SECRET_KEY]: Buffer.from(value).toString('base64') } },
    } as KubeObject);
  } catch (err) {
    if (isConflict(err)) return false; // another controller created it first
    throw err;
  }
  log.info('memberlist secret created', { secret: name, namespace });
  return true;
}
