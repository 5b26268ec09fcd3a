import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const childDir = fileURLToPath(new URL('./fixtures/child/', import.meta.url));

/** The vitest CLI of the workspace (found by walking up to node_modules). */
function vitestBin(): string {
  let dir = childDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', 'vitest', 'vitest.mjs');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('vitest CLI not found');
    dir = up;
  }
}

/** Run one fixture of test/fixtures/child in a separate vitest process; resolves with its exit code and output. */
export function runChildVitest(
  fixture: string,
  env: Record<string, string | undefined>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, NO_COLOR: '1', FORCE_COLOR: '0' };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
    delete childEnv.VITEST;
    delete childEnv.VITEST_WORKER_ID;
    delete childEnv.VITEST_POOL_ID;
    const child = spawn(
      process.execPath,
      [vitestBin(), 'run', '--config', join(childDir, 'vitest.config.ts'), fixture],
      {
        cwd: childDir,
        env: childEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
