import { afterEach, describe, expect, it, vi } from 'vitest';
import { builtToolPath, checkLab } from '../src/index.js';
import { apiPrefix, objectPath } from '../src/kubernetes/api-client.js';
import { builtToolVersion } from '../src/kubernetes/binaries.js';
import { firstServiceIp } from '../src/kubernetes/start-kubernetes.js';

describe('startKubernetes helpers', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads the pinned versions from the helper modules and keys the cache path by them', () => {
    expect(builtToolVersion('kube-apiserver')).toBe('v1.34.4');
    expect(builtToolVersion('etcd')).toBe('v3.6.17');
    expect(builtToolPath('etcd', { INGOT_LAB_CACHE: '/x' })).toBe('/x/etcd-v3.6.17/etcd');
    expect(builtToolPath('kube-apiserver', {})).toBe('/var/cache/ingot-lab/kube-apiserver-v1.34.4/kube-apiserver');
  });

  it('checkLab names the build script, not apt, for a missing etcd or kube-apiserver build', () => {
    vi.stubEnv('INGOT_LAB_CACHE', '/nonexistent/ingot-lab-cache');
    const c = checkLab(['kube-apiserver', 'etcd']);
    expect(c.missingTools).toEqual(['kube-apiserver', 'etcd']);
    expect(c.packages).toEqual([]);
    expect(c.problems).toContain(
      'missing lab builds: kube-apiserver, etcd (run packages/lab/go/build-tools.sh; needs Go 1.26)',
    );
  });

  it('the first service IP goes into the serving certificate', () => {
    expect(firstServiceIp('203.0.113.128/25')).toBe('203.0.113.129');
    expect(firstServiceIp('198.51.100.0/24,2001:db8:ffff::/112')).toBe('198.51.100.1');
    expect(firstServiceIp('2001:db8:ffff::/108')).toBe('2001:db8:ffff::1');
    expect(() => firstServiceIp('nonsense')).toThrow(/bad service range/);
  });

  it('builds object URLs from discovery', () => {
    expect(apiPrefix('v1')).toBe('/api/v1');
    expect(apiPrefix('metallb.io/v1beta1')).toBe('/apis/metallb.io/v1beta1');
    expect(objectPath('v1', { name: 'services', namespaced: true }, 'web', 'demo')).toBe(
      '/api/v1/namespaces/demo/services/web',
    );
    expect(objectPath('v1', { name: 'nodes', namespaced: false }, 'node-1', undefined)).toBe('/api/v1/nodes/node-1');
  });
});
