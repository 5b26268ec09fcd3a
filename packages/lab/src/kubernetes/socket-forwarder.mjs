// Runs inside a lab namespace: forwards each Unix socket given as `SOCKET=HOST:PORT` to that TCP address in the
// namespace, so the test process (in the root namespace) reaches servers on the namespace's loopback. A Unix socket is
// a file, which every namespace sees. Sends {ready: true} over IPC once every socket listens.
import { rmSync } from 'node:fs';
import net from 'node:net';

const servers = process.argv.slice(2).map((arg) => {
  const m = /^(.+)=(.+):(\d+)$/.exec(arg);
  if (!m) throw new Error(`socket-forwarder: bad argument ${arg} (want SOCKET=HOST:PORT)`);
  const [, socketPath, host, port] = m;
  rmSync(socketPath, { force: true });
  const server = net.createServer((down) => {
    const up = net.connect(Number(port), host);
    down.pipe(up).pipe(down);
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
});

Promise.all(servers).then(
  () => process.send?.({ ready: true }),
  (e) => {
    console.error(`socket-forwarder: ${e.message}`);
    process.exit(1);
  },
);
process.on('disconnect', () => process.exit(0));
