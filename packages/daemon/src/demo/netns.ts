import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Outcome of a finished command (code null when it was killed, e.g. by its timeout). */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, SIGKILLed after `timeoutMs`; never rejects unless it cannot be spawned. */
export function runCommand(
  file: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Like {@link runCommand} but throws with the command's stderr unless it exits 0; resolves with stdout. */
export async function mustRun(file: string, args: readonly string[], opts: { input?: string } = {}): Promise<string> {
  const r = await runCommand(file, args, opts);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** A long-running process started in a namespace (`ip netns exec` execs it, so `pid` is the command's own). */
export interface NetnsProcess {
  readonly pid: number;
  readonly name: string;
  readonly child: ChildProcess;
  /** The last 256 KiB of stdout + stderr. */
  output(): string;
  /** True once it has exited. */
  exited(): boolean;
  /** Resolves when it has exited. */
  readonly gone: Promise<void>;
}

/**
 * Throw-away network namespaces and the processes in them. Names share one unique stem per cluster; `destroy()` kills
 * the processes by PID (SIGTERM, SIGKILL after 2 s) and deletes the namespaces, and `destroySync()` does the same
 * synchronously for exit handlers. Nothing outside the namespaces is touched.
 */
export class NetnsCluster {
  /** e.g. `ingot-demo-1k3z9f2a`. */
  readonly stem: string;
  readonly namespaces: string[] = [];
  private readonly processes = new Set<NetnsProcess>();
  private destroying: Promise<string[]> | undefined;

  constructor(tag: string) {
    this.stem = `${tag}-${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
  }

  /** `<stem>-<role>`. */
  name(role: string): string {
    return `${this.stem}-${role}`;
  }

  /** Creates namespace `<stem>-<role>` with lo up; returns its name. */
  async addNamespace(role: string): Promise<string> {
    if (this.destroying) throw new Error('cluster already destroyed');
    const ns = this.name(role);
    await mustRun('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await mustRun('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Sets sysctls inside `ns` (writes /proc/sys through `ip netns exec`, so no sysctl binary is needed). */
  async sysctl(ns: string, settings: string[]): Promise<void> {
    const script = settings
      .map((s) => {
        const [key, value] = s.split('=');
        return `echo ${value} > /proc/sys/${key?.replace(/\./g, '/')}`;
      })
      .join(' && ');
    await mustRun('ip', ['netns', 'exec', ns, 'sh', '-c', script]);
  }

  /** Runs `ip -n ns -batch -` with these lines. */
  async ipBatch(ns: string, lines: string[]): Promise<void> {
    await mustRun('ip', ['-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
  }

  /** Runs a command in `ns` to completion. */
  exec(ns: string, cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}) {
    return runCommand('ip', ['netns', 'exec', ns, cmd, ...args], opts);
  }

  /** Starts a long-running process in `ns`, tracked for {@link destroy} (stdin a pipe with `stdin: true`). */
  spawn(ns: string, name: string, cmd: string, args: string[], opts: { stdin?: boolean } = {}): NetnsProcess {
    if (this.destroying) throw new Error('cluster already destroyed');
    // Own process group: a Ctrl-C on the terminal reaches only the demo, which then stops everything in order.
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdin?.on('error', () => {});
    if (child.pid === undefined) throw new Error(`cannot start ${name}`);
    const pid = child.pid;
    let out = '';
    let done = false;
    const collect = (d: Buffer) => {
      out += d.toString();
      if (out.length > 1 << 18) out = out.slice(out.length - (1 << 18));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const gone = new Promise<void>((resolve) => {
      child.once('exit', () => {
        done = true;
        resolve();
      });
      child.once('error', () => {
        done = true;
        resolve();
      });
    });
    const proc: NetnsProcess = { pid, name, child, output: () => out, exited: () => done, gone };
    this.processes.add(proc);
    void gone.then(() => this.processes.delete(proc));
    return proc;
  }

  /** Sends `signal` to a process of this cluster, by its PID. */
  kill(proc: NetnsProcess, signal: NodeJS.Signals): void {
    if (proc.exited()) return;
    try {
      process.kill(proc.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Processes still running. */
  running(): NetnsProcess[] {
    return [...this.processes];
  }

  /** Stops every process (SIGTERM, then SIGKILL after 2 s) and deletes the namespaces. Returns what failed. */
  destroy(): Promise<string[]> {
    this.destroying ??= (async () => {
      const procs = [...this.processes];
      for (const p of procs) this.kill(p, 'SIGTERM');
      const killer = setTimeout(() => {
        for (const p of procs) this.kill(p, 'SIGKILL');
      }, 2000);
      await Promise.all(procs.map((p) => p.gone));
      clearTimeout(killer);
      const errors: string[] = [];
      for (const ns of this.namespaces.splice(0).reverse()) {
        const r = await runCommand('ip', ['netns', 'del', ns]);
        if (r.code !== 0 && !/No such file/.test(r.stderr)) errors.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
      }
      return errors;
    })();
    return this.destroying;
  }

  /** Synchronous last resort (process 'exit'): SIGKILL every process, delete every namespace. */
  destroySync(): void {
    for (const p of this.processes) this.kill(p, 'SIGKILL');
    for (const ns of this.namespaces.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
      } catch {
        // best effort
      }
    }
  }
}
