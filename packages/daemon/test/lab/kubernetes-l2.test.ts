// Kubernetes mode end to end against a real kube-apiserver (kube-harness.ts), layer 2: the shipped manifests are
// applied, the configuration arrives as custom resources (checked by the controller's webhook), the controller writes
// the Service's IP into status.loadBalancer.ingress through the API server under its ServiceAccount, the client's
// HTTP GET reaches the node whose speaker answers ARP, and when the owner node dies (its speaker SIGKILLed, its Node
// marked not Ready as the node lifecycle controller does) the IP moves (timed, printed).
import { labSuite } from '@ingot/lab';
import { expect, it } from 'vitest';
import { useKubeLab, useLayer2Web } from './kube-harness.js';
import { APP_NAMESPACE } from './kube-manifests.js';

labSuite(
  'Kubernetes mode on a real API server: layer 2',
  { tools: ['ip', 'curl', 'etcd', 'kube-apiserver', 'openssl'] },
  () => {
    const lab = useKubeLab({ name: 'k8sl2' });
    useLayer2Web(lab);

    it('the controller writes the IP into the Service status; the client gets HTTP 200 through it', async () => {
      const l = lab();
      const [ip, ...rest] = await l.waitIngress('web');
      expect(rest).toEqual([]);
      expect(ip).toMatch(/^198\.51\.100\.([0-9]|1[0-5])$/);
      // Written by the controller's ServiceAccount (managedFields name the writer), not by the test's admin.
      const svc = (await l.service('web')) as {
        metadata: { managedFields?: { manager: string; subresource?: string }[] };
      };
      const statusWriters = (svc.metadata.managedFields ?? []).filter((f) => f.subresource === 'status');
      expect(statusWriters.length).toBeGreaterThan(0);
      expect(statusWriters.map((f) => f.manager)).not.toContain('ingot-lab');
      const owner = await l.waitServed(ip as string);
      expect(['node-1', 'node-2', 'node-3']).toContain(owner);
      // Exactly one speaker announces it (MetalLB's layer-2 rule).
      const announcing: string[] = [];
      for (const s of l.speakers) {
        const text = (await l.metrics(s)) ?? '';
        if (new RegExp(`^metallb_speaker_announced\\{[^}]*service="${APP_NAMESPACE}/web"[^}]*\\} 1$`, 'm').test(text))
          announcing.push(s.name);
      }
      expect(announcing).toEqual([owner]);
    }, 120_000);

    it('SIGKILL of the owner speaker: another node serves the same IP (memberlist notices, timed)', async () => {
      const l = lab();
      const [ip] = await l.waitIngress('web');
      const owner = await l.waitServed(ip as string);
      await l.stop(l.speaker(owner), 'SIGKILL');
      const killed = Date.now();
      const next = await l.waitServed(ip as string, (n) => n !== owner, 30_000);
      const elapsed = Date.now() - killed;
      console.log(
        `layer-2 failover on a real API server: SIGKILL of ${owner}'s speaker -> served by ${next} after ${elapsed} ms`,
      );
      expect(next).not.toBe(owner);
      expect(await l.ingressIps('web')).toEqual([ip]);
    }, 120_000);
  },
);
