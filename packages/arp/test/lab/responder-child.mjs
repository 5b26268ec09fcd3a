// Lab child: runs a @ingot/arp responder inside a network namespace, driven over IPC by a lab test.
// Imports the built package (build first: cd packages/arp && npx tsup).
// Messages in:  { cmd: 'start', options }  options = createResponder options (JSON-safe: interfaces, scanIntervalMs,
//                                            gratuitous, reannounceIntervalMs, exclude as regex source strings)
//               { cmd: 'announce', ip, interfaces? } | { cmd: 'withdraw', ip } | { cmd: 'reannounce', ip? }
//               { cmd: 'stats' } | { cmd: 'block', ms } (busy event loop) | { cmd: 'close' }
// Messages out: { type: 'ready', interfaces, macs } | { type: 'ok', cmd }
//               | { type: 'stats', counters, stats, metrics, drops, answerThread }
//               { type: 'event', event, ... } for interface changes and errors | { type: 'error', message }
import { answerThreadStatus, createResponder } from '../../dist/index.js';

let responder;
const macs = {};
const drops = {};

function reply(msg) {
  if (process.send) process.send(msg);
}

process.on('message', async (m) => {
  try {
    switch (m.cmd) {
      case 'start': {
        const o = { ...(m.options ?? {}) };
        if (Array.isArray(o.exclude)) o.exclude = o.exclude.map((s) => new RegExp(s));
        responder = createResponder(o);
        responder.on('interface-added', (e) => {
          macs[e.interface] = e.mac;
          reply({ type: 'event', event: 'interface-added', ...e });
        });
        responder.on('interface-removed', (e) => reply({ type: 'event', event: 'interface-removed', ...e }));
        responder.on('drop', (e) => {
          const k = e.error ? `${e.error.protocol}:${e.error.code}` : e.reason;
          drops[k] = (drops[k] ?? 0) + 1;
        });
        responder.on('error', (e) =>
          reply({ type: 'event', event: 'error', interface: e.interface, message: e.error.message }),
        );
        await responder.ready();
        reply({ type: 'ready', interfaces: responder.interfaces(), macs });
        break;
      }
      case 'announce':
        responder.announce(m.ip, m.interfaces ? { interfaces: m.interfaces } : {});
        reply({ type: 'ok', cmd: m.cmd, ip: m.ip });
        break;
      case 'withdraw':
        responder.withdraw(m.ip);
        reply({ type: 'ok', cmd: m.cmd, ip: m.ip });
        break;
      case 'reannounce':
        responder.reannounce(m.ip);
        reply({ type: 'ok', cmd: m.cmd });
        break;
      case 'block': {
        // Keeps the event loop busy for m.ms (as a daemon parsing a large config or collecting garbage would); says so
        // first (the IPC write goes out at once), so the test knows the loop is stuck from then on.
        reply({ type: 'blocking' });
        const end = performance.now() + m.ms;
        while (performance.now() < end) {}
        reply({ type: 'ok', cmd: 'block' });
        break;
      }
      case 'stats':
        reply({
          type: 'stats',
          counters: responder.counters(),
          stats: responder.stats(),
          metrics: responder.metrics(),
          drops,
          answerThread: answerThreadStatus(),
        });
        break;
      case 'close':
        await responder?.close();
        reply({ type: 'ok', cmd: 'close' });
        process.disconnect?.();
        break;
      default:
        reply({ type: 'error', message: `unknown command ${m.cmd}` });
    }
  } catch (e) {
    reply({ type: 'error', cmd: m.cmd, message: e instanceof Error ? e.message : String(e) });
  }
});

process.on('disconnect', () => {
  responder?.close().finally(() => process.exit(0));
  if (!responder) process.exit(0);
});
reply({ type: 'spawned', pid: process.pid });
