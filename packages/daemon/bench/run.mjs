// Benchmarks for @ingot/daemon (`npm run bench -w @ingot/daemon`; build first with `npx tsup`):
//   failover.mjs  layer-2 failover in namespaces: SIGKILL / SIGTERM of the owner's daemon to the client's first
//                 successful HTTP request through the service IP, 20 repetitions each, p50/p99 (needs root).
// Arguments are passed through (e.g. --reps 5, --modes kill, --json).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./failover.mjs', import.meta.url));
const child = spawn(process.execPath, [script, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
