import { ALLOCATED_FROM_POOL_ANNOTATION, ANNOTATION_PREFIX } from '../controller/annotations.js';
import { type BackoffOptions, backoffDelay, sleep } from './backoff.js';
import { ingressEntries, ingressIps, type KubeObject } from './kube-objects.js';
import { isConflict, type ServiceWriteApi } from './service-write-api.js';

/** The full name of the annotation the controller writes: `metallb.io/ip-allocated-from-pool`. */
export const POOL_ANNOTATION = ANNOTATION_PREFIX + ALLOCATED_FROM_POOL_ANNOTATION;

/** What a Service should show: its ingress IPs and the pool they came from. */
export interface DesiredServiceState {
  /** `status.loadBalancer.ingress[].ip`, in order; empty clears the ingress. */
  ips: readonly string[];
  /** `metallb.io/ip-allocated-from-pool`; removed when absent or when `ips` is empty. */
  pool?: string;
}

/** Options of {@link writeServiceState}. */
export interface WriteServiceStateOptions {
  /** Delays between attempts after a 409 Conflict. @default 50 ms doubling */
  retry?: BackoffOptions;
  /** Attempts in all before a conflict is given up (the error is then thrown). @default 5 */
  attempts?: number;
  /** Called with the resourceVersion of each object a patch produced, as soon as the patch returns. */
  onWritten?: (resourceVersion: string) => void;
}

/** What {@link writeServiceState} changed. */
export interface WriteServiceStateResult {
  /** The status was patched. */
  statusWritten: boolean;
  /** The pool annotation was written (with the status or by a patch of its own). */
  annotationWritten: boolean;
  /** 409 Conflicts met (each followed by a fresh read and a retry). */
  conflicts: number;
  /** The service disappeared meanwhile; nothing more was written. */
  gone: boolean;
  /** resourceVersions of the objects our patches produced (their watch events are echoes of our own writes). */
  resourceVersions: string[];
}

/**
 * Makes a Service show `desired`, writing only what differs: `status.loadBalancer.ingress`, and the pool annotation
 * with it, through one merge patch of the status subresource that carries the resourceVersion it was computed from (so
 * a concurrent change yields 409, after which the Service is read again and the patch retried with backoff). When the
 * annotation alone differs, or the server did not keep it from the status patch, it is written by a merge patch of
 * the Service's metadata. Ingress entries kept keep their other fields (e.g. `ipMode`, `ports`).
 */
export async function writeServiceState(
  api: ServiceWriteApi,
  svc: KubeObject,
  desired: DesiredServiceState,
  options: WriteServiceStateOptions = {},
): Promise<WriteServiceStateResult> {
  const namespace = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const attempts = options.attempts ?? 5;
  const result: WriteServiceStateResult = {
    statusWritten: false,
    annotationWritten: false,
    conflicts: 0,
    gone: false,
    resourceVersions: [],
  };
  const produced = (obj: KubeObject) => {
    const rv = obj.metadata?.resourceVersion;
    if (rv) {
      result.resourceVersions.push(rv);
      options.onWritten?.(rv);
    }
    return obj;
  };
  const want = desired.ips.length > 0 ? desired.pool : undefined;
  let current = svc;
  for (let attempt = 0; !sameList(ingressIps(current), desired.ips); attempt++) {
    const kept = ingressEntries(current);
    const ingress = desired.ips.map((ip) => kept.find((e) => e.ip === ip) ?? { ip });
    // The pool annotation rides along: the API server keeps metadata changes made through a Service's status
    // subresource, so one write usually does both (a server that drops them gets the annotation patch below).
    const annotate = current.metadata?.annotations?.[POOL_ANNOTATION] !== want;
    const patch = {
      metadata: {
        resourceVersion: current.metadata?.resourceVersion,
        ...(annotate ? { annotations: { [POOL_ANNOTATION]: want ?? null } } : {}),
      },
      status: { loadBalancer: { ingress: ingress.length > 0 ? ingress : null } },
    };
    try {
      current = produced(await api.patchServiceStatus(namespace, name, patch));
      result.statusWritten = true;
      if (annotate && current.metadata?.annotations?.[POOL_ANNOTATION] === want) result.annotationWritten = true;
      break;
    } catch (err) {
      if (!isConflict(err) || attempt + 1 >= attempts) throw err;
      result.conflicts++;
      await sleep(backoffDelay(attempt, { initialMs: 50, maxMs: 2_000, ...options.retry }));
      const fresh = await api.readService(namespace, name);
      if (!fresh) return { ...result, gone: true };
      current = fresh;
    }
  }
  const have = current.metadata?.annotations?.[POOL_ANNOTATION];
  if (have !== want) {
    produced(
      await api.patchService(namespace, name, { metadata: { annotations: { [POOL_ANNOTATION]: want ?? null } } }),
    );
    result.annotationWritten = true;
  }
  return result;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
