// Part: the persistent node identity: the generation counter (bumped on every start, so a
// restart is never mistaken for a healed partition) and the node uuid. Same file formats
// as heartbeat 3.0.6 (/var/lib/heartbeat/hb_generation, hb_uuid). Every failure names the
// file, what was being done and how to fix it, and leaves no temporary file behind.

import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { nodenameSeed, uuidFromNodename } from '../config/node-uuid.js';

/** The file-system calls state files use; replaceable so tests can fail each one. */
export interface StateFs {
  /** One level, like mkdir(2); makeDirectories() walks up. */
  mkdirSync(path: string): unknown;
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, data: Uint8Array): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  readdirSync(path: string): string[];
  readFileSync(path: string): Buffer;
}

export const systemStateFs: StateFs = {
  mkdirSync: (p) => nodeFs.mkdirSync(p),
  openSync: (p, f, m) => nodeFs.openSync(p, f, m),
  writeSync: (fd, d) => nodeFs.writeSync(fd, d),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (a, b) => nodeFs.renameSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
  readdirSync: (p) => nodeFs.readdirSync(p),
  readFileSync: (p) => nodeFs.readFileSync(p),
};

/** A state file could not be written: the message names the file, the step and the fix. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
  readonly file: string;
  readonly code: string | undefined;
  constructor(file: string, message: string, code: string | undefined) {
    super(message);
    this.file = file;
    this.code = code;
  }
}

/** What an operator can do about an errno while writing under `dir`. */
export function stateFileFix(code: string | undefined, dir: string): string {
  switch (code) {
    case 'ENOSPC':
      return `free space on the file system that holds ${dir} (df -h ${dir}), then start again`;
    case 'EDQUOT':
      return `the disk quota for ${dir} is used up; raise it or free space`;
    case 'EACCES':
    case 'EPERM':
      return `run tsbeat as root, or make ${dir} writable by the user running it`;
    case 'EROFS':
      return `${dir} is on a read-only file system: remount it read-write, or point TSBEAT_STATEDIR at a writable directory`;
    case 'ENOENT':
    case 'ENOTDIR':
      return `create ${dir} as a directory, or point TSBEAT_STATEDIR at one`;
    case 'EIO':
      return `the disk reported an I/O error (see dmesg); repair it or point TSBEAT_STATEDIR elsewhere`;
    case 'EISDIR':
      return 'a directory stands where the file should be: remove it';
    default:
      return `check ${dir} (permissions, free space, file system), or point TSBEAT_STATEDIR elsewhere`;
  }
}

function errnoOf(e: unknown): { code: string | undefined; text: string } {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  // Node's message repeats the call ("ENOSPC: no space left on device, write"); keep the cause.
  const text = typeof err?.message === 'string' ? err.message.replace(/, \w+( '.*')?$/, '') : String(e);
  return { code, text };
}

/**
 * `mkdir -p`, one level at a time. Node's own recursive mkdir never returns on a file system
 * that refuses creation with ENOENT under an existing directory (seen under /proc); this
 * tries each level once.
 */
function makeDirectories(dir: string, fs: StateFs): void {
  try {
    fs.mkdirSync(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw e;
  }
  makeDirectories(dirname(dir), fs);
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** Pids are recycled, but a temporary file of a live process must never be taken from it. */
function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove `FILE.tmpPID` files that a process killed in the middle of a write left behind
 * (no cleanup code runs on SIGKILL or power loss), unless that process still runs.
 */
export function removeStaleTemporaries(file: string, fs: StateFs = systemStateFs): string[] {
  const dir = dirname(file);
  const prefix = `${basename(file)}.tmp`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = name.slice(prefix.length);
    if (!/^\d{1,10}$/.test(pid) || pidAlive(Number(pid))) continue;
    try {
      fs.unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    } catch {
      // gone already, or not ours to remove: the next start tries again
    }
  }
  return removed;
}

/**
 * Write a file so that after a crash it holds either the old or the new content: a
 * temporary file, fsync, rename, fsync of the directory. On any failure the temporary file
 * is removed and a StateFileError says which file, which step and what to do.
 */
export function writeDurably(
  file: string,
  data: string | Uint8Array,
  mode = 0o644,
  fs: StateFs = systemStateFs,
): void {
  const dir = dirname(file);
  const tmp = `${file}.tmp${process.pid}`;
  let step = `create directory ${dir}`;
  let fd: number | undefined;
  let tmpExists = false;
  const fail = (e: unknown): never => {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // the write already failed; the close error adds nothing
      }
    }
    if (tmpExists) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // removed by someone else, or the directory went away
      }
    }
    const { code, text } = errnoOf(e);
    throw new StateFileError(
      file,
      `cannot write ${file} (${step}): ${text}; ${stateFileFix(code, dir)}`,
      code,
    );
  };
  try {
    makeDirectories(dir, fs);
    step = `create ${tmp}`;
    fd = fs.openSync(tmp, 'w', mode);
    tmpExists = true;
    step = `write ${tmp}`;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes.subarray(written));
    step = `fsync ${tmp}`;
    fs.fsyncSync(fd);
    step = `close ${tmp}`;
    const f = fd;
    fd = undefined;
    fs.closeSync(f);
    step = `rename ${tmp} to ${basename(file)}`;
    fs.renameSync(tmp, file);
    tmpExists = false;
  } catch (e) {
    fail(e);
  }
  // The rename is done: the file is complete. The directory fsync makes it survive a
  // power cut; if it fails the data is still there, but we say so rather than pretend.
  step = `fsync directory ${dir}`;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
    const f = fd;
    fd = undefined;
    fs.closeSync(f);
  } catch (e) {
    // Some file systems cannot fsync a directory at all; that is not a failure to write.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EINVAL' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
      try {
        if (fd !== undefined) fs.closeSync(fd);
      } catch {
        // nothing was written through this descriptor
      }
      return;
    }
    fail(e);
  }
}

export interface GenerationResult {
  readonly generation: number;
  /** Set when there was no usable previous generation (heartbeat: "No Previous generation"). */
  readonly fresh: boolean;
  /** Why a file that exists could not be used (log it as a warning), if so. */
  readonly problem?: string;
}

/**
 * `hbgenmethod file`: read the counter, add one, write it back durably before use.
 * heartbeat's format: the decimal number right-aligned in 15 columns, then a newline.
 * Missing or unreadable: start from the current time, as heartbeat does.
 */
export function nextGeneration(
  file: string,
  method: 'file' | 'time',
  nowSeconds: number,
  fs: StateFs = systemStateFs,
): GenerationResult {
  if (method === 'time') return { generation: nowSeconds, fresh: false };
  removeStaleTemporaries(file, fs);
  let previous: number | undefined;
  let problem: string | undefined;
  try {
    const text = fs.readFileSync(file).toString('latin1').trim();
    if (/^\d{1,15}$/.test(text)) previous = Number.parseInt(text, 10);
    else
      problem = `${file} does not hold a generation number (${JSON.stringify(text.slice(0, 20))}); starting from the clock`;
  } catch (e) {
    const { code, text } = errnoOf(e);
    if (code !== 'ENOENT') problem = `cannot read ${file}: ${text}; starting from the clock`;
  }
  const generation = (previous ?? nowSeconds) + 1;
  writeDurably(file, `${String(generation).padStart(15, ' ')}\n`, 0o644, fs);
  return problem
    ? { generation, fresh: previous === undefined, problem }
    : { generation, fresh: previous === undefined };
}

/** Where the node uuid comes from: ha.cf `uuidfrom` and this node's name. */
export interface UuidSource {
  readonly uuidfrom: 'file' | 'nodename';
  readonly nodename: string;
}

export interface NodeUuidResult {
  readonly uuid: Uint8Array;
  /** A new uuid was generated and saved (heartbeat: "No uuid found for current node"). */
  readonly created: boolean;
  /** `uuidfrom nodename`: heartbeat's seed for the name (it logs "seed is N"). */
  readonly seed?: number;
}

/**
 * The node's 16-byte uuid. `uuidfrom file` (default): hb_uuid, raw bytes, created once.
 * `uuidfrom nodename`: derived from the node name exactly as heartbeat 3.0.6 derives it,
 * without reading or writing hb_uuid (as heartbeat).
 */
export function nodeUuid(file: string, source?: UuidSource, fs: StateFs = systemStateFs): NodeUuidResult {
  if (source?.uuidfrom === 'nodename') {
    return { uuid: uuidFromNodename(source.nodename), created: false, seed: nodenameSeed(source.nodename) };
  }
  removeStaleTemporaries(file, fs);
  try {
    // heartbeat reads the first 16 bytes and ignores anything after them.
    const bytes = fs.readFileSync(file);
    if (bytes.length >= 16) return { uuid: new Uint8Array(bytes.subarray(0, 16)), created: false };
  } catch {
    // create below
  }
  const uuid = new Uint8Array(randomBytes(16));
  writeDurably(file, uuid, 0o644, fs);
  return { uuid, created: true };
}
