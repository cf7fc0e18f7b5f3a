// Part: where the daemon keeps its run-time files (pid, API socket) and persistent state
// (generation, uuid). Relocatable so tests and a tsbeat beside a system heartbeat never collide.

import { join } from 'node:path';

export interface DaemonPaths {
  /** Run-time files: pid file, API socket. TSBEAT_RUNDIR, default /run/tsbeat. */
  readonly runDir: string;
  /** Persistent state: hb_generation, hb_uuid. TSBEAT_STATEDIR, default /var/lib/tsbeat. */
  readonly stateDir: string;
  readonly pidFile: string;
  readonly socket: string;
  readonly generationFile: string;
  readonly uuidFile: string;
}

export function daemonPaths(env: NodeJS.ProcessEnv = process.env): DaemonPaths {
  const runDir = env['TSBEAT_RUNDIR'] || '/run/tsbeat';
  const stateDir = env['TSBEAT_STATEDIR'] || '/var/lib/tsbeat';
  return {
    runDir,
    stateDir,
    pidFile: join(runDir, 'tsbeat.pid'),
    socket: join(runDir, 'api.sock'),
    generationFile: join(stateDir, 'hb_generation'),
    uuidFile: join(stateDir, 'hb_uuid'),
  };
}
