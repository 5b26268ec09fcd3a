import type { Logger } from '../logger.js';
import type { KubeEndpoint } from './kube-http.js';
import type { KubernetesMode } from './kubernetes-mode.js';
import { ensureMemberlistSecret } from './memberlist-secret.js';
import { startWebhookServer, type WebhookServer } from './webhook-server.js';
import { WebhookTls, webhookTlsApi } from './webhook-tls.js';

/** Options of {@link KubernetesControllerRole} (from the command line). */
export interface KubernetesControllerRoleOptions {
  /** MetalLB's namespace. */
  namespace: string;
  /**
   * Serve the validating and conversion webhooks on `bind` (HTTPS, certificate kept in the `ingot-webhook-cert`
   * Secret), with `hosts` added to the certificate's names (e.g. an IP the API server dials).
   */
  webhook?: { bind: string; hosts: readonly string[] };
  /** Create this memberlist Secret in the namespace when it is missing (MetalLB's `--ml-secret-name`). */
  memberlistSecretName?: string;
  /** Logger. */
  log: Logger;
}

/**
 * The controller's own parts in Kubernetes mode, beside the allocation the mode runs: the memberlist Secret for the
 * speakers, and the webhooks with their certificate (made and rotated here).
 */
export class KubernetesControllerRole {
  private tls: WebhookTls | undefined;
  private webhookServer: WebhookServer | undefined;

  constructor(private readonly options: KubernetesControllerRoleOptions) {}

  /** Ensures the memberlist Secret and starts the webhooks, as configured. */
  async start(mode: KubernetesMode, kubeConfig: KubeEndpoint): Promise<void> {
    const { webhook, memberlistSecretName, namespace, log } = this.options;
    if (!webhook && !memberlistSecretName) return;
    const secretApi = await webhookTlsApi(kubeConfig);
    if (memberlistSecretName)
      await ensureMemberlistSecret(secretApi, namespace, memberlistSecretName, log.child('memberlist'));
    if (!webhook) return;
    this.tls = new WebhookTls({
      api: secretApi,
      namespace,
      extraHosts: webhook.hosts,
      onCertificates: (certs) => this.webhookServer?.setCertificate(certs.serving),
      log: log.child('webhook'),
    });
    const certs = await this.tls.start();
    this.webhookServer = await startWebhookServer({
      bind: webhook.bind,
      tls: certs.serving,
      admission: { namespace, configObjects: () => mode.watch.configObjects() },
      log: log.child('webhook'),
    });
  }

  /** Stops rotating the certificate and closes the webhook server. */
  async stop(): Promise<void> {
    this.tls?.stop();
    await this.webhookServer?.close();
  }
}
