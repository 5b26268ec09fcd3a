import type { LabHost, LabProcess } from '@ingot/lab';
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
