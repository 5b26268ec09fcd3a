import { defineConfig } from 'tsup';

export default defineConfig({
  // One bundle per door, each self-contained (no shared chunks: the benchmarks copy dist/index.js alone), so the codec
  // is in both index and codec. BgpError is matched by name (isBgpError), which holds across the two copies.
  entry: {
    index: 'src/index.ts',
    codec: 'src/codec/index.ts',
    bfd: 'src/bfd/index.ts',
    unnumbered: 'src/unnumbered/index.ts',
  },
  format: ['esm', 'cjs'],
  // tsconfig.json is composite (for the root `tsc -b`); tsup's d.ts program holds only the entry's files: not composite.
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
});
