// Module hooks that let a benchmark import TypeScript sources (@ingot/lab, the test fake server) under Node 20, which
// cannot strip types itself: `.ts` files are transpiled one by one with esbuild (already in the tree through tsup), so
// `import.meta.url` stays each file's own and the lab finds its files next to it. A `.js` import that does not exist
// resolves to the `.ts` beside it, as TypeScript's NodeNext resolution does.
// Registered by bench/kubernetes.mjs with module.register(); nothing else uses it.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts') && specifier.startsWith('.')) {
    const url = new URL(specifier, context.parentURL);
    if (!existsSync(fileURLToPath(url))) {
      const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
    }
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const out = await transform(source, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: url });
  return { format: 'module', source: out.code, shortCircuit: true };
}
