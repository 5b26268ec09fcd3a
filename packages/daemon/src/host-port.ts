import { isIP } from 'node:net';
import type { Address } from '@ingot/election';

/** Parses `host:port` or `[v6]:port`. */
export function parseHostPort(text: string): Address {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m || isIP(m[1] as string) === 0 || Number(m[2]) > 65535)
    throw new Error(`invalid address ${JSON.stringify(text)}: expected host:port`);
  return { host: m[1] as string, port: Number(m[2]) };
}
