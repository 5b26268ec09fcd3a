import type { ChildProcess } from 'node:child_process';
import { tail } from './command.js';
import { trackPid, untrackPid } from './registry.js';

/** A long-running process the lab started (in a namespace), tracked and killed by PID on destroy. */
export interface LabProcess {
  /** PID of the process itself (`ip netns exec` execs the command, so this is the command's PID). */
  readonly pid: number;
  /** The underlying Node child process. */
  readonly child: ChildProcess;
  /** A short description (the command line) used in error messages. */
  readonly description: string;
  /** Everything written to stdout so far (the last 1 MiB). */
  stdout(): string;
  /** Everything written to stderr so far (the last 1 MiB). */
  stderr(): string;
  /** Exit code once exited (null when killed by a signal); undefined while running. */
  exitCode(): number | null | undefined;
  /** Send a message over the IPC channel (processes started with `fork` only). */
  send(msg: unknown): void;
  /**
   * Resolve with the first IPC message matching `pred` that an earlier waitMessage did not already return, including
   * messages that arrived before the call. Rejects on timeout (default 10 s) or when the process exits first; the
   * error carries the child's stderr.
   */
  // biome-ignore lint/suspicious/noExplicitAny: messages are whatever the child sends
  waitMessage(pred?: (m: any) => boolean, timeoutMs?: number): Promise<any>;
  /** All IPC messages received so far. */
  messages(): unknown[];
  /**
   * Resolve when stdout or stderr (collected so far or later) matches `re`. Rejects on timeout (default 10 s) or
   * when the process exits first, with its stderr in the message.
   */
  waitOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolve when the process has exited (with its code), or reject after `timeoutMs` (default 10 s). */
  waitExit(timeoutMs?: number): Promise<number | null>;
  /** Send `signal` (default SIGTERM), then SIGKILL after 3 s; resolves once the process is gone. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Send a signal by PID, e.g. SIGSTOP / SIGCONT / SIGKILL. No-op once exited. */
  kill(signal: NodeJS.Signals): void;
}

const MAX_OUTPUT = 1 << 20;

/** Wrap a spawned child as a tracked {@link LabProcess}. `onGone` runs once when it has exited. */
export function wrapProcess(child: ChildProcess, description: string, onGone?: () => void): LabProcess {
  if (child.pid === undefined) throw new Error(`lab: ${description} did not start`);
  const pid = child.pid;
  trackPid(pid);
  let out = '';
  let err = '';
  let exited: number | null | undefined;
  let spawnError: Error | undefined;
  const messages: unknown[] = [];
  const consumed = new Set<number>();
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.length > MAX_OUTPUT) out = out.slice(out.length - MAX_OUTPUT);
    notify();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > MAX_OUTPUT) err = err.slice(err.length - MAX_OUTPUT);
    notify();
  });
  child.on('message', (m) => {
    messages.push(m);
    notify();
  });
  child.on('error', (e) => {
    spawnError = e;
    notify();
  });
  const exitPromise = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      exited = code;
      untrackPid(pid);
      onGone?.();
      resolve(code);
      notify();
    });
  });

  const failure = (what: string) =>
    new Error(
      `lab: ${what} (${description}, pid ${pid}${exited !== undefined ? `, exited with ${exited}` : ''})` +
        `${spawnError ? `\nspawn error: ${spawnError.message}` : ''}\n--- stderr ---\n${tail(err, 4000)}` +
        `\n--- stdout ---\n${tail(out, 2000)}`,
    );

  /** Resolve when `check` returns a value; reject on timeout or exit. */
  function waitFor<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const first = check();
      if (first !== undefined) return resolve(first);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      const listener = () => {
        const v = check();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (exited !== undefined || spawnError) {
          done();
          reject(failure(`process ended while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(failure(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      listeners.add(listener);
      if (exited !== undefined) listener();
    });
  }

  let stopping: Promise<void> | undefined;
  const proc: LabProcess = {
    pid,
    child,
    description,
    stdout: () => out,
    stderr: () => err,
    exitCode: () => exited,
    messages: () => [...messages],
    send(msg) {
      if (!child.send) throw new Error(`lab: ${description} has no IPC channel (start it with fork())`);
      child.send(msg as never);
    },
    waitMessage(pred = () => true, timeoutMs = 10_000) {
      return waitFor(
        () => {
          for (let i = 0; i < messages.length; i++) {
            if (!consumed.has(i) && pred(messages[i])) {
              consumed.add(i);
              return { m: messages[i] };
            }
          }
          return undefined;
        },
        'an IPC message',
        timeoutMs,
      ).then((x) => x.m);
    },
    waitOutput(re, timeoutMs = 10_000) {
      return waitFor(() => out.match(re) ?? err.match(re) ?? undefined, `output matching ${re}`, timeoutMs);
    },
    waitExit(timeoutMs = 10_000) {
      if (exited !== undefined) return Promise.resolve(exited);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(failure(`did not exit within ${timeoutMs} ms`)), timeoutMs);
        exitPromise.then((c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
    },
    kill(signal) {
      if (exited !== undefined) return;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    },
    stop(signal = 'SIGTERM') {
      if (exited !== undefined) return Promise.resolve();
      stopping ??= (async () => {
        proc.kill('SIGCONT'); // a stopped process cannot handle SIGTERM
        proc.kill(signal);
        const killer = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exitPromise;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
  return proc;
}
