import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { BUILD_COMMAND, hasBuiltTool, isBuiltTool } from './kubernetes/binaries.js';

/** Debian package that provides each tool the lab knows about (for the "what to install" message). */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  bridge: 'iproute2',
  vtysh: 'frr',
  bgpd: 'frr',
  zebra: 'frr',
  bfdd: 'frr',
  bird: 'bird2',
  birdc: 'bird2',
  gobgpd: 'gobgpd',
  gobgp: 'gobgpd',
  exabgp: 'exabgp',
  arping: 'iputils-arping',
  ping: 'iputils-ping',
  ndisc6: 'ndisc6',
  rdisc6: 'ndisc6',
  nft: 'nftables',
  tcpdump: 'tcpdump',
  tshark: 'tshark',
  scapy: 'python3-scapy',
  python3: 'python3',
  sysctl: 'procps',
  pkill: 'procps',
  killall: 'psmisc',
  openssl: 'openssl',
  curl: 'curl',
  'systemd-analyze': 'systemd',
};

/** Where tools that are not on a normal PATH live. */
const TOOL_PATHS: Readonly<Record<string, string>> = {
  bgpd: '/usr/lib/frr/bgpd',
  zebra: '/usr/lib/frr/zebra',
  bfdd: '/usr/lib/frr/bfdd',
};

/** Tools every lab suite needs whatever it names. */
const BASE_TOOLS = ['ip', 'sysctl'];

/** Outcome of {@link checkLab}. */
export interface LabCheck {
  ok: boolean;
  /** Why the lab cannot run (empty when ok). */
  problems: string[];
  /** Missing tools. */
  missingTools: string[];
  /** Debian packages to install for the missing tools (the Go tools the lab builds are not among them). */
  packages: string[];
  /** True when running as root or with CAP_NET_ADMIN. */
  privileged: boolean;
}

/**
 * True when this process holds CAP_NET_ADMIN (bit 12 of CapEff in /proc/self/status), which creating namespaces and
 * interfaces needs. Root without it (some containers) is not enough; when /proc cannot be read, uid 0 is taken as
 * privileged.
 */
export function hasNetAdmin(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1] !== undefined) return (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n;
  } catch {
    // fall through
  }
  return process.getuid?.() === 0;
}

/**
 * True when `tool` can be run: a PATH lookup (`command -v`), a fixed path for FRR daemons, an import for scapy, the
 * build cache for the Go tools the lab builds (etcd, kube-apiserver: see packages/lab/go/build-tools.sh).
 */
export function hasTool(tool: string): boolean {
  if (isBuiltTool(tool)) return hasBuiltTool(tool);
  try {
    if (tool === 'scapy') {
      execFileSync('/usr/bin/python3', ['-c', 'import scapy.all'], { stdio: 'ignore', timeout: 20_000 });
      return true;
    }
    const fixed = TOOL_PATHS[tool];
    if (fixed) {
      execFileSync('test', ['-x', fixed], { stdio: 'ignore' });
      return true;
    }
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const toolCache = new Map<string, boolean>();

/** Check privilege and tools for a lab suite (results for tools are cached per process). */
export function checkLab(tools: readonly string[] = []): LabCheck {
  const privileged = hasNetAdmin();
  const wanted = [...new Set([...BASE_TOOLS, ...tools])];
  const missingTools = wanted.filter((t) => {
    let ok = toolCache.get(t);
    if (ok === undefined) {
      ok = hasTool(t);
      toolCache.set(t, ok);
    }
    return !ok;
  });
  const missingApt = missingTools.filter((t) => !isBuiltTool(t));
  const missingBuilt = missingTools.filter(isBuiltTool);
  const packages = [...new Set(missingApt.map((t) => TOOL_PACKAGES[t] ?? t))];
  const problems: string[] = [];
  if (!privileged) problems.push('needs root with CAP_NET_ADMIN to create network namespaces');
  if (missingApt.length > 0) {
    problems.push(`missing tools: ${missingApt.join(', ')} (apt-get install ${packages.join(' ')})`);
  }
  if (missingBuilt.length > 0) {
    problems.push(`missing lab builds: ${missingBuilt.join(', ')} (run ${BUILD_COMMAND}; needs Go 1.26)`);
  }
  return { ok: problems.length === 0, problems, missingTools, packages, privileged };
}

/** True when the CI environment variable is set (and not '0' or 'false'). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** Options of {@link labSuite}. */
export interface LabSuiteOptions {
  /**
   * Tools the suite runs (checked with `command -v`); `ip` and `sysctl` are always checked. 'etcd' and
   * 'kube-apiserver' are looked up in the lab's build cache (built by packages/lab/go/build-tools.sh).
   */
  tools?: readonly string[];
}

/**
 * Declare a vitest `describe` block of lab tests. When root and all tools are present it is a plain describe. When
 * something is missing: without CI the block is skipped, with the reason in its name and printed with console.warn;
 * with CI set it becomes one failing test whose message says what is missing and what to apt-get install.
 */
export function labSuite(name: string, opts: LabSuiteOptions, fn: () => void): void {
  const check = checkLab(opts.tools ?? []);
  if (check.ok) {
    describe(name, fn);
    return;
  }
  const reason = check.problems.join('; ');
  if (isCi()) {
    describe(name, () => {
      it('lab prerequisites', () => {
        throw new Error(`lab suite "${name}" cannot run in CI: ${reason}`);
      });
    });
    return;
  }
  console.warn(`[@ingot/lab] skipping "${name}": ${reason}`);
  describe.skip(`${name} [skipped: ${reason}]`, fn);
}

/** Anything with an async destroy (a topology, a peer). */
export interface Destroyable {
  destroy(): Promise<void>;
}

/**
 * Create a topology in beforeAll and destroy it in afterAll (even when tests fail). Returns a getter that throws if
 * used before beforeAll ran. Example: `const lab = useTopology(() => createPair()); it('...', () => lab().a.ns)`.
 */
export function useTopology<T extends Destroyable>(factory: () => Promise<T>): () => T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await factory();
  });
  afterAll(async () => {
    const v = value;
    value = undefined;
    await v?.destroy();
  });
  return () => {
    if (!value) throw new Error('lab: useTopology value used outside the suite (before beforeAll or after afterAll)');
    return value;
  };
}
