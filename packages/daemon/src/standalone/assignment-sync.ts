import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Assignment } from '../assignments.js';
import { parseHostPort } from '../host-port.js';
import { getBody, parseJsonFrom } from '../http-json.js';
import type { Logger } from '../logger.js';
import type { NodeInfo } from '../speaker/announcement-plan.js';
import {
  type AssignmentTable,
  compareVersions,
  EMPTY_TABLE,
  loadTable,
  MAX_GENERATION,
  parseTableVersion,
  saveTable,
  setTableAside,
  tableVersion,
  validateTable,
} from './assignment-table.js';
import { SIGNATURE_HEADER, verifyBody } from './table-auth.js';
import type { TableProblem } from './table-check.js';

/** Gossiped label carrying a node's table version, `<generation>.<writer>`. */
export const ASSIGNMENTS_LABEL = 'ingot.dev/assignments';
/** Gossiped label carrying the `host:port` where a node serves `GET /assignments`. */
export const STATUS_LABEL = 'ingot.dev/status';
/** The key hashed with each member name to choose the allocating node. */
export const CONTROLLER_ELECTION_KEY = 'ingot/controller';
/** The largest `/assignments` body a node reads from a peer (8 MiB, about 80,000 services). */
export const MAX_TABLE_BYTES = 8 * 1024 * 1024;

/** Why a replicated table was not adopted; the label of `ingot_assignments_rejected_total`. */
export type RejectReason =
  | 'unreachable' // no complete 200 answer in time
  | 'too-large' // body over MAX_TABLE_BYTES
  | 'unauthenticated' // signature missing or wrong
  | 'malformed' // not JSON, or not an assignment table
  | 'writer' // does not name the elected allocator as its writer
  | 'config' // not allowed by the configuration in force
  | 'state-file'; // the state directory's table was corrupt or (partly) not allowed

/** A failed fetch, with the reason it is counted under. */
export class ReplicationError extends Error {
  /** Always `'ReplicationError'`. */
  override readonly name = 'ReplicationError';
  constructor(
    /** The counter label. */
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The allocating node among `names`: the lowest sha256(name + "#" + {@link CONTROLLER_ELECTION_KEY}), the same
 * rendezvous-hash idea as MetalLB's per-IP leader. Every member computes it alone from its member view; undefined when
 * `names` is empty.
 */
export function controllerOf(names: readonly string[]): string | undefined {
  let best: { name: string; hash: string } | undefined;
  for (const name of new Set(names)) {
    const hash = createHash('sha256').update(`${name}#${CONTROLLER_ELECTION_KEY}`).digest('hex');
    if (!best || hash < best.hash || (hash === best.hash && name < best.name)) best = { name, hash };
  }
  return best?.name;
}

/** Options of {@link AssignmentSync}. */
export interface AssignmentSyncOptions {
  /** This node's name. */
  node: string;
  /** Where the table persists; absent = memory only. */
  stateDirectory?: string;
  /** Logger. */
  log: Logger;
  /** Hands an adopted table to the daemon (replace assignments, then reconcile). Its exceptions are logged. */
  adopt: (table: AssignmentTable) => void;
  /** Publishes this node's table version to the other members (gossip labels). */
  advertise: (version: string) => void;
  /**
   * Reads a peer's table (the parsed JSON, authenticated). @default {@link fetchTableOverHttp} without a key
   * @throws ReplicationError (other errors count as `unreachable`)
   */
  fetchTable?: (statusAddress: string) => Promise<unknown>;
  /** The configuration's objections to a table ({@link checkTable}); empty = allowed. @default none */
  check?: (table: AssignmentTable) => TableProblem[];
  /**
   * The members that may allocate: the fleet file's Node documents, when it lists any; undefined = every member. A
   * member outside it never becomes the allocator, and its tables are never read.
   */
  eligible?: () => ReadonlySet<string> | undefined;
  /** Clock for the names of state files set aside. */
  now?: () => Date;
}

/**
 * Keeps the standalone controller's assignments identical on every member and across restarts. One node allocates (the
 * leader of {@link CONTROLLER_ELECTION_KEY} among live members that may allocate); it bumps the table's generation on
 * every change, persists it, and gossips the version. A follower that sees the allocator advertise a newer version
 * fetches that table from the allocator's status endpoint and adopts it only when it names the allocator as writer, is
 * authenticated, and is allowed by the configuration in force; the allocator itself catches up, under the same checks,
 * from a member holding a newer table that member or another configured Node (a former allocator) wrote, then
 * re-stamps it as its own. On start each node
 * loads its own copy (what the configuration allows of it), so even a restart of every node keeps every IP.
 */
export class AssignmentSync {
  private current: AssignmentTable;
  private fetching = false;
  private recheck = false;
  private heardGeneration = 0;
  private readonly counts = new Map<RejectReason, number>();
  private readonly ineligibleLogged = new Set<string>();

  constructor(private readonly options: AssignmentSyncOptions) {
    this.current = EMPTY_TABLE;
    if (options.stateDirectory) this.current = this.loadState(options.stateDirectory);
  }

  /** The newest table this node holds. */
  get table(): AssignmentTable {
    return this.current;
  }

  /** Tables refused so far, by reason (`ingot_assignments_rejected_total`). */
  rejections(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** The allocating node among these live members (only eligible ones count; this node is always a candidate). */
  allocatorOf(members: readonly NodeInfo[]): string | undefined {
    const eligible = this.options.eligible?.();
    const names = members.map((m) => m.name);
    if (!names.includes(this.options.node)) names.push(this.options.node);
    if (!eligible) return controllerOf(names);
    for (const name of names)
      if (!eligible.has(name) && !this.ineligibleLogged.has(name)) {
        if (this.ineligibleLogged.size >= 1024) this.ineligibleLogged.clear(); // bounded, whatever names appear
        this.ineligibleLogged.add(name);
        this.options.log.warn('member is not a Node of the configuration; it can never allocate', { member: name });
      }
    return controllerOf(names.filter((n) => eligible.has(n)));
  }

  /** Is `self` the allocating node among these live members? */
  isAllocator(members: readonly NodeInfo[]): boolean {
    return this.allocatorOf(members) === this.options.node;
  }

  /** Records assignments this node (the allocator) just computed: a new generation, persisted and advertised. */
  recordLocal(services: Record<string, Assignment>): void {
    // Never past the bound the other members accept (reachable only through a table a configured Node forged).
    const generation = Math.min(Math.max(this.current.generation, this.heardGeneration) + 1, MAX_GENERATION);
    this.store({ generation, writer: this.options.node, services });
    this.options.log.info('assignments changed', {
      version: tableVersion(this.current),
      services: Object.keys(services).length,
    });
  }

  /**
   * When this node has become the allocator and holds a table another node wrote, re-stamps it as its own (a new
   * generation, same assignments), so followers, which accept only the allocator's own tables, can adopt it. Not while
   * a member advertises a newer table this node would accept but has not fetched.
   */
  claim(members: readonly NodeInfo[]): void {
    if (this.current.generation === 0 || this.current.writer === this.options.node || !this.isAllocator(members))
      return;
    // A newer table not fetched yet (a member unreachable for now) must not be overwritten by an older one.
    if (!this.upToDate(members)) return;
    this.options.log.info('this node is the allocator now; taking over the table', { from: this.current.writer });
    this.recordLocal(this.current.services);
  }

  /**
   * Does this node hold the newest table it has heard of from a member it would accept one from? (`/readyz`.)
   */
  upToDate(members: readonly NodeInfo[]): boolean {
    return this.candidates(members).length === 0;
  }

  /**
   * Looks at the members' gossiped versions and adopts the newest acceptable table when it is newer than ours. Resolves
   * when done (also when every fetch failed: it is retried on the next membership change); never rejects.
   */
  async observe(members: readonly NodeInfo[]): Promise<void> {
    if (this.fetching) {
      this.recheck = true;
      return;
    }
    this.fetching = true;
    try {
      do {
        this.recheck = false;
        await this.pullNewest(members);
      } while (this.recheck);
    } catch (err) {
      this.options.log.error('assignment sync failed', { error: (err as Error).message });
    } finally {
      this.fetching = false;
    }
  }

  /** Members we would fetch a newer table from, newest first. */
  private candidates(members: readonly NodeInfo[]) {
    const allocator = this.allocatorOf(members);
    const self = allocator === this.options.node;
    const eligible = this.options.eligible?.();
    const out: { name: string; v: { generation: number; writer: string }; at: string }[] = [];
    for (const m of members) {
      if (m.name === this.options.node) continue;
      if (self ? eligible !== undefined && !eligible.has(m.name) : m.name !== allocator) continue;
      const v = parseTableVersion(m.labels[ASSIGNMENTS_LABEL]);
      const at = m.labels[STATUS_LABEL];
      if (!v || !at || !fetchable(at)) continue;
      if (v.generation > this.heardGeneration) this.heardGeneration = v.generation;
      if (compareVersions(v, this.current) > 0) out.push({ name: m.name, v, at });
    }
    return out.sort((a, b) => compareVersions(b.v, a.v));
  }

  private async pullNewest(members: readonly NodeInfo[]): Promise<void> {
    const allocator = this.allocatorOf(members);
    for (const c of this.candidates(members)) {
      try {
        const raw = await (this.options.fetchTable ?? fetchTableOverHttp)(c.at);
        let table: AssignmentTable;
        try {
          table = validateTable(raw);
        } catch (err) {
          throw new ReplicationError('malformed', (err as Error).message);
        }
        // A follower takes the allocator's own table only. The allocator catching up takes a table its source wrote, or
        // one a configured Node wrote (a former allocator whose table a follower still holds).
        const eligible = this.options.eligible?.();
        const writerOk =
          allocator === this.options.node
            ? table.writer === c.name || eligible?.has(table.writer) === true
            : table.writer === allocator;
        if (!writerOk)
          throw new ReplicationError(
            'writer',
            `table written by ${JSON.stringify(table.writer.slice(0, 64))}, not by ${allocator === this.options.node ? c.name : allocator}`,
          );
        if (compareVersions(table, this.current) <= 0) continue;
        const problems = this.options.check?.(table) ?? [];
        if (problems.length > 0)
          throw new ReplicationError(
            'config',
            `not allowed by the configuration: ${problems
              .slice(0, 5)
              .map((p) => `${p.service}: ${p.reason}`)
              .join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`,
          );
        this.store(table);
        this.options.log.info('assignments adopted', {
          from: c.name,
          version: tableVersion(table),
          services: Object.keys(table.services).length,
        });
        try {
          this.options.adopt(table);
        } catch (err) {
          this.options.log.error('applying adopted assignments failed', { error: (err as Error).message });
        }
        return;
      } catch (err) {
        const reason = err instanceof ReplicationError ? err.reason : 'unreachable';
        this.count(reason);
        this.options.log.warn('assignment table from a member ignored', {
          member: c.name,
          address: c.at,
          reason,
          error: (err as Error).message,
        });
      }
    }
  }

  private count(reason: RejectReason): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  /** The state directory's table, or the part of it the configuration allows; a corrupt file is set aside. */
  private loadState(dir: string): AssignmentTable {
    const { log } = this.options;
    const now = this.options.now?.() ?? new Date();
    let table: AssignmentTable;
    try {
      table = loadTable(dir);
    } catch (err) {
      this.count('state-file');
      let aside: string | undefined;
      try {
        aside = setTableAside(dir, 'corrupt', now);
      } catch {
        // unreadable and unmovable (e.g. a directory): saving a table later fails loudly
      }
      log.error('state directory assignments unreadable; set aside, starting empty and waiting for peers', {
        directory: dir,
        error: (err as Error).message,
        movedTo: aside ?? null,
      });
      return EMPTY_TABLE;
    }
    const problems = this.options.check?.(table) ?? [];
    if (problems.length > 0) {
      this.count('state-file');
      const dropped = new Set(problems.map((p) => p.service));
      const services: Record<string, Assignment> = Object.create(null);
      for (const [k, a] of Object.entries(table.services)) if (!dropped.has(k)) services[k] = a;
      let aside: string | undefined;
      try {
        aside = setTableAside(dir, 'rejected', now);
      } catch {
        // kept in place; the next save replaces it
      }
      log.error('state directory assignments not allowed by the configuration; those entries are not adopted', {
        directory: dir,
        problems: problems.slice(0, 20),
        movedTo: aside ?? null,
      });
      table = { ...table, services };
    }
    log.info('assignments loaded from the state directory', {
      directory: dir,
      version: tableVersion(table),
      services: Object.keys(table.services).length,
    });
    return table;
  }

  private store(table: AssignmentTable): void {
    this.current = table;
    if (this.options.stateDirectory) {
      try {
        saveTable(this.options.stateDirectory, table);
      } catch (err) {
        this.options.log.error('could not persist assignments', {
          directory: this.options.stateDirectory,
          error: (err as Error).message,
        });
      }
    }
    this.options.advertise(tableVersion(table));
  }
}

/** Is `address` a `host:port` a peer can be reached at (not a wildcard)? */
function fetchable(address: string): boolean {
  try {
    const { host } = parseHostPort(address);
    return isIP(host) !== 0 && host !== '0.0.0.0' && host !== '::';
  } catch {
    return false;
  }
}

/**
 * `GET http://<address>/assignments`: at most {@link MAX_TABLE_BYTES}, 2 s, and when `key` is given the body must
 * carry its HMAC in {@link SIGNATURE_HEADER}. Returns the parsed JSON (validate it with {@link validateTable}).
 * @throws ReplicationError
 */
export async function fetchTableOverHttp(address: string, key?: Uint8Array): Promise<unknown> {
  let answer: Awaited<ReturnType<typeof getBody>>;
  try {
    answer = await getBody(address, '/assignments', { maxBytes: MAX_TABLE_BYTES });
  } catch (err) {
    const message = (err as Error).message;
    throw new ReplicationError(/larger than/.test(message) ? 'too-large' : 'unreachable', message);
  }
  if (key && !verifyBody(key, answer.body, headerText(answer.headers[SIGNATURE_HEADER])))
    throw new ReplicationError('unauthenticated', `no valid ${SIGNATURE_HEADER} from ${address}`);
  try {
    return parseJsonFrom(answer.body.toString('utf8'), `${address}/assignments`);
  } catch (err) {
    throw new ReplicationError('malformed', (err as Error).message);
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}
