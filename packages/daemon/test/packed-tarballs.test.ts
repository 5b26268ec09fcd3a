/**
 * The published packages as a user gets them: `npm pack` each one, install the six tarballs into a blank project in a
 * temporary directory outside the workspace (from the npm cache: `--prefer-offline`), then run every example of every
 * README there, as ESM and as CommonJS, and type-check them with tsc against the installed typings (ESM and CommonJS
 * resolution, the packages' .d.ts files checked too). Lives in the daemon because the daemon's build depends on the
 * others: `turbo run test` builds all six before it. Bounded: install 5 min, each example 30 s.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const PUBLISHED = ['net', 'allocator', 'arp', 'bgp', 'election', 'daemon'] as const;
/** Examples that cannot run here and are type-checked only, with the reason. Fences marked `privileged` are too. */
const TYPECHECK_ONLY: readonly { pkg: string; marker: string; why: string }[] = [
  { pkg: 'bgp', marker: 'new BgpSpeaker(', why: 'listens on port 179 and peers with 192.0.2.2 until SIGTERM' },
  { pkg: 'daemon', marker: 'startKubernetesMode(', why: 'needs a Kubernetes API server' },
];

interface Example {
  readonly pkg: string;
  /** `<pkg>-<n>`, the stem of its files. */
  readonly id: string;
  readonly lang: 'js' | 'ts';
  readonly code: string;
  /** Why it is not run (type-checked only), or undefined. */
  readonly skipRun: string | undefined;
}

/** Every ```js / ```ts block of a README. */
function examplesOf(pkg: string): Example[] {
  const readme = readFileSync(join(ROOT, 'packages', pkg, 'README.md'), 'utf8');
  return [...readme.matchAll(/```(js|ts)( [^\n]*)?\n([\s\S]*?)```/g)].map((m, i) => {
    const code = m[3]!;
    const privileged = (m[2] ?? '').includes('privileged') ? 'needs root and a real interface' : undefined;
    const why = privileged ?? TYPECHECK_ONLY.find((t) => t.pkg === pkg && code.includes(t.marker))?.why;
    return { pkg, id: `${pkg}-${i + 1}`, lang: m[1] as 'js' | 'ts', code, skipRun: why };
  });
}

const IMPORT = /import\s+(?:(\w+)|\{([^}]*)\})\s+from\s+'([^']+)';/g;

/** The example as CommonJS: imports become requires, the body runs in an async function (top-level await). */
function toCommonJs(code: string): string {
  const body = code.replace(IMPORT, (_m, def: string | undefined, names: string | undefined, from: string) =>
    def !== undefined ? `const ${def} = require('${from}');` : `const {${names}} = require('${from}');`,
  );
  return `(async () => {\n${body}\n})().catch((e) => {\n  console.error(e);\n  process.exitCode = 1;\n});\n`;
}

/**
 * A TypeScript file importing by name what the example imports from @ingot packages: as `.mts` it resolves the ESM
 * typings (`import` condition), as `.cts` the CommonJS ones (`require` condition).
 */
function importsOnly(code: string): string {
  const lines: string[] = [];
  for (const m of code.matchAll(IMPORT)) {
    if (!m[3]!.startsWith('@ingot/') || m[2] === undefined) continue;
    const names = m[2]
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '');
    lines.push(`import { ${names.join(', ')} } from '${m[3]}';`, `export const used${lines.length} = [${names}];`);
  }
  return `${lines.join('\n')}\n`;
}

/** Log lines (JSON records at info level or below, as the daemon's logger writes to stderr) are not problems. */
function problems(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      try {
        const level = (JSON.parse(line) as { level?: unknown }).level;
        return !(
          level === 'trace' ||
          level === 'debug' ||
          level === 'info' ||
          (typeof level === 'number' && level <= 30)
        );
      } catch {
        return true;
      }
    });
}

const examples = PUBLISHED.flatMap(examplesOf);
const dir = mkdtempSync(join(tmpdir(), 'ingot-packed-'));
const project = join(dir, 'project');
let installError: Error | undefined;

async function runNode(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [file], { cwd: project, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? err.message,
    };
  }
}

beforeAll(async () => {
  try {
    for (const pkg of PUBLISHED) {
      // Every file the package's exports name must exist (a build in progress has removed some): else build first.
      const pkgDir = join(ROOT, 'packages', pkg);
      const manifest = readFileSync(join(pkgDir, 'package.json'), 'utf8');
      for (const m of manifest.matchAll(/"(\.\/dist\/[^"]+)"/g)) {
        if (!existsSync(join(pkgDir, m[1]!))) throw new Error(`build first (npm run build): ${pkg}/${m[1]} is missing`);
      }
    }
    const workspaces = PUBLISHED.map((pkg) => `--workspace=packages/${pkg}`);
    await run('npm', ['pack', '--pack-destination', dir, '--silent', ...workspaces], { cwd: ROOT, timeout: 300_000 });
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'blank', version: '1.0.0', private: true }));
    const tarballs = readdirSync(dir)
      .filter((f) => f.endsWith('.tgz'))
      .map((f) => join(dir, f));
    expect(tarballs).toHaveLength(PUBLISHED.length);
    const typesNode = JSON.parse(readFileSync(join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')).version;
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-save', ...tarballs, `@types/node@${typesNode}`],
      { cwd: project, timeout: 300_000 },
    );
    for (const ex of examples) {
      const esm =
        ex.lang === 'ts'
          ? ts.transpileModule(ex.code, {
              compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
            }).outputText
          : ex.code;
      writeFileSync(join(project, `${ex.id}.mjs`), esm);
      writeFileSync(join(project, `${ex.id}.cjs`), toCommonJs(esm));
      // TypeScript examples are checked whole; JavaScript ones for what they import (checkJs would judge the JavaScript
      // idioms, e.g. narrowing by assert, rather than the typings).
      if (ex.lang === 'ts') writeFileSync(join(project, `${ex.id}.mts`), ex.code);
      writeFileSync(join(project, `${ex.id}.imports.mts`), importsOnly(ex.code));
      writeFileSync(join(project, `${ex.id}.imports.cts`), importsOnly(ex.code));
    }
  } catch (e) {
    installError = e as Error;
  }
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('packed tarballs installed into a blank project', () => {
  it('pack and install', () => {
    expect(installError?.message).toBeUndefined();
    for (const pkg of PUBLISHED)
      expect(existsSync(join(project, 'node_modules/@ingot', pkg, 'package.json'))).toBe(true);
  });

  it('every README has examples', () => {
    for (const pkg of PUBLISHED) expect(examples.filter((e) => e.pkg === pkg).length, pkg).toBeGreaterThan(0);
  });

  it('tsc type-checks the TypeScript examples, and what every example imports (ESM and CommonJS), against the installed typings', async () => {
    expect(installError?.message).toBeUndefined();
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2023'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        include: ['*.mts', '*.cts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = await run(process.execPath, [tsc, '-p', project], { cwd: project, timeout: 300_000 }).catch(
      (e: { stdout?: string; message: string }) => ({ stdout: e.stdout ?? e.message }),
    );
    // Our typings are checked too (skipLibCheck off); third-party typings are not ours to judge (@kubernetes/client-node's
    // import 'ws' through isomorphic-ws without depending on @types/ws: with skipLibCheck off a user adds @types/ws).
    const errors = r.stdout.split(/\n(?=\S)/).filter((e) => e.trim() !== '' && !/^node_modules\/(?!@ingot\/)/.test(e));
    expect(errors).toEqual([]);
  }, 300_000);

  for (const ex of examples) {
    const first = ex.code.split('\n').find((l) => /^[a-z]/.test(l) && !l.startsWith('import')) ?? '';
    const title = `${ex.id}: ${first}`.slice(0, 100);
    if (ex.skipRun !== undefined) {
      it.skip(`${title} (type-checked only: ${ex.skipRun})`, () => {});
      continue;
    }
    it(`${title} runs as ESM and as CommonJS`, async () => {
      expect(installError?.message).toBeUndefined();
      const esm = await runNode(join(project, `${ex.id}.mjs`));
      expect({ code: esm.code, problems: problems(esm.stderr) }, 'ESM').toEqual({ code: 0, problems: [] });
      const cjs = await runNode(join(project, `${ex.id}.cjs`));
      expect({ code: cjs.code, problems: problems(cjs.stderr) }, 'CommonJS').toEqual({ code: 0, problems: [] });
    }, 70_000);
  }
});
