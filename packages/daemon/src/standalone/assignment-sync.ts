import { createHash } from 'node:crypto';
import { getJson } from '../http-json.js';
import type { Logger } from '../logger.js';
import type { NodeInfo } from '../speaker/announcement-plan.js';
import {
  type Assignment,
  type AssignmentTable,
  compareVersions,
  EMPTY_TABLE,
  loadTable,
  parseTableVersion,
  saveTable,
  tableVersion,
  validateTable,
} from './assignment-table.js';

/** Gossiped label carrying a node's table version, `<generation>.<writer>`. */
export const ASSIGNMENTS_LABEL = 'ingot.dev/assignments';
/** Gossiped label carrying the `host:port` where a node serves `GET /assignments`. */
export const STATUS_LABEL = 'ingot.dev/status';
/** The key hashed with each member name to choose the allocating node. */
export const CONTROLLER_ELECTION_KEY = 'ingot/controller';

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
  /** Hands an adopted table to the daemon (replace assignments, then reconcile). */
  adopt: (table: AssignmentTable) => void;
  /** Publishes this node's table version to the other members (gossip labels). */
  advertise: (version: string) => void;
  /** Reads a peer's table. @default HTTP `GET http://<address>/assignments` with a 2 s timeout */
  fetchTable?: (statusAddress: string) => Promise<AssignmentTable>;
}

/**
 * Keeps the standalone controller's assignments identical on every member and across restarts. One node allocates (the
 * leader of {@link CONTROLLER_ELECTION_KEY} among live members); it bumps the table's generation on every change,
 * persists it, and gossips the version. Every node that sees a newer version fetches that table from its writer's
 * status endpoint, persists it, and adopts it. On start each node loads its own copy, so even a restart of every node
 * keeps every IP.
 */
export class AssignmentSync {
  private current: AssignmentTable;
  private fetching = false;
  private recheck = false;

  constructor(private readonly options: AssignmentSyncOptions) {
    this.current = EMPTY_TABLE;
    if (options.stateDirectory) {
      try {
        this.current = loadTable(options.stateDirectory);
        options.log.info('assignments loaded from the state directory', {
          directory: options.stateDirectory,
          version: tableVersion(this.current),
          services: Object.keys(this.current.services).length,
        });
      } catch (err) {
        options.log.error('state directory assignments unreadable; starting empty and waiting for peers', {
          directory: options.stateDirectory,
          error: (err as Error).message,
        });
      }
    }
  }

  /** The newest table this node holds. */
  get table(): AssignmentTable {
    return this.current;
  }

  /** Is `self` the allocating node among these live members? */
  isAllocator(members: readonly NodeInfo[]): boolean {
    const names = members.map((m) => m.name);
    if (!names.includes(this.options.node)) names.push(this.options.node);
    return controllerOf(names) === this.options.node;
  }

  /** Records assignments this node (the allocator) just computed: a new generation, persisted and advertised. */
  recordLocal(services: Record<string, Assignment>): void {
    this.store({ generation: this.current.generation + 1, writer: this.options.node, services });
    this.options.log.info('assignments changed', {
      version: tableVersion(this.current),
      services: Object.keys(services).length,
    });
  }

  /**
   * Looks at the members' gossiped versions and adopts the newest table when it is newer than ours. Resolves when done
   * (also when the fetch failed: it is retried on the next membership change).
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
    } finally {
      this.fetching = false;
    }
  }

  private async pullNewest(members: readonly NodeInfo[]): Promise<void> {
    const candidates = members
      .filter((m) => m.name !== this.options.node)
      .map((m) => ({ m, v: parseTableVersion(m.labels[ASSIGNMENTS_LABEL]), at: m.labels[STATUS_LABEL] }))
      .filter((c) => c.v && c.at && compareVersions(c.v, this.current) > 0)
      .sort((a, b) => compareVersions(b.v!, a.v!));
    for (const c of candidates) {
      try {
        const table = validateTable(await (this.options.fetchTable ?? fetchTableOverHttp)(c.at as string));
        if (compareVersions(table, this.current) <= 0) return;
        this.store(table);
        this.options.log.info('assignments adopted', {
          from: c.m.name,
          version: tableVersion(table),
          services: Object.keys(table.services).length,
        });
        this.options.adopt(table);
        return;
      } catch (err) {
        this.options.log.warn('could not fetch assignments from a member', {
          member: c.m.name,
          address: c.at,
          error: (err as Error).message,
        });
      }
    }
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

/** `GET http://<address>/assignments`, validated, with a 2 s timeout. */
export async function fetchTableOverHttp(address: string): Promise<AssignmentTable> {
  return validateTable(await getJson(address, '/assignments'));
}
