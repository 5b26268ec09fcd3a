import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

/** A certificate and its private key, PEM-encoded. */
export interface PemPair {
  /** The certificate (`-----BEGIN CERTIFICATE-----`). */
  cert: string;
  /** The private key, PKCS#8 (`-----BEGIN PRIVATE KEY-----`). */
  key: string;
}

/** The webhook's certificate authority and the serving certificate it signed. */
export interface WebhookCertificates {
  /** The CA: its certificate goes into the webhook configurations' `caBundle`. */
  ca: PemPair;
  /** The serving certificate, for the DNS names and IP addresses the API server dials. */
  serving: PemPair;
}

/** Options of {@link createWebhookCertificates}. */
export interface CreateCertificatesOptions {
  /** DNS names and IP addresses (subjectAltName) of the serving certificate; the first is also its common name. */
  hosts: readonly string[];
  /** Validity of both certificates from `now`. @default 365 days */
  validityMs?: number;
  /** The current time. @default Date.now() */
  now?: number;
  /** An existing CA to sign with (rotating the serving certificate only); a new CA is made without it. */
  ca?: PemPair;
}

const DAY_MS = 86_400_000;

/**
 * Makes a self-signed CA (ECDSA P-256) and a serving certificate signed by it, the way MetalLB's controller makes its
 * own webhook certificate: no cert-manager, no openssl. The certificates are plain X.509 v3 (basicConstraints,
 * keyUsage, extKeyUsage serverAuth, subjectAltName) that the API server's Go TLS stack accepts.
 */
export function createWebhookCertificates(options: CreateCertificatesOptions): WebhookCertificates {
  const [first] = options.hosts;
  if (first === undefined) throw new Error('createWebhookCertificates: at least one host is needed');
  const now = options.now ?? Date.now();
  // Backdated a little so a server whose clock is slightly behind still accepts them.
  const notBefore = now - 60 * 60_000;
  const notAfter = now + (options.validityMs ?? 365 * DAY_MS);
  const ca =
    options.ca ??
    (() => {
      const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const cert = certificate({
        subject: 'ingot-webhook-ca',
        issuer: 'ingot-webhook-ca',
        publicKey: keys.publicKey.export({ type: 'spki', format: 'der' }),
        signingKey: keys.privateKey,
        notBefore,
        notAfter,
        extensions: [
          extension(OID.basicConstraints, true, seq(bool(true))),
          extension(OID.keyUsage, true, keyUsage([0, 5, 6])), // digitalSignature, keyCertSign, cRLSign
        ],
      });
      return {
        cert: pem('CERTIFICATE', cert),
        key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
    })();
  const caKey = createPrivateKey(ca.key);
  const caSubject = new X509Certificate(ca.cert).subject.replace(/^CN=/, '');
  const leafKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = certificate({
    subject: first,
    issuer: caSubject,
    publicKey: leafKeys.publicKey.export({ type: 'spki', format: 'der' }),
    signingKey: caKey,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, seq()),
      extension(OID.keyUsage, true, keyUsage([0])), // digitalSignature
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, seq(...options.hosts.map(generalName))),
    ],
  });
  return {
    ca,
    serving: {
      cert: pem('CERTIFICATE', leaf),
      key: leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    },
  };
}

/**
 * True when the certificates should be replaced: unreadable, not signed by the CA, missing one of `hosts`, or
 * expiring (either of them) within `renewBeforeMs`.
 */
export function needsRotation(
  certs: WebhookCertificates,
  hosts: readonly string[],
  renewBeforeMs: number,
  now = Date.now(),
): boolean {
  try {
    const ca = new X509Certificate(certs.ca.cert);
    const serving = new X509Certificate(certs.serving.cert);
    createPrivateKey(certs.ca.key);
    createPrivateKey(certs.serving.key);
    if (!serving.verify(ca.publicKey)) return true;
    if (!serving.checkPrivateKey(createPrivateKey(certs.serving.key))) return true;
    for (const host of hosts) {
      const ok = isIP(host) ? serving.checkIP(host) !== undefined : serving.checkHost(host) !== undefined;
      if (!ok) return true;
    }
    const expires = Math.min(Date.parse(ca.validTo), Date.parse(serving.validTo));
    return expires - now < renewBeforeMs;
  } catch {
    return true;
  }
}

// --- A minimal DER writer: exactly what an X.509 v3 certificate needs. ---

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

function tlv(tag: number, body: Uint8Array): Buffer {
  const n = body.length;
  const len =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}
const seq = (...items: Uint8Array[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Uint8Array[]) => tlv(0x31, Buffer.concat(items));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (b: Uint8Array) => tlv(0x04, b);
const bitString = (b: Uint8Array, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const explicit = (n: number, body: Uint8Array) => tlv(0xa0 + n, body);

function integer(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && ((bytes[i + 1] as number) & 0x80) === 0) i++;
  const body = bytes.subarray(i);
  return tlv(0x02, ((body[0] as number) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), body]) : body);
}

function oid(text: string): Buffer {
  const parts = text.split('.').map(Number);
  const out = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = new Date(ms).getUTCFullYear();
  // UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

const name = (cn: string) => seq(set(seq(oid(OID.commonName), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const extension = (id: string, critical: boolean, value: Uint8Array) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** A keyUsage BIT STRING with these bits (0 = digitalSignature) set. */
function keyUsage(bits: number[]): Buffer {
  const bytes = Buffer.alloc(1);
  for (const b of bits) bytes[0] = (bytes[0] as number) | (0x80 >> b);
  const highest = Math.max(...bits);
  return bitString(bytes, 7 - highest);
}

function generalName(host: string): Buffer {
  const family = isIP(host);
  if (family === 0) return tlv(0x82, Buffer.from(host, 'ascii')); // dNSName
  const bytes =
    family === 4
      ? Buffer.from(host.split('.').map(Number))
      : Buffer.from(expandIpv6(host).flatMap((g) => [g >> 8, g & 0xff]));
  return tlv(0x87, bytes); // iPAddress
}

function expandIpv6(text: string): number[] {
  const [head = '', tail] = text.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const a = parse(head);
  const b = tail === undefined ? [] : parse(tail);
  return [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
}

interface CertificateFields {
  subject: string;
  issuer: string;
  publicKey: Buffer;
  signingKey: KeyObject;
  notBefore: number;
  notAfter: number;
  extensions: Buffer[];
}

function certificate(f: CertificateFields): Buffer {
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    name(f.issuer),
    seq(time(f.notBefore), time(f.notAfter)),
    name(f.subject),
    f.publicKey,
    explicit(3, seq(...f.extensions)),
  );
  const signature = sign('sha256', tbs, { key: f.signingKey, dsaEncoding: 'der' });
  return seq(tbs, algorithm, bitString(signature));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
