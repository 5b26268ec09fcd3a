import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const PACKAGES = fileURLToPath(new URL('../../../', import.meta.url));
const hasKustomize = spawnSync('kubectl', ['kustomize', '--help']).status === 0;

/**
 * The overlays docs/operations.md tells users to write ("Install in Kubernetes", "Migrate from MetalLB"), built with
 * `kubectl kustomize` next to a checkout, as a user would. Runs where kubectl (with kustomize 5) is installed.
 */
describe.runIf(hasKustomize)('the documented kustomize overlays build (kubectl kustomize)', () => {
  let dir = '';
  let file = '';
  const base =
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../packages/daemon/deploy\n' +
    'images:\n  - name: ingot\n    newName: registry.example/ingot\n    newTag: 0.1.0\n';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-kustomize-'));
    symlinkSync(PACKAGES, join(dir, 'packages'));
    mkdirSync(join(dir, 'ingot-install'));
    file = join(dir, 'ingot-install', 'kustomization.yaml');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const build = () => {
    const r = spawnSync('kubectl', ['kustomize', join(dir, 'ingot-install')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; spec?: unknown });
  };
  const images = (objs: { kind: string; spec?: unknown }[]) =>
    objs.flatMap((o) =>
      (
        (o.spec as { template?: { spec: { containers: { image: string }[] } } } | undefined)?.template?.spec
          .containers ?? []
      ).map((c) => c.image),
    );

  it('install: every object, with the image set', () => {
    writeFileSync(file, base);
    const objs = build();
    expect(objs).toHaveLength(24);
    expect(images(objs)).toEqual(['registry.example/ingot:0.1.0', 'registry.example/ingot:0.1.0']);
  });

  it('with components/secure-metrics: kube-rbac-proxy next to both daemons', () => {
    writeFileSync(file, `${base}components:\n  - ../packages/daemon/deploy/components/secure-metrics\n`);
    const objs = build();
    expect(images(objs).filter((i) => i.includes('kube-rbac-proxy'))).toHaveLength(2);
    expect(objs.filter((o) => o.kind === 'ClusterRole')).toHaveLength(4);
  });

  it('with components/fast-failover (and secure-metrics): --failover=fast, UDP 7947 and SYS_NICE on the speaker', () => {
    writeFileSync(
      file,
      `${base}components:\n  - ../packages/daemon/deploy/components/secure-metrics\n` +
        '  - ../packages/daemon/deploy/components/fast-failover\n',
    );
    const objs = build();
    const ds = objs.find((o) => o.kind === 'DaemonSet') as unknown as {
      spec: {
        template: {
          spec: {
            containers: {
              args: string[];
              ports: { containerPort: number; protocol?: string }[];
              securityContext: { capabilities: { add: string[] } };
            }[];
          };
        };
      };
    };
    const speaker = ds.spec.template.spec.containers[0];
    expect(speaker?.args).toContain('--failover=fast');
    expect(speaker?.args).toContain('--metrics-bind=127.0.0.1:7472');
    expect(speaker?.ports).toContainEqual({ name: 'heartbeat-udp', containerPort: 7947, protocol: 'UDP' });
    expect(speaker?.securityContext.capabilities.add).toContain('SYS_NICE');
  });

  it('migration stage 1: everything but the speaker DaemonSet', () => {
    writeFileSync(
      join(dir, 'ingot-install', 'no-speaker.yaml'),
      '$patch: delete\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ingot-speaker\n  namespace: metallb-system\n',
    );
    writeFileSync(file, `${base}patches:\n  - path: no-speaker.yaml\n`);
    const objs = build();
    expect(objs.filter((o) => o.kind === 'DaemonSet')).toHaveLength(0);
    expect(objs.filter((o) => o.kind === 'Deployment')).toHaveLength(1);
  });
});
