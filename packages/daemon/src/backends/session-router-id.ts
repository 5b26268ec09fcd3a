import { createSocket } from 'node:dgram';
import { isIP, isIPv4 } from 'node:net';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import { crc32 } from 'node:zlib';

/**
 * The local address the kernel picks to reach `peer` (what a BGP session's TCP connection would be bound to without a
 * `sourceAddress`): a UDP socket is connected to it, which sends nothing and only consults the routing table.
 * Resolves undefined when there is no route.
 */
export function sessionLocalAddress(peer: string, port = 179): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(isIP(peer) === 6 ? 'udp6' : 'udp4');
    const done = (address: string | undefined) => {
      socket.close();
      resolve(address);
    };
    socket.on('error', () => done(undefined));
    socket.connect(port, peer, () => {
      try {
        done(socket.address().address);
      } catch {
        done(undefined);
      }
    });
  });
}

/** MetalLB's fallback identifier: the CRC-32 (IEEE) of the node name, its little-endian bytes as an IPv4 address. */
export function hashRouterId(nodeName: string): string {
  const sum = crc32(Buffer.from(nodeName, 'utf8')) >>> 0;
  return [sum & 0xff, (sum >>> 8) & 0xff, (sum >>> 16) & 0xff, sum >>> 24].join('.');
}

/**
 * MetalLB's native-mode BGP identifier for a session whose BGPPeer has no `routerID`: the session's local address when
 * it is IPv4; for an IPv6 session the first IPv4 address of the interface holding that address; else
 * {@link hashRouterId} of the node name.
 */
export function routerIdForLocalAddress(
  local: string,
  nodeName: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string {
  if (isIPv4(local) && local !== '0.0.0.0') return local;
  const bare = local.split('%')[0]?.toLowerCase();
  for (const addresses of Object.values(interfaces)) {
    if (!addresses?.some((a) => a.address.toLowerCase() === bare)) continue;
    const v4 = addresses.find((a) => a.family === 'IPv4');
    if (v4) return v4.address;
    break;
  }
  return hashRouterId(nodeName);
}
