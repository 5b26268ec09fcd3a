import { type Serializable, spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { EventEmitter } from 'eventemitter3';

/**
 * Where the heartbeat loop runs: `thread`, a worker thread of this process (its own event loop and V8 heap), or
 * `process`, a small Node process of its own (its own memory map and garbage collector too, so a busy, allocating
 * main process cannot hold it up; it ends when this process ends, and stays silent while this process is stopped).
 */
export type HeartbeatIsolation = 'thread' | 'process';

/** @internal What {@link HeartbeatThread} needs of the thread or process that runs the loop. */
export interface HeartbeatRunner {
  /** Sends a message to the loop. */
  postMessage(message: unknown): void;
  /** Messages from the loop. */
  onMessage(fn: (message: unknown) => void): void;
  /** The loop failed: an exception, or a process that died. */
  onError(fn: (error: Error) => void): void;
  /** The loop ended. */
  onExit(fn: () => void): void;
  /** Ends the loop at once. */
  terminate(): Promise<void>;
}

/**
 * @internal The liveness check the process loop is given: whether its parent (the daemon) is running, from the state
 * letter of `/proc/<ppid>/stat` (`T`/`t`: stopped or traced, `Z`/`X`: gone). A stopped daemon answers no ARP, so its
 * heartbeats must stop too, as a worker thread's do with the whole process. Refers to nothing outside itself.
 */
export function parentRunning(load: (id: string) => unknown): () => boolean {
  const fs = load('node:fs') as typeof import('node:fs');
  const path = `/proc/${process.ppid}/stat`;
  return () => {
    try {
      const stat = fs.readFileSync(path, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'T' && state !== 't' && state !== 'Z' && state !== 'X';
    } catch {
      return false; // no /proc entry: the parent is gone
    }
  };
}

/**
 * @internal Starts the loop. `call` is the source text of the call of the loop's main function with `load` (the module
 * loader), the codec and the watcher; the thread gets `load` from `require`, the process a shim whose
 * `node:worker_threads` is its IPC channel (parentPort) and the data sent as the first message (workerData), plus
 * {@link parentRunning} as `running`.
 */
export function startHeartbeatRunner(isolation: HeartbeatIsolation, call: string, data: object): HeartbeatRunner {
  const prelude = `"use strict";\nvar __name = (f) => f;\nvar require_ = typeof require === "function" ? require : process.getBuiltinModule("node:module").createRequire(process.cwd() + "/");\n`;
  if (isolation === 'thread') {
    const source = `${prelude}var load = require_;\nvar running = undefined;\n${call}`;
    // execArgv []: the process's own flags (a preloaded --import/--require module, e.g. an APM agent or a test load)
    // do not run in this thread: it runs its timer, its socket and nothing else.
    const worker = new Worker(source, { eval: true, workerData: data, execArgv: [] });
    return {
      postMessage: (m) => worker.postMessage(m),
      onMessage: (fn) => void worker.on('message', fn),
      onError: (fn) => void worker.on('error', fn),
      onExit: (fn) => void worker.once('exit', fn),
      terminate: async () => {
        await worker.terminate();
      },
    };
  }
  const source =
    `${prelude}process.on("disconnect", () => process.exit(0));\n` +
    `process.once("message", (data) => {\n` +
    `  var port = { postMessage: (m) => { if (process.connected) process.send(m); }, on: (e, fn) => { process.on(e, fn); }, close: () => { if (process.connected) process.disconnect(); } };\n` +
    `  var load = (id) => id === "node:worker_threads" ? { parentPort: port, workerData: data } : require_(id);\n` +
    `  var running = (${parentRunning.toString()})(load);\n` +
    `  ${call}\n});\n`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // no preloads (an APM agent, a test load) in the heartbeat process
  const child = spawn(process.execPath, ['--single-threaded-gc', '-e', source], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
    env,
  });
  const events = new EventEmitter();
  let ending = false;
  let exited = false;
  child.on('message', (m) => events.emit('message', m));
  child.on('error', (err) => events.emit('error', err));
  child.on('exit', (code, signal) => {
    exited = true;
    if (!ending && (code !== 0 || signal !== null))
      events.emit('error', new Error(`heartbeat process exited (${signal ?? `code ${code}`})`));
    events.emit('exit');
  });
  child.send(data as Serializable);
  return {
    postMessage: (m) => {
      if (child.connected) child.send(m as Serializable);
    },
    onMessage: (fn) => void events.on('message', fn),
    onError: (fn) => void events.on('error', fn),
    onExit: (fn) => void events.once('exit', fn),
    terminate: () =>
      new Promise<void>((resolve) => {
        ending = true;
        if (exited) return resolve();
        events.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
