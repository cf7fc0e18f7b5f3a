// Part: the resource ownership protocol of heartbeat 3.0.6's v1 resource manager
// (heartbeat/hb_resource.c; shared spec heartbeat-rm-cli.md §5, heartbeat-wire.md §8):
// starting/resource negotiation, takeover of a dead or departing peer, the ask_resources
// standby hand-over (hb_standby, hb_takeover, auto failback), legacy ip-request, shutdown.
//
// Deterministic and free of I/O, like the membership core: membership events, cluster
// messages, operator commands, finished work and time come in; messages to send, resource
// work for the executor, typed events (worded by src/node/words.ts) and the next wake-up go out.
//
// The state is explicit: `phase` (OwnershipPhase) is heartbeat's resourcestate with the data
// valid only in it: the settle deadline only while `rscrcvd`, a standby exchange only while
// `stable` after comm-up, what to take back only while `shutdown`. So some rules hold by
// construction: a shutdown is never both queued and running, no standby runs before comm-up
// or while shutting down, and comm-up always leaves `init` behind.
//
// Invariants, asserted after every step (checkInvariants; a violation is a bug of this core,
// which the node shell reports as an internal error of the resource layer; the fault campaign
// runs every seed with these checks on):
//  1. work ids are unique and increasing: every id in flight is below `nextWorkId`;
//  2. legacy mode (auto_failback legacy) negotiates nothing and holds nothing: it is never in
//     `starting`, `bothstarting` or `rscrcvd`, never has a standby exchange, and `iHold` is
//     0 (what it last asked of each group, `intent`, says where the group runs);
//  3. a node that is shutting down (nice_failback) claims nothing and never says it is
//     stable: takeovers, standby acquisitions and the start-up settle are refused meanwhile;
//  4. a shutdown release is in flight only in the `shutdown` phase, at most one;
//  5. a queued shutdown waits for work in flight: there is some;
//  6. the peer of a standby exchange (`other`: the requester) is a configured peer that is
//     neither dead nor departed (a death or a shutdone cancels the exchange);
//  7. the local node is never among the dead, departed or fenced peers;
//  8. handover, stuck, recovery, intent, ip-request and fence-retry entries, and what a
//     shutdown would take back, name configured groups and nodes.

import type { AutoFailback } from '../config/model.js';
import { assert } from '../lib/assert.js';
import {
  ALL,
  FOREIGN,
  type Holdings,
  holdWord,
  LOCAL,
  mirror,
  type OutMessage,
  type OwnershipEvent,
  parseHold,
  type StandbyPhase,
  type WorkItem,
  type WorkPurpose,
  type WorkResult,
} from './model.js';

export interface OwnershipConfig {
  readonly localNode: string;
  /** All normal nodes, ha.cf order. The protocol's local/foreign classes are two-node concepts. */
  readonly nodes: readonly string[];
  readonly mode: AutoFailback;
  /** Resource groups in haresources order: key, preferred node, and whether it guards shared storage. */
  readonly groups: readonly {
    readonly key: string;
    readonly node: string;
    readonly sharedStorage?: boolean;
  }[];
  /**
   * Take over shared-storage groups (drbddisk, Filesystem...) of a dead peer even when it
   * could not be fenced. heartbeat does (with a warning); tsbeat refuses unless this is set.
   */
  readonly takeoverWithoutFencing?: boolean;
  /** A STONITH device is configured (the fence hook runs before takeover). */
  readonly stonith: boolean;
  /** heartbeat's RQSTDELAY: both nodes started together, nobody stable. */
  readonly rqstDelayMs?: number;
  /** No `other` within this time: "No reply to standby request". */
  readonly standbyReplyMs?: number;
  /** A standby transfer may take this long. */
  readonly standbyTransferMs?: number;
  /** How long a standby requester that says it is stable has to send its `done`. */
  readonly standbyAbandonMs?: number;
  /** Auto failback is retried this often while its conditions are not met. */
  readonly failbackRetryMs?: number;
  /** heartbeat hands a group whose start failed to the peer after 30 s. */
  readonly startFailureHandoverMs?: number;
  /** A failed STONITH reset is retried after this long. */
  readonly fenceRetryMs?: number;
  /** A group left failed or stuck here is started or stopped again this often. */
  readonly recoverRetryMs?: number;
  /** Process id for heartbeat's "shutdown in progress (PID)" line. */
  readonly pid?: number;
  /**
   * A deliberate bug, only for the test that proves the simulator catches it
   * (test/sim/mutations.test.ts): take a dead peer's groups over while its fence still runs.
   */
  readonly mutationTakeoverBeforeFence?: boolean;
}

export type OwnershipInput =
  /** Comm-up; `heard`: the peers the membership layer has heard from by then. */
  | { readonly kind: 'commUp'; readonly heard?: readonly string[] }
  | { readonly kind: 'peerDead'; readonly node: string; readonly everHeard: boolean }
  | { readonly kind: 'peerRestart'; readonly node: string }
  /** A peer's membership status changed (init, up, active, dead). */
  | { readonly kind: 'peerStatus'; readonly node: string; readonly status: string }
  | { readonly kind: 'partitionHealed'; readonly node: string }
  | { readonly kind: 'message'; readonly from: string; readonly fields: Readonly<Record<string, string>> }
  /** hb_standby SET on this node. */
  | { readonly kind: 'standby'; readonly set: 'all' | 'local' | 'foreign' | 'failback' }
  /** hb_takeover SET on this node. */
  | { readonly kind: 'takeover'; readonly set: 'all' | 'local' | 'foreign' | 'failback' }
  | { readonly kind: 'shutdown' }
  | { readonly kind: 'workDone'; readonly result: WorkResult }
  | { readonly kind: 'tick' };

export interface OwnershipOutput {
  readonly send: OutMessage[];
  readonly work: WorkItem[];
  /** What happened, as data, in order: the shell words each event (src/node/words.ts). */
  readonly events: OwnershipEvent[];
  /** Shutdown finished (resources released, shutdone sent): the daemon may exit. */
  readonly shutdownComplete: boolean;
  /** The operator's standby/takeover request: was it sent? (for the CLI) */
  readonly requestAccepted?: { readonly accepted: boolean; readonly message: string };
  readonly wakeAtMs: number;
}

interface PendingWork {
  readonly item: WorkItem;
  readonly standbySet?: Holdings;
  /** For a standby release: what this node held of the set, taken back if a stop fails. */
  readonly heldBefore?: Holdings;
  readonly requester?: string;
}

/**
 * The standby exchange (heartbeat's going_standby; ask_resources me, other, done), seen from
 * this node. The step names are heartbeat's, as its log lines print them. `set` is always in
 * the requester's words (`local` = the requester's own groups).
 */
export type StandbyExchange =
  /** We asked to give `set` up (hb_standby, a failed start, auto failback); the peer has until `deadlineMs` to answer `other`. */
  | { readonly step: 'me'; readonly set: Holdings; readonly deadlineMs: number }
  /** The peer agreed: we release `set`, then wait for the taker's `done` until `deadlineMs`. */
  | { readonly step: 'done'; readonly set: Holdings; readonly deadlineMs: number }
  /**
   * `requester` gives `set` up to us: we take it on its `done`, and end on our own `done`.
   * `requesterStable`: it said it is stable since, so the wait for its `done` is short.
   */
  | {
      readonly step: 'other';
      readonly set: Holdings;
      readonly requester: string;
      readonly deadlineMs: number;
      readonly requesterStable?: boolean;
    };

/**
 * Where this node is in the resource protocol: heartbeat's resourcestate (hb_resource.c) with
 * the data valid only in each. `shutdownQueued`: a `tsbeat stop` came while resource work was
 * in flight; it starts when that work is done, whatever the phase has become meanwhile.
 */
export type OwnershipPhase =
  /** Before comm-up: heartbeat has not registered its resource handlers; nothing negotiated. */
  | { readonly kind: 'init'; readonly shutdownQueued: boolean }
  /**
   * nice_failback after comm-up, negotiating the start-up: we said `starting` (and heard the
   * peer's, `bothstarting`), and wait for a resource announcement.
   */
  | { readonly kind: 'starting' | 'bothstarting'; readonly shutdownQueued: boolean }
  /** An announcement came: at `settleAtMs` (RQSTDELAY) we settle if the peer has not said it is stable. */
  | { readonly kind: 'rscrcvd'; readonly settleAtMs: number; readonly shutdownQueued: boolean }
  /**
   * Negotiated (legacy mode negotiates nothing: comm-up brings it here). Only here can a
   * standby exchange run.
   */
  | {
      readonly kind: 'stable';
      readonly commUp: true;
      readonly standby: StandbyExchange | undefined;
      readonly shutdownQueued: boolean;
    }
  /** A shutdown before comm-up was aborted (a group would not stop): holding again, nothing negotiated. */
  | { readonly kind: 'stable'; readonly commUp: false; readonly shutdownQueued: boolean }
  /**
   * Releasing everything (tsbeat stop), then gone (shutdone sent). What was held and asked for
   * before is kept: an aborted shutdown takes it back.
   */
  | {
      readonly kind: 'shutdown';
      readonly commUp: boolean;
      readonly heldBefore: Holdings;
      /** The groups this node last asked to run (legacy mode keeps no holdings). */
      readonly runningBefore: readonly string[];
    };

/**
 * The peer's last word about its resources. These are facts about what it said, independent
 * of our phase and of each other: `starting` clears `stable` but not `stableNow`, a death sets
 * `stable` and clears `stableNow`, so every combination occurs.
 */
export interface OtherView {
  /** What the peer last announced it holds, from its point of view. */
  holds: Holdings;
  /** heartbeat's other_is_stable: the peer finished its start-up or last transition. */
  stable: boolean;
  /** The peer's last full announcement said isstable=1 (it is not in a transition right now). */
  stableNow: boolean;
}

export interface OwnershipState {
  readonly cfg: OwnershipConfig;
  phase: OwnershipPhase;
  /** What this node holds (heartbeat's i_hold). */
  iHold: Holdings;
  readonly other: OtherView;
  // The rest are independent facts, valid in every phase, so not part of it: who is gone or
  // was heard, what is in flight, per-group and per-peer timers, and three flags: `tookOver`
  // and `failbackAtMs` (auto failback's bookkeeping: a takeover may happen while negotiating
  // and the failback waits until stable), `initialDone` (a once-per-life log line) and
  // `announcedStable` (the word we last said, whatever we are now).
  /** Peers currently considered alive / dead / gone after shutdone. */
  readonly deadPeers: Set<string>;
  readonly departedPeers: Set<string>;
  readonly everHeard: Set<string>;
  /** Membership status of each peer, as last reported. */
  readonly peerStatus: Map<string, string>;
  /** Deaths seen before comm-up, handled once comm-up comes. */
  readonly pendingDeaths: string[];
  /** Foreign groups were taken over (peer death or departure): auto failback may return them. */
  tookOver: boolean;
  failbackAtMs: number | undefined;
  /** Work handed to the executor and not finished yet, by id. */
  readonly inFlight: Map<number, PendingWork>;
  nextWorkId: number;
  /** "Initial resource acquisition complete" was said (once per life). */
  initialDone: boolean;
  /** Groups whose start failed here, with the time to hand their class over. */
  readonly handover: Map<string, number>;
  /** Groups that could not be stopped: this node keeps them (never run twice). */
  readonly stuck: Set<string>;
  /** Failed fencing, retried at this time (heartbeat: every 5 s, forever). */
  readonly fenceRetry: Map<string, number>;
  /**
   * Groups whose last start or stop here failed, with the time to try again: started again
   * if this node holds their class, stopped again if not (see recover()).
   */
  readonly recover: Map<string, number>;
  /** Legacy mode: groups a peer kept (its stop failed), asked for again at this time. */
  readonly reask: Map<string, number>;
  /** The isstable word of our last announcement. */
  announcedStable: boolean;
  /** Per peer: generation and highest seq of the resource announcements taken from it. */
  readonly lastAnnouncement: Map<string, { generation: number; seq: number }>;
  /** What this node last asked of each group: run it here (acquire) or not (release). */
  readonly intent: Map<string, 'run' | 'stop'>;
}

const DEFAULTS = {
  rqstDelayMs: 10_000,
  standbyReplyMs: 10_000,
  standbyTransferMs: 3_600_000,
  standbyAbandonMs: 3_000,
  failbackRetryMs: 1_000,
  startFailureHandoverMs: 30_000,
  fenceRetryMs: 5_000,
  recoverRetryMs: 30_000,
};

export function createOwnership(cfg: OwnershipConfig): OwnershipState {
  assert(cfg.nodes.includes(cfg.localNode), 'local node must be configured');
  return {
    cfg,
    phase: { kind: 'init', shutdownQueued: false },
    iHold: 0,
    other: { holds: 0, stable: false, stableNow: false },
    deadPeers: new Set(),
    departedPeers: new Set(),
    everHeard: new Set(),
    peerStatus: new Map(),
    pendingDeaths: [],
    tookOver: false,
    failbackAtMs: undefined,
    inFlight: new Map(),
    nextWorkId: 1,
    initialDone: false,
    handover: new Map(),
    stuck: new Set(),
    fenceRetry: new Map(),
    recover: new Map(),
    intent: new Map(),
    lastAnnouncement: new Map(),
    announcedStable: false,
    reask: new Map(),
  };
}

class Out {
  readonly send: OutMessage[] = [];
  readonly work: WorkItem[] = [];
  readonly events: OwnershipEvent[] = [];
  shutdownComplete = false;
  requestAccepted: { accepted: boolean; message: string } | undefined;
  readonly st: OwnershipState;
  readonly now: number;
  constructor(st: OwnershipState, now: number) {
    this.st = st;
    this.now = now;
  }
  emit(e: OwnershipEvent): void {
    this.events.push(e);
  }
  msg(...fields: (readonly [string, string])[]): void {
    this.send.push({ fields });
  }
}

const opt = (st: OwnershipState, k: keyof typeof DEFAULTS): number => st.cfg[k] ?? DEFAULTS[k];

/** Advance the ownership core by one input. */
export function ownershipStep(st: OwnershipState, input: OwnershipInput, nowMs: number): OwnershipOutput {
  const o = new Out(st, nowMs);
  switch (input.kind) {
    case 'commUp':
      for (const p of input.heard ?? []) st.everHeard.add(p);
      commUp(o);
      break;
    case 'peerDead':
      if (input.everHeard) st.everHeard.add(input.node);
      peerDead(o, input.node);
      break;
    case 'peerRestart':
      peerRestart(o, input.node);
      break;
    case 'peerStatus':
      st.peerStatus.set(input.node, input.status);
      if (input.status === 'up' || input.status === 'active') st.everHeard.add(input.node);
      break;
    case 'partitionHealed':
      partitionHealed(o, input.node);
      break;
    case 'message':
      st.everHeard.add(input.from);
      onMessage(o, input.from, input.fields);
      break;
    case 'standby':
      o.requestAccepted = requestStandby(o, input.set === 'failback' ? 'foreign' : input.set, 'operator');
      break;
    case 'takeover':
      o.requestAccepted = requestTakeover(o, input.set);
      break;
    case 'shutdown':
      shutdown(o);
      break;
    case 'workDone':
      workDone(o, input.result);
      break;
    case 'tick':
      break;
  }
  timers(o);
  // A double hold is resolved as soon as the peer's word is stable and this node is idle,
  // whatever input made it so: waiting for the next announcement left both nodes running a
  // group when this node was busy or asking for a standby at that moment (found by the fault
  // campaign, seed 330).
  const peer = alivePeers(st)[0];
  if (peer !== undefined && st.other.stableNow) resolveOverlap(o, peer, true);
  // Out of a transition we announced: say so, or a peer waiting for our stable word waits on
  // (found by the fault campaign: a standby ended without the taker's `done`).
  if (nice(st) && commUpSeen(st) && !shuttingDown(st) && !st.announcedStable && stableNow(st)) announce(o);
  checkInvariants(st);
  return {
    send: o.send,
    work: o.work,
    events: o.events,
    shutdownComplete: o.shutdownComplete,
    ...(o.requestAccepted ? { requestAccepted: o.requestAccepted } : {}),
    wakeAtMs: nextWake(st),
  };
}

/** The invariants listed at the top of this file, numbered as there. */
function checkInvariants(st: OwnershipState): void {
  const me = st.cfg.localNode;
  const p = st.phase;
  // 1.
  for (const id of st.inFlight.keys())
    assert(id < st.nextWorkId, `ownership: work id ${id} not below nextWorkId`);
  // 2.
  if (!nice(st)) {
    assert(!negotiating(st), `ownership: legacy mode in phase ${p.kind}`);
    assert(standbyOf(st) === undefined, 'ownership: a standby in legacy mode');
    assert(st.iHold === 0, `ownership: legacy mode holds ${holdWord(st.iHold)}`);
  }
  // 3.
  if (p.kind === 'shutdown' && nice(st)) {
    assert(st.iHold === 0, 'ownership: claims resources while shutting down');
    assert(!st.announcedStable, 'ownership: said it is stable while shutting down');
  }
  // 4.
  const releases = [...st.inFlight.values()].filter((w) => w.item.purpose === 'shutdownRelease').length;
  assert(
    releases <= (p.kind === 'shutdown' ? 1 : 0),
    `ownership: ${releases} shutdown release(s) in phase ${p.kind}`,
  );
  // 5.
  assert(
    p.kind === 'shutdown' || !p.shutdownQueued || busy(st),
    'ownership: a shutdown queued behind no work',
  );
  // 6.
  const standby = standbyOf(st);
  if (standby?.step === 'other') {
    const r = standby.requester;
    assert(r !== me && st.cfg.nodes.includes(r), `ownership: standby exchange with ${r}`);
    assert(!st.deadPeers.has(r) && !st.departedPeers.has(r), `ownership: standby exchange with ${r}, gone`);
  }
  // 7.
  assert(!st.deadPeers.has(me) && !st.departedPeers.has(me), 'ownership: the local node counted as gone');
  assert(!st.fenceRetry.has(me), 'ownership: fencing the local node');
  // 8.
  const keys = new Set(st.cfg.groups.map((g) => g.key));
  for (const k of st.handover.keys()) assert(keys.has(k), `ownership: handover of unknown group ${k}`);
  for (const k of st.stuck) assert(keys.has(k), `ownership: unknown group ${k} stuck`);
  for (const k of st.recover.keys()) assert(keys.has(k), `ownership: recovery of unknown group ${k}`);
  for (const k of st.intent.keys()) assert(keys.has(k), `ownership: intent for unknown group ${k}`);
  for (const k of st.reask.keys()) assert(keys.has(k), `ownership: ip-request again for unknown group ${k}`);
  for (const n of st.fenceRetry.keys())
    assert(st.cfg.nodes.includes(n), `ownership: fencing unknown node ${n}`);
  if (p.kind === 'shutdown')
    for (const k of p.runningBefore)
      assert(keys.has(k), `ownership: shutdown would restart unknown group ${k}`);
}

// ---------------------------------------------------------------------------------------
// Helpers

const nice = (st: OwnershipState): boolean => st.cfg.mode !== 'legacy';

/** Comm-up came: heartbeat registers its resource handlers then. */
function commUpSeen(st: OwnershipState): boolean {
  const p = st.phase;
  switch (p.kind) {
    case 'init':
      return false;
    case 'starting':
    case 'bothstarting':
    case 'rscrcvd':
      return true;
    case 'stable':
    case 'shutdown':
      return p.commUp;
  }
}

/** Where a `tsbeat stop` is: none asked, waiting for the work in flight, or releasing (then gone). */
export function shutdownStatus(st: OwnershipState): 'none' | 'queued' | 'running' {
  if (st.phase.kind === 'shutdown') return 'running';
  return st.phase.shutdownQueued ? 'queued' : 'none';
}

const shuttingDown = (st: OwnershipState): boolean => st.phase.kind === 'shutdown';

/** nice_failback's start-up negotiation is under way. */
function negotiating(st: OwnershipState): boolean {
  const k = st.phase.kind;
  return k === 'starting' || k === 'bothstarting' || k === 'rscrcvd';
}

/** The standby exchange in progress, if any (only in the stable phase). */
export function standbyOf(st: OwnershipState): StandbyExchange | undefined {
  const p = st.phase;
  return p.kind === 'stable' && p.commUp ? p.standby : undefined;
}

function setStandby(st: OwnershipState, standby: StandbyExchange | undefined): void {
  const p = st.phase;
  if (p.kind === 'stable' && p.commUp) st.phase = { ...p, standby };
  else assert(standby === undefined, `ownership: a standby exchange in phase ${p.kind}`);
}

/** heartbeat's going_standby word for the exchange in progress. */
function standbyPhase(st: OwnershipState): StandbyPhase {
  return standbyOf(st)?.step ?? 'not';
}

/** The node that asked to go standby. */
function requesterOf(st: OwnershipState, s: StandbyExchange): string {
  return s.step === 'other' ? s.requester : st.cfg.localNode;
}

type RunningPhase = Exclude<OwnershipPhase, { kind: 'shutdown' }>;
type Entered = RunningPhase extends infer P ? (P extends unknown ? Omit<P, 'shutdownQueued'> : never) : never;

/** Move to a phase other than shutdown: a queued shutdown stays queued. */
function enter(st: OwnershipState, next: Entered): void {
  const queued = st.phase.kind !== 'shutdown' && st.phase.shutdownQueued;
  st.phase = { ...next, shutdownQueued: queued } as RunningPhase;
}

/** The stable phase after comm-up, keeping a standby exchange in progress. */
function enterStable(st: OwnershipState): void {
  enter(st, { kind: 'stable', commUp: true, standby: standbyOf(st) });
}

function peers(st: OwnershipState): string[] {
  return st.cfg.nodes.filter((n) => n !== st.cfg.localNode);
}

function alivePeers(st: OwnershipState): string[] {
  return peers(st).filter((p) => !st.deadPeers.has(p) && !st.departedPeers.has(p));
}

/** Group keys of class `h`, relative to node `relativeTo` (LOCAL = its own groups). */
function keysOf(st: OwnershipState, h: Holdings, relativeTo: string = st.cfg.localNode): string[] {
  return st.cfg.groups
    .filter((g) => (g.node === relativeTo ? (h & LOCAL) !== 0 : (h & FOREIGN) !== 0))
    .map((g) => g.key);
}

function keysOfNode(st: OwnershipState, node: string): string[] {
  return st.cfg.groups.filter((g) => g.node === node).map((g) => g.key);
}

type WorkRequest = WorkItem extends infer W ? (W extends unknown ? Omit<W, 'id'> : never) : never;

function schedule(o: Out, item: WorkRequest, extra: Omit<PendingWork, 'item'> = {}): WorkItem {
  const full = { ...item, id: o.st.nextWorkId++ } as WorkItem;
  if (full.kind !== 'fence') {
    for (const key of full.keys) {
      o.st.intent.set(key, full.kind === 'acquire' ? 'run' : 'stop');
      if (full.kind === 'acquire') o.st.reask.delete(key);
    }
  }
  o.st.inFlight.set(full.id, { item: full, ...extra });
  o.work.push(full);
  return full;
}

/** A fence runs or waits for its retry: the dead peer may still run anything. */
function fencing(st: OwnershipState): boolean {
  return st.fenceRetry.size > 0 || [...st.inFlight.values()].some((p) => p.item.kind === 'fence');
}

function busy(st: OwnershipState): boolean {
  return st.inFlight.size > 0;
}

function stableNow(st: OwnershipState): boolean {
  return st.phase.kind === 'stable' && !standbyOf(st) && !busy(st);
}

function announce(o: Out, info?: string): void {
  const st = o.st;
  if (!nice(st)) return;
  st.announcedStable = stableNow(st);
  const fields: [string, string][] = [
    ['t', 'resource'],
    ['rsc_hold', holdWord(st.iHold)],
    ['rtype', 'full'],
    // In transition (a standby hand-over, resource work running) heartbeat says 0.
    ['isstable', st.announcedStable ? '1' : '0'],
  ];
  if (info) fields.push(['info', info]);
  o.msg(...fields);
}

function initialDone(o: Out, reason: string): void {
  if (o.st.initialDone) return;
  o.st.initialDone = true;
  o.emit({ kind: 'initialAcquisitionDone', reason });
}

/** heartbeat's rscstatus: the holdings word, or `transition` while anything is in flux. */
export function rscStatus(st: OwnershipState): 'none' | 'local' | 'foreign' | 'all' | 'transition' {
  if (!nice(st)) return busy(st) ? 'transition' : 'none';
  const stable =
    (st.other.stable || alivePeers(st).length === 0) &&
    !busy(st) &&
    standbyOf(st) === undefined &&
    (st.phase.kind === 'stable' || st.phase.kind === 'shutdown' || st.phase.kind === 'init');
  return stable ? holdWord(st.iHold) : 'transition';
}

// ---------------------------------------------------------------------------------------
// Start-up

function commUp(o: Out): void {
  const st = o.st;
  if (commUpSeen(st)) return;
  // Stopped before the cluster came up (everything given up, shutdone sent): ask for nothing,
  // or the groups run here after the peer took them over on the shutdone (found by the fault
  // campaign, seed 5575).
  if (st.phase.kind === 'shutdown') {
    st.phase = { ...st.phase, commUp: true };
    return;
  }
  if (!nice(st)) {
    enter(st, { kind: 'stable', commUp: true, standby: undefined });
    // A peer already found dead is fenced (with STONITH) and then taken over, own groups
    // included: taking our groups first would run them while it may still hold them (found
    // by the fault campaign: a node rebooted after a fence, its peer unheard).
    if (st.pendingDeaths.length === 0) legacyRequestOwn(o, 'req_our_resources');
  } else {
    o.msg(['t', 'starting']);
    enter(st, { kind: 'starting' });
  }
  for (const p of st.pendingDeaths.splice(0)) peerDead(o, p);
}

/** req_our_resources: take the local groups (each through a self-granted ip-request-resp). */
function reqOurResources(o: Out): void {
  const st = o.st;
  if (shuttingDown(st)) return;
  const keys = keysOf(st, LOCAL);
  st.iHold = (st.iHold | LOCAL) as Holdings;
  if (keys.length === 0) {
    o.emit({ kind: 'noLocalResources', node: st.cfg.localNode });
    return;
  }
  for (const key of keys) {
    o.msg(
      ['t', 'ip-request-resp'],
      ['dest', st.cfg.localNode],
      ['ipaddr', key],
      ['weown', 'yes'],
      ['ok', 'OK'],
    );
  }
  schedule(o, { kind: 'acquire', purpose: 'reqOurResources', keys, skipIfKeyRunning: true });
}

// ---------------------------------------------------------------------------------------
// Messages

function onMessage(o: Out, from: string, f: Readonly<Record<string, string>>): void {
  const st = o.st;
  const me = st.cfg.localNode;
  const type = f['t'];
  // heartbeat registers its resource handlers at comm-up: earlier messages are lost to it
  // (the 10 s settle resolves the start-up). Only shutdone counts at any time.
  if (!commUpSeen(st) && type !== 'shutdone') return;
  switch (type) {
    case 'starting':
      if (from === me || !nice(st)) return;
      if (st.phase.kind === 'starting') enter(st, { kind: 'bothstarting' });
      st.other.stable = false;
      announce(o);
      return;
    case 'resource':
      if (!nice(st)) return;
      onResource(o, from, f);
      return;
    case 'ask_resources':
      onAskResources(o, from, f);
      return;
    case 'hb_takeover': {
      if (from === me) return;
      // The peer ran hb_takeover SET: we go standby with the complement (rc.d/hb_takeover).
      const set = f['rsc_hold'];
      const complement = set === 'local' ? 'foreign' : set === 'foreign' ? 'local' : 'all';
      requestStandby(o, complement, from);
      return;
    }
    case 'ip-request':
      if (from === me) return;
      onIpRequest(o, from, f['ipaddr'] ?? '');
      return;
    case 'ip-request-resp':
      onIpRequestResp(o, from, f);
      return;
    case 'shutdone':
      if (from === me) return;
      peerDeparted(o, from);
      return;
    default:
      return;
  }
}

/**
 * An announcement that left the peer before one already taken (membership delivers frames as
 * they come, like heartbeat, so a delayed copy can arrive after newer ones): its holdings and
 * stable word are out of date. Only with the frame's `hg`/`seq`; without them it is taken.
 */
function staleAnnouncement(st: OwnershipState, from: string, f: Readonly<Record<string, string>>): boolean {
  const generation = Number.parseInt(f['hg'] ?? '', 16);
  const seq = Number.parseInt(f['seq'] ?? '', 16);
  if (!Number.isFinite(generation) || !Number.isFinite(seq)) return false;
  const last = st.lastAnnouncement.get(from);
  if (last && (generation < last.generation || (generation === last.generation && seq < last.seq)))
    return true;
  st.lastAnnouncement.set(from, { generation, seq });
  return false;
}

function onResource(o: Out, from: string, f: Readonly<Record<string, string>>): void {
  const st = o.st;
  if (st.phase.kind === 'starting' || st.phase.kind === 'bothstarting')
    enter(st, { kind: 'rscrcvd', settleAtMs: o.now + opt(st, 'rqstDelayMs') });
  if (from === st.cfg.localNode) return;
  const hold = parseHold(f['rsc_hold']);
  if (hold === undefined) {
    o.emit({ kind: 'badRscHold', from, value: f['rsc_hold'] ?? '', message: 'resource' });
    return;
  }
  // Only full announcements carry the stable word; heartbeat's mach_down note (`rsc_hold`
  // foreign, no `isstable`) adds to the holdings and says nothing about stability.
  const full = f['isstable'] !== undefined;
  if (full && staleAnnouncement(st, from, f)) {
    // Found by the fault campaign (seed 158): a late "stable" word ended a standby exchange
    // the peer had started after sending it.
    o.emit({ kind: 'lateAnnouncement', from, seq: f['seq'] ?? '?' });
    return;
  }
  st.other.holds = f['rtype'] === 'full' || hold === 0 ? hold : ((st.other.holds | hold) as Holdings);
  const stable = f['isstable'] === '1';
  if (full) st.other.stableNow = stable;
  const standby = standbyOf(st);
  if (full && standby?.step === 'other' && standby.requester === from) {
    // A requester that stays stable is no longer in a standby (it aborted it: a group would
    // not stop, or it gave up waiting): heartbeat would wait an hour for its `done`, refusing
    // every other standby meanwhile (found by the fault campaign). But heartbeat 3.0.6 itself
    // announces "stable" right after its request and again just before its `done` (captured in
    // test/interop/compression.test.ts, within 70 ms of each other), so the stable word only
    // shortens the wait to standbyAbandonMs, and a word "in transition" restores it. Should a
    // `done` come after the cancellation, adoptReleased() takes the groups.
    if (stable && standby.requesterStable !== true)
      setStandby(st, {
        ...standby,
        requesterStable: true,
        deadlineMs: Math.min(standby.deadlineMs, o.now + opt(st, 'standbyAbandonMs')),
      });
    else if (!stable && standby.requesterStable === true)
      setStandby(st, {
        step: 'other',
        set: standby.set,
        requester: standby.requester,
        deadlineMs: o.now + opt(st, 'standbyTransferMs'),
      });
  }
  if (stable && standbyOf(st)?.step === 'done') {
    // We gave our groups up and wait for the taker's `done`; a taker that says it is stable
    // is in no exchange (it cancelled it, e.g. it thought us dead and took everything over):
    // waiting an hour kept us "in transition", and a double hold unresolved (seed 692).
    o.emit({ kind: 'standbyCancelled', why: 'peerStable', peer: from });
    setStandby(st, undefined);
    announce(o);
  }
  if (stable && !st.other.stable) {
    o.emit({ kind: 'remoteTransitionCompleted' });
    st.other.stable = true;
    announce(o);
  }
  resolveOverlap(o, from, stable);
  // The peer holds groups that prefer this node while this node holds them too: it resolves
  // that (releases them) only on a stable word of ours, which this node, unaware of any
  // trouble (it was frozen, not cut off), might never send. Found by the fault campaign.
  if (
    stable &&
    nice(st) &&
    st.phase.kind === 'stable' &&
    !busy(st) &&
    !standbyOf(st) &&
    (st.iHold & mirror(st.other.holds) & LOCAL) !== 0
  )
    announce(o);
  if (negotiating(st) && st.other.stable) {
    o.emit({ kind: 'remoteTransitionCompleted' });
    enterStable(st);
    if ((st.other.holds & FOREIGN) === 0) {
      reqOurResources(o);
    } else {
      st.iHold = (st.iHold | 0) as Holdings;
      o.emit({ kind: 'localAcquisitionCompleted', none: true });
    }
    announce(o);
    if (st.cfg.mode === 'off') initialDone(o, 'T_RESOURCES(them)');
  }
  // Only a stable announcement says what the peer holds for good: a departing or standby
  // peer announces "none, in transition" first, which is no reason for "No one owns foreign
  // resources!" (heartbeat logs nothing there).
  if (stable) audit(o);
}

/**
 * After a split brain (a partition, or a node restarted while cut off) both nodes may hold
 * the same groups. heartbeat only logs "Both machines own ... resources!" (and restarts on a
 * detected partition). tsbeat resolves it: the node a group does not prefer releases it.
 * Only on a stable announcement, so hand-overs in progress never trigger it.
 */
function resolveOverlap(o: Out, peer: string, peerStable: boolean): void {
  const st = o.st;
  if (!peerStable || st.phase.kind !== 'stable' || busy(st) || !nice(st)) return;
  const standby = standbyOf(st);
  if (standby && standby.step !== 'me') return;
  if ((st.iHold & mirror(st.other.holds) & FOREIGN) === 0) return;
  if (standby) {
    // Only asked, nothing given up yet: the double hold comes first. Should the peer still
    // answer `other`, it is ignored, and our stable word ends its wait.
    o.emit({ kind: 'standbyCancelled', why: 'overlap' });
    setStandby(st, undefined);
  }
  // Stuck groups too: another stop may work now, and if not, they stay stuck here with the
  // stop retried later (skipping them kept them running here for good, and in legacy mode
  // even restarted them; found by the fault campaign, seed 5186).
  const release = keysOfNode(st, peer);
  st.iHold = (st.iHold & ~FOREIGN) as Holdings;
  st.tookOver = false;
  if (release.length === 0) return;
  o.emit({ kind: 'overlapRelease', node: st.cfg.localNode, peer, keys: release });
  schedule(o, { kind: 'release', purpose: 'partitionRelease', keys: release, peer });
}

/** heartbeat's audit after each resource message, once both sides are stable. */
function audit(o: Out): void {
  const st = o.st;
  if (st.phase.kind !== 'stable' || !st.other.stable || busy(st) || standbyOf(st)) return;
  const theirs = mirror(st.other.holds);
  if ((st.iHold & theirs & LOCAL) !== 0 && keysOf(st, LOCAL).length > 0)
    o.emit({ kind: 'audit', finding: 'bothOwnOurs' });
  if ((st.iHold & theirs & FOREIGN) !== 0 && keysOf(st, FOREIGN).length > 0)
    o.emit({ kind: 'audit', finding: 'bothOwnForeign' });
  if (((st.iHold | theirs) & LOCAL) === 0 && keysOf(st, LOCAL).length > 0) {
    o.emit({ kind: 'audit', finding: 'noneOwnsOurs' });
    // heartbeat only logs this (hb_resource.c): a peer that held our groups and restarted
    // within deadtime was never dead to us, so nothing takes them and they run nowhere for
    // good (found by the fault campaign, seed 527). Both sides are stable and neither holds
    // them: their preferred node, this one, takes them.
    if (nice(st) && st.other.stableNow && !shuttingDown(st)) {
      o.emit({ kind: 'takingUnheldOwnGroups' });
      reqOurResources(o);
    }
  }
  if (((st.iHold | theirs) & FOREIGN) === 0 && keysOf(st, FOREIGN).length > 0)
    o.emit({ kind: 'audit', finding: 'noneOwnsForeign' });
}

// ---------------------------------------------------------------------------------------
// Standby (ask_resources me / other / done)

function secondsLeft(o: Out): number {
  const s = standbyOf(o.st);
  return s ? Math.max(0, Math.round((s.deadlineMs - o.now) / 1000)) : 0;
}

function requestStandby(
  o: Out,
  set: 'all' | 'local' | 'foreign',
  why: string,
): { accepted: boolean; message: string } {
  const st = o.st;
  if (!nice(st)) {
    o.emit({ kind: 'standbyNeedsNiceFailback' });
    return {
      accepted: false,
      message: 'Standby mode only implemented when nice_failback on (auto_failback is legacy)',
    };
  }
  if (shuttingDown(st)) return { accepted: false, message: 'shutdown in progress' };
  if (why === 'operator') o.emit({ kind: 'goingStandby', set });
  o.msg(['t', 'ask_resources'], ['rsc_hold', set], ['info', 'me']);
  return { accepted: true, message: `Going standby [${set}].` };
}

function requestTakeover(
  o: Out,
  set: 'all' | 'local' | 'foreign' | 'failback',
): { accepted: boolean; message: string } {
  const st = o.st;
  if (!nice(st)) {
    o.emit({ kind: 'standbyNeedsNiceFailback' });
    return {
      accepted: false,
      message: 'Standby mode only implemented when nice_failback on (auto_failback is legacy)',
    };
  }
  if (alivePeers(st).length === 0)
    return { accepted: false, message: 'no other node is up to hand resources over' };
  o.msg(['t', 'hb_takeover'], ['rsc_hold', set]);
  return { accepted: true, message: `asked the other node to give up [${set}]` };
}

function onAskResources(o: Out, from: string, f: Readonly<Record<string, string>>): void {
  const st = o.st;
  const me = st.cfg.localNode;
  const info = f['info'] ?? '';
  const set = parseHold(f['rsc_hold']);
  if (!nice(st)) {
    if (info === 'me') o.emit({ kind: 'standbyNeedsNiceFailback' });
    return;
  }
  if (set === undefined) {
    o.emit({ kind: 'badRscHold', from, value: f['rsc_hold'] ?? '', message: 'ask_resources' });
    return;
  }
  if (shuttingDown(st)) return;
  const phase = standbyPhase(st);
  const standby = standbyOf(st);
  switch (info) {
    case 'me': {
      if (phase !== 'not') {
        o.emit({ kind: 'standbyBusy', from, secondsLeft: secondsLeft(o) });
        return;
      }
      if (!st.other.stable && alivePeers(st).length > 0) {
        o.emit({ kind: 'standbyPeerInFlux', from });
        return;
      }
      if (st.phase.kind !== 'stable' || busy(st)) {
        o.emit({ kind: 'standbyLocalInFlux', from });
        return;
      }
      if (from !== me && st.deadPeers.has(from)) return;
      o.emit({ kind: 'wantsStandby', node: from, set: holdWord(set) });
      if (from === me) {
        setStandby(st, { step: 'me', set, deadlineMs: o.now + opt(st, 'standbyReplyMs') });
      } else {
        setStandby(st, {
          step: 'other',
          set,
          requester: from,
          deadlineMs: o.now + opt(st, 'standbyTransferMs'),
        });
        o.msg(['t', 'ask_resources'], ['rsc_hold', holdWord(set)], ['info', 'other']);
      }
      return;
    }
    case 'other': {
      if (from === me) return;
      if (standby?.step !== 'me') {
        o.emit({ kind: 'standbyMessageIgnored', from, info: 'other', phase });
        // The peer waits for our `done`: our stable word ends its wait (seed 1675: a request
        // cancelled here reached it only after the heal, after our last announcement).
        announce(o);
        return;
      }
      const s = standby;
      if (set !== s.set) {
        // The peer answers another request of ours (two crossed on the wire, out of order):
        // it waits for a `done` that will not come until our stable word ends its wait.
        o.emit({ kind: 'standbyAnswerMismatch', from, set: holdWord(set), asked: holdWord(s.set) });
        return;
      }
      o.emit({ kind: 'standbyPeerCanTake', peer: from, set: holdWord(s.set) });
      setStandby(st, { step: 'done', set: s.set, deadlineMs: o.now + opt(st, 'standbyTransferMs') });
      const heldBefore = (st.iHold & s.set) as Holdings;
      st.iHold = (st.iHold & ~s.set) as Holdings;
      announce(o, 'standby');
      o.emit({ kind: 'standbyGiveUp', set: holdWord(s.set) });
      schedule(
        o,
        { kind: 'release', purpose: 'standbyRelease', keys: keysOf(st, s.set) },
        { standbySet: s.set, requester: me, heldBefore },
      );
      return;
    }
    case 'done': {
      const s = standby;
      if (!s) {
        // The survivor of a departed peer sends `done` without a prior exchange; nothing to do.
        // But a peer that gave up `set` for us after we cancelled the exchange (it was frozen
        // and we thought it dead; its `done` came after it resumed) holds none of it now, and
        // waits for our `done`: take what nobody holds, or the groups run nowhere (found by the
        // fault campaign, seed 38).
        if (from !== me) adoptReleased(o, from, set);
        return;
      }
      if (from === me) {
        if (s.step !== 'other') {
          o.emit({ kind: 'standbyLocalCompleted', set: holdWord(s.set) });
        } else {
          o.emit({ kind: 'standbyAcquisitionDone', set: holdWord(s.set) });
          setStandby(st, undefined);
          announce(o);
          initialDone(o, 'auto_failback');
          tryFailbackLater(o);
        }
        return;
      }
      if (s.step !== 'other') {
        o.emit({ kind: 'standbyPeerCompletedTakeover', set: holdWord(s.set) });
        setStandby(st, undefined);
        if ((st.iHold & FOREIGN) === 0) st.tookOver = false;
        announce(o);
        return;
      }
      if (s.requester === from) {
        // We are the taker: acquire the groups the requester gave up (the same groups,
        // named from its side).
        const mine = mirror(s.set);
        o.emit({ kind: 'standbyAcquireFrom', peer: from, set: holdWord(s.set), mine: holdWord(mine) });
        st.iHold = (st.iHold | mine) as Holdings;
        schedule(
          o,
          {
            kind: 'acquire',
            purpose: 'standbyAcquire',
            keys: keysOf(st, s.set, from),
            skipIfKeyRunning: false,
          },
          { standbySet: s.set, requester: from },
        );
        return;
      }
      o.emit({ kind: 'standbyMessageIgnored', from, info: 'done', phase });
      return;
    }
    default:
      o.emit({ kind: 'standbyMessageIgnored', from, info, phase });
  }
}

/**
 * A standby `done` from a peer with no exchange in progress here: the peer released `set` (its
 * words) for us. Acquire the groups neither node claims, as the taker of the exchange would.
 */
function adoptReleased(o: Out, from: string, set: Holdings): void {
  const st = o.st;
  const mine = (mirror(set) & ~st.iHold) as Holdings;
  if (
    mine === 0 ||
    st.phase.kind !== 'stable' ||
    busy(st) ||
    st.deadPeers.has(from) ||
    st.departedPeers.has(from) ||
    (st.other.holds & set) !== 0
  )
    return;
  o.emit({ kind: 'standbyAdoptReleased', peer: from, set: holdWord(set) });
  st.iHold = (st.iHold | mine) as Holdings;
  schedule(
    o,
    { kind: 'acquire', purpose: 'standbyAcquire', keys: keysOf(st, mine), skipIfKeyRunning: false },
    { standbySet: mirror(mine), requester: from },
  );
}

// ---------------------------------------------------------------------------------------
// Peers going away and coming back

function peerDead(o: Out, node: string): void {
  const st = o.st;
  if (!commUpSeen(st)) {
    if (!st.pendingDeaths.includes(node)) st.pendingDeaths.push(node);
    st.deadPeers.add(node);
    return;
  }
  st.deadPeers.add(node);
  if (standbyOf(st)) {
    o.emit({ kind: 'standbyCancelled', why: 'peerGone' });
    setStandby(st, undefined);
  }
  if (st.departedPeers.has(node)) {
    // It said goodbye (shutdone) and we already took its groups.
    o.emit({ kind: 'deadNodeGaveUp', node });
    o.msg(['t', 'stonith'], ['node', node], ['result', 'unneeded']);
    return;
  }
  // heartbeat fences only a peer that held resources (or was never heard). With a STONITH
  // device tsbeat fences every dead peer before taking anything over: a peer that announced
  // "none" (both nodes still settling after a common start, or cut off right after a
  // hand-over) may be taking our groups at this very moment on the other side of a cut. The
  // fault campaign (src/sim/campaign.ts) found the double run heartbeat's rule allows.
  const needFence = st.cfg.stonith || !st.everHeard.has(node) || (nice(st) ? st.other.holds !== 0 : true);
  st.other.holds = 0;
  st.other.stable = true;
  st.other.stableNow = false;
  if (needFence && st.cfg.stonith) {
    schedule(o, { kind: 'fence', purpose: 'fence', node });
    if (st.cfg.mutationTakeoverBeforeFence === true) takeOver(o, node, 'mach_down');
    return;
  }
  let exclude: string[] = [];
  if (needFence) {
    o.emit({ kind: 'noStonith' });
    o.msg(['t', 'stonith'], ['node', node], ['result', 'n_stnth']);
    if (!st.cfg.takeoverWithoutFencing) {
      exclude = st.cfg.groups.filter((g) => g.node === node && g.sharedStorage).map((g) => g.key);
      for (const key of exclude) {
        o.emit({ kind: 'sharedStorageNotTaken', key, node });
      }
    }
  } else {
    o.emit({ kind: 'deadNodeGaveUp', node });
    o.msg(['t', 'stonith'], ['node', node], ['result', 'unneeded']);
  }
  takeOver(o, node, 'mach_down', exclude);
}

/** Take the groups of a dead or departed node, and make sure we hold our own. */
function takeOver(
  o: Out,
  node: string,
  reason: 'mach_down' | 'shutdone',
  exclude: readonly string[] = [],
): void {
  const st = o.st;
  if (shuttingDown(st)) {
    o.emit({ kind: 'takeoverCancelledByShutdown' });
    return;
  }
  assert(commUpSeen(st), 'ownership: a takeover before comm-up');
  o.emit({ kind: 'takeoverFrom', node });
  // Taking over ends the start-up negotiation (and its settle timer).
  if (st.phase.kind !== 'stable') enterStable(st);
  const theirs = keysOfNode(st, node).filter((k) => !exclude.includes(k));
  const own = (st.iHold & LOCAL) === 0 ? keysOf(st, LOCAL) : [];
  if (nice(st)) {
    st.iHold = (st.iHold |
      LOCAL |
      (theirs.length > 0 || st.cfg.nodes.length === 2 ? FOREIGN : 0)) as Holdings;
  }
  st.tookOver = true;
  const keys = [...own, ...theirs];
  if (own.length > 0) {
    for (const key of own) {
      o.msg(
        ['t', 'ip-request-resp'],
        ['dest', st.cfg.localNode],
        ['ipaddr', key],
        ['weown', 'yes'],
        ['ok', 'OK'],
      );
    }
  }
  schedule(o, {
    kind: 'acquire',
    purpose: reason === 'mach_down' ? 'machDown' : 'shutdownAcquire',
    keys,
    skipIfKeyRunning: true,
    peer: node,
  });
}

function peerDeparted(o: Out, node: string): void {
  const st = o.st;
  o.emit({ kind: 'shutdownNotice', node });
  st.departedPeers.add(node);
  st.other.holds = 0;
  st.other.stable = true;
  st.other.stableNow = false;
  if (standbyOf(st)) {
    o.emit({ kind: 'standbyCancelled', why: 'peerGone' });
    setStandby(st, undefined);
  }
  if (!commUpSeen(st)) return;
  if (nice(st)) {
    const missing = (ALL & ~st.iHold) as Holdings;
    if (missing !== 0) o.msg(['t', 'ask_resources'], ['rsc_hold', holdWord(missing)], ['info', 'done']);
  }
  takeOver(o, node, 'shutdone');
}

/**
 * Still negotiating the start-up (`starting`...) when a peer we had found dead comes back:
 * our `starting`, and the peer's, may have gone into the cut. Say it again, or both wait for
 * each other for good (found by the fault campaign, seed 6385).
 */
function restartNegotiation(o: Out): void {
  const st = o.st;
  if (!nice(st) || !negotiating(st)) return;
  o.msg(['t', 'starting']);
}

function peerRestart(o: Out, node: string): void {
  const st = o.st;
  st.fenceRetry.delete(node);
  const wasGone = st.deadPeers.delete(node) || st.departedPeers.delete(node);
  st.other.stable = false;
  st.other.stableNow = false;
  st.other.holds = 0;
  // Tell the returning node what we hold: if a split brain left both holding the same
  // groups (e.g. it restarted while cut off), the stable announcements resolve it.
  if (wasGone && st.phase.kind === 'stable' && st.phase.commUp) announce(o);
  if (wasGone) restartNegotiation(o);
  // Legacy mode announces nothing that could resolve it: release the groups the returning
  // peer prefers (it asks for them with ip-request anyway, or holds them already after a
  // split brain). Found by the fault campaign.
  if (wasGone && commUpSeen(st) && !nice(st) && !shuttingDown(st)) {
    const release = keysOfNode(st, node);
    if (release.length > 0)
      schedule(o, { kind: 'release', purpose: 'partitionRelease', keys: release, peer: node });
    // Our own groups were never asked for (the peer was found dead at comm-up and its fence
    // had not succeeded): ask now that it is back.
    if (!st.initialDone) legacyRequestOwn(o, 'peer returned');
  }
}

/**
 * Both sides of a healed partition may run the same groups. heartbeat makes both nodes
 * release everything and restart (a ~20 s outage). tsbeat keeps service running: both
 * re-announce what they hold, and resolveOverlap() makes the node a doubly-held group does not
 * prefer release it once the peer's stable announcement proves the overlap. Releasing on the
 * heal itself, without that proof, left a group on no node when the peer had given it up
 * meanwhile (hb_standby across the cut; found by the fault campaign).
 */
function partitionHealed(o: Out, node: string): void {
  const st = o.st;
  st.deadPeers.delete(node);
  st.departedPeers.delete(node);
  o.emit({ kind: 'partitionReturn', node });
  if (!commUpSeen(st)) return;
  st.other.stable = false;
  st.other.stableNow = false;
  st.other.holds = 0;
  if (nice(st)) {
    announce(o);
    restartNegotiation(o);
    return;
  }
  // Legacy mode announces nothing: release the groups the peer prefers, as it keeps its own.
  const release = keysOfNode(st, node);
  if (release.length > 0) {
    o.emit({ kind: 'partitionRelease', node, keys: release });
    schedule(o, { kind: 'release', purpose: 'partitionRelease', keys: release, peer: node });
  }
  // And ask for our own, which the peer releases on its side: a node that never took them
  // (the peer was dead and unfenced at its comm-up) left them on no node (seed 1983).
  if (!shuttingDown(st)) legacyRequestOwn(o, 'partition healed', true);
}

// ---------------------------------------------------------------------------------------
// Legacy mode (auto_failback legacy): ip-request / ip-request-resp

function legacyRequestOwn(o: Out, reason: string, peerHeard = false): void {
  const st = o.st;
  const keys = keysOf(st, LOCAL);
  if (keys.length === 0) {
    o.emit({ kind: 'noLocalResources', node: st.cfg.localNode });
    return;
  }
  // heartbeat asks for its groups when another node is `active`, else takes them itself.
  // A peer heard just now (a healed partition) may run them: ask it, whatever its status says.
  // So may a peer not `active` yet at our comm-up: it may still be taking them over after
  // fencing us (found by the fault campaign, seed 2008).
  // Any peer heard and not known dead may: ask (again every 2 s while unanswered, until the
  // groups run here; a peer that dies meanwhile is taken over, our groups with its own).
  const othersActive =
    peerHeard ||
    alivePeers(st).some(
      (p) => st.peerStatus.get(p) === 'active' || st.peerStatus.get(p) === 'up' || st.everHeard.has(p),
    );
  for (const key of keys) {
    if (othersActive) {
      askFor(o, key);
    } else {
      o.msg(
        ['t', 'ip-request-resp'],
        ['dest', st.cfg.localNode],
        ['ipaddr', key],
        ['weown', 'yes'],
        ['ok', 'OK'],
      );
    }
  }
  if (!othersActive) {
    schedule(o, { kind: 'acquire', purpose: 'legacyAcquire', keys, skipIfKeyRunning: true });
    initialDone(o, reason);
  }
}

/** Legacy ip-request for `key`, asked again later until the group is acquired here. */
function askFor(o: Out, key: string): void {
  o.msg(['t', 'ip-request'], ['ipaddr', key]);
  // A peer whose resource layer is not up yet drops the request: ask again soon.
  o.st.reask.set(key, o.now + LEGACY_REASK_MS);
}

const LEGACY_REASK_MS = 2_000;

function onIpRequest(o: Out, from: string, key: string): void {
  const st = o.st;
  if (!st.cfg.groups.some((g) => g.key === key)) return;
  schedule(o, { kind: 'release', purpose: 'legacyRelease', keys: [key], peer: from });
}

function onIpRequestResp(o: Out, from: string, f: Readonly<Record<string, string>>): void {
  const st = o.st;
  if (f['dest'] !== st.cfg.localNode) return;
  const key = f['ipaddr'] ?? '';
  if (from === st.cfg.localNode) return; // self-granted: the acquisition is already scheduled
  if (shuttingDown(st)) return;
  if (!st.cfg.groups.some((g) => g.key === key)) return;
  o.emit({ kind: 'ipRequestResp', key, ok: f['ok'] ?? '', weown: f['weown'] ?? '' });
  if (f['ok'] === 'NO') {
    // The peer could not stop it (tsbeat's answer for a stuck group): it still runs there
    // (found by the fault campaign, seed 5996: taken anyway, it ran on both).
    o.emit({ kind: 'peerKeeps', peer: from, key });
    st.reask.set(key, o.now + opt(st, 'recoverRetryMs'));
    return;
  }
  schedule(o, { kind: 'acquire', purpose: 'legacyAcquire', keys: [key], skipIfKeyRunning: false });
  initialDone(o, 'ip-request-resp');
}

// ---------------------------------------------------------------------------------------
// Shutdown

function shutdown(o: Out): void {
  const st = o.st;
  const p = st.phase;
  if (p.kind === 'shutdown') return;
  if (busy(st)) {
    if (!p.shutdownQueued) o.emit({ kind: 'shutdownDelayed' });
    st.phase = { ...p, shutdownQueued: true };
    return;
  }
  // A standby exchange in progress ends here: the shutdone tells the peer.
  st.phase = {
    kind: 'shutdown',
    commUp: commUpSeen(st),
    heldBefore: st.iHold,
    runningBefore: [...st.intent].filter(([, v]) => v === 'run').map(([k]) => k),
  };
  o.emit({ kind: 'shutdownInProgress', pid: st.cfg.pid ?? 0 });
  if (nice(st)) {
    st.iHold = 0;
    announce(o, 'shutdown');
  }
  o.emit({ kind: 'givingUpAll' });
  schedule(o, { kind: 'release', purpose: 'shutdownRelease', keys: st.cfg.groups.map((g) => g.key) });
}

// ---------------------------------------------------------------------------------------
// Work results

function workDone(o: Out, r: WorkResult): void {
  const st = o.st;
  const pending = st.inFlight.get(r.id);
  if (!pending) return;
  st.inFlight.delete(r.id);
  const item = pending.item;
  // A group stays stuck only until a later stop or start of it settles without a stop
  // failure: keeping a stale mark made resolveOverlap skip a group that could be released,
  // and both nodes ran it (found by the fault campaign, seed 50).
  if (item.kind !== 'fence') {
    for (const key of item.keys) {
      if (!r.stopFailed.includes(key)) st.stuck.delete(key);
      if (!r.stopFailed.includes(key) && !r.startFailed.includes(key)) st.recover.delete(key);
    }
  }
  for (const key of r.stopFailed) {
    st.stuck.add(key);
    st.recover.set(key, o.now + opt(st, 'recoverRetryMs'));
  }
  for (const key of r.startFailed) {
    o.emit({ kind: 'startFailed', key });
    st.handover.set(key, o.now + opt(st, 'startFailureHandoverMs'));
    if (!r.stopFailed.includes(key))
      st.recover.set(key, o.now + opt(st, 'startFailureHandoverMs') + opt(st, 'recoverRetryMs'));
  }
  switch (item.purpose) {
    case 'reqOurResources':
      o.emit({ kind: 'localAcquisitionCompleted', none: false });
      announce(o, 'req_our_resources()');
      initialDone(o, st.cfg.mode === 'off' || st.tookOver ? 'T_RESOURCES(them)' : 'T_RESOURCES(us)');
      break;
    case 'machDown':
    case 'shutdownAcquire':
      if (nice(st)) {
        announce(o, 'req_our_resources()');
        o.msg(['t', 'resource'], ['rsc_hold', 'foreign'], ['info', 'mach_down']);
      }
      o.emit({ kind: 'machDownComplete', node: 'peer' in item ? (item.peer ?? '') : '' });
      initialDone(o, 'mach_down');
      break;
    case 'standbyRelease': {
      const set = pending.standbySet ?? 0;
      if (r.stopFailed.length > 0) {
        // Never hand over what still runs here: keep it, cancel the standby.
        // Hold again what was held of the set, plus the class of what could not be stopped;
        // claiming the whole set took the peer's groups too (found by the fault campaign,
        // seed 194).
        let hold = (st.iHold | (pending.heldBefore ?? set)) as Holdings;
        for (const key of r.stopFailed) {
          const g = st.cfg.groups.find((x) => x.key === key);
          if (g) hold = (hold | (g.node === st.cfg.localNode ? LOCAL : FOREIGN)) as Holdings;
        }
        const held = ((pending.heldBefore ?? set) & set) as Holdings;
        st.iHold = hold;
        setStandby(st, undefined);
        o.emit({ kind: 'standbyAborted', set: holdWord(set), keys: r.stopFailed });
        // The class is held again: start again its groups that did stop, or they run nowhere
        // (found by the fault campaign, seed 594).
        const restart = keysOf(st, held).filter((k) => !r.stopFailed.includes(k));
        if (restart.length > 0)
          schedule(o, {
            kind: 'acquire',
            purpose: 'standbyAbortAcquire',
            keys: restart,
            skipIfKeyRunning: true,
          });
        else announce(o);
        break;
      }
      o.emit({ kind: 'standbyReleaseCompleted', set: holdWord(set) });
      o.msg(['t', 'ask_resources'], ['rsc_hold', holdWord(set)], ['info', 'done']);
      break;
    }
    case 'standbyAcquire': {
      const set = pending.standbySet ?? 0;
      o.emit({ kind: 'standbyAcquisitionCompleted', set: holdWord(mirror(set)) });
      o.msg(['t', 'ask_resources'], ['rsc_hold', holdWord(set)], ['info', 'done']);
      break;
    }
    case 'shutdownRelease': {
      const stopping = st.phase;
      assert(stopping.kind === 'shutdown', `ownership: a shutdown release done in phase ${stopping.kind}`);
      if (r.stopFailed.length > 0) {
        st.phase = stopping.commUp
          ? { kind: 'stable', commUp: true, standby: undefined, shutdownQueued: false }
          : { kind: 'stable', commUp: false, shutdownQueued: false };
        o.emit({ kind: 'shutdownAborted', keys: r.stopFailed });
        if (!nice(st)) {
          // Legacy mode: start again what ran here before, the peer was never told otherwise;
          // not the groups of a live peer, which asks for them (ip-request) and may hold them
          // already (found by the fault campaign, seed 797).
          const alive = alivePeers(st);
          const restart = stopping.runningBefore.filter((k) => {
            const g = st.cfg.groups.find((x) => x.key === k);
            return !r.stopFailed.includes(k) && g !== undefined && !alive.includes(g.node);
          });
          // A stuck group a live peer prefers is still to be stopped here (retried later);
          // claiming it kept both running it (seed 6363).
          for (const key of r.stopFailed) {
            const g = st.cfg.groups.find((x) => x.key === key);
            if (g !== undefined && !alive.includes(g.node)) st.intent.set(key, 'run');
          }
          if (restart.length > 0)
            schedule(o, {
              kind: 'acquire',
              purpose: 'shutdownAbortAcquire',
              keys: restart,
              skipIfKeyRunning: true,
            });
          break;
        }
        // Hold again what was held before, plus the class of what could not be stopped, and
        // start again the groups of it that were stopped: claiming a class whose groups are
        // down left them on no node (found by the fault campaign).
        // Not what a live peer claims meanwhile: it took its groups on our shutdown word
        // (found by the fault campaign, seed 7951).
        const peerClaims = alivePeers(st).length > 0 ? mirror(st.other.holds) : 0;
        const before = (stopping.heldBefore & ~peerClaims) as Holdings;
        let hold = before;
        for (const key of r.stopFailed) {
          const g = st.cfg.groups.find((x) => x.key === key);
          const cls = g?.node === st.cfg.localNode ? LOCAL : FOREIGN;
          // A class the peer claims stays the peer's: the stuck group is stopped again later
          // (claiming the class restarted the peer's other groups here; seed 1352).
          if (g && (peerClaims & cls) === 0) hold = (hold | cls) as Holdings;
        }
        st.iHold = hold;
        const restart = keysOf(st, hold).filter((k) => !r.stopFailed.includes(k));
        if (restart.length > 0)
          schedule(o, {
            kind: 'acquire',
            purpose: 'shutdownAbortAcquire',
            keys: restart,
            skipIfKeyRunning: true,
          });
        else announce(o);
        break;
      }
      o.emit({ kind: 'allRelinquished' });
      o.msg(['t', 'shutdone'], ['st', 'dead']);
      o.shutdownComplete = true;
      break;
    }
    case 'legacyRelease': {
      if (item.kind === 'release' && item.peer) {
        const kept = r.stopFailed.length > 0;
        o.msg(
          ['t', 'ip-request-resp'],
          ['dest', item.peer],
          ['ipaddr', item.keys[0] ?? ''],
          ['weown', kept ? 'no' : 'yes'],
          ['ok', kept ? 'NO' : 'OK'],
        );
      }
      break;
    }
    case 'legacyAcquire':
      break;
    case 'shutdownAbortAcquire':
      announce(o);
      break;
    case 'partitionRelease':
      announce(o);
      break;
    case 'recoverAcquire':
    case 'recoverRelease':
    case 'standbyAbortAcquire':
      announce(o);
      break;
    case 'fence': {
      if (item.kind !== 'fence') break;
      if (r.fenced) {
        o.msg(['t', 'stonith'], ['node', item.node], ['result', 'OK']);
        takeOver(o, item.node, 'mach_down');
      } else {
        o.emit({ kind: 'fenceFailed', node: item.node });
        o.msg(['t', 'stonith'], ['node', item.node], ['result', 'bad']);
        st.fenceRetry.set(item.node, o.now + opt(st, 'fenceRetryMs'));
      }
      break;
    }
  }
  if (shutdownStatus(st) === 'queued' && !busy(st)) shutdown(o);
  // An overlap announced while this node was busy was not resolved then: look again now
  // that it is idle (found by the fault campaign: both nodes kept a group after a heal).
  const peer = alivePeers(st)[0];
  if (peer !== undefined && !busy(st) && st.other.stable) resolveOverlap(o, peer, true);
  tryFailbackLater(o);
}

// ---------------------------------------------------------------------------------------
// Timers

function tryFailbackLater(o: Out): void {
  const st = o.st;
  if (st.cfg.mode === 'on' && st.tookOver && (st.iHold & FOREIGN) !== 0 && st.failbackAtMs === undefined) {
    st.failbackAtMs = o.now;
  }
}

function timers(o: Out): void {
  const st = o.st;
  if (st.phase.kind === 'rscrcvd' && o.now >= st.phase.settleAtMs) {
    enterStable(st);
    o.emit({ kind: 'localTransitionCompleted' });
    // heartbeat takes its groups unconditionally here (both nodes started empty). If the
    // peer said it holds them, starting them too would run them twice: leave them there.
    // A peer found dead meanwhile and not fenced yet may hold them too (it took them over
    // while we were down): the takeover after its fence takes them (found by the fault
    // campaign, seed 917: the settle started them while the fence hung).
    if (fencing(st)) o.emit({ kind: 'localAcquisitionWaitsForFence' });
    else if ((st.other.holds & FOREIGN) === 0) reqOurResources(o);
    else o.emit({ kind: 'localAcquisitionCompleted', none: true });
    announce(o);
    if (keysOf(st, LOCAL).length === 0) initialDone(o, 'T_RESOURCES(us)');
  }
  const standby = standbyOf(st);
  if (standby && o.now >= standby.deadlineMs) {
    if (standby.step === 'me') o.emit({ kind: 'standbyCancelled', why: 'noReply' });
    else if (standby.step === 'other' && standby.requesterStable === true)
      o.emit({ kind: 'standbyCancelled', why: 'abandonedByPeer', peer: standby.requester });
    else o.emit({ kind: 'standbyCancelled', why: 'timedOut', peer: requesterOf(st, standby) });
    setStandby(st, undefined);
    // Out of transition again: say so, or a peer waiting for our stable word waits forever.
    announce(o);
  }
  for (const [node, at] of st.fenceRetry) {
    if (o.now < at) continue;
    st.fenceRetry.delete(node);
    if (st.deadPeers.has(node)) schedule(o, { kind: 'fence', purpose: 'fence', node });
  }
  // A group that failed to start here goes to the peer: a standby of its class. Groups of
  // both classes due together make one request (two at once are answered in either order).
  let handOver = 0;
  for (const [key, at] of st.handover) {
    if (o.now < at) continue;
    st.handover.delete(key);
    const g = st.cfg.groups.find((x) => x.key === key);
    if (!g || alivePeers(st).length === 0 || !nice(st)) continue;
    handOver |= g.node === st.cfg.localNode ? LOCAL : FOREIGN;
  }
  if (handOver !== 0)
    requestStandby(o, holdWord(handOver as Holdings) as 'all' | 'local' | 'foreign', 'start-failure');
  recover(o);
  for (const [key, at] of st.reask) {
    if (o.now < at) continue;
    st.reask.delete(key);
    if (!shuttingDown(st) && alivePeers(st).length > 0) askFor(o, key);
  }
  // Auto failback: give foreign groups back once their node is back and both are stable.
  if (st.failbackAtMs !== undefined && o.now >= st.failbackAtMs) {
    st.failbackAtMs = undefined;
    if (st.cfg.mode === 'on' && st.tookOver && (st.iHold & FOREIGN) !== 0 && !shuttingDown(st)) {
      const ready =
        st.phase.kind === 'stable' &&
        st.phase.commUp &&
        st.other.stable &&
        !standbyOf(st) &&
        !busy(st) &&
        alivePeers(st).length > 0;
      if (ready && alivePeers(st).some((p) => st.everHeard.has(p))) {
        o.msg(['t', 'ask_resources'], ['rsc_hold', 'foreign'], ['info', 'me']);
      } else {
        st.failbackAtMs = o.now + opt(st, 'failbackRetryMs');
      }
    }
  }
}

/**
 * heartbeat v1 monitors no resource: a group whose start failed is stopped and, 30 s later,
 * handed to the peer with hb_standby (ResourceManager's acquireresourcegroup); a stop that
 * fails after HA_STOPRETRYMAX retries reboots the machine (RecoverFromFailedStop). tsbeat
 * never reboots: the group stays here (`stuck`, never handed over while it may run). So that
 * neither outcome is final once the agent works again, every such group is tried again: started
 * (left to right, skipping what runs) if this node holds its class, as the protocol says it
 * runs here; stopped if not. Only when nothing else is in flux, and again later until it works.
 */
function recover(o: Out): void {
  const st = o.st;
  const due = [...st.recover].filter(([, at]) => o.now >= at).map(([key]) => key);
  if (due.length === 0) return;
  const settled =
    commUpSeen(st) &&
    shutdownStatus(st) === 'none' &&
    !busy(st) &&
    !standbyOf(st) &&
    (st.phase.kind === 'stable' || !nice(st));
  const later = o.now + opt(st, 'recoverRetryMs');
  if (!settled) {
    for (const key of due) st.recover.set(key, later);
    return;
  }
  const start: string[] = [];
  const stop: string[] = [];
  for (const key of due) {
    st.recover.set(key, later);
    const g = st.cfg.groups.find((x) => x.key === key);
    if (!g) continue;
    // Legacy mode keeps no holdings: what this node last asked of the group says where it runs.
    const cls = g.node === st.cfg.localNode ? LOCAL : FOREIGN;
    const here = nice(st) ? (st.iHold & cls) !== 0 : st.intent.get(key) === 'run';
    (here ? start : stop).push(key);
  }
  if (start.length > 0) {
    o.emit({ kind: 'recoverStart', keys: start });
    schedule(o, { kind: 'acquire', purpose: 'recoverAcquire', keys: start, skipIfKeyRunning: false });
  }
  if (stop.length > 0) {
    o.emit({ kind: 'recoverStop', keys: stop });
    schedule(o, { kind: 'release', purpose: 'recoverRelease', keys: stop });
  }
}

function nextWake(st: OwnershipState): number {
  let at = Number.POSITIVE_INFINITY;
  if (st.phase.kind === 'rscrcvd') at = Math.min(at, st.phase.settleAtMs);
  const standby = standbyOf(st);
  if (standby) at = Math.min(at, standby.deadlineMs);
  if (st.failbackAtMs !== undefined) at = Math.min(at, st.failbackAtMs);
  for (const t of st.handover.values()) at = Math.min(at, t);
  for (const t of st.fenceRetry.values()) at = Math.min(at, t);
  for (const t of st.recover.values()) at = Math.min(at, t);
  for (const t of st.reask.values()) at = Math.min(at, t);
  return at;
}

/** For status views. */
export function ownershipSummary(st: OwnershipState): {
  state: OwnershipPhase['kind'];
  iHold: string;
  otherHolds: string;
  otherStable: boolean;
  standby: string;
  busy: boolean;
} {
  return {
    state: st.phase.kind,
    iHold: holdWord(st.iHold),
    otherHolds: holdWord(st.other.holds),
    otherStable: st.other.stable,
    standby: ((s) => (s ? `${s.step} [${holdWord(s.set)}] for ${requesterOf(st, s)}` : 'none'))(
      standbyOf(st),
    ),
    busy: busy(st),
  };
}

export type { WorkPurpose };
