import { describe, expect, it, vi } from 'vitest';
import { BgpSpeaker, createTcpSocketFd } from '../../src/speaker/index.js';

// The package must load and work where koffi cannot; only the Linux socket options fail, with a clear error. koffi is
// loaded by @ingot/net/libc (with createRequire, which vi.mock does not reach): its loaders fail here as they do there
// when koffi is missing.
vi.mock('@ingot/net/libc', async (importOriginal) => {
  const real = await importOriginal<typeof import('@ingot/net/libc')>();
  const blocked = (): never => {
    throw new real.LibcUnavailableError(
      'binding libc needs the koffi module, which failed to load: blocked for this test',
    );
  };
  return { ...real, loadKoffi: blocked, libc: blocked, errno: blocked };
});

describe.runIf(process.platform === 'linux')('without koffi', () => {
  it('loads, listens and peers over plain TCP; socket options fail with SockoptError naming koffi', async () => {
    await expect(createTcpSocketFd({ family: 4 })).rejects.toMatchObject({
      name: 'SockoptError',
      message: expect.stringMatching(/koffi/),
    });
    const port = 18700 + (process.pid % 1000);
    const a = new BgpSpeaker({ asn: 65001, routerId: '127.0.0.1', listen: { host: '127.0.0.1', port } });
    const b = new BgpSpeaker({ asn: 65002, routerId: '127.0.0.2' });
    try {
      await a.listening(); // Node's own listener: the koffi one could not be created
      a.addPeer({ address: '127.0.0.2', asn: 65002, passive: true });
      const p = b.addPeer({ address: '127.0.0.1', asn: 65001, port, localAddress: '127.0.0.2' });
      const deadline = Date.now() + 5000;
      while (p.state !== 'Established' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(p.state).toBe('Established');
      const md5 = b.addPeer({
        address: '127.0.0.3',
        asn: 65003,
        password: 'x',
        backoff: { initialMs: 60_000, maxMs: 60_000 },
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(md5.state).toBe('Idle');
      expect(md5.lastError?.error?.message).toMatch(/koffi/);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
