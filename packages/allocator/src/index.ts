/**
 * @packageDocumentation
 * @ingot/allocator: IP address pools (CIDRs and ranges, IPv4 and IPv6) and MetalLB's allocation rules, with
 * logarithmic free-space search. See README.md.
 */

export { type Family, formatIp, type Ip, isBuggyIp, parseIp } from './address.js';
export { Allocator } from './allocator.js';
export type {
  AllocatorOptions,
  MetricSample,
  PoolStats,
  RestoreEntry,
  RestoreOutcome,
  SetPoolsOptions,
  SetPoolsResult,
} from './allocator-types.js';
export { type AddressEntryResult, formatPrefix, type Prefix, parseAddressEntry, parseCidr, summarize } from './cidr.js';
export {
  AllocationError,
  type AllocationErrorCode,
  describeValue,
  goQuote,
  goQuoteList,
  PoolValidationError,
  type PoolValidationErrorCode,
} from './errors.js';
export {
  backendKeyFor,
  compileLabelSelector,
  type LabelMatcher,
  type LabelSelector,
  type LabelSelectorRequirement,
  type Labels,
} from './label-selector.js';
export {
  type NamespaceInfo,
  type ParsedPool,
  type PoolSpec,
  parsePools,
  type ServiceAllocation,
  type ServiceAllocationSpec,
} from './pool.js';
export type { IpFamilyName, IpFamilyPolicy, ServiceInfo, ServicePort } from './service-context.js';
