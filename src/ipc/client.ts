// Part: the client side of the local API, used by the CLIs. Never hangs: a session has one
// absolute deadline that covers connecting and every call; a daemon that is busy (client limit,
// full backlog) or drops the connection is asked again with a short backoff, within a bound.

import { connect, type Socket } from 'node:net';
import { API_VERSION, type ApiErrorBody, type ApiErrorCode, type ApiResponse } from './protocol.js';
import type { Args, CommandName, Results } from './schema.js';

/**
 * Why the daemon could not be asked: `not-running` (no socket, or nobody listens on it),
 * `permission`, `timeout` (no answer in time), `busy` (its listen backlog is full), `closed`
 * (it closed or reset the connection before answering), `protocol` (an unreadable answer).
 */
export type UnavailableReason = 'not-running' | 'permission' | 'timeout' | 'busy' | 'closed' | 'protocol';

export class ApiUnavailableError extends Error {
  override readonly name = 'ApiUnavailableError';
  readonly reason: UnavailableReason;
  constructor(reason: UnavailableReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The daemon answered, with an error. */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  readonly code: ApiErrorCode;
  readonly body: ApiErrorBody;
  constructor(body: ApiErrorBody) {
    super(body.message);
    this.code = body.code;
    this.body = body;
  }
}

/** Longest response line a client accepts (a status report of a big cluster is far below). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

interface Waiter {
  resolve(r: ApiResponse): void;
  reject(e: Error): void;
}

/** One connection to a daemon socket; calls are answered in order. */
export class ApiSession {
  private readonly sock: Socket;
  private readonly deadlineAt: number;
  private readonly waiters: Waiter[] = [];
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private failure: ApiUnavailableError | undefined;
  private nextId = 1;

  private constructor(sock: Socket, deadlineAt: number) {
    this.sock = sock;
    this.deadlineAt = deadlineAt;
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (e: NodeJS.ErrnoException) => this.fail(unavailable(e)));
    sock.on('close', () => this.fail(new ApiUnavailableError('closed', 'the daemon closed the connection')));
  }

  /**
   * Connect to `path`; `timeoutMs` bounds this and every later call of the session together.
   * Aborting `signal` gives up at once (cl_status's alarm), so nothing is left holding the process.
   */
  static open(path: string, timeoutMs: number, signal?: AbortSignal): Promise<ApiSession> {
    const deadlineAt = Date.now() + timeoutMs;
    return new Promise<ApiSession>((resolve, reject) => {
      const sock = connect(path);
      const giveUp = (e: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        sock.destroy();
        reject(e);
      };
      const timer = setTimeout(
        () => giveUp(new ApiUnavailableError('timeout', `no answer from ${path} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onAbort = () => giveUp(new ApiUnavailableError('timeout', 'given up'));
      const onError = (e: NodeJS.ErrnoException) => giveUp(unavailable(e));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      sock.once('error', onError);
      sock.once('connect', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        sock.off('error', onError);
        resolve(new ApiSession(sock, deadlineAt));
      });
    });
  }

  /** Milliseconds left before the session's deadline. */
  remainingMs(): number {
    return Math.max(0, this.deadlineAt - Date.now());
  }

  /** Ask one command; an `ok: false` answer throws ApiCallError. */
  async call<C extends CommandName>(cmd: C, args: Args[C]): Promise<Results[C]> {
    const r = await this.request(cmd, args);
    if (!r.ok) throw new ApiCallError(r.error);
    if (typeof r.result !== 'object' || r.result === null)
      throw new ApiUnavailableError('protocol', `the daemon sent an unreadable answer to "${cmd}"`);
    return r.result as Results[C];
  }

  /** Send any request line and wait for its response (tests use it for raw requests). */
  request(cmd: string, args: Readonly<Record<string, unknown>>): Promise<ApiResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<ApiResponse>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new ApiUnavailableError('timeout', `the daemon did not answer "${cmd}" in time`)),
        this.remainingMs(),
      );
      this.waiters.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.sock.write(`${JSON.stringify({ v: API_VERSION, id, cmd, args })}\n`);
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const line = Buffer.concat([...this.buffered, chunk.subarray(start, nl)]).toString('utf8');
      this.buffered = [];
      this.bufferedBytes = 0;
      start = nl + 1;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return this.fail(new ApiUnavailableError('protocol', 'the daemon sent an unreadable answer'));
      }
      if (!isResponse(parsed))
        return this.fail(new ApiUnavailableError('protocol', 'the daemon sent an unreadable answer'));
      const waiter = this.waiters.shift();
      if (!waiter) return this.fail(new ApiUnavailableError('protocol', 'the daemon sent an unasked answer'));
      waiter.resolve(parsed);
    }
    const rest = chunk.subarray(start);
    this.bufferedBytes += rest.length;
    if (this.bufferedBytes > MAX_RESPONSE_BYTES)
      return this.fail(new ApiUnavailableError('protocol', 'the daemon sent an oversized answer'));
    if (rest.length > 0) this.buffered.push(rest);
  }

  private fail(e: ApiUnavailableError): void {
    if (!this.failure) this.failure = e;
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
    this.sock.destroy();
  }
}

function isResponse(v: unknown): v is ApiResponse {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  if (r['ok'] === true) return 'result' in r;
  if (r['ok'] !== false) return false;
  const e = r['error'] as Record<string, unknown> | null;
  return (
    typeof e === 'object' && e !== null && typeof e['code'] === 'string' && typeof e['message'] === 'string'
  );
}

function unavailable(e: NodeJS.ErrnoException): ApiUnavailableError {
  switch (e.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
    case 'ENOTDIR':
      return new ApiUnavailableError('not-running', 'tsbeat is not running');
    case 'EACCES':
    case 'EPERM':
      return new ApiUnavailableError('permission', 'permission denied');
    case 'EAGAIN':
      return new ApiUnavailableError('busy', 'the daemon is not accepting connections fast enough');
    case 'ECONNRESET':
    case 'EPIPE':
      return new ApiUnavailableError('closed', 'the daemon closed the connection');
    default:
      return new ApiUnavailableError('protocol', e.message);
  }
}

/** One command on a fresh connection, within `timeoutMs` in all. */
export async function apiCall<C extends CommandName>(
  path: string,
  cmd: C,
  args: Args[C],
  timeoutMs = 5000,
): Promise<Results[C]> {
  const session = await ApiSession.open(path, timeoutMs);
  try {
    return await session.call(cmd, args);
  } finally {
    session.close();
  }
}

/**
 * Whether asking again may succeed: the daemon said `busy` (client limit, or it dropped our
 * connection to make room), its backlog was full, or it closed the connection before answering.
 * Timeouts are not: a session's deadline is already the caller's whole budget.
 */
export function isTransient(e: unknown): boolean {
  if (e instanceof ApiCallError) return e.code === 'busy';
  if (e instanceof ApiUnavailableError) return e.reason === 'busy' || e.reason === 'closed';
  return false;
}

/**
 * Whether a request was certainly not acted on, so a state-changing one may be sent again: the
 * daemon refused it with `busy` before reading it, or the connection was never accepted.
 */
export function notDelivered(e: unknown): boolean {
  if (e instanceof ApiCallError) return e.code === 'busy';
  return e instanceof ApiUnavailableError && e.reason === 'busy';
}

export interface RetryOptions {
  /** Every attempt and pause together end within this many ms. */
  readonly budgetMs: number;
  /** Which failures are worth another attempt. Default isTransient. */
  readonly retryOn?: (e: unknown) => boolean;
  /** First pause between attempts; doubled after each failure up to maxPauseMs. */
  readonly firstPauseMs?: number;
  readonly maxPauseMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Run `attempt(msLeft)` until it succeeds, fails for a reason not worth retrying, or the budget
 * is spent; then the last failure is thrown. Pauses grow (50 ms, 100 ms, ... 400 ms) with
 * some jitter, so that many clients turned away at once do not come back in step.
 */
export async function retrying<T>(attempt: (msLeft: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const retryOn = o.retryOn ?? isTransient;
  const endAt = Date.now() + o.budgetMs;
  let pause = o.firstPauseMs ?? 50;
  for (;;) {
    try {
      return await attempt(Math.max(1, endAt - Date.now()));
    } catch (e) {
      const wait = pause / 2 + Math.random() * pause;
      if (!retryOn(e) || o.signal?.aborted || Date.now() + wait >= endAt) throw e;
      await sleep(wait, o.signal);
      pause = Math.min(pause * 2, o.maxPauseMs ?? 400);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Open a session on the first of `paths` this process may use. The CLIs list control.sock
 * first: root and the API group are served from its own pool, which no unprivileged client
 * can fill; anyone else gets EACCES there (or it does not exist) and uses api.sock. When none
 * can be opened, the error of the last path is thrown.
 */
export async function openFirst(
  paths: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ApiSession> {
  let last: unknown = new ApiUnavailableError('not-running', 'tsbeat is not running');
  for (const path of paths) {
    try {
      return await ApiSession.open(path, timeoutMs, signal);
    } catch (e) {
      last = e;
      if (e instanceof ApiUnavailableError && (e.reason === 'permission' || e.reason === 'not-running'))
        continue;
      throw e;
    }
  }
  throw last;
}
