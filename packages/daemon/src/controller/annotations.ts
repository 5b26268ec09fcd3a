/** MetalLB's annotation prefix, and the deprecated one still honoured as a fallback (the new one wins). */
export const ANNOTATION_PREFIX = 'metallb.io/';
/** The deprecated prefix. */
export const LEGACY_ANNOTATION_PREFIX = 'metallb.universe.tf/';

/** `metallb.io/address-pool`: allocate from this pool. */
export const ADDRESS_POOL_ANNOTATION = 'address-pool';
/** `metallb.io/loadBalancerIPs`: comma-separated requested IPs. */
export const LOAD_BALANCER_IPS_ANNOTATION = 'loadBalancerIPs';
/** `metallb.io/allow-shared-ip`: the sharing key. */
export const ALLOW_SHARED_IP_ANNOTATION = 'allow-shared-ip';
/** `metallb.io/ip-allocated-from-pool`: written by the controller. */
export const ALLOCATED_FROM_POOL_ANNOTATION = 'ip-allocated-from-pool';

/** Reads a MetalLB annotation by its short name, preferring `metallb.io/` over `metallb.universe.tf/`. */
export function readAnnotation(annotations: Readonly<Record<string, string>>, name: string): string | undefined {
  return annotations[ANNOTATION_PREFIX + name] ?? annotations[LEGACY_ANNOTATION_PREFIX + name];
}
