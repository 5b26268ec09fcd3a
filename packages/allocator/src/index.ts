/**
 * @packageDocumentation
 * @ingot/allocator: IP address pools (CIDRs and ranges, IPv4 and IPv6) and MetalLB's allocation rules, with
 * logarithmic free-space search. See README.md.
 */

export { type Family, formatIp, type Ip, isBuggyIp, parseIp } from './address.js';
export {
  Allocator,
  type AllocatorOptions,
  type IpFamilyName,
  type IpFamilyPolicy,
  type MetricSample,
  type PoolStats,
  type RestoreEntry,
  type RestoreOutcome,
  type ServiceInfo,
  type ServicePort,
  type SetPoolsOptions,
  type SetPoolsResult,
} from './allocator.js';
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
