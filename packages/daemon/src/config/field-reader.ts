import type { LabelSelector, LabelSelectorRequirement } from '@ingot/allocator';
import { compileLabelSelector } from '@ingot/allocator';
import type { ConfigIssue } from './config-issue.js';

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/**
 * Reads typed fields out of one parsed YAML document, recording a {@link ConfigIssue} (resource, field path, reason) for each
 * field of the wrong shape instead of throwing, so a whole document is checked in one pass.
 */
export class FieldReader {
  constructor(
    private readonly root: unknown,
    /** `Kind/name` used in issues. */
    readonly resource: string,
    private readonly issues: ConfigIssue[],
  ) {}

  /** Records an issue against this resource. */
  fail(field: string, reason: string): void {
    this.issues.push({ resource: this.resource, field, reason });
  }

  /** The raw value at a dotted path, or undefined. */
  get(path: string): unknown {
    let cur: unknown = this.root;
    for (const part of path.split('.')) {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
  }

  /** A string, or undefined when absent; `required` records an issue when absent or empty. */
  string(path: string, required = false): string | undefined {
    const v = this.get(path);
    if (v === undefined || v === null) {
      if (required) this.fail(path, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.fail(path, `must be a string, got ${describe(v)}`);
      return undefined;
    }
    if (required && v.trim() === '') this.fail(path, 'must not be empty');
    return v;
  }

  /** A boolean with a default. */
  boolean(path: string, fallback: boolean): boolean {
    const v = this.get(path);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.fail(path, `must be true or false, got ${describe(v)}`);
      return fallback;
    }
    return v;
  }

  /** An integer within [min, max], with a default; undefined default with `required` records an issue when absent. */
  integer(path: string, opts: { min: number; max: number; fallback?: number; required?: boolean }): number | undefined {
    const v = this.get(path);
    if (v === undefined || v === null) {
      if (opts.required) this.fail(path, 'is required');
      return opts.fallback;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.fail(path, `must be an integer, got ${describe(v)}`);
      return opts.fallback;
    }
    if (v < opts.min || v > opts.max) {
      this.fail(path, `must be between ${opts.min} and ${opts.max}, got ${v}`);
      return opts.fallback;
    }
    return v;
  }

  /** A list of strings; duplicates are an issue when `unique`. */
  stringList(path: string, unique = false): string[] {
    const v = this.get(path);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail(path, `must be a list, got ${describe(v)}`);
      return [];
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== 'string') this.fail(`${path}[${i}]`, `must be a string, got ${describe(item)}`);
      else if (unique && out.includes(item)) this.fail(`${path}[${i}]`, `duplicate value ${JSON.stringify(item)}`);
      else out.push(item);
    });
    return out;
  }

  /** A string → string map (labels, annotations, selectors). */
  stringMap(path: string): Record<string, string> {
    const v = this.get(path);
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.fail(path, `must be a map of strings, got ${describe(v)}`);
      return {};
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val === 'string') out[k] = val;
      else if (typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
      else this.fail(`${path}.${k}`, `must be a string, got ${describe(val)}`);
    }
    return out;
  }

  /** A list of objects, each handed to `each` with its own path. */
  objectList<T>(path: string, each: (itemPath: string, item: Record<string, unknown>) => T | undefined): T[] {
    const v = this.get(path);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail(path, `must be a list, got ${describe(v)}`);
      return [];
    }
    const out: T[] = [];
    v.forEach((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        this.fail(`${path}[${i}]`, `must be an object, got ${describe(item)}`);
        return;
      }
      const r = each(`${path}[${i}]`, item as Record<string, unknown>);
      if (r !== undefined) out.push(r);
    });
    return out;
  }

  /**
   * A list of LabelSelectors. As MetalLB (`validateLabelSelectorDuplicate`): the same selector twice (labels in any
   * order, expression values in any order), a value twice inside one match expression, or the same expression twice
   * in one selector is an issue; so is a selector Kubernetes would refuse (bad label key or value).
   */
  selectors(path: string): LabelSelector[] {
    const seen = new Map<string, number>();
    return this.objectList(path, (itemPath, item) => {
      const sel = this.selectorAt(itemPath, item);
      const key = selectorKey(sel);
      const first = seen.get(key);
      if (first !== undefined) {
        this.fail(itemPath, `duplicate selector (the same as ${path}[${first}])`);
        return undefined;
      }
      seen.set(key, Number(/\[(\d+)\]$/.exec(itemPath)?.[1]));
      return sel;
    });
  }

  /** One LabelSelector object found at `path` (already fetched as `item`). */
  selectorAt(path: string, item: Record<string, unknown>): LabelSelector {
    const before = this.issues.length;
    const sub = new FieldReader(item, this.resource, this.issues);
    const prefix = (p: string) => `${path}.${p}`;
    const matchLabels = new FieldReader(item, this.resource, []).stringMap('matchLabels');
    if (item.matchLabels !== undefined && (typeof item.matchLabels !== 'object' || Array.isArray(item.matchLabels))) {
      this.fail(prefix('matchLabels'), 'must be a map of strings');
    }
    const seenExpressions = new Set<string>();
    const matchExpressions = sub.objectList('matchExpressions', (p, req): LabelSelectorRequirement | undefined => {
      const r = new FieldReader(req, this.resource, []);
      const key = r.string('key');
      const operator = r.string('operator');
      const values = r.stringList('values');
      const at = prefix(p);
      if (!key) return this.failed(at, 'key is required');
      if (!operator || !OPERATORS.has(operator))
        return this.failed(
          at,
          `operator must be one of In, NotIn, Exists, DoesNotExist, got ${JSON.stringify(operator)}`,
        );
      if ((operator === 'In' || operator === 'NotIn') && values.length === 0)
        return this.failed(at, `values must be non-empty for operator ${operator}`);
      if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0)
        return this.failed(at, `values must be empty for operator ${operator}`);
      const twice = values.find((v, i) => values.indexOf(v) !== i);
      if (twice !== undefined)
        return this.failed(
          `${at}.values`,
          `duplicate definition of match expression value in label selector ${JSON.stringify(twice)}`,
        );
      const requirement = { key, operator: operator as LabelSelectorRequirement['operator'], values };
      const text = requirementText(requirement);
      if (seenExpressions.has(text)) return this.failed(at, `duplicate definition of match expressions ${text}`);
      seenExpressions.add(text);
      return requirement;
    });
    const selector = { matchLabels, matchExpressions };
    if (this.issues.length === before) {
      const compiled = compileLabelSelector(selector);
      if (!compiled.ok) this.fail(path, `invalid label selector: ${compiled.error}`);
    }
    return selector;
  }

  private failed(field: string, reason: string): undefined {
    this.fail(field, reason);
    return undefined;
  }
}

/** A value as issues show it: `null`, `a list`, `an object`, or its type and JSON text (never throws). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    return `${typeof v} ${JSON.stringify(v)}`;
  return typeof v;
}

/** `key operator (v1,v2)` with the values sorted, as two requirements are compared (MetalLB sorts before comparing). */
function requirementText(r: LabelSelectorRequirement): string {
  const values = [...(r.values ?? [])].sort();
  return values.length === 0 ? `${r.key} ${r.operator}` : `${r.key} ${r.operator} (${values.join(',')})`;
}

/** Identity of a selector for duplicate detection: labels sorted by key, each expression's values sorted. */
function selectorKey(s: LabelSelector): string {
  const labels = Object.keys(s.matchLabels ?? {})
    .sort()
    .map((k) => [k, s.matchLabels?.[k]]);
  return JSON.stringify([labels, (s.matchExpressions ?? []).map(requirementText)]);
}
