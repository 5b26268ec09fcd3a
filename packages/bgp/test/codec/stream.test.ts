import { describe, expect, it } from 'vitest';
import { BgpError, encodeMessage, MessageDecoder, type OpenMessage, type UpdateMessage } from '../../src/internal.js';
import { hex } from './helpers.js';

const keepalive = hex('ff×16 0013 04');

describe('MessageDecoder', () => {
  it('rejects a bad marker as soon as the first octets arrive (RFC 4271 §6.1)', () => {
    const d = new MessageDecoder();
    d.push(hex('ffff00'));
    expect(() => d.nextFrame()).toThrowError(expect.objectContaining({ code: 1, subcode: 1 }));
  });

  it('rejects an oversized length from the header alone, without waiting for the body', () => {
    const d = new MessageDecoder();
    d.push(hex('ff×16 1388 02'));
    expect(() => d.next()).toThrowError(expect.objectContaining({ code: 1, subcode: 2, data: hex('1388') }));
  });

  it('accepts lengths up to 65535 only with extended messages (RFC 8654)', () => {
    const update: UpdateMessage = {
      type: 'update',
      withdrawn: Array.from({ length: 2000 }, (_, i) => `198.18.${i >> 8}.${i & 255}/32`),
      attributes: {},
      nlri: [],
    };
    const bytes = encodeMessage(update, { extendedMessages: true });
    expect(bytes.length).toBeGreaterThan(4096);
    expect(new MessageDecoder({ extendedMessages: true }).feed(bytes)).toEqual([update]);
    expect(() => new MessageDecoder().feed(bytes)).toThrow(BgpError);
  });

  it('waits for the whole message and returns views of the pushed chunk when a frame lies inside it', () => {
    const d = new MessageDecoder();
    const two = new Uint8Array(38);
    two.set(keepalive, 0);
    two.set(keepalive, 19);
    d.push(two.subarray(0, 10));
    expect(d.nextFrame()).toBeNull();
    d.push(two.subarray(10));
    const f1 = d.nextFrame()!;
    expect(f1.length).toBe(19);
    const f2 = d.nextFrame()!;
    expect(f2.buffer).toBe(two.buffer); // no copy
    expect(d.nextFrame()).toBeNull();
    expect(d.bufferedBytes).toBe(0);
  });

  it('decodes with options changed between messages (after the OPEN exchange)', () => {
    const open: OpenMessage = {
      type: 'open',
      version: 4,
      myAsn: 64512,
      holdTime: 90,
      bgpId: '192.0.2.1',
      capabilities: [],
    };
    const update: UpdateMessage = {
      type: 'update',
      withdrawn: [],
      attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [64512, 64513] }], nextHop: '192.0.2.1' },
      nlri: ['198.51.100.0/24'],
    };
    const stream = new Uint8Array([...encodeMessage(open), ...encodeMessage(update, { fourOctetAs: false })]);
    const d = new MessageDecoder();
    d.push(stream);
    expect(d.next()).toEqual(open);
    d.options = { fourOctetAs: false };
    expect(d.next()).toEqual(update);
  });

  it('stays failed after an error, and rethrows the same error', () => {
    const d = new MessageDecoder();
    let first: unknown;
    try {
      d.feed(hex('ff×16 0013 09'));
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(BgpError);
    expect(() => d.push(keepalive)).toThrow(first as Error);
    expect(() => d.next()).toThrow(first as Error);
  });

  it('reports a ROUTE-REFRESH length error with the whole message once it has arrived (RFC 7313 §5)', () => {
    const bad = hex('ff×16 0018 05 0001 01 01 00');
    const d = new MessageDecoder();
    d.push(bad.subarray(0, 22));
    expect(d.nextFrame()).toBeNull();
    d.push(bad.subarray(22));
    expect(() => d.nextFrame()).toThrowError(expect.objectContaining({ code: 7, subcode: 1, data: bad }));
  });
});
