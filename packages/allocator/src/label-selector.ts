/**
 * Kubernetes label selectors (`metav1.LabelSelector`): `matchLabels` and `matchExpressions` with the operators In,
 * NotIn, Exists and DoesNotExist, all ANDed; an empty selector matches everything.
 */

import { describeValue } from './errors.js';

/** Label map of a Kubernetes object. */
export type Labels = Readonly<Record<string, string>>;

/** One `matchExpressions` entry. */
export interface LabelSelectorRequirement {
  /** Label key. */
  readonly key: string;
  /** `In` and `NotIn` need values; `Exists` and `DoesNotExist` must have none. */
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Values for `In`/`NotIn`. */
  readonly values?: readonly string[];
}

/** A Kubernetes `LabelSelector`. */
export interface LabelSelector {
  /** Exact key=value matches. */
  readonly matchLabels?: Labels;
  /** Set-based requirements. */
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

/** A compiled selector: true when the labels match. */
export type LabelMatcher = (labels: Labels) => boolean;

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Validates a label key (`[prefix/]name`) as Kubernetes does; returns the reason or undefined. */
function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'key must be a string';
  const slash = key.lastIndexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `key: Invalid value: "${key}": prefix part must be a lowercase RFC 1123 subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `key: Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, at most 63 characters`;
  }
  return undefined;
}

/** Validates a label value; returns the reason or undefined. */
function valueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'values: must be strings';
  if (value.length === 0) return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `values[0]: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, at most 63 characters`;
  }
  return undefined;
}

/**
 * Compiles a selector (Kubernetes `LabelSelectorAsSelector`).
 * @returns the matcher, or the reason the selector is invalid
 */
export function compileLabelSelector(
  sel: LabelSelector,
): { ok: true; matches: LabelMatcher } | { ok: false; error: string } {
  if (sel === null || typeof sel !== 'object') return { ok: false, error: 'selector must be an object' };
  const tests: LabelMatcher[] = [];
  const ml = sel.matchLabels ?? {};
  if (ml === null || typeof ml !== 'object') return { ok: false, error: 'matchLabels must be an object' };
  for (const [k, v] of Object.entries(ml)) {
    const problem = keyProblem(k) ?? valueProblem(v);
    if (problem) return { ok: false, error: problem };
    tests.push((l) => Object.hasOwn(l, k) && l[k] === v);
  }
  const me = sel.matchExpressions ?? [];
  if (!Array.isArray(me)) return { ok: false, error: 'matchExpressions must be a list' };
  for (const req of me) {
    if (req === null || typeof req !== 'object')
      return { ok: false, error: 'matchExpressions entries must be objects' };
    const kp = keyProblem(req.key);
    if (kp) return { ok: false, error: kp };
    const values = req.values ?? [];
    if (!Array.isArray(values)) return { ok: false, error: 'values must be a list' };
    for (const v of values) {
      const vp = valueProblem(v);
      if (vp) return { ok: false, error: vp };
    }
    const key = req.key;
    const set = new Set<string>(values);
    switch (req.operator) {
      case 'In':
      case 'NotIn': {
        if (values.length === 0) {
          return {
            ok: false,
            error: "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
          };
        }
        const negate = req.operator === 'NotIn';
        tests.push((l) => {
          const has = Object.hasOwn(l, key) && set.has(l[key]!);
          return negate ? !has : has;
        });
        break;
      }
      case 'Exists':
      case 'DoesNotExist': {
        if (values.length !== 0) {
          return { ok: false, error: 'values: Invalid value: values set must be empty for exists and does not exist' };
        }
        const negate = req.operator === 'DoesNotExist';
        tests.push((l) => Object.hasOwn(l, key) !== negate);
        break;
      }
      default:
        return {
          ok: false,
          error: `${JSON.stringify(describeValue(req.operator))} is not a valid label selector operator`,
        };
    }
  }
  return { ok: true, matches: (l) => tests.every((t) => t(l)) };
}

/** Renders a requirement as the Go generated `String()` does; used for duplicate detection and error texts. */
export function requirementString(r: LabelSelectorRequirement): string {
  const values = [...(r.values ?? [])].sort();
  return `&LabelSelectorRequirement{Key:${r.key},Operator:${r.operator},Values:[${values.join(' ')}],}`;
}

/** Renders a selector as the Go generated `String()` does (keys sorted, expression values sorted). */
export function selectorString(s: LabelSelector): string {
  const ml = s.matchLabels ?? {};
  const labels = Object.keys(ml)
    .sort()
    .map((k) => `${k}: ${ml[k]},`)
    .join('');
  const exprs = (s.matchExpressions ?? []).map((r) => `${requirementString(r).slice(1)},`).join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

/**
 * The backend key MetalLB uses for IP sharing (`k8salloc.BackendKey`): for `externalTrafficPolicy: Local` the
 * service's pod selector rendered as sorted `k=v` pairs joined by commas, otherwise the empty string.
 * @param externalTrafficPolicy - `'Cluster'` (default) or `'Local'`
 * @param selector - the service's `spec.selector`
 */
export function backendKeyFor(
  externalTrafficPolicy: 'Cluster' | 'Local' | undefined,
  selector: Labels | undefined,
): string {
  if (externalTrafficPolicy !== 'Local') return '';
  const sel = selector ?? {};
  return Object.keys(sel)
    .sort()
    .map((k) => `${k}=${sel[k]}`)
    .join(',');
}
