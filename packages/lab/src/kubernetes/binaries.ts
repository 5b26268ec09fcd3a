import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The Go tools the lab builds itself (packages/lab/go/build-tools.sh), not installed with apt. */
export const BUILT_TOOLS = ['etcd', 'kube-apiserver', 'memberlist-agent'] as const;

/** A tool {@link BUILT_TOOLS} lists. */
export type BuiltTool = (typeof BUILT_TOOLS)[number];

/** The command that builds them, for error messages. */
export const BUILD_COMMAND = 'packages/lab/go/build-tools.sh';

/** The module whose version names each tool's cache directory (the same table as build-tools.sh). */
const MAIN_MODULE: Record<BuiltTool, string> = {
  etcd: 'go.etcd.io/etcd/server/v3',
  'kube-apiserver': 'k8s.io/kubernetes',
  'memberlist-agent': 'github.com/hashicorp/memberlist',
};

/** Tools whose main.go is ours: their cache version also carries sha256(main.go)[:12], so an edit builds anew. */
const HASHED_SOURCE: ReadonlySet<BuiltTool> = new Set(['memberlist-agent']);

function toolFile(tool: BuiltTool, file: string): string {
  return fileURLToPath(new URL(`../../go/${tool}/${file}`, import.meta.url));
}

/** True when `tool` is one of {@link BUILT_TOOLS}. */
export function isBuiltTool(tool: string): tool is BuiltTool {
  return (BUILT_TOOLS as readonly string[]).includes(tool);
}

/** The build cache directory: `$INGOT_LAB_CACHE`, default `/var/cache/ingot-lab`. */
export function labCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.INGOT_LAB_CACHE || '/var/cache/ingot-lab';
}

/** The version of a built tool's main module, read from packages/lab/go/<tool>/go.mod (e.g. 'v1.34.4'). */
export function builtToolVersion(tool: BuiltTool): string {
  const goMod = readFileSync(toolFile(tool, 'go.mod'), 'utf8');
  const module = MAIN_MODULE[tool].replace(/[.]/g, '\\.');
  const m = new RegExp(`^\\s*(?:require\\s+)?${module}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!m?.[1]) throw new Error(`lab: no version of ${MAIN_MODULE[tool]} in packages/lab/go/${tool}/go.mod`);
  return m[1];
}

/** The version naming a tool's cache directory: {@link builtToolVersion}, plus `-<sha256(main.go)[:12]>` for our agents. */
function cacheVersion(tool: BuiltTool): string {
  const version = builtToolVersion(tool);
  if (!HASHED_SOURCE.has(tool)) return version;
  const hash = createHash('sha256')
    .update(readFileSync(toolFile(tool, 'main.go')))
    .digest('hex');
  return `${version}-${hash.slice(0, 12)}`;
}

/** Where build-tools.sh puts a tool: `<cache>/<tool>-<version>/<tool>`. */
export function builtToolPath(tool: BuiltTool, env: NodeJS.ProcessEnv = process.env): string {
  return `${labCacheDir(env)}/${tool}-${cacheVersion(tool)}/${tool}`;
}

/** True when the tool's binary exists and is executable. */
export function hasBuiltTool(tool: BuiltTool): boolean {
  try {
    accessSync(builtToolPath(tool), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The binary's path, or an error saying how to build it. */
export function requireBuiltTool(tool: BuiltTool): string {
  const path = builtToolPath(tool);
  if (!hasBuiltTool(tool)) {
    throw new Error(`lab: ${tool} is not built (no executable ${path}); run ${BUILD_COMMAND} (needs Go 1.26)`);
  }
  return path;
}
