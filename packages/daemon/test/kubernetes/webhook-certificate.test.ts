import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWebhookCertificates, needsRotation } from '../../src/kubernetes/webhook-certificate.js';

const HOSTS = [
  'ingot-webhook-service.metallb-system.svc',
  'ingot-webhook-service.metallb-system.svc.cluster.local',
  '127.0.0.1',
  '::1',
];
const DAY = 86_400_000;

describe('createWebhookCertificates', () => {
  const certs = createWebhookCertificates({ hosts: HOSTS });
  const ca = new X509Certificate(certs.ca.cert);
  const serving = new X509Certificate(certs.serving.cert);

  it('makes a CA and a serving certificate it signed, for every host', () => {
    expect(ca.ca).toBe(true);
    expect(serving.ca).toBe(false);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.issuer).toBe(ca.subject);
    expect(serving.subject).toBe(`CN=${HOSTS[0]}`);
    expect(serving.checkHost(HOSTS[1] as string)).toBe(HOSTS[1]);
    expect(serving.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(serving.checkIP('::1')).toBe('::1');
    expect(serving.checkHost('other.metallb-system.svc')).toBeUndefined();
    expect(serving.keyUsage ?? []).toContain('1.3.6.1.5.5.7.3.1');
  });

  it('a TLS client trusting only the CA completes a handshake with the serving certificate', async () => {
    const server = createServer({ cert: certs.serving.cert, key: certs.serving.key }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = await new Promise<string>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path: '/', ca: certs.ca.cert, servername: HOSTS[0] }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
          });
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(body).toBe('ok');
    } finally {
      server.close();
    }
  });

  const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
  it.runIf(hasOpenssl)('openssl verifies the chain for serverAuth (runs where openssl is installed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingot-cert-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), certs.ca.cert);
      writeFileSync(join(dir, 'leaf.pem'), certs.serving.cert);
      const r = spawnSync(
        'openssl',
        ['verify', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')],
        {
          encoding: 'utf8',
        },
      );
      expect(r.stdout + r.stderr).toContain('OK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dates after 2049 are encoded as GeneralizedTime and read back', () => {
    const now = Date.UTC(2049, 6, 1);
    const far = createWebhookCertificates({ hosts: ['a.example'], now, validityMs: 2 * 365 * DAY });
    expect(new Date(new X509Certificate(far.serving.cert).validTo).getUTCFullYear()).toBe(2051);
  });

  it('rotating the serving certificate keeps the CA', () => {
    const next = createWebhookCertificates({ hosts: HOSTS, ca: certs.ca });
    expect(next.ca).toBe(certs.ca);
    expect(next.serving.cert).not.toBe(certs.serving.cert);
    expect(new X509Certificate(next.serving.cert).verify(ca.publicKey)).toBe(true);
  });
});

describe('needsRotation', () => {
  const now = Date.UTC(2026, 0, 1);
  const certs = createWebhookCertificates({ hosts: HOSTS, now, validityMs: 365 * DAY });

  it('is false for fresh certificates covering the hosts', () => {
    expect(needsRotation(certs, HOSTS, 30 * DAY, now)).toBe(false);
  });
  it('is true within the renewal window, for a missing host, a foreign CA or garbage', () => {
    expect(needsRotation(certs, HOSTS, 30 * DAY, now + 340 * DAY)).toBe(true);
    expect(needsRotation(certs, [...HOSTS, '192.0.2.9'], 30 * DAY, now)).toBe(true);
    const other = createWebhookCertificates({ hosts: HOSTS, now });
    expect(needsRotation({ ca: other.ca, serving: certs.serving }, HOSTS, 30 * DAY, now)).toBe(true);
    expect(needsRotation({ ca: certs.ca, serving: { cert: 'x', key: 'y' } }, HOSTS, 30 * DAY, now)).toBe(true);
  });
});
