import { describe, expect, it } from 'vitest';
import { errno, errnoName, LINUX, libc, loadKoffi } from '../src/libc.js';

describe.skipIf(process.platform !== 'linux')('the libc binding', () => {
  it('loads koffi and libc once and calls into it', () => {
    expect(loadKoffi()).toBe(loadKoffi());
    expect(libc()).toBe(libc());
    const close = libc().func('int close(int)') as (fd: number) => number;
    expect(close(-1)).toBe(-1);
    expect(errnoName(errno())).toBe('EBADF');
  });

  it('names errno values', () => {
    expect(errnoName(1)).toBe('EPERM');
    expect(errnoName(13)).toBe('EACCES');
    expect(errnoName(99_999)).toBe('errno 99999');
  });

  it('opens a socket with the shared constants', () => {
    const socket = libc().func('int socket(int, int, int)') as (d: number, t: number, p: number) => number;
    const close = libc().func('int close(int)') as (fd: number) => number;
    const fd = socket(LINUX.AF_INET, LINUX.SOCK_DGRAM | LINUX.SOCK_CLOEXEC, 0);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(close(fd)).toBe(0);
  });
});
