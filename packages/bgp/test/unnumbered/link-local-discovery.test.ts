import { describe, expect, it } from 'vitest';
import {
  decodeNdMessage,
  encodeRouterAdvertisement,
  encodeRouterSolicitation,
  FakeClock,
  LinkLocalDiscovery,
  type NdTransport,
} from '../../src/internal.js';

/** An in-memory link: records what the discovery sends and lets the test deliver messages to it. */
class FakeLink implements NdTransport {
  sent: { type: string | undefined; destination: string }[] = [];
  closed = false;
  failSend = false;
  private listener: ((message: Uint8Array, source: string) => void) | undefined;

  send(message: Uint8Array, destination: string): void {
    if (this.failSend) throw new Error('ENETDOWN');
    this.sent.push({ type: decodeNdMessage(message)?.type, destination });
  }
  onMessage(fn: (message: Uint8Array, source: string) => void): void {
    this.listener = fn;
  }
  onError(): void {}
  close(): void {
    this.closed = true;
  }
  deliver(message: Uint8Array, source: string): void {
    this.listener?.(message, source);
  }
  count(type: string): number {
    return this.sent.filter((s) => s.type === type).length;
  }
}

const ROUTER = 'fe80::9468:b8ff:fe5b:c8cb';
const RA = encodeRouterAdvertisement({ curHopLimit: 64 });

async function started(interval?: number) {
  const link = new FakeLink();
  const clock = new FakeClock(0);
  const d = new LinkLocalDiscovery({
    interface: 'veth-a',
    linkLayerAddress: '02:00:5e:10:00:01',
    transport: async () => link,
    clock,
    ...(interval !== undefined ? { advertiseInterval: interval } : {}),
  });
  await d.start();
  return { link, clock, d };
}

describe('LinkLocalDiscovery', () => {
  it('solicits routers and advertises itself at start, then every 10 s', async () => {
    const { link, clock, d } = await started();
    expect(link.sent).toEqual([
      { type: 'router-solicitation', destination: 'ff02::2' },
      { type: 'router-advertisement', destination: 'ff02::1' },
    ]);
    clock.advance(9_999);
    expect(link.count('router-advertisement')).toBe(1);
    clock.advance(1);
    expect(link.count('router-advertisement')).toBe(2);
    clock.advance(30_000);
    expect(d.advertisementsSent).toBe(5);
    d.close();
    expect(link.closed).toBe(true);
    clock.advance(60_000);
    expect(d.advertisementsSent).toBe(5);
  });

  it('takes the first router heard as the neighbour and answers it at once', async () => {
    const { link, clock, d } = await started();
    clock.advance(5_000);
    const wait = d.waitNeighbor(1000);
    link.deliver(RA, ROUTER);
    await expect(wait).resolves.toBe(ROUTER);
    expect(d.neighbor).toBe(ROUTER);
    // answered without waiting for the 10 s interval
    expect(link.count('router-advertisement')).toBe(2);
    await expect(d.waitNeighbor()).resolves.toBe(ROUTER);
    d.close();
  });

  it('answers a solicitation, at most once a second', async () => {
    const { link, clock, d } = await started();
    clock.advance(2_000);
    link.deliver(encodeRouterSolicitation(), 'fe80::2');
    link.deliver(encodeRouterSolicitation(), 'fe80::2');
    expect(link.count('router-advertisement')).toBe(2);
    clock.advance(1_000);
    link.deliver(encodeRouterSolicitation(), 'fe80::2');
    expect(link.count('router-advertisement')).toBe(3);
    expect(d.neighbor).toBeUndefined(); // a solicitation is not a router
    d.close();
  });

  it('ignores advertisements from a non-link-local source and malformed ones, and warns once of a second router', async () => {
    const { link, d } = await started();
    const warnings: string[] = [];
    d.on('warning', (m) => warnings.push(m));
    link.deliver(RA, '2001:db8::1');
    link.deliver(Uint8Array.of(134, 0, 0, 0), ROUTER); // too short for an RA
    expect(d.neighbor).toBeUndefined();
    expect(d.discarded).toBe(2);
    link.deliver(RA, ROUTER);
    link.deliver(RA, 'fe80::2');
    link.deliver(RA, 'fe80::2');
    expect(d.neighbor).toBe(ROUTER);
    expect(warnings).toEqual([`a second router (fe80::2) advertises on veth-a: BGP unnumbered keeps ${ROUTER}`]);
    // a flood of spoofed sources is reported (and remembered) a bounded number of times
    for (let i = 0; i < 1000; i++) link.deliver(RA, `fe80::1:${i.toString(16)}`);
    expect(warnings.length).toBe(64);
    expect(d.neighbor).toBe(ROUTER);
    d.close();
  });

  it('replaces a neighbour silent for neighborTimeout by the next router heard, not one still advertising', async () => {
    const { link, clock, d } = await started();
    const heard: string[] = [];
    d.on('neighbor', (a) => heard.push(a));
    d.on('warning', () => {});
    link.deliver(RA, ROUTER);
    clock.advance(50_000);
    link.deliver(RA, ROUTER); // still there: the clock restarts
    clock.advance(30_000);
    link.deliver(RA, 'fe80::2');
    expect(d.neighbor).toBe(ROUTER);
    clock.advance(30_000); // 60 s since ROUTER was last heard
    link.deliver(RA, 'fe80::2');
    expect(d.neighbor).toBe('fe80::2');
    expect(heard).toEqual([ROUTER, 'fe80::2']);
    d.close();
  });

  it('rejects waitNeighbor after its timeout; a send failure is a warning', async () => {
    const { link, clock, d } = await started();
    const wait = d.waitNeighbor(3000);
    clock.advance(3000);
    await expect(wait).rejects.toThrow(/no router advertisement on veth-a within 3000 ms/);
    const warnings: string[] = [];
    d.on('warning', (m) => warnings.push(m));
    link.failSend = true;
    clock.advance(10_000);
    expect(warnings).toEqual(['sending to ff02::1%veth-a failed']);
    d.close();
  });

  it('with advertiseInterval 0 only solicits', async () => {
    const { link, clock, d } = await started(0);
    clock.advance(60_000);
    link.deliver(encodeRouterSolicitation(), 'fe80::2');
    expect(link.sent.map((s) => s.type)).toEqual(['router-solicitation']);
    d.close();
  });

  it('refuses a name that is not a device name', () => {
    expect(() => new LinkLocalDiscovery({ interface: 'a b' })).toThrow(/device name/);
    expect(() => new LinkLocalDiscovery({ interface: 'x'.repeat(16) })).toThrow(/device name/);
  });
});
