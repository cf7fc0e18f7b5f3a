// Part: what the local-API CLIs (cl_status, hb_standby, hb_takeover, tsbeat status) share:
// where the sockets are, heartbeat's time stamps and log-line formats, and the check that
// lets one module be both a `bin` entry and a `tsbeat` sub-command. hb_standby loads this at
// every start: what only some CLIs need (the pid file: cli-daemon.ts) lives elsewhere.

import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { daemonPaths } from '../daemon/paths.js';
import { apiSocketPaths } from './socket-paths.js';

/** The sockets of the daemon this CLI talks to (TSBEAT_RUNDIR, default /run/tsbeat). */
export function clientSocketPaths(env: NodeJS.ProcessEnv = process.env): {
  readonly read: string;
  readonly control: string;
} {
  return apiSocketPaths(daemonPaths(env).runDir);
}

/**
 * Whether the module at `moduleUrl` is the program itself (`node dist/cli/cl_status.js`, or a
 * bin symlink to it) rather than imported by `tsbeat`.
 */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl;
  } catch {
    return false;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/**
 * A subset of strftime(3) in local time, enough for heartbeat's formats (%b %d %T, %Y/%m/%d_%T
 * and the usual fields). Unknown conversions are kept as written.
 */
export function strftime(format: string, d: Date): string {
  return format.replace(/%([a-zA-Z%])/g, (whole, c: string) => {
    switch (c) {
      case 'a':
        return DAYS[d.getDay()] ?? '';
      case 'b':
      case 'h':
        return MONTHS[d.getMonth()] ?? '';
      case 'd':
        return pad(d.getDate());
      case 'e':
        return String(d.getDate()).padStart(2, ' ');
      case 'm':
        return pad(d.getMonth() + 1);
      case 'y':
        return pad(d.getFullYear() % 100);
      case 'Y':
        return String(d.getFullYear());
      case 'H':
        return pad(d.getHours());
      case 'M':
        return pad(d.getMinutes());
      case 'S':
        return pad(d.getSeconds());
      case 'T':
        return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
      case 'F':
        return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
      case 's':
        return String(Math.floor(d.getTime() / 1000));
      case '%':
        return '%';
      default:
        return whole;
    }
  });
}

/** heartbeat's priority words (cl_log's prio2str). */
export type LogPriority = 'EMERG' | 'ALERT' | 'CRIT' | 'ERROR' | 'WARN' | 'notice' | 'info' | 'debug';

export interface LogLineOptions {
  readonly entity: string;
  readonly pid: number;
  /** `uname -n` as it is (cl_log does not lowercase it). */
  readonly hostname: string;
  readonly now: Date;
  /** cl_log's syslog-style file format (HA_syslogmsgfmt, default true). */
  readonly syslogFormat: boolean;
}

/**
 * One cl_log line as heartbeat's tools write it to stderr and log files:
 * `Nov 22 20:32:04 ra1 cl_status: [476]: ERROR: text`, or without the syslog format
 * `cl_status[476]: 2026/11/22_20:32:04 ERROR: text`.
 */
export function clLogLine(prio: LogPriority, message: string, o: LogLineOptions): string {
  if (!o.syslogFormat)
    return `${o.entity}[${o.pid}]: ${strftime('%Y/%m/%d_%T', o.now)} ${prio}: ${message}\n`;
  return `${strftime('%b %d %T', o.now)} ${o.hostname} ${o.entity}: [${o.pid}]: ${prio}: ${message}\n`;
}

/** cl_str_to_boolean: heartbeat's boolean words; undefined for anything else. */
export function heartbeatBoolean(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (['true', 'on', 'yes', 'y', '1'].includes(v)) return true;
  if (['false', 'off', 'no', 'n', '0'].includes(v)) return false;
  return undefined;
}
