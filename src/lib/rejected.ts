// Part: rejected input, counted and reported without letting a sender flood the log: one
// line per (class, source) per window, with how many more were suppressed. No heartbeat
// knowledge; the daemon and the local API both report through one instance.

/**
 * Every class of input tsbeat refuses. Frame classes come from the codec and the membership
 * core, `ipc*` classes from the local API server. Names are stable: they are keys of
 * `tsbeat status --json` (`rejected`).
 */
export const REJECT_CLASSES = [
  /** A frame that does not parse (netstring/classic framing, size limits). */
  'malformed',
  /** Signed with a key authkeys has, but the digest is wrong. */
  'badAuth',
  /** Signed with a key index authkeys does not list. */
  'unknownKey',
  /** No authentication at all. */
  'noAuth',
  /** From a node ha.cf does not list. */
  'badNode',
  /** Authentic but unusable: missing seq/hg/ts, unknown status word. */
  'badMessage',
  /** An older generation of a known node (heartbeat's "attempted replay attack"). */
  'oldGeneration',
  /** Same generation, a sequence number already seen: a duplicate or a replay. */
  'replay',
  /** Local API: refused because the client limit was reached. */
  'ipcBusy',
  /** Local API: a request not completed in time (half-sent, idle). */
  'ipcTimeout',
  /** Local API: over-long request, invalid JSON or UTF-8, too many queued. */
  'ipcBadRequest',
  /** Local API: a control command on the read-only socket. */
  'ipcDenied',
] as const;
export type RejectClass = (typeof REJECT_CLASSES)[number];

export type RejectCounts = Readonly<Record<RejectClass, number>>;

/** Every class at zero. */
export function emptyRejectCounts(): RejectCounts {
  return Object.fromEntries(REJECT_CLASSES.map((c) => [c, 0])) as Record<RejectClass, number>;
}

export interface RejectedInputOptions {
  /** One line per (class, source) per this many ms. Default 10 s. */
  readonly windowMs?: number;
  /** Distinct (class, source) keys remembered; beyond it the oldest are forgotten. Default 1024. */
  readonly maxKeys?: number;
  /** Monotonic time, injected so tests and the simulator can step it. */
  readonly nowMs: () => number;
  /** Where a report goes (already rate limited). */
  readonly log: (level: 'warn' | 'error', line: string) => void;
}

interface Window {
  startedAtMs: number;
  suppressed: number;
}

/** Counters of rejected input and a rate-limited log of it. */
export class RejectedInput {
  private readonly counts: Record<RejectClass, number>;
  private readonly windows = new Map<string, Window>();
  private readonly opts: Required<RejectedInputOptions>;
  /** Lines not written because of the rate limit, over the daemon's life. */
  suppressedLines = 0;

  constructor(opts: RejectedInputOptions) {
    this.opts = { windowMs: 10_000, maxKeys: 1024, ...opts };
    this.counts = { ...emptyRejectCounts() };
  }

  /**
   * Count one rejected input from `source` (an address, a node, "api.sock") and log `line`
   * unless a line of the same class and source was logged within the window. Returns whether
   * the line was logged.
   */
  reject(cls: RejectClass, source: string, line: string, level: 'warn' | 'error' = 'error'): boolean {
    this.counts[cls]++;
    const key = `${cls}\u0000${source}`;
    const now = this.opts.nowMs();
    const w = this.windows.get(key);
    if (w && now - w.startedAtMs < this.opts.windowMs) {
      w.suppressed++;
      this.suppressedLines++;
      return false;
    }
    const extra = w && w.suppressed > 0 ? ` (${w.suppressed} more like it suppressed)` : '';
    this.opts.log(level, `${line}${extra}`);
    // Re-insert so the map's order is least recently logged first: the oldest go first.
    this.windows.delete(key);
    this.windows.set(key, { startedAtMs: now, suppressed: 0 });
    while (this.windows.size > this.opts.maxKeys) {
      const oldest = this.windows.keys().next().value;
      if (oldest === undefined) break;
      this.windows.delete(oldest);
    }
    return true;
  }

  /** Count without logging (for inputs whose class is already reported elsewhere). */
  count(cls: RejectClass): void {
    this.counts[cls]++;
  }

  snapshot(): RejectCounts {
    return { ...this.counts };
  }

  total(): number {
    let n = 0;
    for (const c of REJECT_CLASSES) n += this.counts[c];
    return n;
  }
}
