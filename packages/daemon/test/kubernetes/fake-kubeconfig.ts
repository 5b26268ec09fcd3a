import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeApiServer } from './fake-api-server.js';

/** A test's cleanup list: run in reverse order after each test. */
export type Cleanups = (() => Promise<void> | void)[];

/** What {@link startWithKubeconfig} gives back. */
export interface FakeCluster {
  /** The fake API server's URL. */
  url: string;
  /** A fresh temporary directory (removed by the cleanups); the kubeconfig is in it, other files may go there too. */
  dir: string;
  /** Path of a kubeconfig whose current context is the fake API server. */
  kubeconfig: string;
}

/**
 * Starts `server` (objects applied before are there from the first list) and writes a kubeconfig for it in a fresh
 * temporary directory named `prefix` + random. Pushes the cleanups to `cleanups`: the server stopped, the directory
 * removed (the directory first, as cleanups run in reverse).
 */
export async function startWithKubeconfig(
  server: FakeApiServer,
  cleanups: Cleanups,
  prefix = 'ingot-kube-',
): Promise<FakeCluster> {
  const url = await server.start();
  cleanups.push(() => server.stop());
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
# client-node 1.4 refuses plain http unless TLS verification is marked as skipped
clusters: [{ name: fake, cluster: { server: "${url}", insecure-skip-tls-verify: true } }]
users: [{ name: nobody, user: {} }]
contexts: [{ name: fake, context: { cluster: fake, user: nobody } }]
current-context: fake
`,
  );
  return { url, dir, kubeconfig };
}
