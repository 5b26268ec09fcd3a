import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/parse-config.js';

const peer = (profile: string) => `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 192.0.2.1, bfdProfile: ${profile} }
`;

describe('BFDProfile', () => {
  it('resolves a BGPPeer bfdProfile into its timers, with MetalLB/FRR defaults for absent fields', () => {
    const r = parseConfig(`
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: { name: fast }
spec: { receiveInterval: 50, transmitInterval: 60, passiveMode: true }
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: { name: plain }
---${peer('fast')}`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.bgpPeers[0]?.bfd).toEqual({
      profile: 'fast',
      receiveInterval: 50,
      transmitInterval: 60,
      detectMultiplier: 3,
      passive: true,
      minimumTtl: 254,
    });
    expect(r.config.bfdProfiles?.find((p) => p.name === 'plain')).toEqual({
      name: 'plain',
      receiveInterval: 300,
      transmitInterval: 300,
      detectMultiplier: 3,
      echoInterval: 50,
      echoMode: false,
      passiveMode: false,
      minimumTtl: 254,
    });
  });

  it('a peer without bfdProfile has no bfd; duplicate profile names are refused', () => {
    const ok = parseConfig(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 192.0.2.1 }`);
    expect(ok.ok && ok.config.bgpPeers[0]?.bfd).toBe(undefined);
    const dup = parseConfig(`
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: { name: a }
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: { name: a }`);
    expect(dup.ok).toBe(false);
    if (!dup.ok) expect(dup.issues[0]).toMatchObject({ resource: 'BFDProfile/a', field: 'metadata.name' });
  });

  it('echoMode: true is honoured for an IPv4 single-hop peer: its echoInterval goes to the session', () => {
    const r = parseConfig(`
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: { name: echo }
spec: { echoMode: true, echoInterval: 40 }
---${peer('echo')}`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.bgpPeers[0]?.bfd).toMatchObject({ profile: 'echo', echoInterval: 40 });
    // without echoMode the interval is not passed on
    const off = parseConfig(`
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: { name: echo }
spec: { echoInterval: 40 }
---${peer('echo')}`);
    expect(off.ok && off.config.bgpPeers[0]?.bfd?.echoInterval).toBe(undefined);
  });

  it('echoMode on an IPv6, multihop, unnumbered or VRF peer is refused with a reason naming it', () => {
    const profile = `
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: { name: echo }
spec: { echoMode: true }
---`;
    const cases: [string, RegExp][] = [
      ['peerAddress: 2001:db8::1', /IPv6 peer \(2001:db8::1\)/],
      ['peerAddress: 192.0.2.1, ebgpMultiHop: true', /multihop \(ebgpMultiHop\)/],
      ['interface: eth0', /unnumbered \(interface\)/],
      ['peerAddress: 192.0.2.1, vrf: blue', /in VRF blue/],
    ];
    for (const [spec, reason] of cases) {
      const r = parseConfig(`${profile}
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router }
spec: { myASN: 64512, peerASN: 64513, ${spec}, bfdProfile: echo }`);
      expect(r.ok, spec).toBe(false);
      if (r.ok) continue;
      const issue = r.issues.find((i) => i.field === 'spec.bfdProfile');
      expect(issue, spec).toMatchObject({ resource: 'BGPPeer/router' });
      expect(issue?.reason, spec).toMatch(/echoMode, which Ingot runs for IPv4 single-hop peers only/);
      expect(issue?.reason, spec).toMatch(reason);
    }
  });
});
