import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const dist = join(pkg, 'dist', 'index.js');
const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
// Every ```js block (not ```js privileged) is a runnable example.
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(join(tmpdir(), 'ingot-arp-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README examples run against the built package', () => {
  it('has examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });
  blocks.forEach((code, i) => {
    const title = code.split('\n').find((l) => l.startsWith('import {')) ?? `block ${i}`;
    it(`example ${i + 1}: ${title.slice(0, 80)}`, async () => {
      if (!existsSync(dist)) throw new Error(`build first (cd packages/arp && npx tsup): ${dist} is missing`);
      const file = join(dir, `example-${i}.mjs`);
      writeFileSync(file, code.replaceAll("from '@ingot/arp'", `from '${pathToFileURL(dist).href}'`));
      const { stderr } = await promisify(execFile)(process.execPath, [file], { timeout: 15_000 });
      expect(stderr).toBe('');
    });
  });
});
