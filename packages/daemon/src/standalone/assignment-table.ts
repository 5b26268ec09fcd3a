import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Assignment } from '../assignments.js';

/**
 * The standalone controller's output, replicated to every member and persisted in each node's state directory. The
 * newest table wins: higher `generation`, then the greater `writer` name (two partitions that both allocated).
 */
export interface AssignmentTable {
  /** Bumped by the allocating node on every change. 0 = nothing allocated yet. */
  generation: number;
  /** The node that wrote this generation. */
  writer: string;
  /** Assignments by service key `namespace/name`. */
  services: Record<string, Assignment>;
}

/** The empty table a node starts from when it has no state. */
export const EMPTY_TABLE: AssignmentTable = Object.freeze({ generation: 0, writer: '', services: {} });

/** Name of the table file in the state directory. */
export const ASSIGNMENTS_FILE = 'assignments.json';

/**
 * The highest generation a table may carry (2^48). Real clusters stay far below it (a change per millisecond for 8,900
 * years); a table or gossiped version above it is refused, so a forged `9007199254740991` cannot push a node's
 * generation to where the next one no longer parses.
 */
export const MAX_GENERATION = 2 ** 48;

/** The longest writer (member) name a table may carry, in characters (a DNS name's limit). */
export const MAX_WRITER_LENGTH = 253;

/** The gossiped version of a table: `<generation>.<writer>`. */
export function tableVersion(t: Pick<AssignmentTable, 'generation' | 'writer'>): string {
  return `${t.generation}.${t.writer}`;
}

/** Parses {@link tableVersion} text; undefined when malformed. */
export function parseTableVersion(text: string | undefined): { generation: number; writer: string } | undefined {
  const m = /^(\d{1,15})\.(.*)$/.exec(text ?? '');
  if (!m || (m[2] as string).length > MAX_WRITER_LENGTH) return undefined;
  const generation = Number(m[1]);
  return generation <= MAX_GENERATION ? { generation, writer: m[2] as string } : undefined;
}

/** Orders table versions: positive when `a` is newer than `b`. */
export function compareVersions(
  a: Pick<AssignmentTable, 'generation' | 'writer'>,
  b: Pick<AssignmentTable, 'generation' | 'writer'>,
): number {
  if (a.generation !== b.generation) return a.generation - b.generation;
  return a.writer < b.writer ? -1 : a.writer > b.writer ? 1 : 0;
}

/**
 * Checks that `value` is an {@link AssignmentTable} (e.g. JSON read from disk or from a peer).
 * @throws Error naming the first offending field.
 */
export function validateTable(value: unknown): AssignmentTable {
  const t = value as Partial<AssignmentTable> | null;
  if (t === null || typeof t !== 'object') throw new Error('assignment table: not an object');
  if (!Number.isSafeInteger(t.generation) || (t.generation as number) < 0 || (t.generation as number) > MAX_GENERATION)
    throw new Error(`assignment table: generation must be an integer from 0 to ${MAX_GENERATION}`);
  if (typeof t.writer !== 'string' || t.writer.length > MAX_WRITER_LENGTH)
    throw new Error(`assignment table: writer must be a string of at most ${MAX_WRITER_LENGTH} characters`);
  if (t.services === null || typeof t.services !== 'object' || Array.isArray(t.services))
    throw new Error('assignment table: services must be an object');
  for (const [key, a] of Object.entries(t.services)) {
    const ok =
      a !== null &&
      typeof a === 'object' &&
      Array.isArray(a.ips) &&
      a.ips.length <= 2 &&
      a.ips.every((ip) => typeof ip === 'string') &&
      (a.pool === undefined || typeof a.pool === 'string');
    if (!ok)
      throw new Error(
        `assignment table: services[${JSON.stringify(key.slice(0, 100))}] must be { ips: string[] (at most 2), pool?: string }`,
      );
  }
  // Copied into a prototype-less map: a key such as "__proto__" stays a plain key.
  const services: Record<string, Assignment> = Object.create(null);
  for (const [key, a] of Object.entries(t.services as Record<string, Assignment>))
    services[key] = { ips: [...a.ips], ...(a.pool !== undefined ? { pool: a.pool } : {}) };
  return { generation: t.generation as number, writer: t.writer, services };
}

/** Reads `<dir>/assignments.json`; the empty table when the file does not exist. @throws on a corrupt file. */
export function loadTable(dir: string): AssignmentTable {
  let text: string;
  try {
    text = readFileSync(join(dir, ASSIGNMENTS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_TABLE;
    throw err;
  }
  return validateTable(JSON.parse(text));
}

/**
 * Moves an unusable `<dir>/assignments.json` aside as `assignments.json.<suffix>-<time>` (time in ISO 8601 without
 * colons), so the daemon starts without it and the operator can still read it. Returns the new path.
 */
export function setTableAside(dir: string, suffix: 'corrupt' | 'rejected', now: Date = new Date()): string {
  const file = join(dir, ASSIGNMENTS_FILE);
  const aside = `${file}.${suffix}-${now.toISOString().replace(/:/g, '')}`;
  renameSync(file, aside);
  return aside;
}

/** Writes `<dir>/assignments.json` atomically (temporary file, then rename), creating `dir` when needed. */
export function saveTable(dir: string, table: AssignmentTable): void {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const file = join(dir, ASSIGNMENTS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(table, null, 2)}\n`, { mode: 0o640 });
  renameSync(tmp, file);
}
