import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...README.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);

/** What each example must print (in order of appearance in the README). */
const expected: RegExp[] = [
  /b sees node-a \{ zone: 'z1' \}[\s\S]*\[ 'node-a', 'node-b' \][\s\S]*b sees node-a leave/,
  /alive: 2,[\s\S]*largestRecent: 5,[\s\S]*hasMajority: false[\s\S]*\ntrue/,
  /\{ host: '127\.0\.0\.1', port: \d+ \}/,
  /^1 0$/m,
  /\[ 'node-b', 'node-a', 'node-c' \]\niris2\nedge-a/,
  /^2$/m,
  /n3 dead everywhere after \d+ virtual ms/,
  /^13 ping\ntrue truncated$/m,
  /\{ owner: 'node-a', probed: true \}\n180 270$/m,
  /dead at 400\n120 1138\n1 1\n2001:db8::1 true/,
];

function run(code: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', code],
      { cwd: ROOT, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('README examples run against the built package', () => {
  it('has the examples this test knows about', () => {
    expect(
      existsSync(new URL('../dist/index.js', import.meta.url)),
      'build first: cd packages/election && npx tsup',
    ).toBe(true);
    expect(blocks.length).toBe(expected.length);
  });
  blocks.forEach((code, i) => {
    it(`example ${i + 1}: ${code.split('\n')[0]!.slice(0, 60)}`, async () => {
      const r = await run(code);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(expected[i]!);
    });
  });
});
