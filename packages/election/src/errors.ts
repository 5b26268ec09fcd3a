import { CodecError as BaseCodecError } from '@ingot/net';

/** Reason codes carried by {@link CodecError}. */
export type CodecErrorCode =
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'unknown-type'
  | 'bad-length'
  | 'bad-utf8'
  | 'bad-address'
  | 'bad-state'
  | 'bad-value'
  | 'too-large'
  | 'trailing-bytes'
  | 'bad-checksum'
  | 'bad-label'
  | 'unauthenticated';

/**
 * Thrown by every decoder and encoder of the wire format. `code` says what was wrong, `offset` where (in bytes from the
 * start of the buffer handed to the decoder). Decoders throw nothing else. A subclass of `@ingot/net`'s `CodecError`,
 * the base of every @ingot codec's error.
 */
export class CodecError extends BaseCodecError<CodecErrorCode> {
  override readonly name = 'CodecError';
}

/** Thrown when a membership option is invalid: `field` names the option, `reason` says why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /**
   * @param field - the option name, e.g. `probeTimeoutMs`
   * @param reason - why it was rejected
   */
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`invalid option ${field}: ${reason}`);
  }
}

/** Thrown by `Membership.join()` when no seed could be contacted; `causes` holds one error per seed. */
export class JoinError extends Error {
  override readonly name = 'JoinError';
  /**
   * @param message - summary
   * @param causes - per-seed failures
   */
  constructor(
    message: string,
    readonly causes: Error[],
  ) {
    super(message);
  }
}
