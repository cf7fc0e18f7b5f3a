// Part: the deterministic cluster simulator. Every node is the production HaNode (membership
// and ownership cores, the input loop, frame signing and checking, the group executor with the
// real XState group machines), run on a virtual clock over in-memory media (src/media/memory.ts)
// that carry real encoded, authenticated frames. Agents and fencing are simulated; "machines"
// record where resources really run, independent of what the nodes believe. Replays exactly
// from a seed: the only nondeterminism, the order of promise continuations, is fixed by the
// program, and every timer and random draw goes through the seed.

import { type Keyring, makeKeyring } from '../codec/auth/keyring.js';
import { decodeFrame } from '../codec/frame.js';
import { getString, type Message } from '../codec/model.js';
import type { AutoFailback, ResourceConfig, ResourceGroupConfig } from '../config/model.js';
import type { ResourceSet, StandbyResult } from '../ipc/view.js';
import type { TimerClock } from '../lib/clock.js';
import { type Random, seededRandom } from '../lib/random.js';
import type { Medium, ReceivedFrame } from '../media/medium.js';
import { type MemoryNetwork, memoryMedium, memoryNetwork } from '../media/memory.js';
import type { Delivered, MembershipConfig, MembershipEvent, MembershipState } from '../membership/model.js';
import { type Fencer, HaNode, type HaNodeMutations, type ResourceRunnerPort } from '../node/ha-node.js';
import type { ResourceOpResult } from '../resources/group-machine.js';
import { holdWord } from '../resources/model.js';
import { rscStatus } from '../resources/ownership.js';
import { Scheduler, settle } from './scheduler.js';

export interface SimOptions {
  readonly seed: number;
  readonly nodes: readonly string[];
  /**
   * Media names, one segment each, e.g. ['eth0', '/dev/ttyS0']; every node is on every medium.
   * A name starting with /dev/ is a serial line: it carries classic frames, as heartbeat's does.
   */
  readonly media: readonly string[];
  readonly keepaliveMs?: number;
  readonly deadtimeMs?: number;
  readonly warntimeMs?: number;
  readonly initdeadMs?: number;
  readonly maxRexmitDelayMs?: number;
  /** One-way delivery delay range in ms (default 1..5). */
  readonly delayMs?: readonly [number, number];
  /** auto_failback; with `groups`, the nodes manage resources. */
  readonly mode?: AutoFailback;
  /** haresources: [preferred node, group key] (one resource named like the key), or full groups. */
  readonly groups?: readonly (readonly [string, string])[] | readonly ResourceGroupConfig[];
  readonly stonith?: boolean;
  /** Groups (keys) that guard shared storage (their resource is a Filesystem). */
  readonly sharedStorage?: readonly string[];
  readonly takeoverWithoutFencing?: boolean;
  /** Virtual time one agent action takes (default 50). */
  readonly opMs?: number;
  /** Agent deadline, as the runner's (src/agents/runner.ts); default 2000 ms. */
  readonly agentTimeoutMs?: number;
  /** Virtual time a fence takes (default 1000). */
  readonly fenceMs?: number;
  readonly fenceDeadlineMs?: number;
  readonly stopRetryMax?: number;
  readonly mutations?: HaNodeMutations;
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

export interface SimLogLine {
  readonly atMs: number;
  readonly node: string;
  readonly level: string;
  readonly msg: string;
}

/** A status heartbeat some node processed: the ground truth of "hearing" a peer. */
export interface Heard {
  readonly atMs: number;
  readonly node: string;
  readonly from: string;
  readonly generation: number;
  /** When the sender sent it. */
  readonly sentAtMs: number;
}

/** Something the simulator itself saw go wrong on the wire (checked by the campaign). */
export interface WireViolation {
  readonly atMs: number;
  readonly invariant: 'send-order';
  readonly detail: string;
}

/** Where resources run: the machines' real state, independent of what nodes believe. */
export class Machines {
  private readonly running = new Map<string, Set<string>>();
  on(node: string): Set<string> {
    let s = this.running.get(node);
    if (!s) {
      s = new Set();
      this.running.set(node, s);
    }
    return s;
  }
  /** Nodes on which resource `spec` runs. */
  where(spec: string): string[] {
    return [...this.running.entries()].filter(([, s]) => s.has(spec)).map(([n]) => n);
  }
}

/** What a simulated agent does with one action. */
export type AgentBehaviour = 'ok' | 'fail' | 'hang';

interface SimNode {
  readonly name: string;
  generation: number;
  incarnation: number;
  alive: boolean;
  frozen: boolean;
  ha: HaNode | undefined;
  media: Medium[];
  gate: Gate;
  shutdownComplete: boolean;
  readonly requests: StandbyResult[];
}

class Gate {
  frozen = false;
  #waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }
  open(): void {
    this.frozen = false;
    for (const w of this.#waiters.splice(0)) w();
  }
}

const KEY = new TextEncoder().encode('tsbeat-simulation');

export class SimCluster {
  readonly opts: SimOptions;
  readonly random: Random;
  readonly sched = new Scheduler();
  readonly net: MemoryNetwork;
  readonly keyring: Keyring;
  readonly machines = new Machines();
  readonly events: SimEvent[] = [];
  readonly deliveries: SimDelivery[] = [];
  readonly log: SimLogLine[] = [];
  /** Every message put on the wire (decoded from the bytes of the node's first medium). */
  readonly wire: { atMs: number; from: string; msg: Message; rexmit: boolean }[] = [];
  readonly heard: Heard[] = [];
  readonly wireViolations: WireViolation[] = [];
  readonly internalErrors: { atMs: number; node: string; where: string; error: string }[] = [];
  readonly fenced: { atMs: number; by: string; node: string }[] = [];
  /** Resources whose start / stop fails on a node: `${node}:${spec}`. */
  readonly failStart = new Set<string>();
  readonly failStop = new Set<string>();
  /** Resources whose actions hang past the agent deadline on a node: `${node}:${spec}`. */
  readonly hang = new Set<string>();
  fenceWorks = true;
  /** A fence that never answers (the executor's deadline ends it). */
  fenceHangs = false;
  /** Extra time a fence takes (slow devices). */
  fenceExtraMs = 0;
  /** A fenced machine boots and starts its daemon again after this long (undefined: stays down). */
  rebootAfterFenceMs: number | undefined;
  /** Record every wire message (tests); the campaign turns it off for speed. */
  recordWire = true;
  /** The last frames each node sent (bytes as on its first medium), for replay faults. */
  readonly captured = new Map<string, Uint8Array[]>();
  #replayer: Medium | undefined;
  /** Called after every event the membership core of a node reports. */
  onNodeEvent: ((node: string, e: MembershipEvent) => void) | undefined;
  readonly groups: readonly ResourceGroupConfig[];
  private readonly nodes = new Map<string, SimNode>();
  /** Resources whose action was left behind (past its deadline): `${node}:${spec}` → until. */
  private readonly leftBehind = new Map<string, number>();
  /** When each frame (`src/hg/seq`) was first sent: a replay or a late copy is not news. */
  private readonly firstSent = new Map<string, number>();
  /** Per sender generation: highest seq sent, and every seq sent (rexmits resend old ones). */
  private readonly sentSeqs = new Map<string, { max: number; seen: Set<number> }>();

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.random = seededRandom(opts.seed);
    this.keyring = makeKeyring([{ index: 1, method: 'sha1', key: KEY }], 1)!;
    const sched = this.sched;
    this.net = memoryNetwork({
      clock: { monotonicMs: () => sched.nowMs, wallMs: () => sched.nowMs },
      random: seededRandom(this.random.int(0, 2 ** 31)),
      delivery: 'manual',
    });
    const [lo, hi] = opts.delayMs ?? [1, 5];
    this.net.setFaults({}, { delayMs: lo, jitterMs: hi - lo });
    this.groups = (opts.groups ?? []).map((g) =>
      Array.isArray(g)
        ? simpleGroup(g[0] as string, g[1] as string, opts.sharedStorage)
        : (g as ResourceGroupConfig),
    );
    for (const name of opts.nodes) {
      this.nodes.set(name, {
        name,
        generation: 1000,
        incarnation: 0,
        alive: false,
        frozen: false,
        ha: undefined,
        media: [],
        gate: new Gate(),
        shutdownComplete: false,
        requests: [],
      });
    }
  }

  get nowMs(): number {
    return this.sched.nowMs;
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  ha(name: string): HaNode {
    const h = this.node(name).ha;
    if (!h) throw new Error(`${name} is not running`);
    return h;
  }

  state(name: string): MembershipState {
    return this.ha(name).state;
  }

  isUp(name: string): boolean {
    const n = this.node(name);
    return n.alive && !n.frozen;
  }

  private owner(n: SimNode): string {
    return `${n.name}#${n.incarnation}`;
  }

  private membershipConfig(name: string, generation: number): MembershipConfig {
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

  /**
   * Start (or restart, with a higher generation) a node's daemon. Whatever its machine still
   * runs is released first, as the daemon's start-up check does (src/daemon/daemon.ts).
   */
  async start(name: string): Promise<void> {
    const n = this.node(name);
    if (n.alive) throw new Error(`${name} is already running`);
    n.generation += 1;
    n.incarnation += 1;
    n.alive = true;
    n.frozen = false;
    n.gate = new Gate();
    n.shutdownComplete = false;
    this.machines.on(name).clear();
    for (const k of [...this.leftBehind.keys()]) if (k.startsWith(`${name}:`)) this.leftBehind.delete(k);
    const owner = this.owner(n);
    const clock = this.sched.clockFor(owner, name);
    const gate = n.gate;
    n.media = this.opts.media.map((segment, i) =>
      this.simMedium(
        name,
        i,
        gate,
        memoryMedium(
          this.net,
          {
            node: name,
            segment,
            link: segment,
            name: segment.startsWith('/dev/') ? `serial ${segment}` : `bcast ${segment}`,
            frameFormat: segment.startsWith('/dev/') ? 'classic' : 'netstring',
          },
          { clock },
        ),
      ),
    );
    await Promise.all(n.media.map((m) => m.open()));
    const log = (level: 'debug' | 'info' | 'warn' | 'error' | 'crit') => (msg: string) => {
      if (level !== 'debug') this.log.push({ atMs: this.sched.nowMs, node: name, level, msg });
    };
    const o = this.opts;
    const ha = new HaNode({
      membership: this.membershipConfig(name, n.generation),
      media: n.media,
      keyring: this.keyring,
      innerAuth: false,
      clock,
      random: seededRandom(this.random.int(0, 2 ** 31)),
      log: {
        debug: log('debug'),
        info: log('info'),
        warn: log('warn'),
        error: log('error'),
        crit: log('crit'),
      },
      loadavg: () => '0.00 0.00 0.00 1/100 1',
      onInternalError: (where, e) =>
        this.internalErrors.push({ atMs: this.sched.nowMs, node: name, where, error: String(e) }),
      ...(o.mutations ? { mutations: o.mutations } : {}),
      ...(this.groups.length > 0
        ? {
            resources: {
              mode: o.mode ?? 'on',
              groups: this.groups,
              runner: this.runner(name, clock),
              ...(o.stonith ? { fencer: this.fencer(name, clock) } : {}),
              ...(o.takeoverWithoutFencing ? { takeoverWithoutFencing: true } : {}),
              stopRetryMax: o.stopRetryMax ?? 2,
              stopRetryDelayMs: 1000,
              fenceDeadlineMs: o.fenceDeadlineMs ?? 5000,
            },
          }
        : {}),
    });
    n.ha = ha;
    ha.onEvent((e) => {
      this.events.push({ atMs: this.sched.nowMs, node: name, event: e });
      this.onNodeEvent?.(name, e);
    });
    ha.onDeliver((d: Delivered) => this.deliveries.push({ atMs: this.sched.nowMs, node: name, ...d }));
    ha.start();
  }

  /** The node's view of a medium, with the simulator's eyes on it: pause gate, wire checks. */
  private simMedium(name: string, index: number, gate: Gate, inner: Medium): Medium {
    const sim = this;
    return {
      name: inner.name,
      kind: inner.kind,
      link: inner.link,
      frameFormat: inner.frameFormat,
      open: (signal) => inner.open(signal),
      close: () => inner.close(),
      send(frame: Uint8Array): Promise<void> {
        if (index === 0) sim.observeSent(name, frame);
        return inner.send(frame);
      },
      async *frames(): AsyncIterable<ReceivedFrame> {
        for await (const f of inner.frames()) {
          // SIGSTOP: frames wait in the socket buffer until the process runs again.
          while (gate.frozen) await gate.wait();
          sim.observeReceived(name, f);
          yield f;
        }
      },
    };
  }

  private decode(bytes: Uint8Array): Message | undefined {
    const r = decodeFrame(bytes, this.keyring);
    return r.outcome === 'ok' ? r.message : undefined;
  }

  /** The generation (`hg`) and seq of an authentic frame that has them. */
  frameId(bytes: Uint8Array): { generation: number; seq: number } | undefined {
    const msg = this.decode(bytes);
    const hg = msg ? getString(msg, 'hg') : undefined;
    const seq = msg ? getString(msg, 'seq') : undefined;
    if (hg === undefined || seq === undefined) return undefined;
    return { generation: Number.parseInt(hg, 16), seq: Number.parseInt(seq, 16) };
  }

  /** Every frame a node sends: sequence numbers of one generation must leave in order. */
  private observeSent(name: string, bytes: Uint8Array): void {
    let ring = this.captured.get(name);
    if (!ring) {
      ring = [];
      this.captured.set(name, ring);
    }
    ring.push(bytes);
    if (ring.length > 200) ring.splice(0, 100);
    const msg = this.decode(bytes);
    if (!msg) return;
    const seqText = getString(msg, 'seq');
    const hg = getString(msg, 'hg');
    const record = (rexmit: boolean): void => {
      if (this.recordWire) this.wire.push({ atMs: this.sched.nowMs, from: name, msg, rexmit });
    };
    if (seqText === undefined || hg === undefined) {
      record(false);
      return;
    }
    const seq = Number.parseInt(seqText, 16);
    const frameKey = `${name}/${hg}/${seqText}`;
    if (!this.firstSent.has(frameKey)) {
      this.firstSent.set(frameKey, this.sched.nowMs);
      if (this.firstSent.size > 50_000) {
        let drop = 25_000;
        for (const k of this.firstSent.keys()) {
          if (drop-- <= 0) break;
          this.firstSent.delete(k);
        }
      }
    }
    const key = `${name}/${hg}`;
    let s = this.sentSeqs.get(key);
    if (!s) {
      s = { max: 0, seen: new Set() };
      this.sentSeqs.set(key, s);
    }
    record(seq <= s.max && s.seen.has(seq));
    if (seq > s.max) {
      s.max = seq;
      s.seen.add(seq);
    } else if (!s.seen.has(seq)) {
      this.wireViolations.push({
        atMs: this.sched.nowMs,
        invariant: 'send-order',
        detail: `${name} sent seq ${seq} (${getString(msg, 't') ?? '?'}) after seq ${s.max}`,
      });
      s.seen.add(seq);
    }
  }

  private observeReceived(name: string, f: ReceivedFrame): void {
    const msg = this.decode(f.bytes);
    if (!msg || getString(msg, 't') !== 'status') return;
    const from = getString(msg, 'src') ?? '';
    const hgText = getString(msg, 'hg') ?? '';
    const hg = Number.parseInt(hgText, 16);
    this.heard.push({
      atMs: this.sched.nowMs,
      node: name,
      from,
      generation: hg,
      sentAtMs: this.firstSent.get(`${from}/${hgText}/${getString(msg, 'seq') ?? ''}`) ?? Number.NaN,
    });
    if (this.heard.length > 20_000) this.heard.splice(0, 10_000);
  }

  /** SIGKILL of the daemon; with `machine`, the whole machine dies and its resources with it. */
  kill(name: string, opts: { machine?: boolean } = {}): void {
    const n = this.node(name);
    if (n.alive) {
      this.sched.cancelOwner(this.owner(n));
      this.sched.thaw(this.owner(n));
      n.ha?.stop();
      for (const m of n.media) void m.close();
      n.gate.open();
      n.alive = false;
      n.frozen = false;
    }
    if (opts.machine) {
      this.machines.on(name).clear();
      this.sched.cancelOwner(`${name}@machine`);
      for (const k of [...this.leftBehind.keys()]) if (k.startsWith(`${name}:`)) this.leftBehind.delete(k);
    }
  }

  /** SIGSTOP: nothing runs; frames addressed to it wait in its socket buffers. */
  freeze(name: string): void {
    const n = this.node(name);
    if (!n.alive || n.frozen) return;
    n.frozen = true;
    n.gate.frozen = true;
    this.sched.freeze(this.owner(n));
  }

  /** SIGCONT: like Node's event loop, expired timers run before the buffered frames. */
  thaw(name: string): void {
    const n = this.node(name);
    if (!n.alive || !n.frozen) return;
    n.frozen = false;
    this.sched.thaw(this.owner(n));
    this.sched.runExpired(this.owner(n));
    n.gate.open();
  }

  /** A message from the layer above on `name`. */
  send(name: string, msg: Message): void {
    const n = this.node(name);
    if (n.alive && !n.frozen) n.ha?.send(msg);
  }

  /** Cut or restore medium `link` between two nodes, both directions (or a → b with `oneWay`). */
  cut(a: string, b: string, link: number, cut = true, oneWay = false): void {
    const segment = this.opts.media[link]!;
    this.net.setFaults({ segment, from: a, to: b }, { cut });
    if (!oneWay) this.net.setFaults({ segment, from: b, to: a }, { cut });
  }

  loss(a: string, b: string, link: number, probability: number): void {
    const segment = this.opts.media[link]!;
    this.net.setFaults({ segment, from: a, to: b }, { loss: probability });
    this.net.setFaults({ segment, from: b, to: a }, { loss: probability });
  }

  /**
   * An attacker (or a looping switch) on the first medium sends authentic frames captured
   * earlier. They must change nothing: replays of this generation and frames of an older one
   * are dropped by the membership core.
   */
  async replay(frames: readonly Uint8Array[]): Promise<void> {
    if (!this.#replayer) {
      const segment = this.opts.media[0]!;
      this.#replayer = memoryMedium(this.net, {
        node: 'replayer',
        segment,
        frameFormat: segment.startsWith('/dev/') ? 'classic' : 'netstring',
      });
      await this.#replayer.open();
    }
    for (const f of frames) await this.#replayer.send(f);
  }

  /** Step one node's wall clock (NTP, an operator): must change nothing. */
  jumpWallClock(name: string, deltaMs: number): void {
    this.sched.stepWall(name, deltaMs);
  }

  // ---- operators

  standby(name: string, set: ResourceSet): void {
    const n = this.node(name);
    if (n.alive && !n.frozen && n.ha) n.requests.push(n.ha.standby(set));
  }

  takeover(name: string, set: ResourceSet): void {
    const n = this.node(name);
    if (n.alive && !n.frozen && n.ha) n.requests.push(n.ha.takeover(set));
  }

  /** `tsbeat stop`: resources released, shutdone sent; the daemon then exits (after a linger). */
  shutdown(name: string): void {
    const n = this.node(name);
    if (!n.alive || n.frozen || !n.ha) return;
    const ha = n.ha;
    const incarnation = n.incarnation;
    void ha.shutdown().then((done) => {
      if (!done || n.incarnation !== incarnation || !n.alive) return;
      n.shutdownComplete = true;
      // The daemon keeps heartbeating a moment so the peers hear the shutdone, then exits.
      this.sched.clockFor(this.owner(n), name).setTimeout(() => {
        if (n.incarnation === incarnation && n.alive) this.kill(name);
      }, 1000);
    });
  }

  // ---- time

  /** Run until virtual time `untilMs`: frames and timers in time order. */
  async runUntil(untilMs: number, afterStep?: () => void): Promise<void> {
    for (;;) {
      await settle();
      afterStep?.();
      const timerAt = this.sched.nextDueAtMs();
      const frameAt = this.net.nextDueAtMs() ?? Number.POSITIVE_INFINITY;
      const next = Math.min(timerAt, frameAt);
      if (next > untilMs) {
        this.sched.nowMs = Math.max(this.sched.nowMs, untilMs);
        return;
      }
      this.sched.nowMs = Math.max(this.sched.nowMs, next);
      if (frameAt <= timerAt) this.net.deliverDue(this.sched.nowMs);
      else this.sched.runOne();
    }
  }

  runFor(ms: number, afterStep?: () => void): Promise<void> {
    return this.runUntil(this.sched.nowMs + ms, afterStep);
  }

  // ---- simulated agents and fencing

  private agentBehaviour(node: string, spec: string, action: 'start' | 'stop' | 'status'): AgentBehaviour {
    const k = `${node}:${spec}`;
    if (this.hang.has(k)) return 'hang';
    if (action === 'start' && this.failStart.has(k)) return 'fail';
    if (action === 'stop' && this.failStop.has(k) && this.machines.on(node).has(spec)) return 'fail';
    return 'ok';
  }

  private runner(node: string, clock: TimerClock): ResourceRunnerPort {
    const machineClock = this.sched.clockFor(`${node}@machine`, node);
    return {
      run: (resource: ResourceConfig, action, _signal): Promise<ResourceOpResult> => {
        const spec = resource.spec;
        const k = `${node}:${spec}`;
        const here = this.machines.on(node);
        const timedOut: ResourceOpResult =
          action === 'status' ? { rc: 1, running: false, unknown: true } : { rc: 1 };
        const until = this.leftBehind.get(k);
        // An action left behind past its deadline: every further one is refused (runner.ts).
        if (until !== undefined && until > this.sched.nowMs) return Promise.resolve(timedOut);
        const behaviour = this.agentBehaviour(node, spec, action);
        const timeoutMs = this.opts.agentTimeoutMs ?? 2000;
        if (behaviour === 'hang') {
          const hangMs = timeoutMs + 1000 + this.random.int(0, 5000);
          this.leftBehind.set(k, this.sched.nowMs + hangMs);
          // The hung action completes some time after its deadline, on the machine.
          machineClock.setTimeout(() => {
            if (action === 'start') here.add(spec);
            else if (action === 'stop') here.delete(spec);
          }, hangMs);
          return new Promise((resolve) => clock.setTimeout(() => resolve(timedOut), timeoutMs));
        }
        const ms = this.opts.opMs ?? 50;
        return new Promise((resolve) =>
          clock.setTimeout(() => {
            switch (action) {
              case 'status':
                resolve({ rc: here.has(spec) ? 0 : 3, running: here.has(spec) });
                return;
              case 'start':
                if (behaviour === 'fail') {
                  resolve({ rc: 1 });
                  return;
                }
                here.add(spec);
                resolve({ rc: 0 });
                return;
              case 'stop':
                if (behaviour === 'fail') {
                  resolve({ rc: 1 });
                  return;
                }
                here.delete(spec);
                resolve({ rc: 0 });
                return;
            }
          }, ms),
        );
      },
    };
  }

  private fencer(node: string, clock: TimerClock): Fencer {
    return {
      configured: true,
      fence: (target) => {
        if (this.fenceHangs) return new Promise<boolean>(() => {});
        const works = this.fenceWorks;
        return new Promise<boolean>((resolve) =>
          clock.setTimeout(
            () => {
              if (works && this.fenceWorks) {
                this.fenced.push({ atMs: this.sched.nowMs, by: node, node: target });
                // A reset machine runs nothing, and its daemon is gone.
                this.kill(target, { machine: true });
                const boot = this.rebootAfterFenceMs;
                if (boot !== undefined)
                  this.sched.clockFor('world', target).setTimeout(() => {
                    if (!this.node(target).alive) void this.start(target);
                  }, boot);
                resolve(true);
              } else resolve(false);
            },
            (this.opts.fenceMs ?? 1000) + this.fenceExtraMs,
          ),
        );
      },
    };
  }

  // ---- what tests and invariants look at

  holds(name: string): string {
    const o = this.ha(name).ownership;
    return o ? holdWord(o.iHold) : 'none';
  }

  rscstatus(name: string): string {
    const o = this.ha(name).ownership;
    return o ? rscStatus(o) : 'none';
  }

  /** Nodes on which any resource of group `key` runs. */
  whereGroup(key: string): string[] {
    const g = this.groups.find((x) => x.key === key);
    if (!g) return [];
    return this.opts.nodes.filter((n) => g.resources.some((r) => this.machines.on(n).has(r.spec)));
  }

  /** Groups running on each node, sorted: what an operator would see with ip addr / ps. */
  where(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const n of this.opts.nodes)
      out[n] = this.groups
        .filter((g) => g.resources.some((r) => this.machines.on(n).has(r.spec)))
        .map((g) => g.key)
        .sort();
    return out;
  }

  logOf(node: string): string[] {
    return this.log.filter((l) => l.node === node).map((l) => l.msg);
  }

  /** Message types a node put on the wire, with their resource fields, for protocol traces. */
  trace(node?: string): string[] {
    return this.wire
      .filter((w) => node === undefined || w.from === node)
      .map((w) => {
        const t = getString(w.msg, 't') ?? '';
        if (t === 'status' || t.startsWith('NS_') || t === 'reqnodes' || t === 'repnodes') return '';
        const extra = ['rsc_hold', 'isstable', 'info', 'ipaddr', 'dest', 'result']
          .map((k) => [k, getString(w.msg, k)] as const)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${v}`);
        return `${w.from} ${t}${extra.length ? ` ${extra.join(' ')}` : ''}`;
      })
      .filter(Boolean);
  }

  /** Events of one kind, optionally on one node. */
  eventsOf<K extends MembershipEvent['kind']>(
    kind: K,
    node?: string,
  ): (SimEvent & { event: Extract<MembershipEvent, { kind: K }> })[] {
    return this.events.filter(
      (e) => e.event.kind === kind && (node === undefined || e.node === node),
    ) as (SimEvent & { event: Extract<MembershipEvent, { kind: K }> })[];
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

  /** Stop everything (a test's end): no timer of this simulation fires again. */
  close(): void {
    for (const n of this.nodes.values()) this.kill(n.name);
  }
}

/** A one-resource group named like its key; a shared-storage key gets a Filesystem resource. */
function simpleGroup(node: string, key: string, shared: readonly string[] | undefined): ResourceGroupConfig {
  const script = shared?.includes(key) ? 'Filesystem' : key;
  return { node, key, resources: [{ spec: key, script, args: [] }] };
}
