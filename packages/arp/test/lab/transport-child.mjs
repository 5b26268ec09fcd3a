// Lab child: opens one AF_PACKET transport and reports what it receives, as JSON lines on stdout.
// Usage: node transport-child.mjs IFACE MODE [GROUP_MAC]
//   prints {"ready":true,"mac":...,"mode":...} or {"error":{code,syscall}} and exits 0;
//   then one {"frame":"<hex>"} per received frame; on stdin line "join MAC" / "leave MAC" / "send HEX" / "close".
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createPacketTransport, TransportError } from '../../dist/index.js';

const [iface, mode] = process.argv.slice(2);
let t;
try {
  t = createPacketTransport(iface, { receiveMode: mode });
} catch (e) {
  if (e instanceof TransportError) {
    console.log(JSON.stringify({ error: { code: e.code, syscall: e.syscall } }));
    process.exit(0);
  }
  throw e;
}
t.receive((f) => console.log(JSON.stringify({ frame: Buffer.from(f).toString('hex') })));
const capEff = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
console.log(JSON.stringify({ ready: true, mac: t.mac, mode: t.mode, capEff }));
const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'join') t.addMembership(arg);
  else if (cmd === 'leave') t.dropMembership(arg);
  else if (cmd === 'send') t.send(Buffer.from(arg, 'hex'));
  else if (cmd === 'close') {
    const t0 = performance.now();
    await t.close();
    rl.close();
    console.log(JSON.stringify({ closed: true, ms: performance.now() - t0, stats: t.stats() }));
    // No process.exit: the process must end by itself, proving no handle or worker poll is left behind.
    return;
  }
  console.log(JSON.stringify({ ok: cmd }));
});
