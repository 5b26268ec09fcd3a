import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLan, createPair, labSuite, useTopology } from '../../src/index.js';

const ipcEcho = fileURLToPath(new URL('./fixtures/ipc-echo.mjs', import.meta.url));

function netnsList(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
}

labSuite('lab topologies', { tools: ['ip', 'ping', 'arping', 'ndisc6'] }, () => {
  describe('pair', () => {
    const lab = useTopology(() => createPair({ name: 'topo' }));

    it('has the documented addresses, a MAC and an ifindex on each end', async () => {
      const { a, b } = lab();
      expect([a.ifname, a.ipv4, a.ipv6]).toEqual(['veth-a', '192.0.2.1', '2001:db8:0:1::1']);
      expect([b.ifname, b.ipv4, b.ipv6]).toEqual(['veth-b', '192.0.2.2', '2001:db8:0:1::2']);
      expect(a.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(a.mac).not.toBe(b.mac);
      expect(a.ifindex).toBeGreaterThan(1);
      expect(netnsList()).toEqual(expect.arrayContaining([a.ns, b.ns]));
      const addrs = JSON.parse(await a.run('ip', ['-j', 'addr', 'show', 'dev', 'veth-a']));
      const v6 = addrs[0].addr_info.find((x: { local: string }) => x.local === '2001:db8:0:1::1');
      expect(v6.tentative).toBeUndefined();
    });

    it('exec resolves with the exit code; run throws with stderr', async () => {
      const { a } = lab();
      const r = await a.exec('sh', ['-c', 'echo out; echo err >&2; exit 3']);
      expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
      await expect(a.run('sh', ['-c', 'echo boom >&2; exit 1'])).rejects.toThrow(/boom/);
      expect(await a.run('cat', [], { input: 'piped' })).toBe('piped');
      const slow = await a.exec('sleep', ['5'], { timeoutMs: 200 });
      expect(slow.code).toBeNull();
    });

    it('pings over IPv4 and IPv6', async () => {
      const { a } = lab();
      await a.run('ping', ['-c', '1', '-W', '2', '192.0.2.2']);
      await a.run('ping', ['-6', '-c', '1', '-W', '2', '2001:db8:0:1::2']);
    });

    it('arping gets answers from the neighbour kernel, carrying its MAC', async () => {
      const { a, b } = lab();
      const out = await a.run('arping', ['-I', a.ifname, '-c', '3', '-w', '5', b.ipv4]);
      expect(out).toMatch(/Received 3 response/);
      expect(out.toLowerCase()).toContain(b.mac);
    });

    it('ndisc6 resolves the neighbour kernel to its MAC', async () => {
      const { a, b } = lab();
      const out = await a.run('ndisc6', ['-1', '-r', '3', '-w', '1000', b.ipv6, a.ifname]);
      expect(out.toLowerCase()).toContain(`target link-layer address: ${b.mac}`);
    });

    it('spawn tracks a process and stop() ends it by PID', async () => {
      const { a } = lab();
      const p = a.spawn('sh', ['-c', 'echo started; exec sleep 30']);
      await p.waitOutput(/started/);
      await p.stop();
      expect(p.exitCode()).toBeNull();
      expect(() => process.kill(p.pid, 0)).toThrow();
    });

    it('fork() runs a Node script in the namespace with a working IPC channel', async () => {
      const { a } = lab();
      const child = a.fork(ipcEcho, ['x', 'y']);
      const ready = await child.waitMessage((m) => m.type === 'ready');
      expect(ready.argv).toEqual(['x', 'y']);
      child.send({ n: 42 });
      const echo = await child.waitMessage((m) => m.type === 'echo');
      expect(echo.msg).toEqual({ n: 42 });
      expect(echo.links).toContain('veth-a');
      expect(echo.links).not.toContain('veth-b');
      expect(child.stderr()).toContain('ipc-echo ready');
      child.send({ type: 'exit' });
      expect(await child.waitExit(5000)).toBe(0);
    });

    it('waitMessage times out with the child stderr in the error', async () => {
      const { a } = lab();
      const child = a.fork(ipcEcho);
      await child.waitMessage((m) => m.type === 'ready');
      await child.waitOutput(/ipc-echo ready/);
      await expect(child.waitMessage((m) => m.type === 'never', 300)).rejects.toThrow(
        /timed out after 300 ms waiting for an IPC message[\s\S]*ipc-echo ready/,
      );
      await child.stop();
    });
  });

  describe('lan', () => {
    const lab = useTopology(() => createLan(3, { name: 'lan' }));

    it('hosts reach each other and the router across the bridge', async () => {
      const { router, hosts } = lab();
      expect(router.ifname).toBe('br0');
      expect(router.ipv4).toBe('192.0.2.254');
      expect(hosts.map((h) => h.ipv4)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
      expect(hosts.map((h) => h.ipv6)).toEqual(['2001:db8:0:1::1', '2001:db8:0:1::2', '2001:db8:0:1::3']);
      const [h1, , h3] = hosts;
      await h1!.run('ping', ['-c', '1', '-W', '2', '192.0.2.254']);
      await h1!.run('ping', ['-c', '1', '-W', '2', h3!.ipv4]);
      await h3!.run('ping', ['-6', '-c', '1', '-W', '2', h1!.ipv6]);
      const out = await router.run('arping', ['-I', 'br0', '-c', '1', '-w', '3', h3!.ipv4]);
      expect(out.toLowerCase()).toContain(h3!.mac);
    });
  });

  it('destroy removes every namespace and is idempotent', async () => {
    const pair = await createPair();
    const lan = await createLan(2);
    const created = [pair.a.ns, pair.b.ns, lan.router.ns, ...lan.hosts.map((h) => h.ns)];
    expect(netnsList()).toEqual(expect.arrayContaining(created));
    const sleeper = pair.a.spawn('sleep', ['60']);
    await Promise.all([pair.destroy(), lan.destroy()]);
    await pair.destroy();
    expect(netnsList().filter((n) => created.includes(n))).toEqual([]);
    expect(sleeper.exitCode()).not.toBeUndefined();
  });
});
