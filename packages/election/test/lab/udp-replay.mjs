// Replays captured gossip datagrams from another address: reads a JSON array of hex payloads from FILE, sends each to
// HOST:PORT (10 ms apart), listens for replies for 1 s after the last one, prints { sent, replies } and exits.
//   node udp-replay.mjs HOST PORT FILE
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';

const [host, portText, file] = process.argv.slice(2);
const payloads = JSON.parse(readFileSync(file, 'utf8')).slice(0, 500);
const sock = dgram.createSocket('udp4');
let replies = 0;
sock.on('message', () => replies++);
await new Promise((r) => sock.bind(0, r));
for (const hex of payloads) {
  await new Promise((r) => sock.send(Buffer.from(hex, 'hex'), Number(portText), host, r));
  await new Promise((r) => setTimeout(r, 10));
}
await new Promise((r) => setTimeout(r, 1000));
sock.close();
process.stdout.write(`${JSON.stringify({ sent: payloads.length, replies })}\n`);
