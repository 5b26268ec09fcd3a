import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type LoggerOptions, prettyLine } from '../src/logger.js';

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger({
    now: () => Date.UTC(2026, 10, 27, 8, 1, 2, 345),
    write: (l) => lines.push(l),
    ...options,
  });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger (JSON)', () => {
  it('writes one JSON object per record with level, ts, component, fields and msg', () => {
    const { log, lines, records } = capture();
    log.info('service announced', { service: 'default/web', ips: ['192.0.2.240'], count: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(records()).toEqual([
      {
        level: 'info',
        ts: '2026-11-27T08:01:02.345Z',
        component: 'ingot',
        service: 'default/web',
        ips: ['192.0.2.240'],
        count: 2,
        msg: 'service announced',
      },
    ]);
    // No pino extras (pid, hostname, numeric time) that MetalLB's records do not have.
    expect(Object.keys(records()[0] ?? {})).not.toContain('pid');
    expect(Object.keys(records()[0] ?? {})).not.toContain('hostname');
    expect(Object.keys(records()[0] ?? {})).not.toContain('time');
    expect(lines[0]?.startsWith('{"level":"info","ts":"2026-11-27T08:01:02.345Z"')).toBe(true);
  });

  it('names children by joining components with dots', () => {
    const { log, records } = capture({ component: 'ingot' });
    const bgp = log.child('bgp');
    bgp.info('a');
    bgp.child('peer').warn('b');
    log.child('layer2').error('c');
    log.info('d');
    expect(records().map((r) => [r.component, r.level, r.msg])).toEqual([
      ['ingot.bgp', 'info', 'a'],
      ['ingot.bgp.peer', 'warn', 'b'],
      ['ingot.layer2', 'error', 'c'],
      ['ingot', 'info', 'd'],
    ]);
  });

  it('filters records below the level, for children too', () => {
    const { log, records } = capture({ level: 'warn' });
    const child = log.child('x');
    for (const l of [log, child]) {
      l.debug('debug');
      l.info('info');
      l.warn('warn');
      l.error('error');
    }
    expect(records().map((r) => `${r.component} ${r.msg}`)).toEqual([
      'ingot warn',
      'ingot error',
      'ingot.x warn',
      'ingot.x error',
    ]);
  });

  it('defaults to info and accepts debug', () => {
    const info = capture();
    info.log.debug('hidden');
    info.log.info('shown');
    expect(info.records().map((r) => r.msg)).toEqual(['shown']);
    const debug = capture({ level: 'debug' });
    debug.log.debug('shown');
    expect(debug.records()).toMatchObject([{ level: 'debug', msg: 'shown' }]);
  });

  it('keeps the record keys its own: fields named level, ts, msg or component are dropped', () => {
    const { log, lines, records } = capture({ level: 'debug' });
    log.debug('probe', { level: 'warn', msg: 'other', ts: 1, component: 'x', member: 'node-2' });
    expect(records()).toEqual([
      { level: 'debug', ts: '2026-11-27T08:01:02.345Z', component: 'ingot', member: 'node-2', msg: 'probe' },
    ]);
    expect(lines[0]?.match(/"level"/g)).toHaveLength(1);
  });

  it('writes bigints as strings and errors as { name, message }, nested too', () => {
    const { log, records } = capture();
    const fields = { n: 12345678901234567890n, error: new TypeError('bad'), nested: { list: [new Error('x'), 1n] } };
    log.error('failed', fields);
    expect(records()[0]).toMatchObject({
      n: '12345678901234567890',
      error: { name: 'TypeError', message: 'bad' },
      nested: { list: [{ name: 'Error', message: 'x' }, '1'] },
    });
    expect(fields.nested.list[1]).toBe(1n); // the caller's object is not modified
  });

  it('writes the message verbatim (no printf interpolation)', () => {
    const { log, records } = capture();
    log.info('100%s done %d', { a: 1 });
    log.info('50% %o');
    expect(records().map((r) => r.msg)).toEqual(['100%s done %d', '50% %o']);
  });

  it('auto format is JSON when records go to a write function', () => {
    const { log, lines } = capture({ format: 'auto' });
    log.info('x');
    expect(() => JSON.parse(lines[0] ?? '')).not.toThrow();
  });
});

describe('createLogger (pretty)', () => {
  it('writes one human-readable line per record', () => {
    const { log, lines } = capture({ format: 'pretty' });
    log.child('bgp').warn('session down', { peer: 'r1', reason: 'hold timer expired', up: false, ips: ['192.0.2.1'] });
    log.info('plain');
    expect(lines).toEqual([
      '2026-11-27T08:01:02.345Z WARN  ingot.bgp: session down peer=r1 reason="hold timer expired" up=false ips=["192.0.2.1"]',
      '2026-11-27T08:01:02.345Z INFO  ingot: plain',
    ]);
  });

  it('colours the level when asked', () => {
    const { log, lines } = capture({ format: 'pretty', color: true });
    log.error('boom', { x: 1 });
    expect(lines[0]).toContain('\x1b[31mERROR\x1b[0m');
    expect(lines[0]?.replace(/\x1b\[[0-9;]*m/g, '')).toBe('2026-11-27T08:01:02.345Z ERROR ingot: boom x=1');
  });

  it('prettyLine passes through a line that is not JSON', () => {
    expect(prettyLine('not json\n')).toBe('not json');
  });
});

describe('createLogger on the real standard streams (child process)', () => {
  const dir = fileURLToPath(new URL('../node_modules/.cache/ingot-logger-test/', import.meta.url));
  const script = `${dir}run.mjs`;
  const hasScript = spawnSync('script', ['--version']).status === 0;

  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    buildSync({
      entryPoints: [fileURLToPath(new URL('../src/logger.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outfile: `${dir}logger.mjs`,
    });
    writeFileSync(
      script,
      [
        "import { isMainThread } from 'node:worker_threads';",
        "const { createLogger } = await import('./logger.mjs');",
        "const log = createLogger({ level: 'debug', destination: process.argv[2] });",
        "log.child('bgp').info('hello', { peer: 'r1', reason: 'a b' });",
        "log.debug('bye', { mainThread: isMainThread });",
        'process.exit(0); // synchronous destination: nothing is lost',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes JSON lines to stderr when it is not a terminal, nothing to stdout', () => {
    const r = spawnSync(process.execPath, [script, 'stderr'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const records = r.stderr
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toMatchObject([
      { level: 'info', component: 'ingot.bgp', peer: 'r1', reason: 'a b', msg: 'hello' },
      { level: 'debug', component: 'ingot', msg: 'bye' },
    ]);
  });

  it('writes JSON lines to stdout when asked', () => {
    const r = spawnSync(process.execPath, [script, 'stdout'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).msg),
    ).toEqual(['hello', 'bye']);
  });

  it.skipIf(!hasScript)('writes human-readable lines on a terminal', () => {
    const out = execFileSync('script', ['-qec', `${process.execPath} ${script} stderr`, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const lines = out.replace(/\r/g, '').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}ingot\.bgp: hello peer=r1 reason="a b"$/);
    expect(lines[1]).toMatch(/Z DEBUG ingot: bye mainThread=true$/);
  });
});
