import { describe, expect, it } from 'vitest';
import * as bfd from '../src/bfd/index.js';
import * as codec from '../src/codec/index.js';
import * as front from '../src/index.js';
import * as unnumbered from '../src/unnumbered/index.js';

describe('@ingot/bgp', () => {
  it('exports its package name', () => {
    expect(front.PACKAGE_NAME).toBe('@ingot/bgp');
  });

  it('shows the speaker, the peer and the errors at the front door, and no internals', () => {
    const names = Object.keys(front);
    expect(names).toEqual(expect.arrayContaining(['BgpSpeaker', 'BgpPeer', 'BgpError', 'isBgpError', 'SockoptError']));
    for (const internal of [
      'BgpFsm',
      'BgpSession',
      'BgpConnection',
      'AdjRibOut',
      'Backoff',
      'Timer',
      'jitter',
      'FakeClock',
      'seededRandom',
      'createTcpSocketFd',
      'createUdpSocketFd',
      'encodeSockaddr',
      'encodeMd5Sig',
      'setSocketOptions',
      'decodeMessage',
      'BfdSession',
    ])
      expect(names).not.toContain(internal);
  });

  it('keeps the codec, BFD and unnumbered behind their own doors', () => {
    expect(Object.keys(codec)).toEqual(expect.arrayContaining(['decodeMessage', 'encodeMessage', 'MessageDecoder']));
    expect(Object.keys(codec)).not.toContain('BgpSpeaker');
    expect(Object.keys(bfd)).toEqual(expect.arrayContaining(['BfdSession', 'BfdTransport', 'decodeBfdControl']));
    expect(Object.keys(unnumbered)).toContain('LinkLocalDiscovery');
    // The front door's error is the codec's: one class, matched by name across bundles too.
    expect(front.BgpError).toBe(codec.BgpError);
  });
});
