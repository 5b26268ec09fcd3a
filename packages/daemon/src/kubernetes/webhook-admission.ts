import { type ParseConfigOptions, parseConfigObjects } from '../config/parse-config.js';
import type { ConfigIssue } from '../config/resources.js';
import type { KubeObject } from './kube-objects.js';
import { convertBgpPeer } from './webhook-conversion.js';

/** What the validating webhook checks a change against. */
export interface AdmissionContext {
  /** MetalLB's namespace: configuration objects anywhere else are refused (as MetalLB does). */
  namespace: string;
  /** The configuration objects in force now (the controller's cache; `apiVersion` and `kind` set). */
  configObjects(): readonly KubeObject[];
  /** The cluster's Nodes, for the checks that resolve advertisement node selectors. */
  nodes?(): ParseConfigOptions['nodes'];
}

/** An `admission.k8s.io/v1` AdmissionReview answer. */
export interface AdmissionReviewResponse {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string; reason?: string };
    warnings?: string[];
  };
}

interface AdmissionRequest {
  uid?: unknown;
  kind?: { group?: string; version?: string; kind?: string };
  namespace?: string;
  name?: string;
  operation?: string;
  object?: KubeObject | null;
  oldObject?: KubeObject | null;
}

/** `Kind/name field: reason`, the way `ingot validate` names an issue (without file and line). */
export function describeIssue(issue: ConfigIssue): string {
  return issue.field === ''
    ? `${issue.resource}: ${issue.reason}`
    : `${issue.resource} ${issue.field}: ${issue.reason}`;
}

/**
 * Answers an AdmissionReview for a `metallb.io` object with the checks of `ingot validate` (`parseConfigObjects`),
 * applied as MetalLB's webhooks do to the whole configuration the change would produce: the change is refused when
 * that configuration has an issue the current one does not have (so an unrelated broken object does not block every
 * change, and fixing it is allowed). Objects outside MetalLB's namespace are refused. A BGPPeer sent as v1beta1 is
 * converted to v1beta2 first. Deleting a BFDProfile that a BGPPeer uses is refused. Warnings of the resulting
 * configuration that concern the object are returned as admission warnings.
 */
export function reviewAdmission(body: unknown, ctx: AdmissionContext): AdmissionReviewResponse {
  const request = (body as { request?: AdmissionRequest } | null)?.request;
  const uid = typeof request?.uid === 'string' ? request.uid : '';
  const answer = (allowed: boolean, message?: string, warnings: string[] = []): AdmissionReviewResponse => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed,
      ...(message !== undefined ? { status: { code: 403, reason: 'Forbidden', message } } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    },
  });
  if (!request || typeof request.kind?.kind !== 'string') return answer(false, 'not an AdmissionReview request');
  const kind = request.kind.kind;
  const apiVersion = `${request.kind.group ?? 'metallb.io'}/${request.kind.version ?? ''}`;
  if (request.namespace !== ctx.namespace)
    return answer(false, `resource must be created in ${ctx.namespace} namespace`);
  const current = ctx.configObjects();

  if (request.operation === 'DELETE') {
    if (kind !== 'BFDProfile') return answer(true);
    const users = current
      .filter(
        (o) => o.kind === 'BGPPeer' && (o.spec as { bfdProfile?: unknown } | undefined)?.bfdProfile === request.name,
      )
      .map((o) => o.metadata?.name ?? '');
    return users.length > 0
      ? answer(false, `BFDProfile ${request.name} is used by BGPPeer ${users.join(', ')}: remove it from them first`)
      : answer(true);
  }
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return answer(true);
  if (!request.object) return answer(false, 'the request carries no object');
  let incoming: KubeObject = { ...request.object, apiVersion, kind };
  if (kind === 'BGPPeer' && apiVersion !== 'metallb.io/v1beta2') {
    try {
      incoming = convertBgpPeer(incoming, 'metallb.io/v1beta2');
    } catch (err) {
      return answer(false, (err as Error).message);
    }
  }
  const name = incoming.metadata?.name ?? request.name ?? '';
  const shaped = (o: KubeObject): KubeObject => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: {
      name: o.metadata?.name ?? '',
      namespace: o.metadata?.namespace ?? ctx.namespace,
      ...(o.metadata?.labels ? { labels: o.metadata.labels } : {}),
    },
    spec: o.spec,
  });
  const before = current.map(shaped);
  const after = [
    ...before.filter((o) => !(o.kind === kind && o.metadata?.name === name)),
    shaped({ ...incoming, metadata: { ...incoming.metadata, name } }),
  ];
  const options: ParseConfigOptions = ctx.nodes ? { nodes: ctx.nodes() ?? [] } : {};
  const was = parseConfigObjects(before, [], options);
  const will = parseConfigObjects(after, [], options);
  const key = (i: ConfigIssue) => JSON.stringify([i.resource, i.field, i.reason]);
  const known = new Set((was.ok ? [] : was.issues).map(key));
  const self = `${kind}/${name}`;
  const warnings = will.warnings.filter((w) => w.resource === self).map(describeIssue);
  if (will.ok) return answer(true, undefined, warnings);
  const fresh = will.issues.filter((i) => !known.has(key(i)));
  if (fresh.length === 0) return answer(true, undefined, warnings);
  return answer(false, fresh.map(describeIssue).join('; '), warnings);
}
