/** Ingot members speaking memberlist's wire to each other over real UDP + TCP on 127.0.0.1. */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  Keyring,
  LENGTH_PREFIX_FRAMING,
  MEMBERLIST_FRAMING,
  type Member,
  Membership,
  metallbSecretKey,
  UdpTransport,
} from '../src/index.js';
import { loopbackMembers, statusOf, waitFor } from './helpers/loopback-members.js';

const { member } = loopbackMembers({ transport: { framing: MEMBERLIST_FRAMING }, options: { wire: 'memberlist' } });

describe('memberlist wire between Ingot members (127.0.0.1)', () => {
  it('joins, carries labels as meta, detects a close without leave, sees a graceful stop as leave', async () => {
    const ms = await Promise.all(['a', 'b', 'c', 'd'].map((n) => member(n, { labels: { zone: n } })));
    const seed = ms[0]!.local.address;
    await Promise.all(ms.slice(1).map((m) => m.join([seed])));
    await waitFor(() => ms.every((m) => m.usableMembers().length === 4), 5000, 'convergence');
    expect(ms[2]!.members().find((m) => m.name === 'a')?.labels).toEqual({ zone: 'a' });
    const updated: Member[] = [];
    ms[1]!.on('update', (m) => updated.push(m));
    ms[0]!.setLabels({ zone: 'a2', rack: '7' });
    await waitFor(() => updated.some((m) => m.name === 'a' && m.labels.zone === 'a2'), 3000, 'label update');

    await ms[3]!.close();
    await waitFor(() => ms.slice(0, 3).every((m) => statusOf(m, 'd') === 'dead'), 8000, 'd dead everywhere');
    await ms[2]!.stop();
    await waitFor(() => ms.slice(0, 2).every((m) => statusOf(m, 'c') === 'left'), 2000, 'c left everywhere');
    expect(ms[0]!.stats.decodeErrors).toBe(0);
  });

  it('encrypted with a MetalLB key and a label: a wrong key or label never joins', async () => {
    const keyring = new Keyring([metallbSecretKey('c2VjcmV0LXNlY3JldC0xMg')]);
    const a = await member('a', { keyring, label: 'ingot' });
    const b = await member('b', { keyring, label: 'ingot' });
    await b.join([a.local.address]);
    await waitFor(() => a.usableMembers().length === 2, 3000, 'a sees b');
    const wrongKey = await member('x', { keyring: new Keyring([metallbSecretKey('another')]), label: 'ingot' });
    await expect(wrongKey.join([a.local.address])).rejects.toThrow();
    const wrongLabel = await member('y', { keyring, label: 'other' });
    await expect(wrongLabel.join([a.local.address])).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 300));
    expect(a.usableMembers()).toEqual(['a', 'b']);
    expect(a.stats.authFailures + a.stats.envelopeRejected).toBeGreaterThan(0);
  });

  it('refuses labels memberlist meta cannot carry, and a transport framed the other way', async () => {
    const framed = await UdpTransport.bind({ host: '127.0.0.1', port: 0, framing: MEMBERLIST_FRAMING });
    const opts = { name: 'a', transport: framed, wire: 'memberlist' as const };
    expect(() => new Membership({ ...opts, labels: { 'k=v': 'x' } })).toThrow(ConfigError);
    expect(() => new Membership({ ...opts, labels: { k: 'x'.repeat(600) } })).toThrow(ConfigError);
    await framed.close();
    const transport = await UdpTransport.bind({ host: '127.0.0.1', port: 0, framing: LENGTH_PREFIX_FRAMING });
    expect(() => new Membership({ name: 'b', transport, wire: 'memberlist' })).toThrow(ConfigError);
    await transport.close();
    // bound without a framing, the transport adopts the wire's
    const adopting = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
    new Membership({ name: 'c', transport: adopting, wire: 'memberlist' });
    expect(adopting.framing).toBe(MEMBERLIST_FRAMING);
    await adopting.close();
  });
});
