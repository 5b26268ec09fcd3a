import {
  BROADCAST_MAC,
  type DecodedFrame,
  decodeFrame,
  encodeArpFrame,
  encodeNdpFrame,
  type FrameTransport,
  ipv6MulticastMac,
  type MemorySegment,
  type NdpOption,
  solicitedNodeAddress,
  ZERO_MAC,
} from '../../src/index.js';

/** A test client on a memory segment that records what it receives. */
export class Client {
  readonly port: FrameTransport;
  readonly got: DecodedFrame[] = [];

  constructor(seg: MemorySegment, mac: string, promiscuous = false) {
    this.port = seg.attach({ name: 'client', mac, promiscuous });
    this.port.receive((f) => this.got.push(decodeFrame(f)));
  }

  get mac(): string {
    return this.port.mac;
  }

  arpRequest(targetIp: string, opts: { senderIp?: string; destination?: string } = {}): void {
    this.port.send(
      encodeArpFrame(
        { destination: opts.destination ?? BROADCAST_MAC, source: this.mac },
        { operation: 1, senderMac: this.mac, senderIp: opts.senderIp ?? '192.0.2.1', targetMac: ZERO_MAC, targetIp },
      ),
    );
  }

  neighborSolicitation(
    target: string,
    opts: { source?: string; destination?: string; ethDestination?: string; slla?: boolean } = {},
  ): void {
    const destination = opts.destination ?? solicitedNodeAddress(target);
    const source = opts.source ?? 'fe80::1';
    const options: NdpOption[] = opts.slla === false || source === '::' ? [] : [{ type: 'source-lla', mac: this.mac }];
    this.port.send(
      encodeNdpFrame(
        { destination: opts.ethDestination ?? ipv6MulticastMac(destination), source: this.mac },
        { source, destination, message: { type: 'neighbor-solicitation', target, options } },
      ),
    );
  }

  arps(): Extract<DecodedFrame, { kind: 'arp' }>[] {
    return this.got.filter((f): f is Extract<DecodedFrame, { kind: 'arp' }> => f.kind === 'arp');
  }

  ndps(): Extract<DecodedFrame, { kind: 'ndp' }>[] {
    return this.got.filter((f): f is Extract<DecodedFrame, { kind: 'ndp' }> => f.kind === 'ndp');
  }

  clear(): void {
    this.got.length = 0;
  }
}
