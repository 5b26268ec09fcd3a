import type { LabHost } from '../src/index.js';

/** A LabHost for pure config-generation tests: the addresses of createPair's `b`, no namespace behind it. */
export function fakeHost(overrides: Partial<LabHost> = {}): LabHost {
  const fail = () => {
    throw new Error('fake host: no namespace');
  };
  return {
    ns: 'igtest-b',
    ifname: 'veth-b',
    ipv4: '192.0.2.2',
    ipv6: '2001:db8:0:1::2',
    ipv4PrefixLength: 24,
    ipv6PrefixLength: 64,
    mac: '02:00:00:00:00:02',
    ifindex: 2,
    exec: fail,
    run: fail,
    spawn: fail,
    fork: fail,
    ...overrides,
  };
}
