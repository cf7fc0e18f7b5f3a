// Part: daemon logging. pino carries structured records; sinks write them as heartbeat's
// operator lines (logfile, debugfile, stderr) or as JSON, so existing log watchers that
// grep "WARN: node X: is dead" keep working and new tooling gets fields.

import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';

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

function levelOf(n: number): Level {
  if (n >= 55) return 'crit';
  if (n >= 50) return 'error';
  if (n >= 40) return 'warn';
  if (n >= 30) return 'info';
  return 'debug';
}

export interface Log {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  crit(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Log;
  /** Flush and close files. */
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

interface Record_ {
  level: number;
  time: number;
  pid: number;
  msg: string;
}

/** Appends heartbeat-format lines to a file; reopens it when logrotate moved it away. */
class HeartbeatFileSink extends Writable {
  private fd: number | undefined;
  private ino = -1;
  private checkedAtMs = 0;
  private readonly file: string;
  private readonly format: (r: Record_) => string;
  constructor(file: string, format: (r: Record_) => string) {
    super();
    this.file = file;
    this.format = format;
    this.open();
  }
  private open(): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      this.fd = openSync(this.file, 'a', 0o644);
      this.ino = fstatSync(this.fd).ino;
    } catch {
      this.fd = undefined;
    }
  }
  private rotateIfMoved(): void {
    const now = Date.now();
    if (now - this.checkedAtMs < 1000) return;
    this.checkedAtMs = now;
    let ino = -1;
    try {
      ino = statSync(this.file).ino;
    } catch {
      ino = -1;
    }
    if (ino !== this.ino) {
      if (this.fd !== undefined) closeSync(this.fd);
      this.open();
    }
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.rotateIfMoved();
    if (this.fd !== undefined) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          writeSync(this.fd, this.format(JSON.parse(line) as Record_));
        } catch {
          // a full disk must not stop the cluster
        }
      }
    }
    cb();
  }
  closeNow(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Writes each record to a stream as a heartbeat line (for stderr in the foreground). */
class HeartbeatStreamSink extends Writable {
  private readonly out: NodeJS.WritableStream;
  private readonly format: (r: Record_) => string;
  constructor(out: NodeJS.WritableStream, format: (r: Record_) => string) {
    super();
    this.out = out;
    this.format = format;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line) this.out.write(this.format(JSON.parse(line) as Record_));
    }
    cb();
  }
}

/** syslog through util-linux logger(1), one long-lived child reading "<PRI>text" lines. */
class SyslogSink extends Writable {
  private readonly child: ReturnType<typeof spawn> | undefined;
  private readonly facility: number;
  constructor(facility: string, entity: string) {
    super();
    this.facility = SYSLOG_FACILITY[facility] ?? 3;
    try {
      this.child = spawn('logger', ['--prio-prefix', '-t', entity], { stdio: ['pipe', 'ignore', 'ignore'] });
      this.child.on('error', () => undefined);
      this.child.stdin?.on('error', () => undefined);
    } catch {
      this.child = undefined;
    }
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as Record_;
      const level = levelOf(r.level);
      const pri = this.facility * 8 + SYSLOG_SEVERITY[level];
      this.child?.stdin?.write(`<${pri}>[${r.pid}]: ${PRIO_WORD[level]}: ${r.msg.replace(/\n/g, ' ')}\n`);
    }
    cb();
  }
  closeNow(): void {
    this.child?.stdin?.end();
  }
}

export interface LogOptions {
  readonly logfile?: string;
  readonly debugfile?: string;
  readonly logfacility?: string;
  /** Mirror to stderr (foreground runs): heartbeat lines, or JSON when `json`. */
  readonly stderr?: 'text' | 'json' | false;
  readonly debug?: boolean;
  readonly syslogmsgfmt?: boolean;
  /** Program name in log lines; heartbeat's, so existing log watchers keep matching. */
  readonly entity?: string;
}

export function createLog(opts: LogOptions): Log {
  const host = hostname();
  const entity = opts.entity ?? 'heartbeat';
  const format = (r: Record_): string =>
    heartbeatLine(new Date(r.time), host, entity, r.pid, levelOf(r.level), r.msg, opts.syslogmsgfmt ?? true);
  const streams: pino.StreamEntry[] = [];
  const closers: (() => void)[] = [];
  if (opts.logfile && opts.logfile !== '/dev/null') {
    const s = new HeartbeatFileSink(opts.logfile, format);
    streams.push({ level: 'info', stream: s });
    closers.push(() => s.closeNow());
  }
  if (opts.debugfile && opts.debugfile !== '/dev/null') {
    const s = new HeartbeatFileSink(opts.debugfile, format);
    streams.push({ level: 'debug', stream: s });
    closers.push(() => s.closeNow());
  }
  if (opts.logfacility && opts.logfacility !== 'none') {
    const s = new SyslogSink(opts.logfacility, entity);
    streams.push({ level: 'debug', stream: s });
    closers.push(() => s.closeNow());
  }
  if (opts.stderr === 'json') streams.push({ level: opts.debug ? 'debug' : 'info', stream: process.stderr });
  else if (opts.stderr === 'text')
    streams.push({
      level: opts.debug ? 'debug' : 'info',
      stream: new HeartbeatStreamSink(process.stderr, format),
    });

  const logger = pino(
    {
      level: 'debug',
      customLevels: { crit: 55 },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    pino.multistream(streams, { levels: { ...pino.levels.values, crit: 55 } }),
  );
  const wrap = (l: pino.Logger<'crit'>): Log => {
    const at = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
      if (fields) l[level](fields, msg);
      else l[level](msg);
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      crit: at('crit'),
      child: (b) => wrap(l.child(b)),
      close: () => {
        for (const c of closers) c();
      },
    };
  };
  return wrap(logger as pino.Logger<'crit'>);
}

/** A log that records lines in memory (tests). */
export function memoryLog(): Log & {
  readonly lines: { level: Level; msg: string; fields?: Record<string, unknown> }[];
} {
  const lines: { level: Level; msg: string; fields?: Record<string, unknown> }[] = [];
  const make = (): Log & { lines: typeof lines } => {
    const at = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
      lines.push(fields ? { level, msg, fields } : { level, msg });
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      crit: at('crit'),
      child: () => make(),
      close: () => undefined,
      lines,
    };
  };
  return make();
}
