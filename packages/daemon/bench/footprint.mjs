#!/usr/bin/env node
// Footprint benchmark (issue 8): resident memory and idle CPU of one ingot node holding 1,000 services announced to
// 4 BGP peers (and over live layer 2 on a veth), against the targets (< 150 MB, < 2% of a core), with BIRD in the
// same role in the same run as the reference: a second namespace where BIRD originates the same 1,000 prefixes to
// the same 4 peers. The peers are 4 BIRD processes in 4 namespaces (2001:db8::11-14), each with a session to both.
//
//   node packages/daemon/bench/footprint.mjs [--services 1000] [--idle-seconds 30] [--json] [--cli dist/cli.js]
//     [--layer2 on|off] [--data-path local|none] [--node-arg --cpu-prof ...]   (node-arg: extra flags for ingot's node)
//
// Needs root, iproute2 and BIRD 2 (apt-get install iproute2 bird2), and a built CLI (npx tsup in packages/daemon).
// Everything runs in throw-away namespaces (ingot-fp-*), removed at the end, on errors and on SIGINT/SIGTERM.
// Bounded: convergence waits at most 90 s, the idle window is --idle-seconds (max 300).
// Exports main(options) for bench/run.mjs; returns the result object (and prints unless print: false).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { mustRun, NetnsCluster, runCommand } from '../dist/netns.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const TARGET_RSS_MB = 150;
const TARGET_CPU_PERCENT = 2;
const CONVERGE_TIMEOUT_MS = 90_000;
const PEERS = [1, 2, 3, 4].map((i) => `2001:db8::1${i}`);
const INGOT_IP = '2001:db8::1';
const BIRD_SPEAKER_IP = '2001:db8::2';
const INGOT_ASN = 64513;
const BIRD_SPEAKER_ASN = 64514;
const PEER_ASN = 64512;
/** MetalLB's historical manifest limits (metallb.md §8, issue #729): a sizing hint, not a measurement. */
const METALLB_HINT = { memoryMB: 100, cpuPercent: 10 };

/** The i-th service IP: 2001:db8:1::/118 holds 1,024. */
function serviceIp(i) {
  return `2001:db8:1::${i.toString(16)}`;
}

/** The daemon's configuration: one IPv6 pool, L2 + BGP advertisements, 4 BGPPeers, `count` Services. */
export function footprintConfig(count, { layer2 = true } = {}) {
  const docs = [
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: bench }\nspec: { addresses: [2001:db8:1::/118] }',
    ...(layer2
      ? [
          'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: { name: bench }\nspec: { ipAddressPools: [bench], interfaces: [eth0] }',
        ]
      : []),
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: { name: bench }\nspec: { ipAddressPools: [bench] }',
    ...PEERS.map(
      (ip, i) =>
        `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: { name: peer-${i + 1} }\n` +
        `spec: { myASN: ${INGOT_ASN}, peerASN: ${PEER_ASN}, peerAddress: "${ip}" }`,
    ),
  ];
  for (let i = 0; i < count; i++)
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata: { name: svc-${i}, namespace: bench }\n` +
        `spec: { type: LoadBalancer, clusterIPs: ["2001:db8:ffff::${(i + 1).toString(16)}"], ports: [{ port: 80 }] }`,
    );
  return `${docs.join('\n---\n')}\n`;
}

/** bird.conf of receiving peer i (0-based): one session to ingot, one to the BIRD speaker, import all, export none. */
function peerBirdConfig(dir, i) {
  const L = [`log "${join(dir, `peer${i + 1}.log`)}" { warning, error };`, `router id 192.0.2.${11 + i};`];
  L.push('protocol device { }');
  for (const [tag, neighbor, asn] of [
    ['from_ingot', INGOT_IP, INGOT_ASN],
    ['from_bird', BIRD_SPEAKER_IP, BIRD_SPEAKER_ASN],
  ]) {
    L.push(`protocol bgp ${tag} {`, `  local ${PEERS[i]} as ${PEER_ASN};`, `  neighbor ${neighbor} as ${asn};`);
    L.push('  passive on;', '  direct;', '  ipv6 { import all; export none; };', '}');
  }
  return `${L.join('\n')}\n`;
}

/** bird.conf of the reference speaker: the same prefixes, static, to the same 4 peers. */
function speakerBirdConfig(dir, count) {
  const L = [`log "${join(dir, 'speaker.log')}" { warning, error };`, 'router id 192.0.2.2;', 'protocol device { }'];
  L.push('protocol static services {', '  ipv6;');
  for (let i = 0; i < count; i++) L.push(`  route ${serviceIp(i)}/128 blackhole;`);
  L.push('}');
  PEERS.forEach((ip, i) => {
    L.push(
      `protocol bgp p${i + 1} {`,
      `  local ${BIRD_SPEAKER_IP} as ${BIRD_SPEAKER_ASN};`,
      `  neighbor ${ip} as ${PEER_ASN};`,
    );
    L.push('  direct;', '  connect retry time 1;', '  ipv6 { import none; export where source = RTS_STATIC; };', '}');
  });
  return `${L.join('\n')}\n`;
}

/** Runs a command to completion (SIGKILL after timeoutMs); resolves { code, stdout, stderr }. */
/** VmRSS and VmHWM of a process, in MB. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
}

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat, after the command name). */
export function cpuTicksOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function clockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Routes imported per protocol, from `birdc show protocols all`. */
function importedRoutes(text) {
  const out = {};
  let proto;
  for (const line of text.split('\n')) {
    const head = /^(\S+)\s+BGP\s/.exec(line);
    if (head) proto = head[1];
    const routes = /^\s+Routes:\s+(\d+) imported/.exec(line);
    if (routes && proto) out[proto] = Number(routes[1]);
  }
  return out;
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('interrupted'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error('interrupted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Missing prerequisites (empty when the benchmark can run). */
export function prerequisites(cli = CLI) {
  const problems = [];
  if (process.platform !== 'linux') problems.push('Linux');
  if (process.getuid?.() !== 0) problems.push('root');
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['bird', 'bird2'],
    ['birdc', 'bird2'],
  ]) {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' });
    } catch {
      problems.push(`${tool} (apt-get install ${pkg})`);
    }
  }
  if (!existsSync(cli)) problems.push(`a built CLI at ${cli} (cd packages/daemon && npx tsup)`);
  return problems;
}

/**
 * Runs the benchmark. Options: services (default 1000, max 1024), idleSeconds (default 30, max 300), print (default
 * true: human-readable lines, or JSON with json: true), cli (path of dist/cli.js), layer2 (default true: an
 * L2Advertisement on the veth), dataPath ('local' default: service IPs on lo; 'none'), nodeArgs (extra `node` flags for
 * the daemon, e.g. ['--cpu-prof']). Resolves with the result object.
 */
export async function main(options = {}) {
  const services = Math.min(Math.max(1, options.services ?? 1000), 1024);
  const idleSeconds = Math.min(Math.max(1, options.idleSeconds ?? 30), 300);
  const cli = options.cli ?? CLI;
  const print = options.print ?? true;
  const layer2 = options.layer2 ?? true;
  const dataPath = options.dataPath ?? 'local';
  const nodeArgs = options.nodeArgs ?? [];
  const say = (line) => {
    if (print && !options.json) process.stdout.write(`${line}\n`);
  };
  const problems = prerequisites(cli);
  if (problems.length > 0) throw new Error(`footprint benchmark needs: ${problems.join(', ')}`);

  const lab = new NetnsCluster('ingot-fp');
  const addNamespace = async (role) => {
    const ns = await lab.addNamespace(role);
    await lab.sysctl(ns, ['net.ipv6.conf.default.accept_dad=0']);
    return ns;
  };
  const dir = mkdtempSync(join(tmpdir(), 'ingot-fp-'));
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  const onExit = () => lab.destroySync();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  try {
    // One bridge; ingot's node, BIRD's speaker node and the 4 peers on it.
    const lan = await addNamespace('lan');
    const peerRoles = PEERS.map((_, i) => `peer${i + 1}`);
    const roles = ['node', 'ref', ...peerRoles];
    const ns = Object.fromEntries(await Promise.all(roles.map(async (r) => [r, await addNamespace(r)])));
    const batch = ['link add br0 type bridge', 'link set br0 up'];
    for (const r of roles)
      batch.push(`link add p-${r} type veth peer name eth0 netns ${ns[r]}`, `link set p-${r} master br0 up`);
    await mustRun('ip', ['-n', lan, '-batch', '-'], { input: `${batch.join('\n')}\n` });
    const addrs = {
      node: [INGOT_IP, '192.0.2.1'],
      ref: [BIRD_SPEAKER_IP, '192.0.2.2'],
      ...Object.fromEntries(peerRoles.map((r, i) => [r, [PEERS[i], `192.0.2.${11 + i}`]])),
    };
    for (const r of roles) {
      const [v6, v4] = addrs[r];
      const lines = [`addr add ${v4}/24 dev eth0`, `addr add ${v6}/64 dev eth0 nodad`, 'link set eth0 up'];
      await mustRun('ip', ['-n', ns[r], '-batch', '-'], { input: `${lines.join('\n')}\n` });
    }

    writeFileSync(join(dir, 'speaker.conf'), speakerBirdConfig(dir, services));
    writeFileSync(join(dir, 'ingot.yaml'), footprintConfig(services, { layer2 }));
    const peers = peerRoles.map((r, i) => {
      writeFileSync(join(dir, `${r}.conf`), peerBirdConfig(dir, i));
      const sock = join(dir, `${r}.ctl`);
      const proc = lab.spawn(ns[r], r, 'bird', [
        '-f',
        '-c',
        join(dir, `${r}.conf`),
        '-s',
        sock,
        '-P',
        join(dir, `${r}.pid`),
      ]);
      return { proc, sock };
    });
    const speaker = lab.spawn(ns.ref, 'bird-speaker', 'bird', [
      '-f',
      '-c',
      join(dir, 'speaker.conf'),
      '-s',
      join(dir, 'speaker.ctl'),
      '-P',
      join(dir, 'speaker.pid'),
    ]);
    // The runtime's own floor, for reading ingot's figure: an idle Node.js process of the same binary.
    const runtime = lab.spawn(ns.node, 'node-floor', process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)']);
    const started = performance.now();
    const daemon = lab.spawn(ns.node, 'ingot', process.execPath, [
      ...nodeArgs,
      cli,
      'run',
      '--config',
      join(dir, 'ingot.yaml'),
      '--node',
      'bench-node',
      '--announce',
      'live',
      '--interface',
      'eth0',
      '--router-id',
      '192.0.2.1',
      '--memberlist-bind',
      '192.0.2.1:7946',
      '--memberlist-insecure-plaintext',
      '--data-path',
      dataPath,
      '--log-level',
      'warn',
    ]);
    say(
      `footprint: ${services} services, ${PEERS.length} BGP peers (BIRD), ${layer2 ? 'live layer 2 on a veth' : 'no layer 2'}, ` +
        `data path ${dataPath}; namespaces ${lab.stem}-*`,
    );

    // Convergence: every peer session of both speakers has imported every prefix.
    let imported = {};
    let protocols = '';
    const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
    let convergedMs;
    while (convergedMs === undefined) {
      for (const p of [daemon, speaker, ...peers.map((x) => x.proc)])
        if (p.exited()) throw new Error(`a process exited early:\n${p.output().slice(-3000)}`);
      const shows = await Promise.all(
        peers.map((p) => runCommand('birdc', ['-s', p.sock, 'show', 'protocols', 'all'], { timeoutMs: 10_000 })),
      );
      protocols = shows.map((r) => r.stdout).join('\n');
      imported = Object.fromEntries(
        shows.flatMap((r, i) => Object.entries(importedRoutes(r.stdout)).map(([k, v]) => [`peer${i + 1}.${k}`, v])),
      );
      if (
        PEERS.every(
          (_, i) => imported[`peer${i + 1}.from_ingot`] === services && imported[`peer${i + 1}.from_bird`] === services,
        )
      )
        convergedMs = performance.now() - started;
      else if (Date.now() > deadline)
        throw new Error(
          `not converged after ${CONVERGE_TIMEOUT_MS / 1000} s: imported ${JSON.stringify(imported)}\n${protocols}` +
            `--- ingot ---\n${daemon.output().slice(-3000)}`,
        );
      else await sleep(250, abort.signal);
    }
    say(
      `converged: each of the ${PEERS.length} peers holds ${services} routes from ingot and from BIRD (${(convergedMs / 1000).toFixed(1)} s)`,
    );

    // The data path is part of converging: with `local`, every service IP must be on the node's lo.
    if (dataPath === 'local') {
      for (;;) {
        const out = await mustRun('ip', ['-n', ns.node, '-6', '-o', 'addr', 'show', 'dev', 'lo']);
        const onLo = out.split('\n').filter((l) => l.includes(' 2001:db8:1:')).length;
        if (onLo >= services) break;
        if (Date.now() > deadline) throw new Error(`only ${onLo} of ${services} service IPs on lo`);
        await sleep(250, abort.signal);
      }
      say(`data path: all ${services} service IPs on lo (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
    // Settled: one second in which ingot used under 5% of a core (at most 30 s), then the idle window.
    const hz = clockTicks();
    const settleDeadline = Date.now() + 30_000;
    for (let before = cpuTicksOf(daemon.pid); ; ) {
      await sleep(1000, abort.signal);
      const now = cpuTicksOf(daemon.pid);
      if ((now - before) / hz < 0.05 || Date.now() > settleDeadline) break;
      before = now;
    }
    const settledSeconds = (performance.now() - started) / 1000;
    const procs = { ingot: daemon.pid, bird: speaker.pid, peer1: peers[0].proc.pid, runtime: runtime.pid };
    const t0 = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, cpuTicksOf(pid)]));
    const w0 = performance.now();
    say(`settled ${settledSeconds.toFixed(1)} s after start; measuring idle CPU for ${idleSeconds} s ...`);
    await sleep(idleSeconds * 1000, abort.signal);
    const seconds = (performance.now() - w0) / 1000;
    const measure = (key) => ({
      ...memoryOf(procs[key]),
      cpuPercent: ((cpuTicksOf(procs[key]) - t0[key]) / hz / seconds) * 100,
    });
    const result = {
      benchmark: 'footprint',
      services,
      peers: PEERS.length,
      layer2: layer2 ? 'live on a veth' : 'off',
      dataPath,
      convergedSeconds: convergedMs / 1000,
      settledSeconds,
      idleSeconds: seconds,
      ingot: measure('ingot'),
      bird: measure('bird'),
      birdPeer: measure('peer1'),
      nodeRuntime: measure('runtime'),
      targets: { rssMB: TARGET_RSS_MB, cpuPercent: TARGET_CPU_PERCENT },
      metallbHint: METALLB_HINT,
      loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
    };
    result.pass = result.ingot.rssMB < TARGET_RSS_MB && result.ingot.cpuPercent < TARGET_CPU_PERCENT;
    // Graceful stop (SIGTERM) with this many services: sessions closed, every service IP taken off lo.
    const stopAt = performance.now();
    lab.kill(daemon, 'SIGTERM');
    const stopped = await Promise.race([daemon.gone.then(() => true), sleep(20_000, abort.signal).then(() => false)]);
    result.sigtermExitSeconds = stopped ? (performance.now() - stopAt) / 1000 : null;
    if (print && options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    const f = (n, d = 1) => n.toFixed(d);
    const row = (name, m) =>
      `${name.padEnd(42)} ${f(m.rssMB).padStart(7)} MB  (peak ${f(m.peakMB)} MB)  ${f(m.cpuPercent, 2).padStart(6)} % of a core`;
    say('');
    say(`${'process'.padEnd(42)} ${'resident'.padStart(10)}              idle CPU`);
    say(row('ingot (node, 1 process)', result.ingot));
    say(row('BIRD 2 speaker, same prefixes/peers', result.bird));
    say(row('BIRD 2 receiving peer (1 of 4, 2 sessions)', result.birdPeer));
    say(row(`idle Node.js ${process.version} (runtime floor)`, result.nodeRuntime));
    say('');
    say(
      `targets: resident < ${TARGET_RSS_MB} MB: ${result.ingot.rssMB < TARGET_RSS_MB ? 'PASS' : 'FAIL'}; ` +
        `idle CPU < ${TARGET_CPU_PERCENT}% of a core: ${result.ingot.cpuPercent < TARGET_CPU_PERCENT ? 'PASS' : 'FAIL'}`,
    );
    say(
      `ingot / BIRD speaker: memory ${f(result.ingot.rssMB / result.bird.rssMB)}x, ` +
        `idle CPU ${result.bird.cpuPercent > 0 ? `${f(result.ingot.cpuPercent / result.bird.cpuPercent)}x` : `${f(result.ingot.cpuPercent, 2)}% vs 0%`}`,
    );
    say(
      `MetalLB publishes no footprint figure; its historical manifests limit the speaker to ` +
        `${METALLB_HINT.memoryMB} Mi and ${METALLB_HINT.cpuPercent}% of a core (metallb.md §8).`,
    );
    say(
      result.sigtermExitSeconds === null
        ? 'SIGTERM: ingot had not exited after 20 s'
        : `SIGTERM: ingot exited after ${f(result.sigtermExitSeconds, 2)} s (sessions closed, service IPs off lo)`,
    );
    say(`load average during the run: ${result.loadAverage.join(' ')} (2 shared cores: CPU figures are noisy)`);
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await lab.destroy();
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      services: { type: 'string', default: '1000' },
      'idle-seconds': { type: 'string', default: '30' },
      json: { type: 'boolean', default: false },
      cli: { type: 'string' },
      layer2: { type: 'string', default: 'on' },
      'data-path': { type: 'string', default: 'local' },
      'node-arg': { type: 'string', multiple: true, default: [] },
    },
  });
  main({
    services: Number(values.services),
    idleSeconds: Number(values['idle-seconds']),
    json: values.json,
    layer2: values.layer2 !== 'off',
    dataPath: values['data-path'],
    nodeArgs: values['node-arg'],
    ...(values.cli ? { cli: values.cli } : {}),
  }).then(
    (r) => {
      process.exitCode = r.pass ? 0 : 1;
    },
    (e) => {
      process.stderr.write(`footprint: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
