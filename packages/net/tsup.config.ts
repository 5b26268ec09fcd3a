import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/libc.ts'],
  format: ['esm', 'cjs'],
  // tsconfig.json is composite (for the root `tsc -b`); tsup's d.ts program holds only the entry's files: not composite.
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
  // import.meta.url in the CommonJS build too: the libc binding resolves koffi from it.
  shims: true,
});
