import type { KubeObject } from './kube-objects.js';

/** The annotation `kubectl apply` keeps a whole copy of the object in. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** The `spec` fields of a Service that Ingot reads (configuration parsing, class filter, speaker plan). */
const SPEC_FIELDS = [
  'type',
  'clusterIP',
  'clusterIPs',
  'ipFamilyPolicy',
  'ipFamilies',
  'externalTrafficPolicy',
  'loadBalancerIP',
  'loadBalancerClass',
  'selector',
] as const;

/** The `metadata` fields of a Service that Ingot reads (its key, the Event's reference, the write's precondition). */
const METADATA_FIELDS = ['name', 'namespace', 'uid', 'resourceVersion'] as const;

/**
 * The part of a Service that the controller and the speaker read, as a new small object, so the cache never holds
 * (or keeps alive) the object the API server sent: `metadata` name, namespace, uid, resourceVersion, labels and
 * annotations (kubectl's last-applied copy left out); `spec` type, clusterIP(s), ipFamilyPolicy, ipFamilies,
 * externalTrafficPolicy, loadBalancerIP, loadBalancerClass, selector, and each port's `protocol` and `port`; and
 * `status.loadBalancer` whole (ingress entries keep `ipMode` and `ports`, which a status write preserves). Dropped:
 * managedFields, creationTimestamp, ownerReferences, finalizers, the ports' names, targetPorts and nodePorts,
 * sessionAffinity, the traffic policies' other fields, status.conditions, and whatever else a newer API adds.
 * Values are copied as they are (not checked), so {@link parseServiceObject} still sees and reports a field of the
 * wrong type; a field absent stays absent. Anything that is not an object is returned unchanged.
 */
export function projectService(obj: KubeObject): KubeObject {
  if (!isRecord(obj)) return obj;
  const out: KubeObject = {};
  if (typeof obj.apiVersion === 'string') out.apiVersion = obj.apiVersion;
  if (typeof obj.kind === 'string') out.kind = obj.kind;
  const meta = obj.metadata;
  if (isRecord(meta)) {
    const m: Record<string, unknown> = pick(meta, METADATA_FIELDS);
    if (meta.labels !== undefined) m.labels = meta.labels;
    const annotations = meta.annotations;
    if (isRecord(annotations) && LAST_APPLIED_ANNOTATION in annotations) {
      const { [LAST_APPLIED_ANNOTATION]: _copy, ...rest } = annotations;
      m.annotations = rest;
    } else if (annotations !== undefined) m.annotations = annotations;
    out.metadata = m as KubeObject['metadata'];
  } else if (meta !== undefined) out.metadata = meta as KubeObject['metadata'];
  const spec = obj.spec;
  if (isRecord(spec)) {
    const s: Record<string, unknown> = pick(spec, SPEC_FIELDS);
    if (Array.isArray(spec.ports))
      s.ports = spec.ports.map((p: unknown) => (isRecord(p) ? pick(p, ['protocol', 'port'] as const) : p));
    else if (spec.ports !== undefined) s.ports = spec.ports;
    out.spec = s;
  } else if (spec !== undefined) out.spec = spec;
  const status = obj.status;
  if (isRecord(status)) {
    if (status.loadBalancer !== undefined) out.status = { loadBalancer: status.loadBalancer };
    else out.status = {};
  } else if (status !== undefined) out.status = status;
  return out;
}

function pick<K extends string>(from: Record<string, unknown>, keys: readonly K[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
