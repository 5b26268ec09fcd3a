import type { Logger } from '../logger.js';
import type { AnnouncementPlan } from '../speaker/announcement-plan.js';
import type { KubeObject } from './kube-objects.js';
import type { StatusObjectApi, StatusPlural } from './status-objects-api.js';

/** Label MetalLB puts on ServiceL2Status / ServiceBGPStatus objects: the announcing node. */
export const NODE_LABEL = 'metallb.io/node';
/** Label MetalLB puts on ServiceL2Status / ServiceBGPStatus objects: the Service's name. */
export const SERVICE_NAME_LABEL = 'metallb.io/service-name';
/** Label MetalLB puts on ServiceL2Status / ServiceBGPStatus objects: the Service's namespace. */
export const SERVICE_NAMESPACE_LABEL = 'metallb.io/service-namespace';

/** What this node's status objects should say: per Service (`namespace/name`), the L2 interfaces and BGP peers. */
export interface DesiredServiceStatuses {
  /** Services this node answers ARP/NDP for → the interfaces (empty: every eligible interface). */
  l2: Map<string, string[]>;
  /** Services this node advertises over BGP → the BGPPeer names it advertises them to. */
  bgp: Map<string, string[]>;
}

/**
 * The status objects a node should have, from its announcement plan: a ServiceL2Status for each Service whose IPs
 * this node answers for (the union of the interfaces), a ServiceBGPStatus for each Service it advertises, with the
 * peers it is meant to reach (an announcement for every peer lists `allPeers`, the BGPPeers of this node).
 */
export function desiredServiceStatuses(
  plan: AnnouncementPlan | undefined,
  node: string,
  allPeers: readonly string[],
): DesiredServiceStatuses {
  const l2 = new Map<string, string[]>();
  const bgp = new Map<string, string[]>();
  for (const a of plan?.l2 ?? []) {
    if (a.node !== node) continue;
    l2.set(a.service, [...new Set([...(l2.get(a.service) ?? []), ...a.interfaces])].sort());
  }
  for (const a of plan?.bgp ?? []) {
    const peers = a.peers.length === 0 ? allPeers : a.peers;
    bgp.set(a.service, [...new Set([...(bgp.get(a.service) ?? []), ...peers])].sort());
  }
  return { l2, bgp };
}

interface Kind {
  plural: StatusPlural;
  kind: string;
  prefix: string;
  status(node: string, service: string, detail: string[]): Record<string, unknown>;
}

/** The status fields both kinds share: the node, and the Service `namespace/name` split. */
function serviceStatus(node: string, service: string): Record<string, unknown> {
  const [serviceNamespace, serviceName] = service.split('/');
  return { node, serviceName, serviceNamespace };
}

const KINDS: Record<'l2' | 'bgp', Kind> = {
  l2: {
    plural: 'servicel2statuses',
    kind: 'ServiceL2Status',
    prefix: 'l2-',
    status: (node, service, interfaces) => ({
      ...serviceStatus(node, service),
      interfaces: interfaces.map((name) => ({ name })),
    }),
  },
  bgp: {
    plural: 'servicebgpstatuses',
    kind: 'ServiceBGPStatus',
    prefix: 'bgp-',
    status: (node, service, peers) => ({ ...serviceStatus(node, service), peers }),
  },
};

interface Written {
  name: string;
  detail: string;
}

/** Options of {@link ServiceStatusObjects}. */
export interface ServiceStatusObjectsOptions {
  /** Reads and writes. */
  api: StatusObjectApi;
  /** This node's name. */
  node: string;
  /** Structured logger. */
  log: Logger;
}

/**
 * Keeps this node's ServiceL2Status and ServiceBGPStatus objects equal to what it announces, as MetalLB's speaker
 * does (`generateName` `l2-`/`bgp-`, labels `metallb.io/node`, `metallb.io/service-name`,
 * `metallb.io/service-namespace`): creates them when the node starts announcing a Service, updates their status when
 * the interfaces or peers change, deletes them when it stops. The node's existing objects are listed once, at the
 * first sync; after that only changes cause requests.
 */
export class ServiceStatusObjects {
  private written: Record<'l2' | 'bgp', Map<string, Written>> | undefined;
  private running: Promise<void> | undefined;
  private pending: DesiredServiceStatuses | undefined;
  private failures = false;

  /** True when the last pass left a write undone (the caller retries later, even without a change). */
  get failed(): boolean {
    return this.failures;
  }

  constructor(private readonly options: ServiceStatusObjectsOptions) {}

  /** Brings the objects to `desired` (passes are serialized; the latest desired state wins). */
  sync(desired: DesiredServiceStatuses): Promise<void> {
    this.pending = desired;
    this.running ??= (async () => {
      try {
        while (this.pending) {
          const next = this.pending;
          this.pending = undefined;
          await this.pass(next);
        }
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async pass(desired: DesiredServiceStatuses): Promise<void> {
    const { api, node } = this.options;
    this.failures = false;
    if (!this.written) {
      const selector = `${NODE_LABEL}=${node}`;
      const load = async (kind: Kind) => {
        const byService = new Map<string, Written>();
        for (const o of await api.list(kind.plural, selector)) {
          const labels = o.metadata?.labels ?? {};
          const key = `${labels[SERVICE_NAMESPACE_LABEL] ?? ''}/${labels[SERVICE_NAME_LABEL] ?? ''}`;
          const name = o.metadata?.name ?? '';
          // A duplicate (e.g. left by a crash between create and status write) is deleted on this pass.
          if (byService.has(key)) await api.delete(kind.plural, name);
          else byService.set(key, { name, detail: JSON.stringify(o.status ?? {}) });
        }
        return byService;
      };
      this.written = { l2: await load(KINDS.l2), bgp: await load(KINDS.bgp) };
    }
    for (const which of ['l2', 'bgp'] as const) {
      const kind = KINDS[which];
      const written = this.written[which];
      const want = desired[which];
      for (const [service, detail] of want) {
        const status = kind.status(node, service, detail);
        const text = JSON.stringify(status);
        const have = written.get(service);
        if (have?.detail === text) continue;
        try {
          let name = have?.name;
          if (!name) {
            const [namespace = '', svcName = ''] = service.split('/');
            const created = await this.options.api.create(kind.plural, {
              apiVersion: 'metallb.io/v1beta1',
              kind: kind.kind,
              metadata: {
                generateName: kind.prefix,
                labels: { [NODE_LABEL]: node, [SERVICE_NAME_LABEL]: svcName, [SERVICE_NAMESPACE_LABEL]: namespace },
              },
            } as KubeObject);
            name = created.metadata?.name ?? '';
            written.set(service, { name, detail: '{}' });
          }
          await this.options.api.patchStatus(kind.plural, name, status);
          written.set(service, { name, detail: text });
        } catch (err) {
          this.failures = true;
          this.options.log.warn('writing a service status object failed; retried later', {
            kind: kind.kind,
            service,
            error: (err as Error).message,
          });
        }
      }
      for (const [service, have] of [...written]) {
        if (want.has(service)) continue;
        try {
          await this.options.api.delete(kind.plural, have.name);
          written.delete(service);
        } catch (err) {
          this.failures = true;
          this.options.log.warn('deleting a service status object failed; retried later', {
            kind: kind.kind,
            service,
            error: (err as Error).message,
          });
        }
      }
    }
  }
}
