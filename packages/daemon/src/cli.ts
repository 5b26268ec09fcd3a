#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { decodeCommand } from './commands/decode.js';
import { fetchStatus, formatStatus } from './commands/status.js';
import { validateCommand } from './commands/validate.js';
import { type DaemonMode, runMode } from './daemon-mode.js';
import { DEFAULT_CONFIG_YAML } from './default-config.js';
import { runDemo } from './demo/demo.js';
import { KubernetesDaemon, type KubernetesRole } from './kubernetes/kubernetes-daemon.js';
import { createLogger, type LogFormat, type LogLevel } from './logger.js';
import { StandaloneMode } from './standalone/standalone-mode.js';

const USAGE = `usage: ingot <command> [options]

commands:
  run        run the daemon (controller + speaker) on --config, or on the embedded default configuration
  status     what the running daemon does now: services, IPs, pools, owners, BGP peers, members
             (--address HOST:PORT, default 127.0.0.1:7472; --json for scripts)
  validate   check a configuration file and print every issue with file:line, field and reason (exit 1 if invalid)
  decode     decode a BGP message or an ARP/NDP frame: ingot decode bgp|arp|ndp HEX|-  (ingot decode --help)
  demo       on a root Linux machine: a throw-away three-node namespace cluster with a client (and FRR when
             installed), services getting IPs, HTTP through them, the owner killed and the IP moving; then cleanup
             (--keep: leave it running until Ctrl-C)
  version    print the version

options:
  --config FILE       MetalLB resources as YAML (IPAddressPool, L2Advertisement, BGPAdvertisement, BGPPeer, Community,
                      and in standalone mode Service); reloaded when the file changes, the last good one stays in force
                      plus Ingot's Node and IPRange documents (see docs/configuration.md); SIGHUP reloads too
  --node NAME         this node's name (default: $NODE_NAME, else the only Node document, else the host name)
  --announce MODE     dry-run (default: log what would be announced, no privileges) or live (answer ARP/NDP with
                      CAP_NET_RAW and run BGP sessions to the configured BGPPeers); overrides Node spec.announce
  --state-dir DIR     persist the assignment table there (Node spec.stateDirectory)
  --data-path MODE    local (add owned service IPs to lo, arp_ignore=1; default when live), interface (layer-2
                      owned IPs on their interface: the kernel answers ARP/NDP) or none
  --status-address HOST:PORT  serve /metrics /healthz /readyz /status /assignments (default 127.0.0.1:7472, or the
                      memberlist host:7472 with gossip); --metrics-bind is an alias
  --local-status-address HOST:PORT  serve /metrics /healthz /readyz /status there instead (e.g. 127.0.0.1:7473); the
                      status address then answers only /assignments to the other members (Node spec.localStatusAddress)
  --interface NAME    live layer 2: answer only on these interfaces (repeatable; default all, minus MetalLB's exclusions)
  --router-id IP      BGP identifier for BGPPeers without routerID (default 192.0.2.1 in dry-run; required for live BGP
                      in standalone mode; with --kubernetes each session's local address as MetalLB's native speaker,
                      for IPv6 sessions the interface's IPv4 address, falling back to the IPv4 of --memberlist-bind or
                      --metrics-bind, i.e. the pod IP)
  --node-label K=V    this node's labels (repeatable), matched by nodeSelectors and preferredNodeSelectors
  --memberlist-bind HOST:PORT    run SWIM gossip membership on this address (UDP+TCP), e.g. 192.0.2.1:7946
  --memberlist-advertise HOST[:PORT]  address the other members reach this node at (needed when the bind address is
                                 a wildcard, 0.0.0.0 or ::, and the host has several addresses)
  --memberlist-join HOST:PORT    seed to join (repeatable)
  --memberlist-secret-file FILE  MetalLB memberlist secret, at least 16 bytes (key derived as MetalLB does)
  --memberlist-insecure-plaintext  run gossip unencrypted (required without a secret; logged as a warning)
  --memberlist-wire memberlist|ingot  the gossip wire: memberlist (default; hashicorp/memberlist's, one membership
                      with MetalLB's speakers) or ingot (Ingot's own, with a replay window; every node Ingot); see
                      docs/configuration.md
  --metrics-bind HOST:PORT       serve Prometheus /metrics and /healthz there (MetalLB's metric names)
  --failover PROFILE  layer-2 failover when an owner is killed: gossip (default: when SWIM declares it dead, about
                      0.55 s) or fast (a per-pair heartbeat on UDP memberlist port + 1, about 0.12-0.25 s; needs
                      --memberlist-bind or spec.memberlist); overrides Node spec.failover; works with --kubernetes too
  --realtime-priority N  live layer 2: run the answer thread (which answers ARP) at SCHED_FIFO priority N (1-99)
                      for steadier reply latency; needs CAP_SYS_NICE, else a warning and normal priority. With
                      --failover fast also the heartbeat thread's priority (default 10 there)
  --log-level LEVEL   debug | info | warn | error (default info)
  --log-format FMT    auto (default: human-readable on a terminal, JSON lines otherwise) | json | pretty
  --kubernetes        read MetalLB's CRs (in --namespace), Services and Nodes from the Kubernetes API instead of --config:
                      in-cluster credentials, or --kubeconfig FILE
  --kubeconfig FILE   kubeconfig to use with --kubernetes (implies --kubernetes)
  --namespace NS      MetalLB's namespace (default metallb-system)
  --role ROLE         with --kubernetes: controller (one replica: allocates, writes Service status), speaker
                      (DaemonSet: announces), or all (default; both in one process, for single-node clusters)
  --lb-class NAME     handle only Services with this spec.loadBalancerClass (default: Services without a class)
  --ignore-exclude-lb keep nodes labelled node.kubernetes.io/exclude-from-external-load-balancers eligible
  --webhook-bind HOST:PORT  controller: serve the validating and conversion webhooks there over HTTPS (certificate
                      made and rotated by the controller, kept in the Secret ingot-webhook-cert; deploy/webhook.yaml)
  --webhook-host NAME  controller: also put this DNS name or IP in the webhook certificate (repeatable)
  --memberlist-secret-name NAME  controller: create this Secret (key secretkey, 16 random bytes) in --namespace when
                      missing, for the speakers' --memberlist-secret-file (MetalLB's --ml-secret-name)
  --memberlist-discover  speaker with --kubernetes and --memberlist-bind: join the speakers at the Nodes' InternalIPs
                      (the gossip port of --memberlist-bind), at start, every minute and when a Node appears
  --status-objects    write MetalLB's status objects: ServiceL2Status/ServiceBGPStatus (speaker), IPAddressPool status
                      counts (controller), ConfigurationState (both); kubectl get ... -n NS shows them
  --leader-elect      controller: act only while holding the Lease ingot-controller in --namespace, so several
                      replicas can run (identity: $POD_NAME, else the host name)
  --print-default     print the embedded default configuration and exit
`;

function main(argv: string[]): number | undefined {
  // Commands with their own argument syntax.
  if (argv[0] === 'decode') {
    const io = {
      stdin: () => readStdin(),
      out: (s: string) => process.stdout.write(s),
      err: (s: string) => process.stderr.write(s),
    };
    void decodeCommand(argv.slice(1), io).then((code) => {
      process.exitCode = code;
    });
    return undefined;
  }
  if (argv[0] === 'demo') {
    const keep = argv.includes('--keep');
    const frr = argv.includes('--no-frr') ? false : 'auto';
    const log = createLogger({ level: argv.includes('--verbose') ? 'debug' : 'warn' });
    void runDemo({ log, out: (line) => process.stdout.write(`${line}\n`), keep, frr }).then((code) => {
      process.exit(code);
    });
    return undefined;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      node: { type: 'string' },
      announce: { type: 'string' },
      'state-dir': { type: 'string' },
      'data-path': { type: 'string' },
      failover: { type: 'string' },
      'realtime-priority': { type: 'string' },
      'status-address': { type: 'string' },
      'local-status-address': { type: 'string' },
      address: { type: 'string' },
      json: { type: 'boolean', default: false },
      interface: { type: 'string', multiple: true, default: [] },
      'router-id': { type: 'string' },
      'node-label': { type: 'string', multiple: true, default: [] },
      'memberlist-bind': { type: 'string' },
      'memberlist-join': { type: 'string', multiple: true, default: [] },
      'memberlist-secret-file': { type: 'string' },
      'memberlist-advertise': { type: 'string' },
      'memberlist-insecure-plaintext': { type: 'boolean', default: false },
      'memberlist-wire': { type: 'string' },
      'metrics-bind': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'log-format': { type: 'string', default: 'auto' },
      'print-default': { type: 'boolean', default: false },
      kubernetes: { type: 'boolean', default: false },
      kubeconfig: { type: 'string' },
      namespace: { type: 'string', default: 'metallb-system' },
      role: { type: 'string', default: 'all' },
      'lb-class': { type: 'string' },
      'ignore-exclude-lb': { type: 'boolean', default: false },
      'leader-elect': { type: 'boolean', default: false },
      'webhook-bind': { type: 'string' },
      'webhook-host': { type: 'string', multiple: true, default: [] },
      'memberlist-secret-name': { type: 'string' },
      'memberlist-discover': { type: 'boolean', default: false },
      'status-objects': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0] ?? 'run';
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values['print-default']) {
    process.stdout.write(DEFAULT_CONFIG_YAML);
    return 0;
  }
  const level = values['log-level'] as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    process.stderr.write(`invalid --log-level ${JSON.stringify(level)}\n${USAGE}`);
    return 2;
  }
  const format = values['log-format'] as LogFormat;
  if (!['auto', 'json', 'pretty'].includes(format)) {
    process.stderr.write(`invalid --log-format ${JSON.stringify(format)}\n${USAGE}`);
    return 2;
  }
  const log = createLogger({ level, format });
  switch (command) {
    case 'version':
      process.stdout.write(`${readVersion()}\n`);
      return 0;
    case 'status': {
      const address = values.address ?? values['status-address'] ?? '127.0.0.1:7472';
      fetchStatus(address).then(
        (doc) => {
          process.stdout.write(values.json ? `${JSON.stringify(doc, null, 2)}\n` : formatStatus(doc));
        },
        (err: Error) => {
          process.stderr.write(`ingot status: ${err.message} (is the daemon running? --address HOST:PORT)\n`);
          process.exitCode = 1;
        },
      );
      return undefined;
    }
    case 'validate': {
      const file = values.config ?? positionals[1];
      if (!file) {
        process.stderr.write(`validate needs a file\n${USAGE}`);
        return 2;
      }
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        process.stderr.write(`${file}: ${(err as Error).message}\n`);
        return 1;
      }
      return validateCommand(file, text, (line) => process.stdout.write(line));
    }
    case 'run': {
      const announce = values.announce;
      if (announce !== undefined && announce !== 'dry-run' && announce !== 'live') {
        process.stderr.write(`invalid --announce ${JSON.stringify(announce)}\n${USAGE}`);
        return 2;
      }
      const role = values.role as KubernetesRole;
      if (role !== 'controller' && role !== 'speaker' && role !== 'all') {
        process.stderr.write(`invalid --role ${JSON.stringify(role)}\n${USAGE}`);
        return 2;
      }
      const dataPath = values['data-path'];
      if (dataPath !== undefined && dataPath !== 'local' && dataPath !== 'interface' && dataPath !== 'none') {
        process.stderr.write(`invalid --data-path ${JSON.stringify(dataPath)}\n${USAGE}`);
        return 2;
      }
      const failover = values.failover;
      if (failover !== undefined && failover !== 'gossip' && failover !== 'fast') {
        process.stderr.write(`invalid --failover ${JSON.stringify(failover)}: expected gossip or fast\n${USAGE}`);
        return 2;
      }
      const kubernetesSpeaker = (values.kubernetes || values.kubeconfig !== undefined) && role !== 'controller';
      if (failover === 'fast' && kubernetesSpeaker && !values['memberlist-bind']) {
        process.stderr.write(
          'invalid --failover fast: the Kubernetes speaker needs --memberlist-bind (the heartbeat runs on its port + 1)\n',
        );
        return 2;
      }
      const wire = values['memberlist-wire'];
      if (wire !== undefined && wire !== 'ingot' && wire !== 'memberlist') {
        process.stderr.write(
          `invalid --memberlist-wire ${JSON.stringify(wire)}: expected ingot or memberlist\n${USAGE}`,
        );
        return 2;
      }
      const rtText = values['realtime-priority'];
      const realtimePriority = rtText === undefined ? undefined : Number(rtText);
      if (
        realtimePriority !== undefined &&
        !(Number.isInteger(realtimePriority) && realtimePriority >= 1 && realtimePriority <= 99)
      ) {
        process.stderr.write(`invalid --realtime-priority ${JSON.stringify(rtText)}: expected 1..99\n${USAGE}`);
        return 2;
      }
      const runOptions: RunOptions = {
        realtimePriority,
        configFile: values.config,
        node: values.node ?? (process.env.NODE_NAME || undefined),
        announce,
        stateDirectory: values['state-dir'],
        dataPath,
        failover,
        interfaces: values.interface ?? [],
        routerId: values['router-id'],
        labels: Object.fromEntries(
          (values['node-label'] ?? []).map((kv) => [kv.split('=')[0], kv.split('=').slice(1).join('=')]),
        ),
        memberlist: values['memberlist-bind']
          ? {
              bind: values['memberlist-bind'],
              join: values['memberlist-join'] ?? [],
              secretFile: values['memberlist-secret-file'],
              advertise: values['memberlist-advertise'],
              insecurePlaintext: values['memberlist-insecure-plaintext'] ?? false,
              wire,
            }
          : undefined,
        metricsBind: values['status-address'] ?? values['metrics-bind'],
        localStatusAddress: values['local-status-address'],
        kubernetes:
          values.kubernetes || values.kubeconfig
            ? {
                namespace: values.namespace ?? 'metallb-system',
                role,
                ignoreExcludeLabel: values['ignore-exclude-lb'] ?? false,
                ...(values['leader-elect'] ? { leaderElectionIdentity: process.env.POD_NAME || hostname() } : {}),
                ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
                ...(values['lb-class'] ? { loadBalancerClass: values['lb-class'] } : {}),
                ...(values['webhook-bind']
                  ? { webhook: { bind: values['webhook-bind'], hosts: values['webhook-host'] ?? [] } }
                  : {}),
                ...(values['memberlist-secret-name'] ? { memberlistSecretName: values['memberlist-secret-name'] } : {}),
                ...(values['memberlist-discover'] ? { memberlistDiscover: true } : {}),
                ...(values['status-objects'] ? { statusObjects: true } : {}),
              }
            : undefined,
        log,
      };
      runMode(modeOf(runOptions), log).catch((err: Error) => {
        log.error('fatal', { error: err.message });
        process.exit(1);
      });
      return undefined;
    }
    default:
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}

interface RunOptions {
  configFile: string | undefined;
  node: string | undefined;
  announce: 'live' | 'dry-run' | undefined;
  interfaces: string[];
  routerId: string | undefined;
  labels: Record<string, string>;
  memberlist:
    | {
        bind: string;
        join: string[];
        secretFile: string | undefined;
        advertise: string | undefined;
        insecurePlaintext: boolean;
        wire: 'ingot' | 'memberlist' | undefined;
      }
    | undefined;
  metricsBind: string | undefined;
  localStatusAddress: string | undefined;
  stateDirectory: string | undefined;
  dataPath: 'local' | 'interface' | 'none' | undefined;
  failover: 'gossip' | 'fast' | undefined;
  realtimePriority: number | undefined;
  kubernetes:
    | {
        namespace: string;
        role: KubernetesRole;
        ignoreExcludeLabel: boolean;
        leaderElectionIdentity?: string;
        kubeconfig?: string;
        loadBalancerClass?: string;
        webhook?: { bind: string; hosts: readonly string[] };
        memberlistSecretName?: string;
        memberlistDiscover?: boolean;
        statusObjects?: boolean;
      }
    | undefined;
  log: ReturnType<typeof createLogger>;
}

/** The mode `ingot run` starts: standalone on a configuration file, or Kubernetes with `--kubernetes`. */
function modeOf(opts: RunOptions): DaemonMode {
  const { log } = opts;
  if (!opts.kubernetes) {
    return new StandaloneMode({
      ...(opts.configFile ? { configFile: opts.configFile } : {}),
      ...(opts.node ? { nodeName: opts.node } : {}),
      ...(opts.announce ? { announce: opts.announce } : {}),
      interfaces: opts.interfaces,
      ...(opts.routerId ? { routerId: opts.routerId } : {}),
      labels: opts.labels,
      ...(opts.memberlist
        ? {
            memberlist: {
              bindAddress: opts.memberlist.bind,
              join: opts.memberlist.join,
              ...(opts.memberlist.secretFile ? { secretFile: opts.memberlist.secretFile } : {}),
              ...(opts.memberlist.advertise ? { advertiseAddress: opts.memberlist.advertise } : {}),
              ...(opts.memberlist.insecurePlaintext ? { insecurePlaintext: true } : {}),
              ...(opts.memberlist.wire ? { wire: opts.memberlist.wire } : {}),
            },
          }
        : {}),
      ...(opts.metricsBind ? { statusAddress: opts.metricsBind } : {}),
      ...(opts.localStatusAddress ? { localStatusAddress: opts.localStatusAddress } : {}),
      ...(opts.stateDirectory ? { stateDirectory: opts.stateDirectory } : {}),
      ...(opts.dataPath ? { dataPath: opts.dataPath } : {}),
      ...(opts.failover ? { failover: opts.failover } : {}),
      ...(opts.realtimePriority !== undefined ? { realtimePriority: opts.realtimePriority } : {}),
      log,
      version: readVersion(),
    });
  }
  const { webhook, memberlistSecretName, memberlistDiscover, ...kubernetes } = opts.kubernetes;
  const node = opts.node ?? hostname();
  const ml = opts.memberlist;
  return new KubernetesDaemon({
    ...kubernetes,
    node,
    speaker: {
      labels: opts.labels,
      backends: {
        announce: opts.announce ?? 'dry-run',
        interfaces: opts.interfaces,
        ...(opts.realtimePriority !== undefined ? { realtimePriority: opts.realtimePriority } : {}),
        bgp: {
          routerId: opts.routerId ?? ipv4Host(ml?.bind) ?? ipv4Host(opts.metricsBind) ?? '192.0.2.1',
          // Without --router-id, each session's own local address, as MetalLB's native speaker (the pod IP is the fallback).
          ...(opts.routerId ? {} : { sessionRouterId: { nodeName: node } }),
        },
      },
      ...(ml
        ? {
            memberlist: {
              bind: ml.bind,
              join: ml.join,
              ...(ml.secretFile ? { secretFile: ml.secretFile } : {}),
              ...(ml.advertise ? { advertise: ml.advertise } : {}),
              insecurePlaintext: ml.insecurePlaintext,
              ...(ml.wire ? { wire: ml.wire } : {}),
            },
          }
        : {}),
      ...(memberlistDiscover ? { memberlistDiscover } : {}),
      ...(opts.failover ? { failover: opts.failover } : {}),
    },
    controller: {
      ...(webhook ? { webhook } : {}),
      ...(memberlistSecretName ? { memberlistSecretName } : {}),
    },
    ...(opts.metricsBind ? { metricsBind: opts.metricsBind } : {}),
    log,
  });
}

/** The host of `HOST:PORT` when it is a unicast IPv4 address (not 0.0.0.0), else undefined. */
function ipv4Host(bind: string | undefined): string | undefined {
  const host = bind?.slice(0, bind.lastIndexOf(':'));
  return host && isIPv4(host) && host !== '0.0.0.0' ? host : undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

const code = main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
