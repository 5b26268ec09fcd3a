import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseHostPort } from '../host-port.js';
import type { Logger } from '../logger.js';
import { type AdmissionContext, reviewAdmission } from './webhook-admission.js';
import type { PemPair } from './webhook-certificate.js';
import { reviewConversion } from './webhook-conversion.js';

/** MetalLB's validating webhook paths: `/validate-metallb-io-<version>-<kind in lower case>`. */
const VALIDATE_PATH = /^\/validate-metallb-io-v1beta[12]-[a-z0-9]+$/;
/** The conversion webhook path (BGPPeer v1beta1 ↔ v1beta2). */
export const CONVERT_PATH = '/convert';
/** Largest review body read (objects are at most 1.5 MiB; an update carries two). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** A client that has not sent a complete request within this time is disconnected. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Options of {@link startWebhookServer}. */
export interface WebhookServerOptions {
  /** `host:port` to listen on (MetalLB: 9443). */
  bind: string;
  /** The serving certificate and key. */
  tls: PemPair;
  /** What admission requests are checked against. */
  admission: AdmissionContext;
  /** Structured logger. */
  log: Logger;
}

/** A running webhook server. */
export interface WebhookServer {
  /** Where it listens. */
  address(): AddressInfo;
  /** Serves a new certificate from the next TLS handshake on (rotation). */
  setCertificate(tls: PemPair): void;
  /** Stops listening. */
  close(): Promise<void>;
}

/**
 * Serves the validating webhooks (`POST /validate-metallb-io-*`, AdmissionReview v1) and the BGPPeer conversion
 * webhook (`POST /convert`, ConversionReview v1) over HTTPS. A body that is not JSON gets 400; any other path 404.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const { log } = options;
  const { host, port } = parseHostPort(options.bind);
  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const convert = path === CONVERT_PATH;
    if (!convert && !VALIDATE_PATH.test(path)) return void res.writeHead(404).end();
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return void res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid JSON\n');
      }
      const answer = convert ? reviewConversion(body) : reviewAdmission(body, options.admission);
      if ('allowed' in answer.response && !answer.response.allowed)
        log.info('admission refused', { path, reason: answer.response.status?.message });
      if ('result' in answer.response && answer.response.result.status !== 'Success')
        log.warn('conversion failed', { reason: answer.response.result.message });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  log.info('serving webhooks', { address: options.bind });
  return {
    address: () => server.address() as AddressInfo,
    setCertificate: (tls) => server.setSecureContext({ cert: tls.cert, key: tls.key }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
