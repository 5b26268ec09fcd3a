import { apiPrefix, type KubeResponse, type ResourceInfo } from './api-client.js';

/** The part of a Kubernetes object the lab needs to address it; the rest is sent as it is. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * Maps apiVersion + kind to the resource's URL name with the server's discovery documents (`/api/v1`,
 * `/apis/GROUP/VERSION`), cached per apiVersion and fetched again when a kind is missing (a CRD just created).
 */
export class Discovery {
  private readonly cache = new Map<string, Map<string, ResourceInfo>>();

  constructor(private readonly get: (path: string) => Promise<KubeResponse>) {}

  /** The resource serving `kind` in `apiVersion`; throws when the server does not serve it. */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const cached = this.cache.get(apiVersion)?.get(kind);
    if (cached) return cached;
    const r = await this.get(apiPrefix(apiVersion));
    if (r.status !== 200) throw new Error(`lab: discovery of ${apiVersion}: HTTP ${r.status}: ${r.text.slice(0, 500)}`);
    const kinds = new Map<string, ResourceInfo>();
    for (const res of (r.json().resources ?? []) as { name: string; kind: string; namespaced: boolean }[]) {
      if (!res.name.includes('/')) kinds.set(res.kind, { name: res.name, namespaced: res.namespaced });
    }
    this.cache.set(apiVersion, kinds);
    const found = kinds.get(kind);
    if (!found) throw new Error(`lab: the API server serves no kind ${kind} in ${apiVersion}`);
    return found;
  }
}
