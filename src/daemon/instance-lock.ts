// Part: one daemon per run directory, enforced by the kernel: an abstract Unix socket whose
// name is derived from the run directory. Binding it is atomic (two starts at the same moment
// cannot both win) and the kernel releases it when the process dies, however it dies, so a
// crash never leaves a stale lock (a pid file can; it stays only as heartbeat's way for tools
// to find the daemon).

import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';

/** Abstract socket names live in the network namespace: one daemon per (netns, run dir). */
export function lockName(runDir: string): string {
  const digest = createHash('sha256').update(resolve(runDir)).digest('hex').slice(0, 16);
  return `\0tsbeat-instance-${digest}`;
}

export class AlreadyRunningError extends Error {
  override readonly name = 'AlreadyRunningError';
}

export interface InstanceLock {
  release(): Promise<void>;
}

/**
 * Take the lock for `runDir`, or fail with AlreadyRunningError. Nothing useful is served on
 * the socket: a connection is closed at once, so holding connections to it costs nothing.
 */
export async function acquireInstanceLock(runDir: string): Promise<InstanceLock> {
  const server: Server = createServer((c) => c.destroy());
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? new AlreadyRunningError(`another tsbeat daemon is running with run directory ${runDir}`)
          : new Error(`cannot take the single-instance lock for ${runDir}: ${e.message}`),
      );
    });
    server.listen(lockName(runDir), () => resolveListen());
  });
  server.on('error', () => undefined);
  server.unref();
  return {
    release: () => new Promise<void>((r) => server.close(() => r())),
  };
}
