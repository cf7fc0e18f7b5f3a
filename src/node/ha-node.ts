// Part: one heartbeat node: the membership core and the ownership core behind one input loop,
// the translation of membership events into ownership inputs, frame decoding/authentication
// and signing, the group executor and the fence decisions. Everything with a side effect is
// injected: media, a clock that sets timers, the agent runner and the fencer. The daemon
// (src/daemon/daemon.ts) gives it sockets, real timers and real agents; the simulator
// (src/sim/) gives it a virtual clock, in-memory media and simulated agents, so every seed
// runs this very code.
//
// Failure policy at this edge: a frame that fails to decode or authenticate is counted and
// reported (rate limited) and dropped; an exception in the membership core or in the node's
// own timer/receive handling is an internal error: it is handed to `onInternalError`, which
// fails the node over cleanly (see Daemon.failOver), and this node takes no further input.
// An exception in the resource layer or a listener is reported as `listener`: membership goes
// on (it is needed to hand the resources over) and the owner decides what it means.

import type { Keyring } from '../codec/auth/keyring.js';
import type { CompressionPolicy } from '../codec/compression.js';
import { type DecodeResult, decodeFrame, encodeClassicFrame, encodeNetstringFrame } from '../codec/frame.js';
import { getString, type Message, stringField } from '../codec/model.js';
import type { AutoFailback, ResourceGroupConfig } from '../config/model.js';
import { SHARED_STORAGE } from '../config/validate.js';
import type { GroupInfo, ResourceSet, RscStatusWord, StandbyResult } from '../ipc/view.js';
import type { TimerClock } from '../lib/clock.js';
import { printable } from '../lib/printable.js';
import type { Random } from '../lib/random.js';
import { RejectedInput } from '../lib/rejected.js';
import type { Medium } from '../media/medium.js';
import {
  createMembership,
  type NodeView,
  nodeViews,
  type PingNodeView,
  pingNodeViews,
  step,
} from '../membership/core.js';
import type {
  Delivered,
  Input,
  MembershipConfig,
  MembershipEvent,
  MembershipState,
  Output,
} from '../membership/model.js';
import { FOREIGN, LOCAL, mirror, type WorkItem, type WorkResult } from '../resources/model.js';
import {
  createOwnership,
  type OwnershipConfig,
  type OwnershipInput,
  type OwnershipOutput,
  type OwnershipState,
  ownershipStep,
  rscStatus,
  shutdownStatus,
} from '../resources/ownership.js';
import { type Fencer, GroupExecutor, type ResourceLog, type ResourceRunnerPort } from './group-executor.js';
import { wordMembershipEvent, wordOwnershipEvent } from './words.js';

export type { Fencer, ResourceLog, ResourceRunnerPort } from './group-executor.js';

/** The log port of a node: heartbeat's priorities, with optional structured fields. */
export interface NodeLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  crit(msg: string, fields?: Record<string, unknown>): void;
}

/** The resource side of a node: haresources and its executors. Absent: membership only. */
export interface HaNodeResources {
  readonly mode: AutoFailback;
  /** haresources, in file order. */
  readonly groups: readonly ResourceGroupConfig[];
  readonly runner: ResourceRunnerPort;
  readonly fencer?: Fencer;
  /** Take over shared-storage groups of a dead peer that could not be fenced (heartbeat does). */
  readonly takeoverWithoutFencing?: boolean;
  readonly stopRetryMax?: number;
  readonly stopRetryDelayMs?: number;
  /** A fence not answered after this long counts as failed. Default 300 s. */
  readonly fenceDeadlineMs?: number;
  /** Protocol timers, shortened in tests. */
  readonly timers?: Partial<
    Pick<
      OwnershipConfig,
      | 'rqstDelayMs'
      | 'standbyReplyMs'
      | 'failbackRetryMs'
      | 'startFailureHandoverMs'
      | 'fenceRetryMs'
      | 'recoverRetryMs'
    >
  >;
  /** Process id for heartbeat's "shutdown in progress (PID)" line. */
  readonly pid?: number;
}

/**
 * Deliberate bugs, for the tests that prove the simulator catches them (test/sim/mutations).
 * Never set outside those tests.
 */
export interface HaNodeMutations {
  /**
   * The send-ordering bug class: the resource layer runs before the frames of the step that
   * caused it are sent, and its sends are stepped at once (no input queue), so a later seq
   * leaves before an earlier one.
   */
  readonly listenersBeforeSends?: boolean;
  /** The membership core keeps frames of an older generation (replays of a previous run). */
  readonly acceptOldGeneration?: boolean;
  /** The ownership core takes a dead peer's groups over without waiting for its fence. */
  readonly takeoverBeforeFence?: boolean;
}

export interface HaNodeOptions {
  readonly membership: MembershipConfig;
  readonly media: readonly Medium[];
  readonly keyring: Keyring;
  /** ha.cf msgfmt classic: UDP frames carry the inner `auth` field too. */
  readonly innerAuth: boolean;
  /** ha.cf compression directives: which messages go out compressed (heartbeat's rules). */
  readonly compression?: CompressionPolicy;
  readonly clock: TimerClock;
  readonly random: Random;
  readonly log: NodeLog;
  /** The `ld` field (/proc/loadavg); default `n/a`. Must not block. */
  readonly loadavg?: () => string;
  /** Counts and reports rejected frames; the daemon shares one with the local API. */
  readonly rejected?: RejectedInput;
  /**
   * An exception escaped the handling of an input (`where`: 'timer', 'receive', 'send': the
   * node is broken and takes no more input) or the resource layer or a listener threw
   * (`where`: 'listener': the node goes on). Default: rethrow (tests); the daemon fails over.
   */
  readonly onInternalError?: (where: string, err: unknown) => void;
  /** Test-only fault injection (TSBEAT_TEST_FAULT): throw inside a timer or receive handler. */
  readonly faults?: { throwIn(where: 'timer' | 'receive'): boolean };
  readonly resources?: HaNodeResources;
  /**
   * Sends the ICMP echoes of the ping nodes (src/ping/); replies come back via pingReply().
   * Absent: ping nodes are never probed (they go dead after deadping).
   */
  readonly pinger?: { probe(host: string): void };
  /**
   * Called once per heartbeat (status message) this node sends, from the loop that sends it:
   * the watchdog's tickle, so a hung loop stops tickling (src/watchdog/).
   */
  readonly onHeartbeat?: () => void;
  readonly mutations?: HaNodeMutations;
}

export type DeliverListener = (d: Delivered) => void;
export type EventListener = (e: MembershipEvent) => void;
/** Resource work handed to the executor, and its result (observers: journal, metrics). */
export type WorkListener = (
  e:
    | { readonly phase: 'dispatch'; readonly item: WorkItem }
    | { readonly phase: 'done'; readonly item: WorkItem; readonly result: WorkResult },
) => void;

/** One entry of the node's input queue: for the membership core or the ownership core. */
type Queued =
  | { readonly core: 'membership'; readonly input: Input }
  | { readonly core: 'ownership'; readonly input: OwnershipInput };

/** The resource side, present when the node manages resources. */
interface ResourceSide {
  readonly cfg: HaNodeResources;
  readonly core: OwnershipState;
  readonly executor: GroupExecutor;
  timer: unknown;
  /** Closed (failover): the resource side takes no more input and says nothing more. */
  closed: boolean;
  shutdownWaiters: ((done: boolean) => void)[];
  lastRequest: StandbyResult | undefined;
}

export class HaNode {
  readonly state: MembershipState;
  private readonly opts: HaNodeOptions;
  private readonly loadavg: () => string;
  private timer: unknown;
  /** The last netstring frame sent, for recognising its echo (see ownEcho). */
  private lastSent: { bytes: Uint8Array; message: Message; keyring: Keyring } | undefined;
  private readonly deliverListeners: DeliverListener[] = [];
  private readonly eventListeners: EventListener[] = [];
  private readonly workListeners: WorkListener[] = [];
  readonly rejected: RejectedInput;
  /** The keys in force; SIGHUP may replace them (heartbeat re-reads a changed authkeys). */
  private keyring: Keyring;
  private closed = false;
  /**
   * Inputs not yet stepped. Whatever a step causes (the resource layer's messages, a
   * listener's send()) waits its turn here, so every frame of a step leaves before the frames
   * of the steps it caused: sequence numbers go out in order.
   */
  private readonly inputs: Queued[] = [];
  private stepping = false;
  private readonly rs: ResourceSide | undefined;

  constructor(opts: HaNodeOptions) {
    this.opts = opts;
    this.state = createMembership(
      opts.mutations?.acceptOldGeneration
        ? { ...opts.membership, mutationAcceptOldGeneration: true }
        : opts.membership,
      opts.random,
    );
    this.loadavg = opts.loadavg ?? (() => 'n/a');
    this.keyring = opts.keyring;
    this.rejected =
      opts.rejected ??
      new RejectedInput({
        nowMs: () => opts.clock.monotonicMs(),
        log: (level, line) => opts.log[level](line),
      });
    const r = opts.resources;
    if (r) {
      const m = opts.membership;
      const log = opts.log;
      const rlog: ResourceLog = {
        debug: (s) => log.debug(s),
        info: (s) => log.info(s),
        warn: (s) => log.warn(s),
        error: (s) => log.error(s),
        crit: (s) => log.crit(s),
      };
      this.rs = {
        cfg: r,
        core: createOwnership({
          localNode: m.localNode,
          nodes: m.nodes,
          mode: r.mode,
          groups: r.groups.map((g) => ({
            key: g.key,
            node: g.node,
            sharedStorage: g.resources.some((x) => SHARED_STORAGE.has(x.script)),
          })),
          stonith: r.fencer?.configured ?? false,
          ...(r.takeoverWithoutFencing ? { takeoverWithoutFencing: true } : {}),
          ...(r.pid !== undefined ? { pid: r.pid } : {}),
          ...(opts.mutations?.takeoverBeforeFence ? { mutationTakeoverBeforeFence: true } : {}),
          ...r.timers,
        }),
        executor: new GroupExecutor({
          groups: r.groups,
          runner: r.runner,
          ...(r.fencer ? { fencer: r.fencer } : {}),
          log: rlog,
          timers: opts.clock,
          ...(r.stopRetryMax !== undefined ? { stopRetryMax: r.stopRetryMax } : {}),
          ...(r.stopRetryDelayMs !== undefined ? { stopRetryDelayMs: r.stopRetryDelayMs } : {}),
          ...(r.fenceDeadlineMs !== undefined ? { fenceDeadlineMs: r.fenceDeadlineMs } : {}),
        }),
        timer: undefined,
        closed: false,
        shutdownWaiters: [],
        lastRequest: undefined,
      };
    }
  }

  onDeliver(l: DeliverListener): void {
    this.deliverListeners.push(l);
  }

  onEvent(l: EventListener): void {
    this.eventListeners.push(l);
  }

  onWork(l: WorkListener): void {
    this.workListeners.push(l);
  }

  /** Begin reading every medium and announce ourselves. Media must already be open. */
  start(): void {
    this.opts.media.forEach((m, i) => {
      this.readLoop(m, i).catch((e: unknown) => this.internalError('receive', e));
    });
    this.guarded('send', () => this.apply({ core: 'membership', input: { kind: 'start' } }));
  }

  /** A message from the layer above (standby requests, tests). */
  send(msg: Message): void {
    this.apply({ core: 'membership', input: { kind: 'send', msg } });
  }

  /** New authkeys (SIGHUP): frames from now on are signed and checked with them. */
  setKeyring(keyring: Keyring): void {
    this.keyring = keyring;
  }

  views(): NodeView[] {
    return nodeViews(this.state, this.opts.clock.monotonicMs());
  }

  pingViews(): PingNodeView[] {
    return pingNodeViews(this.state, this.opts.clock.monotonicMs());
  }

  /** An ICMP echo reply from one of the ping nodes' hosts (the pinger's answer). */
  pingReply(host: string): void {
    this.guarded('receive', () => this.apply({ core: 'membership', input: { kind: 'pingReply', host } }));
  }

  /** Whether the node stopped taking input (stopped, or broken by an internal error). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Stop timers, reading and the group machines; media are closed by their owner. */
  stop(): void {
    this.closed = true;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.inputs.length = 0;
    this.closeResources();
  }

  /** Stop the resource side only (failover: the daemon releases the groups itself). */
  closeResources(): void {
    const rs = this.rs;
    if (!rs) return;
    rs.closed = true;
    this.opts.clock.clearTimeout(rs.timer);
    rs.timer = undefined;
    rs.executor.close();
    for (const w of rs.shutdownWaiters.splice(0)) w(false);
  }

  // ---- the resource side, for the daemon's view and the operator

  /** The ownership core's state (read only: for views, tests and the simulator's checks). */
  get ownership(): OwnershipState | undefined {
    return this.rs?.core;
  }

  rscStatus(): RscStatusWord {
    return this.rs ? rscStatus(this.rs.core) : 'none';
  }

  groups(): GroupInfo[] {
    const rs = this.rs;
    if (!rs) return [];
    const me = this.opts.membership.localNode;
    const peerHolds = mirror(rs.core.other.holds);
    const alivePeer = this.opts.membership.nodes.find(
      (n) => n !== me && !rs.core.deadPeers.has(n) && !rs.core.departedPeers.has(n),
    );
    return rs.cfg.groups.map((g) => {
      const state = rs.executor.stateOf(g.key) ?? 'stopped';
      const cls = g.node === me ? LOCAL : FOREIGN;
      const runningOn =
        state === 'running' || state === 'stopFailed'
          ? me
          : alivePeer && (peerHolds & cls) !== 0
            ? alivePeer
            : undefined;
      return {
        key: g.key,
        preferredNode: g.node,
        resources: g.resources.map((r) => r.spec),
        runningOn,
        state,
      };
    });
  }

  standby(set: ResourceSet): StandbyResult {
    return this.operatorRequest({ kind: 'standby', set });
  }

  takeover(set: ResourceSet): StandbyResult {
    return this.operatorRequest({ kind: 'takeover', set });
  }

  private operatorRequest(input: OwnershipInput): StandbyResult {
    const rs = this.rs;
    if (!rs) return { accepted: false, message: 'this node manages no resources' };
    rs.lastRequest = undefined;
    this.apply({ core: 'ownership', input });
    return rs.lastRequest ?? { accepted: false, message: 'not handled' };
  }

  /** Release everything (file order) and send shutdone; resolves false if that was refused. */
  shutdown(): Promise<boolean> {
    const rs = this.rs;
    if (!rs) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      rs.shutdownWaiters.push(resolve);
      this.apply({ core: 'ownership', input: { kind: 'shutdown' } });
    });
  }

  /**
   * Test seam: a membership event or a delivered message as if the membership core had just
   * produced it, through the same translation (resource-side tests without a peer).
   */
  injectMembershipOutput(e: MembershipEvent | Delivered): void {
    if (this.closed) return;
    if ('kind' in e) this.translateEvent(e);
    else this.translateDelivery(e);
  }

  // ---- receiving

  private async readLoop(medium: Medium, link: number): Promise<void> {
    for await (const f of medium.frames()) {
      if (this.closed) return;
      let msg = this.ownEcho(f.bytes);
      if (msg === undefined) {
        let r: DecodeResult;
        try {
          r = decodeFrame(f.bytes, this.keyring);
        } catch (e) {
          // The codec returns values for bad input; a throw is a codec bug. The frame is
          // dropped like a malformed one: a peer must not be able to kill us with bytes.
          r = {
            outcome: 'malformed',
            reason: `decoder error: ${(e as Error).message}`,
            offsetBytes: 0,
            frame: undefined,
          };
        }
        if (r.outcome !== 'ok') {
          this.rejectFrame(r, f.from, medium.name);
          continue;
        }
        msg = r.message;
      }
      const received = msg;
      this.guarded('receive', () => {
        if (this.opts.faults?.throwIn('receive'))
          throw new Error('test fault: exception in the receive path');
        this.apply({ core: 'membership', input: { kind: 'frame', link, msg: received } });
      });
    }
  }

  /**
   * Our own last netstring frame, heard back on a broadcast or multicast medium: the message
   * we encoded it from, without decoding and authenticating it again. Only for the very
   * bytes we sent, signed with the keys still in force and not compressed, so decodeFrame
   * would return that same message (the codec's encode/decode identity); anything else,
   * replays of older frames included, takes the normal path.
   */
  private ownEcho(bytes: Uint8Array): Message | undefined {
    const own = this.lastSent;
    if (
      own === undefined ||
      own.keyring !== this.keyring ||
      bytes.length !== own.bytes.length ||
      Buffer.compare(bytes, own.bytes) !== 0
    )
      return undefined;
    return own.message;
  }

  private rejectFrame(r: Exclude<DecodeResult, { outcome: 'ok' }>, from: string, on: string): void {
    const where = `bad frame from ${from} on ${on}`;
    switch (r.outcome) {
      case 'badDigest':
        this.rejected.reject(
          'badAuth',
          from,
          `${where}: authentication failed (key ${r.authIndex}, ${r.method}): wrong key in authkeys?; dropped`,
        );
        return;
      case 'unknownKeyIndex':
        this.rejected.reject(
          'unknownKey',
          from,
          `${where}: signed with key ${r.authIndex}, which authkeys does not list; dropped`,
        );
        return;
      case 'noAuth':
        this.rejected.reject('noAuth', from, `${where}: no authentication; dropped`);
        return;
      default:
        this.rejected.reject('malformed', from, `${where}: malformed: ${printable(r.reason)}; dropped`);
    }
  }

  // ---- the input loop

  /** Run one input handler; an exception is an internal error of this node. */
  private guarded(where: 'timer' | 'receive' | 'send', fn: () => void): void {
    if (this.closed) return;
    try {
      fn();
    } catch (e) {
      this.internalError(where, e);
    }
  }

  private internalError(where: string, e: unknown): void {
    // Nothing more goes in: the state may be half-updated.
    this.stop();
    if (this.opts.onInternalError) this.opts.onInternalError(where, e);
    else throw e;
  }

  /**
   * Step a core with `q`, then with whatever that step caused. Inputs that arrive while a
   * step's output is being executed wait in the queue (see `inputs`).
   */
  private apply(q: Queued): void {
    if (this.closed) return;
    if (this.opts.mutations?.listenersBeforeSends && this.stepping && q.core === 'membership') {
      // The mutation: no queue for the layer above's messages.
      this.stepMembership(q.input);
      return;
    }
    this.inputs.push(q);
    if (this.stepping) return;
    this.stepping = true;
    try {
      for (let next = this.inputs.shift(); next !== undefined; next = this.inputs.shift()) {
        if (this.closed) return;
        if (next.core === 'membership') this.stepMembership(next.input);
        else this.stepOwnership(next.input);
      }
    } finally {
      this.stepping = false;
    }
  }

  private stepMembership(input: Input): void {
    const env = {
      monoMs: this.opts.clock.monotonicMs(),
      wallMs: this.opts.clock.wallMs(),
      loadavg: this.loadavg(),
    };
    this.executeMembership(step(this.state, input, env));
  }

  private executeMembership(out: Output): void {
    const lateSends = this.opts.mutations?.listenersBeforeSends === true;
    // Frames first: they carry the seqs this step assigned.
    if (!lateSends) for (const o of out.send) this.transmit(o.msg);
    const onHeartbeat = this.opts.onHeartbeat;
    if (onHeartbeat && out.send.some((o) => !o.rexmit && getString(o.msg, 't') === 'status')) onHeartbeat();
    const pinger = this.opts.pinger;
    if (pinger) for (const h of out.probes) pinger.probe(h);
    this.schedule(out.wakeAtMs);
    for (const e of out.events) {
      wordMembershipEvent(this.opts.log, this.rejected, e);
      this.callListener(() => this.translateEvent(e));
      for (const l of this.eventListeners) this.callListener(() => l(e));
    }
    for (const d of out.deliver) {
      this.callListener(() => this.translateDelivery(d));
      for (const l of this.deliverListeners) this.callListener(() => l(d));
    }
    if (lateSends) for (const o of out.send) this.transmit(o.msg);
  }

  /** heartbeat's membership → resource hand-off (hb_resource.c's callbacks). */
  private translateEvent(e: MembershipEvent): void {
    if (!this.rs || this.rs.closed) return;
    switch (e.kind) {
      case 'commUp':
        this.stepOwnership({
          kind: 'commUp',
          heard: [...this.state.peers.values()].filter((p) => p.heard).map((p) => p.name),
        });
        return;
      case 'nodeDead':
        this.stepOwnership({
          kind: 'peerDead',
          node: e.node,
          everHeard: this.state.peers.get(e.node)?.heard ?? false,
        });
        return;
      case 'restart':
        this.stepOwnership({ kind: 'peerRestart', node: e.node });
        return;
      case 'nodeStatus':
        this.stepOwnership({ kind: 'peerStatus', node: e.node, status: e.to });
        // A node first heard after it was declared dead (initdead) is back too.
        if (e.from === 'dead' && e.to !== 'dead') this.stepOwnership({ kind: 'peerRestart', node: e.node });
        return;
      case 'partitionHealed':
        this.stepOwnership({ kind: 'partitionHealed', node: e.node });
        return;
      default:
        return;
    }
  }

  private translateDelivery(d: Delivered): void {
    if (!this.rs || this.rs.closed) return;
    const fields: Record<string, string> = {};
    for (const f of d.msg.fields) {
      if (f.kind === 'string' && !(f.name in fields)) fields[f.name] = getString(d.msg, f.name) ?? '';
    }
    this.stepOwnership({ kind: 'message', from: d.from, fields });
  }

  /**
   * The ownership core runs in line with the membership output that caused it (so log lines
   * keep heartbeat's interleaving); its messages go through the input queue.
   */
  private stepOwnership(input: OwnershipInput): void {
    const rs = this.rs;
    if (!rs || rs.closed || this.closed) return;
    let out: OwnershipOutput;
    try {
      out = ownershipStep(rs.core, input, this.opts.clock.monotonicMs());
    } catch (e) {
      this.resourceError(e);
      return;
    }
    this.executeOwnership(rs, out);
  }

  private resourceError(e: unknown): void {
    if (this.opts.onInternalError) this.opts.onInternalError('listener', e);
    else throw e;
  }

  private executeOwnership(rs: ResourceSide, out: OwnershipOutput): void {
    for (const e of out.events) wordOwnershipEvent(this.opts.log, e);
    if (out.requestAccepted) rs.lastRequest = out.requestAccepted;
    for (const m of out.send)
      this.apply({
        core: 'membership',
        input: { kind: 'send', msg: { fields: m.fields.map(([n, v]) => stringField(n, v)) } },
      });
    for (const w of out.work) {
      for (const l of this.workListeners) this.callListener(() => l({ phase: 'dispatch', item: w }));
      rs.executor.dispatch(w, (result) => {
        for (const l of this.workListeners) this.callListener(() => l({ phase: 'done', item: w, result }));
        this.apply({ core: 'ownership', input: { kind: 'workDone', result } });
      });
    }
    if (out.shutdownComplete) for (const w of rs.shutdownWaiters.splice(0)) w(true);
    if (shutdownStatus(rs.core) === 'none' && rs.shutdownWaiters.length > 0) {
      // The shutdown was refused (a resource would not stop): tell whoever waits.
      for (const w of rs.shutdownWaiters.splice(0)) w(false);
    }
    this.opts.clock.clearTimeout(rs.timer);
    rs.timer = undefined;
    if (Number.isFinite(out.wakeAtMs) && !this.closed) {
      const delay = Math.max(0, out.wakeAtMs - this.opts.clock.monotonicMs());
      rs.timer = this.opts.clock.setTimeout(
        () => this.apply({ core: 'ownership', input: { kind: 'tick' } }),
        Math.ceil(delay),
      );
    }
  }

  /**
   * A listener that throws is broken, not this node: membership goes on (it is needed to hand
   * the resources over), and the owner decides what the failure means.
   */
  private callListener(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (this.opts.onInternalError) this.opts.onInternalError('listener', e);
      else throw e;
    }
  }

  /**
   * Send one last message (shutdone) through a node that stopped after an internal error: the
   * core may still be able to build it, and a peer told at once takes over at once instead
   * of after deadtime. Best effort: false if the core cannot.
   */
  sendLastWords(msg: Message): boolean {
    try {
      const out = step(
        this.state,
        { kind: 'send', msg },
        {
          monoMs: this.opts.clock.monotonicMs(),
          wallMs: this.opts.clock.wallMs(),
          loadavg: 'n/a',
        },
      );
      for (const o of out.send) this.transmit(o.msg);
      return out.send.length > 0;
    } catch {
      return false;
    }
  }

  private transmit(msg: Message): void {
    const { innerAuth, compression, media, log } = this.opts;
    const keyring = this.keyring;
    let netstring: Uint8Array | undefined;
    let classic: Uint8Array | undefined;
    for (const m of media) {
      let bytes: Uint8Array | undefined;
      if (m.frameFormat === 'netstring') {
        if (!netstring) {
          const r = encodeNetstringFrame(msg, keyring, {
            innerAuth,
            ...(compression ? { compression } : {}),
          });
          if (!r.ok) {
            log.error(`cannot encode ${getString(msg, 't') ?? 'message'}: ${r.reason}`);
            return;
          }
          netstring = r.bytes;
          // A receiver checks a trailer with the method its index names (verificationKey):
          // only when that is the method we signed with does our echo decode as `message`.
          this.lastSent =
            r.compressed || keyring.keys.get(keyring.active.index)?.method !== keyring.active.method
              ? undefined
              : { bytes: r.bytes, message: r.message, keyring };
        }
        bytes = netstring;
      } else {
        if (!classic) {
          const r = encodeClassicFrame(msg, keyring);
          if (!r.ok) {
            log.error(`cannot encode ${getString(msg, 't') ?? 'message'} for a serial line: ${r.reason}`);
            continue;
          }
          classic = r.bytes;
        }
        bytes = classic;
      }
      m.send(bytes).catch((e: unknown) => log.error(`${m.name}: ${(e as Error).message}`));
    }
  }

  private schedule(wakeAtMs: number): void {
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || !Number.isFinite(wakeAtMs)) return;
    const delay = Math.max(0, wakeAtMs - this.opts.clock.monotonicMs());
    this.timer = this.opts.clock.setTimeout(this.onTimer, Math.ceil(delay));
  }

  /** One function for every arming of the membership timer, not a closure per step. */
  private readonly onTimer = (): void =>
    this.guarded('timer', () => {
      if (this.opts.faults?.throwIn('timer')) throw new Error('test fault: exception in a timer handler');
      this.apply({ core: 'membership', input: { kind: 'tick' } });
    });
}
