// Part: time as an explicit input. Liveness uses only the monotonic clock; wall time is
// for the wire `ts` field and for logs, so an NTP step can never kill a node.

export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch; may jump. */
  wallMs(): number;
}

/** An opaque timer handle, as returned by {@link Timers.setTimeout}. */
export type TimerHandle = unknown;

/**
 * One-shot timers, injected into the shells (HaNode, the group executor, XState actors) so the
 * simulator runs them on its virtual clock. The shape is XState's `clock` option.
 */
export interface Timers {
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A clock that can also wake its owner: what a shell needs. */
export interface TimerClock extends Clock, Timers {}

export const systemClock: TimerClock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A clock the tests and the simulator step by hand. */
export class ManualClock implements Clock {
  private mono: number;
  private wall: number;
  constructor(monoMs = 0, wallMs = 1_700_000_000_000) {
    this.mono = monoMs;
    this.wall = wallMs;
  }
  monotonicMs(): number {
    return this.mono;
  }
  wallMs(): number {
    return this.wall;
  }
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('monotonic time cannot go backwards');
    this.mono += ms;
    this.wall += ms;
  }
  /** Step wall time only, as NTP or an operator would. */
  jumpWall(ms: number): void {
    this.wall += ms;
  }
}
