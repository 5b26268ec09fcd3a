/**
 * Typed errors of the allocator. Messages reproduce MetalLB's texts (Go `fmt` with `%q`), so that operators see the
 * same words they saw in MetalLB's events; `code` is stable and meant for programs.
 */

/** Stable codes of {@link AllocationError}. */
export type AllocationErrorCode =
  /** An IP (or IP set) that lies in no pool, or is a buggy .0/.255 address of an `avoidBuggyIPs` pool: `%q is not allowed in config`. */
  | 'NOT_IN_CONFIG'
  /** The pool's `serviceAllocation` (namespaces, service selectors) does not admit the service. */
  | 'POOL_INCOMPATIBLE'
  /** More than two IPs requested. */
  | 'TOO_MANY_ADDRESSES'
  /** Two IPs of the same family requested. */
  | 'SAME_FAMILY'
  /** The IP is held by another service and the sharing or backend keys do not allow sharing it. */
  | 'SHARING_CONFLICT'
  /** A port/protocol pair is already used on the shared IP by another service. */
  | 'PORT_CONFLICT'
  /** No pool could satisfy an automatic allocation. */
  | 'NO_AVAILABLE_IPS'
  /** The named pool has no free (or shareable) address of the requested family. */
  | 'POOL_EXHAUSTED'
  /** The named pool does not exist. */
  | 'UNKNOWN_POOL'
  /** The service already holds IPs of another family than it now asks for. */
  | 'WRONG_FAMILY'
  /** A requested IP string is not an IP address. */
  | 'INVALID_IP'
  /** The service description is malformed (family list, policy, port). */
  | 'INVALID_SERVICE'
  /** The operation needs a current allocation that the service does not have. */
  | 'NOT_ALLOCATED';

/** Thrown by every allocator operation that cannot be carried out; the allocator's state is then unchanged. */
export class AllocationError extends Error {
  /** Always `'AllocationError'`. */
  override readonly name = 'AllocationError';
  /** Stable machine-readable reason. */
  readonly code: AllocationErrorCode;
  /**
   * Why sharing was refused, in MetalLB's `sharingOK` words (`existing service does not allow sharing`, `new service
   * does not allow sharing`, `sharing key %q does not match existing sharing key %q`, `backend key %q does not match
   * existing sharing key %q`). MetalLB computes these and drops them; we keep them here, the message is unchanged.
   */
  readonly detail: string | undefined;
  /**
   * @param code - stable reason
   * @param message - MetalLB's text for the same failure
   * @param detail - optional underlying reason
   */
  constructor(code: AllocationErrorCode, message: string, detail?: string) {
    super(message);
    this.code = code;
    this.detail = detail;
  }
}

/** Stable codes of {@link PoolValidationError}. */
export type PoolValidationErrorCode =
  /** A pool has no name. */
  | 'MISSING_NAME'
  /** Two pools share a name. */
  | 'DUPLICATE_POOL'
  /** `addresses` is empty. */
  | 'NO_ADDRESSES'
  /** An `addresses` entry is neither a CIDR nor a valid range. */
  | 'INVALID_CIDR'
  /** Two CIDRs overlap, in one pool or across pools. */
  | 'OVERLAP'
  /** A duplicate in `serviceAllocation` (namespaces, selectors, expression values). */
  | 'DUPLICATE'
  /** A label selector is malformed (operator, values). */
  | 'INVALID_SELECTOR'
  /** A field has the wrong type or an out-of-range value. */
  | 'INVALID_FIELD';

/** Thrown by {@link parsePools} and `Allocator.setPools` when the pool set is invalid; nothing is applied then. */
export class PoolValidationError extends Error {
  /** Always `'PoolValidationError'`. */
  override readonly name = 'PoolValidationError';
  /** Stable machine-readable reason. */
  readonly code: PoolValidationErrorCode;
  /** Name of the pool at fault (may be empty when the name itself is missing). */
  readonly pool: string;
  /** The field at fault, e.g. `spec.addresses[2]`. */
  readonly field: string;
  /**
   * @param code - stable reason
   * @param pool - the pool at fault
   * @param field - the field at fault
   * @param message - MetalLB's text for the same failure
   */
  constructor(code: PoolValidationErrorCode, pool: string, field: string, message: string) {
    super(message);
    this.code = code;
    this.pool = pool;
    this.field = field;
  }
}

const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

/**
 * Quotes a string the way Go's `strconv.Quote` (and `fmt`'s `%q`) does: double quotes, backslash escapes for
 * `\a \b \f \n \r \t \v \\ \"`, `\xNN` for other ASCII controls, `\uNNNN`/`\UNNNNNNNN` for non-printable code points.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) {
      out += `\\x${cp.toString(16).padStart(2, '0')}`;
    } else if (cp !== 0x20 && NON_PRINTABLE.test(ch)) {
      out += cp < 0x10000 ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`;
    } else {
      out += ch;
    }
  }
  return `${out}"`;
}

/**
 * Renders any value for an error message without ever throwing: strings as they are, primitives by `String`, other
 * values by their JSON text, falling back to their type (a hostile object, e.g. one whose `toString` is not a function,
 * must still produce the typed error it deserves rather than a `TypeError`).
 */
export function describeValue(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x === null || (typeof x !== 'object' && typeof x !== 'function')) return String(x);
  try {
    return JSON.stringify(x) ?? typeof x;
  } catch {
    return typeof x;
  }
}

/** Renders a list the way Go's `%q` renders a `[]string` or `[]net.IP`: `["a" "b"]`. */
export function goQuoteList(items: readonly string[]): string {
  return `[${items.map(goQuote).join(' ')}]`;
}
