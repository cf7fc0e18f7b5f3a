// Part: a deterministic cluster simulator: several membership cores on one virtual clock,
// wired by lossy, delaying, cuttable links. Replays exactly from a seed.
//
// Frames are passed as messages (not bytes): the codec is tested on its own; this is about
// protocol behaviour under faults. Each node's wall clock can be stepped independently.

import type { Message } from '../codec/model.js';
import { getString } from '../codec/model.js';
import { type Random, seededRandom } from '../lib/random.js';
import { createMembership, step } from '../membership/core.js';
import type {
  Delivered,
  Env,
  Input,
  MembershipConfig,
  MembershipEvent,
  MembershipState,
  Output,
} from '../membership/model.js';

export interface SimNodeOptions {
  readonly name: string;
  readonly generation?: number;
}

export interface SimOptions {
  readonly seed: number;
  readonly nodes: readonly string[];
  /** Media names, e.g. ['eth0', '/dev/ttyS0']; every node is on every medium. */
  readonly media: readonly string[];
  readonly keepaliveMs?: number;
  readonly deadtimeMs?: number;
  readonly warntimeMs?: number;
  readonly initdeadMs?: number;
  readonly maxRexmitDelayMs?: number;
  /** One-way delivery delay range in ms. */
  readonly delayMs?: readonly [number, number];
}

/** A layer above membership on one simulated node (the resource manager, in the RM simulator). */
export interface SimUpper {
  /** Called after every membership step of its node, with what that step produced. */
  onOutput(events: readonly MembershipEvent[], deliveries: readonly Delivered[]): void;
  /** Its next deadline (virtual ms), or Infinity. */
  wakeAtMs(): number;
  /** Called at (or after) that deadline. */
  tick(): void;
}

export interface SimEvent {
  readonly atMs: number;
  readonly node: string;
  readonly event: MembershipEvent;
}

export interface SimDelivery {
  readonly atMs: number;
  readonly node: string;
  readonly from: string;
  readonly type: string;
  readonly msg: Message;
}

interface Pending {
  readonly atMs: number;
  readonly order: number;
  readonly to: string;
  readonly link: number;
  readonly msg: Message;
}

interface SimNode {
  readonly name: string;
  state: MembershipState;
  alive: boolean;
  frozen: boolean;
  generation: number;
  wallOffsetMs: number;
  wakeAtMs: number;
}

/** Per directed path (from, to, medium): loss probability, cut flag. */
interface PathFault {
  loss: number;
  cut: boolean;
}

export class SimCluster {
  readonly opts: SimOptions;
  readonly random: Random;
  nowMs = 0;
  readonly events: SimEvent[] = [];
  readonly deliveries: SimDelivery[] = [];
  /** Every message put on the wire: [time, sender, message, rexmit]. */
  readonly wire: { atMs: number; from: string; msg: Message; rexmit: boolean }[] = [];
  private readonly nodes = new Map<string, SimNode>();
  private pending: Pending[] = [];
  private order = 0;
  private readonly faults = new Map<string, PathFault>();
  private readonly uppers = new Map<string, SimUpper>();

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.random = seededRandom(opts.seed);
    for (const name of opts.nodes) {
      this.nodes.set(name, {
        name,
        state: this.freshState(name, 1000),
        alive: false,
        frozen: false,
        generation: 1000,
        wallOffsetMs: 0,
        wakeAtMs: Number.POSITIVE_INFINITY,
      });
    }
  }

  private config(name: string, generation: number): MembershipConfig {
    const o = this.opts;
    const uuid = new Uint8Array(16);
    for (let i = 0; i < name.length && i < 16; i++) uuid[i] = name.charCodeAt(i);
    return {
      localNode: name,
      nodes: o.nodes,
      links: o.media,
      keepaliveMs: o.keepaliveMs ?? 1000,
      deadtimeMs: o.deadtimeMs ?? 5000,
      warntimeMs: o.warntimeMs ?? 3000,
      initdeadMs: o.initdeadMs ?? 10000,
      maxRexmitDelayMs: o.maxRexmitDelayMs ?? 250,
      hopfudge: 1,
      generation,
      uuid,
    };
  }

  private freshState(name: string, generation: number): MembershipState {
    return createMembership(this.config(name, generation), seededRandom(this.random.int(0, 2 ** 31)));
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  state(name: string): MembershipState {
    return this.node(name).state;
  }

  private env(n: SimNode): Env {
    return {
      monoMs: this.nowMs,
      wallMs: 1_700_000_000_000 + this.nowMs + n.wallOffsetMs,
      loadavg: '0.00 0.00 0.00 1/100 1',
    };
  }

  private apply(n: SimNode, input: Input): Output {
    const out = step(n.state, input, this.env(n));
    for (const e of out.events) this.events.push({ atMs: this.nowMs, node: n.name, event: e });
    for (const d of out.deliver) this.deliveries.push({ atMs: this.nowMs, node: n.name, ...d });
    for (const o of out.send) this.transmit(n.name, o.msg, o.rexmit === true);
    n.wakeAtMs = out.wakeAtMs;
    this.uppers.get(n.name)?.onOutput(out.events, out.deliver);
    return out;
  }

  /** Put a layer on top of a node's membership (replaces any previous one). */
  attach(name: string, upper: SimUpper | undefined): void {
    if (upper) this.uppers.set(name, upper);
    else this.uppers.delete(name);
  }

  isUp(name: string): boolean {
    const n = this.node(name);
    return n.alive && !n.frozen;
  }

  private transmit(from: string, msg: Message, rexmit: boolean): void {
    this.wire.push({ atMs: this.nowMs, from, msg, rexmit });
    const [lo, hi] = this.opts.delayMs ?? [1, 5];
    for (const [to, target] of this.nodes) {
      // A crashed node's socket buffers vanish with it; a frozen one keeps them.
      if (!target.alive) continue;
      for (let link = 0; link < this.opts.media.length; link++) {
        if (to === from) continue;
        const f = this.faults.get(`${from}>${to}#${link}`);
        if (f?.cut) continue;
        if (f && f.loss > 0 && this.random.next() < f.loss) continue;
        this.pending.push({ atMs: this.nowMs + this.random.int(lo, hi), order: this.order++, to, link, msg });
      }
    }
  }

  /** Start (or restart, with a higher generation) a node's daemon. */
  start(name: string): void {
    const n = this.node(name);
    if (n.alive) throw new Error(`${name} is already running`);
    n.generation += 1;
    n.state = this.freshState(name, n.generation);
    n.alive = true;
    n.frozen = false;
    this.apply(n, { kind: 'start' });
  }

  /** SIGKILL: the node stops at once, saying nothing. */
  kill(name: string): void {
    const n = this.node(name);
    n.alive = false;
    n.wakeAtMs = Number.POSITIVE_INFINITY;
    this.pending = this.pending.filter((p) => p.to !== name);
  }

  /** SIGSTOP: nothing runs; frames addressed to it wait in its socket buffers. */
  freeze(name: string): void {
    this.node(name).frozen = true;
  }

  /** SIGCONT: like Node's event loop, expired timers run before the buffered frames. */
  thaw(name: string): void {
    const n = this.node(name);
    n.frozen = false;
    if (n.alive) this.apply(n, { kind: 'tick' });
  }

  /** A message from the layer above on `name`. */
  send(name: string, msg: Message): void {
    const n = this.node(name);
    if (n.alive && !n.frozen) this.apply(n, { kind: 'send', msg });
  }

  /** Cut or restore a medium between two nodes, both directions (or one with `oneWay`). */
  cut(a: string, b: string, link: number, cut = true, oneWay = false): void {
    this.path(a, b, link).cut = cut;
    if (!oneWay) this.path(b, a, link).cut = cut;
  }

  loss(a: string, b: string, link: number, probability: number): void {
    this.path(a, b, link).loss = probability;
    this.path(b, a, link).loss = probability;
  }

  /** Step one node's wall clock (NTP, an operator): must change nothing. */
  jumpWallClock(name: string, deltaMs: number): void {
    this.node(name).wallOffsetMs += deltaMs;
  }

  private path(from: string, to: string, link: number): PathFault {
    const key = `${from}>${to}#${link}`;
    let f = this.faults.get(key);
    if (!f) {
      f = { loss: 0, cut: false };
      this.faults.set(key, f);
    }
    return f;
  }

  /** Run the cluster until virtual time `untilMs`, processing frames and wake-ups in order. */
  runUntil(untilMs: number): void {
    for (;;) {
      let next = untilMs;
      for (const n of this.nodes.values()) {
        if (!n.alive || n.frozen) continue;
        next = Math.min(next, n.wakeAtMs, this.uppers.get(n.name)?.wakeAtMs() ?? Number.POSITIVE_INFINITY);
      }
      let frame: Pending | undefined;
      for (const p of this.pending) {
        const to = this.nodes.get(p.to)!;
        if (!to.alive || to.frozen) continue;
        if (!frame || p.atMs < frame.atMs || (p.atMs === frame.atMs && p.order < frame.order)) frame = p;
      }
      if (frame && frame.atMs <= next) {
        this.nowMs = Math.max(this.nowMs, frame.atMs);
        this.pending.splice(this.pending.indexOf(frame), 1);
        const to = this.node(frame.to);
        this.apply(to, { kind: 'frame', link: frame.link, msg: frame.msg });
        continue;
      }
      if (next >= untilMs) {
        this.nowMs = untilMs;
        return;
      }
      this.nowMs = Math.max(this.nowMs, next);
      for (const n of this.nodes.values()) {
        if (!n.alive || n.frozen) continue;
        if (n.wakeAtMs <= this.nowMs) this.apply(n, { kind: 'tick' });
        const upper = this.uppers.get(n.name);
        if (upper && upper.wakeAtMs() <= this.nowMs) upper.tick();
      }
    }
  }

  runFor(ms: number): void {
    this.runUntil(this.nowMs + ms);
  }

  /** Events of one kind, optionally on one node. */
  eventsOf<K extends MembershipEvent['kind']>(
    kind: K,
    node?: string,
  ): (SimEvent & { event: Extract<MembershipEvent, { kind: K }> })[] {
    return this.events.filter(
      (e) => e.event.kind === kind && (node === undefined || e.node === node),
    ) as (SimEvent & {
      event: Extract<MembershipEvent, { kind: K }>;
    })[];
  }

  /** The status `viewer` has for `node`. */
  statusOf(viewer: string, node: string): string {
    const st = this.state(viewer);
    if (node === viewer) return st.localStatus;
    return st.peers.get(node)?.status ?? 'unknown';
  }

  /** Types of wire messages sent by a node (for protocol assertions). */
  sentTypes(from: string): string[] {
    return this.wire.filter((w) => w.from === from).map((w) => getString(w.msg, 't') ?? '?');
  }
}
