// Part: what the status CLIs (cl_status, tsbeat status, explain, check_tsbeat) ask about the
// daemon beyond its sockets: whether its pid file names a live process.

import { daemonPaths } from '../daemon/paths.js';
import { runningPid } from '../daemon/pidfile.js';

/**
 * The daemon's pid when its pid file (in TSBEAT_RUNDIR) names a live process: how the CLIs tell
 * a daemon too busy to answer from one that is not running.
 */
export function daemonAlive(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return runningPid(daemonPaths(env).pidFile);
}
