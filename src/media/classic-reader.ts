// Part: turning the byte stream of a serial line into whole classic frames, with every buffer
// bounded (heartbeat lib/plugins/HBcomm/serial.c: serial_read, ttygets).

import { assert } from '../lib/assert.js';
import { MAX_FRAME_BYTES, type ReceiveDropReason } from './medium.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const GT = 0x3e;
const LT = 0x3c;

const FRAME_START = [GT, GT, GT, LF] as const;
const FRAME_END = [LT, LT, LT, LF] as const;

/** True when `frame` starts with `>>>\n` and ends with `<<<\n`: what a classic medium may send. */
export function isClassicFrame(frame: Uint8Array): boolean {
  if (frame.length < FRAME_START.length + FRAME_END.length) return false;
  const end = frame.length - FRAME_END.length;
  return FRAME_START.every((b, i) => frame[i] === b) && FRAME_END.every((b, i) => frame[end + i] === b);
}

/** Limits of the reader. */
export interface ClassicReaderLimits {
  /**
   * Longest line kept, without its newline. Heartbeat 3.0.6's ttygets reads lines of up to
   * MAXMSG bytes, so the default is the frame limit; the stream parser used for the FIFO
   * (msgfromstream) has a 512-byte line buffer, and a reader that wants that stricter bound can
   * set it here (real heartbeat peers do send longer lines, e.g. a long `info` field).
   */
  readonly maxLineBytes: number;
  /** Largest frame, `>>>` and `<<<` lines included. */
  readonly maxFrameBytes: number;
}

export const DEFAULT_CLASSIC_READER_LIMITS: ClassicReaderLimits = {
  maxLineBytes: MAX_FRAME_BYTES,
  maxFrameBytes: MAX_FRAME_BYTES,
};

/** Reports bytes the reader threw away for a reason worth logging (not garbage between frames). */
export type ClassicReaderDrop = (reason: ReceiveDropReason, bytes: number) => void;

/**
 * Collects `>>>` … `<<<` frames from arbitrary chunks of a byte stream.
 *
 * As heartbeat's serial reader: lines are skipped until one starting with `>>>`, then lines are
 * collected until one starting with `<<<`; the frame is everything from the start line through
 * the end line, each line followed by `\n`. The termios input flags heartbeat sets are applied
 * in software, because serialport opens the line raw: ISTRIP (bytes are 7-bit), IGNCR (CR is
 * dropped). NUL bytes (a break arrives as one) are dropped too; heartbeat's C strings would cut
 * the line there.
 *
 * Unlike heartbeat, a `>>>` line inside a frame starts a new frame (the partial one is reported
 * and dropped): a sender that died mid-frame then costs one frame, not two. An over-long line
 * drops the frame it belongs to; an over-long frame is dropped and the reader waits for the
 * next `>>>`. Memory is bounded by maxLineBytes + maxFrameBytes (two buffers, grown by doubling).
 */
export class ClassicFrameReader {
  readonly #limits: ClassicReaderLimits;
  readonly #onDrop: ClassicReaderDrop | undefined;
  #line: Uint8Array;
  #lineLength = 0;
  /** Bytes of the current line beyond maxLineBytes, which are counted but not kept. */
  #lineOverflow = 0;
  #inFrame = false;
  /** The frame being collected; grows by doubling up to maxFrameBytes. */
  #frame: Uint8Array;
  #frameLength = 0;

  constructor(limits: ClassicReaderLimits = DEFAULT_CLASSIC_READER_LIMITS, onDrop?: ClassicReaderDrop) {
    assert(limits.maxLineBytes >= 3 && limits.maxFrameBytes >= 8, 'classic reader limits too small');
    this.#limits = limits;
    this.#onDrop = onDrop;
    this.#line = new Uint8Array(Math.min(1024, limits.maxLineBytes));
    this.#frame = new Uint8Array(Math.min(1024, limits.maxFrameBytes));
  }

  /** Feed bytes as they arrive; returns the frames they completed, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]! & 0x7f;
      if (byte === CR || byte === NUL) continue;
      if (byte === LF) {
        const frame = this.#endLine();
        if (frame) frames.push(frame);
        continue;
      }
      this.#append(byte);
    }
    return frames;
  }

  #append(byte: number): void {
    if (this.#lineOverflow > 0 || this.#lineLength >= this.#limits.maxLineBytes) {
      this.#lineOverflow += 1;
      return;
    }
    if (this.#lineLength === this.#line.length) {
      const bigger = new Uint8Array(Math.min(this.#line.length * 2, this.#limits.maxLineBytes));
      bigger.set(this.#line);
      this.#line = bigger;
    }
    this.#line[this.#lineLength++] = byte;
  }

  #endLine(): Uint8Array | undefined {
    const length = this.#lineLength;
    const overflow = this.#lineOverflow;
    this.#lineLength = 0;
    this.#lineOverflow = 0;
    if (overflow > 0) {
      // The line was cut: report it, and drop the frame it belonged to, which could not verify.
      this.#onDrop?.('line-too-long', length + overflow + 1);
      this.#inFrame = false;
      this.#frameLength = 0;
      return undefined;
    }
    const line = this.#line.subarray(0, length);
    const startsFrame = length >= 3 && line[0] === GT && line[1] === GT && line[2] === GT;
    if (startsFrame) {
      if (this.#inFrame) this.#onDrop?.('frame-incomplete', this.#frameLength);
      this.#inFrame = true;
      this.#frameLength = 0;
      this.#addLine(line);
      return undefined;
    }
    // Garbage between frames is normal after a cut or a restart; heartbeat drops it silently.
    if (!this.#inFrame) return undefined;
    if (!this.#addLine(line)) return undefined;
    const endsFrame = length >= 3 && line[0] === LT && line[1] === LT && line[2] === LT;
    if (!endsFrame) return undefined;
    const frame = this.#frame.slice(0, this.#frameLength);
    this.#inFrame = false;
    this.#frameLength = 0;
    return frame;
  }

  /** Append a line and its newline to the frame; false (frame dropped) when it would not fit. */
  #addLine(line: Uint8Array): boolean {
    const needed = this.#frameLength + line.length + 1;
    if (needed > this.#limits.maxFrameBytes) {
      this.#onDrop?.('frame-too-long', needed);
      this.#inFrame = false;
      this.#frameLength = 0;
      return false;
    }
    if (needed > this.#frame.length) {
      let size = this.#frame.length * 2;
      while (size < needed) size *= 2;
      const bigger = new Uint8Array(Math.min(size, this.#limits.maxFrameBytes));
      bigger.set(this.#frame.subarray(0, this.#frameLength));
      this.#frame = bigger;
    }
    this.#frame.set(line, this.#frameLength);
    this.#frame[this.#frameLength + line.length] = LF;
    this.#frameLength = needed;
    return true;
  }
}
