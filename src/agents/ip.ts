// Part: talking to the kernel through iproute2: an `ip -j -force -batch -` process fed command
// lines over a pipe, with per-line results (one per agent action in an executable; reused from
// action to action in the daemon, see IpLease); plus the JSON shapes we read.
//
// Why a batch process and not one `ip` per command: every fork from Node costs time in proportion
// to the process size (libuv 1.46 forks: measured here 1.3 ms at 45 MB RSS, 11 ms at 150 MB),
// and an agent action needs two to four `ip` commands. One batch process answers all of them in
// well under a millisecond each; the in-process runtime even spawns it before it is needed
// (runtime.ts), so a takeover forks nothing for `ip`.
//
// Protocol. `ip -batch` reads lines; with `-force` it continues after a failing line and reports
// each failure on stderr as the error text followed by "Command failed -:<line number>". With
// `-j` every successful show/list command prints exactly one line of JSON and flushes it. After
// the caller's lines we send one line that always fails ("tsbeat-sync"): when its failure report
// arrives, every earlier line has been processed; stderr is ordered, so all failures before it are
// in, and the JSON lines of the successful queries (written before it) are read from stdout.
//
// A batch quirk of iproute2 6.1: after a `link show` line, a later `addr show dev X` line prints
// the link without its addresses (state of the link listing survives into the next command). So
// sessions never send `link show`; `addr show` lists every link anyway (parseLinkNames).

import { type ChildProcess, spawn } from 'node:child_process';

/** One `ip` command line, as its words. `json` marks show/list commands (one JSON line each). */
export interface IpCommand {
  readonly args: readonly string[];
  readonly json: boolean;
}

/** The result of one command line. */
export interface IpOutcome {
  readonly ok: boolean;
  /** Error text `ip` printed for this line (empty when ok). */
  readonly error: string;
  /** Parsed JSON for a successful `json` command, else undefined. */
  readonly json: unknown;
}

/** Options of the `ip` process itself: address family and target network namespace. */
export interface IpSessionOptions {
  /** `-6` for IPv6 agents (batch lines cannot carry a family option). */
  readonly family?: 'inet' | 'inet6';
  /** `-n NS`: run every command in the named network namespace. */
  readonly netns?: string;
}

const SYNC_WORD = 'tsbeat-sync';
/** How long to wait for stdout lines after the sync marker before calling the output lost. */
const STDOUT_GRACE_MS = 5000;

/**
 * A word we put on an `ip -batch` line: the batch parser splits on blanks and treats quotes, `#`
 * and backslashes specially, so such characters are refused instead of escaped.
 */
export function isSafeIpWord(word: string): boolean {
  return /^[^\s#"'\\]+$/.test(word);
}

/** The `ip` arguments of a session with these options. */
export function ipSessionArgs(opts: IpSessionOptions): string[] {
  const args: string[] = [];
  if (opts.family === 'inet6') args.push('-6');
  if (opts.netns !== undefined) args.push('-n', opts.netns);
  args.push('-j', '-force', '-batch', '-');
  return args;
}

interface Pending {
  readonly syncLine: number;
  readonly firstLine: number;
  readonly commands: readonly IpCommand[];
  readonly resolve: (r: IpOutcome[]) => void;
  syncSeen: boolean;
  failures: Map<number, string>;
  timer: NodeJS.Timeout | undefined;
}

/** What an agent action holds: a way to run `ip` lines, ended with close() (or kill()). */
export interface IpSession {
  readonly options: IpSessionOptions;
  /** Whether lines can still be run. */
  readonly alive: boolean;
  /**
   * Run command lines and return one outcome per line. Resolves (never rejects) also when `ip`
   * is missing, dies, or the signal aborts: the affected lines are then failures.
   */
  run(commands: readonly IpCommand[], signal?: AbortSignal): Promise<IpOutcome[]>;
  /** The action is done with it (idempotent). */
  close(): void;
  /** End the `ip` process at once (timeouts, aborts). */
  kill(): void;
  /** Let an idle session not keep the event loop alive / undo that. */
  unref(): void;
  ref(): void;
}

/** A session of its own `ip` process, ended by close(): the executable's, and the fallback. */
export const IpSession = {
  spawn(options: IpSessionOptions = {}, env: NodeJS.ProcessEnv = process.env): IpSession {
    return new IpLease(IpProcess.spawn(options, env), undefined);
  },
};

/**
 * `ip -j addr show` (every link) reduced to what `ip`'s interface-name cache depends on: each
 * link's index and name. Two equal signatures from one process mean no link was renamed, created
 * or deleted in between (as far as the cache can tell), so names it prints and resolves are right.
 */
export function linkSignature(json: unknown): string | undefined {
  if (!Array.isArray(json)) return undefined;
  const parts: string[] = [];
  for (const l of json) {
    const link = obj(l);
    const ifname = str(link?.['ifname']);
    const ifindex = link?.['ifindex'];
    if (ifname === undefined || typeof ifindex !== 'number') return undefined;
    parts.push(`${ifindex}:${ifname}`);
  }
  return parts.join(' ');
}

function isFullAddrShow(c: IpCommand): boolean {
  return c.json && c.args.length === 2 && c.args[0] === 'addr' && c.args[1] === 'show';
}

/**
 * One agent action's use of an `ip` process. Without a release hook the process ends with the
 * lease. With one (the daemon's pool), close() hands a healthy idle process back for the next
 * action — which saves a fork per action (forks from a large Node process block the event loop
 * for milliseconds) — under one condition that keeps `ip`'s interface-name cache honest: the
 * first exchange of a reused process must begin with a full `addr show`, whose dump refreshes
 * the cache, and the links it shows (linkSignature) are compared with those the process saw
 * last. Agents' first exchange is their discovery, which begins so; when the links changed it
 * runs again on a fresh process if it only asked, and the process is not kept if it changed
 * something. Any other first exchange on a reused process is preceded by a lone `addr show`.
 */
class IpLease implements IpSession {
  readonly options: IpSessionOptions;
  private proc: IpProcess;
  private readonly release: ((p: IpProcess) => void) | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private closed = false;
  private checked: boolean;
  private stale = false;
  private busy = 0;

  constructor(proc: IpProcess, release: ((p: IpProcess) => void) | undefined, env = process.env) {
    this.proc = proc;
    this.options = proc.options;
    this.release = release;
    this.env = env;
    // A process that never served an action has a fresh cache: nothing to check.
    this.checked = proc.leases === 0;
    proc.leases++;
  }

  get alive(): boolean {
    return !this.closed && this.proc.alive;
  }

  async run(commands: readonly IpCommand[], signal?: AbortSignal): Promise<IpOutcome[]> {
    if (this.closed) return commands.map(() => fail('ip session closed'));
    this.busy++;
    try {
      if (this.checked) {
        const out = await this.proc.run(commands, signal);
        this.note(commands, out);
        return out;
      }
      this.checked = true;
      const before = this.proc.linkSig;
      if (commands.length > 0 && isFullAddrShow(commands[0]!)) {
        // The dump at its head refreshes ip's cache before any later line resolves a name (a
        // renamed link is updated by its index, a re-created one is found before a stale entry
        // of its old index): such an exchange is sent at once, with no check before it.
        const out = await this.proc.run(commands, signal);
        const sig = out[0]?.ok ? linkSignature(out[0]?.json) : undefined;
        if (sig !== undefined && sig === before) {
          this.note(commands, out);
          return out;
        }
        if (commands.every((c) => c.json)) {
          // Read-only: cheap to ask a fresh process, whose answer owes nothing to old state.
          this.renew();
          const again = await this.proc.run(commands, signal);
          this.note(commands, again);
          return again;
        }
        // It changed something already; its answers stand, but the process is not kept.
        this.stale = true;
        return out;
      }
      const probe = await this.proc.run([{ args: ['addr', 'show'], json: true }], signal);
      const sig = probe[0]?.ok ? linkSignature(probe[0]?.json) : undefined;
      if (sig === undefined || sig !== before) this.renew();
      const out = await this.proc.run(commands, signal);
      this.note(commands, out);
      return out;
    } finally {
      this.busy--;
    }
  }

  /** Remember the link signature this process has now seen. */
  private note(commands: readonly IpCommand[], out: readonly IpOutcome[]): void {
    const i = commands.findIndex(isFullAddrShow);
    if (i === -1 || !out[i]?.ok) return;
    this.proc.linkSig = linkSignature(out[i]?.json);
  }

  /** Replace a process whose cache may be stale by a fresh one (ended in the background). */
  private renew(): void {
    const old = this.proc;
    old.close();
    this.proc = IpProcess.spawn(this.options, this.env);
    this.proc.leases++;
    this.proc.ref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.release && !this.stale && this.busy === 0 && this.proc.alive && this.proc.idle)
      this.release(this.proc);
    else this.proc.close();
  }

  kill(): void {
    this.closed = true;
    this.proc.kill();
  }

  unref(): void {
    this.proc.unref();
  }

  ref(): void {
    this.proc.ref();
  }
}

/** A lease of a pooled process: close() calls release(process) when it can be reused. */
export function leaseIpProcess(proc: IpProcess, release: (p: IpProcess) => void): IpSession {
  return new IpLease(proc, release);
}

/**
 * A running `ip -j -force -batch -`. Serves one caller at a time; close() ends it. Agents hold it
 * through an IpSession lease (above), which decides whether it may serve a later action.
 */
export class IpProcess {
  /** How many leases it served (0: fresh, its name cache filled by nothing but its own lines). */
  leases = 0;
  /** linkSignature of the last full `addr show` it answered. */
  linkSig: string | undefined;
  readonly options: IpSessionOptions;
  private readonly child: ChildProcess;
  private lineNo = 0;
  private out = '';
  private err = '';
  private pending: Pending | undefined;
  private tail: Promise<void> = Promise.resolve();
  private exited = false;
  private ending = false;
  private queued = 0;
  private spawnError = '';

  private constructor(child: ChildProcess, options: IpSessionOptions) {
    this.child = child;
    this.options = options;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      this.check();
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.err += d;
      this.check();
    });
    child.stdin?.on('error', () => {
      // EPIPE when ip died; the exit handler reports it.
    });
    child.on('error', (e) => {
      this.spawnError = e.message;
      this.onExit();
    });
    child.on('close', () => this.onExit());
  }

  /** Start `ip` (found on PATH) with the session's options. Never throws; failures show per line. */
  static spawn(options: IpSessionOptions = {}, env: NodeJS.ProcessEnv = process.env): IpProcess {
    const child = spawn('ip', ipSessionArgs(options), {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Messages are parsed; keep them in English whatever the caller's locale.
      env: { ...env, LC_ALL: 'C', LANG: 'C' },
    });
    return new IpProcess(child, options);
  }

  /** Whether the process can still take commands. */
  get alive(): boolean {
    return !this.exited && !this.ending;
  }

  /** The `ip` process id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** No exchange running or queued. */
  get idle(): boolean {
    return this.pending === undefined && this.queued === 0;
  }

  /** Let an idle session not keep the event loop (and so an exiting process) alive. */
  unref(): void {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) {
      (s as unknown as { unref?: () => void } | null)?.unref?.();
    }
  }

  /** Undo unref() while a caller waits for answers. */
  ref(): void {
    this.child.ref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) {
      (s as unknown as { ref?: () => void } | null)?.ref?.();
    }
  }

  /**
   * Run command lines and return one outcome per line. Resolves (never rejects) also when `ip`
   * is missing, dies, or the signal aborts: the affected lines are then failures.
   */
  run(commands: readonly IpCommand[], signal?: AbortSignal): Promise<IpOutcome[]> {
    // An idle process gets the lines now, in the caller's turn of the event loop: a takeover's
    // first lines are then written before whatever else the verdict sets off.
    if (this.pending === undefined && this.queued === 0) {
      const now = this.exchange(commands, signal);
      this.tail = now.then(
        () => undefined,
        () => undefined,
      );
      return now;
    }
    // One exchange at a time; a caller arriving during another's (the pool's warm-up) queues.
    this.queued++;
    const turn = this.tail.then(() => {
      this.queued--;
      return this.exchange(commands, signal);
    });
    this.tail = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private exchange(commands: readonly IpCommand[], signal?: AbortSignal): Promise<IpOutcome[]> {
    for (const c of commands) {
      if (c.args.length === 0 || !c.args.every(isSafeIpWord)) {
        return Promise.resolve(commands.map(() => fail(`refusing unsafe ip command: ${c.args.join(' ')}`)));
      }
    }
    if (this.exited) return Promise.resolve(commands.map(() => fail(this.deathText())));
    if (signal?.aborted) return Promise.resolve(commands.map(() => fail('aborted')));
    const firstLine = this.lineNo + 1;
    this.lineNo += commands.length + 1;
    const text = `${commands.map((c) => c.args.join(' ')).join('\n')}\n${SYNC_WORD}\n`;
    return new Promise((resolve) => {
      const onAbort = (): void => this.kill();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending = {
        syncLine: this.lineNo,
        firstLine,
        commands,
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        syncSeen: false,
        failures: new Map(),
        timer: undefined,
      };
      this.child.stdin?.write(text);
    });
  }

  /** End the process (it exits when it reads end of input). */
  close(): void {
    this.ending = true;
    const end = (): void => {
      if (!this.exited && this.child.stdin && !this.child.stdin.writableEnded) this.child.stdin.end();
    };
    // Lines already asked for are still answered: ip reads them before the end of input.
    if (this.pending === undefined && this.queued === 0) end();
    else void this.tail.then(end);
  }

  /** Kill the process at once (timeouts, aborts). */
  kill(): void {
    this.ending = true;
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private deathText(): string {
    return this.spawnError !== '' ? `cannot run ip: ${this.spawnError}` : 'ip exited';
  }

  private onExit(): void {
    if (this.exited) return;
    this.exited = true;
    // Whatever arrived is final now; settle the waiting caller with it.
    this.check(true);
  }

  private check(final = false): void {
    const p = this.pending;
    if (!p) return;
    if (!p.syncSeen) {
      const re = /Command failed -:(\d+)\n/g;
      let consumed = 0;
      let m: RegExpExecArray | null = re.exec(this.err);
      while (m !== null) {
        const line = Number(m[1]);
        const message = this.err.slice(consumed, m.index).trim();
        consumed = m.index + m[0].length;
        if (line === p.syncLine) {
          p.syncSeen = true;
          break;
        }
        p.failures.set(line, message);
        m = re.exec(this.err);
      }
      this.err = this.err.slice(consumed);
      if (!p.syncSeen && !final) return;
    }
    const wanted = p.commands.filter((c, i) => c.json && !p.failures.has(p.firstLine + i)).length;
    const lines = this.out.split('\n');
    const complete = lines.length - 1;
    if (complete < wanted && !final) {
      // The JSON was written before the sync failure; give the pipe a moment.
      p.timer ??= setTimeout(() => this.check(true), STDOUT_GRACE_MS);
      return;
    }
    if (p.timer) clearTimeout(p.timer);
    this.pending = undefined;
    // Output lost or out of step: whatever it prints next could be read as a later answer.
    if (final && !this.exited) this.close();
    const jsonLines = lines.slice(0, Math.min(wanted, complete));
    this.out = lines.slice(jsonLines.length).join('\n');
    const outcomes: IpOutcome[] = [];
    let next = 0;
    // ip exits on arguments it cannot parse (iproute2's invarg()); what it said then is the
    // reason of the first line left without an answer.
    let lastWords = p.syncSeen ? '' : this.err.trim();
    p.commands.forEach((c, i) => {
      const lineNo = p.firstLine + i;
      const failure = p.failures.get(lineNo);
      if (failure !== undefined) {
        outcomes.push(fail(failure));
      } else if (!p.syncSeen) {
        outcomes.push(fail(lastWords !== '' ? lastWords : this.deathText()));
        lastWords = '';
      } else if (!c.json) {
        outcomes.push({ ok: true, error: '', json: undefined });
      } else {
        const raw = jsonLines[next++];
        if (raw === undefined) {
          outcomes.push(fail('no output from ip'));
        } else {
          try {
            outcomes.push({ ok: true, error: '', json: JSON.parse(raw) as unknown });
          } catch {
            outcomes.push(fail(`unreadable ip output: ${raw.slice(0, 80)}`));
          }
        }
      }
    });
    p.resolve(outcomes);
  }
}

function fail(error: string): IpOutcome {
  return { ok: false, error, json: undefined };
}

// ---------------------------------------------------------------------------------------------
// JSON shapes (`ip -j`), read defensively: anything unexpected becomes "absent", never a throw.

/** One address of an interface (`ip -j addr show`). */
export interface IpAddress {
  readonly ifname: string;
  readonly family: 'inet' | 'inet6' | string;
  readonly local: string;
  readonly prefixlen: number;
  readonly broadcast: string | undefined;
  /** The IPv4 label ("eth0", "lo:0"); for IPv6 the interface name. */
  readonly label: string;
  readonly tentative: boolean;
  readonly dadfailed: boolean;
  /** "global", "link", "host" (absent when `ip` did not say). */
  readonly scope?: string;
}

/** One route (`ip -j route list ...`). */
export interface IpRoute {
  readonly type: string | undefined;
  readonly dst: string;
  readonly dev: string;
  readonly prefsrc: string | undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Flatten `ip -j addr show` into one record per address. */
export function parseAddresses(json: unknown): IpAddress[] {
  const out: IpAddress[] = [];
  if (!Array.isArray(json)) return out;
  for (const l of json) {
    const link = obj(l);
    const ifname = str(link?.['ifname']);
    const infos = link?.['addr_info'];
    if (ifname === undefined || !Array.isArray(infos)) continue;
    for (const a of infos) {
      const ai = obj(a);
      const family = str(ai?.['family']);
      const local = str(ai?.['local']);
      const prefixlen = ai?.['prefixlen'];
      if (!ai || family === undefined || local === undefined || typeof prefixlen !== 'number') continue;
      out.push({
        ifname,
        family,
        local,
        prefixlen,
        broadcast: str(ai['broadcast']),
        label: str(ai['label']) ?? ifname,
        tentative: ai['tentative'] === true,
        dadfailed: ai['dadfailed'] === true,
        ...(typeof ai['scope'] === 'string' ? { scope: ai['scope'] } : {}),
      });
    }
  }
  return out;
}

/** The interface names in `ip -j addr show` (every link appears, with or without addresses). */
export function parseLinkNames(json: unknown): Set<string> {
  const names = new Set<string>();
  if (!Array.isArray(json)) return names;
  for (const l of json) {
    const ifname = str(obj(l)?.['ifname']);
    if (ifname !== undefined) names.add(ifname);
  }
  return names;
}

/** `ip -j route list ...` as records. */
export function parseRoutes(json: unknown): IpRoute[] {
  const out: IpRoute[] = [];
  if (!Array.isArray(json)) return out;
  for (const r of json) {
    const route = obj(r);
    const dst = str(route?.['dst']);
    const dev = str(route?.['dev']);
    if (!route || dst === undefined || dev === undefined) continue;
    out.push({ type: str(route['type']), dst, dev, prefsrc: str(route['prefsrc']) });
  }
  return out;
}
