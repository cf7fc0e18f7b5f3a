// Part: the one contract every heartbeat medium (bcast, mcast, ucast, serial, memory) fulfils,
// the frame and event shapes it produces, and the limits shared by all media.

import type { Clock } from '../lib/clock.js';

/**
 * What a medium carries. UDP media carry netstring frames (`###\n…%%%\n` plus the auth
 * netstring); a serial line carries classic text frames (`>>>\n…<<<\n`), because heartbeat's
 * serial write child converts every message to the classic format (heartbeat-wire.md §1.4).
 * The media never encode or decode: the daemon hands each medium frames in its format.
 */
export type FrameFormat = 'netstring' | 'classic';

/** The ha.cf directive a medium implements; `memory` is the in-process medium for tests. */
export type MediumKind = 'bcast' | 'mcast' | 'ucast' | 'serial' | 'memory';

/**
 * MAXMSG-1 (cluster-glue include/ha_msg.h): the largest frame heartbeat reads in one go.
 * The same limit lives in src/codec/limits.ts; the media keep their own copy so that the
 * drivers do not depend on the codec.
 */
export const MAX_FRAME_BYTES = 262_143;

/** One frame as it came off the wire. */
export interface ReceivedFrame {
  /** The frame exactly as received (for serial: from the `>>>` line through the `<<<` line). */
  readonly bytes: Uint8Array;
  /**
   * Where it came from, for logs only (identity comes from the authenticated `src` field):
   * `address:port` on UDP, the device path on serial, the sending node on memory.
   */
  readonly from: string;
  /** Monotonic milliseconds (the medium's {@link Clock}) when the frame was read. */
  readonly receivedAtMs: number;
}

/**
 * A heartbeat medium: one ha.cf media line bound to one device.
 *
 * Lifecycle: `open()` once (repeated calls return the same promise), `close()` once (likewise);
 * a closed medium cannot be reopened: build a new one. A failed `open()` leaves the medium
 * closed.
 *
 * Errors: setting up the I/O fails with a {@link MediumOpenError} naming the medium and the
 * cause. Everything that goes wrong afterwards on the wire (a send refused with ENETUNREACH,
 * a read error, a garbled serial frame) is reported as a {@link MediumEvent}, never thrown:
 * heartbeat logs those and keeps going, and so do we.
 */
export interface Medium {
  /** The ha.cf line this medium implements, e.g. `bcast eth0`, `mcast eth0 239.0.0.1 694 1 0`. */
  readonly name: string;
  /** Which directive. */
  readonly kind: MediumKind;
  /**
   * Heartbeat's link name for this medium (`cl_status hblinkstatus`, "Link bravo:eth0 up"):
   * the device for UDP media, the device path for serial.
   */
  readonly link: string;
  /** The frame format this medium carries; `send()` expects it and `frames()` yields it. */
  readonly frameFormat: FrameFormat;

  /**
   * Acquires the sockets or the line. Rejects with `MediumOpenError` (bad device, port in use,
   * no IPv4 address…) or with the signal's reason when aborted; either way the medium is then
   * closed. Idempotent.
   */
  open(signal?: AbortSignal): Promise<void>;

  /**
   * Best effort, like heartbeat: resolves once the medium has taken the frame (UDP: the kernel
   * accepted or refused the datagram; serial: the frame is queued for the line writer, so a
   * slow or blocked line never stalls the caller). Transient failures become events and the
   * promise still resolves. Rejects only on misuse: `MediumNotOpenError` before `open()`
   * finished, `MediumClosedError` after `close()`, `FrameFormatError` for a serial frame that is
   * not a classic frame.
   */
  send(frame: Uint8Array): Promise<void>;

  /**
   * The received frames, for one consumer at a time. Iteration may start before `open()`; it
   * ends when the medium closes (frames still queued are dropped). Never throws.
   */
  frames(): AsyncIterable<ReceivedFrame>;

  /** Releases sockets, line and lock; ends `frames()`. Idempotent; never rejects. */
  close(): Promise<void>;
}

/** Why a frame was dropped on its way out. */
export type SendDropReason = 'queue-full' | 'too-large' | 'write-timeout' | 'closed';

/** Why received bytes were dropped before they became a frame. */
export type ReceiveDropReason = 'queue-full' | 'line-too-long' | 'frame-too-long' | 'frame-incomplete';

/**
 * Things that happen on the wire, reported rather than thrown. Every event names its medium so
 * one sink can serve all media; the daemon turns them into log lines.
 */
export type MediumEvent =
  /**
   * A send failed (heartbeat: "Unable to send bcast packet …"). After 10 in a row the medium
   * reports `send-errors-suppressed` and goes quiet until a send succeeds or 1000 more fail,
   * as heartbeat's write child does (heartbeat.c, write_child).
   */
  | {
      readonly kind: 'send-failed';
      readonly medium: string;
      readonly code: string;
      readonly message: string;
      readonly bytes: number;
    }
  | { readonly kind: 'send-errors-suppressed'; readonly medium: string; readonly consecutive: number }
  /** Sends work again; `failed` counts the failures since the last success. */
  | { readonly kind: 'send-recovered'; readonly medium: string; readonly failed: number }
  | {
      readonly kind: 'send-dropped';
      readonly medium: string;
      readonly reason: SendDropReason;
      readonly frames: number;
      readonly bytes: number;
    }
  | {
      readonly kind: 'receive-error';
      readonly medium: string;
      readonly code: string;
      readonly message: string;
    }
  | {
      readonly kind: 'receive-dropped';
      readonly medium: string;
      readonly reason: ReceiveDropReason;
      readonly bytes: number;
    }
  /** Something worth a log line that is not an error (e.g. "no break on a pty"). */
  | { readonly kind: 'notice'; readonly medium: string; readonly message: string };

/** Receives {@link MediumEvent}s. Must not throw; it is called synchronously from I/O callbacks. */
export type MediumEventSink = (event: MediumEvent) => void;

/** Bounds of a medium's receive queue; the oldest frames stay, new ones are dropped. */
export interface ReceiveQueueLimits {
  readonly frames: number;
  readonly bytes: number;
}

/** 1024 frames or 4 MiB, whichever comes first: minutes of heartbeat traffic. */
export const DEFAULT_RECEIVE_QUEUE_LIMITS: ReceiveQueueLimits = { frames: 1024, bytes: 4 * 1024 * 1024 };

/** What every medium factory takes besides its ha.cf arguments (js-libp2p's `components`). */
export interface MediumComponents {
  /** Stamps `receivedAtMs`; defaults to the system clock. */
  readonly clock?: Clock;
  /** Where wire trouble is reported; defaults to dropping it. */
  readonly onEvent?: MediumEventSink;
  readonly receiveQueueLimits?: ReceiveQueueLimits;
}
