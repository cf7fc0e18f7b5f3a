// Part: what every medium shares: the open/close lifecycle, the receive queue, event
// reporting and heartbeat's suppression of repeated write errors.

import { type Clock, systemClock } from '../lib/clock.js';
import { MediumClosedError, MediumNotOpenError, MediumOpenError } from './errors.js';
import { FrameQueue } from './frame-queue.js';
import {
  DEFAULT_RECEIVE_QUEUE_LIMITS,
  type FrameFormat,
  type Medium,
  type MediumComponents,
  type MediumEvent,
  type MediumEventSink,
  type MediumKind,
  type ReceivedFrame,
} from './medium.js';

type Lifecycle = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/** Consecutive failures reported before going quiet (heartbeat.c write_child: failcount == 10). */
export const SEND_ERRORS_BEFORE_SUPPRESSION = 10;
/** Failures after which one report gets through again (heartbeat.c: failcount >= 1000). */
export const SEND_ERRORS_REPORT_EVERY = 1000;

/**
 * Heartbeat's write child logs a failed write, after 10 failures in a row logs "Temporarily
 * Suppressing write error messages" and stays quiet until a write succeeds or 1000 failures
 * pass. A cable pulled for an hour then costs a handful of log lines, not thousands.
 */
export class SendErrorTracker {
  readonly #medium: string;
  readonly #emit: MediumEventSink;
  #consecutive = 0;
  #suppressed = false;

  constructor(medium: string, emit: MediumEventSink) {
    this.#medium = medium;
    this.#emit = emit;
  }

  failed(code: string, message: string, bytes: number): void {
    this.#consecutive += 1;
    if (!this.#suppressed) {
      this.#emit({ kind: 'send-failed', medium: this.#medium, code, message, bytes });
      if (this.#consecutive >= SEND_ERRORS_BEFORE_SUPPRESSION) {
        this.#suppressed = true;
        this.#emit({ kind: 'send-errors-suppressed', medium: this.#medium, consecutive: this.#consecutive });
      }
    } else if (this.#consecutive % SEND_ERRORS_REPORT_EVERY === 0) {
      this.#emit({ kind: 'send-failed', medium: this.#medium, code, message, bytes });
    }
  }

  succeeded(): void {
    if (this.#consecutive > 0 && this.#suppressed) {
      this.#emit({ kind: 'send-recovered', medium: this.#medium, failed: this.#consecutive });
    }
    this.#consecutive = 0;
    this.#suppressed = false;
  }
}

/** Error code of a Node system error, or a stand-in. */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return 'EUNKNOWN';
}

/** Message of anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && err === signal.reason;
}

/**
 * The lifecycle shared by all media. Subclasses implement `openIo`, `sendIo` and `closeIo`;
 * this class guarantees those run in order: `openIo` at most once, `closeIo` exactly once after
 * any `openIo` attempt, `sendIo` only while open.
 */
export abstract class MediumBase implements Medium {
  abstract readonly name: string;
  abstract readonly kind: MediumKind;
  abstract readonly link: string;
  abstract readonly frameFormat: FrameFormat;

  protected readonly clock: Clock;
  protected readonly inbox: FrameQueue;
  readonly #sink: MediumEventSink | undefined;
  #state: Lifecycle = 'new';
  /** open() succeeded at some point. */
  #opened = false;
  #opening: Promise<void> | undefined;
  /** The subclass's openIo, settled either way: what close() must wait for. */
  #openIo: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #sendErrors: SendErrorTracker | undefined;

  constructor(components: MediumComponents) {
    this.clock = components.clock ?? systemClock;
    this.inbox = new FrameQueue(components.receiveQueueLimits ?? DEFAULT_RECEIVE_QUEUE_LIMITS);
    this.#sink = components.onEvent;
  }

  /** Acquire the I/O. Throw `MediumOpenError` with a clear reason; honour `signal` if it can. */
  protected abstract openIo(signal: AbortSignal | undefined): Promise<void>;
  /** Send one frame; report wire trouble through `sendErrors`, do not throw it. */
  protected abstract sendIo(frame: Uint8Array): Promise<void>;
  /** Release everything `openIo` acquired, also after a partial `openIo`. Must not throw. */
  protected abstract closeIo(): Promise<void>;

  /** True between a successful open and the start of close. */
  protected get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** True once close started (or a failed open closed the medium). */
  protected get isClosing(): boolean {
    return this.#state === 'closing' || this.#state === 'closed';
  }

  protected get sendErrors(): SendErrorTracker {
    this.#sendErrors ??= new SendErrorTracker(this.name, (e) => this.emit(e));
    return this.#sendErrors;
  }

  protected emit(event: MediumEvent): void {
    if (!this.#sink) return;
    try {
      this.#sink(event);
    } catch {
      // A faulty sink must not break an I/O callback; there is nowhere left to report it.
    }
  }

  /** Queue a received frame for the consumer; drops (and reports) it when the queue is full. */
  protected deliver(bytes: Uint8Array, from: string): void {
    if (this.inbox.ended) return;
    const frame: ReceivedFrame = { bytes, from, receivedAtMs: this.clock.monotonicMs() };
    if (!this.inbox.push(frame)) {
      this.emit({ kind: 'receive-dropped', medium: this.name, reason: 'queue-full', bytes: bytes.length });
    }
  }

  open(signal?: AbortSignal): Promise<void> {
    // After a failed open, repeat its error; after a close, say closed.
    if (this.#opening && !(this.#opened && this.isClosing)) return this.#opening;
    if (this.isClosing) return Promise.reject(new MediumClosedError(this.name));
    this.#state = 'opening';
    this.#opening = this.#runOpen(signal);
    return this.#opening;
  }

  async #runOpen(signal: AbortSignal | undefined): Promise<void> {
    try {
      signal?.throwIfAborted();
      const io = this.openIo(signal);
      this.#openIo = io.catch(() => undefined);
      await (signal ? raceAbort(io, signal) : io);
    } catch (err) {
      const closing = this.close();
      if (isAbort(err, signal)) {
        // Report the abort now; the teardown finishes once the native open settles (close()
        // never rejects, and a later close() call returns this same promise).
        void closing;
        throw err;
      }
      await closing;
      if (err instanceof MediumOpenError) throw err;
      throw new MediumOpenError(this.name, errorMessage(err), { cause: err });
    }
    // close() may have been called while opening; it then owns the teardown.
    if (this.#state !== 'opening') throw new MediumClosedError(this.name);
    this.#state = 'open';
    this.#opened = true;
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.isClosing) return Promise.reject(new MediumClosedError(this.name));
    if (this.#state !== 'open') return Promise.reject(new MediumNotOpenError(this.name));
    return this.sendIo(frame);
  }

  frames(): AsyncIterable<ReceivedFrame> {
    return { [Symbol.asyncIterator]: () => this.inbox.iterate() };
  }

  close(): Promise<void> {
    this.#closing ??= this.#runClose();
    return this.#closing;
  }

  async #runClose(): Promise<void> {
    const opened = this.#state !== 'new';
    this.#state = 'closing';
    this.inbox.end();
    if (opened) {
      // Wait for an open in progress, whatever its outcome, so closeIo sees everything it acquired.
      await this.#openIo;
      try {
        await this.closeIo();
      } catch (err) {
        this.emit({ kind: 'notice', medium: this.name, message: `close: ${errorMessage(err)}` });
      }
    }
    this.#state = 'closed';
  }
}

/**
 * Settle with `work`, or reject with the signal's reason as soon as it aborts. The work is not
 * cancelled (a native open cannot be); the caller's close() waits for it and releases it.
 */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
