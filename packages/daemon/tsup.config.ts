import { defineConfig } from 'tsup';

export default defineConfig({
  // netns: the demo's namespace helper, also used by the benchmarks (bench/*.mjs import ../dist/netns.js).
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', netns: 'src/demo/netns.ts' },
  format: ['esm', 'cjs'],
  // tsconfig.json is composite (for the root `tsc -b`); tsup's d.ts program holds only the entry's files: not composite.
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
});
