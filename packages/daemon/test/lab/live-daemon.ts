import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabHost, LabProcess } from '@ingot/lab';
import { afterAll } from 'vitest';
import { CLI } from './cluster-harness.js';

/**
 * Starts `ingot run --announce live --config FILE --node node-1 --router-id ID` (plus `extra`) in `host`: the one
 * command line the single-daemon lab tests (BGP, BFD, BFD Echo, unnumbered) run. Wait for its log lines with the
 * process's own `waitOutput`, which reads stderr too and fails at once if the daemon exits.
 */
export function spawnLiveDaemon(host: LabHost, configFile: string, routerId: string, extra: string[] = []): LabProcess {
  return host.spawn(process.execPath, [
    CLI,
    'run',
    '--announce',
    'live',
    '--config',
    configFile,
    '--node',
    'node-1',
    '--router-id',
    routerId,
    ...extra,
  ]);
}

/** The BGP pool (203.0.113.0/28) and its BGPAdvertisement the single-daemon BGP lab tests announce from (YAML, ends with a separator). */
export const BGP_POOL_YAML = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: bgp }
spec: { addresses: [203.0.113.0/28] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: bgp }
spec: { ipAddressPools: [bgp] }
---
`;

/**
 * The suite's configuration file, in a temporary directory removed after the suite (call it in the suite's body).
 * @returns a writer: writes the text to the file and returns its path (the same path every time)
 */
export function useConfigFile(prefix: string): (text: string) => string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  return (text) => {
    writeFileSync(file, text);
    return file;
  };
}
