// Kubernetes mode in the lab, against a real API server: createLan(5) gives node-1..node-3 (hosts 1-3, 192.0.2.1-3),
// a client (host 4) and the control plane (host 5, 192.0.2.5: etcd, kube-apiserver and ingot's controller); the LAN's
// router namespace (192.0.2.254) can run FRR. Every manifest of packages/daemon/deploy is applied as shipped (the
// webhooks dial the controller on the control plane's loopback). The controller and the speakers run the command
// lines of the Deployment and the DaemonSet (test/deploy/command-lines.ts) as processes, with kubeconfigs holding
// tokens of their ServiceAccounts, so the shipped RBAC is what they run under. Each node also runs http-server.mjs
// (200 + its node name). There is no kubelet, kube-proxy or controller-manager: the test registers the Nodes and
// their status, writes the EndpointSlices, and plays kube-proxy's part of the data path by making the pools'
// addresses local on every node's lo (arp_ignore=1, so only the speaker answers ARP for them, as with kube-proxy's
// IPVS mode).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BgpPeer,
  createLan,
  type KubeObject,
  type LabHost,
  type LabKubernetes,
  type LabProcess,
  type Lan,
  type PeerOptions,
  pollUntil,
  startKubernetes,
  startPeer,
} from '@ingot/lab';
import { beforeAll, beforeEach } from 'vitest';
import {
  CONTROLLER,
  type CommandLine,
  labCommand,
  MEMBERLIST_SECRET_FILE,
  SPEAKER,
  speakerWithComponents,
} from '../deploy/command-lines.js';
import {
  CLI,
  HTTP_SERVER,
  type HttpResult,
  jsonLogRecords,
  NODE_NAMES,
  STATUS_PORT,
  setUpOrDestroy,
  useHarnessLab,
} from './cluster-harness.js';
import {
  APP_NAMESPACE,
  CONTROLLER_SA,
  endpointSliceObject,
  METALLB_NAMESPACE,
  metallbObject,
  namespaceObject,
  nodeObjects,
  nodeReadyStatus,
  SPEAKER_SA,
  serviceObject,
  shippedObjects,
} from './kube-manifests.js';

/** The control plane's LAN address (kube-apiserver, the controller). */
export const CONTROL_PLANE_IPV4 = '192.0.2.5';
/** Addresses the tests' pools use; every node accepts them locally (kube-proxy's part), the client routes them on-link. */
export const SERVICE_PREFIXES = ['198.51.100.0/28', '203.0.113.0/28'];

/** Node name → LAN address. */
export const NODE_IPS: Record<string, string> = Object.fromEntries(NODE_NAMES.map((n, i) => [n, `192.0.2.${i + 1}`]));

/** One daemon (controller or speaker) and every process it ever ran as. */
export interface KubeDaemon {
  readonly name: string;
  readonly host: LabHost;
  readonly statusAddress: string;
  proc: LabProcess | undefined;
  readonly history: LabProcess[];
}

/** Options of {@link createKubeLab}. */
export interface KubeLabOptions {
  /** Tag in the namespace names. */
  name?: string;
  /** FRR in the router namespace (iBGP AS 64512 with the three nodes as neighbours), or explicit options. */
  frr?: boolean | Omit<PeerOptions, 'host'>;
  /** Extra kube-apiserver flags (startKubernetes' `apiServerArgs`). */
  apiServerArgs?: string[];
  /** Kustomize components of deploy/components the speakers run with, e.g. `fast-failover` (as an overlay would). */
  speakerComponents?: string[];
}

/** The lab: the LAN, the API server, the daemons. */
export class KubeLab {
  readonly speakers: KubeDaemon[];
  readonly controller: KubeDaemon;
  readonly client: LabHost;
  readonly controlPlane: LabHost;
  frr: BgpPeer | undefined;
  private kubeconfigs: { controller: string; speaker: string } = { controller: '', speaker: '' };
  kube!: LabKubernetes;
  /** The memberlist Secret's key, where the DaemonSet mounts it ({@link MEMBERLIST_SECRET_FILE}) in a pod. */
  readonly memberlistSecretFile: string;
  /** The speakers' command line: the DaemonSet's, with the lab's components applied. */
  readonly speakerLine: CommandLine;

  constructor(
    readonly lan: Lan,
    readonly dir: string,
    speakerComponents: readonly string[] = [],
  ) {
    this.speakerLine = speakerComponents.length > 0 ? speakerWithComponents(speakerComponents) : SPEAKER;
    this.memberlistSecretFile = join(dir, 'memberlist-secretkey');
    this.client = lan.hosts[3] as LabHost;
    this.controlPlane = lan.hosts[4] as LabHost;
    this.speakers = NODE_NAMES.map((name, i) => {
      const host = lan.hosts[i] as LabHost;
      return { name, host, statusAddress: `${host.ipv4}:${STATUS_PORT}`, proc: undefined, history: [] };
    });
    this.controller = {
      name: 'controller',
      host: this.controlPlane,
      statusAddress: `${CONTROL_PLANE_IPV4}:${STATUS_PORT}`,
      proc: undefined,
      history: [],
    };
  }

  /**
   * Starts the API server, applies the shipped manifests, the app namespace and the Nodes (Ready), mints the
   * daemons' kubeconfigs, and starts the controller: ready once it has written its CA into the webhook configuration,
   * so the API server can ask it about custom resources from then on.
   */
  async setUpCluster(apiServerArgs: string[] = []): Promise<void> {
    this.kube = await startKubernetes({ host: this.controlPlane, apiServerArgs });
    await this.kube.apply(shippedObjects());
    await this.kube.apply(namespaceObject(APP_NAMESPACE));
    for (const [name, ip] of Object.entries(NODE_IPS)) {
      const { node, status } = nodeObjects(name, ip);
      await this.kube.apply(node);
      await this.kube.apply(status, { subresource: 'status' });
    }
    const token = async (sa: string) => this.kube.serviceAccountToken(METALLB_NAMESPACE, sa);
    this.kubeconfigs = {
      controller: this.kube.kubeconfigFor(await token(CONTROLLER_SA), CONTROLLER_SA),
      speaker: this.kube.kubeconfigFor(await token(SPEAKER_SA), SPEAKER_SA),
    };
    await this.start(this.controller);
    await pollUntil(
      async () => {
        const r = await this.kube.request(
          'GET',
          '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/ingot-validating-webhook-configuration',
        );
        const hooks = (r.json() as { webhooks?: { clientConfig: { caBundle?: string } }[] }).webhooks ?? [];
        return hooks.length > 0 && hooks.every((w) => w.clientConfig.caBundle) ? true : undefined;
      },
      60_000,
      () => `the controller never wrote its webhook CA\n${this.logTail(this.controller)}`,
      200,
    );
    // The memberlist Secret the controller creates, written where kubelet would mount it for the speakers.
    const secret = await pollUntil(
      async () => {
        const r = await this.kube.request('GET', `/api/v1/namespaces/${METALLB_NAMESPACE}/secrets/ingot-memberlist`);
        return r.status === 200 ? (r.json() as { data?: { secretkey?: string } }).data?.secretkey : undefined;
      },
      30_000,
      () => `the controller never created the memberlist Secret\n${this.logTail(this.controller)}`,
      200,
    );
    writeFileSync(this.memberlistSecretFile, Buffer.from(secret, 'base64'), { mode: 0o600 });
    // And the API server reaches the webhook: a dry-run create of a valid pool is admitted.
    let last = '';
    await pollUntil(
      async () => {
        const r = await this.kube.request(
          'POST',
          `/apis/metallb.io/v1beta1/namespaces/${METALLB_NAMESPACE}/ipaddresspools?dryRun=All`,
          metallbObject('IPAddressPool', 'webhook-probe', { addresses: ['192.0.2.200/32'] }),
        );
        last = `HTTP ${r.status}: ${r.text.slice(0, 500)}`;
        return r.status === 201 ? true : undefined;
      },
      60_000,
      () => `the API server never got an answer from the webhook: ${last}\n${this.logTail(this.controller)}`,
      200,
    );
  }

  /** Sets a Node's Ready condition, as kubelet (True) or the node lifecycle controller (Unknown) would. */
  async setNodeReady(name: string, ready: 'True' | 'Unknown'): Promise<void> {
    await this.kube.apply(nodeReadyStatus(name, NODE_IPS[name] as string, ready), { subresource: 'status' });
  }

  /** The speaker of node `name`. */
  speaker(name: string): KubeDaemon {
    const s = this.speakers.find((x) => x.name === name);
    if (!s) throw new Error(`no node ${JSON.stringify(name)}`);
    return s;
  }

  /** True while the daemon's process runs. */
  running(d: KubeDaemon): boolean {
    return d.proc !== undefined && d.proc.exitCode() === undefined;
  }

  /**
   * Starts a daemon with its manifest's command line (the DaemonSet's for a speaker, the Deployment's for the
   * controller) and waits until its /healthz is ok (a configuration is loaded; the controller: its informers synced).
   */
  async start(d: KubeDaemon, timeoutMs = 30_000): Promise<void> {
    if (this.running(d)) throw new Error(`${d.name}: already running`);
    const cmd =
      d === this.controller
        ? labCommand(CONTROLLER, { podName: 'ingot-controller-lab' }, this.kubeconfigs.controller, {
            extraArgs: ['--webhook-host=127.0.0.1'],
          })
        : labCommand(
            this.speakerLine,
            { nodeName: d.name, podIp: d.host.ipv4, podName: `ingot-speaker-${d.name}` },
            this.kubeconfigs.speaker,
            { files: { [MEMBERLIST_SECRET_FILE]: this.memberlistSecretFile } },
          );
    const proc = d.host.spawn(process.execPath, [CLI, ...cmd.args], { env: cmd.env });
    d.proc = proc;
    d.history.push(proc);
    const healthy = d === this.controller ? `http://${d.statusAddress}/metrics` : `http://${d.statusAddress}/healthz`;
    await pollUntil(
      async () => {
        if (proc.exitCode() !== undefined) throw new Error(`${d.name}: exited with ${proc.exitCode()}`);
        return (await this.fetch(healthy)) !== undefined ? true : undefined;
      },
      timeoutMs,
      () => `${d.name}: ${healthy} never answered ok\n${this.logTail(d)}`,
      150,
    );
  }

  /** Stops a daemon with `signal` and waits for its exit. */
  async stop(d: KubeDaemon, signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM'): Promise<void> {
    const p = d.proc;
    if (!p || p.exitCode() !== undefined) return;
    p.kill(signal);
    try {
      await p.waitExit(10_000);
    } catch {
      p.kill('SIGKILL');
      await p.waitExit(5_000);
    }
  }

  /** Starts every daemon not running (speakers in parallel, then the controller). */
  async ensureAllRunning(): Promise<void> {
    await Promise.all(this.speakers.filter((s) => !this.running(s)).map((s) => this.start(s)));
    if (!this.running(this.controller)) await this.start(this.controller);
  }

  /** Writes (server-side apply) a Service's EndpointSlice with a ready endpoint on each of `nodes`. */
  async setEndpoints(service: string, nodes: readonly string[]): Promise<void> {
    const map = Object.fromEntries(nodes.map((n) => [n, NODE_IPS[n] as string]));
    await this.kube.apply(endpointSliceObject(service, map));
  }

  /** The Service as the API server has it (undefined when absent). */
  async service(name: string): Promise<KubeObject | undefined> {
    const r = await this.kube.request('GET', `/api/v1/namespaces/${APP_NAMESPACE}/services/${name}`);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new Error(`GET service ${name}: HTTP ${r.status}: ${r.text}`);
    return r.json();
  }

  /** `status.loadBalancer.ingress[].ip` of a Service as the API server has it. */
  async ingressIps(name: string): Promise<string[]> {
    const svc = (await this.service(name)) as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
    return (svc?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(Boolean);
  }

  /** Waits until the Service's status holds IPs (accepted by `accept`) and returns them. */
  waitIngress(name: string, accept: (ips: string[]) => boolean = (ips) => ips.length > 0, timeoutMs = 30_000) {
    return pollUntil(
      async () => {
        const ips = await this.ingressIps(name);
        return accept(ips) ? ips : undefined;
      },
      timeoutMs,
      async () =>
        `service ${name} status: ${JSON.stringify(await this.service(name))}\n${this.logTail(this.controller)}`,
      100,
    );
  }

  /** One HTTP GET from the client. */
  async get(ip: string, port = 80, timeoutS = 2): Promise<HttpResult> {
    const r = await this.client.exec(
      'curl',
      ['-s', '-m', String(timeoutS), '-o', '-', '-w', '\n%{http_code}', `http://${ip}:${port}/`],
      { timeoutMs: timeoutS * 1000 + 5_000 },
    );
    const lines = r.stdout.replace(/\n$/, '').split('\n');
    const code = Number(lines.pop() ?? 0) || 0;
    const result: HttpResult = { ok: code === 200, code, body: lines.join('\n').trim() };
    if (r.code !== 0) result.error = `curl exit ${r.code}: ${r.stderr.trim()}`;
    return result;
  }

  /** Polls the client's GET until a 200 whose body (the serving node) satisfies `accept`; returns that node. */
  async waitServed(ip: string, accept: (node: string) => boolean = () => true, timeoutMs = 20_000): Promise<string> {
    let last: HttpResult | undefined;
    return pollUntil(
      async () => {
        last = await this.get(ip, 80, 1);
        return last.ok && accept(last.body) ? last.body : undefined;
      },
      timeoutMs,
      async () =>
        `client never got an accepted 200 from ${ip}; last ${JSON.stringify(last)}; client neighbours: ` +
        `${(await this.client.exec('ip', ['neigh', 'show'])).stdout.trim()}\n${this.allLogs()}`,
      100,
    );
  }

  /** A daemon's /metrics text (fetched from the client), or undefined. */
  metrics(d: KubeDaemon): Promise<string | undefined> {
    return this.fetch(`http://${d.statusAddress}/metrics`);
  }

  /** The value of an unlabelled metric of a daemon, or undefined. */
  async metric(d: KubeDaemon, name: string): Promise<number | undefined> {
    const text = await this.metrics(d);
    const m = text === undefined ? null : new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  }

  private async fetch(url: string): Promise<string | undefined> {
    const r = await this.client.exec('curl', ['-s', '-f', '-m', '2', url], { timeoutMs: 5_000 });
    return r.code === 0 ? r.stdout : undefined;
  }

  /** Structured log records of a daemon, every run, oldest first. */
  logs(d: KubeDaemon): Record<string, unknown>[] {
    return jsonLogRecords(d.history);
  }

  /** The end of a daemon's output, for failure messages. */
  logTail(d: KubeDaemon, chars = 3000): string {
    const p = d.proc;
    if (!p) return `${d.name}: never started`;
    return `--- ${d.name} (pid ${p.pid}, exit ${p.exitCode()}) ---\n${`${p.stdout()}${p.stderr()}`.slice(-chars)}`;
  }

  /** Every daemon's log tail. */
  allLogs(chars = 2000): string {
    return [this.controller, ...this.speakers].map((d) => this.logTail(d, chars)).join('\n');
  }

  /** Stops everything (daemons, API server, FRR) and deletes the namespaces and the directory. */
  async destroy(): Promise<void> {
    try {
      await this.lan.destroy();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Builds the LAN, the data path, the HTTP servers, the API server and FRR (if asked), and starts every daemon. */
export async function createKubeLab(opts: KubeLabOptions = {}): Promise<KubeLab> {
  const lan = await createLan(5, { name: opts.name ?? 'kube' });
  const dir = mkdtempSync(join(tmpdir(), 'ingot-kube-lab-'));
  const lab = new KubeLab(lan, dir, opts.speakerComponents);
  return setUpOrDestroy(lab, async () => {
    for (const prefix of SERVICE_PREFIXES) await lab.client.run('ip', ['route', 'add', prefix, 'dev', 'eth0']);
    await Promise.all(
      lab.speakers.map(async (s) => {
        await s.host.run('sysctl', ['-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.eth0.arp_ignore=1']);
        for (const prefix of SERVICE_PREFIXES) await s.host.run('ip', ['addr', 'add', prefix, 'dev', 'lo']);
        const http = s.host.spawn(process.execPath, [HTTP_SERVER, s.name, '80']);
        await http.waitOutput(new RegExp(`listening ${s.name} 80\\b`), 10_000);
      }),
    );
    if (opts.frr) {
      const frrOpts: Omit<PeerOptions, 'host'> =
        opts.frr === true
          ? {
              asn: 64512,
              routerId: '192.0.2.254',
              neighbors: Object.values(NODE_IPS).map((address) => ({ address, asn: 64512, holdTime: 9 })),
            }
          : opts.frr;
      lab.frr = await startPeer('frr', { host: lan.router, ...frrOpts });
    }
    await lab.setUpCluster(opts.apiServerArgs);
  });
}

/** createKubeLab in beforeAll, destroy in afterAll; returns a getter. */
export function useKubeLab(opts: KubeLabOptions = {}): () => KubeLab {
  return useHarnessLab(() => createKubeLab(opts), 300_000, 'kube lab');
}

/**
 * The layer-2 fixture the Kubernetes layer-2 suites share: pool `l2` (198.51.100.0/28), an L2Advertisement on eth0,
 * Service `web` with endpoints on the three nodes (before the suite), and every node running before each test.
 */
export function useLayer2Web(lab: () => KubeLab): void {
  beforeAll(async () => {
    await lab().kube.apply([
      metallbObject('IPAddressPool', 'l2', { addresses: ['198.51.100.0/28'] }),
      metallbObject('L2Advertisement', 'l2', { ipAddressPools: ['l2'], interfaces: ['eth0'] }),
    ]);
    await lab().kube.apply(serviceObject('web'));
    await lab().setEndpoints('web', [...NODE_NAMES]);
  }, 60_000);
  beforeEach(() => lab().ensureAllRunning(), 90_000);
}
