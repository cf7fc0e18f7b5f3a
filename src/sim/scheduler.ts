// Part: the simulator's virtual time: one clock for the world, one-shot timers owned by a
// node incarnation (a crash cancels them, a pause defers them), and per-node wall clocks that
// can be stepped. No heartbeat knowledge.

import type { TimerClock, TimerHandle } from '../lib/clock.js';

interface Entry {
  readonly atMs: number;
  readonly order: number;
  readonly owner: string;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Wall time of virtual 0: any fixed instant will do. */
const EPOCH_MS = 1_700_000_000_000;

export class Scheduler {
  nowMs = 0;
  #order = 0;
  /** Sorted by (atMs, order). Small (a few dozen entries): a sorted array beats a heap here. */
  #entries: Entry[] = [];
  readonly #frozen = new Set<string>();
  readonly #wallOffsetMs = new Map<string, number>();

  /** A TimerClock for one owner (a node incarnation such as `alpha#3`). */
  clockFor(owner: string, node: string): TimerClock {
    return {
      monotonicMs: () => this.nowMs,
      wallMs: () => EPOCH_MS + this.nowMs + (this.#wallOffsetMs.get(node) ?? 0),
      setTimeout: (fn, delayMs) => this.#add(owner, this.nowMs + Math.max(0, delayMs), fn),
      clearTimeout: (h: TimerHandle) => {
        if (h && typeof h === 'object' && 'cancelled' in h) (h as Entry).cancelled = true;
      },
    };
  }

  #add(owner: string, atMs: number, fn: () => void): Entry {
    const e: Entry = { atMs, order: this.#order++, owner, fn, cancelled: false };
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid]!.atMs <= atMs) lo = mid + 1;
      else hi = mid;
    }
    this.#entries.splice(lo, 0, e);
    return e;
  }

  /** A crashed incarnation's timers never fire. */
  cancelOwner(owner: string): void {
    for (const e of this.#entries) if (e.owner === owner) e.cancelled = true;
    this.#entries = this.#entries.filter((e) => !e.cancelled);
  }

  freeze(owner: string): void {
    this.#frozen.add(owner);
  }

  thaw(owner: string): void {
    this.#frozen.delete(owner);
  }

  isFrozen(owner: string): boolean {
    return this.#frozen.has(owner);
  }

  stepWall(node: string, deltaMs: number): void {
    this.#wallOffsetMs.set(node, (this.#wallOffsetMs.get(node) ?? 0) + deltaMs);
  }

  /** When the next runnable timer is due (frozen owners skipped); Infinity when none. */
  nextDueAtMs(): number {
    for (const e of this.#entries) {
      if (e.cancelled || this.#frozen.has(e.owner)) continue;
      return e.atMs;
    }
    return Number.POSITIVE_INFINITY;
  }

  /** Run the first runnable timer due at or before `nowMs`; false when there is none. */
  runOne(): boolean {
    for (let i = 0; i < this.#entries.length; i++) {
      const e = this.#entries[i]!;
      if (e.atMs > this.nowMs) return false;
      if (e.cancelled) {
        this.#entries.splice(i, 1);
        i--;
        continue;
      }
      if (this.#frozen.has(e.owner)) continue;
      this.#entries.splice(i, 1);
      e.fn();
      return true;
    }
    return false;
  }

  /** Run every expired timer of one owner now, in due order (a thawed process catching up). */
  runExpired(owner: string): void {
    for (;;) {
      const e = this.#entries.find((x) => !x.cancelled && x.owner === owner && x.atMs <= this.nowMs);
      if (!e) return;
      this.#entries.splice(this.#entries.indexOf(e), 1);
      e.fn();
    }
  }
}

/** Let every promise continuation that is ready run (no timers or I/O exist in a simulation). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
