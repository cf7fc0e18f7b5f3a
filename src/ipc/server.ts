// Part: the local API server on a Unix socket: bounded in every dimension (request size,
// queued requests, clients, idle time, handler time, unread output) so that nothing a client
// sends or fails to read can disturb the daemon.

import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
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
export type Dispatch = (req: ApiRequest) => unknown;

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
  readonly maxClients: number;
  /** Requests a client may queue on one connection before it is refused. */
  readonly maxQueued: number;
  readonly idleMs: number;
  readonly handlerMs: number;
  /** Output a client leaves unread before it is dropped. */
  readonly maxUnreadBytes: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxClients: 64,
  maxQueued: 16,
  idleMs: 20_000,
  handlerMs: 15_000,
  maxUnreadBytes: 1024 * 1024,
};

export interface ListenOptions {
  /** File mode of the socket (connecting needs write permission). */
  readonly mode: number;
  /** Group owner of the socket, when it should not stay root's. */
  readonly gid?: number;
}

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ApiServer {
  private server: Server | undefined;
  private readonly dispatch: Dispatch;
  private readonly limits: ServerLimits;
  private readonly clients = new Set<Socket>();

  constructor(dispatch: Dispatch, limits: ServerLimits = DEFAULT_LIMITS) {
    this.dispatch = dispatch;
    this.limits = limits;
  }

  /** Listen on `path` (replacing a stale socket file) with the given permissions. */
  async listen(path: string, opts: ListenOptions): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    // allowHalfOpen: a client may send its requests and shut its side; we still answer them.
    const server = createServer({ allowHalfOpen: true }, (sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    // Until chmod, the socket has the umask's mode (0755 at most): nobody else can connect yet.
    if (opts.gid !== undefined) chownSync(path, process.getuid?.() ?? 0, opts.gid);
    chmodSync(path, opts.mode);
  }

  /** Number of connected clients (for tests). */
  get clientCount(): number {
    return this.clients.size;
  }

  private accept(sock: Socket): void {
    sock.on('error', () => sock.destroy());
    if (this.clients.size >= this.limits.maxClients) {
      sock.end(errorLine(undefined, 'busy', `too many clients (${this.limits.maxClients}); try again`));
      sock.destroySoon();
      return;
    }
    this.clients.add(sock);
    sock.on('close', () => this.clients.delete(sock));
    sock.setTimeout(this.limits.idleMs, () => sock.destroy());
    new Connection(sock, this.dispatch, this.limits);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
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
  private readonly dispatch: Dispatch;
  private readonly limits: ServerLimits;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly queue: Buffer[] = [];
  private busy = false;
  private ended = false;
  private closing = false;

  constructor(sock: Socket, dispatch: Dispatch, limits: ServerLimits) {
    this.sock = sock;
    this.dispatch = dispatch;
    this.limits = limits;
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('end', () => {
      this.ended = true;
      this.maybeFinish();
    });
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
      if (this.queue.length >= this.limits.maxQueued) {
        return this.fail('busy', `more than ${this.limits.maxQueued} requests queued on one connection`);
      }
      this.queue.push(line);
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      if (this.pendingBytes + rest.length > MAX_REQUEST_BYTES) return this.refuseTooLarge();
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
    void this.drain();
  }

  private refuseTooLarge(): void {
    this.fail('too-large', `request longer than ${MAX_REQUEST_BYTES} bytes`);
  }

  /** Answer an error without an id and close: the stream cannot be resynchronised. */
  private fail(code: ApiErrorCode, message: string): void {
    this.closing = true;
    this.queue.length = 0;
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.sock.destroyed) {
      this.sock.end(errorLine(undefined, code, message));
      this.sock.destroySoon();
    }
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let line = this.queue.shift(); line !== undefined && !this.closing; line = this.queue.shift()) {
        const response = await this.answer(line);
        if (this.sock.destroyed || this.closing) return;
        this.sock.write(encodeResponse(response));
        if (this.sock.writableLength > this.limits.maxUnreadBytes) {
          this.sock.destroy();
          return;
        }
      }
    } finally {
      this.busy = false;
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.ended && !this.busy && this.queue.length === 0 && !this.sock.destroyed) this.sock.end();
  }

  private async answer(raw: Buffer): Promise<ApiResponse> {
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
        Promise.resolve().then(() => this.dispatch(req)),
        this.limits.handlerMs,
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
