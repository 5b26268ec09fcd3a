import type { KubeObject } from './kube-objects.js';

/** The BGPPeer spec fields both versions have (MetalLB's conversion copies exactly these, plus nodeSelectors). */
const COMMON_FIELDS = [
  'myASN',
  'peerASN',
  'peerAddress',
  'sourceAddress',
  'peerPort',
  'holdTime',
  'keepaliveTime',
  'routerID',
  'password',
  'bfdProfile',
  'ebgpMultiHop',
] as const;

const V1BETA1 = 'metallb.io/v1beta1';
const V1BETA2 = 'metallb.io/v1beta2';

type Selector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};

/**
 * Converts a BGPPeer between `metallb.io/v1beta1` and `metallb.io/v1beta2` as MetalLB's conversion does: metadata and
 * the common spec fields are copied; node selectors change shape (v1beta1's own struct ↔ `metav1.LabelSelector`);
 * the fields only v1beta2 has (dynamicASN, passwordSecret, connectTime, vrf, ...) are dropped going down. Throws on
 * an unknown version.
 */
export function convertBgpPeer(obj: KubeObject, desiredApiVersion: string): KubeObject {
  if (obj.apiVersion === desiredApiVersion) return obj;
  const known = [V1BETA1, V1BETA2];
  if (!known.includes(obj.apiVersion ?? '') || !known.includes(desiredApiVersion))
    throw new Error(`cannot convert BGPPeer from ${obj.apiVersion} to ${desiredApiVersion}`);
  const src = (obj.spec ?? {}) as Record<string, unknown>;
  const spec: Record<string, unknown> = {};
  for (const field of COMMON_FIELDS) if (src[field] !== undefined) spec[field] = src[field];
  const selectors = src.nodeSelectors as Selector[] | undefined;
  if (Array.isArray(selectors))
    spec.nodeSelectors = selectors.map((s) =>
      desiredApiVersion === V1BETA1 ? toLegacySelector(s) : fromLegacySelector(s),
    );
  return {
    ...obj,
    apiVersion: desiredApiVersion,
    spec,
    ...(obj.status !== undefined ? { status: obj.status } : {}),
  };
}

function fromLegacySelector(s: Selector): Selector {
  const labels = Object.keys(s.matchLabels ?? {}).length;
  const exprs = s.matchExpressions ?? [];
  if (labels + exprs.length === 0) return {};
  return {
    matchLabels: { ...(s.matchLabels ?? {}) },
    ...(exprs.length > 0
      ? { matchExpressions: exprs.map((e) => ({ key: e.key, operator: e.operator, values: [...(e.values ?? [])] })) }
      : {}),
  };
}

function toLegacySelector(s: Selector): Selector {
  return {
    matchLabels: { ...(s.matchLabels ?? {}) },
    matchExpressions: (s.matchExpressions ?? []).map((e) => ({
      key: e.key,
      operator: e.operator,
      values: [...(e.values ?? [])],
    })),
  };
}

/** An `apiextensions.k8s.io/v1` ConversionReview answer. */
export interface ConversionReviewResponse {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'ConversionReview';
  response: {
    uid: string;
    convertedObjects: KubeObject[];
    result: { status: 'Success' | 'Failure'; message?: string };
  };
}

/**
 * Answers a ConversionReview (the API server's request to the CRD conversion webhook): every object converted to
 * `desiredAPIVersion`, or a Failure naming the object that could not be.
 */
export function reviewConversion(body: unknown): ConversionReviewResponse {
  const request = (body as { request?: { uid?: unknown; desiredAPIVersion?: unknown; objects?: unknown } } | null)
    ?.request;
  const uid = typeof request?.uid === 'string' ? request.uid : '';
  const fail = (message: string): ConversionReviewResponse => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'ConversionReview',
    response: { uid, convertedObjects: [], result: { status: 'Failure', message } },
  });
  if (!request || typeof request.desiredAPIVersion !== 'string' || !Array.isArray(request.objects))
    return fail('not a ConversionReview request');
  const converted: KubeObject[] = [];
  for (const obj of request.objects as KubeObject[]) {
    if (obj?.kind !== 'BGPPeer') return fail(`cannot convert kind ${JSON.stringify(obj?.kind)}`);
    try {
      converted.push(convertBgpPeer(obj, request.desiredAPIVersion));
    } catch (err) {
      return fail(`BGPPeer ${obj.metadata?.name ?? ''}: ${(err as Error).message}`);
    }
  }
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'ConversionReview',
    response: { uid, convertedObjects: converted, result: { status: 'Success' } },
  };
}
