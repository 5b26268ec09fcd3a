import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CONFIG,
  MEMBERLIST_LAN_CONFIG,
  resolveConfig,
  retransmitLimit,
  suspicionBounds,
  suspicionTimeout,
} from '../src/index.js';

describe('config', () => {
  it('fills defaults and applies overrides', () => {
    expect(resolveConfig()).toEqual(DEFAULT_CONFIG);
    expect(resolveConfig({ probeIntervalMs: 200 }).probeIntervalMs).toBe(200);
  });
  it('rejects bad values naming the field', () => {
    const field = (o: object) => {
      try {
        resolveConfig(o);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).field;
      }
      return 'accepted';
    };
    expect(field({ probeTimeoutMs: 100 })).toBe('probeTimeoutMs');
    expect(field({ probeIntervalMs: 0 })).toBe('probeIntervalMs');
    expect(field({ indirectChecks: 1.5 })).toBe('indirectChecks');
    expect(field({ gossipNodes: -1 })).toBe('gossipNodes');
    expect(field({ bogus: 1 })).toBe('bogus');
    expect(field({ udpBufferSize: 100 })).toBe('udpBufferSize');
    expect(field({ tcpTimeoutMs: Number.NaN })).toBe('tcpTimeoutMs');
  });
  it('computes memberlist suspicion bounds (log10 scaling, k = mult - 2, capped by n - 2)', () => {
    expect(suspicionBounds(MEMBERLIST_LAN_CONFIG, 5)).toEqual({ minMs: 4000, maxMs: 24000, k: 2 });
    expect(suspicionBounds(MEMBERLIST_LAN_CONFIG, 100)).toEqual({ minMs: 8000, maxMs: 48000, k: 2 });
    expect(suspicionBounds(DEFAULT_CONFIG, 3).k).toBe(1);
    expect(suspicionBounds(DEFAULT_CONFIG, 2).k).toBe(0);
    expect(suspicionBounds(DEFAULT_CONFIG, 10).minMs).toBe(400);
    expect(retransmitLimit(DEFAULT_CONFIG, 5)).toBe(4);
    expect(retransmitLimit(DEFAULT_CONFIG, 50)).toBe(8);
  });
  it('shrinks the suspicion timeout logarithmically with confirmations (Lifeguard)', () => {
    expect(suspicionTimeout(0, 2, 4000, 24000)).toBe(24000);
    expect(suspicionTimeout(1, 2, 4000, 24000)).toBe(11381);
    expect(suspicionTimeout(2, 2, 4000, 24000)).toBe(4000);
    expect(suspicionTimeout(5, 2, 4000, 24000)).toBe(4000);
    expect(suspicionTimeout(0, 0, 4000, 24000)).toBe(4000);
  });
});
