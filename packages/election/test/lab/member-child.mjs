// One @ingot/election member in a child process (run in a lab namespace with host.fork), driven over IPC.
// Imports the built package (build first: cd packages/election && npx tsup).
//
// Requests: { id, cmd, ...args } → reply { id, ok: true, result } or { id, ok: false, error }.
//   start { name, host, port, keys?: hex[], options?, transport? }   join { seeds: Address[] }   members   stats   view
//   leave   close   setLabels { labels }   memory (RSS and heap bytes, transport rejection counters)
// Events: { event: 'join' | 'update' | 'suspect' | 'alive' | 'dead' | 'leave', member: name, incarnation, t: Date.now() }.

import { Keyring, MEMBERLIST_FRAMING, Membership, UdpTransport } from '../../dist/index.js';

/** @type {Membership | undefined} */
let member;
/** @type {UdpTransport | undefined} */
let bound;
const send = (m) => process.send?.(m);

const handlers = {
  async start({ name, host, port, keys, options = {}, transport: limits = {} }) {
    const framing = options.wire === 'memberlist' ? MEMBERLIST_FRAMING : undefined;
    const transport = await UdpTransport.bind({ host, port, framing, ...limits });
    bound = transport;
    const keyring = keys?.length ? new Keyring(keys.map((k) => Uint8Array.from(Buffer.from(k, 'hex')))) : undefined;
    member = new Membership({ name, transport, keyring, ...options });
    for (const event of ['join', 'update', 'suspect', 'alive', 'dead', 'leave']) {
      member.on(event, (m) =>
        send({ event, member: m.name, incarnation: m.incarnation, labels: m.labels, t: Date.now() }),
      );
    }
    member.start();
    return { address: member.local.address, pid: process.pid };
  },
  async join({ seeds }) {
    return member.join(seeds);
  },
  members() {
    return member.members();
  },
  stats() {
    return { ...member.stats, health: member.healthScore };
  },
  view() {
    return member.clusterView();
  },
  memory() {
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, transport: { ...bound?.stats } };
  },
  setLabels({ labels }) {
    member.setLabels(labels);
    return true;
  },
  async leave() {
    await member.leave();
    return true;
  },
  async close() {
    await member?.close();
    return true;
  },
};

process.on('message', async (msg) => {
  const { id, cmd, ...args } = msg ?? {};
  try {
    const handler = handlers[cmd];
    if (!handler) throw new Error(`unknown command ${cmd}`);
    send({ id, ok: true, result: await handler(args) });
  } catch (e) {
    send({ id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
process.on('disconnect', () => {
  void member?.close().finally(() => process.exit(0));
});
process.on('SIGTERM', () => {
  void (async () => {
    await member?.leave();
    await member?.close();
    process.exit(0);
  })();
});
send({ event: 'ready', pid: process.pid });
