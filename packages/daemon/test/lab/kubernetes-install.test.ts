// Every manifest of packages/daemon/deploy applied to a real kube-apiserver (server-side apply), and the controller,
// run with the Deployment's command line (test/deploy/command-lines.ts) under the ingot-controller ServiceAccount's
// RBAC, serving the validating and conversion webhooks: the API server itself refuses invalid IPAddressPools,
// BGPAdvertisements and BGPPeers with the reason, accepts valid ones, and converts BGPPeers between v1beta1 and
// v1beta2. The API server and the controller share one namespace; the webhook configuration dials the controller at
// https://127.0.0.1:9443 (there is no kube-proxy to route the Service), everything else is as shipped. Two speakers,
// run with the DaemonSet's command line under the ingot-speaker ServiceAccount, find each other without seeds
// (--memberlist-discover, through their Node objects) with the key from the Secret the controller created.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLan,
  type KubeObject,
  type LabKubernetes,
  type LabProcess,
  type Lan,
  labSuite,
  pollUntil,
  startKubernetes,
} from '@ingot/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROLLER, labCommand, MEMBERLIST_SECRET_FILE, SPEAKER } from '../deploy/command-lines.js';
import { applyJsonPatch, readManifests, readPatch } from '../deploy/manifests.js';
import { CLI } from './cluster-harness.js';
import { METALLB_NAMESPACE as NS, shippedObjects, WEBHOOK_URL as WEBHOOK } from './kube-manifests.js';

/**
 * Ingot's CRD as MetalLB's installation would have left it: the conversion webhook elsewhere, no printer columns. (The
 * lab's webhooks are URLs, so MetalLB's is one too: server-side apply cannot turn a `service` owned by another
 * manager into a `url`, the API server then sees both; in a cluster both installations use `service`.)
 */
function metallbShaped(crd: KubeObject): KubeObject {
  const o = structuredClone(crd) as KubeObject & {
    spec: {
      conversion?: { webhook?: { clientConfig: Record<string, unknown> } };
      versions: { additionalPrinterColumns?: unknown }[];
    };
  };
  if (o.spec.conversion?.webhook) o.spec.conversion.webhook.clientConfig = { url: 'https://127.0.0.1:9999/convert' };
  for (const v of o.spec.versions) delete v.additionalPrinterColumns;
  return { ...o, metadata: { name: o.metadata?.name ?? '' } };
}

/** A pool created while MetalLB ran (never handed out automatically, so the tests' allocations stay in 'good'). */
const legacyPool = {
  apiVersion: 'metallb.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name: 'legacy', namespace: NS },
  spec: { addresses: ['203.0.113.0/28'], autoAssign: false },
};

const pool = (name: string, addresses: string[]) => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: NS },
  spec: { addresses },
});

labSuite('deploy/ on a real API server, with the webhooks', { tools: ['etcd', 'kube-apiserver'] }, () => {
  let lan: Lan;
  let kube: LabKubernetes;
  let controller: LabProcess;
  let startController: () => LabProcess;
  const speakers: LabProcess[] = [];
  let dir: string;
  let applied: KubeObject[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-install-'));
    lan = await createLan(3, { name: 'install' });
    const host = lan.hosts[0];
    if (!host) throw new Error('no host');
    kube = await startKubernetes({ host });
    // A cluster that runs MetalLB: its CRDs (owned by another field manager, conversion pointing at MetalLB's
    // webhook Service, no printer columns) and a pool created under them, before Ingot is applied over them.
    await kube.apply(
      shippedObjects().filter((o) => o.kind === 'Namespace'),
      { fieldManager: 'metallb-install' },
    );
    await kube.apply(
      shippedObjects()
        .filter((o) => o.kind === 'CustomResourceDefinition')
        .map(metallbShaped),
      {
        fieldManager: 'metallb-install',
      },
    );
    await kube.apply(legacyPool, { fieldManager: 'metallb-user' });
    applied = await kube.apply(shippedObjects(), { fieldManager: 'ingot-install-test' });
    const token = await kube.serviceAccountToken(NS, 'ingot-controller');
    const cmd = labCommand(CONTROLLER, { podName: 'ingot-controller-lab' }, kube.kubeconfigFor(token, 'controller'), {
      extraArgs: ['--webhook-host=127.0.0.1'],
    });
    startController = () => host.spawn(process.execPath, [CLI, ...cmd.args], { env: cmd.env });
    controller = startController();
    // Ready once the controller has written its CA into the webhook configuration and the BGPPeer CRD.
    await pollUntil(
      async () => {
        if (controller.exitCode() !== undefined)
          throw new Error(`controller exited: ${controller.stdout() + controller.stderr()}`);
        const vwc = await kube.request(
          'GET',
          '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/ingot-validating-webhook-configuration',
        );
        const crd = await kube.request(
          'GET',
          '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io',
        );
        const bundles = [
          ...(vwc.json() as { webhooks: { clientConfig: { caBundle?: string } }[] }).webhooks.map(
            (w) => w.clientConfig.caBundle,
          ),
          (crd.json() as { spec: { conversion: { webhook: { clientConfig: { caBundle?: string } } } } }).spec.conversion
            .webhook.clientConfig.caBundle,
        ];
        return bundles.every((b) => typeof b === 'string' && b !== '') ? true : undefined;
      },
      60_000,
      () => `caBundle never written\n${controller.stdout() + controller.stderr()}`,
      200,
    );
    // The API server loads webhook configurations through an informer: wait until it enforces ours (a dry-run
    // create of an invalid pool is refused) before the tests count on it.
    await pollUntil(
      async () => {
        const r = await kube.request(
          'POST',
          `/apis/metallb.io/v1beta1/namespaces/${NS}/ipaddresspools?dryRun=All`,
          pool('probe', ['not-an-address']),
        );
        return r.status === 403 ? true : undefined;
      },
      30_000,
      () => `the webhook is never enforced\n${controller.stdout() + controller.stderr()}`,
      200,
    );
  }, 300_000);

  afterAll(async () => {
    await controller?.stop();
    for (const s of speakers) await s.stop();
    await kube?.stop();
    await lan?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Creates an object as admin; the HTTP status and the server's message. */
  async function create(obj: KubeObject & { apiVersion: string }, plural: string) {
    const r = await kube.request('POST', `/apis/${obj.apiVersion}/namespaces/${NS}/${plural}`, obj);
    return { status: r.status, message: r.status >= 300 ? ((r.json() as { message?: string }).message ?? r.text) : '' };
  }

  it("Ingot's CRDs applied over MetalLB-shaped ones: objects created before stay, the conversion is Ingot's", async () => {
    const legacy = await kube.request('GET', `/apis/metallb.io/v1beta1/namespaces/${NS}/ipaddresspools/legacy`);
    expect(legacy.status).toBe(200);
    expect((legacy.json() as { spec: unknown }).spec).toEqual({
      addresses: ['203.0.113.0/28'],
      autoAssign: false,
      avoidBuggyIPs: false,
    });
    const crd = (
      await kube.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io')
    ).json() as {
      spec: {
        conversion: { webhook: { clientConfig: { url?: string; service?: unknown } } };
        versions: { additionalPrinterColumns?: unknown[] }[];
      };
    };
    expect(crd.spec.conversion.webhook.clientConfig.service).toBeUndefined();
    expect(crd.spec.conversion.webhook.clientConfig.url).toBe(`${WEBHOOK}/convert`);
    expect(crd.spec.versions.every((v) => (v.additionalPrinterColumns ?? []).length === 4)).toBe(true);
  });

  it('every manifest was accepted by server-side apply', () => {
    expect(applied.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(
      shippedObjects().map((o) => `${o.kind}/${o.metadata?.name}`),
    );
  });

  describe('the API server asks the controller and refuses what `ingot validate` refuses', () => {
    it('IPAddressPool', async () => {
      const bad = await create(pool('bad', ['192.0.2.300/32']), 'ipaddresspools');
      expect(bad.status).toBe(403);
      expect(bad.message).toContain('denied the request');
      expect(bad.message).toContain('IPAddressPool/bad spec.addresses');
      expect((await create(pool('good', ['198.51.100.0/28']), 'ipaddresspools')).status).toBe(201);
      // Overlap with the pool now in force: the whole resulting configuration is checked.
      const overlap = await create(pool('overlap', ['198.51.100.8/29']), 'ipaddresspools');
      expect(overlap.status).toBe(403);
      expect(overlap.message).toMatch(/overlap/i);
    });

    it('BGPAdvertisement', async () => {
      const adv = (name: string, aggregationLength: number) => ({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'BGPAdvertisement',
        metadata: { name, namespace: NS },
        spec: { ipAddressPools: ['good'], aggregationLength },
      });
      const bad = await create(adv('bad', 33), 'bgpadvertisements');
      expect(bad.status).toBe(403);
      expect(bad.message).toContain('BGPAdvertisement/bad spec.aggregationLength');
      expect((await create(adv('good', 32), 'bgpadvertisements')).status).toBe(201);
    });

    it('BGPPeer (v1beta2 and v1beta1), and v1beta1 ↔ v1beta2 conversion', async () => {
      const peer = (version: string, name: string, holdTime: string) => ({
        apiVersion: `metallb.io/${version}`,
        kind: 'BGPPeer',
        metadata: { name, namespace: NS },
        spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254', holdTime },
      });
      const bad = await create(peer('v1beta2', 'bad', '1s'), 'bgppeers');
      expect(bad.status).toBe(403);
      expect(bad.message).toContain('BGPPeer/bad spec.holdTime');
      const badOld = await create(peer('v1beta1', 'bad-old', '1s'), 'bgppeers');
      expect(badOld.status).toBe(403);
      expect(badOld.message).toContain('BGPPeer/bad-old spec.holdTime');
      expect((await create(peer('v1beta1', 'router', '90s'), 'bgppeers')).status).toBe(201);
      // Stored as v1beta2; read back through both versions (the v1beta1 read goes through the conversion webhook).
      const v2 = await kube.request('GET', `/apis/metallb.io/v1beta2/namespaces/${NS}/bgppeers/router`);
      expect(v2.status).toBe(200);
      expect((v2.json() as { spec: Record<string, unknown> }).spec).toMatchObject({ peerPort: 179, holdTime: '90s' });
      const v1 = await kube.request('GET', `/apis/metallb.io/v1beta1/namespaces/${NS}/bgppeers/router`);
      expect(v1.status).toBe(200);
      expect((v1.json() as { apiVersion: string }).apiVersion).toBe('metallb.io/v1beta1');
    });

    it("the CRDs' own CEL rules hold on the API server (before any webhook)", async () => {
      const adv = await create(
        {
          apiVersion: 'metallb.io/v1beta1',
          kind: 'BGPAdvertisement',
          metadata: { name: 'selective', namespace: NS },
          spec: { aggregationLength: 24, serviceSelectors: [{ matchLabels: { app: 'web' } }] },
        },
        'bgpadvertisements',
      );
      expect(adv.status).toBe(422);
      expect(adv.message).toContain('serviceSelectors can only be used with the default aggregation lengths');
      const peer = await create(
        {
          apiVersion: 'metallb.io/v1beta2',
          kind: 'BGPPeer',
          metadata: { name: 'slow', namespace: NS },
          spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254', connectTime: '1500ms' },
        },
        'bgppeers',
      );
      expect(peer.status).toBe(422);
      expect(peer.message).toContain('connect time should contain a whole number of seconds');
    });

    it('objects outside metallb-system are refused', async () => {
      await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } });
      const r = await kube.request('POST', '/apis/metallb.io/v1beta1/namespaces/elsewhere/ipaddresspools', {
        ...pool('x', ['203.0.113.0/28']),
        metadata: { name: 'x', namespace: 'elsewhere' },
      });
      expect(r.status).toBe(403);
      expect(r.text).toContain('resource must be created in metallb-system namespace');
    });
  });

  it('speakers find each other without seeds, with the key from the Secret the controller created', async () => {
    const secret = await kube.request('GET', `/api/v1/namespaces/${NS}/secrets/ingot-memberlist`);
    expect(secret.status).toBe(200);
    const key = Buffer.from((secret.json() as { data: { secretkey: string } }).data.secretkey, 'base64');
    const keyFile = join(dir, 'secretkey');
    writeFileSync(keyFile, key, { mode: 0o400 }); // what kubelet would mount
    const token = await kube.serviceAccountToken(NS, 'ingot-speaker');
    const kubeconfig = kube.kubeconfigFor(token, 'speaker');
    const nodes = lan.hosts.slice(1).map((host, i) => ({ host, name: `node-${i + 2}` }));
    for (const { host, name } of nodes) {
      await kube.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
      await kube.apply(
        {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name },
          status: {
            addresses: [{ type: 'InternalIP', address: host.ipv4 }],
            conditions: [{ type: 'Ready', status: 'True' }],
          },
        },
        { subresource: 'status' },
      );
    }
    for (const { host, name } of nodes) {
      const cmd = labCommand(SPEAKER, { nodeName: name, podIp: host.ipv4, podName: `speaker-${name}` }, kubeconfig, {
        files: { [MEMBERLIST_SECRET_FILE]: keyFile },
      });
      speakers.push(host.spawn(process.execPath, [CLI, ...cmd.args], { env: cmd.env }));
    }
    const [a, b] = speakers as [LabProcess, LabProcess];
    await a.waitOutput(/"member":"node-3"/, 60_000);
    await b.waitOutput(/"member":"node-2"/, 60_000);
    for (const p of speakers) expect(p.exitCode()).toBeUndefined();
  });

  it('status objects: ServiceL2Status, ServiceBGPStatus, IPAddressPool counts, ConfigurationState', async () => {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    expect(
      (
        await create(
          {
            apiVersion: 'metallb.io/v1beta1',
            kind: 'L2Advertisement',
            metadata: { name: 'l2', namespace: NS },
            spec: { ipAddressPools: ['good'] },
          },
          'l2advertisements',
        )
      ).status,
    ).toBe(201);
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'demo' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
    });
    await kube.apply({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [
        { addresses: [lan.hosts[1]?.ipv4 as string], nodeName: 'node-2', conditions: { ready: true } },
        { addresses: [lan.hosts[2]?.ipv4 as string], nodeName: 'node-3', conditions: { ready: true } },
      ],
      ports: [{ port: 80, protocol: 'TCP' }],
    });
    const list = async (plural: string) =>
      (
        (await kube.request('GET', `/apis/metallb.io/v1beta1/namespaces/${NS}/${plural}`)).json() as {
          items: { metadata: { name: string; labels?: Record<string, string> }; status?: Record<string, unknown> }[];
        }
      ).items;
    const l2 = await pollUntil(
      async () => {
        const items = await list('servicel2statuses');
        return items.length === 1 && items[0]?.status?.node ? items[0] : undefined;
      },
      30_000,
      async () => `no single ServiceL2Status: ${JSON.stringify(await list('servicel2statuses'))}`,
      200,
    );
    expect(l2?.metadata.name).toMatch(/^l2-/);
    expect(l2?.status).toMatchObject({ serviceName: 'web', serviceNamespace: 'demo' });
    expect(['node-2', 'node-3']).toContain(l2?.status?.node);
    expect(l2?.metadata.labels?.['metallb.io/node']).toBe(l2?.status?.node);
    const bgp = await pollUntil(
      async () => {
        const items = await list('servicebgpstatuses');
        // Created first, then its status written (two requests, as MetalLB does): wait for both.
        return items.length === 2 && items.every((i) => i.status?.node) ? items : undefined;
      },
      30_000,
      async () => `not two ServiceBGPStatus: ${JSON.stringify(await list('servicebgpstatuses'))}`,
      200,
    );
    expect(bgp.map((b) => b.status?.node).sort()).toEqual(['node-2', 'node-3']);
    for (const b of bgp) expect(b.status?.peers).toEqual(['router']);
    const pools = await pollUntil(
      async () => {
        const good = (await list('ipaddresspools')).find((p) => p.metadata.name === 'good');
        return good?.status?.assignedIPv4 === 1 ? good : undefined;
      },
      30_000,
      async () => `pool status: ${JSON.stringify(await list('ipaddresspools'))}`,
      200,
    );
    expect(pools.status).toEqual({ assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 15, availableIPv6: 0 });
    const states = await pollUntil(
      async () => {
        const items = await list('configurationstates');
        return items.length === 3 && items.every((i) => i.status?.result === 'Valid') ? items : undefined;
      },
      30_000,
      async () => `configuration states: ${JSON.stringify(await list('configurationstates'))}`,
      200,
    );
    expect(states.map((s) => s.metadata.name).sort()).toEqual(['controller', 'speaker-node-2', 'speaker-node-3']);
  });

  it('migration: a restarted controller keeps the IPs a MetalLB-shaped controller wrote', async () => {
    const ingress = async (name: string) =>
      (
        (await kube.request('GET', `/api/v1/namespaces/demo/services/${name}`)).json() as {
          status?: { loadBalancer?: { ingress?: { ip: string }[] } };
        }
      ).status?.loadBalancer?.ingress?.map((i) => i.ip) ?? [];
    const webBefore = await ingress('web');
    expect(webBefore).toHaveLength(1);
    await controller.stop();
    // What MetalLB's controller leaves behind: the IP in status and the pool annotation (written while Ingot's
    // controller is not running, as during the swap).
    const legacyIp = webBefore[0] === '198.51.100.9' ? '198.51.100.10' : '198.51.100.9';
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'legacy', namespace: 'demo', annotations: { 'metallb.io/ip-allocated-from-pool': 'good' } },
      spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
    });
    await kube.apply(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'legacy', namespace: 'demo' },
        status: { loadBalancer: { ingress: [{ ip: legacyIp, ipMode: 'VIP' }] } },
      },
      { subresource: 'status', fieldManager: 'metallb-controller' },
    );
    controller = startController();
    const pool = async () =>
      (
        (await kube.request('GET', `/apis/metallb.io/v1beta1/namespaces/${NS}/ipaddresspools/good`)).json() as {
          status?: { assignedIPv4?: number };
        }
      ).status?.assignedIPv4;
    // The restarted controller has read both Services once the pool counts two assigned addresses.
    await pollUntil(
      async () => ((await pool()) === 2 ? true : undefined),
      30_000,
      async () => `pool: ${await pool()}`,
    );
    expect(await ingress('web')).toEqual(webBefore);
    expect(await ingress('legacy')).toEqual([legacyIp]);
  });

  it('components/secure-metrics applies too (its RBAC and the patched workloads)', async () => {
    const base = shippedObjects();
    const patched = [
      ['Deployment', 'controller.patch.yaml'],
      ['DaemonSet', 'speaker.patch.yaml'],
    ].map(([kind, patch]) =>
      applyJsonPatch(
        structuredClone(base.find((o) => o.kind === kind) as KubeObject),
        readPatch(`components/secure-metrics/${patch}`),
      ),
    );
    const objects = [...readManifests('components/secure-metrics/rbac.yaml'), ...patched] as unknown as KubeObject[];
    const out = await kube.apply(objects, { fieldManager: 'ingot-install-test' });
    expect(out.map((o) => o.kind)).toEqual(objects.map((o) => o.kind));
  });

  it('the daemons ran under their ServiceAccounts without a permission error', () => {
    expect(controller.exitCode()).toBeUndefined();
    for (const p of [controller, ...speakers]) expect(p.stdout() + p.stderr()).not.toMatch(/forbidden|\b403\b/i);
  });
});
