import { errno, errnoName, lib, POLL } from './linux-packet-socket.js';

/**
 * @internal One koffi async `poll()` on a libuv worker thread watching every registered fd plus an eventfd used to
 * wake it. When fds become readable the main thread runs their callbacks (which drain with non-blocking `recv`), then
 * re-arms. One worker thread serves all transports, whatever their number, so the libuv thread pool is never
 * exhausted by idle interfaces.
 */
class PollReactor {
  private readonly watched = new Map<number, () => void>();
  private wakeFd = -1;
  private inFlight = false;
  private readonly afterPoll: Array<() => void> = [];

  add(fd: number, onReadable: () => void): void {
    this.watched.set(fd, onReadable);
    if (this.inFlight) this.wake();
    else this.arm();
  }

  /** Stops watching `fd`; resolves once no worker poll references it any more (then it is safe to close). */
  remove(fd: number): Promise<void> {
    this.watched.delete(fd);
    if (!this.inFlight) return Promise.resolve();
    return new Promise((resolve) => {
      this.afterPoll.push(resolve);
      this.wake();
    });
  }

  private wake(): void {
    if (this.wakeFd >= 0) lib().write(this.wakeFd, new Uint8Array(new BigUint64Array([1n]).buffer), 8);
  }

  private arm(): void {
    if (this.watched.size === 0) {
      if (this.wakeFd >= 0) {
        lib().close(this.wakeFd);
        this.wakeFd = -1;
      }
      return;
    }
    const c = lib();
    if (this.wakeFd < 0) {
      this.wakeFd = c.eventfd(0, POLL.EFD_NONBLOCK | POLL.EFD_CLOEXEC);
      if (this.wakeFd < 0) throw new Error(`eventfd: ${errnoName(errno())}`);
    }
    const fds = [this.wakeFd, ...this.watched.keys()];
    const pfd = new Uint8Array(8 * fds.length);
    const dv = new DataView(pfd.buffer);
    fds.forEach((fd, i) => {
      dv.setInt32(i * 8, fd, true);
      dv.setInt16(i * 8 + 4, POLL.POLLIN, true);
    });
    this.inFlight = true;
    c.poll.async(pfd, fds.length, 1000, (_err, n) => {
      this.inFlight = false;
      for (const done of this.afterPoll.splice(0)) done();
      if (n > 0) {
        if (dv.getInt16(6, true) !== 0) c.read(this.wakeFd, new Uint8Array(8), 8);
        for (let i = 1; i < fds.length; i++) {
          if (dv.getInt16(i * 8 + 6, true) === 0) continue;
          const cb = this.watched.get(fds[i]!);
          if (cb) cb();
        }
      }
      this.arm();
    });
  }
}

/** @internal The process-wide reactor. */
export const pollReactor = new PollReactor();
