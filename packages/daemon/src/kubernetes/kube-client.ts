/** The `@kubernetes/client-node` module (1.4, ESM). */
export type KubeClientModule = typeof import('@kubernetes/client-node');

let loading: Promise<KubeClientModule> | undefined;

/**
 * Loads `@kubernetes/client-node` on first use, so importing `@ingot/daemon` for standalone use does not pay for the
 * Kubernetes client (about a second to import) and CommonJS consumers are not forced to load an ES module.
 */
export function loadKubeClient(): Promise<KubeClientModule> {
  loading ??= import('@kubernetes/client-node');
  return loading;
}
