import { X509Certificate } from 'node:crypto';
import type { Logger } from '../logger.js';
import { type KubeEndpoint, KubeHttp } from './kube-http.js';
import type { KubeObject } from './kube-objects.js';
import { orUndefined, rawAdmissionregistrationV1Api, rawApiextensionsV1Api, rawSecretsApi } from './kube-rest.js';
import { isConflict } from './service-write-api.js';
import { createWebhookCertificates, needsRotation, type WebhookCertificates } from './webhook-certificate.js';

/** The Secret holding the webhook CA and serving certificate, so every controller start serves the same ones. */
export const WEBHOOK_CERT_SECRET = 'ingot-webhook-cert';
/** The Service the API server dials for the webhooks (deploy/webhook.yaml). */
export const WEBHOOK_SERVICE = 'ingot-webhook-service';
/** The ValidatingWebhookConfiguration whose `caBundle`s the controller keeps current (deploy/webhook.yaml). */
export const WEBHOOK_CONFIGURATION = 'ingot-validating-webhook-configuration';
/** CRDs with a conversion webhook the controller serves. */
export const CONVERSION_CRDS: readonly string[] = ['bgppeers.metallb.io'];

/** The reads and writes the certificate keeper makes (an interface so tests can stand in). */
export interface WebhookTlsApi {
  /** A Secret of the namespace, or undefined. */
  readSecret(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Creates a Secret (409 when it exists). */
  createSecret(namespace: string, secret: KubeObject): Promise<KubeObject>;
  /** Replaces a Secret; `metadata.resourceVersion` is a precondition (409 when it changed). */
  replaceSecret(namespace: string, secret: KubeObject): Promise<KubeObject>;
  /** A ValidatingWebhookConfiguration, or undefined. */
  readWebhookConfiguration(name: string): Promise<KubeObject | undefined>;
  /** JSON merge patch of a ValidatingWebhookConfiguration. */
  patchWebhookConfiguration(name: string, patch: object): Promise<void>;
  /** A CustomResourceDefinition, or undefined. */
  readCrd(name: string): Promise<KubeObject | undefined>;
  /** JSON merge patch of a CustomResourceDefinition. */
  patchCrd(name: string, patch: object): Promise<void>;
}

/** A {@link WebhookTlsApi} in plain JSON over {@link KubeHttp}. */
export async function webhookTlsApi(kubeConfig: KubeEndpoint): Promise<WebhookTlsApi> {
  const http = new KubeHttp(kubeConfig);
  const core = rawSecretsApi(http);
  const admission = rawAdmissionregistrationV1Api(http);
  const crds = rawApiextensionsV1Api(http);
  return {
    readSecret: (namespace, name) => orUndefined(() => core.readNamespacedSecret({ namespace, name })),
    createSecret: (namespace, secret) => core.createNamespacedSecret({ namespace, body: secret }),
    replaceSecret: (namespace, secret) =>
      core.replaceNamespacedSecret({ namespace, name: secret.metadata?.name ?? '', body: secret }),
    readWebhookConfiguration: (name) => orUndefined(() => admission.readValidatingWebhookConfiguration({ name })),
    patchWebhookConfiguration: async (name, body) => {
      await admission.patchValidatingWebhookConfiguration({ name, body });
    },
    readCrd: (name) => orUndefined(() => crds.readCustomResourceDefinition({ name })),
    patchCrd: async (name, body) => {
      await crds.patchCustomResourceDefinition({ name, body });
    },
  };
}

/** Options of {@link WebhookTls}. */
export interface WebhookTlsOptions {
  /** Reads and writes. */
  api: WebhookTlsApi;
  /** MetalLB's namespace (the Secret and the Service live there). */
  namespace: string;
  /** Extra names and addresses for the serving certificate (besides the Service's DNS names). */
  extraHosts?: readonly string[];
  /** Replace the certificates when either expires within this time. @default 30 days */
  renewBeforeMs?: number;
  /** Validity of new certificates. @default 365 days */
  validityMs?: number;
  /** How often the certificates and the `caBundle`s are checked again. @default 10 minutes */
  checkIntervalMs?: number;
  /** Called with the certificates to serve, at start and after each rotation. */
  onCertificates(certs: WebhookCertificates): void;
  /** Structured logger. */
  log: Logger;
  /** The current time. @default Date.now */
  now?: () => number;
}

const DAY_MS = 86_400_000;

/**
 * Keeps the webhook certificates: reads them from the `ingot-webhook-cert` Secret (creating them, and the Secret,
 * when missing, unusable or close to expiry), serves them through `onCertificates`, and writes the CA into the
 * `caBundle` of every webhook of `ingot-validating-webhook-configuration` and of the BGPPeer CRD's conversion webhook
 * (when it points at Ingot's Service or at a URL). After a rotation the bundle holds the new CA and the previous one
 * until it expires, so the API server trusts both certificates while the change propagates. Checked again every
 * `checkIntervalMs` (this re-adds a `caBundle` that a re-apply of the manifests removed).
 */
export class WebhookTls {
  private timer: NodeJS.Timeout | undefined;
  private served: string | undefined;
  private readonly hosts: string[];

  constructor(private readonly options: WebhookTlsOptions) {
    const svc = `${WEBHOOK_SERVICE}.${options.namespace}.svc`;
    this.hosts = [svc, `${svc}.cluster.local`, ...(options.extraHosts ?? [])];
  }

  /** Ensures the certificates and bundles once, then every `checkIntervalMs`; resolves with the certificates. */
  async start(): Promise<WebhookCertificates> {
    const certs = await this.ensure();
    this.timer = setInterval(
      () => {
        this.ensure().catch((err: Error) =>
          this.options.log.warn('webhook certificate check failed', { error: err.message }),
        );
      },
      this.options.checkIntervalMs ?? 10 * 60_000,
    );
    this.timer.unref();
    return certs;
  }

  /** Stops the periodic check. */
  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass: certificates current in the Secret, served, and the CA bundle in the webhook configurations. */
  async ensure(): Promise<WebhookCertificates & { bundle: string }> {
    const { api, namespace, log } = this.options;
    const now = (this.options.now ?? Date.now)();
    const renew = this.options.renewBeforeMs ?? 30 * DAY_MS;
    let stored = await api.readSecret(namespace, WEBHOOK_CERT_SECRET);
    let current = stored ? fromSecret(stored) : undefined;
    if (!current || needsRotation(current, this.hosts, renew, now)) {
      const fresh = createWebhookCertificates({
        hosts: this.hosts,
        now,
        ...(this.options.validityMs ? { validityMs: this.options.validityMs } : {}),
      });
      const previousCa = current && stillValid(current.ca.cert, now) ? current.ca.cert : '';
      const next = { ...fresh, bundle: fresh.ca.cert + previousCa };
      const secret = toSecret(namespace, next, stored?.metadata?.resourceVersion);
      try {
        stored = stored ? await api.replaceSecret(namespace, secret) : await api.createSecret(namespace, secret);
        current = next;
        log.info('webhook certificates created', {
          secret: WEBHOOK_CERT_SECRET,
          hosts: this.hosts,
          expires: new X509Certificate(next.serving.cert).validTo,
        });
      } catch (err) {
        // Another controller wrote them first: use theirs.
        if (!isConflict(err)) throw err;
        stored = await api.readSecret(namespace, WEBHOOK_CERT_SECRET);
        current = stored ? fromSecret(stored) : undefined;
        if (!current) throw new Error(`secret ${WEBHOOK_CERT_SECRET} changed under us and is unusable`);
      }
    }
    if (this.served !== current.serving.cert) {
      this.served = current.serving.cert;
      this.options.onCertificates(current);
    }
    await this.publishBundle(current.bundle);
    return current;
  }

  private async publishBundle(bundle: string): Promise<void> {
    const { api, log } = this.options;
    const caBundle = Buffer.from(bundle).toString('base64');
    const config = await api.readWebhookConfiguration(WEBHOOK_CONFIGURATION);
    if (!config) log.warn('no ValidatingWebhookConfiguration to update', { name: WEBHOOK_CONFIGURATION });
    else {
      const webhooks = ((config as { webhooks?: { clientConfig?: { caBundle?: string } }[] }).webhooks ?? []).map(
        (w) => ({ ...w, clientConfig: { ...w.clientConfig, caBundle } }),
      );
      const stale =
        webhooks.length > 0 && JSON.stringify(webhooks) !== JSON.stringify((config as { webhooks?: unknown }).webhooks);
      if (stale) {
        // The whole list is replaced (merge patch), guarded by the resourceVersion read.
        await api.patchWebhookConfiguration(WEBHOOK_CONFIGURATION, {
          metadata: { resourceVersion: config.metadata?.resourceVersion },
          webhooks,
        });
        log.info('webhook CA bundle written', { name: WEBHOOK_CONFIGURATION });
      }
    }
    for (const name of CONVERSION_CRDS) {
      const crd = await api.readCrd(name);
      const conversion = (
        crd?.spec as
          | {
              conversion?: {
                strategy?: string;
                webhook?: { clientConfig?: { caBundle?: string; url?: string; service?: { name?: string } } };
              };
            }
          | undefined
      )?.conversion;
      const client = conversion?.webhook?.clientConfig;
      const ours = client?.url !== undefined || client?.service?.name === WEBHOOK_SERVICE;
      if (conversion?.strategy !== 'Webhook' || !ours || client?.caBundle === caBundle) continue;
      await api.patchCrd(name, { spec: { conversion: { webhook: { clientConfig: { caBundle } } } } });
      log.info('conversion webhook CA bundle written', { crd: name });
    }
  }
}

function stillValid(pem: string, now: number): boolean {
  try {
    return Date.parse(new X509Certificate(pem).validTo) > now;
  } catch {
    return false;
  }
}

const KEYS = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key', bundle: 'ca-bundle.crt' } as const;

function fromSecret(secret: KubeObject): (WebhookCertificates & { bundle: string }) | undefined {
  const data = (secret as { data?: Record<string, unknown> }).data ?? {};
  const text = (k: string) =>
    typeof data[k] === 'string' ? Buffer.from(data[k] as string, 'base64').toString('utf8') : '';
  const certs = {
    ca: { cert: text(KEYS.caCert), key: text(KEYS.caKey) },
    serving: { cert: text(KEYS.cert), key: text(KEYS.key) },
  };
  if (!certs.ca.cert || !certs.ca.key || !certs.serving.cert || !certs.serving.key) return undefined;
  return { ...certs, bundle: text(KEYS.bundle) || certs.ca.cert };
}

function toSecret(
  namespace: string,
  certs: WebhookCertificates & { bundle: string },
  resourceVersion?: string,
): KubeObject {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: WEBHOOK_CERT_SECRET,
      namespace,
      labels: { 'app.kubernetes.io/name': 'ingot', 'app.kubernetes.io/component': 'controller' },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    ...{
      type: 'Opaque',
      data: {
        [KEYS.caCert]: b64(certs.ca.cert),
        [KEYS.caKey]: b64(certs.ca.key),
        [KEYS.cert]: b64(certs.serving.cert),
        [KEYS.key]: b64(certs.serving.key),
        [KEYS.bundle]: b64(certs.bundle),
      },
    },
  } as KubeObject;
}
