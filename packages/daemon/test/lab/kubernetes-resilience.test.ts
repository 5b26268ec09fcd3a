// Kubernetes mode end to end against a real kube-apiserver (kube-harness.ts): the API server is the truth.
// Restarting the controller and every speaker keeps every IP and writes nothing; a kube-apiserver restart and an etcd
// compaction, with changes made while the controller could not watch, lose no event and make no wrong write; an invalid custom resource (admitted with
// the webhook removed, as on a cluster installed without it) leaves the last good configuration in force, visibly
// (metallb_k8s_client_config_stale_bool).
import { labSuite, pollUntil } from '@ingot/lab';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { type KubeLab, NODE_IPS, useKubeLab } from './kube-harness.js';
import { APP_NAMESPACE, metallbObject, serviceObject } from './kube-manifests.js';

const NODES = Object.keys(NODE_IPS);
const POOL = metallbObject('IPAddressPool', 'l2', { addresses: ['198.51.100.0/28'] });
const L2 = metallbObject('L2Advertisement', 'l2', { ipAddressPools: ['l2'] });
const SERVICES = ['web', 'svc-1', 'svc-2', 'svc-3', 'svc-4'];

/** Every Service of the app namespace: name → its ingress IPs and resourceVersion. */
async function snapshot(l: KubeLab): Promise<Record<string, { ips: string[]; resourceVersion: string }>> {
  const r = await l.kube.request('GET', `/api/v1/namespaces/${APP_NAMESPACE}/services`);
  type Svc = {
    metadata: { name: string; resourceVersion: string };
    status?: { loadBalancer?: { ingress?: { ip: string }[] } };
  };
  const out: Record<string, { ips: string[]; resourceVersion: string }> = {};
  for (const s of (r.json() as { items: Svc[] }).items)
    out[s.metadata.name] = {
      ips: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip),
      resourceVersion: s.metadata.resourceVersion,
    };
  return out;
}

/** Services announced by each speaker (from metallb_speaker_announced). */
async function announcedBy(l: KubeLab): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const s of l.speakers) {
    const text = (await l.metrics(s)) ?? '';
    out[s.name] = [...text.matchAll(/^metallb_speaker_announced\{[^}]*service="([^"]+)"[^}]*\} 1$/gm)]
      .map((m) => m[1] as string)
      .sort();
  }
  return out;
}

/** Waits until every speaker's announcements together cover exactly `services`, each from one node. */
async function waitAnnounced(l: KubeLab, services: string[]): Promise<void> {
  const want = services.map((s) => `${APP_NAMESPACE}/${s}`).sort();
  await pollUntil(
    async () => {
      const all = Object.values(await announcedBy(l))
        .flat()
        .sort();
      return JSON.stringify(all) === JSON.stringify(want) ? true : undefined;
    },
    30_000,
    async () =>
      `announcements never became ${JSON.stringify(want)}: ${JSON.stringify(await announcedBy(l))}\n` +
      l.speakers
        .map((sp) => {
          const gossip = l
            .logs(sp)
            .filter((r) => /member/.test(`${r.component} ${r.msg}`))
            .slice(-8);
          return `--- ${sp.name} memberlist log ---\n${gossip.map((r) => JSON.stringify(r)).join('\n')}`;
        })
        .join('\n'),
  );
}

async function createServices(l: KubeLab, names: string[]): Promise<void> {
  for (const name of names) {
    await l.kube.apply(serviceObject(name));
    await l.setEndpoints(name, NODES);
  }
}

labSuite(
  'Kubernetes mode on a real API server: restarts, compaction, invalid configuration',
  { tools: ['ip', 'curl', 'etcd', 'kube-apiserver', 'openssl'] },
  () => {
    const lab = useKubeLab({ name: 'k8sres' });
    beforeAll(async () => {
      await lab().kube.apply([POOL, L2]);
      await createServices(lab(), SERVICES);
    }, 120_000);
    beforeEach(() => lab().ensureAllRunning(), 90_000);

    it('restarting the controller and every speaker keeps every IP and writes nothing', async () => {
      const l = lab();
      for (const name of SERVICES) await l.waitIngress(name);
      await waitAnnounced(l, SERVICES);
      const before = await snapshot(l);
      const ips = SERVICES.map((s) => before[s]?.ips[0]);
      expect(new Set(ips).size).toBe(SERVICES.length);
      await l.waitServed(before.web?.ips[0] as string);

      await l.stop(l.controller, 'SIGTERM');
      await Promise.all(l.speakers.map((s) => l.stop(s, 'SIGTERM')));
      await l.ensureAllRunning();
      await waitAnnounced(l, SERVICES);
      await l.waitServed(before.web?.ips[0] as string);
      // Same IPs, and not one write: every Service keeps its resourceVersion.
      expect(await snapshot(l)).toEqual(before);
      expect(await l.metric(l.controller, 'metallb_k8s_client_update_errors_total')).toBe(0);
    }, 180_000);

    it('a kube-apiserver restart and an etcd compaction lose no event and make no wrong write', async () => {
      const l = lab();
      await waitAnnounced(l, SERVICES);
      const before = await snapshot(l);
      // The controller cannot watch while stopped; meanwhile a Service appears, another goes, etcd is compacted past
      // everything it saw and the API server restarts (its watch cache starts afresh): no resourceVersion the
      // controller knows can be watched from any more (410 Gone), its connections are gone, and what it missed is
      // only in a new list. Its first decision after SIGCONT (the new Service, from an event it had buffered) fails
      // to write on a dead connection and must be retried.
      const lists = async () => {
        const m = /^ingot_k8s_list_requests_total\{resource="service"\} (\d+)$/m.exec(
          (await l.metrics(l.controller)) ?? '',
        );
        return Number(m?.[1] ?? Number.NaN);
      };
      const listsBefore = await lists();
      const logsBefore = l.logs(l.controller).length;
      l.controller.proc?.kill('SIGSTOP');
      try {
        await l.kube.delete({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'svc-4', namespace: APP_NAMESPACE },
        });
        await createServices(l, ['late']);
        await l.kube.compactEtcd();
        await l.kube.restartApiServer();
      } finally {
        l.controller.proc?.kill('SIGCONT');
      }
      const [lateIp] = await l.waitIngress('late', (ips) => ips.length === 1, 60_000);
      // svc-4's address went back to the pool: 'late' may take it, nothing else moved.
      const after = await snapshot(l);
      for (const name of SERVICES.filter((s) => s !== 'svc-4')) {
        expect(after[name], name).toEqual(before[name]);
      }
      expect(after['svc-4']).toBeUndefined();
      const others = SERVICES.filter((s) => s !== 'svc-4').map((s) => before[s]?.ips[0]);
      expect(others).not.toContain(lateIp);
      // The speakers lived through the same restart: they announce exactly the Services that exist.
      await waitAnnounced(l, [...SERVICES.filter((s) => s !== 'svc-4'), 'late']);
      await l.waitServed(lateIp as string);
      await l.waitServed(before.web?.ips[0] as string);
      // The controller listed Services again (its watches failed on connections the old API server had closed, and
      // no resourceVersion it knew could be resumed from), and that list brought what it had missed.
      expect(await lists()).toBeGreaterThan(listsBefore);
      const failures = l
        .logs(l.controller)
        .slice(logsBefore)
        .filter((r) => /list\/watch failed/.test(String(r.msg)));
      console.log(
        `controller after compaction + API server restart: Services listed ${(await lists()) - listsBefore} more ` +
          `time(s); list/watch failures logged: ${failures.map((r) => `${r.path} ${r.error}`).join('; ') || 'none'}`,
      );
    }, 240_000);

    it('an invalid custom resource keeps the last good configuration in force, and says so in metrics', async () => {
      const l = lab();
      await waitAnnounced(l, [...SERVICES.filter((s) => s !== 'svc-4'), 'late']);
      const before = await snapshot(l);
      const daemons = [l.controller, ...l.speakers];
      for (const d of daemons) expect(await l.metric(d, 'metallb_k8s_client_config_stale_bool'), d.name).toBe(0);
      // A cluster installed without the webhook: nothing stops an invalid pool at the API server.
      const vwc = {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'ingot-validating-webhook-configuration' },
      };
      expect(await l.kube.delete(vwc)).toBe(200);
      const bad = metallbObject('IPAddressPool', 'broken', { addresses: ['198.51.100.300/32'] });
      await pollUntil(
        async () => {
          // The webhook configuration's removal reaches the admission plugin's cache within moments.
          try {
            await l.kube.apply(bad);
            return true;
          } catch {
            return undefined;
          }
        },
        10_000,
        () => 'the invalid pool to be admitted once the webhook is gone',
      );
      await pollUntil(
        async () => {
          for (const d of daemons)
            if ((await l.metric(d, 'metallb_k8s_client_config_stale_bool')) !== 1) return undefined;
          return true;
        },
        20_000,
        async () => `not every daemon reports a stale configuration\n${l.allLogs()}`,
      );
      // The last good configuration is still in force: every IP served, a new Service still gets one.
      await createServices(l, ['after-bad']);
      const [ip] = await l.waitIngress('after-bad');
      expect(ip).toMatch(/^198\.51\.100\.([0-9]|1[0-5])$/);
      const now = await snapshot(l);
      for (const [name, s] of Object.entries(before)) expect(now[name], name).toEqual(s);
      await l.waitServed(before.web?.ips[0] as string);
      const rejected = l.logs(l.controller).filter((r) => /configuration rejected/.test(String(r.msg)));
      expect(rejected.length).toBeGreaterThan(0);
      // Removing the invalid object makes the configuration current again.
      await l.kube.delete(bad);
      await pollUntil(
        async () => {
          for (const d of daemons)
            if ((await l.metric(d, 'metallb_k8s_client_config_stale_bool')) !== 0) return undefined;
          return true;
        },
        20_000,
        () => 'every daemon to report a current configuration again',
      );
    }, 180_000);
  },
);
