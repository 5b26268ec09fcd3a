import type { NotificationMessage } from './types.js';

const EMPTY = new Uint8Array(0);

/**
 * The one error type every decoder (and encoder) of this codec throws: it carries the NOTIFICATION the RFCs say to send.
 *
 * `code` and `subcode` are the NOTIFICATION Error Code and Error Subcode (see {@link ErrorCode} and the subcode tables),
 * `data` is exactly the Data field the RFC prescribes for that error (for example the bad length as 2 octets for Message
 * Header Error / Bad Message Length, or the whole erroneous attribute for UPDATE attribute errors).
 *
 * Match with `err.name === 'BgpError'` (safe across duplicate installs) or `instanceof BgpError`.
 */
export class BgpError extends Error {
  /** Always `'BgpError'`. */
  static override readonly name = 'BgpError';
  /** Always `'BgpError'`. */
  override readonly name = 'BgpError';
  /** NOTIFICATION Error Code (RFC 4271 §4.5). */
  readonly code: number;
  /** NOTIFICATION Error Subcode (RFC 4271 §4.5). */
  readonly subcode: number;
  /** NOTIFICATION Data field, exactly as the RFC prescribes for this error. */
  readonly data: Uint8Array;

  /**
   * @param code - NOTIFICATION Error Code.
   * @param subcode - NOTIFICATION Error Subcode.
   * @param data - NOTIFICATION Data (copied by reference; defaults to empty).
   * @param message - human-readable reason for logs.
   */
  constructor(code: number, subcode: number, data: Uint8Array = EMPTY, message?: string) {
    super(message ?? `BGP error ${code}/${subcode}`);
    this.code = code;
    this.subcode = subcode;
    this.data = data;
  }

  /** The NOTIFICATION message to send to the peer for this error. */
  toNotification(): NotificationMessage {
    return { type: 'notification', code: this.code, subcode: this.subcode, data: this.data };
  }
}

/** True when `err` is a {@link BgpError} (by name, so it also matches errors from another copy of this package). */
export function isBgpError(err: unknown): err is BgpError {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'BgpError';
}
