import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** packages/daemon/deploy/ */
export const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/', import.meta.url));

/** A Kubernetes object from a manifest. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** Every `.yaml` file under deploy/ (recursively), relative to it, sorted. */
export function manifestFiles(dir = DEPLOY_DIR, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? manifestFiles(join(dir, e.name), `${prefix}${e.name}/`)
        : e.name.endsWith('.yaml')
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
