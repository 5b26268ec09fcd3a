/**
 * BGP-4 wire codec: messages, capabilities, path attributes, RFC 4271 §6 / RFC 7606 errors, a stream decoder, and
 * UPDATE packing.
 */
export { propagatedAttributes, reconstructAggregator, reconstructAsPath } from './attribute-helpers.js';
export { BgpError, isBgpError } from './bgp-error.js';
export {
  communityFromNumber,
  communityName,
  communityToNumber,
  largeCommunityFromNumbers,
  largeCommunityToNumbers,
  type WellKnownCommunityName,
} from './communities.js';
export * from './constants.js';
export { LINK_BANDWIDTH_SUBTYPE, linkBandwidthCommunity, parseLinkBandwidth } from './link-bandwidth.js';
export { decodeMessage, encodeMessage, encodingLength } from './message-codec.js';
export { MessageDecoder } from './message-decoder.js';
export {
  decodeShutdownCommunication,
  encodeShutdownCommunication,
  MAX_SHUTDOWN_COMMUNICATION_LENGTH,
  notifications,
} from './notifications.js';
export { createOpen, type Negotiated, negotiate, type OpenInit, openAsn } from './open-helpers.js';
export { endOfRib, isEndOfRib, type PackOptions, packUpdates, packWithdrawals } from './pack-updates.js';
export type * from './types.js';
export { type RouteChange, type UpdateRoutes, updateRoutes } from './update-routes.js';
