// Part: the local API server on a Unix socket: bounded in every dimension (request size,
// queued requests, clients, time to complete a request, idle time, handler time, unread output)
// so that nothing a client sends or fails to send or read can disturb the daemon or lock other
// clients out; what it refuses is counted and logged (rate-limited) through RejectedInput.

import { chmodSync, chownSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { printable } from '../lib/printable.js';
import type { RejectClass, RejectedInput } from '../lib/rejected.js';
import {
  API_VERSION,
  type ApiErrorBody,
  type ApiErrorCode,
  type ApiRequest,
  type ApiResponse,
  encodeResponse,
  isRejected,
  MAX_REQUEST_BYTES,
  parseRequest,
  type RequestId,
} from './protocol.js';

/** Answers one parsed request; throws ApiError for an error reply (anything else is `internal`). */
export type Dispatch = (req: ApiRequest, conn: ConnectionContext) => unknown;

/** What a handler may know of the connection a request came on. */
export interface ConnectionContext {
  /** Run `fn` once when the connection is gone (closed by either side). */
  onClose(fn: () => void): void;
}

/** An error a handler throws to answer `ok: false` with a code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ServerLimits {
  /** Connections held at once; at the limit the longest-waiting idle one makes room (see accept). */
  readonly maxClients: number;
  /** Requests a client may queue on one connection before it is refused. */
  readonly maxQueued: number;
  /**
   * A request must be complete (its newline received) this long after the connection opened,
   * or, on a connection that has completed requests before, after the request's first byte.
   */
  readonly requestMs: number;
  /** A connection that has completed requests may then sit idle (nothing sent) this long. */
  readonly idleMs: number;
  readonly handlerMs: number;
  /** Output a client leaves unread before it is dropped. */
  readonly maxUnreadBytes: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxClients: 64,
  maxQueued: 16,
  requestMs: 2000,
  idleMs: 20_000,
  handlerMs: 15_000,
  maxUnreadBytes: 1024 * 1024,
};

export interface ListenOptions {
  /** File mode of the socket (connecting needs write permission). */
  readonly mode: number;
  /** Group owner of the socket, when it should not stay root's. */
  readonly gid?: number;
  /** Owner of the socket, when it should not be the daemon's user. */
  readonly uid?: number;
}

export interface ServerOptions {
  /** Where refused, evicted, timed-out, malformed and denied requests are counted and logged. */
  readonly rejected?: RejectedInput;
  /** Monotonic milliseconds (tests). Default performance.now. */
  readonly nowMs?: () => number;
}

/** A socket path that must not be taken over: a live daemon's socket, or not a socket at all. */
export class SocketInUseError extends Error {
  override readonly name = 'SocketInUseError';
}

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Error replies that mean the client sent something it should not have. */
const BAD_REQUEST_CODES: ReadonlySet<ApiErrorCode> = new Set<ApiErrorCode>([
  'bad-json',
  'bad-request',
  'too-large',
  'unsupported-version',
  'unknown-command',
  'bad-args',
]);

/** What a Connection needs from its server. */
interface Host {
  readonly dispatch: Dispatch;
  readonly limits: ServerLimits;
  now(): number;
  reject(cls: RejectClass, line: string): void;
  /** The connection no longer holds a client slot (it is closing or closed). */
  release(c: Connection): void;
}

export class ApiServer {
  private server: Server | undefined;
  private readonly limits: ServerLimits;
  private readonly clients = new Set<Connection>();
  private readonly host: Host;
  private readonly rejected: RejectedInput | undefined;
  /** The socket's file name, as log lines name it. */
  private name = 'api';

  constructor(dispatch: Dispatch, limits: Partial<ServerLimits> = {}, opts: ServerOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.rejected = opts.rejected;
    const nowMs = opts.nowMs ?? (() => performance.now());
    this.host = {
      dispatch,
      limits: this.limits,
      now: nowMs,
      reject: (cls, line) => this.reject(cls, line),
      release: (c) => this.clients.delete(c),
    };
  }

  /**
   * Listen on `path` with the given permissions. A stale socket left by a dead daemon is
   * replaced; a socket some process still listens on, or anything that is not a socket, is
   * left alone and SocketInUseError names it.
   */
  async listen(path: string, opts: ListenOptions): Promise<void> {
    this.name = basename(path);
    mkdirSync(dirname(path), { recursive: true });
    await removeStaleSocket(path);
    // allowHalfOpen: a client may send its requests and shut its side; we still answer them.
    const server = createServer({ allowHalfOpen: true }, (sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        this.server = undefined;
        reject(
          e.code === 'EADDRINUSE'
            ? new SocketInUseError(
                `${path} was created again while tsbeat was starting: is another tsbeat daemon starting? Stop it first, or use another TSBEAT_RUNDIR`,
              )
            : new Error(`cannot listen on ${path}: ${e.message}`),
        );
      });
      server.listen(path, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    server.on('error', () => undefined);
    // Until chmod, the socket has the umask's mode (0755 at most): nobody else can connect yet.
    if (opts.gid !== undefined || opts.uid !== undefined)
      chownSync(path, opts.uid ?? process.getuid?.() ?? 0, opts.gid ?? process.getgid?.() ?? 0);
    chmodSync(path, opts.mode);
  }

  /** Number of connected clients (for tests). */
  get clientCount(): number {
    return this.clients.size;
  }

  private reject(cls: RejectClass, line: string): void {
    this.rejected?.reject(cls, this.name, `local API ${this.name}: ${line}`, 'warn');
  }

  /**
   * Admit a client. At the limit, the client that has waited longest without a complete
   * request (a half-open connection holding a slot, or an idle one) is closed to make room:
   * such a client costs nothing to replace, while refusing the newcomer would let anyone who
   * opens connections and sends nothing lock every other user out. Only when every slot holds
   * a client whose request is being answered is the newcomer refused.
   */
  private accept(sock: Socket): void {
    sock.on('error', () => sock.destroy());
    if (this.clients.size >= this.limits.maxClients) {
      const victim = this.longestWaiting();
      if (victim) {
        victim.evict(this.limits.maxClients);
      } else {
        this.reject(
          'ipcBusy',
          `client limit (${this.limits.maxClients}) reached with every client waiting for an answer: refused a new connection`,
        );
        sock.end(errorLine(undefined, 'busy', `too many clients (${this.limits.maxClients}); try again`));
        sock.destroySoon();
        return;
      }
    }
    const c = new Connection(sock, this.host);
    this.clients.add(c);
  }

  private longestWaiting(): Connection | undefined {
    let victim: Connection | undefined;
    for (const c of this.clients) {
      const since = c.waitingSince;
      if (since === undefined) continue;
      if (victim === undefined || since < (victim.waitingSince ?? Number.POSITIVE_INFINITY)) victim = c;
    }
    return victim;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of [...this.clients]) c.destroy();
    this.clients.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** What is at a socket path: nothing, a socket nobody listens on, or a live listener. */
export type SocketProbe = 'absent' | 'dead' | 'listening';

/**
 * Whether some process listens on the Unix socket `path`. A connection accepted, or refused
 * for a full backlog (EAGAIN), or not settled within `timeoutMs`, counts as listening: when in
 * doubt, the socket is someone's. Throws SocketInUseError for a path that is not a socket.
 */
export async function probeSocket(path: string, timeoutMs = 1000): Promise<SocketProbe> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw new Error(`cannot check ${path}: ${(e as Error).message}`);
  }
  if (!isSocket) {
    throw new SocketInUseError(
      `${path} exists and is not a socket; tsbeat does not delete it: move it away, or use another TSBEAT_RUNDIR`,
    );
  }
  return new Promise<SocketProbe>((resolve, reject) => {
    const sock = connect(path);
    const done = (r: SocketProbe | Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const timer = setTimeout(() => done('listening'), timeoutMs);
    sock.once('connect', () => done('listening'));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') done('dead');
      else if (e.code === 'EAGAIN') done('listening');
      else if (e.code === 'ENOENT') done('absent');
      else done(new Error(`cannot check whether a daemon listens on ${path}: ${e.message}`));
    });
  });
}

/** Remove `path` if it is a socket nobody listens on; refuse to touch a live or foreign one. */
async function removeStaleSocket(path: string): Promise<void> {
  const probe = await probeSocket(path);
  if (probe === 'listening') {
    throw new SocketInUseError(
      `another tsbeat daemon is listening on ${path}; stop it first (tsbeat stop), or use another TSBEAT_RUNDIR`,
    );
  }
  if (probe === 'dead') rmSync(path, { force: true });
}

function errorLine(id: RequestId | undefined, code: ApiErrorCode, message: string): string {
  return encodeResponse({
    v: API_VERSION,
    ...(id === undefined ? {} : { id }),
    ok: false,
    error: { code, message },
  });
}

/** One client: splits lines, answers them strictly in order, one at a time. */
class Connection {
  private readonly sock: Socket;
  private readonly host: Host;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly queue: Buffer[] = [];
  private busy = false;
  private ended = false;
  private closing = false;
  /**
   * Since when this client has had no complete request outstanding (it connected, or its last
   * answer was sent); undefined while a request is queued or being answered. The eviction
   * order, and the start of the deadline for a connection that never completed a request.
   */
  waitingSince: number | undefined;
  /** When the first byte of the incomplete request arrived, on a connection already proven. */
  private partialSince: number | undefined;
  /** Has completed at least one request: may then sit idle for idleMs rather than requestMs. */
  private proven = false;
  private timer: NodeJS.Timeout | undefined;
  private deadlineAt: number | undefined;
  private closeHooks: (() => void)[] = [];
  readonly ctx: ConnectionContext = {
    onClose: (fn) => {
      if (this.sock.destroyed) fn();
      else this.closeHooks.push(fn);
    },
  };

  constructor(sock: Socket, host: Host) {
    this.sock = sock;
    this.host = host;
    this.waitingSince = host.now();
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('end', () => {
      this.ended = true;
      this.maybeFinish();
    });
    sock.on('close', () => {
      this.closing = true;
      this.waitingSince = undefined;
      this.disarm();
      host.release(this);
      const hooks = this.closeHooks;
      this.closeHooks = [];
      for (const fn of hooks) fn();
    });
    this.arm();
  }

  /** Closed by the server to make room for a newcomer. */
  evict(maxClients: number): void {
    const waited = Math.round(this.host.now() - (this.waitingSince ?? this.host.now()));
    this.host.reject(
      'ipcBusy',
      `client limit (${maxClients}) reached: closed the connection that waited longest (${waited} ms) without a complete request`,
    );
    this.fail('busy', `closed to make room for another client: no complete request in ${waited} ms`);
  }

  destroy(): void {
    this.closing = true;
    this.disarm();
    this.sock.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.pendingBytes + piece.length > MAX_REQUEST_BYTES) return this.refuseTooLarge();
      const line = this.pendingBytes === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.pending = [];
      this.pendingBytes = 0;
      if (this.queue.length >= this.host.limits.maxQueued) {
        this.host.reject(
          'ipcBadRequest',
          `more than ${this.host.limits.maxQueued} requests queued on one connection`,
        );
        return this.fail('busy', `more than ${this.host.limits.maxQueued} requests queued on one connection`);
      }
      this.queue.push(line);
      this.proven = true;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      if (this.pendingBytes + rest.length > MAX_REQUEST_BYTES) return this.refuseTooLarge();
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
    if (this.queue.length > 0 || this.busy) {
      this.waitingSince = undefined;
      this.partialSince = undefined;
    } else if (this.pendingBytes > 0 && this.partialSince === undefined) {
      this.partialSince = this.host.now();
    }
    this.arm();
    void this.drain();
  }

  /** (Re)start the deadline that applies in the current state; none while a request is answered. */
  private arm(): void {
    const since = this.waitingSince;
    if (this.closing || since === undefined) return this.disarm();
    const { requestMs, idleMs } = this.host.limits;
    let at: number;
    let why: string;
    if (!this.proven) {
      at = since + requestMs;
      why = `no complete request within ${requestMs} ms of connecting`;
    } else if (this.partialSince !== undefined) {
      at = this.partialSince + requestMs;
      why = `a request not completed within ${requestMs} ms`;
    } else {
      at = since + idleMs;
      why = `idle for ${idleMs} ms`;
    }
    if (this.deadlineAt === at && this.timer) return;
    this.disarm();
    this.deadlineAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.host.reject('ipcTimeout', `closed a connection: ${why}`);
        this.fail('timeout', `${why}; closing`);
      },
      Math.max(0, at - this.host.now()),
    );
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.deadlineAt = undefined;
  }

  private refuseTooLarge(): void {
    this.host.reject('ipcBadRequest', `request longer than ${MAX_REQUEST_BYTES} bytes`);
    this.fail('too-large', `request longer than ${MAX_REQUEST_BYTES} bytes`);
  }

  /** Answer an error without an id and close: the stream cannot be resynchronised. */
  private fail(code: ApiErrorCode, message: string): void {
    if (this.closing) return;
    this.closing = true;
    this.waitingSince = undefined;
    this.disarm();
    // The slot is free at once, even if the client never reads the goodbye.
    this.host.release(this);
    this.queue.length = 0;
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.sock.destroyed) {
      this.sock.end(errorLine(undefined, code, message));
      this.sock.destroySoon();
      // A client that does not read cannot hold the socket open either.
      setTimeout(() => this.sock.destroy(), 1000).unref();
    }
  }

  private async drain(): Promise<void> {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    try {
      for (let line = this.queue.shift(); line !== undefined && !this.closing; line = this.queue.shift()) {
        const response = await this.answer(line);
        if (this.sock.destroyed || this.closing) return;
        this.sock.write(encodeResponse(response));
        if (this.sock.writableLength > this.host.limits.maxUnreadBytes) {
          this.host.reject(
            'ipcBadRequest',
            `dropped a client that left more than ${this.host.limits.maxUnreadBytes} bytes of answers unread`,
          );
          this.destroy();
          return;
        }
      }
    } finally {
      this.busy = false;
    }
    if (this.closing) return;
    // Answered everything: the client is waiting again (for its next request, or to leave).
    this.waitingSince = this.host.now();
    this.partialSince = this.pendingBytes > 0 ? this.waitingSince : undefined;
    this.arm();
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.ended && !this.busy && this.queue.length === 0 && !this.sock.destroyed) this.sock.end();
  }

  private async answer(raw: Buffer): Promise<ApiResponse> {
    const response = await this.respond(raw);
    if (!response.ok) {
      const { code, message } = response.error;
      if (BAD_REQUEST_CODES.has(code))
        this.host.reject('ipcBadRequest', `bad request (${code}): ${printable(message)}`);
      else if (code === 'permission-denied') this.host.reject('ipcDenied', `refused: ${printable(message)}`);
    }
    return response;
  }

  private async respond(raw: Buffer): Promise<ApiResponse> {
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      return { v: API_VERSION, ok: false, error: { code: 'bad-json', message: 'request is not UTF-8' } };
    }
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const req = parseRequest(text);
    if (isRejected(req)) {
      return {
        v: API_VERSION,
        ...(req.id === undefined ? {} : { id: req.id }),
        ok: false,
        error: req.rejected,
      };
    }
    const id = req.id === undefined ? {} : { id: req.id };
    try {
      const result = await withDeadline(
        Promise.resolve().then(() => this.host.dispatch(req, this.ctx)),
        this.host.limits.handlerMs,
      );
      return { v: API_VERSION, ...id, ok: true, result };
    } catch (e) {
      const error: ApiErrorBody =
        e instanceof ApiError
          ? { code: e.code, message: e.message }
          : { code: 'internal', message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
      return { v: API_VERSION, ...id, ok: false, error };
    }
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ApiError('timeout', `no answer within ${ms} ms`)), ms);
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
