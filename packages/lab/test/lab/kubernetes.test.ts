import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPair,
  type LabKubernetes,
  labSuite,
  livePids,
  type Pair,
  pollUntil,
  startKubernetes,
} from '../../src/index.js';

const NS = 'lab-test';

/** A watch from `resourceVersion` that ends after a second: the HTTP status and the events' types/codes. */
async function shortWatch(k: LabKubernetes, resourceVersion: string): Promise<{ status: number; codes: number[] }> {
  const r = await k.request(
    'GET',
    `/api/v1/namespaces/${NS}/configmaps?watch=1&resourceVersion=${resourceVersion}&timeoutSeconds=1`,
  );
  const codes = r.text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; object: { code?: number } })
    .filter((e) => e.type === 'ERROR')
    .map((e) => e.object.code ?? 0);
  return { status: r.status, codes };
}

/** Server-side apply of ConfigMap `counter` with data n. */
function counter(k: LabKubernetes, n: number) {
  return k.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'counter', namespace: NS },
    data: { n: String(n) },
  });
}

labSuite(
  'startKubernetes (real etcd + kube-apiserver)',
  { tools: ['etcd', 'kube-apiserver', 'openssl', 'curl'] },
  () => {
    describe('on loopback', () => {
      let k: LabKubernetes;
      beforeAll(async () => {
        k = await startKubernetes();
      }, 240_000);
      afterAll(async () => {
        const pids = [k?.apiServer().pid, k?.etcd().pid];
        await k?.stop();
        expect(livePids()).not.toEqual(expect.arrayContaining(pids.filter((p) => p !== undefined)));
      });

      it('answers /readyz over TLS that its CA verifies (curl without -k), with the admin token only', async () => {
        const ca = join(k.dir, 'ca-copy.crt');
        writeFileSync(ca, k.caPem);
        const curl = (token?: string) =>
          execFileSync(
            'curl',
            [
              '-sS',
              '--cacert',
              ca,
              '-o',
              '/dev/null',
              '-w',
              '%{http_code}',
              ...(token ? ['-H', `Authorization: Bearer ${token}`] : []),
              `${k.server}/api/v1/namespaces`,
            ],
            { encoding: 'utf8' },
          );
        expect(curl(k.adminToken)).toBe('200');
        expect(curl()).toBe('403'); // anonymous requests are authenticated as system:anonymous and RBAC denies them
        expect(curl('not-a-token')).toBe('401');
        const ready = await k.request('GET', '/readyz');
        expect([ready.status, ready.text]).toEqual([200, 'ok']);
        const kubeconfig = JSON.parse(readFileSync(k.adminKubeconfig, 'utf8'));
        expect(kubeconfig.clusters[0].cluster.server).toBe(k.server);
        expect(Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(
          k.caPem,
        );
        expect(kubeconfig.users[0].user.token).toBe(k.adminToken);
      });

      it('mints ServiceAccount tokens (TokenRequest) that RBAC denies until a Role allows them', async () => {
        const token = await k.serviceAccountToken(NS, 'reader');
        const who = await k.request(
          'POST',
          '/apis/authentication.k8s.io/v1/selfsubjectreviews',
          { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
          { token },
        );
        expect(who.status).toBe(201);
        expect(who.json().status.userInfo.username).toBe(`system:serviceaccount:${NS}:reader`);
        const list = () => k.request('GET', `/api/v1/namespaces/${NS}/configmaps`, undefined, { token });
        const denied = await list();
        expect(denied.status).toBe(403);
        expect(denied.json().reason).toBe('Forbidden');
        await k.apply([
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'Role',
            metadata: { name: 'configmap-reader', namespace: NS },
            rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
          },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'configmap-reader', namespace: NS },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
            subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: NS }],
          },
        ]);
        // RBAC's authorizer reads its informer's cache: the binding takes effect within moments, not at once.
        await pollUntil(
          async () => ((await list()).status === 200 ? true : undefined),
          10_000,
          () => 'the Role to apply',
        );
        const write = await k.request(
          'POST',
          `/api/v1/namespaces/${NS}/configmaps`,
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nope' } },
          { token },
        );
        expect(write.status).toBe(403);
      });

      it('applies a CRD and then its custom resource in one call', async () => {
        const [, cr] = await k.apply([
          {
            apiVersion: 'apiextensions.k8s.io/v1',
            kind: 'CustomResourceDefinition',
            metadata: { name: 'widgets.lab.ingot.dev' },
            spec: {
              group: 'lab.ingot.dev',
              scope: 'Namespaced',
              names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
              versions: [
                {
                  name: 'v1',
                  served: true,
                  storage: true,
                  schema: {
                    openAPIV3Schema: {
                      type: 'object',
                      properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } },
                    },
                  },
                },
              ],
            },
          },
          { apiVersion: 'lab.ingot.dev/v1', kind: 'Widget', metadata: { name: 'w', namespace: NS }, spec: { size: 3 } },
        ]);
        expect(cr?.spec).toEqual({ size: 3 });
        // The schema is enforced: the real server rejects what the fake one would have stored.
        await expect(
          k.apply({
            apiVersion: 'lab.ingot.dev/v1',
            kind: 'Widget',
            metadata: { name: 'bad', namespace: NS },
            spec: { size: 0 },
          }),
        ).rejects.toThrow(/HTTP 422/);
      });

      it('keeps its data across a kube-apiserver restart', async () => {
        const [made] = await k.apply({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'kept', namespace: NS },
          data: { answer: '42' },
        });
        const before = k.apiServer().pid;
        await k.restartApiServer();
        expect(k.apiServer().pid).not.toBe(before);
        const got = await k.request('GET', `/api/v1/namespaces/${NS}/configmaps/kept`);
        expect(got.status).toBe(200);
        expect(got.json().data).toEqual({ answer: '42' });
        expect(got.json().metadata.uid).toBe(made?.metadata.uid);
      }, 240_000);

      it('a restart starts the watch cache afresh: a watch from a version before it gets 410 Gone', async () => {
        const [first] = await counter(k, 0);
        const oldVersion = String(first?.metadata.resourceVersion);
        for (let i = 1; i <= 5; i++) await counter(k, i);
        expect(await shortWatch(k, oldVersion)).toEqual({ status: 200, codes: [] });
        await k.restartApiServer();
        expect(await shortWatch(k, oldVersion)).toEqual({ status: 200, codes: [410] });
      }, 240_000);
    });

    describe('in a namespace', () => {
      let pair: Pair | undefined;
      let k: LabKubernetes;
      beforeAll(async () => {
        pair = await createPair({ name: 'kube' });
        // Without the watch cache every watch reads etcd, so a compaction shows at once.
        k = await startKubernetes({ host: pair.b, watchCache: false });
      }, 240_000);
      afterAll(async () => {
        const dir = k?.dir;
        await pair?.destroy(); // stops the cluster through the host's topology
        if (dir) expect(existsSync(dir)).toBe(false);
      });

      it('serves other namespaces at the host address, verified with its CA, and the test process through a socket', async () => {
        expect(k.server).toBe('https://192.0.2.2:6443');
        const a = pair?.a;
        if (!a) throw new Error('no pair');
        const ca = join(k.dir, 'ca-copy.crt');
        writeFileSync(ca, k.caPem);
        const code = await a.run('curl', [
          '-sS',
          '--cacert',
          ca,
          '-H',
          `Authorization: Bearer ${k.adminToken}`,
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          `${k.server}/readyz`,
        ]);
        expect(code).toBe('200');
        const token = await k.serviceAccountToken(NS, 'nobody');
        const r = await k.request('GET', '/api/v1/nodes', undefined, { token });
        expect(r.status).toBe(403);
        expect(await k.metrics()).toMatch(/^apiserver_request_total\{/m);
      });

      it('compactEtcd() compacts etcd: a watch from a compacted version gets 410 Gone', async () => {
        const [first] = await counter(k, 0);
        const oldVersion = String(first?.metadata.resourceVersion);
        for (let i = 1; i <= 5; i++) await counter(k, i);
        expect(await shortWatch(k, oldVersion)).toEqual({ status: 200, codes: [] });
        const revision = await k.compactEtcd();
        expect(revision).toBeGreaterThan(Number(oldVersion));
        const after = await shortWatch(k, oldVersion);
        // The API server answers either with HTTP 410 or with a 200 stream whose first event is an ERROR Status 410.
        expect(after.status === 410 || after.codes.includes(410)).toBe(true);
      });
    });
  },
);
