import { spawn } from 'node:child_process';
import { type ExecOptions, type ExecResult, execCommand, formatCommand, LabCommandError } from './command.js';
import { type LabProcess, wrapProcess } from './lab-process.js';

/** Options for {@link LabHost.spawn} and {@link LabHost.fork}. */
export interface SpawnOptions {
  /** Extra environment variables, merged over process.env. */
  env?: Record<string, string>;
  /** Working directory (default: the current one). */
  cwd?: string;
}

/** One network namespace with one interface, as created by createPair / createLan. */
export interface LabHost {
  /** Namespace name (unique per run). */
  readonly ns: string;
  /** Interface name inside the namespace: 'veth-a' / 'veth-b' / 'eth0' / 'br0'. */
  readonly ifname: string;
  /** IPv4 address without prefix length, e.g. '192.0.2.1'. */
  readonly ipv4: string;
  /** IPv6 address without prefix length, e.g. '2001:db8:0:1::1'. */
  readonly ipv6: string;
  /** Prefix length of {@link LabHost.ipv4}. */
  readonly ipv4PrefixLength: number;
  /** Prefix length of {@link LabHost.ipv6}. */
  readonly ipv6PrefixLength: number;
  /** MAC address of the interface, lower case, read after creation. */
  readonly mac: string;
  /** Interface index inside the namespace. */
  readonly ifindex: number;
  /** Run a command in the namespace. Resolves with its output whatever its exit code; rejects only if it cannot spawn. */
  exec(cmd: string, args?: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Like exec but throws (stderr in the message) when the exit code is not 0; resolves with stdout. */
  run(cmd: string, args?: string[], opts?: ExecOptions): Promise<string>;
  /** Start a long-running process in the namespace; killed by PID (SIGTERM, then SIGKILL) on destroy. */
  spawn(cmd: string, args?: string[], opts?: SpawnOptions): LabProcess;
  /**
   * Start a Node script (.mjs/.js/.cjs) in the namespace with an IPC channel: `proc.send(msg)` and
   * `proc.waitMessage(...)`; the child uses `process.send` / `process.on('message')`.
   */
  fork(script: string, args?: string[], opts?: SpawnOptions): LabProcess;
}

/** Owner of hosts' processes and cleanup actions; implemented by topologies. */
export interface ProcessOwner {
  adopt(proc: LabProcess): void;
  onDestroy(fn: () => Promise<void>): void;
  readonly destroyed: boolean;
}

/** Parameters of a host: what createPair / createLan learned when building it. */
export interface HostInfo {
  ns: string;
  ifname: string;
  ipv4: string;
  ipv6: string;
  ipv4PrefixLength: number;
  ipv6PrefixLength: number;
  mac: string;
  ifindex: number;
}

/** The {@link LabHost} implementation: every command runs under `ip netns exec NS`. */
export class NamespaceHost implements LabHost {
  readonly ns: string;
  readonly ifname: string;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly ipv4PrefixLength: number;
  readonly ipv6PrefixLength: number;
  readonly mac: string;
  readonly ifindex: number;

  constructor(
    info: HostInfo,
    private readonly owner: ProcessOwner,
  ) {
    this.ns = info.ns;
    this.ifname = info.ifname;
    this.ipv4 = info.ipv4;
    this.ipv6 = info.ipv6;
    this.ipv4PrefixLength = info.ipv4PrefixLength;
    this.ipv6PrefixLength = info.ipv6PrefixLength;
    this.mac = info.mac;
    this.ifindex = info.ifindex;
  }

  exec(cmd: string, args: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    return execCommand('ip', ['netns', 'exec', this.ns, cmd, ...args], opts);
  }

  async run(cmd: string, args: string[] = [], opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(cmd, args, opts);
    if (r.code !== 0) throw new LabCommandError(`${formatCommand(cmd, args)} (in netns ${this.ns})`, r);
    return r.stdout;
  }

  /** Run `fn` when this host's topology is destroyed (before its processes are killed). */
  onDestroy(fn: () => Promise<void>): void {
    this.owner.onDestroy(fn);
  }

  spawn(cmd: string, args: string[] = [], opts: SpawnOptions = {}): LabProcess {
    return this.start(cmd, args, opts, false);
  }

  fork(script: string, args: string[] = [], opts: SpawnOptions = {}): LabProcess {
    return this.start(process.execPath, [script, ...args], opts, true);
  }

  private start(cmd: string, args: string[], opts: SpawnOptions, ipc: boolean): LabProcess {
    if (this.owner.destroyed) throw new Error(`lab: cannot start ${cmd} in ${this.ns}: topology destroyed`);
    const child = spawn('ip', ['netns', 'exec', this.ns, cmd, ...args], {
      stdio: ipc ? ['pipe', 'pipe', 'pipe', 'ipc'] : ['pipe', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      cwd: opts.cwd,
    });
    child.stdin?.on('error', () => {});
    const proc = wrapProcess(child, `${formatCommand(cmd, args)} (in netns ${this.ns})`);
    this.owner.adopt(proc);
    return proc;
  }
}
