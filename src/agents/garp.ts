// Part: gratuitous ARP: the announcement plan (request/reply pairs, like heartbeat's send_arp),
// the runner that sends it with iputils arping, and its pid file for `stop`.
//
// The choice, and why. Node cannot open an AF_PACKET socket without a native add-on, so the
// frames are sent by iputils `arping` (Debian's iputils-arping, a dependency the project already
// installs). One arping run sends one frame: `-U` an ARP request with sender = target = VIP, `-A`
// an ARP reply for the VIP, both to the Ethernet broadcast address. But arping's own `-i` and
// `-w` accept whole seconds only (measured: `-i 0.2` is "invalid argument"), and after its last
// frame it lingers a full second; send_arp's default pattern is a request and a reply every 200 ms,
// one frame every 100 ms. So each frame is one `timeout 0.1 arping -c 1 ...` (coreutils timeout
// takes fractions; the frame leaves at once, the linger is cut), and the sequence of frames is
// run by ONE `xargs -L 1` process that reads the lines from a pipe and runs them in order. That
// gives one pid per announcement (the pid file `$HA_RSCTMP/send_arp-<ip>`, which `stop` uses to
// cut a running announcement short), no shell, and no fork of Node: the in-process runtime keeps an
// idle xargs ready (runtime.ts) and only writes the lines to it when a takeover happens.
// Observed spacing on the wire is 100-110 ms (arping's start-up time adds to each step).

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What to announce. */
export interface GarpPlan {
  readonly nic: string;
  readonly ip: string;
  /** Request/reply pairs (IPaddr2 `arp_count`, SendArp/IPaddr `ARP_REPEAT`). */
  readonly pairs: number;
  /** Time from one pair to the next (IPaddr2 `arp_interval`), ms. Frames go at half of it. */
  readonly intervalMs: number;
  /** Extra arping options (IPaddr2 `send_arp_opts`), already split into words. */
  readonly extraOptions?: readonly string[];
  /** Network namespace to send in (IPaddr2 `network_namespace`). */
  readonly netns?: string;
}

/**
 * The xargs command line of a runner. `-E tsbeat-garp` never matches our input (it would stop
 * reading at such a line); it marks the process as ours, so `stop` can tell it from a pid that
 * was recycled. `-r`: an idle runner that is closed without input runs nothing.
 */
export const GARP_RUNNER_ARGS = ['-r', '-E', 'tsbeat-garp', '-L', '1', 'timeout'] as const;

/** Shortest step we schedule: below this arping may be killed before its frame leaves. */
const MIN_STEP_MS = 50;

/** Seconds for `timeout`, e.g. 100 → "0.1". */
function seconds(ms: number): string {
  return (Math.round(ms) / 1000).toString();
}

/**
 * The lines the runner reads: per pair an ARP request (`-U`) then an ARP reply (`-A`), each
 * followed by half the pair interval. Each line is `timeout`'s arguments.
 */
export function garpLines(plan: GarpPlan): string[] {
  const step = seconds(Math.max(MIN_STEP_MS, plan.intervalMs / 2));
  const prefix = plan.netns === undefined ? [] : ['ip', 'netns', 'exec', plan.netns];
  const extra = plan.extraOptions ?? [];
  const lines: string[] = [];
  for (let i = 0; i < plan.pairs; i++) {
    for (const mode of ['-U', '-A']) {
      lines.push(
        [step, ...prefix, 'arping', '-q', mode, '-c', '1', ...extra, '-I', plan.nic, plan.ip].join(' '),
      );
    }
  }
  return lines;
}

/** A word that may appear on an xargs input line unquoted. */
export function isSafeGarpWord(word: string): boolean {
  return /^[A-Za-z0-9_.:@%+=,/-]+$/.test(word);
}

/** A started announcement. */
export interface GarpRun {
  readonly pid: number;
  /** Settles with the runner's exit status (xargs: 0, or 123 because `timeout` reports 124). */
  readonly done: Promise<number>;
}

/**
 * An xargs runner that has not been given its lines yet (spawned early by the in-process runtime
 * or right away by an executable). Detached: it leads its own process group, so `stop` can end
 * it together with the `timeout`/`arping` it is running, and signals meant for the caller's group
 * do not cut an announcement short.
 */
export class GarpRunner {
  private readonly child: ChildProcess;
  readonly done: Promise<number>;
  private exitedFlag = false;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.done = new Promise((resolve) => {
      child.on('error', () => {
        this.exitedFlag = true;
        resolve(127);
      });
      child.on('close', (code, signal) => {
        this.exitedFlag = true;
        resolve(code ?? (signal ? 128 : 1));
      });
    });
    child.stdin?.on('error', () => {
      // EPIPE if xargs died; `done` reports it.
    });
  }

  /** Spawn an idle runner (xargs waits for its lines). */
  static spawn(env: NodeJS.ProcessEnv = process.env): GarpRunner {
    const child = spawn('xargs', [...GARP_RUNNER_ARGS], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
      env: { ...env, LC_ALL: 'C' },
    });
    return new GarpRunner(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exitedFlag && this.child.pid !== undefined;
  }

  /** Do not keep the event loop alive for this runner (idle, or left to run after we exit). */
  unref(): void {
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  ref(): void {
    this.child.ref();
    (this.child.stdin as unknown as { ref?: () => void } | null)?.ref?.();
  }

  /**
   * Hand the runner its lines and close its input; it then runs them and exits. With `flush`
   * (an executable that exits next) it resolves once the lines are in the pipe; a long-lived
   * caller need not wait for that.
   */
  feed(lines: readonly string[], flush = true): Promise<GarpRun | undefined> {
    const pid = this.child.pid;
    const stdin = this.child.stdin;
    if (pid === undefined || !stdin || this.exitedFlag) return Promise.resolve(undefined);
    const text = lines.length > 0 ? `${lines.join('\n')}\n` : '';
    if (!flush) {
      stdin.end(text);
      return Promise.resolve({ pid, done: this.done });
    }
    return new Promise((resolve) => {
      stdin.end(text, () => resolve({ pid, done: this.done }));
    });
  }

  /** End the runner and what it is running. */
  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exitedFlag) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
}

/**
 * Whether `pid` is one of our GARP runners (checked on its command line), so a stale pid file
 * never makes `stop` signal a recycled pid. A synchronous procfs read (kernel memory, no disk)
 * of a small process of ours: fine inside the daemon.
 */
export function isGarpRunner(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((w) => w !== '');
    const [cmd, ...rest] = argv;
    return cmd !== undefined && /(^|\/)xargs$/.test(cmd) && rest.join(' ') === GARP_RUNNER_ARGS.join(' ');
  } catch {
    return false;
  }
}

/** Signal a runner's process group (runner, timeout, arping). False when it was not ours or gone. */
export function killGarpRunner(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1 || !isGarpRunner(pid)) return false;
  try {
    process.kill(-pid, 'SIGTERM');
    return true;
  } catch {
    return false;
  }
}
