import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateCommand } from '../src/commands/validate.js';
import { parseConfig } from '../src/config/parse-config.js';
import type { ConfigIssue } from '../src/config/resources.js';

/**
 * MetalLB's configuration tables (internal/config config_test.go, validation.go) restated as our own YAML files, one
 * case per file in test/fixtures/metallb-parity. Each file starts with comment lines:
 *   # MetalLB: the case it mirrors
 *   # expect: accept | reject
 *   # issue: Kind/name field ~ text the reason contains      (reject: each must be reported)
 *   # warning: Kind/name field ~ text the reason contains    (accept: exactly these warnings)
 */
const DIR = join(import.meta.dirname, 'fixtures', 'metallb-parity');

interface Expected {
  resource: string;
  field: string;
  text: string;
}

interface Case {
  file: string;
  text: string;
  expect: 'accept' | 'reject';
  issues: Expected[];
  warnings: Expected[];
}

function parseExpected(line: string): Expected {
  const [where = '', text = ''] = line.split(' ~ ');
  const m = /^(document \d+|\S+) ?(.*)$/.exec(where.trim()) ?? [];
  return { resource: m[1] ?? '', field: (m[2] ?? '').trim(), text };
}

function readCase(file: string): Case {
  const text = readFileSync(join(DIR, file), 'utf8');
  const header = text.split('\n').filter((l) => l.startsWith('# '));
  const value = (key: string) => header.filter((l) => l.startsWith(`# ${key}: `)).map((l) => l.slice(key.length + 4));
  const expect = value('expect')[0];
  if (expect !== 'accept' && expect !== 'reject') throw new Error(`${file}: no "# expect:" line`);
  if (value('MetalLB').length !== 1) throw new Error(`${file}: no "# MetalLB:" line`);
  return {
    file,
    text,
    expect,
    issues: value('issue').map(parseExpected),
    warnings: value('warning').map(parseExpected),
  };
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map(readCase);

const matches = (e: Expected) => (i: ConfigIssue) =>
  i.resource === e.resource && i.field === e.field && i.reason.includes(e.text);
const show = (list: readonly ConfigIssue[]) => list.map((i) => `${i.resource} ${i.field}: ${i.reason}`).join('\n');

describe('parity with MetalLB on its configuration tables', () => {
  it('has the cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(cases.filter((c) => c.expect === 'accept').length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases.map((c) => [c.file, c]))('%s', (_file, c) => {
    const result = parseConfig(c.text);
    if (c.expect === 'reject') {
      expect(result.ok, 'should be rejected').toBe(false);
      expect(c.issues.length, 'a reject case names its issues').toBeGreaterThan(0);
      const issues = result.ok ? [] : result.issues;
      for (const e of c.issues) expect(issues.some(matches(e)), `${JSON.stringify(e)} in\n${show(issues)}`).toBe(true);
    } else {
      expect(result.ok, result.ok ? '' : `should be accepted, got\n${show(result.issues)}`).toBe(true);
      expect(result.warnings.length, show(result.warnings)).toBe(c.warnings.length);
      for (const e of c.warnings)
        expect(result.warnings.some(matches(e)), `${JSON.stringify(e)} in\n${show(result.warnings)}`).toBe(true);
    }
    // `ingot validate` says the same: exit status, one line per issue and warning, each with a line number
    const lines: string[] = [];
    const code = validateCommand(c.file, c.text, (s) => lines.push(s));
    expect(code).toBe(c.expect === 'accept' ? 0 : 1);
    const reported = result.ok ? result.warnings : [...result.issues, ...result.warnings];
    expect(lines.length).toBe(reported.length + (result.ok ? 1 : 0));
    for (const line of lines.slice(0, reported.length)) expect(line).toMatch(new RegExp(`^${c.file}:\\d+: `));
    for (const w of result.warnings) expect(lines.some((l) => l.includes(`: warning: ${w.resource}`))).toBe(true);
  });
});
