// Runs every benchmark of @ingot/bgp in sequence: bench/codec.mjs, bench/speaker.mjs, bench/bfd.mjs (each bounded in time).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

for (const name of ['codec.mjs', 'speaker.mjs', 'bfd.mjs']) {
  const file = new URL(`./${name}`, import.meta.url);
  if (!existsSync(file)) continue;
  const r = spawnSync(process.execPath, [file.pathname, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
