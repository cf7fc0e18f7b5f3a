// Part: what an agent needs from its host process — `ip` sessions, GARP runners, other tools,
// privileges — in two flavours with the same behaviour: the executable (a short-lived `node`
// started by a shim; spawns on demand) and the in-process runtime of tsbeat's resource manager,
// which keeps idle `ip -batch` processes (handed back after each action and reused: ip.ts
// IpLease) and one idle GARP runner spawned ahead of need, so that a
// takeover forks nothing: forks from a large Node process are slow (libuv forks; ~1 ms per
// 40 MB of RSS here) and block the daemon's event loop while they happen.

import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { StartPlan } from './early-start.js';
import { GarpRunner } from './garp.js';
import { IpProcess, IpSession, type IpSessionOptions, leaseIpProcess } from './ip.js';
import type { Env } from './metadata.js';

/** Output of a helper program run to completion. */
export interface ToolResult {
  /** Exit status; 127 when it could not be started, 124 on timeout/abort (like `timeout`). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of a helper run. */
export interface ToolOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Text for the program's stdin (default: no stdin). */
  readonly input?: string;
}

/** The host services an agent action uses. */
export interface AgentRuntime {
  readonly kind: 'in-process' | 'executable';
  /** An `ip` batch session for this action; the agent closes it when done. */
  openIp(options: IpSessionOptions): IpSession;
  /** A GARP runner waiting for its lines. */
  garpRunner(): GarpRunner;
  /** Run a program (never through a shell) and collect its output. */
  runTool(file: string, args: readonly string[], options?: ToolOptions): Promise<ToolResult>;
  /** Whether we may change addresses (`ocf_is_root`). */
  isRoot(): boolean;
  /**
   * The daemon's resource runner listens here for what a start of this resource would ask and
   * change (early-start.ts); agents call it after their discovery: undefined when start would
   * do more than those changes.
   */
  notePlan?(plan: StartPlan | undefined): void;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Positive `haveBinary` answers (PATH + name → the file found, and when it was last seen). */
const binaryCache = new Map<string, { file: string; atMs: number }>();
const BINARY_CACHE_MS = 10_000;

function isExecutable(file: string): boolean {
  const st = statSync(file, { throwIfNoEntry: false });
  return st !== undefined && st.isFile() && (st.mode & 0o111) !== 0;
}

/**
 * `have_binary`: the program is an executable file on PATH (or the given path). Like the shell
 * library it answers false when ocf-tester sets `OCF_TESTER_FAIL_HAVE_BINARY=1`, which is how
 * ocf-tester checks that a probe copes with "nothing installed". Uses stat without exceptions
 * (a throwing accessSync per PATH entry cost 0.4 ms per start) and remembers where it found the
 * program: an answer older than a few seconds is checked again with one stat of that file
 * instead of a walk along PATH (at a takeover, long after the last check, that walk was a dozen
 * stats per program for `ip`, `arping`, `xargs` and `timeout`). The answer is only "there is
 * one": programs are still run by name, found on PATH by exec.
 * Synchronous also inside the daemon: the directories are heartbeat's and the system's program
 * directories (scriptEnvironment's PATH) on the root file system the daemon itself runs from,
 * whose entries the kernel keeps cached; no agent allowed in-process looks up a program by a
 * path an operator can point at a mount.
 */
export function haveBinary(name: string, env: Env): boolean {
  if (env['OCF_TESTER_FAIL_HAVE_BINARY'] === '1') return false;
  const path = env['PATH'] ?? process.env['PATH'] ?? DEFAULT_PATH;
  const key = `${path}\0${name}`;
  const now = Date.now();
  const hit = binaryCache.get(key);
  if (hit !== undefined) {
    if (now - hit.atMs < BINARY_CACHE_MS) return true;
    if (isExecutable(hit.file)) {
      hit.atMs = now;
      return true;
    }
    binaryCache.delete(key);
  }
  const candidates = name.includes('/')
    ? [name]
    : path
        .split(delimiter)
        .filter((d) => d !== '')
        .map((d) => join(d, name));
  for (const c of candidates) {
    if (isExecutable(c)) {
      binaryCache.set(key, { file: c, atMs: now });
      return true;
    }
  }
  return false;
}

/** Run a program to completion without a shell. */
export function runTool(
  file: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<ToolResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    let timedOut = false;
    const child = spawn(file, [...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...(options.env ?? process.env), LC_ALL: 'C' },
    });
    // stdin is the given text, or empty. A program that exits without reading it must not
    // turn into an EPIPE error.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code: timedOut ? 124 : code, stdout, stderr });
    };
    const onAbort = (): void => {
      timedOut = true;
      child.kill('SIGKILL');
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (e) => {
      stderr += `${file}: ${e.message}\n`;
      finish(127);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}

/** A started background program: its pid and its exit status to come. */
export interface DetachedRun {
  readonly pid: number;
  readonly done: Promise<number>;
  /** Let the caller exit while it runs. */
  unref(): void;
}

/**
 * Start a program in its own process group with no output kept (for background helpers an
 * executable leaves running after it exits). Undefined when it cannot be started.
 */
export function spawnDetached(file: string, args: readonly string[]): Promise<DetachedRun | undefined> {
  return new Promise((resolve) => {
    const child = spawn(file, [...args], {
      stdio: 'ignore',
      detached: true,
      env: { ...process.env, LC_ALL: 'C' },
    });
    const done = new Promise<number>((res) => {
      child.on('close', (code, signal) => res(code ?? (signal ? 128 : 1)));
      child.on('error', () => res(127));
    });
    child.on('error', () => resolve(undefined));
    child.on('spawn', () => {
      const pid = child.pid;
      resolve(pid === undefined ? undefined : { pid, done, unref: () => child.unref() });
    });
  });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The runtime of an agent executable: everything is spawned when it is needed. */
export function executableRuntime(): AgentRuntime {
  return {
    kind: 'executable',
    openIp: (options) => IpSession.spawn(options),
    garpRunner: () => GarpRunner.spawn(),
    runTool,
    isRoot,
  };
}

/** A few idle processes spawned ahead of need; refilled a little after each use. */
class WarmPool<T> {
  private readonly idle: T[] = [];
  private refillTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly make: () => T;
  private readonly usable: (t: T) => boolean;
  private readonly park: (t: T) => void;
  private readonly dispose: (t: T) => void;
  private readonly size: number;

  constructor(opts: {
    make: () => T;
    usable: (t: T) => boolean;
    park: (t: T) => void;
    dispose: (t: T) => void;
    size: number;
  }) {
    this.make = opts.make;
    this.usable = opts.usable;
    this.park = opts.park;
    this.dispose = opts.dispose;
    this.size = opts.size;
  }

  /** A used process back, still healthy: kept for the next caller (beyond the size: ended). */
  giveBack(t: T): void {
    if (this.closed || this.idle.length >= this.size || !this.usable(t)) {
      this.dispose(t);
      return;
    }
    this.park(t);
    this.idle.push(t);
  }

  /** An idle process, or undefined (the caller then spawns one itself). */
  take(): T | undefined {
    let t = this.idle.shift();
    while (t !== undefined && !this.usable(t)) t = this.idle.shift();
    this.scheduleRefill();
    return t;
  }

  /** Fill the pool now (daemon start-up). */
  fill(): void {
    if (this.closed) return;
    for (let i = this.idle.filter((t) => this.usable(t)).length; i < this.size; i++) {
      const t = this.make();
      this.park(t);
      this.idle.push(t);
    }
  }

  close(): void {
    this.closed = true;
    if (this.refillTimer) clearTimeout(this.refillTimer);
    for (const t of this.idle.splice(0)) this.dispose(t);
  }

  reopen(): void {
    this.closed = false;
  }

  private scheduleRefill(): void {
    if (this.closed || this.refillTimer || this.idle.length >= this.size) return;
    // Not at once: the caller is in the middle of a takeover, and the next resource of the
    // group should not wait for our fork. 100 ms later the burst is usually over.
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.fill();
    }, 100);
    this.refillTimer.unref();
  }
}

let shared:
  | { runtime: AgentRuntime; ipPool: WarmPool<IpProcess>; garpPool: WarmPool<GarpRunner>; prewarmed: boolean }
  | undefined;

function sharedState(): NonNullable<typeof shared> {
  if (shared) return shared;
  const ipPool: WarmPool<IpProcess> = new WarmPool<IpProcess>({
    make: () => {
      const s = IpProcess.spawn({});
      // Let ip do its one-time set-up (netlink socket, caches, JSON writer) now, not during the
      // takeover: measured, the first real exchange then takes ~0.9 ms instead of ~1.3 ms.
      // (Not `link show`: in batch mode it leaves state behind that makes a later
      // `addr show dev X` print links without their addresses; see ip.ts.)
      void s.run([{ args: ['addr', 'show', 'dev', 'lo'], json: true }]);
      return s;
    },
    usable: (s) => s.alive,
    park: (s) => s.unref(),
    dispose: (s) => s.close(),
    size: 2,
  });
  const garpPool = new WarmPool<GarpRunner>({
    make: () => GarpRunner.spawn(),
    usable: (r) => r.alive,
    park: (r) => r.unref(),
    dispose: (r) => {
      void r.feed([]);
    },
    size: 1,
  });
  const runtime: AgentRuntime = {
    kind: 'in-process',
    openIp: (options) => {
      // Only the plain IPv4/any-family session is kept warm; IPv6 and other namespaces are rare.
      if (options.family !== undefined || options.netns !== undefined) return IpSession.spawn(options);
      const proc = ipPool.take() ?? IpProcess.spawn({});
      proc.ref();
      // Handed back after the action when healthy (see IpLease for the cache check).
      return leaseIpProcess(proc, (p) => ipPool.giveBack(p));
    },
    garpRunner: () => {
      const warm = garpPool.take();
      if (warm) {
        warm.ref();
        return warm;
      }
      return GarpRunner.spawn();
    },
    runTool,
    isRoot,
  };
  shared = { runtime, ipPool, garpPool, prewarmed: false };
  return shared;
}

/**
 * The runtime tsbeat's resource manager uses (one per process). Its first use starts filling the
 * pools; prewarmInProcessRuntime() does it at daemon start so even the first takeover is warm.
 */
export function inProcessRuntime(): AgentRuntime {
  const s = sharedState();
  if (!s.prewarmed) {
    s.prewarmed = true;
    s.ipPool.reopen();
    s.garpPool.reopen();
    s.ipPool.fill();
    s.garpPool.fill();
  }
  return s.runtime;
}

/** Spawn the idle helper processes now. */
export function prewarmInProcessRuntime(): void {
  inProcessRuntime();
}

/** End the idle helper processes (daemon shutdown, tests); a later use starts them again. */
export function shutdownInProcessRuntime(): void {
  if (!shared) return;
  shared.ipPool.close();
  shared.garpPool.close();
  shared.prewarmed = false;
}
