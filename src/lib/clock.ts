// Part: time as an explicit input. Liveness uses only the monotonic clock; wall time is
// for the wire `ts` field and for logs, so an NTP step can never kill a node.

export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch; may jump. */
  wallMs(): number;
}

export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
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
