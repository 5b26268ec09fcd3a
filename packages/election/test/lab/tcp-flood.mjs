// A hostile peer for the gossip TCP port: opens N connections at once, each announcing a frame of B bytes and sending
// it in 64 KiB chunks (with back-pressure) until the server closes the connection or everything is sent. Bounded in
// count (argv) and time (15 s). Prints one JSON line: { connections, connected, bytesSent, closedByServer, ms }.
//   node tcp-flood.mjs HOST PORT CONNECTIONS BYTES
import net from 'node:net';

const [host, portText, countText, bytesText] = process.argv.slice(2);
const port = Number(portText);
const count = Math.min(200, Number(countText));
const bytes = Math.min(16 << 20, Number(bytesText));
const chunk = Buffer.alloc(64 << 10, 0x5a);
const t0 = Date.now();
let connected = 0;
let bytesSent = 0;
let closedByServer = 0;

function one() {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let left = bytes;
    let done = false;
    const finish = (byServer) => {
      if (done) return;
      done = true;
      if (byServer) closedByServer++;
      sock.destroy();
      resolve();
    };
    const pump = () => {
      while (left > 0 && !done) {
        const n = Math.min(left, chunk.length);
        left -= n;
        bytesSent += n;
        if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return; // wait for 'drain'
      }
      if (left === 0) setTimeout(() => finish(false), 2000); // all sent: hold 2 s, then close
    };
    sock.on('connect', () => {
      connected++;
      const head = Buffer.alloc(4);
      head.writeUInt32BE(bytes);
      sock.write(head);
      pump();
    });
    sock.on('drain', pump);
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
    setTimeout(() => finish(false), 15_000);
  });
}

await Promise.all(Array.from({ length: count }, () => one()));
process.stdout.write(
  `${JSON.stringify({ connections: count, connected, bytesSent, closedByServer, ms: Date.now() - t0 })}\n`,
);
