#!/usr/bin/env node
// Part: `hb_standby` (and, shared with hb_takeover.ts, the request both make): heartbeat's
// arguments, texts and exit codes; unlike heartbeat's scripts, which block for ever on a FIFO
// nobody reads, it gets an answer from the daemon or a clear error within a deadline.

import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { isatty } from 'node:tty';
import { clientSocketPaths, isMainModule, strftime } from '../ipc/cli-common.js';
import { ApiCallError, ApiUnavailableError, apiCall, notDelivered, retrying } from '../ipc/client.js';
import type { ResourceSet } from '../ipc/view.js';
import { runMain } from './run.js';

/** Exit codes: heartbeat's 0 and 1, and LSB's words for what heartbeat never reports. */
export const EXIT = { OK: 0, FAILED: 1, NO_PRIVILEGE: 4, NOT_RUNNING: 7 } as const;

/** How long the CLIs wait for the daemon's answer. */
export const DEADLINE_MS = 5000;

export interface RequestIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: NodeJS.ProcessEnv;
  readonly pid: number;
  now(): Date;
  /** heartbeat's ha_log writes bare lines when `tty` (standard input) is a terminal. */
  readonly stdinIsTty: boolean;
  /** `$0` as heartbeat's scripts print it: the path the program was invoked by. */
  readonly program: string;
  /** The daemon's control socket. */
  readonly controlPath: string;
  readonly deadlineMs: number;
}

const SETS: readonly string[] = ['all', 'foreign', 'local', 'failback'];

function usage(io: RequestIo): number {
  io.stdout('usage:\n');
  io.stderr(`${io.program} [all|foreign|local|failback]\n`);
  return EXIT.FAILED;
}

function wrong(io: RequestIo, arg: string): number {
  io.stdout(`${io.program}: wrong resources(${arg}).\n`);
  return usage(io);
}

/**
 * The argument check of heartbeat's hb_standby / hb_takeover scripts: the set to request, or
 * the exit code after printing their texts. (heartbeat's shell tests break on an empty or blank
 * argument; here such an argument is simply a wrong one.)
 */
export function parseSet(
  kind: 'standby' | 'takeover',
  argv: readonly string[],
  io: RequestIo,
): ResourceSet | number {
  if (argv.length >= 2) {
    io.stdout(`${io.program}: too many arguments\n`);
    return usage(io);
  }
  const arg = argv[0] ?? 'all';
  if (arg === '--help') return usage(io);
  if (!SETS.includes(arg)) return wrong(io, arg);
  // hb_standby asks for the foreign set on `failback`; hb_takeover passes it on (its peer reads
  // it as `all`).
  return kind === 'standby' && arg === 'failback' ? 'foreign' : (arg as ResourceSet);
}

/** heartbeat's ha_log (ocf-shellfuncs) for an informational line, outside heartbeat. */
export function haLog(message: string, io: RequestIo): void {
  const env = io.env;
  if (io.stdinIsTty) {
    io.stderr(env['HA_LOGTAG'] ? `${env['HA_LOGTAG']}: ${message}\n` : `${message}\n`);
    return;
  }
  const tag =
    env['HA_LOGTAG'] || `${basename(io.program)}(${env['OCF_RESOURCE_INSTANCE'] || 'default'})[${io.pid}]`;
  const date = strftime(env['HA_DATEFMT'] ?? '%b %d %T ', io.now());
  const facility = env['HA_LOGFACILITY'] === 'none' ? '' : (env['HA_LOGFACILITY'] ?? '');
  const logfile = env['HA_LOGFILE'] ?? '';
  if (facility) {
    // Best effort, as the script's `logger` call: a missing logger changes nothing else.
    // child_process is loaded here only: importing it costs every run some start-up time.
    process
      .getBuiltinModule('node:child_process')
      .spawnSync('logger', ['-t', tag, '-p', `${facility}.notice`, message], {
        timeout: 2000,
        stdio: 'ignore',
      });
  }
  if (logfile) append(logfile, `${date} ${tag}:    ${message}\n`);
  if (!facility && !logfile) io.stderr(`${date}${message}\n`);
  const debuglog = env['HA_DEBUGLOG'] ?? '';
  if (debuglog && debuglog !== logfile) append(debuglog, `${tag}:\t${date}${message}\n`);
}

function append(file: string, text: string): void {
  try {
    appendFileSync(file, text);
  } catch {
    // The shell's `>>` to an unwritable file only complains; the request still goes out.
  }
}

/** The group that may use the control socket, for the permission message. */
function socketGroup(path: string): string | undefined {
  try {
    const gid = statSync(path).gid;
    if (gid === 0) return undefined;
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (id === String(gid) && name) return name;
    }
    return String(gid);
  } catch {
    return undefined;
  }
}

/** Send the request to the daemon: 0 when it accepted it, else a message and an exit code. */
export async function sendRequest(
  kind: 'standby' | 'takeover',
  set: ResourceSet,
  io: RequestIo,
): Promise<number> {
  const say = (text: string) => io.stderr(`${io.program}: ${text}\n`);
  try {
    // Sent again only when the daemon certainly did not act on it (refused busy, backlog full).
    const r = await retrying((msLeft) => apiCall(io.controlPath, kind, { set }, msLeft), {
      budgetMs: io.deadlineMs,
      retryOn: notDelivered,
    });
    if (r.accepted) return EXIT.OK;
    say(r.message);
    return EXIT.FAILED;
  } catch (e) {
    if (e instanceof ApiUnavailableError) {
      switch (e.reason) {
        case 'not-running':
          say(`tsbeat is not running (nothing answers on ${io.controlPath}); nothing was requested`);
          return EXIT.NOT_RUNNING;
        case 'permission': {
          const group = socketGroup(io.controlPath);
          say(`permission denied: ${kind} needs root${group ? ` or membership in group ${group}` : ''}`);
          return EXIT.NO_PRIVILEGE;
        }
        case 'timeout':
          say(`tsbeat did not answer within ${io.deadlineMs / 1000} s; the request may not have been made`);
          return EXIT.FAILED;
        case 'busy':
          say(`tsbeat is too busy to take the request; nothing was requested, try again`);
          return EXIT.FAILED;
        case 'closed':
          say('tsbeat closed the connection before answering; the request may not have been made');
          return EXIT.FAILED;
        default:
          say(`cannot talk to tsbeat: ${e.message}`);
          return EXIT.FAILED;
      }
    }
    if (e instanceof ApiCallError) {
      if (e.code === 'busy') {
        say(`tsbeat is too busy to take the request (${e.message}); nothing was requested, try again`);
        return EXIT.FAILED;
      }
      say(e.code === 'permission-denied' ? `permission denied: ${e.message}` : e.message);
      return e.code === 'permission-denied' ? EXIT.NO_PRIVILEGE : EXIT.FAILED;
    }
    throw e;
  }
}

/** hb_standby [all|foreign|local|failback]: this node gives the set up to its peer. */
export async function hbStandby(argv: readonly string[], io: RequestIo): Promise<number> {
  const set = parseSet('standby', argv, io);
  if (typeof set === 'number') return set;
  haLog(`Going standby [${set}].`, io);
  return sendRequest('standby', set, io);
}

/** The process's own I/O; `program` is `$0` when run as a program, else `tsbeat NAME`. */
export function processIo(name: string, moduleUrl: string): RequestIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    pid: process.pid,
    now: () => new Date(),
    stdinIsTty: isatty(0),
    program: isMainModule(moduleUrl) ? (process.argv[1] ?? name) : `tsbeat ${name}`,
    controlPath: clientSocketPaths().control,
    deadlineMs: DEADLINE_MS,
  };
}

export function main(argv: string[]): Promise<number> {
  return hbStandby(argv, processIo('hb_standby', import.meta.url));
}

if (isMainModule(import.meta.url)) runMain(() => main(process.argv.slice(2)));
