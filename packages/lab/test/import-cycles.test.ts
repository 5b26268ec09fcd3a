// No import circle inside any package's src/: every relative import (type-only ones too, and `import('./x.js')` in
// types) is an edge, and the graph of each package must have no strongly connected component larger than one file.
// A circle hides which file is the foundation; breaking it usually means moving a shared type down a layer.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGES = fileURLToPath(new URL('../..', import.meta.url));

/** The relative module specifiers one TypeScript source imports or re-exports (static, type-only and `import()`). */
export function relativeImports(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const match of source.matchAll(pattern)) specifiers.push(match[1] as string);
  return specifiers;
}

/** Files of `dir` (recursively) ending in `.ts`, as absolute paths. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** The file an import specifier names: `./x.js` → `./x.ts`, `./dir` → `./dir/index.ts`. */
function resolveSpecifier(from: string, specifier: string): string {
  const target = resolve(dirname(from), specifier);
  if (target.endsWith('.js')) return `${target.slice(0, -3)}.ts`;
  if (target.endsWith('.ts')) return target;
  try {
    if (statSync(target).isDirectory()) return join(target, 'index.ts');
  } catch {
    // not a directory: fall through
  }
  return `${target}.ts`;
}

/** The import graph of a package's src/: file → files it imports (inside src/ only). */
export function importGraph(srcDir: string): Map<string, string[]> {
  const files = tsFiles(srcDir);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const edges = relativeImports(readFileSync(file, 'utf8'))
      .map((s) => resolveSpecifier(file, s))
      .filter((t) => known.has(t));
    graph.set(file, [...new Set(edges)]);
  }
  return graph;
}

/** Strongly connected components with more than one node, or a node importing itself (Tarjan's algorithm). */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) as number, low.get(to) as number));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) as number, index.get(to) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('import cycles', () => {
  it('finds a circle, a self-import and a circle through type-only imports, and nothing in a chain', () => {
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', []],
        ]),
      ),
    ).toEqual([]);
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['a']]]))).toEqual([['a']]);
    const source = [
      "import type { T } from './t.js';",
      "import { x,\n  y } from '../up/x.js';",
      "export * from './re.js';",
      "import './side-effect.js';",
      "type P = import('./in-type.js').P;",
      "import { readFileSync } from 'node:fs';",
      "import { z } from '@ingot/net';",
    ].join('\n');
    expect(relativeImports(source)).toEqual(['./t.js', '../up/x.js', './re.js', './side-effect.js', './in-type.js']);
  });

  const packages = readdirSync(PACKAGES).filter((p) => {
    try {
      return statSync(join(PACKAGES, p, 'src')).isDirectory();
    } catch {
      return false;
    }
  });

  it('scans every package', () => {
    expect(packages).toEqual(expect.arrayContaining(['allocator', 'arp', 'bgp', 'daemon', 'election', 'lab']));
  });

  it.each(packages)('packages/%s/src has no import circle', (name) => {
    const src = join(PACKAGES, name, 'src');
    const graph = importGraph(src);
    expect(graph.size).toBeGreaterThan(0);
    const found = cycles(graph).map((c) => c.map((f) => relative(src, f)).join(' <-> '));
    expect(found).toEqual([]);
  });
});

/**
 * The package layers: `@ingot/daemon` → the four protocol packages → `@ingot/net`, the leaf; never upward, never
 * sideways. `@ingot/lab` is for tests only: no published package imports it from src/ or lists it outside
 * devDependencies.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  net: [],
  allocator: ['net'],
  arp: ['net'],
  bgp: ['net'],
  election: ['net'],
  daemon: ['allocator', 'arp', 'bgp', 'election', 'net'],
  lab: ['allocator', 'arp', 'bgp', 'election', 'net', 'daemon'],
};

/**
 * The `@ingot/<name>` packages a source file imports or re-exports (static, type-only and `import()`; subpaths too),
 * outside comments (TSDoc examples import the package they document).
 */
export function ingotImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]@ingot\/([a-z0-9-]+)(?:\/[^'"]*)?['"]/gm;
  return [...new Set([...code.matchAll(pattern)].map((m) => m[1] as string))];
}

describe('package layers: daemon → the four → net', () => {
  const names = readdirSync(PACKAGES).filter((p) => {
    try {
      return statSync(join(PACKAGES, p, 'package.json')).isFile();
    } catch {
      return false;
    }
  });
  const manifest = (name: string) =>
    JSON.parse(readFileSync(join(PACKAGES, name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
  const ingot = (deps: Record<string, string> | undefined) =>
    Object.keys(deps ?? {})
      .filter((d) => d.startsWith('@ingot/'))
      .map((d) => d.slice('@ingot/'.length));

  it('reads @ingot imports, type-only and subpath ones too', () => {
    const source = [
      "import type { Clock } from '@ingot/net';",
      "import { libc } from '@ingot/net/libc';",
      "export { a } from '@ingot/arp';",
      "const m = await import('@ingot/bgp');",
      "import { x } from './local.js';",
      "/** @example import { Speaker } from '@ingot/daemon'; */",
      "// import { Speaker } from '@ingot/allocator';",
    ].join('\n');
    expect(ingotImports(source)).toEqual(['net', 'arp', 'bgp']);
  });

  it('knows every package', () => {
    expect(names.sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });

  it.each(Object.keys(MAY_IMPORT))('@ingot/%s declares and imports only packages below it', (name) => {
    const m = manifest(name);
    const declared = [...ingot(m.dependencies), ...ingot(m.peerDependencies)];
    const wrong = declared.filter((d) => !(MAY_IMPORT[name] ?? []).includes(d)).map((d) => `package.json: ${d}`);
    if (name !== 'lab') {
      for (const d of ingot(m.devDependencies)) {
        if (d !== 'lab' && !(MAY_IMPORT[name] ?? []).includes(d)) wrong.push(`devDependencies: ${d}`);
      }
    }
    const src = join(PACKAGES, name, 'src');
    for (const file of tsFiles(src)) {
      for (const d of ingotImports(readFileSync(file, 'utf8'))) {
        if (d === name) wrong.push(`${relative(src, file)} imports itself by name`);
        else if (name !== 'lab' && !declared.includes(d)) wrong.push(`${relative(src, file)}: ${d} (not a dependency)`);
        else if (!(MAY_IMPORT[name] ?? []).includes(d)) wrong.push(`${relative(src, file)}: ${d}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the declared package graph has no circle', () => {
    const graph = new Map(
      names.map((n) => [n, ingot({ ...manifest(n).dependencies, ...manifest(n).peerDependencies })]),
    );
    expect(cycles(graph)).toEqual([]);
  });
});
