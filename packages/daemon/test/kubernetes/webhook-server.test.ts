import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/kubernetes/kube-objects.js';
import { createWebhookCertificates, type PemPair } from '../../src/kubernetes/webhook-certificate.js';
import { startWebhookServer } from '../../src/kubernetes/webhook-server.js';
import {
  WEBHOOK_CERT_SECRET,
  WEBHOOK_CONFIGURATION,
  WebhookTls,
  type WebhookTlsApi,
} from '../../src/kubernetes/webhook-tls.js';
import { createLogger } from '../../src/logger.js';

const NS = 'metallb-system';
const log = createLogger({ level: 'error' });

function post(
  port: number,
  ca: string,
  path: string,
  body: string,
): Promise<{ status: number; text: string; peerCert: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        ca,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        const peer = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, peerCert: peer.fingerprint256 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('webhook server', () => {
  it('answers AdmissionReview and ConversionReview over HTTPS, 400/404/405 otherwise, and rotates its certificate', async () => {
    const certs = createWebhookCertificates({ hosts: ['127.0.0.1'] });
    const objects: KubeObject[] = [];
    const server = await startWebhookServer({
      bind: '127.0.0.1:0',
      tls: certs.serving,
      admission: { namespace: NS, configObjects: () => objects },
      log,
    });
    try {
      const { port } = server.address();
      const admission = {
        request: {
          uid: 'u1',
          kind: { group: 'metallb.io', version: 'v1beta1', kind: 'IPAddressPool' },
          namespace: NS,
          name: 'p',
          operation: 'CREATE',
          object: {
            apiVersion: 'metallb.io/v1beta1',
            kind: 'IPAddressPool',
            metadata: { name: 'p', namespace: NS },
            spec: { addresses: ['bogus'] },
          },
        },
      };
      const denied = await post(
        port,
        certs.ca.cert,
        '/validate-metallb-io-v1beta1-ipaddresspool',
        JSON.stringify(admission),
      );
      expect(denied.status).toBe(200);
      const answer = JSON.parse(denied.text) as {
        response: { uid: string; allowed: boolean; status: { message: string } };
      };
      expect(answer.response.uid).toBe('u1');
      expect(answer.response.allowed).toBe(false);
      expect(answer.response.status.message).toContain('IPAddressPool/p spec.addresses');

      const conversion = {
        request: {
          uid: 'c1',
          desiredAPIVersion: 'metallb.io/v1beta1',
          objects: [
            {
              apiVersion: 'metallb.io/v1beta2',
              kind: 'BGPPeer',
              metadata: { name: 'x' },
              spec: { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', vrf: 'red' },
            },
          ],
        },
      };
      const converted = JSON.parse((await post(port, certs.ca.cert, '/convert', JSON.stringify(conversion))).text);
      expect(converted.response.convertedObjects[0].spec).toEqual({ myASN: 1, peerASN: 2, peerAddress: '192.0.2.1' });

      expect((await post(port, certs.ca.cert, '/convert', '{not json')).status).toBe(400);
      expect((await post(port, certs.ca.cert, '/other', '{}')).status).toBe(404);

      const next = createWebhookCertificates({ hosts: ['127.0.0.1'], ca: certs.ca });
      const before = (await post(port, certs.ca.cert, '/convert', '{}')).peerCert;
      server.setCertificate(next.serving);
      const after = (await post(port, certs.ca.cert, '/convert', '{}')).peerCert;
      expect(after).not.toBe(before);
      expect(after).toBe(new X509Certificate(next.serving.cert).fingerprint256);
    } finally {
      await server.close();
    }
  });
});

/** An in-memory API: one Secret store, the webhook configuration and the BGPPeer CRD. */
function fakeApi() {
  const secrets = new Map<string, KubeObject>();
  let rv = 1;
  const vwc: KubeObject & { webhooks: { name: string; clientConfig: Record<string, unknown> }[] } = {
    metadata: { name: WEBHOOK_CONFIGURATION, resourceVersion: '1' },
    webhooks: [
      { name: 'a', clientConfig: { service: { name: 'ingot-webhook-service' } } },
      { name: 'b', clientConfig: { url: 'https://127.0.0.1:9443/x' } },
    ],
  };
  const crd: KubeObject = {
    metadata: { name: 'bgppeers.metallb.io' },
    spec: {
      conversion: { strategy: 'Webhook', webhook: { clientConfig: { service: { name: 'ingot-webhook-service' } } } },
    },
  };
  const writes: string[] = [];
  const api: WebhookTlsApi = {
    readSecret: async (_ns, name) => structuredClone(secrets.get(name)),
    createSecret: async (_ns, s) => {
      if (secrets.has(s.metadata?.name ?? '')) throw Object.assign(new Error('exists'), { code: 409 });
      writes.push('create secret');
      const stored = { ...s, metadata: { ...s.metadata, resourceVersion: String(++rv) } };
      secrets.set(s.metadata?.name ?? '', stored);
      return stored;
    },
    replaceSecret: async (_ns, s) => {
      const cur = secrets.get(s.metadata?.name ?? '');
      if (cur?.metadata?.resourceVersion !== s.metadata?.resourceVersion)
        throw Object.assign(new Error('conflict'), { code: 409 });
      writes.push('replace secret');
      const stored = { ...s, metadata: { ...s.metadata, resourceVersion: String(++rv) } };
      secrets.set(s.metadata?.name ?? '', stored);
      return stored;
    },
    readWebhookConfiguration: async () => structuredClone(vwc),
    patchWebhookConfiguration: async (_name, patch) => {
      writes.push('patch vwc');
      vwc.webhooks = (patch as { webhooks: typeof vwc.webhooks }).webhooks;
    },
    readCrd: async () => structuredClone(crd),
    patchCrd: async (_name, patch) => {
      writes.push('patch crd');
      const caBundle = (patch as { spec: { conversion: { webhook: { clientConfig: { caBundle: string } } } } }).spec
        .conversion.webhook.clientConfig.caBundle;
      (
        crd.spec as { conversion: { webhook: { clientConfig: Record<string, unknown> } } }
      ).conversion.webhook.clientConfig.caBundle = caBundle;
    },
  };
  return { api, secrets, vwc, crd, writes };
}

describe('WebhookTls', () => {
  it('creates the Secret, serves the certificates, writes the caBundles; a second pass writes nothing', async () => {
    const fake = fakeApi();
    const served: PemPair[] = [];
    const tls = new WebhookTls({
      api: fake.api,
      namespace: NS,
      extraHosts: ['127.0.0.1'],
      onCertificates: (c) => served.push(c.serving),
      log,
    });
    const certs = await tls.ensure();
    expect(fake.secrets.has(WEBHOOK_CERT_SECRET)).toBe(true);
    expect(served).toHaveLength(1);
    const leaf = new X509Certificate(certs.serving.cert);
    expect(leaf.checkHost('ingot-webhook-service.metallb-system.svc')).toBeDefined();
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const bundle = Buffer.from(certs.ca.cert).toString('base64');
    expect(fake.vwc.webhooks.map((w) => w.clientConfig.caBundle)).toEqual([bundle, bundle]);
    expect(JSON.stringify(fake.crd)).toContain(bundle);
    expect(fake.writes).toEqual(['create secret', 'patch vwc', 'patch crd']);

    fake.writes.length = 0;
    await tls.ensure();
    expect(fake.writes).toEqual([]);
    expect(served).toHaveLength(1);

    // A new controller process reuses the stored certificates.
    const again = new WebhookTls({
      api: fake.api,
      namespace: NS,
      extraHosts: ['127.0.0.1'],
      onCertificates: (c) => served.push(c.serving),
      log,
    });
    expect((await again.ensure()).serving.cert).toBe(certs.serving.cert);
    expect(fake.writes).toEqual([]);
  });

  it('rotates before expiry, keeping the previous CA in the bundle', async () => {
    const fake = fakeApi();
    let now = Date.UTC(2026, 0, 1);
    const tls = new WebhookTls({
      api: fake.api,
      namespace: NS,
      onCertificates: () => {},
      log,
      now: () => now,
      validityMs: 100 * 86_400_000,
      renewBeforeMs: 10 * 86_400_000,
    });
    const first = await tls.ensure();
    now += 95 * 86_400_000;
    const second = await tls.ensure();
    expect(second.ca.cert).not.toBe(first.ca.cert);
    expect(second.bundle).toBe(second.ca.cert + first.ca.cert);
    expect(fake.writes.filter((w) => w === 'replace secret')).toHaveLength(1);
    expect(fake.vwc.webhooks[0]?.clientConfig.caBundle).toBe(Buffer.from(second.bundle).toString('base64'));
  });

  it('a conflicting writer wins: its certificates are used', async () => {
    const fake = fakeApi();
    const other = new WebhookTls({ api: fake.api, namespace: NS, onCertificates: () => {}, log });
    const theirs = await other.ensure();
    const api: WebhookTlsApi = {
      ...fake.api,
      readSecret: (() => {
        let first = true;
        return async (ns: string, name: string) => {
          if (first) {
            first = false;
            return undefined;
          }
          return fake.api.readSecret(ns, name);
        };
      })(),
    };
    const mine = await new WebhookTls({ api, namespace: NS, onCertificates: () => {}, log }).ensure();
    expect(mine.serving.cert).toBe(theirs.serving.cert);
  });
});
