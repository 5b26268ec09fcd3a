import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { METALLB_RESOURCE_TYPES } from '../../src/kubernetes/kube-objects.js';
import { CRDS } from './crd-definitions.js';

const CRD_DIR = fileURLToPath(new URL('../../deploy/crds/', import.meta.url));
const HEADER =
  '# Generated from packages/daemon/test/deploy/crd-definitions.ts: edit that file, then run\n' +
  '# UPDATE_CRDS=1 npx vitest run test/deploy/crds.test.ts (in packages/daemon).\n';

/** The committed text of a CRD file. */
function render(obj: unknown): string {
  return HEADER + stringify(obj, { lineWidth: 0 });
}

type Crd = {
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; plural: string };
    conversion?: { strategy: string };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      additionalPrinterColumns?: { name: string; jsonPath: string }[];
      schema: { openAPIV3Schema: { properties: Record<string, { properties?: Record<string, unknown> }> } };
    }[];
  };
};

describe('deploy/crds', () => {
  if (process.env.UPDATE_CRDS) {
    for (const [file, obj] of Object.entries(CRDS)) writeFileSync(join(CRD_DIR, file), render(obj));
  }

  it('the committed files are the generated ones, one per CRD and nothing else', () => {
    expect(readdirSync(CRD_DIR).sort()).toEqual(Object.keys(CRDS).sort());
    for (const [file, obj] of Object.entries(CRDS)) {
      expect(readFileSync(join(CRD_DIR, file), 'utf8'), `${file} is stale: see its header`).toBe(render(obj));
    }
  });

  const crds = Object.fromEntries(
    Object.keys(CRDS).map((file) => [file, parse(readFileSync(join(CRD_DIR, file), 'utf8')) as Crd]),
  );
  const byKind = (kind: string) => Object.values(crds).find((c) => c.spec.names.kind === kind) as Crd;

  it('covers the metallb.io kinds Ingot reads and writes, each with exactly one storage version', () => {
    expect(
      Object.values(crds)
        .map((c) => c.spec.names.kind)
        .sort(),
    ).toEqual(
      [
        'BFDProfile',
        'BGPAdvertisement',
        'BGPPeer',
        'Community',
        'ConfigurationState',
        'IPAddressPool',
        'L2Advertisement',
        'ServiceBGPStatus',
        'ServiceL2Status',
      ].sort(),
    );
    for (const c of Object.values(crds)) {
      expect(c.spec.group).toBe('metallb.io');
      expect(c.metadata.name).toBe(`${c.spec.names.plural}.metallb.io`);
      expect(c.spec.versions.filter((v) => v.storage)).toHaveLength(1);
      expect(c.spec.versions.every((v) => v.served)).toBe(true);
    }
  });

  it('serves every resource the daemon watches, at the version it reads', () => {
    for (const type of METALLB_RESOURCE_TYPES) {
      const c = byKind(type.kind);
      expect(c.spec.names.plural).toBe(type.plural);
      expect(c.spec.versions.map((v) => v.name)).toContain(type.version);
    }
  });

  it('BGPPeer: v1beta1 (deprecated) and v1beta2 (storage), converted by the webhook', () => {
    const peer = byKind('BGPPeer');
    expect(peer.spec.versions.map((v) => [v.name, v.storage])).toEqual([
      ['v1beta1', false],
      ['v1beta2', true],
    ]);
    expect(peer.spec.conversion?.strategy).toBe('Webhook');
    const v2 = peer.spec.versions[1]?.schema.openAPIV3Schema.properties.spec?.properties ?? {};
    for (const field of ['myASN', 'peerASN', 'dynamicASN', 'peerAddress', 'passwordSecret', 'connectTime', 'vrf'])
      expect(Object.keys(v2)).toContain(field);
  });

  it("MetalLB's printer columns and defaults", () => {
    const columns = (kind: string) =>
      byKind(kind)
        .spec.versions.at(-1)
        ?.additionalPrinterColumns?.map((c) => `${c.name}=${c.jsonPath}`);
    expect(columns('IPAddressPool')).toEqual([
      'Auto Assign=.spec.autoAssign',
      'Avoid Buggy IPs=.spec.avoidBuggyIPs',
      'Addresses=.spec.addresses',
    ]);
    expect(columns('ServiceL2Status')).toEqual([
      'Allocated Node=.status.node',
      'Service Name=.status.serviceName',
      'Service Namespace=.status.serviceNamespace',
    ]);
    expect(columns('ConfigurationState')).toEqual([
      'Result=.status.result',
      'ErrorSummary=.status.errorSummary',
      'Age=.metadata.creationTimestamp',
    ]);
    const spec = (kind: string) =>
      byKind(kind).spec.versions.at(-1)?.schema.openAPIV3Schema.properties.spec?.properties as Record<
        string,
        { default?: unknown }
      >;
    expect(spec('IPAddressPool').autoAssign?.default).toBe(true);
    expect(spec('IPAddressPool').avoidBuggyIPs?.default).toBe(false);
    expect(spec('BGPAdvertisement').aggregationLength?.default).toBe(32);
    expect(spec('BGPAdvertisement').aggregationLengthV6?.default).toBe(128);
    expect(spec('BGPPeer').peerPort?.default).toBe(179);
  });
});
