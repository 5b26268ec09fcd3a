// Section G of the election benchmark (run by bench/run.mjs): a mixed cluster of Ingot members (this process, the
// default wire: memberlist's) and real hashicorp/memberlist v0.5.1 agents (child processes, configured as MetalLB's
// speakerlist), all on 127.0.0.1 with MetalLB's key derivation. The agent is packages/lab/go/memberlist-agent, built by
// `packages/lab/go/build-tools.sh memberlist-agent`; without it the section is skipped with that reason.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Keyring, Membership, metallbSecretKey, UdpTransport } from '../dist/index.js';

const SECRET = 'YmVuY2gtc2VjcmV0LTE2Yg'; // 22 characters, as MetalLB's controller generates
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

/** The agent binary, or undefined with the reason. */
export function agentBinary() {
  const script = fileURLToPath(new URL('../../lab/go/build-tools.sh', import.meta.url));
  const r = spawnSync(script, ['--print', 'memberlist-agent'], { encoding: 'utf8' });
  const path = r.stdout?.trim().split(/\s+/)[1];
  if (r.status !== 0 || !path) return { reason: `build-tools.sh --print failed: ${r.stderr}` };
  const probe = spawnSync(path, ['-h'], { encoding: 'utf8' });
  if (probe.error) return { reason: `${path} missing: run packages/lab/go/build-tools.sh memberlist-agent` };
  return { path };
}

/** A free TCP port on 127.0.0.1 (also used for UDP by the agent). */
async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** One agent process: its JSON event lines with the time this process read them. */
async function startAgent(bin, name, port, join) {
  const args = ['-name', name, '-bind', '127.0.0.1', '-port', String(port), '-secret', SECRET];
  if (join.length) args.push('-join', join.join(','));
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const events = [];
  const waiters = new Set();
  let partial = '';
  child.stdout.on('data', (d) => {
    partial += d.toString();
    for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
      const line = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      try {
        events.push({ ...JSON.parse(line), at: now() });
      } catch {}
    }
    for (const w of [...waiters]) w();
  });
  const waitFor = (pred, timeoutMs) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve(undefined);
      }, timeoutMs);
      const check = () => {
        const e = events.find(pred);
        if (!e) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(e);
      };
      waiters.add(check);
      check();
    });
  if (!(await waitFor((e) => e.event === 'ready', 10_000))) {
    child.kill('SIGKILL');
    throw new Error(`memberlist agent ${name} did not start`);
  }
  return {
    name,
    address: { host: '127.0.0.1', port },
    events,
    waitFor,
    kill: () =>
      new Promise((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGKILL');
      }),
  };
}

async function startIngot(name, port = 0) {
  const transport = await UdpTransport.bind({ host: '127.0.0.1', port });
  return new Membership({ name, transport, keyring: new Keyring([metallbSecretKey(SECRET)]) }).start();
}

/**
 * The agent reported `node` gone (memberlist's NotifyLeave, for a death as for a leave: after a SIGKILL or a close
 * without leave it is a death; the Node's State field in the event is not updated by memberlist) at or after `from`.
 */
const deadAt = (agent, node, from) => (e) => agent.events.indexOf(e) >= from && e.event === 'leave' && e.node === node;

async function converge(ingots, agents, n, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ingotOk = ingots.every((m) => m.members().filter((x) => x.status === 'alive').length === n);
    let agentsOk = true;
    for (const a of agents) {
      // joins minus leaves seen by the agent since its start, itself included
      const alive = new Set();
      for (const e of a.events) {
        if (e.event === 'join') alive.add(e.node);
        if (e.event === 'leave') alive.delete(e.node);
      }
      if (alive.size !== n) agentsOk = false;
    }
    if (ingotOk && agentsOk) return;
    if (Date.now() > end) throw new Error(`mixed cluster of ${n} did not converge`);
    await sleep(50);
  }
}

/**
 * G: `kills` rounds of: SIGKILL an agent (time until every Ingot member and the other agents report it dead), restart
 * it; close an Ingot member without a leave (time until every other Ingot member and every agent report it dead),
 * restart it. Then the reference: a cluster of agents only, the same kill, memberlist's own timing.
 */
export async function mixedDetection(bin, { ingotCount, agentCount, kills, deadline }) {
  const ingots = [];
  for (let i = 0; i < ingotCount; i++) ingots.push(await startIngot(`ingot-${i}`));
  const seed = ingots[0].local.address;
  for (const m of ingots.slice(1)) await m.join([seed]);
  const agents = [];
  for (let i = 0; i < agentCount; i++)
    agents.push(await startAgent(bin, `metallb-${i}`, await freePort(), [`${seed.host}:${seed.port}`]));
  const n = ingotCount + agentCount;
  const out = { agentVictim: { byIngot: [], byAgents: [] }, ingotVictim: { byIngot: [], byAgents: [] }, falseDead: 0 };
  try {
    await converge(ingots, agents, n);
    await sleep(1000);
    for (let k = 0; k < kills && Date.now() < deadline; k++) {
      // an agent dies
      const ai = k % agents.length;
      const victim = agents[ai];
      const others = agents.filter((a) => a !== victim);
      const marks = others.map((a) => a.events.length);
      const seen = new Map();
      const listeners = ingots.map((m) => {
        const f = (x) => {
          if (x.name === victim.name) seen.set(m.name, now());
          else out.falseDead++;
        };
        m.on('dead', f);
        return [m, f];
      });
      const t0 = now();
      await victim.kill();
      const agentSeen = await Promise.all(others.map((a, i) => a.waitFor(deadAt(a, victim.name, marks[i]), 60_000)));
      const end = Date.now() + 60_000;
      while (seen.size < ingots.length && Date.now() < end) await sleep(5);
      for (const [m, f] of listeners) m.off('dead', f);
      if (seen.size === ingots.length) out.agentVictim.byIngot.push(Math.max(...seen.values()) - t0);
      if (agentSeen.every(Boolean)) out.agentVictim.byAgents.push(Math.max(...agentSeen.map((e) => e.at)) - t0);
      agents[ai] = await startAgent(bin, victim.name, victim.address.port, [`${seed.host}:${seed.port}`]);
      await converge(ingots, agents, n);
      await sleep(500 + Math.random() * 500);

      // an Ingot member dies (not the seed)
      const ii = 1 + (k % (ingots.length - 1));
      const iv = ingots[ii];
      const rest = ingots.filter((m) => m !== iv);
      const amarks = agents.map((a) => a.events.length);
      const iseen = new Map();
      const ilisteners = rest.map((m) => {
        const f = (x) => {
          if (x.name === iv.name) iseen.set(m.name, now());
          else out.falseDead++;
        };
        m.on('dead', f);
        return [m, f];
      });
      const t1 = now();
      await iv.close();
      const agentsSaw = await Promise.all(agents.map((a, i) => a.waitFor(deadAt(a, iv.name, amarks[i]), 60_000)));
      const iend = Date.now() + 60_000;
      while (iseen.size < rest.length && Date.now() < iend) await sleep(5);
      for (const [m, f] of ilisteners) m.off('dead', f);
      if (iseen.size === rest.length) out.ingotVictim.byIngot.push(Math.max(...iseen.values()) - t1);
      if (agentsSaw.every(Boolean)) out.ingotVictim.byAgents.push(Math.max(...agentsSaw.map((e) => e.at)) - t1);
      const fresh = await startIngot(iv.name, iv.local.address.port);
      ingots[ii] = fresh;
      await fresh.join([seed]);
      await converge(ingots, agents, n);
      await sleep(500 + Math.random() * 500);
    }
  } finally {
    await Promise.all(agents.map((a) => a.kill()));
    await Promise.all(ingots.map((m) => m.close()));
  }
  return out;
}

/** Reference: `count` agents only; `kills` SIGKILLs, each timed until every other agent reports the victim dead. */
export async function agentsOnlyDetection(bin, { count, kills, deadline }) {
  const first = await startAgent(bin, 'ref-0', await freePort(), []);
  const agents = [first];
  const seed = `127.0.0.1:${first.address.port}`;
  for (let i = 1; i < count; i++) agents.push(await startAgent(bin, `ref-${i}`, await freePort(), [seed]));
  const samples = [];
  try {
    await converge([], agents, count);
    await sleep(1000);
    for (let k = 0; k < kills && Date.now() < deadline; k++) {
      const vi = 1 + (k % (count - 1));
      const victim = agents[vi];
      const others = agents.filter((a) => a !== victim);
      const marks = others.map((a) => a.events.length);
      const t0 = now();
      await victim.kill();
      const seen = await Promise.all(others.map((a, i) => a.waitFor(deadAt(a, victim.name, marks[i]), 60_000)));
      if (seen.every(Boolean)) samples.push(Math.max(...seen.map((e) => e.at)) - t0);
      agents[vi] = await startAgent(bin, victim.name, victim.address.port, [seed]);
      await converge([], agents, count);
      await sleep(500 + Math.random() * 500);
    }
  } finally {
    await Promise.all(agents.map((a) => a.kill()));
  }
  return samples;
}
