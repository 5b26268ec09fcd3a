#!/usr/bin/env node
// The `ingot` command. A committed shim rather than dist/cli.js itself: npm links a bin only if its target exists at
// install time, and in the workspace dist/ is built after `npm ci`; so `npx ingot` works after `npm ci && npm run build`.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('ingot: dist/cli.js is missing; build first (npm run build)\n');
  process.exit(1);
}
await import(cli.href);
