import { type Document, isMap, isScalar, isSeq, type LineCounter } from 'yaml';
import type { ConfigIssue } from './resources.js';

/** One step of a field path: a map key or a list index. */
type PathStep = { key: string } | { index: number };

/**
 * Splits a field path as {@link ConfigIssue.field} writes it (`spec.addresses[1]`, `metadata.labels.app`,
 * `spec.nodeSelectors[0].matchExpressions`) into dotted segments, each followed by its list indexes.
 */
function segments(field: string): { key: string; indexes: number[] }[] {
  if (field === '') return [];
  return field.split('.').map((part) => {
    const indexes: number[] = [];
    let key = part;
    for (let m = /\[(\d+)\]$/.exec(key); m; m = /\[(\d+)\]$/.exec(key)) {
      indexes.unshift(Number(m[1]));
      key = key.slice(0, m.index);
    }
    return { key, indexes };
  });
}

function lineOf(offset: number | undefined, lines: LineCounter): number | undefined {
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

/**
 * The 1-based line, in the YAML text `doc` was parsed from, of the deepest node that exists on `field` below `base`:
 * the key's line for a map entry, the item's line for a list element; the document's first content line when not even
 * the first step exists.
 * @param doc - the parsed document (parsed with `lineCounter`, so nodes carry ranges)
 * @param lines - the {@link LineCounter} given to the parser
 * @param field - an issue's field path, e.g. `spec.addresses[1]`; `''` means the whole object
 * @param base - where the object sits in the document: `[]`, or `['items', 3]` for an item of a `kind: List`
 * @example
 * ```ts
 * const lines = new LineCounter();
 * const [doc] = parseAllDocuments(text, { lineCounter: lines });
 * fieldLine(doc, lines, 'spec.addresses[1]'); // the line of the second address
 * ```
 */
export function fieldLine(
  doc: Document,
  lines: LineCounter,
  field: string,
  base: readonly (string | number)[] = [],
): number | undefined {
  const steps: PathStep[] = base.map((b) => (typeof b === 'number' ? { index: b } : { key: b }));
  const segs = segments(field);
  let node: unknown = doc.contents;
  let line = lineOf(doc.contents?.range?.[0] ?? doc.range?.[0], lines);
  // walk the base first (always plain keys and indexes)
  const walk = (step: PathStep): boolean => {
    if ('index' in step) {
      if (!isSeq(node)) return false;
      const item = node.items[step.index];
      if (item === undefined) return false;
      node = item;
      line = lineOf((item as { range?: [number, number, number] }).range?.[0], lines) ?? line;
      return true;
    }
    if (!isMap(node)) return false;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === step.key);
    if (!pair) return false;
    node = pair.value;
    line = lineOf((pair.key as { range?: [number, number, number] }).range?.[0], lines) ?? line;
    return true;
  };
  for (const step of steps) if (!walk(step)) return line;
  // then the field: a map key may itself contain dots (labels such as `kubernetes.io/hostname`), so at each map try
  // the longest run of segments that names a key
  for (let i = 0; i < segs.length; ) {
    let matched = 0;
    if (isMap(node)) {
      const mapNode = node;
      for (let j = segs.length; j > i && matched === 0; j--) {
        // only the last segment of a run may carry indexes
        if (segs.slice(i, j - 1).some((s) => s.indexes.length > 0)) continue;
        const key = segs
          .slice(i, j)
          .map((s) => s.key)
          .join('.');
        if (mapNode.items.some((p) => isScalar(p.key) && String(p.key.value) === key)) matched = j - i;
      }
    }
    if (matched === 0) return line;
    const last = segs[i + matched - 1]!;
    const key = segs
      .slice(i, i + matched)
      .map((s) => s.key)
      .join('.');
    if (!walk({ key })) return line;
    for (const index of last.indexes) if (!walk({ index })) return line;
    i += matched;
  }
  return line;
}

/** Where one object handed to `parseConfigObjects` came from in the YAML text. */
export interface ObjectSource {
  /** The parsed document. */
  doc: Document;
  /** 1-based document number. */
  document: number;
  /** Path of the object inside the document: `[]`, or `['items', k]` for an item of a `kind: List`. */
  base: (string | number)[];
}

function metadataName(obj: unknown): { kind?: unknown; name?: unknown } {
  if (obj === null || typeof obj !== 'object') return {};
  const o = obj as { kind?: unknown; metadata?: { name?: unknown } | null };
  return { kind: o.kind, name: o.metadata?.name };
}

/**
 * Sets {@link ConfigIssue.line} and {@link ConfigIssue.document} on the issues of a configuration parsed from YAML.
 * An issue raised while reading one object is placed in that object (`objectOf`); an issue found afterwards across
 * objects (pool overlaps, unknown references) is placed in the first object of its `Kind/name`, which is the one the
 * configuration kept. Pools and advertisements made by an IPRange document point at its `spec.iprange`. An object
 * without a usable kind or name is labelled `document N` by position among the objects; that label is corrected to the
 * YAML document number (`document 3`, or `document 3 items[1]` inside a `kind: List`).
 * @param objects - the objects, in the order given to `parseConfigObjects`
 * @param sources - where each object sits, index for index
 * @param objectOf - the object index of an issue raised while reading that object
 * @param iprangeName - the name an IPRange document without `metadata.name` gets
 */
export function locateIssues(
  issues: readonly ConfigIssue[],
  objects: readonly unknown[],
  sources: readonly ObjectSource[],
  lines: LineCounter,
  objectOf: (issue: ConfigIssue) => number | undefined,
  iprangeName: string,
): void {
  const byResource = new Map<string, number>();
  const claim = (resource: string, index: number) => {
    if (!byResource.has(resource)) byResource.set(resource, index);
  };
  objects.forEach((obj, i) => {
    const { kind, name } = metadataName(obj);
    if (typeof kind !== 'string') return;
    if (kind === 'IPRange') {
      const n = typeof name === 'string' && name !== '' ? name : iprangeName;
      claim(`IPAddressPool/${n}`, i);
      claim(`L2Advertisement/${n}`, i);
    } else if (typeof name === 'string') claim(`${kind}/${name}`, i);
  });
  for (const issue of issues) {
    if (issue.line !== undefined) continue;
    const own = objectOf(issue);
    const index = own ?? byResource.get(issue.resource);
    const source = index === undefined ? undefined : sources[index];
    if (!source) continue;
    if (own !== undefined && issue.resource === `document ${own + 1}`) {
      const [, item] = source.base;
      issue.resource = `document ${source.document}${item === undefined ? '' : ` items[${item}]`}`;
    }
    const field =
      metadataName(objects[index!]).kind === 'IPRange' && !issue.resource.startsWith('IPRange/')
        ? 'spec.iprange'
        : issue.field;
    const line = fieldLine(source.doc, lines, field, source.base);
    if (line !== undefined) issue.line = line;
    issue.document = source.document;
  }
}
