import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { ASSIGNMENTS_LABEL, AssignmentSync, controllerOf, STATUS_LABEL } from '../../src/standalone/assignment-sync.js';
import {
  type AssignmentTable,
  compareVersions,
  loadTable,
  parseTableVersion,
  saveTable,
  validateTable,
} from '../../src/standalone/assignment-table.js';

const log = createLogger({ level: 'error', write: () => {} });
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ingot-state-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const WEB = { 'demo/web': { ips: ['192.0.2.240'], pool: 'default' } };

describe('assignment table', () => {
  it('orders versions by generation, then writer', () => {
    expect(compareVersions({ generation: 2, writer: 'a' }, { generation: 1, writer: 'z' })).toBeGreaterThan(0);
    expect(compareVersions({ generation: 2, writer: 'a' }, { generation: 2, writer: 'b' })).toBeLessThan(0);
    expect(compareVersions({ generation: 2, writer: 'b' }, { generation: 2, writer: 'b' })).toBe(0);
    expect(parseTableVersion('12.node-1.example')).toEqual({ generation: 12, writer: 'node-1.example' });
    expect(parseTableVersion('x.y')).toBeUndefined();
    expect(parseTableVersion(undefined)).toBeUndefined();
  });

  it('persists atomically and reads back; a missing file is the empty table; corruption is an error', () => {
    const dir = tempDir();
    expect(loadTable(dir)).toEqual({ generation: 0, writer: '', services: {} });
    const t: AssignmentTable = { generation: 3, writer: 'n1', services: WEB };
    saveTable(join(dir, 'sub'), t);
    expect(loadTable(join(dir, 'sub'))).toEqual(t);
    writeFileSync(join(dir, 'assignments.json'), '{"generation": -1}');
    expect(() => loadTable(dir)).toThrow(/generation/);
    expect(() => validateTable({ generation: 1, writer: 'a', services: { x: { ips: [1] } } })).toThrow(
      /services\["x"\]/,
    );
  });

  it('chooses one controller from the member names, the same on every node and order-independent', () => {
    const names = ['node-1', 'node-2', 'node-3'];
    const c = controllerOf(names);
    expect(names).toContain(c);
    expect(controllerOf([...names].reverse())).toBe(c);
    expect(controllerOf(names.filter((n) => n !== c))).not.toBe(c);
    expect(controllerOf([])).toBeUndefined();
  });
});

describe('AssignmentSync', () => {
  function make(node: string, tables: Record<string, AssignmentTable>, stateDirectory?: string) {
    const adopted: AssignmentTable[] = [];
    const advertised: string[] = [];
    const fetched: string[] = [];
    const sync = new AssignmentSync({
      node,
      ...(stateDirectory ? { stateDirectory } : {}),
      log,
      adopt: (t) => adopted.push(t),
      advertise: (v) => advertised.push(v),
      fetchTable: async (address) => {
        fetched.push(address);
        const t = tables[address];
        if (!t) throw new Error('connection refused');
        return t;
      },
    });
    return { sync, adopted, advertised, fetched };
  }
  const member = (name: string, version: string, status: string) => ({
    name,
    labels: { [ASSIGNMENTS_LABEL]: version, [STATUS_LABEL]: status },
  });

  it('the allocator records a new generation, persists it and advertises it', () => {
    const dir = tempDir();
    const { sync, advertised } = make('n1', {}, dir);
    sync.recordLocal(WEB);
    sync.recordLocal({});
    expect(advertised).toEqual(['1.n1', '2.n1']);
    expect(JSON.parse(readFileSync(join(dir, 'assignments.json'), 'utf8'))).toEqual({
      generation: 2,
      writer: 'n1',
      services: {},
    });
    // A restart loads it back.
    expect(make('n1', {}, dir).sync.table.generation).toBe(2);
  });

  it('the allocator catches up from the member that wrote a newer table, skipping members that fail, ignoring older', async () => {
    const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const self = controllerOf(names) as string;
    const [a, b, c] = names.filter((n) => n !== self) as [string, string, string];
    const at = (n: string) => `192.0.2.${names.indexOf(n) + 1}:7472`;
    const newest: AssignmentTable = { generation: 5, writer: b, services: WEB };
    const { sync, adopted, fetched } = make(self, {
      [at(b)]: newest,
      [at(a)]: { ...newest, generation: 4 },
    });
    await sync.observe([
      member(a, `4.${b}`, at(a)),
      member(c, `6.${c}`, at(c)), // advertises newer but is unreachable
      member(b, `5.${b}`, at(b)),
      { name: 'n9', labels: {} },
    ]);
    expect(fetched).toEqual([at(c), at(b)]);
    expect(adopted).toEqual([newest]);
    expect(sync.table).toEqual(newest);
    await sync.observe([member(a, `4.${b}`, at(a))]);
    expect(adopted).toHaveLength(1);
  });

  it('never adopts a table older than its own, even when a peer mis-advertises', async () => {
    const { sync, adopted } = make('n1', { 'n2:7472': { generation: 1, writer: 'n2', services: {} } });
    sync.recordLocal(WEB);
    sync.recordLocal(WEB);
    await sync.observe([member('n2', '9.n2', 'n2:7472')]);
    expect(adopted).toEqual([]);
    expect(sync.table.generation).toBe(2);
  });

  it('is the allocator exactly when it is the controller of the live members', () => {
    const names = ['n1', 'n2', 'n3'];
    const c = controllerOf(names) as string;
    const members = names.map((name) => ({ name, labels: {} }));
    expect(make(c, {}).sync.isAllocator(members)).toBe(true);
    expect(make(names.find((n) => n !== c) as string, {}).sync.isAllocator(members)).toBe(false);
  });
});
