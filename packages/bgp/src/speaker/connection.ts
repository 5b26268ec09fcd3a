/**
 * One BGP transport connection: frames and decodes the received byte stream, encodes and writes messages.
 * @module
 */

import { EventEmitter } from 'eventemitter3';
import { type BgpError, isBgpError } from '../codec/bgp-error.js';
import { encodeMessage } from '../codec/message-codec.js';
import { MessageDecoder } from '../codec/message-decoder.js';
import type { BgpMessage, CodecOptions } from '../codec/types.js';
import { unmapAddress } from './address.js';

/** The subset of `net.Socket` a connection uses, so tests can pass an in-memory duplex. */
export interface BgpSocket {
  /** Queues bytes for sending. */
  write(data: Uint8Array): boolean;
  /** Half-closes after queued bytes are sent. */
  end(): void;
  /** Closes at once. */
  destroy(error?: Error): void;
  /** Received bytes. */
  on(event: 'data', fn: (chunk: Uint8Array) => void): unknown;
  /** The transport closed. */
  on(event: 'close', fn: () => void): unknown;
  /** A transport error (followed by 'close'). */
  on(event: 'error', fn: (err: Error) => void): unknown;
  /** Batches writes until {@link BgpSocket.uncork} (optional). */
  cork?(): void;
  /** Flushes batched writes (optional). */
  uncork?(): void;
  /** Disables Nagle's algorithm (optional). */
  setNoDelay?(noDelay?: boolean): unknown;
  /** Local address of the connection. */
  readonly localAddress?: string | undefined;
  /** Remote address of the connection. */
  readonly remoteAddress?: string | undefined;
}

/** Events of {@link BgpConnection}. */
export interface BgpConnectionEvents {
  /** A whole, decoded message. */
  message: [message: BgpMessage];
  /** The byte stream could not be decoded; the connection stops reading (send the error's NOTIFICATION, then close). */
  decodeError: [error: BgpError];
  /** The transport closed (by either side), with the socket error if any. */
  close: [error?: Error];
}

/** Which side opened the TCP connection. */
export type ConnectionDirection = 'outgoing' | 'incoming';

/** A BGP message stream over one socket. */
export class BgpConnection extends EventEmitter<BgpConnectionEvents> {
  /** Stream decoder; its options are the receive-direction negotiated options. */
  readonly decoder = new MessageDecoder();
  /** Send-direction negotiated options used by {@link BgpConnection.send}. */
  sendOptions: CodecOptions = {};
  /** Messages sent. */
  messagesSent = 0;
  /** Messages received. */
  messagesReceived = 0;
  /** Octets written. */
  bytesSent = 0;
  private closed = false;
  private reading = true;
  private socketError: Error | undefined;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param socket the connected transport
   * @param direction who initiated it
   */
  constructor(
    readonly socket: BgpSocket,
    readonly direction: ConnectionDirection,
  ) {
    super();
    socket.setNoDelay?.(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => {
      this.socketError = err;
    });
    socket.on('close', () => this.onClose());
  }

  /** Local address of the connection (IPv4-mapped forms unmapped). */
  get localAddress(): string {
    return unmapAddress(this.socket.localAddress ?? '');
  }

  /** Remote address of the connection (IPv4-mapped forms unmapped). */
  get remoteAddress(): string {
    return unmapAddress(this.socket.remoteAddress ?? '');
  }

  /** Whether {@link BgpConnection.close} was called or the transport closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Encodes `message` with {@link BgpConnection.sendOptions} and writes it. Returns the encoded length. */
  send(message: BgpMessage): number {
    if (this.closed) return 0;
    const bytes = encodeMessage(message, this.sendOptions);
    this.writeRaw(bytes);
    return bytes.length;
  }

  /** Writes already-encoded message bytes (one or more whole messages). */
  writeRaw(bytes: Uint8Array, messages = 1): void {
    if (this.closed) return;
    this.messagesSent += messages;
    this.bytesSent += bytes.length;
    this.socket.write(bytes);
  }

  /** Batches writes until {@link BgpConnection.uncork}. */
  cork(): void {
    this.socket.cork?.();
  }

  /** Flushes writes batched since {@link BgpConnection.cork}. */
  uncork(): void {
    this.socket.uncork?.();
  }

  /** Stops reading and closes the connection after pending writes (a NOTIFICATION) are flushed. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reading = false;
    try {
      this.socket.end();
    } catch {
      // already gone
    }
    // Do not wait forever for the peer's FIN.
    this.closeTimer = setTimeout(() => this.socket.destroy(), 2000);
    this.closeTimer.unref?.();
  }

  /** Closes at once, discarding unsent data. */
  destroy(): void {
    this.closed = true;
    this.reading = false;
    this.socket.destroy();
  }

  private onData(chunk: Uint8Array): void {
    if (!this.reading) return;
    try {
      this.decoder.push(chunk);
      for (;;) {
        if (!this.reading) return;
        const m = this.decoder.next();
        if (m === null) return;
        this.messagesReceived++;
        this.emit('message', m);
      }
    } catch (err) {
      if (!isBgpError(err)) throw err;
      this.reading = false;
      this.emit('decodeError', err);
    }
  }

  private onClose(): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closed = true;
    this.reading = false;
    this.emit('close', this.socketError);
  }
}
