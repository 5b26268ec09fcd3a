import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labSuite } from '@ingot/lab';
import { expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function demoNamespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith('ingot-demo-'));
}

// The demo needs only `ip` (its client is a Node.js process); with FRR installed it adds the router and BGP.
labSuite('ingot demo: a throw-away three-node cluster, narrated end to end', { tools: ['ip'] }, () => {
  it('assigns IPs, serves HTTP before and after the owner is SIGKILLed, and cleans up', async () => {
    const before = new Set(demoNamespaces());
    const lines: string[] = [];
    const diagnostics: string[] = [];
    const code = await runDemo({
      cli: CLI,
      out: (line) => lines.push(line),
      log: { debug: (m) => diagnostics.push(m), warn: (m) => diagnostics.push(m) },
    });
    const story = `${lines.join('\n')}\n--- diagnostics ---\n${diagnostics.join('\n')}`;
    if (process.env.INGOT_DEMO_PRINT) console.log(story);
    expect(code, story).toBe(0);
    expect(story).toMatch(/service demo\/web got 198\.51\.100\.\d+; layer-2 owner node-[123]/);
    expect(story).toMatch(/service demo\/api got 198\.51\.100\.\d+; layer-2 owner node-[123]/);
    const before200 = lines.findIndex((l) =>
      /-> http:\/\/198\.51\.100\.\d+\/ : HTTP 200, answered by node-\d$/.test(l),
    );
    const kill = lines.findIndex((l) => /SIGKILL its ingot/.test(l));
    const moved = lines.find((l) => /moved to node-\d: the client got HTTP 200 [\d.]+ s after the kill/.test(l));
    const after200 = lines.findIndex((l) => /: HTTP 200, answered by node-\d \(after the kill\)$/.test(l));
    expect(before200, story).toBeGreaterThanOrEqual(0);
    expect(kill, story).toBeGreaterThan(before200);
    expect(moved, story).toBeDefined();
    expect(after200, story).toBeGreaterThan(kill);
    if (existsSync('/usr/lib/frr/bgpd') && existsSync('/usr/lib/frr/zebra')) {
      expect(story).toMatch(
        /router \(FRR\) learned 198\.51\.100\.\d+\/32 via 192\.0\.2\.1, 192\.0\.2\.2, 192\.0\.2\.3/,
      );
      expect(story).toMatch(/router \(FRR\) now has 198\.51\.100\.\d+\/32 via 192\.0\.2\.\d, 192\.0\.2\.\d$/m);
    }
    expect(lines.at(-1), story).toMatch(/cleaned up: stopped \d+ processes, deleted \d+ namespaces/);
    expect(demoNamespaces().filter((n) => !before.has(n))).toEqual([]);
  }, 180_000);
});
