import { spawn } from 'node:child_process';
import { trackPid, untrackPid } from './registry.js';

/** Result of a finished command: exit code (null when killed by a signal), collected output. */
export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link execCommand}. */
export interface ExecOptions {
  /** Kill the command with SIGKILL after this many milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Extra environment variables, merged over process.env. */
  env?: Record<string, string>;
}

/** A command that exited non-zero (or timed out); the message carries the command line and its stderr. */
export class LabCommandError extends Error {
  override readonly name = 'LabCommandError';
  constructor(
    readonly commandLine: string,
    readonly result: ExecResult,
    detail?: string,
  ) {
    super(
      `lab command failed (${result.code === null ? 'killed' : `exit ${result.code}`})${detail ? `, ${detail}` : ''}: ` +
        `${commandLine}\n${tail(result.stderr || result.stdout, 4000)}`,
    );
  }
}

const recent: string[] = [];

/** The last commands the lab ran (newest last), for failure reports. */
export function recentCommands(): readonly string[] {
  return recent;
}

/** Quote an argv for display in logs and error messages. */
export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The last `max` characters of `text`, prefixed with an ellipsis when cut. */
export function tail(text: string, max: number): string {
  return text.length <= max ? text : `...${text.slice(text.length - max)}`;
}

/**
 * Run a command to completion. Resolves with its output whatever its exit code; rejects only when it cannot be
 * spawned. A command still running after `timeoutMs` is killed with SIGKILL and resolves with code null.
 */
export function execCommand(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const line = formatCommand(file, args);
  recent.push(line);
  if (recent.length > 50) recent.shift();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
    });
    // Tracked so a command still running when the process exits is killed with everything else.
    const pid = child.pid;
    if (pid !== undefined) trackPid(pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`lab: cannot spawn ${line}: ${e.message}`));
    });
    child.on('exit', () => {
      if (pid !== undefined) untrackPid(pid);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      let stderr = Buffer.concat(err).toString();
      if (timedOut) stderr += `\n[lab] killed after ${timeoutMs} ms timeout`;
      resolve({ code: timedOut ? null : code, stdout: Buffer.concat(out).toString(), stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Like {@link execCommand} but throws a {@link LabCommandError} unless the command exits 0; returns stdout. */
export async function runCommand(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  const r = await execCommand(file, args, opts);
  if (r.code !== 0) throw new LabCommandError(formatCommand(file, args), r);
  return r.stdout;
}

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Thrown by a {@link pollUntil} probe to stop polling at once (the condition can no longer become true). */
export class PollAbort extends Error {
  override readonly name = 'PollAbort';
}

/**
 * Poll `probe` every `intervalMs` until it returns a value other than undefined, or throw after `timeoutMs` with
 * `describe()` (called at timeout) in the message. Errors thrown by `probe` are retried and the last one is reported,
 * except a {@link PollAbort}, which is rethrown at once.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  describe: () => Promise<string> | string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof PollAbort) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      let what: string;
      try {
        what = await describe();
      } catch (e) {
        what = `(could not describe state: ${String(e)})`;
      }
      const last = lastError
        ? `\nlast error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
        : '';
      throw new Error(`lab: timed out after ${timeoutMs} ms: ${what}${last}`);
    }
    await sleep(intervalMs);
  }
}
