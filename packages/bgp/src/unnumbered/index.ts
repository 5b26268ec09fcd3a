/**
 * BGP unnumbered: finding the neighbour on an interface by IPv6 Router Advertisements (RFC 4861), as FRR's
 * `neighbor IFNAME interface` does. The session itself is a peer with `interface` (see `PeerOptions.interface`).
 * @module
 */

export { encodeIcmp6Filter, type NdTransport, openIcmpv6Transport } from './icmpv6-socket.js';
export {
  LinkLocalDiscovery,
  type LinkLocalDiscoveryEvents,
  type LinkLocalDiscoveryOptions,
} from './link-local-discovery.js';
export {
  decodeNdMessage,
  encodeRouterAdvertisement,
  encodeRouterSolicitation,
  ND_ROUTER_ADVERTISEMENT,
  ND_ROUTER_SOLICITATION,
  NdError,
  type NdMessage,
  type RouterAdvertisement,
  type RouterAdvertisementInit,
  type RouterSolicitation,
} from './nd-codec.js';
