// Part: the small files agents keep under HA_RSCTMP (pid files, LVS loopback state, pseudo
// resource markers), with the modes the stock agents give them. Errors become values.
//
// Synchronous on purpose, and only for that: HA_RSCTMP is /run/resource-agents, a tmpfs (memory,
// no disk or server to wait for), and the in-process agents (registry.ts) use these helpers for
// nothing else, so a call here costs microseconds inside the daemon. Agents that touch files
// which may live on a disk or a mount (Filesystem, vserver, lxc, ...) run in a process of their
// own; readTextAsync is for a file outside HA_RSCTMP that an in-process agent must read.

import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Create a directory (and parents) if missing; false when that is impossible. */
export function ensureDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Write a whole file (creating its directory); the error text on failure. */
export function writeText(path: string, text: string, mode: number): string | undefined {
  try {
    ensureDir(dirname(path));
    writeFileSync(path, text, { mode });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The file's text, or undefined when it cannot be read. */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The file's text without blocking the caller's thread, or undefined when it cannot be read. */
export async function readTextAsync(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether a regular file exists (`[ -f ]`). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `rm -f`: true unless the file exists and could not be removed. */
export function removeFile(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** `touch`: create or update the mtime; the error text on failure. */
export function touch(path: string): string | undefined {
  try {
    closeSync(openSync(path, 'a', 0o644));
    const now = new Date();
    utimesSync(path, now, now);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The pids in a pid file (one per line or blank-separated); empty when missing or unreadable. */
export function readPids(path: string): number[] {
  const text = readText(path);
  if (text === undefined) return [];
  return text
    .split(/\s+/)
    .filter((w) => /^[0-9]+$/.test(w))
    .map(Number)
    .filter((n) => n > 1);
}

/** A pid file as the stock agents write it: the pid and a newline, mode 600. */
export function writePidFile(path: string, pid: number): string | undefined {
  return writeText(path, `${pid}\n`, 0o600);
}
