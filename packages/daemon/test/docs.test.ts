import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(PKG, path), 'utf8');

/** Every .ts file under a directory of this package. */
function sources(dir: string): string[] {
  return readdirSync(join(PKG, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => read(join(dir, f)));
}

describe('docs/configuration.md', () => {
  const doc = read('docs/configuration.md');

  it('documents every field path the configuration parser reads', () => {
    const paths = new Set<string>();
    for (const text of sources('src/config'))
      for (const m of text.matchAll(/'((?:spec|metadata|status)\.[A-Za-z0-9.]+)'/g)) paths.add(m[1] as string);
    expect(paths.size).toBeGreaterThan(40);
    const missing = [...paths].filter((p) => !doc.includes(`\`${p}`) && !doc.includes(`${p}\``));
    expect(missing).toEqual([]);
  });

  it('documents every kind the parser accepts', () => {
    const parser = read('src/config/parse-config.ts');
    const kinds = [...parser.matchAll(/case '([A-Z][A-Za-z]+)':/g)].map((m) => m[1] as string);
    expect(kinds).toContain('IPAddressPool');
    for (const kind of kinds) expect(doc, kind).toContain(`\n## ${kind}`);
  });
});

describe('docs/metrics.md', () => {
  it('documents every metric the daemon exports', () => {
    const doc = read('docs/metrics.md');
    const texts = [...sources('src'), readFileSync(join(PKG, '../arp/src/responder/layer2-counters.ts'), 'utf8')];
    const names = new Set<string>();
    for (const text of texts)
      for (const m of text.matchAll(/['`](metallb_[a-z0-9_]*[a-z0-9]|ingot_[a-z0-9_]*[a-z0-9])['`{]/g))
        names.add(m[1] as string);
    // The allocator's gauges are named by a template; its README and metrics.ts list them.
    expect(names).toContain('metallb_speaker_announced');
    const missing = [...names].filter((n) => !doc.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });
});

describe('documentation links', () => {
  it('README links the docs, and every relative link in them resolves', () => {
    const readme = read('README.md');
    for (const d of ['docs/configuration.md', 'docs/operations.md', 'docs/metrics.md'])
      expect(readme).toContain(`](${d})`);
    for (const file of ['README.md', 'docs/configuration.md', 'docs/operations.md', 'docs/metrics.md']) {
      for (const m of read(file).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1] as string;
        if (/^[a-z]+:/.test(target)) continue;
        expect(existsSync(join(PKG, dirname(file), target)), `${file} -> ${target}`).toBe(true);
      }
    }
  });
});
