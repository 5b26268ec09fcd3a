import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../command.js';

/** Files {@link makeClusterPki} writes into its directory. */
export interface ClusterPki {
  /** CA certificate (PEM path); kubeconfigs carry it as certificate-authority-data. */
  caCert: string;
  /** The CA certificate's PEM text. */
  caPem: string;
  /** The API server's serving certificate, signed by the CA. */
  servingCert: string;
  /** Its key. */
  servingKey: string;
  /** RSA key that signs ServiceAccount tokens. */
  serviceAccountKey: string;
  /** Its public half, which verifies them. */
  serviceAccountPub: string;
}

/**
 * Make a throwaway CA, a serving certificate for the API server valid for `ipAddresses` and the in-cluster names of
 * the `kubernetes` Service, and an RSA ServiceAccount signing key, all with openssl, in `dir`. Valid for 7 days.
 */
export async function makeClusterPki(dir: string, ipAddresses: readonly string[]): Promise<ClusterPki> {
  const p = (f: string) => join(dir, f);
  const openssl = (args: string[]) => runCommand('openssl', args, { timeoutMs: 30_000 });
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-days',
    '7',
    '-subj',
    '/CN=ingot-lab-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    p('apiserver.key'),
    '-out',
    p('apiserver.csr'),
    '-subj',
    '/CN=kube-apiserver',
  ]);
  const names = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'];
  names.push('kubernetes.default.svc.cluster.local');
  const san = [...new Set(ipAddresses)].map((a) => `IP:${a}`).concat(names.map((n) => `DNS:${n}`));
  writeFileSync(
    p('apiserver.ext'),
    `subjectAltName=${san.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    p('apiserver.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('apiserver.crt'),
    '-days',
    '7',
    '-extfile',
    p('apiserver.ext'),
  ]);
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', p('sa.key')]);
  await openssl(['pkey', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')]);
  return {
    caCert: p('ca.crt'),
    caPem: readFileSync(p('ca.crt'), 'utf8'),
    servingCert: p('apiserver.crt'),
    servingKey: p('apiserver.key'),
    serviceAccountKey: p('sa.key'),
    serviceAccountPub: p('sa.pub'),
  };
}
