/**
 * Weighted ECMP by endpoints (Ingot's own, opt-in per BGPAdvertisement with the `ingot.dev/weighted-ecmp: endpoints`
 * annotation; an annotation because MetalLB's CRD schema prunes unknown spec fields): the BGPAdvertisement switch, and
 * the standalone `status.endpointCounts` of a Service.
 * @module
 */

import type { FieldReader } from './field-reader.js';

/** The BGPAdvertisement annotation that turns on weighted ECMP by endpoints (see BGPAdvertisement.weightedEcmp). */
export const WEIGHTED_ECMP_ANNOTATION = 'ingot.dev/weighted-ecmp';

export function readWeightedEcmp(r: FieldReader, aggregationLength: number, aggregationLengthV6: number): boolean {
  const value = r.stringMap('metadata.annotations')[WEIGHTED_ECMP_ANNOTATION];
  if (value === undefined) return false;
  const field = `metadata.annotations.${WEIGHTED_ECMP_ANNOTATION}`;
  if (value !== 'endpoints') {
    r.fail(field, `must be "endpoints" (the only weighting), got ${JSON.stringify(value)}`);
    return false;
  }
  if (aggregationLength !== 32 || aggregationLengthV6 !== 128) {
    r.fail(
      field,
      'needs aggregationLength 32 and aggregationLengthV6 128: an aggregated prefix has no single Service to count endpoints of',
    );
    return false;
  }
  return true;
}

/** Standalone `status.endpointCounts` (node → serving endpoints), as Kubernetes mode derives from EndpointSlices. */
export function readEndpointCounts(r: FieldReader): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [node, text] of Object.entries(r.stringMap('status.endpointCounts'))) {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 1_000_000)
      r.fail(`status.endpointCounts.${node}`, `must be an integer 0..1000000, got ${JSON.stringify(text)}`);
    else out[node] = n;
  }
  return out;
}
