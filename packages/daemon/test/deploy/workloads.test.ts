import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTROLLER, type CommandLine, labCommand, SPEAKER, speakerWithComponents } from './command-lines.js';
import { applyJsonPatch, DEPLOY_DIR, type Manifest, manifestFiles, readManifests, readPatch } from './manifests.js';

interface Container {
  name: string;
  command: string[];
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext: {
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
}
interface PodSpec {
  serviceAccountName: string;
  hostNetwork?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
}

function workload(file: string, kind: string): { obj: Manifest; pod: PodSpec; container: Container } {
  const obj = readManifests(file).find((o) => o.kind === kind) as Manifest;
  const pod = (obj as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
  expect(pod.containers).toHaveLength(1);
  return { obj, pod, container: pod.containers[0] as Container };
}

function envOf(container: Container): CommandLine['env'] {
  return Object.fromEntries(
    container.env.map((e) => [
      e.name,
      e.valueFrom?.fieldRef ? { fieldPath: e.valueFrom.fieldRef.fieldPath } : { value: e.value ?? '' },
    ]),
  );
}

/** Every long option the CLI parses (from the parseArgs options in src/cli.ts). */
function cliOptions(): Set<string> {
  const text = readFileSync(new URL('../../src/cli.ts', import.meta.url), 'utf8');
  return new Set(
    [...text.matchAll(/^\s+'?([a-z][a-z-]*)'?: \{ type: '(?:string|boolean)'/gm)].map((m) => m[1] as string),
  );
}

describe('the workloads run the lab command lines', () => {
  const options = cliOptions();
  for (const [file, kind, line] of [
    ['controller-deployment.yaml', 'Deployment', CONTROLLER],
    ['speaker-daemonset.yaml', 'DaemonSet', SPEAKER],
  ] as const) {
    it(`${file}: command, args and env are the ones test/deploy/command-lines.ts gives the lab`, () => {
      const { container } = workload(file, kind);
      expect(container.command).toEqual(line.command);
      expect(container.args).toEqual(line.args);
      expect(envOf(container)).toEqual(line.env);
    });

    it(`${file}: every option is one the CLI knows, and every $(VAR) is in env`, () => {
      for (const arg of line.args.filter((a) => a.startsWith('--'))) {
        expect(options, arg).toContain(arg.slice(2).split('=')[0]);
        for (const m of arg.matchAll(/\$\(([A-Z_]+)\)/g)) expect(Object.keys(line.env)).toContain(m[1]);
      }
    });
  }

  it('labCommand resolves the downward API and adds only --kubeconfig', () => {
    const lab = labCommand(SPEAKER, { nodeName: 'node-a', podIp: '192.0.2.11', podName: 'speaker-a' }, '/tmp/kc');
    expect(lab.env).toEqual({
      NODE_NAME: 'node-a',
      POD_IP: '192.0.2.11',
      POD_NAMESPACE: 'metallb-system',
      POD_NAME: 'speaker-a',
    });
    expect(lab.args).toContain('--node=node-a');
    expect(lab.args).toContain('--metrics-bind=192.0.2.11:7472');
    expect(lab.args.at(-1)).toBe('--kubeconfig=/tmp/kc');
    expect(lab.args.slice(0, -1)).toHaveLength(SPEAKER.args.length);
    expect(lab.args.join(' ')).not.toContain('$(');
    expect(() => labCommand(SPEAKER, { podName: 'x' }, '/tmp/kc')).toThrow(/NODE_NAME/);
    const extra = labCommand(CONTROLLER, { podName: 'c' }, '/tmp/kc', { extraArgs: ['--webhook-host=127.0.0.1'] });
    expect(extra.args.slice(-2)).toEqual(['--webhook-host=127.0.0.1', '--kubeconfig=/tmp/kc']);
    expect(() => labCommand(CONTROLLER, { podName: 'c' }, '/tmp/kc', { extraArgs: ['--role=all'] })).toThrow(
      /not a lab-only option/,
    );
  });
});

describe('pod security', () => {
  it('speaker: host network, NODE_NAME from the downward API, root with NET_RAW/NET_ADMIN/NET_BIND_SERVICE only', () => {
    const { pod, container } = workload('speaker-daemonset.yaml', 'DaemonSet');
    expect(pod.serviceAccountName).toBe('ingot-speaker');
    expect(pod.hostNetwork).toBe(true);
    expect(envOf(container).NODE_NAME).toEqual({ fieldPath: 'spec.nodeName' });
    expect(container.securityContext.capabilities?.drop).toEqual(['ALL']);
    expect([...(container.securityContext.capabilities?.add ?? [])].sort()).toEqual([
      'NET_ADMIN',
      'NET_BIND_SERVICE',
      'NET_RAW',
    ]);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it('controller: non-root, no capabilities, no host network', () => {
    const { obj, pod, container } = workload('controller-deployment.yaml', 'Deployment');
    expect((obj as unknown as { spec: { replicas: number } }).spec.replicas).toBe(1);
    expect(pod.serviceAccountName).toBe('ingot-controller');
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).not.toBe(0);
    expect(container.securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
  });
});

describe('kustomization and image', () => {
  it('kustomization.yaml lists every manifest once', () => {
    const k = readManifests('kustomization.yaml')[0] as unknown as { resources: string[] };
    expect([...k.resources].sort()).toEqual(
      manifestFiles().filter((f) => f !== 'kustomization.yaml' && !f.startsWith('components/')),
    );
  });

  it('the Dockerfile packs @ingot/daemon and every @ingot package it depends on, on Node 20 slim', () => {
    const dockerfile = readFileSync(join(DEPLOY_DIR, '../Dockerfile'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(DEPLOY_DIR, '../package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(new Set(froms)).toEqual(new Set(['node:20-slim']));
    const packed = [...dockerfile.matchAll(/-w packages\/([a-z]+)/g)].map((m) => `@ingot/${m[1]}`).sort();
    const wanted = ['@ingot/daemon', ...Object.keys(pkg.dependencies).filter((d) => d.startsWith('@ingot/'))].sort();
    expect(packed).toEqual(wanted);
    expect(dockerfile).toMatch(/^USER 65534/m);
    // The controller's memory at 10,000 Services depends on it (README, "Controller memory at 10,000 Services").
    expect(dockerfile).toMatch(/^ENV NODE_OPTIONS="--max-semi-space-size=2"$/m);
  });
});

describe('components/secure-metrics', () => {
  it('its patches move /metrics to loopback behind kube-rbac-proxy on :9120, probing from inside', () => {
    for (const [file, kind, patch] of [
      ['controller-deployment.yaml', 'Deployment', 'controller.patch.yaml'],
      ['speaker-daemonset.yaml', 'DaemonSet', 'speaker.patch.yaml'],
    ] as const) {
      const { obj } = workload(file, kind);
      const patched = applyJsonPatch(structuredClone(obj), readPatch(`components/secure-metrics/${patch}`));
      const pod = (patched as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
      const [daemon, proxy] = pod.containers as [Container, Container & { args: string[] }];
      expect(daemon.args.filter((a) => a.startsWith('--metrics-bind'))).toEqual(['--metrics-bind=127.0.0.1:7472']);
      expect(daemon.args).toHaveLength(
        (obj as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec.containers[0]?.args.length ??
          0,
      );
      expect(proxy.name).toBe('kube-rbac-proxy');
      expect(proxy.args).toContain('--upstream=http://127.0.0.1:7472/');
      expect(JSON.stringify((daemon as unknown as { livenessProbe: unknown }).livenessProbe)).toContain(
        '127.0.0.1:7472/metrics',
      );
    }
  });

  it('its kustomization names its files', () => {
    const k = readManifests('components/secure-metrics/kustomization.yaml')[0] as unknown as {
      kind: string;
      resources: string[];
      patches: { path: string }[];
    };
    expect(k.kind).toBe('Component');
    for (const f of [...k.resources, ...k.patches.map((p) => p.path)])
      expect(existsSync(join(DEPLOY_DIR, 'components/secure-metrics', f)), f).toBe(true);
  });
});

describe('components/fast-failover', () => {
  it('its patch adds --failover=fast, opens UDP on the memberlist port + 1 and adds SYS_NICE, nothing else', () => {
    const { obj, container: base } = workload('speaker-daemonset.yaml', 'DaemonSet');
    const patched = applyJsonPatch(structuredClone(obj), readPatch('components/fast-failover/speaker.patch.yaml'));
    const pod = (patched as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
    const c = pod.containers[0] as Container & { ports: { name: string; containerPort: number; protocol?: string }[] };
    expect(c.args).toEqual([...base.args, '--failover=fast']);
    expect(cliOptions()).toContain('failover');
    const gossipPort = Number(
      c.args
        .find((a) => a.startsWith('--memberlist-bind='))
        ?.split(':')
        .at(-1),
    );
    expect(gossipPort).toBe(7946);
    expect(c.ports.filter((p) => p.containerPort === gossipPort + 1)).toEqual([
      { name: 'heartbeat-udp', containerPort: gossipPort + 1, protocol: 'UDP' },
    ]);
    expect([...(c.securityContext.capabilities?.add ?? [])].sort()).toEqual([
      'NET_ADMIN',
      'NET_BIND_SERVICE',
      'NET_RAW',
      'SYS_NICE',
    ]);
    expect(envOf(c)).toEqual(SPEAKER.env);
    // The lab runs the same command line for it.
    expect(speakerWithComponents(['fast-failover']).args).toEqual(c.args);
    expect(speakerWithComponents([]).args).toEqual(SPEAKER.args);
  });

  it('its kustomization names its patch', () => {
    const k = readManifests('components/fast-failover/kustomization.yaml')[0] as unknown as {
      kind: string;
      patches: { path: string }[];
    };
    expect(k.kind).toBe('Component');
    for (const f of k.patches.map((p) => p.path))
      expect(existsSync(join(DEPLOY_DIR, 'components/fast-failover', f)), f).toBe(true);
  });
});
