import { describe, expect, it } from 'vitest';
import { manifestFiles, readManifests } from './manifests.js';

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'ValidatingWebhookConfiguration',
]);

describe('deploy/ manifests', () => {
  const files = manifestFiles();

  it('includes the CRDs, the namespace and the RBAC', () => {
    expect(files).toContain('namespace.yaml');
    expect(files).toContain('rbac.yaml');
    expect(files.filter((f) => f.startsWith('crds/'))).toHaveLength(9);
  });

  for (const file of files) {
    it(`${file} parses into named Kubernetes objects, namespaced ones in metallb-system`, () => {
      const objects = readManifests(file);
      expect(objects.length).toBeGreaterThan(0);
      for (const o of objects) {
        if (o.kind === 'Kustomization' || o.kind === 'Component') continue;
        expect(o.apiVersion, file).toMatch(/^([a-z0-9.-]+\/)?v\d+(beta\d+|alpha\d+)?$/);
        expect(o.kind, file).toMatch(/^[A-Z][A-Za-z]+$/);
        expect(o.metadata?.name, file).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
        if (CLUSTER_SCOPED.has(o.kind)) expect(o.metadata.namespace, `${file} ${o.kind}`).toBeUndefined();
        else expect(o.metadata.namespace, `${file} ${o.kind}/${o.metadata.name}`).toBe('metallb-system');
      }
    });
  }
});
