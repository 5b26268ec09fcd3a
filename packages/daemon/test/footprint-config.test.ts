import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/parse-config.js';

const BENCH = fileURLToPath(new URL('../bench/footprint.mjs', import.meta.url));

/** Runs `fn` (a function body using `m`, the benchmark module) in a child Node.js and returns its stdout. */
function withBench(body: string): string {
  const script = `import(${JSON.stringify(BENCH)}).then((m) => { ${body} })`;
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
}

describe('footprint benchmark helpers', () => {
  it('generates a valid configuration: 1,000 IPv6 services, 4 BGPPeers, L2 and BGP advertisements', () => {
    const result = parseConfig(withBench('process.stdout.write(m.footprintConfig(1000))'));
    expect(result.ok, JSON.stringify(result).slice(0, 500)).toBe(true);
    if (!result.ok) return;
    expect(result.config.services.length).toBe(1000);
    expect(result.config.bgpPeers.map((p) => p.peerAddress)).toEqual([
      '2001:db8::11',
      '2001:db8::12',
      '2001:db8::13',
      '2001:db8::14',
    ]);
    expect(result.config.l2Advertisements.length).toBe(1);
    expect(result.config.bgpAdvertisements.length).toBe(1);
    const noL2 = parseConfig(withBench('process.stdout.write(m.footprintConfig(10, { layer2: false }))'));
    expect(noL2.ok && noL2.config.l2Advertisements.length).toBe(0);
  });

  it.skipIf(process.platform !== 'linux')('reads resident memory and CPU ticks of a process from /proc', () => {
    const out = JSON.parse(
      withBench(
        'process.stdout.write(JSON.stringify({ mem: m.memoryOf(process.pid), ticks: m.cpuTicksOf(process.pid) }))',
      ),
    ) as { mem: { rssMB: number; peakMB: number }; ticks: number };
    expect(out.mem.rssMB).toBeGreaterThan(5);
    expect(out.mem.peakMB).toBeGreaterThanOrEqual(out.mem.rssMB);
    expect(Number.isInteger(out.ticks) && out.ticks >= 0).toBe(true);
  });
});
