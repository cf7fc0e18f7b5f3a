// Part: UUCP lock files for serial lines (/var/lock/LCK..ttyS0), compatible with heartbeat's
// devlock (cluster-glue lib/stonith/st_ttylock.c) and other UUCP-style users of the line.

import { constants } from 'node:fs';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** HA_VARLOCKDIR on Debian. */
export const DEFAULT_LOCK_DIR = '/var/lock';

/** The pid right-aligned in 11 characters and a newline: LOCKSTRLEN (12) bytes, as `%*ld\n`. */
function lockText(pid: number): string {
  return `${String(pid).padStart(11, ' ')}\n`;
}

/**
 * The lock file name for a device: heartbeat skips the first five characters (`/dev/`) and keeps
 * only letters and digits, so /dev/ttyS0 → LCK..ttyS0 and /dev/pts/3 → LCK..pts3.
 */
export function lockFileName(device: string): string {
  return `LCK..${device.slice(5).replace(/[^A-Za-z0-9]/g, '')}`;
}

/**
 * Lock files this process holds. Heartbeat treats a lock file carrying its own pid as stale (it
 * opens each line once); a process with several media must not steal its own lock, or closing
 * the loser of the race would remove the winner's file.
 */
const held = new Set<string>();
const locking = new Set<string>();

/** A held lock; `release()` removes the file if it is still ours. */
export interface TtyLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Outcome of trying to lock. */
export type TtyLockResult =
  | { readonly kind: 'locked'; readonly lock: TtyLock }
  | { readonly kind: 'busy'; readonly pid: number }
  | { readonly kind: 'no-lock-dir' };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which still holds the line.
    return typeof err === 'object' && err !== null && 'code' in err && err.code === 'EPERM';
  }
}

function code(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/**
 * Lock `device` the UUCP way: a lock file holding a live process's pid means busy; a stale or
 * garbled one is removed. The new file is written under a temporary name and hard-linked into
 * place, so two racing lockers cannot both win (st_ttylock.c DoLock).
 */
export async function lockTty(
  device: string,
  dir = DEFAULT_LOCK_DIR,
  pid = process.pid,
): Promise<TtyLockResult> {
  const path = join(dir, lockFileName(device));
  // Within this process the sets decide; the file protocol is for other processes.
  if (held.has(path) || locking.has(path)) return { kind: 'busy', pid };
  locking.add(path);
  try {
    return await lockFile(device, dir, path, pid);
  } finally {
    locking.delete(path);
  }
}

async function lockFile(device: string, dir: string, path: string, pid: number): Promise<TtyLockResult> {
  try {
    const text = await readFile(path, 'utf8');
    const holder = Number.parseInt(text.trim(), 10);
    const ours = holder === pid && held.has(path);
    if (ours || (Number.isInteger(holder) && holder > 1 && holder !== pid && isAlive(holder))) {
      return { kind: 'busy', pid: holder };
    }
    await unlink(path).catch(() => undefined);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
  }

  const temp = join(dir, `tmp${pid}-${lockFileName(device).slice(5)}`);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(temp, constants.O_CREAT | constants.O_WRONLY | constants.O_EXCL, 0o644);
  } catch (err) {
    if (code(err) === 'ENOENT') return { kind: 'no-lock-dir' };
    if (code(err) !== 'EEXIST') throw err;
    // A temporary file of ours left by a crash: replace it.
    await unlink(temp);
    handle = await open(temp, constants.O_CREAT | constants.O_WRONLY | constants.O_EXCL, 0o644);
  }
  try {
    await handle.writeFile(lockText(pid));
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
  } catch (err) {
    if (code(err) !== 'EEXIST') throw err;
    const text = await readFile(path, 'utf8').catch(() => '');
    return { kind: 'busy', pid: Number.parseInt(text.trim(), 10) || 0 };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  held.add(path);
  let released = false;
  return {
    kind: 'locked',
    lock: {
      path,
      release: async () => {
        if (released) return;
        released = true;
        held.delete(path);
        const text = await readFile(path, 'utf8').catch(() => '');
        if (Number.parseInt(text.trim(), 10) === pid) await unlink(path).catch(() => undefined);
      },
    },
  };
}
