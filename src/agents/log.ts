// Part: agent log lines in the shape resource-agents' shell library writes them (`ocf_log`,
// `ha_log`), and the sink that decides where they go (stderr, HA_LOGFILE, HA_DEBUGLOG).

import type { Env } from './metadata.js';

/** Log levels of the agent API (the resource manager's `ctx.log` uses the same four). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Receives one log record from an agent. */
export type LogFn = (level: LogLevel, message: string) => void;

/** The level words `ocf_log` prints (`ocf_log warn` prints "WARNING:"). */
const LEVEL_WORD: Record<LogLevel, string> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `hadate`: `date "+%b %d %T "` in local time, trailing blank included ("Nov 22 20:30:46 "). */
export function hadate(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} `;
}

/** The body of a log line: "INFO: Adding inet address ...". */
export function levelText(level: LogLevel, message: string): string {
  return `${LEVEL_WORD[level]}: ${message}`;
}

/** Where an executable agent's log lines go. */
export interface LogTargets {
  /** Text for the agent's own stderr. */
  readonly stderr: (text: string) => void;
  /** Appends to a file; undefined when files must not be written (the in-process path). */
  readonly append?: (path: string, text: string) => void;
}

/**
 * A `LogFn` with resource-agents' routing rules (`__ha_log`): without `HA_LOGFILE` the line goes
 * to stderr as "<date>LEVEL: text"; with it, it is appended there as "<date> <tag>:    LEVEL: text"
 * and stderr stays clean; `HA_DEBUGLOG` (if different) gets "<tag>:\t<date>LEVEL: text". Debug
 * lines only appear with `HA_debug` set and not 0. Syslog (`HA_LOGFACILITY`) is not written.
 */
export function makeLogSink(
  env: Env,
  tag: string,
  targets: LogTargets,
  now: () => Date = () => new Date(),
): LogFn {
  const logfile = env['HA_LOGFILE'] ?? '';
  const debuglog = env['HA_DEBUGLOG'] ?? '';
  const debugOn = (env['HA_debug'] ?? '0') !== '0' && env['HA_debug'] !== '';
  return (level, message) => {
    if (level === 'debug' && !debugOn) return;
    const date = hadate(now());
    const body = levelText(level, message);
    // With a log file the shell library keeps stderr clean. With only a syslog facility it would
    // write to syslog alone; tsbeat agents fork no `logger`, so stderr is the place left.
    if (logfile !== '') targets.append?.(logfile, `${date} ${tag}:    ${body}\n`);
    else targets.stderr(`${date}${body}\n`);
    if (debuglog !== '' && debuglog !== logfile) targets.append?.(debuglog, `${tag}:\t${date}${body}\n`);
  };
}
