// Part: the daemon's log writers: a bounded queue in front of every file, FIFO, pipe, terminal
// and logger(1), drained by asynchronous non-blocking writes, so that no disk, reader or syslog
// daemon can delay the event loop that sends heartbeats, or keep the process from exiting.
//
// The rules every writer here keeps (each one was a way to hang the daemon):
// - every fd is opened O_NONBLOCK: opening a FIFO nobody reads fails ENXIO at once (a blocking
//   open would park a libuv threadpool thread for ever, and process.exit() joins those threads);
//   writing to a full pipe or a stopped terminal fails EAGAIN instead of blocking;
// - at most one fs call per file is in flight, and nothing is retried in a tight loop: failures
//   back off from 20-100 ms up to 1 s on unref'd timers;
// - every queue is bounded in lines and bytes; when it is full the NEWEST line is dropped and
//   counted (see Drops below for why newest), and a note "N log lines dropped: FILE: REASON"
//   is written at the place of the gap once a line is accepted again (at most one per 10 s);
// - close() never waits: what cannot be written at once is dropped and counted.

import { type ChildProcess, spawn } from 'node:child_process';
import { close, constants, existsSync, fstat, fstatSync, mkdir, open, stat, write } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';

/** What `tsbeat status` shows per log destination. */
export interface SinkStats {
  /** The destination: a path, `stderr`, or `syslog (...)`. */
  readonly file: string;
  /** Lines accepted but not yet written (including a partly written batch). */
  readonly queuedLines: number;
  readonly queuedBytes: number;
  readonly writtenLines: number;
  /** Lines given up since start: queue full, or left over at close. */
  readonly droppedLines: number;
  /** The most recent open/write error, e.g. "no space left on device (ENOSPC)"; kept after recovery. */
  readonly lastError?: string;
  /** Wall-clock time of lastError (ms since the epoch). */
  readonly lastErrorAtMs?: number;
  /** False while the destination is failing (the last open or write attempt did not work). */
  readonly ok: boolean;
}

export interface SinkLimits {
  /** Most bytes held per destination (queue plus the batch being written). */
  readonly maxQueueBytes: number;
  /** Most lines held per destination. */
  readonly maxQueueLines: number;
}

/** 1 MiB or 10,000 lines: minutes of normal logging, a few ms of a log storm. */
export const DEFAULT_LIMITS: SinkLimits = { maxQueueBytes: 1 << 20, maxQueueLines: 10_000 };

/** At most one "log lines dropped" note per destination per this many ms. */
export const DROP_NOTE_INTERVAL_MS = 10_000;

const MAX_BACKOFF_MS = 1000;
/** Writes of at most PIPE_BUF bytes to a pipe are atomic: our lines never interleave with a script's. */
const PIPE_BATCH_BYTES = 4096;
const FILE_BATCH_BYTES = 64 * 1024;

/** One destination of log lines. Every method returns at once. */
export interface LineSink {
  readonly file: string;
  /** True when a line would be dropped now: callers skip formatting it and call countDrop(). */
  full(): boolean;
  countDrop(): void;
  /** Queue one line (with its newline); false when it was dropped (and counted). */
  push(line: string): boolean;
  /** Close and open the destination again (SIGHUP, logrotate). */
  reopen(): void;
  /** Reopen if the path now names another file (logrotate moved ours away). */
  checkRotation(): void;
  /** Resolves true once everything queued is written, false after timeoutMs. Never rejects. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Stop accepting lines; write what can be written without waiting, drop the rest. */
  close(): void;
  stats(): SinkStats;
}

export interface SinkOptions {
  readonly limits?: Partial<SinkLimits>;
  /** Formats the drop note as a line of this destination (a WARN line). */
  readonly noteLine: (text: string) => string;
  /** Monotonic ms for rate limits (tests step it); default performance.now. */
  readonly now?: () => number;
}

/** heartbeat-style words for the errors a log destination meets. */
export function describeError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENXIO':
      return 'no process has the FIFO open for reading (ENXIO)';
    case 'EAGAIN':
    case 'EWOULDBLOCK':
      return 'the reader does not keep up (EAGAIN)';
    case 'ENOSPC':
      return 'no space left on device (ENOSPC)';
    case 'EDQUOT':
      return 'disk quota exceeded (EDQUOT)';
    case 'EFBIG':
      return 'file too large (EFBIG)';
    case 'EPIPE':
      return 'the reader went away (EPIPE)';
    case 'EIO':
      return 'input/output error (EIO)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${e.code})`;
    case 'ENOENT':
      return 'no such file or directory (ENOENT)';
    case 'EROFS':
      return 'read-only file system (EROFS)';
    default:
      return e.code ? `${e.code}: ${e.message}` : e.message;
  }
}

/**
 * The drop counter of one destination and its note.
 *
 * Why drop the newest line rather than the oldest: a line that is dropped this way costs
 * nothing — the logger sees the queue is full before it formats the line — so a log storm on
 * a stuck disk costs least exactly when the machine is in trouble; the file stays in time
 * order with one gap, marked by the note at the gap; and the first lines of an incident, which
 * usually name its cause, are the ones kept.
 */
class Drops {
  total = 0;
  private pending = 0;
  private reason = '';
  private lastNoteAtMs = Number.NEGATIVE_INFINITY;

  drop(reason: string, n = 1): void {
    this.total += n;
    this.pending += n;
    this.reason = reason;
  }

  /** An error met while lines were being dropped explains the drops better than "queue full". */
  blame(reason: string): void {
    if (this.pending > 0) this.reason = reason;
  }

  /** The note text, when lines were dropped since the last one and a note is due (or forced). */
  takeNote(file: string, nowMs: number, force: boolean): string | undefined {
    if (this.pending === 0) return undefined;
    if (!force && nowMs - this.lastNoteAtMs < DROP_NOTE_INTERVAL_MS) return undefined;
    const n = this.pending;
    this.pending = 0;
    this.lastNoteAtMs = nowMs;
    return `${n} log line${n === 1 ? '' : 's'} dropped: ${file}: ${this.reason}`;
  }
}

function limitsOf(l: Partial<SinkLimits> | undefined): SinkLimits {
  return { ...DEFAULT_LIMITS, ...l };
}

const noop = (): void => undefined;

export interface FileSinkOptions extends SinkOptions {
  readonly path: string;
  /** Shown in stats and notes; default the path. */
  readonly label?: string;
  /** O_CREAT, and create the directory when it is missing. Default true. */
  readonly create?: boolean;
  /** Called after the sink noticed that the path names another file and began reopening it. */
  readonly onRotated?: () => void;
}

/** A log file (or FIFO, or /proc/self/fd/2) written asynchronously through a bounded queue. */
export class FileSink implements LineSink {
  readonly file: string;
  private readonly path: string;
  private readonly create: boolean;
  private readonly limits: SinkLimits;
  private readonly noteLine: (text: string) => string;
  private readonly now: () => number;
  private readonly onRotated: (() => void) | undefined;

  private fd: number | undefined;
  private ident: { dev: number; ino: number } | undefined;
  private batchBytes = FILE_BATCH_BYTES;
  /** The one fs call in flight, if any. */
  private busy: 'open' | 'write' | 'close' | undefined;
  private statting = false;
  private mkdirTried = false;
  private retry: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  private reopenWanted = false;
  private state: 'open' | 'closing' | 'closed' = 'open';

  private lines: string[] = [];
  private lens: number[] = [];
  /** Drop notes are written like lines but not counted as lines (stats count what callers logged). */
  private isNote: boolean[] = [];
  private notesQueued = 0;
  private head = 0;
  private bytes = 0;
  private inflight: { buf: Buffer; off: number; lines: number } | undefined;
  private written = 0;
  private readonly drops = new Drops();
  private failing: string | undefined;
  private lastError: string | undefined;
  private lastErrorAtMs: number | undefined;
  private waiters: ((done: boolean) => void)[] = [];

  constructor(opts: FileSinkOptions) {
    this.path = opts.path;
    this.file = opts.label ?? opts.path;
    this.create = opts.create ?? true;
    this.limits = limitsOf(opts.limits);
    this.noteLine = opts.noteLine;
    this.now = opts.now ?? (() => performance.now());
    this.onRotated = opts.onRotated;
    this.kick();
  }

  private queuedLines(): number {
    return this.lines.length - this.head - this.notesQueued + (this.inflight?.lines ?? 0);
  }

  private queuedBytes(): number {
    return this.bytes + (this.inflight ? this.inflight.buf.length - this.inflight.off : 0);
  }

  private hasWork(): boolean {
    return this.inflight !== undefined || this.head < this.lines.length;
  }

  private reason(): string {
    if (this.state !== 'open') return 'the log was closed';
    return this.failing ?? 'writes are slower than logging (queue full)';
  }

  full(): boolean {
    return (
      this.state !== 'open' ||
      this.queuedLines() >= this.limits.maxQueueLines ||
      this.queuedBytes() >= this.limits.maxQueueBytes
    );
  }

  countDrop(): void {
    this.drops.drop(this.reason());
  }

  push(line: string): boolean {
    const n = Buffer.byteLength(line);
    if (
      this.state !== 'open' ||
      this.queuedLines() + 1 > this.limits.maxQueueLines ||
      this.queuedBytes() + n > this.limits.maxQueueBytes
    ) {
      this.countDrop();
      return false;
    }
    this.queueNote(false);
    this.enqueue(line, n, false);
    this.kick();
    return true;
  }

  /** Notes bypass the bound: at most one per DROP_NOTE_INTERVAL_MS, or one at flush/close. */
  private queueNote(force: boolean): void {
    const note = this.drops.takeNote(this.file, this.now(), force);
    if (note === undefined) return;
    const line = this.noteLine(note);
    this.enqueue(line, Buffer.byteLength(line), true);
  }

  private enqueue(line: string, n: number, note: boolean): void {
    this.lines.push(line);
    this.lens.push(n);
    this.isNote.push(note);
    if (note) this.notesQueued++;
    this.bytes += n;
  }

  /** Start whatever comes next; called after every completion. */
  private kick(): void {
    if (this.busy !== undefined || this.retry !== undefined || this.state === 'closed') return;
    if (this.fd !== undefined && this.reopenWanted) {
      this.closeFd();
      return;
    }
    if (this.fd === undefined) {
      if (this.state === 'closing') this.finish();
      else this.openFile();
      return;
    }
    if (this.hasWork()) {
      this.writeBatch();
      return;
    }
    this.wake(true);
    if (this.state === 'closing') this.finish();
  }

  private openFile(): void {
    this.busy = 'open';
    const flags =
      constants.O_WRONLY |
      constants.O_APPEND |
      constants.O_NONBLOCK |
      constants.O_NOCTTY |
      (this.create ? constants.O_CREAT : 0);
    open(this.path, flags, 0o644, (err, fd) => {
      if (err) {
        if (err.code === 'ENOENT' && this.create && !this.mkdirTried) {
          this.mkdirTried = true;
          mkdir(dirname(this.path), { recursive: true }, () => {
            this.busy = undefined;
            this.kick();
          });
          return;
        }
        this.busy = undefined;
        this.failed(err, 'open');
        return;
      }
      fstat(fd, (e, st) => {
        this.busy = undefined;
        if (this.state === 'closed') {
          close(fd, noop);
          return;
        }
        this.fd = fd;
        this.mkdirTried = false;
        this.reopenWanted = false;
        this.ident = e ? undefined : { dev: st.dev, ino: st.ino };
        const pipeLike = !e && (st.isFIFO() || st.isSocket() || st.isCharacterDevice());
        this.batchBytes = pipeLike ? PIPE_BATCH_BYTES : FILE_BATCH_BYTES;
        this.kick();
      });
    });
  }

  private writeBatch(): void {
    const fd = this.fd!;
    if (!this.inflight) {
      const parts: string[] = [];
      let size = 0;
      let notes = 0;
      while (this.head < this.lines.length) {
        const n = this.lens[this.head]!;
        if (parts.length > 0 && size + n > this.batchBytes) break;
        parts.push(this.lines[this.head]!);
        if (this.isNote[this.head]) notes++;
        size += n;
        this.head++;
      }
      this.bytes -= size;
      this.notesQueued -= notes;
      this.inflight = { buf: Buffer.from(parts.join(''), 'utf8'), off: 0, lines: parts.length - notes };
      this.compact();
    }
    const b = this.inflight;
    this.busy = 'write';
    write(fd, b.buf, b.off, b.buf.length - b.off, null, (err, n) => {
      this.busy = undefined;
      if (err) {
        this.failed(err, 'write');
        return;
      }
      if (n === 0) {
        this.failed(Object.assign(new Error('write returned 0'), { code: 'EAGAIN' }), 'write');
        return;
      }
      b.off += n;
      if (b.off >= b.buf.length) {
        this.written += b.lines;
        this.inflight = undefined;
      }
      this.failing = undefined;
      this.backoffMs = 0;
      this.kick();
    });
  }

  /** Drop the consumed front of the queue now and then, so it does not grow for ever. */
  private compact(): void {
    if (this.head === this.lines.length) {
      this.lines = [];
      this.lens = [];
      this.isNote = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.lens = this.lens.slice(this.head);
      this.isNote = this.isNote.slice(this.head);
      this.head = 0;
    }
  }

  private failed(err: NodeJS.ErrnoException, op: 'open' | 'write'): void {
    const why = describeError(err);
    this.failing = why;
    this.lastError = why;
    this.lastErrorAtMs = Date.now();
    this.drops.blame(why);
    if (this.state === 'closing') {
      this.finish();
      return;
    }
    const code = err.code ?? '';
    // A full disk or a slow reader heals in place. So does a FIFO whose reader went away (EPIPE):
    // closing our end would make the kernel discard what the pipe still holds, lines already
    // counted as written, while this fd reaches the next reader that opens the FIFO (a FIFO
    // replaced by another file is caught by checkRotation). Anything else (EIO, EBADF) may have
    // broken this fd, so the next attempt opens the path again.
    const heals = ['EAGAIN', 'EWOULDBLOCK', 'ENOSPC', 'EDQUOT', 'EFBIG', 'EINTR', 'EPIPE'];
    if (op === 'write' && !heals.includes(code)) this.reopenWanted = true;
    const first = code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR' ? 20 : 100;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? first : this.backoffMs * 2);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.kick();
    }, this.backoffMs);
    this.retry.unref();
  }

  private closeFd(): void {
    const fd = this.fd!;
    this.fd = undefined;
    this.ident = undefined;
    this.busy = 'close';
    close(fd, () => {
      this.busy = undefined;
      this.kick();
    });
  }

  /** Closing: give up on what is left, count it, release the fd. */
  private finish(): void {
    const left = this.queuedLines();
    if (left > 0) this.drops.drop(this.failing ?? 'the log was closed', left);
    this.lines = [];
    this.lens = [];
    this.isNote = [];
    this.notesQueued = 0;
    this.head = 0;
    this.bytes = 0;
    this.inflight = undefined;
    this.state = 'closed';
    if (this.fd !== undefined) {
      close(this.fd, noop);
      this.fd = undefined;
    }
    this.wake(left === 0);
  }

  private wake(done: boolean): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f(done);
  }

  reopen(): void {
    if (this.state !== 'open') return;
    // An open in flight opens the path as it is now; only an open fd needs closing first.
    this.reopenWanted = this.fd !== undefined;
    this.retryNow();
  }

  /** An operator asked (SIGHUP, shutdown): skip the back-off. */
  private retryNow(): void {
    if (this.retry !== undefined) {
      clearTimeout(this.retry);
      this.retry = undefined;
    }
    this.kick();
  }

  checkRotation(): void {
    const ident = this.ident;
    if (this.state !== 'open' || this.statting || ident === undefined || this.reopenWanted) return;
    this.statting = true;
    stat(this.path, (err, st) => {
      this.statting = false;
      if (this.ident !== ident || this.state !== 'open') return;
      const moved = err ? err.code === 'ENOENT' : st.ino !== ident.ino || st.dev !== ident.dev;
      if (!moved) return;
      this.reopenWanted = true;
      this.onRotated?.();
      this.kick();
    });
  }

  flush(timeoutMs: number): Promise<boolean> {
    if (this.state === 'open') this.queueNote(true);
    if (!this.hasWork()) return Promise.resolve(true);
    if (this.state === 'closed') return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = (done: boolean): void => {
        clearTimeout(timer);
        resolve(done);
      };
      this.waiters.push(waiter);
      this.retryNow();
    });
  }

  close(): void {
    if (this.state !== 'open') return;
    this.queueNote(true);
    this.state = 'closing';
    if (this.retry !== undefined) {
      clearTimeout(this.retry);
      this.retry = undefined;
      this.finish();
      return;
    }
    this.kick();
  }

  stats(): SinkStats {
    return {
      file: this.file,
      queuedLines: this.queuedLines(),
      queuedBytes: this.queuedBytes(),
      writtenLines: this.written,
      droppedLines: this.drops.total,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.lastErrorAtMs !== undefined ? { lastErrorAtMs: this.lastErrorAtMs } : {}),
      ok: this.failing === undefined,
    };
  }
}

export interface StreamSinkOptions extends SinkOptions {
  readonly file: string;
  /** end()/destroy() the stream at close (a child's stdin); false for process.stderr. */
  readonly endOnClose: boolean;
}

/**
 * Lines handed to a non-blocking Node stream (a socket on stderr, logger's stdin). Node queues
 * in user space without limit; the bound is the stream's writableLength, which counts every
 * byte not yet accepted by the kernel.
 */
export class StreamSink implements LineSink {
  readonly file: string;
  private stream: Writable | undefined;
  private readonly endOnClose: boolean;
  private readonly limits: SinkLimits;
  private readonly noteLine: (text: string) => string;
  private readonly now: () => number;
  private readonly drops = new Drops();
  private broken: string | undefined;
  private lastError: string | undefined;
  private lastErrorAtMs: number | undefined;
  private handed = 0;
  private written = 0;
  private lost = 0;
  private closed = false;
  private readonly onWritten = (err?: Error | null): void => {
    if (err) this.lost++;
    else this.written++;
  };
  private readonly onError = (err: NodeJS.ErrnoException): void => {
    this.fail(describeError(err));
  };

  constructor(opts: StreamSinkOptions, stream?: Writable) {
    this.file = opts.file;
    this.endOnClose = opts.endOnClose;
    this.limits = limitsOf(opts.limits);
    this.noteLine = opts.noteLine;
    this.now = opts.now ?? (() => performance.now());
    if (stream) this.attach(stream);
    else this.broken = 'not connected';
  }

  /** Use this stream from now on (a respawned logger). */
  attach(stream: Writable): void {
    this.stream = stream;
    stream.on('error', this.onError);
    this.broken = undefined;
  }

  /** The stream is gone (its reader died): drop until attach(). */
  fail(why: string): void {
    this.drops.blame(why);
    this.broken = why;
    this.lastError = why;
    this.lastErrorAtMs = Date.now();
  }

  get connected(): boolean {
    return this.broken === undefined;
  }

  private pendingBytes(): number {
    return this.stream?.writableLength ?? 0;
  }

  private queuedLines(): number {
    return Math.max(0, this.handed - this.written - this.lost);
  }

  full(): boolean {
    return (
      this.closed ||
      this.broken !== undefined ||
      this.pendingBytes() >= this.limits.maxQueueBytes ||
      this.queuedLines() >= this.limits.maxQueueLines
    );
  }

  private reason(): string {
    if (this.closed) return 'the log was closed';
    return this.broken ?? 'the reader does not keep up (queue full)';
  }

  countDrop(): void {
    this.drops.drop(this.reason());
  }

  push(line: string): boolean {
    const n = Buffer.byteLength(line);
    if (this.full() || this.pendingBytes() + n > this.limits.maxQueueBytes) {
      this.countDrop();
      return false;
    }
    this.sendNote(false);
    this.handed++;
    this.stream!.write(line, this.onWritten);
    return true;
  }

  private sendNote(force: boolean): void {
    const note = this.drops.takeNote(this.file, this.now(), force);
    if (note !== undefined) this.stream!.write(this.noteLine(note), noop);
  }

  reopen(): void {}

  checkRotation(): void {}

  flush(timeoutMs: number): Promise<boolean> {
    if (!this.closed && this.broken === undefined) {
      this.sendNote(true);
    }
    const deadline = performance.now() + timeoutMs;
    return new Promise((resolve) => {
      const poll = (): void => {
        if (this.pendingBytes() === 0 || this.broken !== undefined) resolve(this.pendingBytes() === 0);
        else if (performance.now() >= deadline) resolve(false);
        else setTimeout(poll, 10);
      };
      poll();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const s = this.stream;
    if (!s || !this.endOnClose) return;
    // Pending bytes would keep the process alive until a reader that may never come takes them.
    const left = this.queuedLines();
    if (s.writableLength > 0) {
      if (left > 0) this.drops.drop(this.broken ?? 'the log was closed', left);
      this.lost += left;
      s.destroy();
    } else s.end();
  }

  stats(): SinkStats {
    return {
      file: this.file,
      queuedLines: this.queuedLines(),
      queuedBytes: this.pendingBytes(),
      writtenLines: this.written,
      droppedLines: this.drops.total,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.lastErrorAtMs !== undefined ? { lastErrorAtMs: this.lastErrorAtMs } : {}),
      ok: this.broken === undefined,
    };
  }
}

export interface SyslogSinkOptions extends SinkOptions {
  readonly file: string;
  /** The logger(1) command line; tests pass a stand-in. */
  readonly command: readonly string[];
  /** Least time between two starts of the command. Default 5 s. */
  readonly respawnMs?: number;
}

/**
 * syslog through one long-lived logger(1) reading "<PRI>text" lines on its stdin, bounded like
 * any stream; when logger dies, lines are dropped and counted and it is started again, at most
 * once per respawnMs, when the next line comes.
 */
export class SyslogSink implements LineSink {
  readonly file: string;
  private readonly inner: StreamSink;
  private readonly command: readonly string[];
  private readonly respawnMs: number;
  private readonly now: () => number;
  private child: ChildProcess | undefined;
  private spawnedAtMs = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(opts: SyslogSinkOptions) {
    this.file = opts.file;
    this.command = opts.command;
    this.respawnMs = opts.respawnMs ?? 5000;
    this.now = opts.now ?? (() => performance.now());
    this.inner = new StreamSink({ ...opts, endOnClose: true });
    this.start();
  }

  private start(): void {
    this.spawnedAtMs = this.now();
    let child: ChildProcess;
    try {
      child = spawn(this.command[0]!, this.command.slice(1), { stdio: ['pipe', 'ignore', 'ignore'] });
    } catch (e) {
      this.inner.fail(`cannot run ${this.command[0]}: ${(e as Error).message}`);
      return;
    }
    this.child = child;
    const stdin = child.stdin as Socket;
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (this.child === child) this.inner.fail(`cannot run ${this.command[0]}: ${describeError(e)}`);
    });
    child.on('exit', (code, signal) => {
      if (this.child === child && !this.closed)
        this.inner.fail(`${this.command[0]} exited (${signal ?? `status ${code}`})`);
    });
    // Neither an idle logger nor its pipe may keep the daemon from exiting.
    child.unref();
    stdin.unref();
    this.inner.attach(stdin);
  }

  private respawnIfDue(): void {
    if (this.closed || this.inner.connected || this.now() - this.spawnedAtMs < this.respawnMs) return;
    this.child?.stdin?.destroy();
    this.start();
  }

  full(): boolean {
    this.respawnIfDue();
    return this.inner.full();
  }

  countDrop(): void {
    this.inner.countDrop();
  }

  push(line: string): boolean {
    this.respawnIfDue();
    return this.inner.push(line);
  }

  reopen(): void {}

  checkRotation(): void {}

  flush(timeoutMs: number): Promise<boolean> {
    return this.inner.flush(timeoutMs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inner.close();
  }

  stats(): SinkStats {
    return this.inner.stats();
  }
}

/**
 * Standard error as a log destination. A pipe, FIFO, file or terminal on fd 2 is written through
 * a second, non-blocking open file description of it (/proc/self/fd/2): process.stderr would
 * write files and terminals synchronously and queue pipes without limit, and a pending pipe write
 * keeps a process from exiting. A socket (the journal) cannot be reopened that way; it gets
 * process.stderr, which Node writes without blocking, bounded by its writableLength.
 */
export function stderrSink(opts: SinkOptions): LineSink {
  let socket = false;
  try {
    socket = fstatSync(2).isSocket();
  } catch {
    return new StreamSink({ ...opts, file: 'stderr', endOnClose: false });
  }
  if (socket || !existsSync('/proc/self/fd/2'))
    return new StreamSink({ ...opts, file: 'stderr', endOnClose: false }, process.stderr);
  return new FileSink({ ...opts, path: '/proc/self/fd/2', label: 'stderr', create: false });
}
