// Part: the pid file: one daemon per run directory, and how `tsbeat stop` finds it.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The pid recorded in the file, if it names a live process. */
export function runningPid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: alive but not ours to signal; still "running".
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

export function writePidFile(pidFile: string, pid: number): void {
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(pidFile, `${pid}\n`);
}

export function removePidFile(pidFile: string, pid: number): void {
  try {
    if (Number.parseInt(readFileSync(pidFile, 'utf8'), 10) === pid) rmSync(pidFile);
  } catch {
    // already gone
  }
}
