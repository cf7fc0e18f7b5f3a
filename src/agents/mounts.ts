// Part: what the kernel says is mounted (`/proc/self/mounts`) and who uses a mounted file
// system (`/proc/PID/{cwd,root,exe,fd/*,maps}`), for Filesystem's status and its stop escalation.

import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';

/** One line of /proc/self/mounts. */
export interface MountEntry {
  /** What was mounted, as the kernel recorded the name (a device path, `host:/path`, `tmpfs`). */
  readonly source: string;
  readonly target: string;
  readonly fstype: string;
  readonly options: string;
}

/** The kernel escapes blank, tab, newline and backslash in mount table fields as \ooo. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** Parse the text of /proc/mounts (pure). Malformed lines are skipped. */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 4) continue;
    out.push({
      source: unescapeMountField(f[0] ?? ''),
      target: unescapeMountField(f[1] ?? ''),
      fstype: f[2] ?? '',
      options: f[3] ?? '',
    });
  }
  return out;
}

/** The mount table of the calling process's mount namespace; empty if unreadable. */
export function readMounts(): MountEntry[] {
  try {
    return parseMounts(readFileSync('/proc/self/mounts', 'utf8'));
  } catch {
    return [];
  }
}

/**
 * A mount point as the stock agent canonicalises it: trailing slashes removed, symlinks resolved
 * when the directory exists (`readlink -f`).
 */
export function canonicalDir(dir: string): string {
  const trimmed = dir.length > 1 ? dir.replace(/\/+$/, '') || '/' : dir;
  try {
    return realpathSync(trimmed);
  } catch {
    return trimmed;
  }
}

/** Mounts strictly below `dir`, deepest first (the order they must be unmounted in). */
export function mountsBelow(mounts: readonly MountEntry[], dir: string): MountEntry[] {
  const prefix = dir === '/' ? '/' : `${dir}/`;
  return mounts
    .filter((m) => m.target.startsWith(prefix) && m.target !== dir)
    .sort((a, b) => b.target.split('/').length - a.target.split('/').length);
}

/** The topmost mount on exactly `dir` (the last one listed), if any. */
export function mountAt(mounts: readonly MountEntry[], dir: string): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const m of mounts) if (m.target === dir) found = m;
  return found;
}

/** `major:minor` of a device number as Linux encodes dev_t. */
export function devMajorMinor(dev: number): [number, number] {
  const big = BigInt(dev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return [major, minor];
}

function statDev(path: string): number | undefined {
  try {
    return statSync(path).dev;
  } catch {
    return undefined;
  }
}

function linkUnder(path: string, dir: string): boolean {
  try {
    const t = readlinkSync(path);
    return t === dir || t.startsWith(`${dir}/`);
  } catch {
    return false;
  }
}

/**
 * Processes (in this PID namespace) that use a mounted file system: their working directory,
 * root, executable, an open file, or a mapped file lies on it. This is what `fuser -m` finds,
 * read directly from /proc so no helper is needed and our own pid is never among them.
 * `match.dev` matches by device number (a file system of its own); `match.underDir` by path (a
 * bind mount shares its device with the file system it shows, whose other users are not ours).
 */
export function mountUsers(
  match: { dev: number } | { underDir: string },
  exclude: readonly number[] = [process.pid],
): number[] {
  const dev = 'dev' in match ? match.dev : -1;
  const on = (p: string): boolean => ('dev' in match ? statDev(p) === dev : linkUnder(p, match.underDir));
  const [major, minor] = devMajorMinor(Math.max(dev, 0));
  const mapsDev = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((n) => /^[0-9]+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
  const users: number[] = [];
  for (const pid of pids) {
    if (exclude.includes(pid)) continue;
    const base = `/proc/${pid}`;
    let uses = ['cwd', 'root', 'exe'].some((l) => on(`${base}/${l}`));
    if (!uses) {
      try {
        uses = readdirSync(`${base}/fd`).some((fd) => on(`${base}/fd/${fd}`));
      } catch {
        // gone, or a kernel thread
      }
    }
    if (!uses && 'dev' in match) {
      try {
        uses = readFileSync(`${base}/maps`, 'utf8')
          .split('\n')
          .some((l) => l.split(/\s+/)[3] === mapsDev && l.split(/\s+/)[4] !== '0');
      } catch {
        // gone
      }
    }
    if (uses) users.push(pid);
  }
  return users;
}

/** `ps -f`-like one-line description of a process for the log ("sending signal TERM to: ..."). */
export function describeProcess(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return `${pid} ${cmd}`.slice(0, 300);
  } catch {
    return String(pid);
  }
}
