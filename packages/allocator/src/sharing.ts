/**
 * MetalLB's IP sharing rules: when a service may take an IP other services hold (same sharing key, same backend key,
 * no port in common), and the per-family index of shareable IPs by sharing and backend key that lets allocation find
 * the lowest shareable IP in logarithmic time.
 */
import type { FamilyState, IpHolder } from './allocation-state.js';
import { textOf } from './allocation-state.js';
import { AllocationError, goQuote } from './errors.js';
import { OrderedMap } from './ordered-map.js';
import type { ServiceContext } from './service-context.js';

/** The sharing index key of a sharing key and a backend key. */
const sharingIndexKey = (sharing: string, backend: string): string => `${sharing}\u0000${backend}`;

/** MetalLB's `sharingOK`: undefined when the keys allow sharing, else the reason. */
function sharingProblem(
  existingSharing: string,
  existingBackend: string,
  sharing: string,
  backend: string,
): string | undefined {
  if (existingSharing === '') return 'existing service does not allow sharing';
  if (sharing === '') return 'new service does not allow sharing';
  if (existingSharing !== sharing) {
    return `sharing key ${goQuote(sharing)} does not match existing sharing key ${goQuote(existingSharing)}`;
  }
  if (existingBackend !== backend) {
    return `backend key ${goQuote(backend)} does not match existing sharing key ${goQuote(existingBackend)}`;
  }
  return undefined;
}

/** MetalLB's `checkSharing` for one IP; throws on conflict. */
export function checkSharing(serviceKey: string, h: IpHolder | undefined, ctx: ServiceContext): void {
  if (h === undefined) return;
  const problem = sharingProblem(h.sharing, h.backend, ctx.sharing, ctx.backend);
  if (problem !== undefined) {
    const others: string[] = [];
    for (const u of h.users) if (u.key !== serviceKey) others.push(u.key);
    if (others.length > 0) {
      others.sort();
      throw new AllocationError(
        'SHARING_CONFLICT',
        `can't change sharing key for ${goQuote(serviceKey)}, address also in use by ${others.join(',')}`,
        problem,
      );
    }
  }
  for (const p of ctx.ports) {
    for (const u of h.users) {
      if (u.key !== serviceKey && u.ports.includes(p)) {
        throw new AllocationError('PORT_CONFLICT', `port ${p} is already in use on ${goQuote(textOf(h))}`);
      }
    }
  }
}

/** True when a new service (holding nothing there) may share this held IP. */
function shareable(h: IpHolder, ctx: ServiceContext): boolean {
  for (const u of h.users) for (const p of ctx.ports) if (u.ports.includes(p)) return false;
  return true;
}

/** Lowest IP of the family in `[lo, hi]` the service may share, if any. */
export function lowestShareable(
  fam: FamilyState,
  ctx: ServiceContext,
  lo: bigint,
  hi: bigint | undefined,
): bigint | undefined {
  if (ctx.sharing === '') return undefined;
  const index = fam.sharing.get(sharingIndexKey(ctx.sharing, ctx.backend));
  if (index === undefined) return undefined;
  for (let e = index.ceiling(lo); e !== undefined; e = index.higher(e.key)) {
    if (hi !== undefined && e.key > hi) return undefined;
    if (shareable(e.value, ctx)) return e.key;
  }
  return undefined;
}

/** Adds a held IP to its family's sharing index (IPs without a sharing key are not indexed). */
export function indexSharing(fam: FamilyState, h: IpHolder): void {
  if (h.sharing === '') return;
  const k = sharingIndexKey(h.sharing, h.backend);
  let index = fam.sharing.get(k);
  if (index === undefined) {
    index = new OrderedMap<IpHolder>();
    fam.sharing.set(k, index);
  }
  index.set(h.value, h);
}

/** Removes a held IP from its family's sharing index. */
export function unindexSharing(fam: FamilyState, h: IpHolder): void {
  if (h.sharing === '') return;
  const k = sharingIndexKey(h.sharing, h.backend);
  const index = fam.sharing.get(k);
  if (index === undefined) return;
  index.delete(h.value);
  if (index.size === 0) fam.sharing.delete(k);
}
