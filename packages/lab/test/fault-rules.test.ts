import { describe, expect, it } from 'vitest';
import { faultRuleset, faultTableName, parseDropCounter } from '../src/index.js';

describe('nftables fault rules', () => {
  it('drops a random share on netdev ingress, replacing any previous table', () => {
    const r = faultRuleset('veth-b', 20);
    expect(faultTableName('veth-b')).toBe('ingot_fault_veth_b');
    expect(r).toContain('table netdev ingot_fault_veth_b\ndelete table netdev ingot_fault_veth_b\n');
    expect(r).toContain('type filter hook ingress device "veth-b" priority 0; policy accept;');
    expect(r).toContain('numgen random mod 100 < 20 counter drop');
  });

  it('uses a plain drop for 100% and rejects impossible percentages', () => {
    expect(faultRuleset('eth0', 100)).toContain('    counter drop');
    expect(faultRuleset('eth0', 100)).not.toContain('numgen');
    expect(faultRuleset('eth0', 0.4 + 49.7)).toContain('< 50 ');
    expect(() => faultRuleset('eth0', 0)).toThrow(RangeError);
    expect(() => faultRuleset('eth0', 101)).toThrow(RangeError);
    expect(() => faultRuleset('eth0', Number.NaN)).toThrow(RangeError);
  });

  it('sums counter packets from nft -j output', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'netdev', name: 'ingot_fault_eth0' } },
        { rule: { expr: [{ match: {} }, { counter: { packets: 97, bytes: 9506 } }, { drop: null }] } },
      ],
    });
    expect(parseDropCounter(json)).toBe(97);
    expect(parseDropCounter('{"nftables":[]}')).toBe(0);
  });
});
