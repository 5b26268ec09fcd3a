import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultKubeConfigFile,
  inClusterAccess,
  kubeConfigAccess,
  UnsupportedKubeConfigError,
} from '../../src/kubernetes/kube-access.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ingot-kube-access-'));
  dirs.push(d);
  return d;
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function applied(access: { applyToHTTPSOptions(o: https.RequestOptions): Promise<void> }) {
  const opts: https.RequestOptions = { headers: { 'User-Agent': 'ingot' } };
  await access.applyToHTTPSOptions(opts);
  return opts;
}

const fixture = (user: string, cluster = 'server: https://192.0.2.10:6443\n    certificate-authority-data: Q0E=') => `
apiVersion: v1
kind: Config
current-context: admin
contexts:
- name: other
  context: {cluster: nowhere, user: nobody}
- name: admin
  context:
    cluster: lab
    user: admin
    namespace: metallb-system
clusters:
- name: lab
  cluster:
    ${cluster}
users:
- name: admin
  user:
    ${user}
`;

describe('kubeConfigAccess', () => {
  it('reads the current context: server, CA data, token, namespace', async () => {
    const access = kubeConfigAccess(fixture('token: s3cret'), '/etc/kubeconfig');
    expect(access.getCurrentCluster().server).toBe('https://192.0.2.10:6443');
    expect(access.spec.namespace).toBe('metallb-system');
    const opts = await applied(access);
    expect(opts.headers).toEqual({ 'User-Agent': 'ingot', Authorization: 'Bearer s3cret' });
    expect(Buffer.from(opts.ca as Buffer).toString()).toBe('CA');
    expect(opts.rejectUnauthorized).toBeUndefined();
    // One keep-alive agent shared by every request.
    const again = await applied(access);
    expect(again.agent).toBe(opts.agent);
    expect((opts.agent as https.Agent & { keepAlive?: boolean }).keepAlive).toBe(true);
  });

  it('reads files relative to the kubeconfig, re-reading the token file each time', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'CA-FILE');
    writeFileSync(join(dir, 'pki', 'client.crt'), 'CERT');
    writeFileSync(join(dir, 'pki', 'client.key'), 'KEY');
    writeFileSync(join(dir, 'token'), 'one\n');
    const text = fixture(
      'tokenFile: token\n    client-certificate: pki/client.crt\n    client-key: pki/client.key',
      'server: https://192.0.2.10:6443\n    certificate-authority: pki/ca.crt\n    tls-server-name: kubernetes',
    );
    const access = kubeConfigAccess(text, join(dir, 'config'));
    const first = await applied(access);
    expect(first.headers).toMatchObject({ Authorization: 'Bearer one' });
    expect(String(first.ca)).toBe('CA-FILE');
    expect(String(first.cert)).toBe('CERT');
    expect(String(first.key)).toBe('KEY');
    expect(first.servername).toBe('kubernetes');
    writeFileSync(join(dir, 'token'), 'two\n');
    writeFileSync(join(dir, 'pki', 'client.crt'), 'CERT2');
    const second = await applied(access);
    expect(second.headers).toMatchObject({ Authorization: 'Bearer two' });
    expect(String(second.cert)).toBe('CERT2');
    // New TLS material: a new agent (the old one's connections carry the old certificate).
    expect(second.agent).not.toBe(first.agent);
  });

  it('takes client certificate data and insecure-skip-tls-verify', async () => {
    const text = fixture(
      `client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}`,
      'server: https://192.0.2.10:6443\n    insecure-skip-tls-verify: true',
    );
    const opts = await applied(kubeConfigAccess(text, '/k'));
    expect(String(opts.cert)).toBe('CERT');
    expect(String(opts.key)).toBe('KEY');
    expect(opts.rejectUnauthorized).toBe(false);
    expect(opts.ca).toBeUndefined();
    expect((opts.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('uses no agent of its own for plain HTTP (a local proxy)', async () => {
    const opts = await applied(kubeConfigAccess(fixture('token: t', 'server: http://127.0.0.1:8001'), '/k'));
    expect(opts.agent).toBeUndefined();
  });

  it('refuses what it does not do, so the caller falls back to client-node', () => {
    for (const user of ['exec: {command: aws}', 'auth-provider: {name: oidc}', 'username: u']) {
      expect(() => kubeConfigAccess(fixture(user), '/k')).toThrow(UnsupportedKubeConfigError);
    }
  });

  it('says what is missing', () => {
    expect(() => kubeConfigAccess('apiVersion: v1\n', '/k')).toThrow('no current-context');
    expect(() => kubeConfigAccess(fixture('token: t'), '/k', 'absent')).toThrow('context "absent" not found');
    expect(() => kubeConfigAccess(fixture('token: t', 'insecure-skip-tls-verify: true'), '/k')).toThrow('no server');
  });
});

describe('inClusterAccess', () => {
  it('uses the service account mount and KUBERNETES_SERVICE_HOST/PORT', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), 'sa-token');
    writeFileSync(join(dir, 'ca.crt'), 'SA-CA');
    writeFileSync(join(dir, 'namespace'), 'metallb-system\n');
    const access = inClusterAccess({ KUBERNETES_SERVICE_HOST: '2001:db8::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(access.getCurrentCluster().server).toBe('https://[2001:db8::1]:443');
    expect(access.spec.namespace).toBe('metallb-system');
    const opts = await applied(access);
    expect(opts.headers).toMatchObject({ Authorization: 'Bearer sa-token' });
    expect(String(opts.ca)).toBe('SA-CA');
    writeFileSync(join(dir, 'token'), 'rotated');
    expect((await applied(access)).headers).toMatchObject({ Authorization: 'Bearer rotated' });
  });

  it('needs the environment', () => {
    expect(() => inClusterAccess({}, '/nonexistent')).toThrow('KUBERNETES_SERVICE_HOST');
  });
});

describe('defaultKubeConfigFile', () => {
  it('is $KUBECONFIG, else ~/.kube/config, and undefined for a list', () => {
    expect(defaultKubeConfigFile({ KUBECONFIG: '/a' })).toBe('/a');
    expect(defaultKubeConfigFile({ HOME: '/home/x' })).toBe('/home/x/.kube/config');
    expect(defaultKubeConfigFile({ KUBECONFIG: '/a:/b' })).toBeUndefined();
  });
});
