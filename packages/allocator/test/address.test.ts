import * as net from '@ingot/net';
import fc from 'fast-check';
import { Address4, Address6 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import { formatIp, isBuggyIp, parseIp } from '../src/index.js';

describe('parseIp (Go net.ParseIP rules)', () => {
  it.each([
    ['192.0.2.1', 4, 0xc0000201n],
    ['0.0.0.0', 4, 0n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['::', 6, 0n],
    ['::1', 6, 1n],
    ['2001:db8::1', 6, 0x20010db8000000000000000000000001n],
    ['2001:DB8::1', 6, 0x20010db8000000000000000000000001n],
    ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n],
    ['1:2:3:4:5:6:7::', 6, 0x00010002000300040005000600070000n],
    ['::ffff:192.0.2.1', 6, 0xffffc0000201n],
    ['2001:db8::192.0.2.1', 6, 0x20010db80000000000000000c0000201n],
    ['0001:0db8::', 6, 0x00010db8000000000000000000000000n],
  ])('accepts %s', (text, family, value) => {
    expect(parseIp(text)).toEqual({ family, value });
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '1.2.3.256',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4/32',
    '1..2.3',
    '0x1.2.3.4',
    ':',
    ':1',
    '1:',
    '1::2::3',
    '12345::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    'fe80::1%eth0',
    '[::1]',
    '::1.2.3',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::g',
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it('agrees with ip-address on random IPv4 and IPv6 values (parse of the formatted text round-trips)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (v) => {
        const text = formatIp(4, v);
        expect(new Address4(text).bigInt()).toBe(v);
        expect(parseIp(text)).toEqual({ family: 4, value: v });
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        const text = formatIp(6, v);
        expect(new Address6(text).bigInt()).toBe(v);
        expect(parseIp(text)).toEqual({ family: 6, value: v });
      }),
    );
  });

  it('agrees with ip-address on the value of every text both accept (random IPv6 spellings)', () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((g) => g.toString(16));
    fc.assert(
      fc.property(
        fc.array(group, { minLength: 8, maxLength: 8 }),
        fc.integer({ min: -1, max: 7 }),
        fc.integer({ min: 1, max: 8 }),
        (g, at, len) => {
          let text = g.join(':');
          if (at >= 0 && at + len <= 8) text = `${g.slice(0, at).join(':')}::${g.slice(at + len).join(':')}`;
          const ours = parseIp(text);
          let theirs: bigint | undefined;
          try {
            theirs = new Address6(text).bigInt();
          } catch {
            theirs = undefined;
          }
          if (ours !== undefined) expect(ours.value).toBe(theirs);
        },
      ),
    );
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:./% -'.split('')), maxLength: 45 }),
        (s) => {
          const r = parseIp(s);
          if (r !== undefined) expect(parseIp(formatIp(r.family, r.value))).toEqual(r);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('formatIp (RFC 5952, as Go)', () => {
  it.each([
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1::1', '2001:0:0:1::1'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['2001:db8::', '2001:db8::'],
    ['::', '::'],
  ])('%s → %s', (input, out) => {
    const p = parseIp(input)!;
    expect(formatIp(p.family, p.value)).toBe(out);
    expect(new Address6(input).correctForm()).toBe(out === '::ffff:1.2.3.4' ? '::ffff:102:304' : out);
  });
});

describe('isBuggyIp', () => {
  it('flags IPv4 .0 and .255 only', () => {
    expect(isBuggyIp(4, parseIp('192.0.2.0')!.value)).toBe(true);
    expect(isBuggyIp(4, parseIp('192.0.2.255')!.value)).toBe(true);
    expect(isBuggyIp(4, parseIp('192.0.2.1')!.value)).toBe(false);
    expect(isBuggyIp(6, parseIp('2001:db8::')!.value)).toBe(false);
    expect(isBuggyIp(6, parseIp('2001:db8::ff')!.value)).toBe(false);
  });
});

describe('one IP text with every package (@ingot/net)', () => {
  it('parses and prints exactly as @ingot/net does, the family kept', () => {
    const text = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => `::ffff:${b.join('.')}`),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        const ours = parseIp(t);
        const bytes = net.parseIp(t);
        expect(ours === undefined).toBe(bytes === undefined);
        if (ours === undefined || bytes === undefined) return;
        expect(ours.family).toBe(bytes.length === 4 ? 4 : 6);
        expect(formatIp(ours.family, ours.value)).toBe(net.formatIp(bytes));
      }),
      { numRuns: 3000 },
    );
  });
});
