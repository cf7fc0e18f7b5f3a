// Part: what a Node process can do of heartbeat's `realtime`, `rtprio` and `coredumps`:
// real-time scheduling through chrt(1), core files through prlimit(1) (both util-linux), a
// nice value as the fallback. Each step runs asynchronously and returns log lines saying
// what was done and what was not; nothing here can stop the daemon from starting.
//
// heartbeat 3.0.6 runs every process SCHED_RR at priority 1 (or `rtprio`) and mlockall()s
// them when `realtime` is true, its default. tsbeat does the same scheduling, with two
// differences it states: programs it starts (resource agents, scripts) run at normal
// priority (SCHED_RESET_ON_FORK), and it does not go real-time when the kernel's RT
// throttling is switched off, because a runaway JavaScript event loop at SCHED_RR could
// then starve every other process of its CPU. Memory is never locked: Node has no mlockall.
//
// Real time is only worth having if the heartbeat thread never waits for a thread or process that
// runs behind it. Measured under two busy loops at SCHED_RR 1 on a 2-CPU machine (bench load,
// phase cpu): with V8's default parallel and concurrent GC, the main thread sleeps on a futex
// until a GC helper thread (also SCHED_RR 1, but queued behind a busy loop for up to a 100 ms
// time slice) has finished its share: 100-300 ms holes several times a second, and outliers of
// seconds. Hence DAEMON_NODE_FLAGS: the daemon's node runs with --single-threaded-gc (the `tsbeat`
// wrapper and `tsbeat start`'s detached re-run pass it; V8 refuses it at run time), and when it
// is missing the realtime line says so.

import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { setPriority } from 'node:os';

export interface OsTuningRequest {
  /** ha.cf `realtime` (default true). */
  readonly realtime: boolean;
  /** ha.cf `rtprio` (1..99); heartbeat's default is 1. */
  readonly rtprio?: number;
  /** ha.cf `coredumps` (default true). */
  readonly coredumps: boolean;
}

export interface OsLine {
  readonly level: 'info' | 'warn';
  readonly text: string;
}

export interface RunResult {
  readonly code: number | null;
  readonly stderr: string;
  /** Set when the program could not be run at all (e.g. ENOENT: not installed). */
  readonly error?: string;
}

/** The outside world of applyOsTuning, replaceable in tests. */
export interface OsDeps {
  readonly pid: number;
  run(cmd: string, args: readonly string[]): Promise<RunResult>;
  /** A file's text, or undefined when it cannot be read. */
  readText(path: string): Promise<string | undefined>;
  /** Thread ids of `pid` (/proc/PID/task). */
  threads(pid: number): Promise<readonly number[]>;
  setNice(pid: number, nice: number): void;
  /** The node options this process was started with (process.execArgv). */
  readonly execArgv: readonly string[];
}

/**
 * node(1) options the daemon must be started with (V8 flags cannot be changed once it runs):
 * garbage collection on the main thread only, so that no heartbeat ever waits for a GC helper
 * thread. A small heap (a few MB) keeps those pauses at a few ms.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

/** The nice value used when real-time scheduling is asked for but cannot be had. */
export const FALLBACK_NICE = -10;

/** SCHED_RR in /proc/PID/stat's policy field. */
const SCHED_RR = 2;

export function systemOsDeps(pid = process.pid): OsDeps {
  return {
    pid,
    run: (cmd, args) =>
      new Promise((resolve) => {
        execFile(cmd, [...args], { timeout: 5000, encoding: 'utf8' }, (err, _stdout, stderr) => {
          if (!err) return resolve({ code: 0, stderr });
          const e = err as NodeJS.ErrnoException & { code?: unknown };
          if (typeof e.code === 'number') return resolve({ code: e.code, stderr });
          resolve({ code: null, stderr, error: typeof e.code === 'string' ? e.code : e.message });
        });
      }),
    readText: async (path) => {
      try {
        return await readFile(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    threads: async (p) => {
      try {
        return (await readdir(`/proc/${p}/task`)).map(Number).filter((n) => Number.isInteger(n));
      } catch {
        return [];
      }
    },
    setNice: (p, nice) => setPriority(p, nice),
    execArgv: process.execArgv,
  };
}

/** policy and rt_priority of a task, from /proc/PID/task/TID/stat (fields 41 and 40). */
async function schedOf(deps: OsDeps, tid: number): Promise<{ policy: number; prio: number } | undefined> {
  const text = await deps.readText(`/proc/${deps.pid}/task/${tid}/stat`);
  if (text === undefined) return undefined;
  // The command name (field 2) may hold blanks and parentheses: count after its last ')'.
  const rest = text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
  const prio = Number(rest[37]);
  const policy = Number(rest[38]);
  return Number.isFinite(policy) && Number.isFinite(prio) ? { policy, prio } : undefined;
}

function failureText(tool: string, r: RunResult): string {
  if (r.error === 'ENOENT') return `${tool} is not installed (apt-get install util-linux)`;
  if (r.error !== undefined) return `${tool} could not run: ${r.error}`;
  const why = r.stderr.trim().split('\n')[0] ?? '';
  return `${tool} failed (status ${r.code})${why ? `: ${why.slice(0, 200)}` : ''}`;
}

async function applyRealtime(req: OsTuningRequest, deps: OsDeps): Promise<OsLine[]> {
  const noLock = 'memory not locked (Node cannot mlockall)';
  if (!req.realtime) return [{ level: 'info', text: 'realtime: off in ha.cf; normal scheduling' }];
  const prio = req.rtprio ?? 1;
  const fallback = (why: string): OsLine[] => {
    try {
      deps.setNice(deps.pid, FALLBACK_NICE);
      return [
        {
          level: 'warn',
          text: `realtime: SCHED_RR not applied (${why}); running at nice ${FALLBACK_NICE} instead; ${noLock}`,
        },
      ];
    } catch (e) {
      return [
        {
          level: 'warn',
          text: `realtime: SCHED_RR not applied (${why}), nor nice ${FALLBACK_NICE} (${(e as Error).message}); normal scheduling; ${noLock}`,
        },
      ];
    }
  };
  const throttle = (await deps.readText('/proc/sys/kernel/sched_rt_runtime_us'))?.trim();
  if (throttle === '-1') {
    return fallback(
      'the kernel does not throttle real-time tasks (kernel.sched_rt_runtime_us = -1), so a runaway tsbeat could starve the machine',
    );
  }
  const r = await deps.run('chrt', [
    '--all-tasks',
    '--reset-on-fork',
    '--rr',
    '--pid',
    String(prio),
    String(deps.pid),
  ]);
  if (r.code !== 0) return fallback(failureText('chrt', r));
  // Check what the kernel now says rather than trusting the exit status.
  const tids = await deps.threads(deps.pid);
  const states = await Promise.all(tids.map((t) => schedOf(deps, t)));
  const rr = states.filter((s) => s?.policy === SCHED_RR && s.prio === prio).length;
  if (rr === 0) return fallback(`chrt succeeded but the kernel reports no thread at SCHED_RR ${prio}`);
  const lines: OsLine[] = [
    {
      level: 'info',
      text: `realtime: SCHED_RR priority ${prio} applied (${rr} of ${tids.length} threads; programs tsbeat starts run at normal priority); ${noLock}`,
    },
  ];
  const missing = DAEMON_NODE_FLAGS.filter((f) => !deps.execArgv.includes(f));
  if (missing.length > 0)
    lines.push({
      level: 'warn',
      text: `realtime: node was started without ${missing.join(' ')}: heartbeats can wait for garbage collector threads under CPU load (start tsbeat through the tsbeat command, or run node ${missing.join(' ')})`,
    });
  return lines;
}

async function applyCoredumps(req: OsTuningRequest, deps: OsDeps): Promise<OsLine[]> {
  if (!req.coredumps)
    return [{ level: 'info', text: 'coredumps: off in ha.cf; core file size limit left as it is' }];
  const lines: OsLine[] = [];
  const r = await deps.run('prlimit', ['--core=unlimited:unlimited', '--pid', String(deps.pid)]);
  const limits = await deps.readText(`/proc/${deps.pid}/limits`);
  const core = limits?.split('\n').find((l) => l.startsWith('Max core file size'));
  const unlimited = core !== undefined && /\bunlimited\s+unlimited\b/.test(core);
  if (r.code === 0 && unlimited) {
    lines.push({ level: 'info', text: 'coredumps: core file size limit raised to unlimited' });
  } else {
    const why = r.code === 0 ? 'the limit did not change' : failureText('prlimit', r);
    lines.push({
      level: 'warn',
      text: `coredumps: core file size limit not raised (${why}); run "ulimit -c unlimited" before tsbeat start`,
    });
  }
  // heartbeat's start-up advice when the kernel would name every core file "core".
  const pattern = (await deps.readText('/proc/sys/kernel/core_pattern'))?.trim();
  const usesPid = (await deps.readText('/proc/sys/kernel/core_uses_pid'))?.trim();
  if (pattern === 'core' && usesPid === '0') {
    lines.push({ level: 'warn', text: 'Core dumps could be lost if multiple dumps occur.' });
    lines.push({
      level: 'warn',
      text: 'Consider setting non-default value in /proc/sys/kernel/core_pattern (or equivalent) for maximum supportability',
    });
    lines.push({
      level: 'warn',
      text: 'Consider setting /proc/sys/kernel/core_uses_pid (or equivalent) to 1 for maximum supportability',
    });
  }
  return lines;
}

/**
 * Apply `realtime`/`rtprio` and `coredumps` to this process as far as Node can, and say
 * what happened, one log line per fact. Never throws.
 */
export async function applyOsTuning(req: OsTuningRequest, deps: OsDeps = systemOsDeps()): Promise<OsLine[]> {
  const settle = async (f: () => Promise<OsLine[]>, what: string): Promise<OsLine[]> => {
    try {
      return await f();
    } catch (e) {
      return [{ level: 'warn', text: `${what}: not applied (${(e as Error).message})` }];
    }
  };
  const [rt, core] = await Promise.all([
    settle(() => applyRealtime(req, deps), 'realtime'),
    settle(() => applyCoredumps(req, deps), 'coredumps'),
  ]);
  return [...rt, ...core];
}
