import { CodecError, decodeFrame, ETHERTYPE_ARP, ETHERTYPE_IPV6 } from '@ingot/arp';
import {
  type AddPathFamilies,
  type BgpMessage,
  type CodecOptions,
  decodeMessage,
  decodeShutdownCommunication,
  HEADER_LENGTH,
  isBgpError,
} from '@ingot/bgp/codec';

/** Where {@link decodeCommand} reads and writes: injected so tests (and other front ends) need no process. */
export interface DecodeIo {
  /** The whole standard input, read when the HEX argument is `-`. */
  stdin: () => Promise<string>;
  /** Writes to standard output (the text carries its own newlines). */
  out: (s: string) => void;
  /** Writes to standard error (the text carries its own newlines). */
  err: (s: string) => void;
}

const USAGE = `usage: ingot decode bgp|arp|ndp [options] HEX...|-

Decodes BGP messages (one or several, concatenated) or an Ethernet frame carrying ARP or an IPv6 Neighbor
Solicitation/Advertisement, and prints each message as JSON (bytes as hex strings) under a # heading line with its
offset and length. HEX may contain spaces, newlines, colons, commas and 0x prefixes (and tcpdump -xx line offsets),
and may be split over several arguments; - reads it from standard input.

options:
  --json                  print only JSON: for bgp an array of { offset, length, note?, message }, for arp/ndp the
                          frame (without the # heading lines)

bgp options (what the session negotiated; they change how UPDATEs decode):
  --as4 / --no-as4        AS_PATH and AGGREGATOR carry 4-octet / 2-octet AS numbers. Default: what the OPENs in the
                          input settle (2-octet after an OPEN without the 4-octet AS capability, 4-octet after two
                          with it), else 4-octet, retrying with 2-octet an UPDATE whose AS_PATH is then malformed
  --add-path[=FAMILIES]   NLRI carry RFC 7911 path identifiers: ipv4, ipv6 or ipv4,ipv6 (default both)
  --extended              extended messages (RFC 8654): up to 65535 octets
  --internal              the sender is an iBGP peer (RFC 7606 rules that depend on it apply)

exit status: 0 decoded, 1 the input does not decode (the error is printed with its NOTIFICATION or codec code),
2 usage error
`;

/** Names of NOTIFICATION error codes and subcodes (IANA "BGP Error (Notification) Codes" and subcode registries). */
const ERROR_NAMES: Record<number, { name: string; subcodes: Record<number, string> }> = {
  1: {
    name: 'Message Header Error',
    subcodes: { 0: 'Unspecific', 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  },
  2: {
    name: 'OPEN Message Error',
    subcodes: {
      0: 'Unspecific',
      1: 'Unsupported Version Number',
      2: 'Bad Peer AS',
      3: 'Bad BGP Identifier',
      4: 'Unsupported Optional Parameter',
      5: 'Authentication Failure (deprecated)',
      6: 'Unacceptable Hold Time',
      7: 'Unsupported Capability',
      11: 'Role Mismatch',
    },
  },
  3: {
    name: 'UPDATE Message Error',
    subcodes: {
      0: 'Unspecific',
      1: 'Malformed Attribute List',
      2: 'Unrecognized Well-known Attribute',
      3: 'Missing Well-known Attribute',
      4: 'Attribute Flags Error',
      5: 'Attribute Length Error',
      6: 'Invalid ORIGIN Attribute',
      7: 'AS Routing Loop (deprecated)',
      8: 'Invalid NEXT_HOP Attribute',
      9: 'Optional Attribute Error',
      10: 'Invalid Network Field',
      11: 'Malformed AS_PATH',
    },
  },
  4: { name: 'Hold Timer Expired', subcodes: { 0: 'Unspecific' } },
  5: {
    name: 'Finite State Machine Error',
    subcodes: {
      0: 'Unspecified Error',
      1: 'Receive Unexpected Message in OpenSent State',
      2: 'Receive Unexpected Message in OpenConfirm State',
      3: 'Receive Unexpected Message in Established State',
    },
  },
  6: {
    name: 'Cease',
    subcodes: {
      0: 'Unspecific',
      1: 'Maximum Number of Prefixes Reached',
      2: 'Administrative Shutdown',
      3: 'Peer De-configured',
      4: 'Administrative Reset',
      5: 'Connection Rejected',
      6: 'Other Configuration Change',
      7: 'Connection Collision Resolution',
      8: 'Out of Resources',
      9: 'Hard Reset',
      10: 'BFD Down',
    },
  },
  7: { name: 'ROUTE-REFRESH Message Error', subcodes: { 0: 'Unspecific', 1: 'Invalid Message Length' } },
};

/**
 * The IANA names of a NOTIFICATION error code and subcode, e.g. `Message Header Error / Bad Message Length`; unknown
 * values are shown as numbers.
 */
export function notificationName(code: number, subcode: number): string {
  const c = ERROR_NAMES[code];
  if (!c) return `unknown error code ${code} / subcode ${subcode}`;
  return `${c.name} / ${c.subcodes[subcode] ?? `unknown subcode ${subcode}`}`;
}

const MESSAGE_TYPE_NAMES: Record<BgpMessage['type'], string> = {
  open: 'OPEN',
  update: 'UPDATE',
  notification: 'NOTIFICATION',
  keepalive: 'KEEPALIVE',
  'route-refresh': 'ROUTE-REFRESH',
};

/** The offset column of `tcpdump -x` / `-xx` output: `0x0010:` and two spaces at the start of a line. */
const TCPDUMP_OFFSET = /^[ \t]*0x[0-9a-f]{4,}:[ \t]{2}/gim;

/**
 * Parses hex text as people paste it: whitespace, newlines, `:` and `,` separate (or not) the digits, and each group may
 * carry a `0x` prefix (`ff ff`, `ff:ff`, `0xff,0xff`, `ffff`). The offsets that start the lines of `tcpdump -x` output
 * (`\t0x0010:  ffff ...`) are dropped.
 * @throws Error naming the first character that is not a hex digit, or an odd digit count.
 */
export function parseHex(text: string): Uint8Array {
  let digits = '';
  for (const token of text.replace(TCPDUMP_OFFSET, '').split(/[\s:,]+/)) {
    if (token === '') continue;
    const t = /^0x/i.test(token) ? token.slice(2) : token;
    const bad = /[^0-9a-fA-F]/.exec(t);
    if (bad) throw new Error(`invalid hex: unexpected character ${JSON.stringify(bad[0])} in ${JSON.stringify(token)}`);
    digits += t;
  }
  if (digits.length === 0) throw new Error('invalid hex: no hex digits in the input');
  if (digits.length % 2 !== 0) throw new Error(`invalid hex: odd number of hex digits (${digits.length})`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function isPlain(v: unknown): boolean {
  return v === null || typeof v !== 'object' || v instanceof Uint8Array;
}

function renderScalar(v: unknown): string {
  if (v instanceof Uint8Array) return JSON.stringify(toHex(v));
  if (typeof v === 'bigint') return v.toString();
  if (v === undefined) return 'null';
  return JSON.stringify(v);
}

/** Nesting depth of a value: 0 for scalars (and bytes), 1 for a list or object of scalars, and so on. */
function depth(v: unknown): number {
  if (isPlain(v)) return 0;
  const items = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
  return 1 + items.reduce<number>((max, x) => Math.max(max, depth(x)), 0);
}

function oneLine(v: unknown): string {
  if (isPlain(v)) return renderScalar(v);
  if (Array.isArray(v)) return `[${v.map(oneLine).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${oneLine(x)}`).join(', ')} }`;
}

/**
 * Renders a decoded value as indented JSON text that stays readable: bytes as hex strings, bigints as exact numbers,
 * small nested lists and objects on one line when they fit, `undefined` fields left out. The result is valid JSON.
 */
export function renderValue(value: unknown, indent = ''): string {
  if (isPlain(value)) return renderScalar(value);
  // nested values print on one line when they fit and are shallow (a message itself only when it is flat)
  if (depth(value) <= (indent === '' ? 1 : 3)) {
    const line = oneLine(value);
    if (indent.length + line.length <= 100) return line;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => `${inner}${renderValue(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${renderValue(v, inner)}`).join(',\n')}\n${indent}}`;
}

interface BgpFlags {
  as4: boolean | undefined;
  addPath: AddPathFamilies;
  extended: boolean;
  internal: boolean;
  json: boolean;
}

/** Parses argv after `decode`; returns the protocol, its flags and the hex words, or a usage error text. */
function parseArgs(
  args: readonly string[],
): { protocol: 'bgp' | 'arp' | 'ndp'; flags: BgpFlags; hex: string[] } | { usage: string } {
  const [protocol, ...rest] = args;
  if (protocol === undefined || protocol === '--help' || protocol === '-h') return { usage: '' };
  if (protocol !== 'bgp' && protocol !== 'arp' && protocol !== 'ndp')
    return { usage: `unknown protocol ${JSON.stringify(protocol)} (expected bgp, arp or ndp)` };
  const flags: BgpFlags = { as4: undefined, addPath: {}, extended: false, internal: false, json: false };
  const hex: string[] = [];
  for (const arg of rest) {
    if (arg === '-' || !arg.startsWith('--')) {
      hex.push(arg);
      continue;
    }
    if (arg === '--json') {
      flags.json = true;
      continue;
    }
    if (protocol !== 'bgp') return { usage: `unknown option ${arg} for ${protocol}` };
    const [name, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg];
    if (name === '--as4' && value === undefined) flags.as4 = true;
    else if (name === '--no-as4' && value === undefined) flags.as4 = false;
    else if (name === '--extended' && value === undefined) flags.extended = true;
    else if (name === '--internal' && value === undefined) flags.internal = true;
    else if (name === '--add-path') {
      for (const family of (value ?? 'ipv4,ipv6').split(',')) {
        if (family === 'ipv4') flags.addPath.ipv4Unicast = true;
        else if (family === 'ipv6') flags.addPath.ipv6Unicast = true;
        else return { usage: `--add-path: unknown family ${JSON.stringify(family)} (expected ipv4, ipv6)` };
      }
    } else return { usage: `unknown option ${arg}` };
  }
  if (hex.length === 0) return { usage: 'missing HEX (or - to read standard input)' };
  if (hex.includes('-') && hex.length > 1) return { usage: '- (standard input) cannot be combined with HEX' };
  return { protocol, flags, hex };
}

/**
 * `ingot decode bgp|arp|ndp HEX|-`: decodes BGP messages or an ARP/NDP Ethernet frame for protocol debugging and
 * prints them as JSON (see the usage text for options).
 * @param args - the arguments after `decode`, e.g. `['bgp', '--no-as4', 'ffff…']`
 * @returns the exit code: 0 decoded, 1 malformed input (the error is printed), 2 usage error
 */
export async function decodeCommand(args: string[], io: DecodeIo): Promise<number> {
  const parsed = parseArgs(args);
  if ('usage' in parsed) {
    if (parsed.usage === '' && args.length > 0) {
      io.out(USAGE);
      return 0;
    }
    if (parsed.usage === '') {
      io.err(USAGE);
      return 2;
    }
    io.err(`ingot decode: ${parsed.usage}\n${USAGE}`);
    return 2;
  }
  const text = parsed.hex[0] === '-' ? await io.stdin() : parsed.hex.join(' ');
  let bytes: Uint8Array;
  try {
    bytes = parseHex(text);
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n`);
    return 1;
  }
  if (parsed.protocol === 'bgp') return decodeBgp(bytes, parsed.flags, io);
  return decodeLayer2(bytes, parsed.protocol, parsed.flags.json, io);
}

function codecOptions(flags: BgpFlags, fourOctetAs: boolean): CodecOptions {
  return {
    fourOctetAs,
    extendedMessages: flags.extended,
    addPath: flags.addPath,
    ...(flags.internal ? { internal: true } : {}),
  };
}

/** True when the UPDATE came back treat-as-withdraw because of its AS_PATH (type 2) or AGGREGATOR (type 7). */
function asWidthSuspect(m: BgpMessage): boolean {
  return (
    m.type === 'update' &&
    m.malformed !== undefined &&
    m.malformed.errors.some((e) => e.attributeType === 2 || e.attributeType === 7)
  );
}

function decodeBgp(bytes: Uint8Array, flags: BgpFlags, io: DecodeIo): number {
  let offset = 0;
  let index = 0;
  let as4 = flags.as4;
  const opens: boolean[] = [];
  const entries: unknown[] = [];
  const flush = () => {
    if (flags.json) io.out(`${renderValue(entries)}\n`);
  };
  while (offset < bytes.length) {
    index++;
    const length = bytes.length - offset >= HEADER_LENGTH ? (bytes[offset + 16]! << 8) | bytes[offset + 17]! : 0;
    let message: BgpMessage;
    let note: string | undefined;
    try {
      message = decodeMessage(bytes, codecOptions(flags, as4 ?? true), offset);
      if (as4 === undefined && asWidthSuspect(message)) {
        // Without a flag or two OPENs we cannot know the width: a 2-octet AS_PATH read as 4-octet is malformed, so
        // try 2-octet, and keep it when that reads cleanly.
        try {
          const narrow = decodeMessage(bytes, codecOptions(flags, false), offset);
          if (narrow.type === 'update' && narrow.malformed === undefined) {
            message = narrow;
            note = '2-octet AS numbers: read as 4-octet its AS_PATH is malformed; --as4 forces that reading';
          }
        } catch {
          // keep the 4-octet reading and its malformation report
        }
      }
    } catch (err) {
      if (!isBgpError(err)) throw err;
      io.err(
        `error: message ${index} at offset ${offset}: BGP error ${err.code}/${err.subcode} ` +
          `(${notificationName(err.code, err.subcode)}): ${err.message}` +
          `${err.data.length > 0 ? `; NOTIFICATION data ${toHex(err.data)}` : ''}\n`,
      );
      flush();
      return 1;
    }
    if (message.type === 'open' && flags.as4 === undefined) {
      // 4-octet AS numbers only when both sides advertised the capability (RFC 6793): one OPEN without it settles it
      opens.push(message.capabilities.some((c) => c.type === 'four-octet-as'));
      if (!opens.at(-1)) as4 = false;
      else if (opens.length >= 2 && opens.every(Boolean)) as4 = true;
    }
    if (flags.json) entries.push({ offset, length, ...(note ? { note } : {}), message: bgpView(message) });
    else
      io.out(
        `# message ${index} at offset ${offset}: ${MESSAGE_TYPE_NAMES[message.type]}, ${length} octets` +
          `${note ? ` (${note})` : ''}\n${renderValue(bgpView(message))}\n`,
      );
    offset += length;
  }
  flush();
  return 0;
}

/** The message with names next to the numeric NOTIFICATION codes (and RFC 9003 shutdown text) for display. */
function bgpView(message: BgpMessage): unknown {
  if (message.type === 'notification') {
    const shutdown = decodeShutdownCommunication(message);
    return {
      ...message,
      error: notificationName(message.code, message.subcode),
      ...(shutdown !== undefined ? { shutdownCommunication: shutdown } : {}),
    };
  }
  if (message.type === 'update' && message.malformed) {
    return {
      ...message,
      malformed: {
        ...message.malformed,
        errors: message.malformed.errors.map((e) => ({ ...e, error: notificationName(e.code, e.subcode) })),
      },
    };
  }
  return message;
}

const ARP_OPERATIONS: Record<number, string> = { 1: 'request', 2: 'reply' };

function etherTypeName(type: number): string {
  const hex = `0x${type.toString(16).padStart(4, '0')}`;
  if (type === ETHERTYPE_ARP) return `${hex} (ARP)`;
  if (type === ETHERTYPE_IPV6) return `${hex} (IPv6)`;
  return hex;
}

function decodeLayer2(bytes: Uint8Array, protocol: 'arp' | 'ndp', json: boolean, io: DecodeIo): number {
  let frame: ReturnType<typeof decodeFrame>;
  try {
    frame = decodeFrame(bytes);
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    io.err(`error: ${err.protocol}/${err.code}${err.offset >= 0 ? ` at byte ${err.offset}` : ''}: ${err.message}\n`);
    return 1;
  }
  if (frame.kind !== protocol) {
    io.err(
      `error: ethernet/unexpected-protocol: the frame carries ${frame.kind === 'arp' ? 'ARP' : 'IPv6 NDP'}, ` +
        `not ${protocol === 'arp' ? 'ARP' : 'IPv6 NDP'} (use \`ingot decode ${frame.kind}\`)\n`,
    );
    return 1;
  }
  const { payload, ...ethernet } = frame.ethernet;
  const header = { ...ethernet, etherType: etherTypeName(ethernet.etherType) };
  let view: unknown;
  if (frame.kind === 'arp') {
    const op = ARP_OPERATIONS[frame.arp.operation];
    const padding = payload.subarray(28);
    view = {
      ethernet: header,
      arp: { ...frame.arp, operation: op ? `${frame.arp.operation} (${op})` : frame.arp.operation },
      ...(padding.length > 0 ? { padding } : {}),
    };
  } else {
    view = { ethernet: header, ndp: frame.ndp };
  }
  const heading = json ? '' : `# ${bytes.length} octets: ${frame.kind === 'arp' ? 'ARP' : 'IPv6 NDP'}\n`;
  io.out(`${heading}${renderValue(view)}\n`);
  return 0;
}
