// Part: daemon logging: heartbeat's operator lines to logfile, debugfile, syslog and stderr
// (so log watchers that grep "WARN: node X: is dead" keep working), or JSON records with fields
// through pino for --log-json. Every destination is a bounded, asynchronous writer
// (log-writer.ts): logging never waits for a disk, a FIFO or syslog.

import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type pino from 'pino';
import {
  FileSink,
  type LineSink,
  type SinkLimits,
  type SinkStats,
  SyslogSink,
  stderrSink,
} from './log-writer.js';

export type { SinkStats } from './log-writer.js';

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'crit';

/** heartbeat's priority words (cl_log: "info", "WARN", "ERROR", "CRIT", "debug"). */
const PRIO_WORD: Record<Level, string> = {
  debug: 'debug',
  info: 'info',
  warn: 'WARN',
  error: 'ERROR',
  crit: 'CRIT',
};
const SYSLOG_SEVERITY: Record<Level, number> = { debug: 7, info: 6, warn: 4, error: 3, crit: 2 };
const SYSLOG_FACILITY: Record<string, number> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  security: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** heartbeat's `debug` directive range. */
export const MAX_DEBUG_LEVEL = 255;

export interface Log {
  /**
   * A debug-priority line. Like heartbeat's cl_log(LOG_DEBUG), it always reaches the debugfile
   * and syslog, and stderr only while the debug level is above 0. Detail that heartbeat emits
   * only at some debug level is guarded by the caller: `if (log.debugLevel() >= 2) log.debug(...)`.
   */
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  crit(msg: string, fields?: Record<string, unknown>): void;
  /** Same destinations and debug level; `bindings` are added to JSON records. */
  child(bindings: Record<string, unknown>): Log;
  /** Set heartbeat's debug level (ha.cf `debug`; SIGUSR1 +1, SIGUSR2 -1), clamped to 0..255. Returns it. */
  setDebugLevel(level: number): number;
  debugLevel(): number;
  /** Close and open every log file again, asynchronously (SIGHUP after logrotate). */
  reopen(): void;
  /** Per destination: queue, drops, last error (for `tsbeat status`). */
  stats(): SinkStats[];
  /** Resolves true once every destination has written what it holds, false after timeoutMs. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Stop logging: writes what can be written at once and drops the rest; never waits. */
  close(): void;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `Nov 22 20:31:18 ra1 heartbeat: [22]: info: message` (syslogmsgfmt true). */
export function heartbeatLine(
  t: Date,
  host: string,
  entity: string,
  pid: number,
  level: Level,
  msg: string,
  syslogFmt = true,
): string {
  if (syslogFmt) {
    const stamp = `${MONTHS[t.getMonth()]} ${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
    return `${stamp} ${host} ${entity}: [${pid}]: ${PRIO_WORD[level]}: ${msg}\n`;
  }
  const stamp = `${t.getFullYear()}/${pad(t.getMonth() + 1)}/${pad(t.getDate())}_${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  return `${entity}[${pid}]: ${stamp} ${PRIO_WORD[level]}: ${msg}\n`;
}

/** What logger(1) reads on stdin with --prio-prefix: `<PRI>[pid]: WARN: message`. */
export function syslogLine(facility: number, pid: number, level: Level, msg: string): string {
  return `<${facility * 8 + SYSLOG_SEVERITY[level]}>[${pid}]: ${PRIO_WORD[level]}: ${msg.replace(/\n/g, ' ')}\n`;
}

export interface LogOptions {
  readonly logfile?: string;
  readonly debugfile?: string;
  readonly logfacility?: string;
  /** Mirror to stderr (foreground runs): heartbeat lines, or JSON when `json`. */
  readonly stderr?: 'text' | 'json' | false;
  /** heartbeat's debug level (ha.cf `debug`). */
  readonly debugLevel?: number;
  /** Older spelling: true is debug level 1. */
  readonly debug?: boolean;
  readonly syslogmsgfmt?: boolean;
  /** Program name in log lines; heartbeat's, so existing log watchers keep matching. */
  readonly entity?: string;
  /** Queue bounds per destination (default 1 MiB / 10,000 lines). */
  readonly limits?: Partial<SinkLimits>;
  /** How often log files are checked for having been moved away (default 1 s). */
  readonly rotationCheckMs?: number;
  /** A file of JSON records (tsbeat.cf `logjson`): pino, with the structured fields of each line. */
  readonly jsonFile?: string;
  /** Added to every JSON record (the local node's name). */
  readonly jsonBase?: Record<string, unknown>;
  /** The logger(1) command for logfacility; tests pass a stand-in. */
  readonly syslogCommand?: readonly string[];
}

/** heartbeat-format destinations and what they take (spec §7.1). */
interface TextRoute {
  readonly sink: LineSink;
  /** logfile: everything above debug; debugfile, syslog: everything; stderr: debug only at level > 0. */
  readonly takes: 'info' | 'all' | 'dynamic';
  readonly format: 'heartbeat' | 'syslog';
}

const levelIsDebug = (l: Level): boolean => l === 'debug';

export function createLog(opts: LogOptions): Log {
  const host = hostname();
  const pid = process.pid;
  const entity = opts.entity ?? 'heartbeat';
  const hbFmt = opts.syslogmsgfmt ?? true;
  const facility = SYSLOG_FACILITY[opts.logfacility ?? ''] ?? 3;
  let level = clampLevel(opts.debugLevel ?? (opts.debug ? 1 : 0));
  const limits = opts.limits ?? {};
  const hbNote = (text: string): string => heartbeatLine(new Date(), host, entity, pid, 'warn', text, hbFmt);

  const routes: TextRoute[] = [];
  const files: FileSink[] = [];
  let emit: (lvl: Level, msg: string) => void = () => undefined;
  const rotated = (file: string) => () => emit('info', `log-rotate detected on logfile ${file}`);
  const addFile = (path: string | undefined, takes: 'info' | 'all'): void => {
    if (!path || path === '/dev/null') return;
    const sink = new FileSink({ path, limits, noteLine: hbNote, onRotated: rotated(path) });
    files.push(sink);
    routes.push({ sink, takes, format: 'heartbeat' });
  };
  addFile(opts.logfile, 'info');
  addFile(opts.debugfile, 'all');
  if (opts.logfacility && opts.logfacility !== 'none') {
    routes.push({
      sink: new SyslogSink({
        file: `syslog (logger, facility ${opts.logfacility})`,
        command: opts.syslogCommand ?? ['logger', '--prio-prefix', '-t', entity],
        limits,
        noteLine: (text) => syslogLine(facility, pid, 'warn', text),
      }),
      takes: 'all',
      format: 'syslog',
    });
  }
  // JSON records go to stderr (--log-json) and/or a file (logjson); one pino logger feeds both.
  const jsonSinks: LineSink[] = [];
  const jsonNote = (text: string) => `${JSON.stringify({ level: 40, time: Date.now(), pid, msg: text })}\n`;
  if (opts.stderr === 'text')
    routes.push({ sink: stderrSink({ limits, noteLine: hbNote }), takes: 'dynamic', format: 'heartbeat' });
  else if (opts.stderr === 'json') jsonSinks.push(stderrSink({ limits, noteLine: jsonNote }));
  if (opts.jsonFile && opts.jsonFile !== '/dev/null') {
    const sink = new FileSink({
      path: opts.jsonFile,
      limits,
      noteLine: jsonNote,
      onRotated: rotated(opts.jsonFile),
    });
    files.push(sink);
    jsonSinks.push(sink);
  }
  let json: { sink: LineSink; logger: pino.Logger<'crit'> } | undefined;
  if (jsonSinks.length > 0) {
    const sink: LineSink = jsonSinks.length === 1 ? jsonSinks[0]! : teeSink(jsonSinks);
    // Loaded only when JSON records are asked for: pino is a CommonJS package, and loading it
    // (with the CommonJS loader it needs) costs the daemon ~2-7 MB of RSS (measured).
    const pinoFn = createRequire(import.meta.url)('pino') as typeof pino;
    const logger = pinoFn(
      {
        level: 'debug',
        customLevels: { crit: 55 },
        base: { pid, ...opts.jsonBase },
        timestamp: pinoFn.stdTimeFunctions.epochTime,
      },
      { write: (s: string) => void sink.push(s) },
    ) as pino.Logger<'crit'>;
    json = { sink, logger };
  }
  const sinks: LineSink[] = [...routes.map((r) => r.sink), ...jsonSinks];

  // Decide per destination before formatting: a full queue drops the line for free.
  const write = (
    lvl: Level,
    msg: string,
    fields: Record<string, unknown> | undefined,
    jl: pino.Logger<'crit'> | undefined,
  ): void => {
    const debug = levelIsDebug(lvl);
    let hb: string | undefined;
    let sys: string | undefined;
    let t: Date | undefined;
    for (const r of routes) {
      if (debug && (r.takes === 'info' || (r.takes === 'dynamic' && level === 0))) continue;
      if (r.sink.full()) {
        r.sink.countDrop();
        continue;
      }
      if (r.format === 'heartbeat') {
        t ??= new Date();
        hb ??= heartbeatLine(t, host, entity, pid, lvl, msg, hbFmt);
        r.sink.push(hb);
      } else {
        sys ??= syslogLine(facility, pid, lvl, msg);
        r.sink.push(sys);
      }
    }
    if (json && jl && !(debug && level === 0)) {
      if (json.sink.full()) json.sink.countDrop();
      else if (fields) jl[lvl](fields, msg);
      else jl[lvl](msg);
    }
  };
  emit = (lvl, msg) => write(lvl, msg, undefined, json?.logger);

  const rotation = setInterval(() => {
    for (const f of files) f.checkRotation();
  }, opts.rotationCheckMs ?? 1000);
  rotation.unref();

  const wrap = (jl: pino.Logger<'crit'> | undefined): Log => {
    const at = (lvl: Level) => (msg: string, fields?: Record<string, unknown>) => write(lvl, msg, fields, jl);
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      crit: at('crit'),
      child: (b) => wrap(jl?.child(b)),
      setDebugLevel: (n) => {
        level = clampLevel(n);
        return level;
      },
      debugLevel: () => level,
      reopen: () => {
        for (const f of files) f.reopen();
      },
      stats: () => sinks.map((s) => s.stats()),
      flush: async (timeoutMs) => (await Promise.all(sinks.map((s) => s.flush(timeoutMs)))).every(Boolean),
      close: () => {
        clearInterval(rotation);
        for (const s of sinks) s.close();
      },
    };
  };
  return wrap(json?.logger);
}

/** Several JSON destinations behind one pino stream: full only when every one is full. */
function teeSink(sinks: readonly LineSink[]): LineSink {
  return {
    file: sinks.map((s) => s.file).join(', '),
    full: () => sinks.every((s) => s.full()),
    countDrop: () => {
      for (const s of sinks) s.countDrop();
    },
    push: (line) => {
      let any = false;
      for (const s of sinks) {
        if (s.full()) s.countDrop();
        else any = s.push(line) || any;
      }
      return any;
    },
    reopen: () => undefined,
    checkRotation: () => undefined,
    flush: async (t) => (await Promise.all(sinks.map((s) => s.flush(t)))).every(Boolean),
    close: () => undefined,
    stats: () => sinks[0]!.stats(),
  };
}

function clampLevel(n: number): number {
  if (!Number.isFinite(n)) return 0;
  return Math.max(0, Math.min(MAX_DEBUG_LEVEL, Math.trunc(n)));
}

/** A log that records lines in memory (tests). */
export function memoryLog(): Log & {
  readonly lines: { level: Level; msg: string; fields?: Record<string, unknown> }[];
} {
  const lines: { level: Level; msg: string; fields?: Record<string, unknown> }[] = [];
  let level = 0;
  const make = (): Log & { lines: typeof lines } => {
    const at = (lvl: Level) => (msg: string, fields?: Record<string, unknown>) => {
      lines.push(fields ? { level: lvl, msg, fields } : { level: lvl, msg });
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      crit: at('crit'),
      child: () => make(),
      setDebugLevel: (n) => {
        level = clampLevel(n);
        return level;
      },
      debugLevel: () => level,
      reopen: () => undefined,
      stats: () => [],
      flush: async () => true,
      close: () => undefined,
      lines,
    };
  };
  return make();
}
