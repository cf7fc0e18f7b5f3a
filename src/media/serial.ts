// Part: the `serial <device>` medium: classic text frames on a raw 8N1 line, written in
// 512-byte chunks with heartbeat's pause between them (heartbeat lib/plugins/HBcomm/serial.c).

import { stat } from 'node:fs/promises';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { errorCode, errorMessage, MediumBase } from './base.js';
import { ClassicFrameReader, type ClassicReaderLimits, isClassicFrame } from './classic-reader.js';
import { FrameFormatError, MediumConfigError, MediumOpenError } from './errors.js';
import {
  type FrameFormat,
  MAX_FRAME_BYTES,
  type Medium,
  type MediumComponents,
  type MediumKind,
} from './medium.js';
import { DEFAULT_LOCK_DIR, lockTty, type TtyLock } from './tty-lock.js';

/** The rates heartbeat's `baud` directive accepts. */
export const SERIAL_BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 460800] as const;
export type SerialBaud = (typeof SERIAL_BAUD_RATES)[number];
/** heartbeat's default `baud`. */
export const DEFAULT_SERIAL_BAUD: SerialBaud = 19200;

/** FRAGSIZE in serial.c: frames are written in pieces of this many bytes. */
export const SERIAL_CHUNK_BYTES = 512;

/**
 * The pause between two chunks of one frame: the time the line needs to carry a chunk,
 * FRAGSIZE / (baud / 8) seconds (serial.c compute_fragment_write_delay): 213.3 ms at 19200.
 */
export function serialChunkPauseMs(baud: number): number {
  return (SERIAL_CHUNK_BYTES / (baud / 8)) * 1000;
}

/** The part of a serialport binding this medium uses (serialport's BindingPortInterface). */
export interface SerialPortHandle {
  readonly isOpen: boolean;
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number }>;
  /** Resolves when the bytes are handed to the OS; one write at a time. */
  write(buffer: Buffer): Promise<void>;
  /** tcflush(TCIOFLUSH). */
  flush(): Promise<void>;
  set(options: { brk?: boolean }): Promise<void>;
  /** Also cancels a pending read or write (they reject with `canceled: true`). */
  close(): Promise<void>;
}

/** What the medium asks of the binding when opening. */
export interface SerialOpenOptions {
  readonly path: string;
  readonly baudRate: number;
  readonly dataBits: 8;
  readonly stopBits: 1;
  readonly parity: 'none';
  readonly rtscts: boolean;
  /** flock(LOCK_EX): a second opener fails, the UUCP lock aside. */
  readonly lock: boolean;
}

/** serialport's binding, or a stand-in for tests. */
export interface SerialBinding {
  open(options: SerialOpenOptions): Promise<SerialPortHandle>;
}

/** The arguments of one `serial` device plus the line settings heartbeat fixes. */
export interface SerialMediumInit {
  /** Absolute path of the character device, e.g. /dev/ttyS0. */
  readonly device: string;
  /** ha.cf `baud`; default 19200. */
  readonly baud?: SerialBaud;
  /**
   * Hardware flow control (CRTSCTS), on as in heartbeat. A pty ignores it (verified with a socat
   * pty pair), but a real cable without RTS/CTS wired blocks every write: turn it off then.
   */
  readonly rtscts?: boolean;
  /** Send a break after opening, as heartbeat does to make the peer flush; ignored where unsupported. */
  readonly sendBreak?: boolean;
  /** Directory for UUCP lock files (HA_VARLOCKDIR), or false for none; default /var/lock. */
  readonly lockDir?: string | false;
  /**
   * A chunk that is not accepted within this time is a write timeout (serial.c arms a 500 ms
   * alarm per chunk): the line's queues are flushed and the frames waiting are dropped.
   */
  readonly writeTimeoutMs?: number;
  /** Reader bounds; see {@link ClassicReaderLimits}. */
  readonly maxLineBytes?: number;
  readonly maxFrameBytes?: number;
}

/** What the serial medium takes besides the generic components. */
export interface SerialComponents extends MediumComponents {
  /** Defaults to serialport's own binding for this platform. */
  readonly binding?: SerialBinding;
  /** The pause between chunks; a port so tests can record it. Rejects when `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Frames waiting for the line, at most: heartbeat's write child has a bounded IPC queue too. */
const SEND_QUEUE_FRAMES = 64;
const SEND_QUEUE_BYTES = 1024 * 1024;
const READ_BUFFER_BYTES = 4096;
/** How long a break lasts (tcsendbreak(fd, 0) sends 0.25 to 0.5 s of zeros). */
const BREAK_MS = 250;

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  sleepTimer(ms, undefined, { signal });

/**
 * `serial <device>`: a raw 8N1 line with CRTSCTS and CLOCAL, carrying classic frames.
 *
 * Sending: each frame is queued (bounded) and written in 512-byte chunks with a pause of
 * 512/(baud/8) s between the chunks of a frame, as heartbeat does, so a peer reading byte by
 * byte at the line rate is never flooded. `send()` resolves once the frame is queued.
 *
 * Receiving: a {@link ClassicFrameReader} turns the byte stream into whole `>>>`…`<<<` frames
 * and drops garbage, over-long lines and over-long frames, with bounded memory.
 *
 * Differences from heartbeat: serialport opens the line fully raw, so ISTRIP and IGNCR are done
 * in software by the reader and BRKINT (a break flushing the queues) is not replicated; the line
 * is locked both with a UUCP lock file (as heartbeat) and flock; there is no ring forwarding
 * (3.0.6 never forwards either).
 */
export function serialMedium(init: SerialMediumInit, components: SerialComponents = {}): Medium {
  return new SerialMedium(init, components);
}

class SerialMedium extends MediumBase {
  readonly name: string;
  readonly kind: MediumKind = 'serial';
  readonly link: string;
  readonly frameFormat: FrameFormat = 'classic';
  readonly #device: string;
  readonly #baud: SerialBaud;
  readonly #init: SerialMediumInit;
  readonly #binding: SerialBinding | undefined;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #maxFrameBytes: number;
  readonly #reader: ClassicFrameReader;
  /** Aborted by close(): ends pauses and back-offs. */
  readonly #stop = new AbortController();
  #port: SerialPortHandle | undefined;
  #lock: TtyLock | undefined;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writer: Promise<void> | undefined;
  #reading: Promise<void> | undefined;
  /** A write that timed out but has not settled; the binding allows one write at a time. */
  #stuckWrite: Promise<void> | undefined;

  constructor(init: SerialMediumInit, components: SerialComponents) {
    super(components);
    this.name = `serial ${init.device}`;
    this.link = init.device;
    this.#device = init.device;
    this.#baud = init.baud ?? DEFAULT_SERIAL_BAUD;
    this.#init = init;
    this.#binding = components.binding;
    this.#sleep = components.sleep ?? defaultSleep;
    if (!init.device.startsWith('/')) {
      throw new MediumConfigError(this.name, 'serial port must be a full path name');
    }
    if (!(SERIAL_BAUD_RATES as readonly number[]).includes(this.#baud)) {
      throw new MediumConfigError(
        this.name,
        `invalid baud rate ${this.#baud} (one of ${SERIAL_BAUD_RATES.join(', ')})`,
      );
    }
    const limits: ClassicReaderLimits = {
      maxLineBytes: init.maxLineBytes ?? MAX_FRAME_BYTES,
      maxFrameBytes: init.maxFrameBytes ?? MAX_FRAME_BYTES,
    };
    this.#maxFrameBytes = limits.maxFrameBytes;
    this.#reader = new ClassicFrameReader(limits, (reason, bytes) =>
      this.emit({ kind: 'receive-dropped', medium: this.name, reason, bytes }),
    );
  }

  protected async openIo(signal: AbortSignal | undefined): Promise<void> {
    await this.#checkDevice();
    signal?.throwIfAborted();
    const lockDir = this.#init.lockDir ?? DEFAULT_LOCK_DIR;
    if (lockDir !== false) {
      const result = await lockTty(this.#device, lockDir).catch((err: unknown) => {
        throw new MediumOpenError(this.name, `cannot lock line in ${lockDir}: ${errorMessage(err)}`, {
          cause: err,
        });
      });
      if (result.kind === 'busy') {
        throw new MediumOpenError(this.name, `line is locked by process ${result.pid} (${lockDir})`);
      }
      if (result.kind === 'no-lock-dir') {
        this.emit({
          kind: 'notice',
          medium: this.name,
          message: `no lock directory ${lockDir}; line not UUCP-locked`,
        });
      } else {
        this.#lock = result.lock;
      }
    }
    signal?.throwIfAborted();

    const binding = this.#binding ?? (await this.#defaultBinding());
    try {
      this.#port = await binding.open({
        path: this.#device,
        baudRate: this.#baud,
        dataBits: 8,
        stopBits: 1,
        parity: 'none',
        rtscts: this.#init.rtscts ?? true,
        lock: true,
      });
    } catch (err) {
      throw new MediumOpenError(this.name, `cannot open: ${describeOpenError(err)}`, { cause: err });
    }
    const port = this.#port;
    // Throw away whatever sat in the line's queues under the old settings (serial.c FLUSH).
    await port.flush().catch(() => undefined);
    if (this.#init.sendBreak ?? true) await this.#sendBreak(port);
    this.#reading = this.#readLoop(port);
  }

  /**
   * serialport's native binding, loaded on first use: a node without serial media never loads
   * it, and a platform without a prebuilt binding fails here, naming the medium.
   */
  async #defaultBinding(): Promise<SerialBinding> {
    try {
      const { SerialPort } = await import('serialport');
      return SerialPort.binding as SerialBinding;
    } catch (err) {
      throw new MediumOpenError(this.name, `serialport binding unavailable: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  async #checkDevice(): Promise<void> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(this.#device);
    } catch (err) {
      const reason = errorCode(err) === 'ENOENT' ? 'no such device' : errorMessage(err);
      throw new MediumOpenError(this.name, reason, { cause: err });
    }
    if (!info.isCharacterDevice()) throw new MediumOpenError(this.name, 'not a character device');
  }

  /** heartbeat's tcsendbreak "causes the other guy to flush his I/O"; a pty has no break. */
  async #sendBreak(port: SerialPortHandle): Promise<void> {
    try {
      await port.set({ brk: true });
      await this.#sleep(BREAK_MS, this.#stop.signal).catch(() => undefined);
      await port.set({ brk: false });
    } catch (err) {
      this.emit({ kind: 'notice', medium: this.name, message: `no break sent: ${errorMessage(err)}` });
    }
  }

  async #readLoop(port: SerialPortHandle): Promise<void> {
    const buffer = Buffer.alloc(READ_BUFFER_BYTES);
    let failures = 0;
    while (!this.isClosing) {
      try {
        const { bytesRead } = await port.read(buffer, 0, buffer.length);
        failures = 0;
        for (const frame of this.#reader.push(buffer.subarray(0, bytesRead)))
          this.deliver(frame, this.#device);
      } catch (err) {
        if (this.isClosing) return;
        if (!port.isOpen) {
          this.emit({
            kind: 'receive-error',
            medium: this.name,
            code: errorCode(err),
            message: 'line closed',
          });
          return;
        }
        failures += 1;
        // heartbeat logs every EOF and sleeps 10 s after ten in a row (serial.c ttygets).
        if (failures <= 10 || failures % 100 === 0) {
          this.emit({
            kind: 'receive-error',
            medium: this.name,
            code: errorCode(err),
            message: errorMessage(err),
          });
        }
        await this.#sleep(Math.min(1000 * failures, 10_000), this.#stop.signal).catch(() => undefined);
      }
    }
  }

  protected async sendIo(frame: Uint8Array): Promise<void> {
    if (!isClassicFrame(frame)) {
      throw new FrameFormatError(this.name, 'a serial line carries classic frames (">>>\\n" … "<<<\\n")');
    }
    if (frame.length > this.#maxFrameBytes) {
      this.emit({
        kind: 'send-dropped',
        medium: this.name,
        reason: 'too-large',
        frames: 1,
        bytes: frame.length,
      });
      return;
    }
    if (this.#queue.length >= SEND_QUEUE_FRAMES || this.#queuedBytes + frame.length > SEND_QUEUE_BYTES) {
      this.emit({
        kind: 'send-dropped',
        medium: this.name,
        reason: 'queue-full',
        frames: 1,
        bytes: frame.length,
      });
      return;
    }
    // Copy: the caller may reuse its buffer before the line gets to this frame.
    this.#queue.push(frame.slice());
    this.#queuedBytes += frame.length;
    this.#writer ??= this.#writeLoop().finally(() => {
      this.#writer = undefined;
    });
  }

  async #writeLoop(): Promise<void> {
    for (;;) {
      const port = this.#port;
      const frame = this.#queue.shift();
      if (!frame || !port || this.isClosing) return;
      this.#queuedBytes -= frame.length;
      const timedOut = await this.#writeFrame(port, frame);
      if (timedOut && this.#queue.length > 0) {
        // As heartbeat's write child after a timeout: what waits is stale by now.
        this.emit({
          kind: 'send-dropped',
          medium: this.name,
          reason: 'write-timeout',
          frames: this.#queue.length,
          bytes: this.#queuedBytes,
        });
        this.#queue = [];
        this.#queuedBytes = 0;
      }
    }
  }

  /** Write one frame chunk by chunk; true when a chunk timed out. */
  async #writeFrame(port: SerialPortHandle, frame: Uint8Array): Promise<boolean> {
    const pauseMs = serialChunkPauseMs(this.#baud);
    for (let offset = 0; offset < frame.length; offset += SERIAL_CHUNK_BYTES) {
      const chunk = frame.subarray(offset, offset + SERIAL_CHUNK_BYTES);
      const outcome = await this.#writeChunk(port, chunk);
      if (this.isClosing) return false;
      if (outcome === 'timeout') {
        this.sendErrors.failed('ETIMEDOUT', 'TTY write timeout (no connection or bad cable?)', frame.length);
        await port.flush().catch(() => undefined);
        return true;
      }
      if (outcome !== 'ok') {
        this.sendErrors.failed(
          errorCode(outcome),
          `TTY write failure: ${errorMessage(outcome)}`,
          frame.length,
        );
        return false;
      }
      if (offset + SERIAL_CHUNK_BYTES < frame.length) {
        await this.#sleep(pauseMs, this.#stop.signal).catch(() => undefined);
      }
    }
    this.sendErrors.succeeded();
    return false;
  }

  async #writeChunk(port: SerialPortHandle, chunk: Uint8Array): Promise<'ok' | 'timeout' | Error> {
    if (this.#stuckWrite) {
      // The line is still chewing on a timed-out chunk: the next write waits for it (or close).
      await this.#stuckWrite;
      if (this.isClosing) return 'ok';
    }
    const write = port.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#init.writeTimeoutMs ?? 500);
    });
    const done = write.then(
      () => 'ok' as const,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    const outcome = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      const stuck = done.then(() => {
        if (this.#stuckWrite === stuck) this.#stuckWrite = undefined;
      });
      this.#stuckWrite = stuck;
    }
    return outcome;
  }

  protected async closeIo(): Promise<void> {
    this.#stop.abort();
    if (this.#queue.length > 0) {
      this.emit({
        kind: 'send-dropped',
        medium: this.name,
        reason: 'closed',
        frames: this.#queue.length,
        bytes: this.#queuedBytes,
      });
      this.#queue = [];
      this.#queuedBytes = 0;
    }
    const port = this.#port;
    this.#port = undefined;
    // Closing the port cancels a pending read and write, which ends both loops.
    if (port) await port.close().catch(() => undefined);
    await Promise.all([this.#reading, this.#writer, this.#stuckWrite]);
    await this.#lock?.release();
    this.#lock = undefined;
  }
}

/** serialport's messages, with the likely cause up front. */
function describeOpenError(err: unknown): string {
  const message = errorMessage(err);
  if (/Cannot lock port/i.test(message)) return 'line is in use by another process';
  if (/baud rate/i.test(message) && /Inappropriate ioctl/i.test(message)) return 'not a serial line';
  return message;
}
