// Benchmarks for @ingot/daemon (`npm run bench -w @ingot/daemon`; build first with `npx tsup`):
//   failover.mjs    layer-2 failover in namespaces: SIGKILL / SIGTERM of the owner's daemon to the client's first
//                   successful HTTP request through the service IP, 20 repetitions each, p50/p99 (needs root).
//   kubernetes.mjs  Kubernetes mode against a real kube-apiserver (the lab's build): 1,000 and 10,000 Services to
//                   every IP in status, steady-state requests per process, change to every speaker p50/p99, memory.
// `npm run bench` runs both, one after the other; `npm run bench -- kubernetes --services 1000` runs one, with its
// arguments (e.g. --reps 5, --modes kill, --json).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = ['failover', 'kubernetes'];
const argv = process.argv.slice(2);
const chosen = BENCHES.includes(argv[0]) ? [argv[0]] : BENCHES;
const rest = BENCHES.includes(argv[0]) ? argv.slice(1) : argv;

let current;
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => current?.kill(sig));
for (const name of chosen) {
  const script = fileURLToPath(new URL(`./${name}.mjs`, import.meta.url));
  current = spawn(process.execPath, [script, ...rest], { stdio: 'inherit' });
  const code = await new Promise((resolve) => {
    current.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  if (code !== 0) process.exitCode = code;
}
