/**
 * The daemons' command lines, in one place: deploy/controller-deployment.yaml and deploy/speaker-daemonset.yaml must
 * carry exactly these (test/deploy/workloads.test.ts), and the lab's Kubernetes tests run the same arguments and
 * environment as processes in namespaces (there is no container runtime on the lab machines), through {@link labCommand}.
 */
import { applyJsonPatch, readManifests, readPatch } from './manifests.js';

/** Where a container's environment variable comes from (the downward API, as in the manifests). */
export type EnvSource = { fieldPath: string } | { value: string };

/** One daemon's container command line. */
export interface CommandLine {
  /** The container's `command`. */
  command: readonly string[];
  /** The container's `args`; `$(VAR)` is replaced by Kubernetes (and by {@link labCommand}) from `env`. */
  args: readonly string[];
  /** The container's `env`. */
  env: Readonly<Record<string, EnvSource>>;
}

/** Where the speaker DaemonSet mounts the memberlist Secret's key (labCommand's `files` maps it to a lab file). */
export const MEMBERLIST_SECRET_FILE = '/etc/ingot/memberlist/secretkey';

/** The controller Deployment's container. */
export const CONTROLLER: CommandLine = {
  command: ['ingot'],
  args: [
    'run',
    '--kubernetes',
    '--role=controller',
    '--namespace=$(POD_NAMESPACE)',
    '--metrics-bind=0.0.0.0:7472',
    '--webhook-bind=0.0.0.0:9443',
    '--memberlist-secret-name=ingot-memberlist',
    '--status-objects',
    '--log-format=json',
  ],
  env: {
    POD_NAMESPACE: { fieldPath: 'metadata.namespace' },
    POD_NAME: { fieldPath: 'metadata.name' },
  },
};

/** The speaker DaemonSet's container. */
export const SPEAKER: CommandLine = {
  command: ['ingot'],
  args: [
    'run',
    '--kubernetes',
    '--role=speaker',
    '--namespace=$(POD_NAMESPACE)',
    '--node=$(NODE_NAME)',
    '--announce=live',
    '--metrics-bind=$(POD_IP):7472',
    '--memberlist-bind=$(POD_IP):7946',
    `--memberlist-secret-file=${MEMBERLIST_SECRET_FILE}`,
    '--memberlist-discover',
    '--status-objects',
    '--log-format=json',
  ],
  env: {
    NODE_NAME: { fieldPath: 'spec.nodeName' },
    POD_IP: { fieldPath: 'status.podIP' },
    POD_NAMESPACE: { fieldPath: 'metadata.namespace' },
    POD_NAME: { fieldPath: 'metadata.name' },
  },
};

/**
 * The speaker's command line in an overlay using these kustomize components of deploy/components (their
 * `speaker.patch.yaml` applied to deploy/speaker-daemonset.yaml, in order): what the lab runs to test a component as
 * shipped, e.g. `fast-failover`.
 */
export function speakerWithComponents(components: readonly string[]): CommandLine {
  let ds = readManifests('speaker-daemonset.yaml').find((o) => o.kind === 'DaemonSet');
  if (!ds) throw new Error('speaker-daemonset.yaml has no DaemonSet');
  for (const c of components) ds = applyJsonPatch(structuredClone(ds), readPatch(`components/${c}/speaker.patch.yaml`));
  const container = (ds as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec
    .template.spec.containers[0];
  return { ...SPEAKER, args: [...(container?.args ?? [])] };
}

/** What the downward API would give a pod in the lab. */
export interface LabPod {
  /** spec.nodeName */
  nodeName?: string;
  /** status.podIP: the node's address (host network). */
  podIp?: string;
  /** metadata.namespace @default 'metallb-system' */
  namespace?: string;
  /** metadata.name */
  podName: string;
}

/** Resolves a {@link CommandLine} for a lab process. */
export interface LabCommand {
  /** Arguments after `node packages/daemon/dist/cli.js`. */
  args: string[];
  /** Environment variables to set. */
  env: Record<string, string>;
}

/**
 * The only options a lab process adds to a manifest's arguments: `--kubeconfig` replaces the in-cluster service
 * account mount; `--webhook-host` puts the address the lab's API server dials (no Service routing without
 * kube-proxy) into the webhook certificate.
 */
export const LAB_ONLY_OPTIONS: readonly string[] = ['--webhook-host'];

/** Options of {@link labCommand}. */
export interface LabCommandOptions {
  /** Paths the manifests mount (Secrets) → files the lab wrote. */
  files?: Readonly<Record<string, string>>;
  /** Extra `--option=value` arguments; only {@link LAB_ONLY_OPTIONS} are allowed. */
  extraArgs?: readonly string[];
}

/**
 * The command line a lab process runs for a pod: the manifest's arguments with `$(VAR)` resolved from what the
 * downward API would give, plus `--kubeconfig FILE` (a kubeconfig holding a token of the same ServiceAccount) instead
 * of the in-cluster service account mount, plus `extraArgs` from {@link LAB_ONLY_OPTIONS}.
 */
export function labCommand(
  line: CommandLine,
  pod: LabPod,
  kubeconfig: string,
  options: LabCommandOptions = {},
): LabCommand {
  const files = options.files ?? {};
  for (const extra of options.extraArgs ?? [])
    if (!LAB_ONLY_OPTIONS.includes(extra.split('=')[0] as string))
      throw new Error(`labCommand: ${extra} is not a lab-only option; put it in the manifest and here`);
  const fields: Record<string, string | undefined> = {
    'spec.nodeName': pod.nodeName,
    'status.podIP': pod.podIp,
    'metadata.namespace': pod.namespace ?? 'metallb-system',
    'metadata.name': pod.podName,
  };
  const env: Record<string, string> = {};
  for (const [name, source] of Object.entries(line.env)) {
    const value = 'value' in source ? source.value : fields[source.fieldPath];
    if (value === undefined) throw new Error(`labCommand: ${name} needs ${JSON.stringify(source)}`);
    env[name] = value;
  }
  const args = line.args.map((arg) => {
    let out = arg.replace(/\$\(([A-Z_]+)\)/g, (_, name: string) => {
      const value = env[name];
      if (value === undefined) throw new Error(`labCommand: $(${name}) is not in env`);
      return value;
    });
    for (const [mounted, local] of Object.entries(files)) out = out.replace(mounted, local);
    return out;
  });
  return { args: [...args, ...(options.extraArgs ?? []), `--kubeconfig=${kubeconfig}`], env };
}
