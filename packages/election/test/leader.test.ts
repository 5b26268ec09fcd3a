import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignBalanced, electLeader, sortCandidates } from '../src/index.js';

describe('sortCandidates / electLeader (MetalLB sortL2Candidates golden vectors, metallb.md §3.3)', () => {
  it('orders node-a..c for 10.0.0.1 as [node-b, node-a, node-c]', () => {
    expect(sortCandidates(['node-a', 'node-b', 'node-c'], '10.0.0.1')).toEqual(['node-b', 'node-a', 'node-c']);
  });
  it('orders node-a..c for 10.0.0.2 as [node-b, node-c, node-a]', () => {
    expect(sortCandidates(['node-a', 'node-b', 'node-c'], '10.0.0.2')).toEqual(['node-b', 'node-c', 'node-a']);
  });
  it('elects iris2 for 10.20.30.1 among {iris1, iris2}', () => {
    expect(electLeader(['iris1', 'iris2'], '10.20.30.1')).toBe('iris2');
    expect(electLeader(['iris2', 'iris1'], '10.20.30.1')).toBe('iris2');
  });
  it('puts a preferred node first whatever its hash', () => {
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.20.30.1', '192.0.2.7']) {
      expect(electLeader(['edge-a', 'edge-b', 'edge-c'], ip, { weights: { 'edge-a': 100 } })).toBe('edge-a');
      expect(electLeader([{ name: 'edge-c', weight: 100 }, 'edge-a', 'edge-b'], ip)).toBe('edge-c');
    }
  });
  it('sums candidate and option weights, higher first, hash breaks ties', () => {
    const order = sortCandidates([{ name: 'a', weight: 10 }, { name: 'b', weight: 50 }, 'c', 'd'], '192.0.2.1', {
      weights: { a: 50 },
    });
    expect(order[0]).toBe('a');
    expect(order[1]).toBe('b');
    const tail = ['c', 'd'].sort((x, y) =>
      Buffer.compare(
        createHash('sha256').update(`${x}#192.0.2.1`).digest(),
        createHash('sha256').update(`${y}#192.0.2.1`).digest(),
      ),
    );
    expect(order.slice(2)).toEqual(tail);
  });
  it('hashes the Go canonical form of the IP unless told not to', () => {
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
    expect(sortCandidates(nodes, '2001:DB8:0:0::1')).toEqual(sortCandidates(nodes, '2001:db8::1'));
    const raw = sortCandidates(nodes, '2001:DB8:0:0::1', { canonicalize: false });
    const expected = nodes
      .slice()
      .sort((x, y) =>
        Buffer.compare(
          createHash('sha256').update(`${x}#2001:DB8:0:0::1`).digest(),
          createHash('sha256').update(`${y}#2001:DB8:0:0::1`).digest(),
        ),
      );
    expect(raw).toEqual(expected);
  });
  it('returns undefined with no candidates and rejects empty names', () => {
    expect(electLeader([], '10.0.0.1')).toBeUndefined();
    expect(() => sortCandidates([''], '10.0.0.1')).toThrow(/non-empty/);
  });
  it('removing a non-owner never moves the IP; adding a node moves only the IPs it wins (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { minLength: 2, maxLength: 8 }),
        fc.ipV4(),
        fc.nat(),
        (nodes, ip, pick) => {
          const leader = electLeader(nodes, ip)!;
          const others = nodes.filter((n) => n !== leader);
          const removed = others[pick % others.length]!;
          expect(
            electLeader(
              nodes.filter((n) => n !== removed),
              ip,
            ),
          ).toBe(leader);
          const newcomer = `zz-${pick}`;
          const after = electLeader([...nodes, newcomer], ip);
          expect(after === leader || after === newcomer).toBe(true);
        },
      ),
    );
  });
});

const ipsArb = fc.uniqueArray(fc.ipV4(), { minLength: 0, maxLength: 60 });
const nodesArb = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), { minLength: 1, maxLength: 9 });

function loads(a: Map<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of a.values()) out.set(n, (out.get(n) ?? 0) + 1);
  return out;
}

function moved(a: Map<string, string>, b: Map<string, string>): number {
  let m = 0;
  for (const [ip, n] of b) if (a.has(ip) && a.get(ip) !== n) m++;
  return m;
}

/** Fewest moves any assignment with max load ≤ ceil(m/n) needs, starting from `prev`. */
function minimalMoves(prev: Map<string, string>, ips: string[], nodes: string[]): number {
  const cap = Math.ceil(ips.length / nodes.length);
  let orphans = 0;
  const l = new Map<string, number>();
  for (const ip of ips) {
    const o = prev.get(ip);
    if (o === undefined || !nodes.includes(o)) orphans++;
    else l.set(o, (l.get(o) ?? 0) + 1);
  }
  let excess = 0;
  for (const v of l.values()) excess += Math.max(0, v - cap);
  return orphans + excess;
}

describe('assignBalanced (rendezvous hashing with bounded load)', () => {
  it('assigns every IP and no node above ceil(ips/nodes) when every node is eligible (property)', () => {
    fc.assert(
      fc.property(ipsArb, nodesArb, (ips, nodes) => {
        const a = assignBalanced(ips, nodes);
        expect(a.size).toBe(ips.length);
        const cap = Math.ceil(ips.length / nodes.length);
        for (const [n, l] of loads(a)) {
          expect(nodes).toContain(n);
          expect(l).toBeLessThanOrEqual(cap);
        }
      }),
    );
  });
  it('is a pure function of the sets: input order does not matter (property)', () => {
    fc.assert(
      fc.property(ipsArb, nodesArb, fc.nat(), (ips, nodes, r) => {
        const rot = <T>(a: T[]) => (a.length ? [...a.slice(r % a.length), ...a.slice(0, r % a.length)] : a);
        const a = assignBalanced(ips, nodes);
        const b = assignBalanced(rot(ips).reverse(), rot(nodes).reverse());
        for (const [ip, n] of a) expect(b.get(ip)).toBe(n);
      }),
    );
  });
  it('with restricted eligibility, a node goes over capacity (hence over the ceil+1 bound) only with IPs whose every candidate is full (property)', () => {
    fc.assert(
      fc.property(ipsArb, nodesArb, fc.array(fc.nat(), { minLength: 60, maxLength: 60 }), (ips, nodes, masks) => {
        const idx = new Map(ips.map((ip, i) => [ip, i]));
        const candidatesFor = (ip: string) => {
          const mask = masks[idx.get(ip) ?? 0]!;
          const c = nodes.filter((_, i) => (mask >> i) & 1);
          return c.length ? c : [nodes[mask % nodes.length]!];
        };
        const a = assignBalanced(ips, nodes, { candidatesFor });
        const cap = Math.ceil(ips.length / nodes.length);
        const l = loads(a);
        for (const [ip, owner] of a) {
          expect(candidatesFor(ip)).toContain(owner);
          if (l.get(owner)! > cap) {
            // over capacity: then it was forced, every candidate of this IP sits at or above capacity
            for (const c of candidatesFor(ip)) expect(l.get(c) ?? 0).toBeGreaterThanOrEqual(cap);
          }
        }
        // the only candidate exception: a lone candidate always gets its IP
        for (const ip of ips) if (candidatesFor(ip).length === 1) expect(a.get(ip)).toBe(candidatesFor(ip)[0]);
      }),
    );
  });
  it('sticky mode moves exactly the minimum on a node leaving or joining, and keeps the bound (property)', () => {
    fc.assert(
      fc.property(ipsArb, nodesArb, fc.nat(), fc.boolean(), (ips, nodes, pick, join) => {
        const before = assignBalanced(ips, nodes);
        const after = join ? [...nodes, `new${pick}`] : nodes.filter((_, i) => i !== pick % nodes.length);
        if (after.length === 0) return;
        const next = assignBalanced(ips, after, { previous: before });
        expect(next.size).toBe(ips.length);
        expect(moved(before, next)).toBe(minimalMoves(before, ips, after));
        const cap = Math.ceil(ips.length / after.length);
        for (const l of loads(next).values()) expect(l).toBeLessThanOrEqual(cap);
      }),
    );
  });
  it('stateless mode: removing a node moves its own IPs and only a few others', () => {
    const ips = Array.from({ length: 200 }, (_, i) => `198.51.100.${i % 250}`).map((ip, i) =>
      i < 250 ? ip : `203.0.113.${i - 250}`,
    );
    const nodes = Array.from({ length: 10 }, (_, i) => `node-${i}`);
    const before = assignBalanced(ips, nodes);
    const after = assignBalanced(
      ips,
      nodes.filter((n) => n !== 'node-3'),
    );
    const owned = [...before.values()].filter((n) => n === 'node-3').length;
    let changes = 0;
    for (const ip of ips) if (before.get(ip) !== after.get(ip)) changes++;
    expect(changes).toBeGreaterThanOrEqual(owned);
    // measured: the stateless cascade stays well under the whole set (documented trade-off; use `previous` for minimal)
    expect(changes).toBeLessThan(ips.length / 2);
  });
  it('merges duplicate IPs, canonicalises them, and returns nothing without nodes', () => {
    const a = assignBalanced(['192.0.2.1', '192.0.2.1', '2001:DB8::1'], ['a', 'b']);
    expect([...a.keys()].sort()).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(assignBalanced(['192.0.2.1'], []).size).toBe(0);
  });
});
