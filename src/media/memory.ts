// Part: the in-process network for unit tests and the deterministic simulator: media on named
// segments, with loss, duplication, delay and cuts per path, delivered on demand or by timer.

import { assert } from '../lib/assert.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { type Random, seededRandom } from '../lib/random.js';
import { MediumBase } from './base.js';
import { isClassicFrame } from './classic-reader.js';
import { FrameFormatError, MediumConfigError } from './errors.js';
import {
  type FrameFormat,
  MAX_FRAME_BYTES,
  type Medium,
  type MediumComponents,
  type MediumKind,
} from './medium.js';

/** Which paths a fault rule applies to; an absent field matches anything. */
export interface PathSelector {
  /** The segment (the shared wire), e.g. `lan` or `ttyS0-cable`. */
  readonly segment?: string;
  /** Sending node. */
  readonly from?: string;
  /** Receiving node. */
  readonly to?: string;
}

/** What happens to frames on a path. Later rules override the fields they set. */
export interface PathFaults {
  /** The path delivers nothing (a pulled cable, a firewall). */
  readonly cut?: boolean;
  /** Probability in [0, 1] that a frame is lost. */
  readonly loss?: number;
  /** Probability in [0, 1] that a frame arrives twice. */
  readonly duplicate?: number;
  /** Fixed latency. */
  readonly delayMs?: number;
  /** Extra latency, uniform in [0, jitterMs): frames may overtake each other. */
  readonly jitterMs?: number;
}

/** Counters over the network's lifetime; the simulator prints them and tests assert on them. */
export interface MemoryNetworkStats {
  /** Frames handed to the network (one per send, whatever the number of receivers). */
  sent: number;
  /** Copies put into receivers' queues. */
  delivered: number;
  lost: number;
  duplicated: number;
  /** Copies not sent because their path was cut. */
  cut: number;
  /** Copies dropped because the in-flight bound was reached or the receiver closed meanwhile. */
  dropped: number;
}

/** Options of {@link memoryNetwork}. */
export interface MemoryNetworkOptions {
  /** Time source for delays and `receivedAtMs`; the simulator passes its ManualClock. */
  readonly clock?: Clock;
  /** Decides loss, duplication and jitter; seeded so a run replays exactly. Default seed 1. */
  readonly random?: Random;
  /**
   * `auto` (default): frames are delivered by themselves through `schedule` (setTimeout by
   * default), for tests on real time. `manual`: nothing moves until `deliverDue()` is called,
   * for the simulator on a virtual clock.
   */
  readonly delivery?: 'auto' | 'manual';
  /** Timer used in `auto` mode. */
  readonly schedule?: (run: () => void, delayMs: number) => void;
  /** Copies in flight at most; beyond it, sends are dropped and reported. Default 100000. */
  readonly maxInFlight?: number;
}

interface InFlight {
  readonly dueAtMs: number;
  /** Sending order, to keep delivery stable among copies due at the same time. */
  readonly order: number;
  readonly target: MemoryMedium;
  readonly bytes: Uint8Array;
  readonly from: string;
}

interface FaultRule {
  readonly selector: PathSelector;
  readonly faults: PathFaults;
}

/**
 * Connects {@link memoryMedium}s: a frame sent on a segment reaches every other open medium on
 * that segment (a broadcast wire; `peers` narrows it to unicast), subject to the fault rules of
 * its path. Use `delivery: 'manual'` and `deliverDue()` to drive it from a virtual clock.
 */
export class MemoryNetwork {
  readonly clock: Clock;
  readonly stats: MemoryNetworkStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, cut: 0, dropped: 0 };
  readonly #random: Random;
  readonly #manual: boolean;
  readonly #schedule: (run: () => void, delayMs: number) => void;
  readonly #maxInFlight: number;
  readonly #segments = new Map<string, Set<MemoryMedium>>();
  #rules: FaultRule[] = [];
  /** Sorted by (dueAtMs, order). */
  #inFlight: InFlight[] = [];
  #order = 0;

  constructor(options: MemoryNetworkOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.#random = options.random ?? seededRandom(1);
    this.#manual = options.delivery === 'manual';
    this.#schedule = options.schedule ?? ((run, delayMs) => void setTimeout(run, delayMs));
    this.#maxInFlight = options.maxInFlight ?? 100_000;
  }

  /** Copies sent but not yet delivered. */
  get inFlight(): number {
    return this.#inFlight.length;
  }

  /** When the next copy is due, for a simulator deciding how far to advance; undefined when idle. */
  nextDueAtMs(): number | undefined {
    return this.#inFlight[0]?.dueAtMs;
  }

  /**
   * Adds a fault rule; returns a function that removes it. Rules apply in the order added, each
   * overriding the fields it sets, so a later `{ cut: false }` heals an earlier cut.
   */
  setFaults(selector: PathSelector, faults: PathFaults): () => void {
    for (const p of [faults.loss, faults.duplicate]) {
      assert(p === undefined || (p >= 0 && p <= 1), 'probabilities are in [0, 1]');
    }
    const rule: FaultRule = { selector, faults };
    this.#rules.push(rule);
    return () => {
      this.#rules = this.#rules.filter((r) => r !== rule);
    };
  }

  /** Cuts a segment between two nodes, both ways unless `oneWay` (then only a → b). */
  cut(segment: string, a: string, b: string, oneWay = false): () => void {
    const removers = [this.setFaults({ segment, from: a, to: b }, { cut: true })];
    if (!oneWay) removers.push(this.setFaults({ segment, from: b, to: a }, { cut: true }));
    return () => {
      for (const remove of removers) remove();
    };
  }

  clearFaults(): void {
    this.#rules = [];
  }

  /** The faults in force on one path. */
  faultsFor(segment: string, from: string, to: string): PathFaults {
    let merged: PathFaults = {};
    for (const { selector, faults } of this.#rules) {
      if (selector.segment !== undefined && selector.segment !== segment) continue;
      if (selector.from !== undefined && selector.from !== from) continue;
      if (selector.to !== undefined && selector.to !== to) continue;
      merged = { ...merged, ...faults };
    }
    return merged;
  }

  /** Delivers every copy due at or before `nowMs` (default: the clock's now); returns how many. */
  deliverDue(nowMs: number = this.clock.monotonicMs()): number {
    let count = 0;
    while (this.#inFlight.length > 0 && this.#inFlight[0]!.dueAtMs <= nowMs) {
      const item = this.#inFlight.shift()!;
      if (item.target.accept(item.bytes, item.from)) {
        this.stats.delivered += 1;
        count += 1;
      } else {
        this.stats.dropped += 1;
      }
    }
    return count;
  }

  /** @internal Called by a medium when it opens. */
  attach(medium: MemoryMedium): void {
    let members = this.#segments.get(medium.segment);
    if (!members) {
      members = new Set();
      this.#segments.set(medium.segment, members);
    }
    members.add(medium);
  }

  /** @internal Called by a medium when it closes. */
  detach(medium: MemoryMedium): void {
    this.#segments.get(medium.segment)?.delete(medium);
  }

  /** @internal Puts copies of a frame on the wire; returns false when the in-flight bound hit. */
  transmit(sender: MemoryMedium, bytes: Uint8Array): boolean {
    this.stats.sent += 1;
    const now = this.clock.monotonicMs();
    let complete = true;
    for (const target of this.#segments.get(sender.segment) ?? []) {
      if (target === sender ? !sender.loopback : !sender.reaches(target.node)) continue;
      const faults = this.faultsFor(sender.segment, sender.node, target.node);
      if (faults.cut) {
        this.stats.cut += 1;
        continue;
      }
      if (faults.loss && this.#random.next() < faults.loss) {
        this.stats.lost += 1;
        continue;
      }
      let copies = 1;
      if (faults.duplicate && this.#random.next() < faults.duplicate) {
        copies = 2;
        this.stats.duplicated += 1;
      }
      for (let i = 0; i < copies; i++) {
        if (this.#inFlight.length >= this.#maxInFlight) {
          this.stats.dropped += 1;
          complete = false;
          continue;
        }
        const jitter = faults.jitterMs ? this.#random.next() * faults.jitterMs : 0;
        const dueAtMs = now + (faults.delayMs ?? 0) + jitter;
        this.#insert({ dueAtMs, order: this.#order++, target, bytes, from: sender.node });
        if (!this.#manual) {
          // Timers may fire a fraction of a millisecond early; the copy is due when its timer fires.
          this.#schedule(
            () => this.deliverDue(Math.max(this.clock.monotonicMs(), dueAtMs)),
            Math.max(0, dueAtMs - now),
          );
        }
      }
    }
    return complete;
  }

  #insert(item: InFlight): void {
    // Binary search for the first entry due later; equal times keep sending order.
    let lo = 0;
    let hi = this.#inFlight.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#inFlight[mid]!.dueAtMs <= item.dueAtMs) lo = mid + 1;
      else hi = mid;
    }
    this.#inFlight.splice(lo, 0, item);
  }
}

/** A network for {@link memoryMedium}s. */
export function memoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  return new MemoryNetwork(options);
}

/** One node's medium on a memory network. */
export interface MemoryMediumInit {
  /** The node this medium belongs to; receivers see it as `from`. */
  readonly node: string;
  /** The wire it is plugged into; media on the same segment hear each other. */
  readonly segment: string;
  /** Heartbeat's link name on this node (nodes may name the same wire differently); default: segment. */
  readonly link?: string;
  /** Default `memory <segment>`; the simulator may use the ha.cf text it stands for. */
  readonly name?: string;
  /** Default `netstring`; `classic` checks frames as the serial medium does. */
  readonly frameFormat?: FrameFormat;
  /** Hear our own frames, like bcast and mcast with loop 1. Default false. */
  readonly loopback?: boolean;
  /** Send only to these nodes (ucast); default everyone on the segment. */
  readonly peers?: readonly string[];
}

/** A medium on a {@link MemoryNetwork}; frames are copied, so senders may reuse their buffers. */
export function memoryMedium(
  network: MemoryNetwork,
  init: MemoryMediumInit,
  components: MediumComponents = {},
): Medium {
  return new MemoryMedium(network, init, { ...components, clock: components.clock ?? network.clock });
}

class MemoryMedium extends MediumBase {
  readonly name: string;
  readonly kind: MediumKind = 'memory';
  readonly link: string;
  readonly frameFormat: FrameFormat;
  readonly node: string;
  readonly segment: string;
  readonly loopback: boolean;
  readonly #network: MemoryNetwork;
  readonly #peers: ReadonlySet<string> | undefined;

  constructor(network: MemoryNetwork, init: MemoryMediumInit, components: MediumComponents) {
    super(components);
    this.name = init.name ?? `memory ${init.segment}`;
    if (init.node === '' || init.segment === '')
      throw new MediumConfigError(this.name, 'node and segment are required');
    this.link = init.link ?? init.segment;
    this.frameFormat = init.frameFormat ?? 'netstring';
    this.node = init.node;
    this.segment = init.segment;
    this.loopback = init.loopback ?? false;
    this.#network = network;
    this.#peers = init.peers ? new Set(init.peers) : undefined;
  }

  reaches(node: string): boolean {
    return this.#peers === undefined || this.#peers.has(node);
  }

  /** Called by the network; false when this medium can no longer take frames. */
  accept(bytes: Uint8Array, from: string): boolean {
    if (!this.isOpen) return false;
    this.deliver(bytes.slice(), from);
    return true;
  }

  protected async openIo(): Promise<void> {
    this.#network.attach(this);
  }

  protected async sendIo(frame: Uint8Array): Promise<void> {
    if (this.frameFormat === 'classic' && !isClassicFrame(frame)) {
      throw new FrameFormatError(this.name, 'a classic medium carries classic frames (">>>\\n" … "<<<\\n")');
    }
    if (frame.length > MAX_FRAME_BYTES) {
      this.emit({
        kind: 'send-dropped',
        medium: this.name,
        reason: 'too-large',
        frames: 1,
        bytes: frame.length,
      });
      return;
    }
    if (!this.#network.transmit(this, frame.slice())) {
      this.emit({
        kind: 'send-dropped',
        medium: this.name,
        reason: 'queue-full',
        frames: 1,
        bytes: frame.length,
      });
    }
  }

  protected async closeIo(): Promise<void> {
    this.#network.detach(this);
  }
}
