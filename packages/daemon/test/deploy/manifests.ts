import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

/** packages/daemon/deploy/ */
export const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/', import.meta.url));

/** A Kubernetes object from a manifest. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** Every `.yaml` file under deploy/ (recursively) except JSON patches (`*.patch.yaml`), relative to it, sorted. */
export function manifestFiles(dir = DEPLOY_DIR, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? manifestFiles(join(dir, e.name), `${prefix}${e.name}/`)
        : e.name.endsWith('.yaml') && !e.name.endsWith('.patch.yaml')
          ? [`${prefix}${e.name}`]
          : [],
    )
    .sort();
}

/** The objects of one manifest file (YAML errors throw, naming the file). */
export function readManifests(file: string): Manifest[] {
  const docs = parseAllDocuments(readFileSync(join(DEPLOY_DIR, file), 'utf8'));
  return docs.flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const obj = doc.toJS() as Manifest | null;
    return obj === null ? [] : [obj];
  });
}

/** An RFC 6902 operation, as in the `*.patch.yaml` files of deploy/components. */
export type PatchOp = { op: 'replace' | 'add'; path: string; value: unknown };

/** The operations of a `*.patch.yaml` file under deploy/. */
export function readPatch(file: string): PatchOp[] {
  return parse(readFileSync(join(DEPLOY_DIR, file), 'utf8')) as PatchOp[];
}

/** The two RFC 6902 operations the component uses; a path that does not exist throws (as kustomize would fail). */
export function applyJsonPatch<T>(doc: T, ops: PatchOp[]): T {
  for (const { op, path, value } of ops) {
    const parts = path.split('/').slice(1);
    const last = parts.pop() as string;
    let parent: Record<string, unknown> | unknown[] = doc as Record<string, unknown>;
    for (const p of parts) {
      const next = (parent as Record<string, unknown>)[p];
      if (next === undefined) throw new Error(`${path}: ${p} does not exist`);
      parent = next as Record<string, unknown>;
    }
    if (Array.isArray(parent)) {
      if (last === '-' && op === 'add') parent.push(value);
      else {
        const i = Number(last);
        if (!(i >= 0 && i < parent.length)) throw new Error(`${path}: no index ${last}`);
        if (op === 'replace') parent[i] = value;
        else parent.splice(i, 0, value);
      }
    } else {
      if (op === 'replace' && !(last in parent)) throw new Error(`${path}: nothing to replace`);
      parent[last] = value;
    }
  }
  return doc;
}
