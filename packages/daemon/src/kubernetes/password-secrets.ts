import type { ConfigIssue } from '../config/resources.js';
import type { KubeObject } from './kube-objects.js';

/** The Secret type MetalLB requires for a BGPPeer's `passwordSecret`. */
export const BASIC_AUTH_SECRET_TYPE = 'kubernetes.io/basic-auth';

/**
 * Resolves BGPPeers' `spec.passwordSecret` (MetalLB: a `kubernetes.io/basic-auth` Secret in MetalLB's namespace, key
 * `password`) into `spec.password`, so the configuration is validated and applied with the password. A missing or
 * unusable Secret is an issue (resource, field, reason), which rejects the configuration and keeps the last good one.
 * Without a Secret lookup (a controller, which needs no passwords) the reference is dropped.
 * @param objects - configuration objects (plain JSON; not modified)
 * @param namespace - MetalLB's namespace
 * @param lookup - finds a Secret of that namespace by name; undefined when Secrets are not read
 */
export function resolvePasswordSecrets(
  objects: readonly KubeObject[],
  namespace: string,
  lookup: ((name: string) => KubeObject | undefined) | undefined,
): { objects: KubeObject[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const out = objects.map((obj) => {
    const spec = obj.spec as
      | { passwordSecret?: { name?: unknown; namespace?: unknown }; password?: unknown }
      | undefined;
    if (obj.kind !== 'BGPPeer' || spec?.passwordSecret === undefined || spec.password !== undefined) return obj;
    const { passwordSecret, ...rest } = spec;
    if (!lookup) return { ...obj, spec: rest };
    const fail = (reason: string) => {
      issues.push({ resource: `BGPPeer/${obj.metadata?.name ?? ''}`, field: 'spec.passwordSecret', reason });
      return obj;
    };
    const name = passwordSecret?.name;
    if (typeof name !== 'string' || name === '') return fail('name is required');
    if (passwordSecret?.namespace !== undefined && passwordSecret.namespace !== namespace)
      return fail(`the secret must be in the namespace ${JSON.stringify(namespace)}`);
    const secret = lookup(name);
    if (!secret) return fail(`secret ${JSON.stringify(name)} not found`);
    const s = secret as { type?: unknown; data?: Record<string, unknown> };
    if (s.type !== BASIC_AUTH_SECRET_TYPE)
      return fail(`secret ${JSON.stringify(name)} must be of type ${BASIC_AUTH_SECRET_TYPE}`);
    const encoded = s.data?.password;
    if (typeof encoded !== 'string') return fail(`secret ${JSON.stringify(name)} has no "password" key`);
    return { ...obj, spec: { ...rest, password: Buffer.from(encoded, 'base64').toString('utf8') } };
  });
  return { objects: out, issues };
}
