#!/usr/bin/env node
// Part: `cl_status`, heartbeat 3.0.6's status tool, with the same sub-commands, options, output
// bytes, error texts and exit codes, answered by the tsbeat daemon's local API. Where heartbeat
// has no such case (its API busy), it retries briefly and never calls a live daemon stopped.

import { appendFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  clientSocketPaths,
  clLogLine,
  heartbeatBoolean,
  isMainModule,
  type LogPriority,
} from '../ipc/cli-common.js';
import { daemonAlive } from '../ipc/cli-daemon.js';
import {
  ApiCallError,
  type ApiSession,
  ApiUnavailableError,
  isTransient,
  openFirst,
  retrying,
} from '../ipc/client.js';
import {
  type Args,
  type CommandName,
  type HelloResult,
  type NodeWire,
  pacemakerEnabled,
  type Results,
} from '../ipc/schema.js';
import { runMain } from './run.js';

/** cl_status's exit codes. */
export const EXIT = { OK: 0, NORMAL_FAIL: 1, PARAMETER_ERROR: 11, TIMEOUT: 12, UNKNOWN_ERROR: 13 } as const;

/** cl_status's 5 s alarm: whatever is still waiting then exits 12. */
export const ALARM_MS = 5000;

/** heartbeat's text when the API socket cannot be reached. */
export const SIGNON_FAILURE = "hb_api_signon: Can't initiate connection to heartbeat";

/**
 * How long cl_status keeps asking a daemon that turns it away (busy, connection dropped), at
 * most; a short alarm (tests) shortens it to 60 % of the alarm, so the verdict comes first.
 */
export const RETRY_BUDGET_MS = 3000;

export const HELP = `Usage: cl_status <sub-command> [<options>] [<parameters>]

Sub-commands:
clientstatus <node-name> <client-id> [<timeout>]
\tShow the status of heartbeat clients.
hblinkstatus <node-name> <link-name>
\tShow the status of a heartbeat link
hbstatus
\tIndicate if heartbeat is running on the local system.
\tOptions:
\t\t-v\tverbose: also add "listnodes -v" output
listnodes [<option>]
\tList the nodes in the cluster.
\tOptions:
\t\t-p\tlist only 'ping' type nodes
\t\t-n\tlist only 'normal' type nodes
\t\t-v\tverbose: also list type and status,
\t\t\tthen add "listhblinks -v" output
listhblinks <node-name>
\tList the network interfaces used as hearbeat links.
\tOptions:
\t\t-v\tverbose: list link status as well
nodestatus <node-name>
\tList the node status.
nodeweight <node-name>
\tList the node weight.
nodesite <node-name>
\tList the node site.
nodetype <node-name>
\tList the nodes of a given type.
rscstatus
\tShow the status of cluster resources.
hbparameter -p <parameter-name>
\tRetrieve the value of a cluster parameter.
\tAs for the valid parameter names, please refer to the man page.
`;

/** Everything cl_status touches outside itself, so tests can run it in-process. */
export interface ClStatusIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: NodeJS.ProcessEnv;
  readonly pid: number;
  readonly hostname: string;
  now(): Date;
  /** The daemon's read-only socket. */
  readonly socketPath: string;
  /**
   * The daemon's control socket, tried first: it serves root and the API group from a pool
   * of its own, which a flood of the read-only socket cannot fill. Those who may not open it
   * (EACCES), or when it is missing, use socketPath.
   */
  readonly controlPath?: string;
  readonly alarmMs: number;
  /** The daemon's pid if its pid file names a live process: how a busy daemon is told from a stopped one. */
  readonly daemonPid?: () => number | undefined;
}

// ---- GNU getopt, as cl_status uses it ----

type GetoptEvent =
  | { readonly kind: 'option'; readonly c: string; readonly arg?: string }
  | { readonly kind: 'error'; readonly c: string };

/**
 * glibc getopt(3) over a sub-command's arguments: options may follow operands (they are
 * permuted, unless POSIXLY_CORRECT is set), `--` ends the options, `-` alone is an operand,
 * `--name` is read as the single-letter options `-`, `n`, `a`, ... (no long options). Errors
 * are printed the moment getopt meets them, so callers that stop at the first error print one.
 */
export class Getopt {
  private readonly argv0: string;
  private readonly args: readonly string[];
  private readonly optstring: string;
  private readonly posixlyCorrect: boolean;
  private readonly warn: (text: string) => void;
  private i = 0;
  private charAt = 0;
  private readonly skipped: string[] = [];
  private rest: readonly string[] | undefined;

  constructor(
    argv0: string,
    args: readonly string[],
    optstring: string,
    warn: (text: string) => void,
    posixlyCorrect = false,
  ) {
    this.argv0 = argv0;
    this.args = args;
    this.optstring = optstring;
    this.warn = warn;
    this.posixlyCorrect = posixlyCorrect;
  }

  /** The next option or error; undefined once the options are over. */
  next(): GetoptEvent | undefined {
    for (;;) {
      if (this.rest !== undefined) return undefined;
      const a = this.args[this.i];
      if (a === undefined) {
        this.rest = [];
        return undefined;
      }
      if (this.charAt === 0) {
        if (a === '--') {
          this.rest = this.args.slice(this.i + 1);
          return undefined;
        }
        if (!a.startsWith('-') || a.length === 1) {
          if (this.posixlyCorrect) {
            this.rest = this.args.slice(this.i);
            return undefined;
          }
          this.skipped.push(a);
          this.i++;
          continue;
        }
        this.charAt = 1;
      }
      const c = a[this.charAt] ?? '';
      this.charAt++;
      const lastInElement = this.charAt >= a.length;
      const at = c === ':' ? -1 : this.optstring.indexOf(c);
      if (at < 0) {
        if (lastInElement) this.advance();
        this.warn(`${this.argv0}: invalid option -- '${c}'\n`);
        return { kind: 'error', c };
      }
      if (this.optstring[at + 1] !== ':') {
        if (lastInElement) this.advance();
        return { kind: 'option', c };
      }
      if (!lastInElement) {
        const arg = a.slice(this.charAt);
        this.advance();
        return { kind: 'option', c, arg };
      }
      this.advance();
      const arg = this.args[this.i];
      if (arg === undefined) {
        this.warn(`${this.argv0}: option requires an argument -- '${c}'\n`);
        return { kind: 'error', c };
      }
      this.i++;
      return { kind: 'option', c, arg };
    }
  }

  private advance(): void {
    this.i++;
    this.charAt = 0;
  }

  /** The operands in getopt's order: those it stepped over, then those after `--`. */
  operands(): readonly string[] {
    while (this.next() !== undefined);
    return [...this.skipped, ...(this.rest ?? [])];
  }
}

// ---- the program ----

/** C's atoi: leading blanks, a sign, digits; the value wraps to a 32-bit int like (int)strtol. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  let v = BigInt(m[1]!);
  const max = (1n << 63n) - 1n;
  if (v > max) v = max;
  if (v < -max - 1n) v = -max - 1n;
  return Number(BigInt.asIntN(32, v));
}

class Halt {
  readonly code: number;
  constructor(code: number) {
    this.code = code;
  }
}

/** The daemon runs (its pid file says so) but did not answer within the retry budget. */
class Busy {
  readonly pid: number;
  constructor(pid: number) {
    this.pid = pid;
  }
}

/** The line and exit status for a live daemon that would not answer (heartbeat has no such case). */
function busyText(pid: number): string {
  return `tsbeat (pid ${pid}) is running but too busy to answer; try again`;
}

interface Signon {
  readonly session: ApiSession | undefined;
  readonly hello: HelloResult | undefined;
  /** Why sign-on failed ('' when it did not). */
  readonly reason: string;
  /** The daemon answered but would not serve us (heartbeat: "refuses my connection"). */
  readonly refused: boolean;
  /** The daemon is alive but kept turning us away: its pid. */
  readonly busyPid?: number;
}

type SubCommand = (r: Run, args: readonly string[]) => Promise<number>;

const SUBCOMMANDS: Readonly<Record<string, { readonly fn: SubCommand; readonly needsSignon: boolean }>> = {
  hbstatus: { fn: hbstatus, needsSignon: false },
  listnodes: { fn: listnodes, needsSignon: true },
  nodestatus: { fn: nodestatus, needsSignon: true },
  nodeweight: { fn: nodeweight, needsSignon: true },
  nodesite: { fn: nodesite, needsSignon: true },
  nodetype: { fn: nodetype, needsSignon: true },
  listhblinks: { fn: listhblinks, needsSignon: true },
  hblinkstatus: { fn: hblinkstatus, needsSignon: true },
  clientstatus: { fn: clientstatus, needsSignon: true },
  rscstatus: { fn: rscstatus, needsSignon: true },
  hbparameter: { fn: hbparameter, needsSignon: true },
  test: { fn: testCmd, needsSignon: true },
};

/** One run of cl_status: its output buffers, its connection and the -m flag. */
class Run {
  readonly io: ClStatusIo;
  /** stdout is block-buffered in C: written at exit (also at the alarm, as exit() flushes). */
  private out = '';
  human = false;
  stopped = false;
  session: ApiSession | undefined;
  hello: HelloResult | undefined;
  signonReason = '';
  signonRefused = false;
  busyPid: number | undefined;
  /** Aborted when the run ends (the alarm included): a connection still being made is dropped. */
  readonly abort = new AbortController();
  /** Retrying a busy daemon stops here, well before the alarm. */
  readonly retryUntil: number;

  constructor(io: ClStatusIo) {
    this.io = io;
    this.retryUntil = Date.now() + Math.min(RETRY_BUDGET_MS, Math.floor(io.alarmMs * 0.6));
  }

  /** The sockets to try: the control socket first when known. */
  get paths(): readonly string[] {
    return this.io.controlPath ? [this.io.controlPath, this.io.socketPath] : [this.io.socketPath];
  }

  /** The live daemon's pid, if its pid file names one. */
  alivePid(): number | undefined {
    return this.io.daemonPid?.();
  }

  print(text: string): void {
    if (!this.stopped) this.out += text;
  }

  warn(text: string): void {
    if (!this.stopped) this.io.stderr(text);
  }

  /** cl_log to stderr (and HA_logfile / HA_debugfile when set), with heartbeat's format. */
  log(prio: LogPriority, message: string): void {
    if (this.stopped) return;
    const env = this.io.env;
    const line = clLogLine(prio, message, {
      entity: 'cl_status',
      pid: this.io.pid,
      hostname: this.io.hostname,
      now: this.io.now(),
      syslogFormat: heartbeatBoolean(env['HA_syslogmsgfmt']) ?? true,
    });
    this.io.stderr(line);
    for (const file of new Set([env['HA_logfile'], env['HA_debugfile']])) {
      if (!file) continue;
      try {
        appendFileSync(file, line);
      } catch {
        // cl_log ignores a log file it cannot write.
      }
    }
  }

  flush(): void {
    if (this.out) this.io.stdout(this.out);
    this.out = '';
  }

  getopt(cmd: string, args: readonly string[], optstring: string): Getopt {
    return new Getopt(
      cmd,
      args,
      optstring,
      (t) => this.warn(t),
      this.io.env['POSIXLY_CORRECT'] !== undefined,
    );
  }

  /** general_simple_opt_deal: only -m; false after an option error (already reported). */
  simpleOptions(g: Getopt): boolean {
    for (let e = g.next(); e; e = g.next()) {
      if (e.kind === 'option' && e.c === 'm') this.human = true;
      else {
        this.log('ERROR', `Error: getopt returnedcharacter ${e.kind === 'error' ? '?' : e.c}.`);
        return false;
      }
    }
    return true;
  }

  /**
   * One read on the signed-on session. A daemon that drops the connection or says busy is
   * asked again on a fresh connection until the retry budget is spent; then a live daemon is
   * reported busy (Busy), and otherwise the run waits for the alarm, as heartbeat's blocking
   * read does. An answer, error answers included, is returned or thrown as ApiCallError.
   */
  async request<C extends CommandName>(cmd: C, args: Args[C]): Promise<Results[C]> {
    if (!this.session) throw new Halt(EXIT.UNKNOWN_ERROR);
    try {
      return await this.session.call(cmd, args);
    } catch (e) {
      if (!isTransient(e)) {
        if (e instanceof ApiUnavailableError) return never();
        throw e;
      }
    }
    try {
      return await retrying(
        async (msLeft) => {
          const s = await openFirst(this.paths, msLeft, this.abort.signal);
          this.session?.close();
          this.session = s;
          return s.call(cmd, args);
        },
        { budgetMs: Math.max(300, this.retryUntil - Date.now()), signal: this.abort.signal },
      );
    } catch (e) {
      if (e instanceof ApiCallError && !isTransient(e)) throw e;
      const pid = this.alivePid();
      if (pid !== undefined) throw new Busy(pid);
      return never();
    }
  }
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

async function signon(r: Run): Promise<Signon> {
  const failed = (reason: string, refused = false): Signon => ({
    session: undefined,
    hello: undefined,
    reason,
    refused,
  });
  let session: ApiSession;
  let hello: HelloResult;
  try {
    // A daemon at its client limit, or one that drops us to make room, is asked again.
    ({ session, hello } = await retrying(
      async (msLeft) => {
        const s = await openFirst(r.paths, msLeft, r.abort.signal);
        try {
          return { session: s, hello: await s.call('hello', {}) };
        } catch (e) {
          s.close();
          throw e;
        }
      },
      { budgetMs: Math.max(1, r.retryUntil - Date.now()), signal: r.abort.signal },
    ));
  } catch (e) {
    const gaveUp =
      isTransient(e) ||
      (e instanceof ApiUnavailableError && e.reason === 'timeout' && !r.abort.signal.aborted);
    if (gaveUp) {
      // Never call a live daemon stopped: its pid file decides.
      const pid = r.alivePid();
      if (pid !== undefined) return { ...failed(busyText(pid)), busyPid: pid };
    }
    // A daemon that accepts but never answers blocks heartbeat's sign-on until the alarm.
    if (e instanceof ApiUnavailableError && e.reason === 'timeout') return never();
    if (e instanceof ApiCallError) return failed(e.message, true);
    return failed(SIGNON_FAILURE);
  }
  // heartbeat opens its API socket only at comm-up: before that it is "not running".
  if (hello.ready !== true) {
    session.close();
    return failed(SIGNON_FAILURE);
  }
  return { session, hello, reason: '', refused: false };
}

/** A read that heartbeat would answer with an error (no such node, ...): the error, else the result. */
async function ask<C extends CommandName>(r: Run, cmd: C, args: Args[C]): Promise<Results[C] | ApiCallError> {
  try {
    return await r.request(cmd, args);
  } catch (e) {
    if (e instanceof ApiCallError) return e;
    throw e;
  }
}

/**
 * Run cl_status with `argv` (without the program name). Resolves to the exit code once the
 * output is written; never rejects for anything the daemon does.
 */
export async function clStatus(argv: readonly string[], io: ClStatusIo): Promise<number> {
  if (argv.length === 0 || (argv.length === 1 && argv[0] === '-h')) {
    io.stdout(HELP);
    return EXIT.OK;
  }
  const r = new Run(io);
  let alarm: NodeJS.Timeout | undefined;
  const alarmed = new Promise<number>((resolve) => {
    alarm = setTimeout(() => resolve(EXIT.TIMEOUT), io.alarmMs);
  });
  try {
    const code = await Promise.race([dispatch(r, argv), alarmed]);
    r.flush();
    return code;
  } finally {
    r.stopped = true;
    clearTimeout(alarm);
    r.abort.abort();
    r.session?.close();
  }
}

async function dispatch(r: Run, argv: readonly string[]): Promise<number> {
  const name = argv[0] ?? '';
  // strncmp over 16 characters against names shorter than that: an exact match.
  const sub = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (!sub) {
    r.log('ERROR', `${name}: invalid sub-command.`);
    return EXIT.PARAMETER_ERROR;
  }
  const s = await signon(r);
  if (r.stopped) {
    // The alarm went off while signing on: this run is over.
    s.session?.close();
    return EXIT.TIMEOUT;
  }
  r.session = s.session;
  r.hello = s.hello;
  r.signonReason = s.reason;
  r.signonRefused = s.refused;
  r.busyPid = s.busyPid;
  if (!s.session && sub.needsSignon) {
    if (s.busyPid !== undefined) return busy(r, s.busyPid);
    r.log('ERROR', 'Cannot signon with heartbeat');
    r.log('ERROR', `REASON: ${s.reason}`);
    return EXIT.NORMAL_FAIL;
  }
  try {
    return await sub.fn(r, argv);
  } catch (e) {
    if (e instanceof Halt) return e.code;
    if (e instanceof Busy) return busy(r, e.pid);
    if (e instanceof ApiCallError) {
      // An answer heartbeat would never give (a daemon of another version): a plain failure.
      r.log('ERROR', `REASON: ${e.message}`);
      return EXIT.UNKNOWN_ERROR;
    }
    throw e;
  }
}

/** A live daemon that would not answer: say so, exit 12 (as heartbeat's alarm: no answer in time). */
function busy(r: Run, pid: number): number {
  r.log('ERROR', busyText(pid));
  return EXIT.TIMEOUT;
}

async function hbstatus(r: Run, argv: readonly string[]): Promise<number> {
  const g = r.getopt('hbstatus', argv.slice(1), 'mv');
  let verbose = false;
  // hbstatus ignores bad options (getopt has already complained about each).
  for (let e = g.next(); e; e = g.next()) {
    if (e.kind === 'option' && e.c === 'm') r.human = true;
    if (e.kind === 'option' && e.c === 'v') verbose = true;
  }
  if (!r.session || !r.hello) {
    let rc: number = EXIT.NORMAL_FAIL;
    if (r.busyPid !== undefined) {
      // Alive but too busy to sign us on: running is the truth hbstatus is asked for.
      r.print('Heartbeat is running on this machine.\n');
      rc = EXIT.OK;
    } else if (r.signonRefused) {
      r.print('Heartbeat is apparently running on this machine, but refuses my connection\n');
      rc = EXIT.OK;
    } else {
      r.print('Heartbeat is stopped on this machine.\n');
    }
    if (verbose && r.signonReason) r.print(`(${r.signonReason})\n`);
    return rc;
  }
  if (!verbose) {
    r.print('Heartbeat is running on this machine.\n');
    return EXIT.OK;
  }
  const hbversion = await parameter(r, 'hbversion');
  const pacemaker = await pacemakerSetting(r);
  const enabled = pacemakerEnabled(pacemaker);
  if (r.human) {
    r.print(
      hbversion !== null ? `Heartbeat version ${hbversion}\n` : 'Heartbeat is running on this machine.\n',
    );
    r.print(enabled ? 'Resources controlled by Pacemaker.\n' : 'Resources controlled by "haresources"\n');
  } else {
    r.print(`version:\t${hbversion ?? 'unknown'}\n`);
    r.print(
      enabled ? `managed by:\tpacemaker\t(${pacemaker ?? '(null)'})\n` : 'managed by:\t"haresources"\n',
    );
  }
  await listNodes(r, false, false, true);
  return EXIT.OK;
}

/** get_parameter: hbversion and pacemaker come from the sign-on answer when it had them. */
async function parameter(r: Run, name: string): Promise<string | null> {
  if (name === 'hbversion' && r.hello?.hbversion) return r.hello.hbversion;
  if (name === 'pacemaker' && r.hello?.pacemaker) return r.hello.pacemaker;
  const res = await ask(r, 'parameter', { name });
  return res instanceof ApiCallError ? null : res.value;
}

/** is_pacemaker_enabled's lookup: `pacemaker`, else the older `crm`. */
async function pacemakerSetting(r: Run): Promise<string | null> {
  return (await parameter(r, 'pacemaker')) ?? (await parameter(r, 'crm'));
}

async function listnodes(r: Run, argv: readonly string[]): Promise<number> {
  const g = r.getopt('listnodes', argv.slice(1), 'mpnv');
  let verbose = false;
  let ping = false;
  let normal = false;
  for (let e = g.next(); e; e = g.next()) {
    if (e.kind === 'error') {
      r.log('ERROR', 'Error: getopt returnedcharacter code ?.');
      return EXIT.PARAMETER_ERROR;
    }
    if (e.c === 'm') r.human = true;
    else if (e.c === 'v') verbose = true;
    else if (e.c === 'p') ping = true;
    else if (e.c === 'n') normal = true;
  }
  return listNodes(r, normal, ping, verbose);
}

async function listNodes(r: Run, normalOnly: boolean, pingOnly: boolean, verbose: boolean): Promise<number> {
  const { nodes } = await r.request('nodes', {});
  if (normalOnly && pingOnly) {
    normalOnly = false;
    pingOnly = false;
  }
  if (r.human) r.print('The nodes are as follow:\n');
  // heartbeat's client library builds its node list by prepending: the reverse of ha.cf order.
  for (const n of [...nodes].reverse()) {
    if (normalOnly && n.type !== 'normal') continue;
    if (pingOnly && n.type !== 'ping') continue;
    if (verbose) {
      r.print(`\n${n.name}\t${n.status}\t(nodetype: ${n.type})\n`);
      printLinks(r, n, true);
    } else {
      r.print(`${n.name}\n`);
    }
  }
  return EXIT.OK;
}

/** The links heartbeat reports for a node: a ping node's own link only; reversed like the nodes. */
function reportedLinks(n: NodeWire): NodeWire['links'] | undefined {
  if (n.type !== 'ping') return [...n.links].reverse();
  const own = n.links.filter((l) => l.name === n.name);
  return own.length > 0 ? own.slice(0, 1) : undefined;
}

function printLinks(r: Run, n: NodeWire, verbose: boolean): number {
  const links = reportedLinks(n);
  if (!links) {
    r.log('ERROR', 'Cannot start heartbeat link interface walk.');
    r.log('ERROR', 'REASON: UhOh');
    return EXIT.UNKNOWN_ERROR;
  }
  if (r.human) r.print('\tthis node has the following heartbeat links:\n');
  for (const l of links) r.print(verbose ? `\t${l.name}\t${l.status}\n` : `\t${l.name}\n`);
  return EXIT.OK;
}

/** nodestatus, nodeweight, nodesite, nodetype: -m, one node name, one line. */
async function nodeQuery(
  r: Run,
  argv: readonly string[],
  missing: string,
  unknown: string,
  show: (n: NodeWire, asTyped: string) => { text: string; human: string; code: number },
): Promise<number> {
  const g = r.getopt(argv[0] ?? '', argv.slice(1), 'm');
  if (!r.simpleOptions(g)) return EXIT.PARAMETER_ERROR;
  const name = g.operands()[0];
  if (name === undefined) {
    r.warn(`${missing}\n`);
    return EXIT.PARAMETER_ERROR;
  }
  const n = await ask(r, 'node', { node: name });
  if (n instanceof ApiCallError) {
    r.warn(`${unknown}\n`);
    return EXIT.PARAMETER_ERROR;
  }
  const s = show(n, name);
  r.print(`${r.human ? s.human : s.text}\n`);
  return s.code;
}

function nodestatus(r: Run, argv: readonly string[]): Promise<number> {
  return nodeQuery(
    r,
    argv,
    'Not enough parameters.',
    'Error. May be due to incorrect node name',
    (n, name) => ({
      text: n.status,
      human: `The cluster node ${name} is ${n.status}`,
      code: ['active', 'up', 'ping'].includes(n.status) ? EXIT.OK : EXIT.NORMAL_FAIL,
    }),
  );
}

function nodeweight(r: Run, argv: readonly string[]): Promise<number> {
  return nodeQuery(
    r,
    argv,
    'Not enough parameters.',
    'Error. Maybe due to incorrect node name.',
    (n, name) => ({
      text: String(n.weight),
      human: `The weight of the cluster node ${name} is ${n.weight}`,
      code: EXIT.OK,
    }),
  );
}

function nodesite(r: Run, argv: readonly string[]): Promise<number> {
  return nodeQuery(
    r,
    argv,
    'Not enough parameters.',
    'Error. May be due to incorrect node name',
    (n, name) => ({
      text: n.site,
      human: `The site of the cluster node ${name} is ${n.site}`,
      code: EXIT.OK,
    }),
  );
}

function nodetype(r: Run, argv: readonly string[]): Promise<number> {
  return nodeQuery(
    r,
    argv,
    'No enough parameter.',
    'Error. May be due to incorrect node name',
    (n, name) => ({
      text: n.type,
      human: `The node ${name}'s type: ${n.type}`,
      code: EXIT.OK,
    }),
  );
}

async function listhblinks(r: Run, argv: readonly string[]): Promise<number> {
  const g = r.getopt('listhblinks', argv.slice(1), 'mv');
  let verbose = false;
  for (let e = g.next(); e; e = g.next()) {
    if (e.kind === 'error') {
      r.log('ERROR', 'Error: getopt returnedcharacter code ?.');
      return EXIT.PARAMETER_ERROR;
    }
    if (e.c === 'm') r.human = true;
    else if (e.c === 'v') verbose = true;
  }
  const name = g.operands()[0];
  if (name === undefined) {
    r.warn('No enough parameter.\n');
    return EXIT.PARAMETER_ERROR;
  }
  const n = await ask(r, 'node', { node: name });
  if (n instanceof ApiCallError) {
    r.log('ERROR', 'Cannot start heartbeat link interface walk.');
    r.log('ERROR', 'REASON: EINVAL');
    return EXIT.UNKNOWN_ERROR;
  }
  return printLinks(r, n, verbose);
}

async function hblinkstatus(r: Run, argv: readonly string[]): Promise<number> {
  const g = r.getopt('hblinkstatus', argv.slice(1), 'm');
  if (!r.simpleOptions(g)) return EXIT.PARAMETER_ERROR;
  const [node, link] = g.operands();
  if (node === undefined || link === undefined) {
    r.warn('No enough parameter.\n');
    return EXIT.PARAMETER_ERROR;
  }
  const res = await ask(r, 'link', { node, link });
  if (res instanceof ApiCallError) {
    r.log('ERROR', 'Cannot get heartbeat link status');
    r.log('ERROR', 'REASON: ');
    return EXIT.UNKNOWN_ERROR;
  }
  r.print(r.human ? `The node ${node}'s heartbeat link ${link} is ${res.status}\n` : `${res.status}\n`);
  return res.status === 'up' ? EXIT.OK : EXIT.NORMAL_FAIL;
}

/** heartbeat's default wait for a client status answer, in ms. */
const CLIENTSTATUS_TIMEOUT_MS = 500;

async function clientstatus(r: Run, argv: readonly string[]): Promise<number> {
  const g = r.getopt('clientstatus', argv.slice(1), 'm');
  if (!r.simpleOptions(g)) return EXIT.PARAMETER_ERROR;
  const [node, client, wait] = g.operands();
  if (node === undefined || client === undefined) {
    r.warn('No enough parameter.\n');
    return EXIT.PARAMETER_ERROR;
  }
  // poll(2) semantics: negative waits for ever (until the alarm), 0 does not wait at all.
  const timeout = wait === undefined ? CLIENTSTATUS_TIMEOUT_MS : atoi(wait);
  const noAnswer = (): number => {
    r.log('ERROR', `Cannot get heartbeat client ${client}'s status`);
    r.log('ERROR', 'REASON: No timely response.');
    return EXIT.UNKNOWN_ERROR;
  };
  if (timeout === 0) return noAnswer();
  // Beyond the alarm, a wait is a wait for ever.
  const waitMs = timeout < 0 || timeout > r.io.alarmMs ? undefined : timeout;
  const started = Date.now();
  const res = await within(ask(r, 'clientstatus', { node, client }), waitMs);
  if (res === undefined) return noAnswer();
  if (res instanceof ApiCallError) {
    // heartbeat never answers for an unknown node: the client waits out its timeout.
    if (waitMs === undefined) return never();
    await sleep(waitMs - (Date.now() - started));
    return noAnswer();
  }
  r.print(`${res.status}\n`);
  switch (res.status) {
    case 'online':
      return EXIT.OK;
    case 'offline':
      return EXIT.NORMAL_FAIL;
    case 'join':
      return 2;
    case 'leave':
      return 3;
    default:
      return EXIT.UNKNOWN_ERROR;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** `p`, or undefined if it is not settled within `ms` (undefined ms: no limit). */
function within<T>(p: Promise<T>, ms: number | undefined): Promise<T | undefined> {
  if (ms === undefined) return p;
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

async function rscstatus(r: Run, argv: readonly string[]): Promise<number> {
  const g = r.getopt('rscstatus', argv.slice(1), 'm');
  if (!r.simpleOptions(g)) return EXIT.PARAMETER_ERROR;
  if (pacemakerEnabled(await pacemakerSetting(r))) {
    r.log('ERROR', 'Cannot get cluster resource status of a pacemaker cluster; try crm_mon');
    return EXIT.NORMAL_FAIL;
  }
  const res = await ask(r, 'rscstatus', {});
  if (res instanceof ApiCallError) {
    r.log('ERROR', 'Cannot get cluster resource status');
    r.log('ERROR', `REASON: ${res.message}`);
    return EXIT.UNKNOWN_ERROR;
  }
  r.print(r.human ? `This node is holding ${res.status} resources.\n` : `${res.status}\n`);
  return EXIT.OK;
}

async function hbparameter(r: Run, argv: readonly string[]): Promise<number> {
  const g = r.getopt('hbparameter', argv.slice(1), 'mp:');
  let name: string | undefined;
  for (let e = g.next(); e; e = g.next()) {
    if (e.kind === 'error') {
      r.log('ERROR', 'Error: getopt returnedcharacter code ?.');
      return EXIT.PARAMETER_ERROR;
    }
    if (e.c === 'm') r.human = true;
    else if (e.c === 'p' && e.arg !== undefined) name = e.arg;
  }
  if (name === undefined) {
    r.log('ERROR', 'parameter name required');
    return EXIT.PARAMETER_ERROR;
  }
  const value = await parameter(r, name);
  if (value === null) {
    r.log('ERROR', `Cannot get parameter ${name}'s value`);
    r.log('ERROR', 'REASON: ');
    return EXIT.NORMAL_FAIL;
  }
  r.print(r.human ? `Heartbeat parameter ${name}'s value: ${value}\n` : `${value}\n`);
  return EXIT.OK;
}

/** cl_status's undocumented `test`: what the sign-on returned, and the resource status. */
async function testCmd(r: Run): Promise<number> {
  const hello = r.hello;
  if (!hello) return EXIT.UNKNOWN_ERROR;
  const rsc = await ask(r, 'rscstatus', {});
  r.print(
    `Dead time: ${hello.deadtimeMs}\n keeplive time: ${hello.keepaliveMs}\n mynodeid: ${hello.node}\n rsc: ${
      rsc instanceof ApiCallError ? '(null)' : rsc.status
    }\n`,
  );
  return EXIT.OK;
}

/** `cl_status` as a program (and `tsbeat cl_status`). */
export function main(argv: string[]): Promise<number> {
  return clStatus(argv, {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    pid: process.pid,
    hostname: hostname(),
    now: () => new Date(),
    socketPath: clientSocketPaths().read,
    controlPath: clientSocketPaths().control,
    alarmMs: ALARM_MS,
    daemonPid: () => daemonAlive(),
  });
}

if (isMainModule(import.meta.url)) runMain(() => main(process.argv.slice(2)));
