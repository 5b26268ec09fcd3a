import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, sleep } from './command.js';
import type { LabHost } from './host.js';
import { trackDir } from './registry.js';

/** Options of {@link capture}. */
export interface CaptureOptions {
  /** A pcap-filter expression, e.g. 'tcp port 179' or 'arp'. */
  filter?: string;
  /** Output file (default: a fresh temp dir's capture.pcap, removed at process exit). */
  file?: string;
  /** Interface to capture on (default host.ifname). */
  ifname?: string;
  /** Snap length in bytes (default 262144). */
  snaplen?: number;
}

/** A running tcpdump. */
export interface Capture {
  /** Path of the pcap file being written. */
  readonly file: string;
  /**
   * Stop tcpdump (SIGTERM by PID) once the pcap file has stopped growing for 250 ms (at most 3 s), so frames sent
   * just before are not lost in tcpdump's socket at exit on a busy machine; resolve with the path once it is flushed.
   * Idempotent.
   */
  stop(): Promise<string>;
}

/**
 * Capture on host.ifname with `tcpdump --immediate-mode -U` (without immediate mode the tail of a capture on veth
 * is lost). The capture is ready once tcpdump reports "listening on", which `ready` waits for.
 */
export function capture(host: LabHost, opts: CaptureOptions = {}): Capture & { ready: Promise<void> } {
  let file = opts.file;
  if (!file) {
    const dir = mkdtempSync(join(tmpdir(), 'ingot-cap-'));
    trackDir(dir);
    file = join(dir, 'capture.pcap');
  }
  const args = ['--immediate-mode', '-U', '-n', '-i', opts.ifname ?? host.ifname, '-s', String(opts.snaplen ?? 262144)];
  args.push('-w', file);
  if (opts.filter) args.push(opts.filter);
  const proc = host.spawn('tcpdump', args);
  const ready = proc.waitOutput(/listening on/, 10_000).then(() => undefined);
  ready.catch(() => {});
  const path = file;
  let stopping: Promise<string> | undefined;
  return {
    file: path,
    ready,
    stop() {
      stopping ??= (async () => {
        await ready.catch(() => sleep(0));
        await settle(path);
        await proc.stop('SIGTERM');
        return path;
      })();
      return stopping;
    },
  };
}

/** Waits until `path` has kept its size for `quietMs` (tcpdump -U writes each frame as it reads it), at most `maxMs`. */
async function settle(path: string, quietMs = 250, maxMs = 3000): Promise<void> {
  const end = Date.now() + maxMs;
  let size = -1;
  let since = Date.now();
  while (Date.now() < end) {
    const now = existsSync(path) ? statSync(path).size : 0;
    if (now !== size) {
      size = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    await sleep(25);
  }
}

/**
 * Decode a pcap with `tshark -r FILE -T json [-Y FILTER]` and return the parsed packet array (each element has
 * `_source.layers`). Throws with tshark's stderr when it fails.
 */
// biome-ignore lint/suspicious/noExplicitAny: tshark's JSON is untyped
export async function tsharkJson(pcapPath: string, displayFilter?: string): Promise<any[]> {
  const args = ['-r', pcapPath, '-T', 'json'];
  if (displayFilter) args.push('-Y', displayFilter);
  const out = await runCommand('tshark', args, { timeoutMs: 60_000 });
  const text = out.trim();
  return text ? JSON.parse(text) : [];
}
