// Process helpers for the namespace harness: running host commands, reading /proc, and
// identifying processes by (pid, start time) so that a recycled PID is never signalled.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface RunResult {
  /** Exit status; 128 + signal number when the process was killed by a signal. */
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Called with the child's pid once it is spawned, and with undefined when it has exited. */
  readonly onSpawn?: (pid: number | undefined) => void;
}

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (SIGNAL_NUMBERS[signal] ?? 0));
}

/** Runs a host command; never throws for a non-zero exit (see runOk). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.env === undefined ? {} : { env: opts.env }),
    });
    let stdout = '';
    let stderr = '';
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        stderr += `\n[harness] ${cmd} timed out after ${opts.timeoutMs} ms, killed`;
        if (child.pid !== undefined) {
          for (const p of processTree(child.pid).reverse()) {
            try {
              process.kill(p, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
        child.kill('SIGKILL');
      }, opts.timeoutMs);
    }
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.onSpawn?.(undefined);
      resolve({ code: exitCodeOf(code, signal), signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export function formatCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Runs a host command and throws (with its stderr) unless it exits 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `${formatCommand(cmd, args)} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`,
    );
  }
  return r;
}

/** Synchronous variant, used only by teardown paths that must work inside a process 'exit' hook. */
export function runSync(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    input: opts.input ?? '',
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
  });
  return {
    code: exitCodeOf(r.status, r.signal),
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: (r.stderr ?? '') + (r.error ? `\n${r.error.message}` : ''),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot): with the pid it identifies a process. */
  readonly startTime: string;
}

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return undefined;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    startTime: rest[19] ?? '',
  };
}

/** A host process the harness started, identified so that a recycled PID is never signalled. */
export interface TrackedPid {
  readonly pid: number;
  readonly startTime: string;
  readonly what: string;
}

export function track(pid: number, what: string): TrackedPid | undefined {
  const st = readStat(pid);
  return st === undefined ? undefined : { pid, startTime: st.startTime, what };
}

/** True while the process exists, is not a zombie and (if given) is the same incarnation. */
export function isAlive(pid: number, startTime?: string): boolean {
  const st = readStat(pid);
  if (st === undefined || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

export function isTrackedAlive(t: TrackedPid): boolean {
  return isAlive(t.pid, t.startTime);
}

/** Signals a tracked process only if it is still the same incarnation. Returns whether it was sent. */
export function signalTracked(t: TrackedPid, signal: NodeJS.Signals): boolean {
  if (!isTrackedAlive(t)) return false;
  try {
    process.kill(t.pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      for (const c of text.split(/\s+/)) if (c !== '') out.push(Number(c));
    } catch {
      // task vanished
    }
  }
  return out;
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** The root pid and all its live descendants (by parent pid), root first. */
export function processTree(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const pid of allPids()) {
    const st = readStat(pid);
    if (st === undefined || st.state === 'Z') continue;
    const list = kids.get(st.ppid);
    if (list) list.push(pid);
    else kids.set(st.ppid, [pid]);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const p = todo.shift()!;
    if (out.includes(p)) continue;
    if (p === root && !isAlive(p)) continue;
    out.push(p);
    todo.push(...(kids.get(p) ?? []));
  }
  return out;
}

export function pidNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Host pids of every live process in the given PID namespace (as named by readlink /proc/PID/ns/pid). */
export function pidsInNamespace(ns: string): number[] {
  return allPids().filter((p) => pidNamespaceOf(p) === ns && isAlive(p));
}

/** Maps a pid as seen inside a PID namespace to the host pid (via the NSpid line of /proc/PID/status). */
export function hostPidOf(ns: string, nsPid: number): number | undefined {
  for (const p of pidsInNamespace(ns)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /^NSpid:\s+(.*)$/m.exec(status);
      const ids = m?.[1]?.trim().split(/\s+/).map(Number) ?? [];
      if (ids[ids.length - 1] === nsPid) return p;
    } catch {
      // gone
    }
  }
  return undefined;
}

export function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((s) => s !== '');
  } catch {
    return [];
  }
}

/** Single-quote a string for /bin/sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
