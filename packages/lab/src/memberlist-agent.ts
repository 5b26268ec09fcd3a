import type { LabHost } from './host.js';
import { requireBuiltTool } from './kubernetes/binaries.js';
import type { LabProcess } from './lab-process.js';

/** Options of {@link startMemberlistAgent}; the agent is configured as MetalLB's speaker configures memberlist. */
export interface MemberlistAgentOptions {
  /** Node name (MetalLB: the Node's name). */
  name: string;
  /** Bind address (default: the host's IPv4 address). */
  bind?: string;
  /** Bind and advertise port (default 7946). */
  port?: number;
  /** MetalLB's memberlist secret (the Secret's `secretkey` value); the key is derived as MetalLB derives it. */
  secret?: string;
  /** Further secrets installed in the keyring (decrypt only: key rotation). */
  extraSecrets?: readonly string[];
  /** memberlist label (packet and stream label header). */
  label?: string;
  /** Initial node meta. */
  meta?: string;
  /** Push-pull user state this agent sends. */
  userState?: string;
  /** host:port list to join at start. */
  join?: readonly string[];
  /** EnableCompression (default true, the LAN default). */
  compression?: boolean;
  /** Append every packet and stream chunk, sent and received, to this file as JSON lines (hex bytes). */
  record?: string;
  /** Override ProbeInterval / ProbeTimeout / PushPullInterval (milliseconds). */
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  pushPullIntervalMs?: number;
  /** memberlist's own log on stderr. */
  verbose?: boolean;
  /** How long to wait for the agent's `ready` line (default 10 s). */
  startTimeoutMs?: number;
}

/** One JSON line the agent printed: `ready`, `join`, `leave`, `update`, `message`, `remote-state`, or a command reply. */
export interface MemberlistAgentEvent {
  event: string;
  /** Milliseconds since the Unix epoch, taken by the agent. */
  t: number;
  node?: string;
  addr?: string;
  port?: number;
  meta?: string;
  metaHex?: string;
  state?: number;
  vsn?: number[];
  data?: string;
  n?: number;
  error?: string;
  members?: MemberlistAgentMember[];
  [key: string]: unknown;
}

/** A member as the agent's `members` command lists it (memberlist's Node). */
export interface MemberlistAgentMember {
  node: string;
  addr: string;
  port: number;
  meta: string;
  metaHex: string;
  /** memberlist's NodeStateType: 0 alive, 1 suspect, 2 dead, 3 left. */
  state: number;
  vsn: number[];
}

/** A running memberlist agent in a lab namespace (killed by PID when its topology is destroyed). */
export interface MemberlistAgent {
  readonly name: string;
  /** `ip:port` the agent listens on. */
  readonly address: string;
  readonly process: LabProcess;
  /** Every event line so far, in order. */
  events(): MemberlistAgentEvent[];
  /** Resolve with the first event (from index `from`, default 0) matching `pred`; reject after `timeoutMs` (10 s). */
  waitEvent(
    pred: (e: MemberlistAgentEvent) => boolean,
    timeoutMs?: number,
    from?: number,
  ): Promise<MemberlistAgentEvent>;
  /** memberlist.Join; resolves with the number of nodes contacted. */
  join(addrs: readonly string[]): Promise<number>;
  /** memberlist.Members (alive and suspect members, itself included). */
  members(): Promise<MemberlistAgentMember[]>;
  /** Set the node meta and gossip it (UpdateNode). */
  setMeta(meta: string): Promise<void>;
  /** Send a user message to a member, over UDP (best effort) or TCP (reliable). */
  send(node: string, data: string, reliable?: boolean): Promise<void>;
  /** Queue a user broadcast, piggybacked on gossip. */
  broadcast(data: string): Promise<void>;
  /** Leave gracefully (Leave(timeout), Shutdown) and wait for the agent to exit. */
  leave(timeoutMs?: number): Promise<void>;
}

const REPLIES = new Set(['joined', 'members', 'meta-set', 'sent', 'queued', 'error', 'left']);

/** The argument list for the agent binary (exported for tests of the option mapping). */
export function memberlistAgentArgs(host: Pick<LabHost, 'ipv4'>, o: MemberlistAgentOptions): string[] {
  const args = ['-name', o.name, '-bind', o.bind ?? host.ipv4, '-port', String(o.port ?? 7946)];
  if (o.secret !== undefined) args.push('-secret', o.secret);
  if (o.extraSecrets?.length) args.push('-extra-secrets', o.extraSecrets.join(','));
  if (o.label !== undefined) args.push('-label', o.label);
  if (o.meta !== undefined) args.push('-meta', o.meta);
  if (o.userState !== undefined) args.push('-user-state', o.userState);
  if (o.join?.length) args.push('-join', o.join.join(','));
  if (o.compression === false) args.push('-compression=false');
  if (o.record !== undefined) args.push('-record', o.record);
  if (o.probeIntervalMs !== undefined) args.push('-probe-interval', `${o.probeIntervalMs}ms`);
  if (o.probeTimeoutMs !== undefined) args.push('-probe-timeout', `${o.probeTimeoutMs}ms`);
  if (o.pushPullIntervalMs !== undefined) args.push('-push-pull-interval', `${o.pushPullIntervalMs}ms`);
  if (o.verbose) args.push('-v');
  return args;
}

/**
 * Start the lab's hashicorp/memberlist agent (packages/lab/go/memberlist-agent, built by go/build-tools.sh) in `host`'s
 * namespace and wait for its `ready` line. The agent is adopted by the host's topology: killed by PID on destroy.
 */
export async function startMemberlistAgent(host: LabHost, options: MemberlistAgentOptions): Promise<MemberlistAgent> {
  const bin = requireBuiltTool('memberlist-agent');
  const proc = host.spawn(bin, memberlistAgentArgs(host, options));
  const events: MemberlistAgentEvent[] = [];
  const listeners = new Set<() => void>();
  let partial = '';
  proc.child.stdout?.on('data', (d: Buffer) => {
    partial += d.toString();
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      if (line.startsWith('{')) {
        try {
          events.push(JSON.parse(line) as MemberlistAgentEvent);
        } catch {
          // not an event line
        }
      }
      nl = partial.indexOf('\n');
    }
    for (const l of [...listeners]) l();
  });
  proc.child.on('exit', () => {
    for (const l of [...listeners]) l();
  });

  const waitEvent = (pred: (e: MemberlistAgentEvent) => boolean, timeoutMs = 10_000, from = 0) =>
    new Promise<MemberlistAgentEvent>((resolve, reject) => {
      const check = () => {
        for (let i = from; i < events.length; i++) {
          const e = events[i];
          if (e && pred(e)) return e;
        }
        return undefined;
      };
      const done = () => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      const listener = () => {
        const e = check();
        if (e) {
          done();
          resolve(e);
        } else if (proc.exitCode() !== undefined) {
          done();
          reject(new Error(`lab: memberlist agent ${options.name} exited (${proc.exitCode()})\n${proc.stderr()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`lab: memberlist agent ${options.name}: no matching event in ${timeoutMs} ms\n${proc.stdout()}`),
        );
      }, timeoutMs);
      listeners.add(listener);
      listener();
    });

  const ready = await waitEvent((e) => e.event === 'ready', options.startTimeoutMs ?? 10_000);

  let chain: Promise<unknown> = Promise.resolve();
  const command = (cmd: Record<string, unknown>, timeoutMs = 10_000): Promise<MemberlistAgentEvent> => {
    const run = async () => {
      const from = events.length;
      proc.child.stdin?.write(`${JSON.stringify(cmd)}\n`);
      const reply = await waitEvent((e) => REPLIES.has(e.event), timeoutMs, from);
      if (reply.error !== undefined)
        throw new Error(`lab: memberlist agent ${options.name}: ${cmd.cmd}: ${reply.error}`);
      return reply;
    };
    const p = chain.then(run, run);
    chain = p.catch(() => undefined);
    return p;
  };

  return {
    name: options.name,
    address: `${ready.addr}:${ready.port}`,
    process: proc,
    events: () => [...events],
    waitEvent,
    async join(addrs) {
      return (await command({ cmd: 'join', addrs })).n ?? 0;
    },
    async members() {
      return (await command({ cmd: 'members' })).members ?? [];
    },
    async setMeta(meta) {
      await command({ cmd: 'meta', meta });
    },
    async send(node, data, reliable = false) {
      await command({ cmd: 'send', node, data, reliable });
    },
    async broadcast(data) {
      await command({ cmd: 'broadcast', data });
    },
    async leave(timeoutMs = 1000) {
      proc.child.stdin?.write(`${JSON.stringify({ cmd: 'leave', timeoutMs })}\n`);
      await proc.waitExit(timeoutMs + 5000);
    },
  };
}
