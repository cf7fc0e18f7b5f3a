// Part: the membership core's inputs, outputs and state (heartbeat's node/link status,
// sequence tracking, retransmission history). Pure data; no node:* imports.

import type { Message } from '../codec/model.js';
import type { Random } from '../lib/random.js';

/** What `cl_status nodestatus` prints for a normal node. */
export type NodeStatus = 'init' | 'up' | 'active' | 'dead';
export type LinkStatus = 'up' | 'dead';

/** Constants of heartbeat 3.0.6 that are protocol, not configuration. */
export const PROTOCOL = {
  /** Retransmission history kept by a sender (MAXMSGHIST). */
  historySize: 500,
  /** A gap larger than this resets sequence tracking ("lost a lot of packets!"). */
  maxMissing: 250,
  /** Seqs served per NS_rexmit request. */
  maxRexmitPerRequest: 50,
  /** ACK when seq % ackModulo equals the per-peer trigger (ACK_MSG_DIV). */
  ackModulo: 10,
  /** reqnodes is repeated this often until repnodes arrives. */
  reqnodesRetryMs: 1000,
  /** `dt` is advertised this much larger during the first seconds after start. */
  startupDeadtimeExtraMs: 2000,
  startupWindowMs: 5000,
  /** PROTOCOL_VERSION in status messages: its presence enables flow control. */
  version: '1',
} as const;

export interface MembershipConfig {
  readonly localNode: string;
  /** Normal nodes in ha.cf order, lowercased, including the local node. */
  readonly nodes: readonly string[];
  /** Heartbeat's link name of each medium, by medium index (device, or serial device path). */
  readonly links: readonly string[];
  readonly keepaliveMs: number;
  readonly deadtimeMs: number;
  readonly warntimeMs: number;
  readonly initdeadMs: number;
  readonly maxRexmitDelayMs: number;
  readonly hopfudge: number;
  /** This run's generation (`hg`), already incremented and persisted by the shell. */
  readonly generation: number;
  /** This node's persistent 16-byte uuid. */
  readonly uuid: Uint8Array;
  /** Grace given to each peer after the daemon itself was frozen; default 2 x keepalive. */
  readonly stallGraceMs?: number;
  /**
   * A deliberate bug, only for the test that proves the simulator catches it
   * (test/sim/mutations.test.ts): frames of an older generation are not dropped.
   */
  readonly mutationAcceptOldGeneration?: boolean;
}

/** The world as the core sees it at one step. */
export interface Env {
  /** Monotonic milliseconds: all timing. */
  readonly monoMs: number;
  /** Wall-clock milliseconds: only the `ts` field. */
  readonly wallMs: number;
  /** /proc/loadavg without newline, for the `ld` field. */
  readonly loadavg: string;
}

export type Input =
  /** Begin: announce ourselves (status init, then up). */
  | { readonly kind: 'start' }
  /** A frame that arrived on medium `link` and passed authentication. */
  | { readonly kind: 'frame'; readonly link: number; readonly msg: Message }
  /** The deadline the shell was asked to honour (or any other wake-up). */
  | { readonly kind: 'tick' }
  /** A message from the layer above (user fields only); the core adds the control fields. */
  | { readonly kind: 'send'; readonly msg: Message };

export interface Outbound {
  /** A complete message (control fields included); the shell signs and encodes it per medium. */
  readonly msg: Message;
  /** A retransmission of a message sent before (same seq and fields). */
  readonly rexmit?: true;
}

export type MembershipEvent =
  | { readonly kind: 'localStatus'; readonly status: 'init' | 'up' | 'active' }
  | { readonly kind: 'nodeStatus'; readonly node: string; readonly from: NodeStatus; readonly to: NodeStatus }
  | { readonly kind: 'nodeDead'; readonly node: string; readonly silentMs: number; readonly limitMs: number }
  | { readonly kind: 'linkStatus'; readonly node: string; readonly link: string; readonly status: LinkStatus }
  | {
      readonly kind: 'lateHeartbeat';
      readonly node: string;
      readonly intervalMs: number;
      readonly beyondDeadtime: boolean;
    }
  | { readonly kind: 'restart'; readonly node: string; readonly generation: number }
  | { readonly kind: 'partitionHealed'; readonly node: string }
  | { readonly kind: 'commUp' }
  | {
      readonly kind: 'lostPackets';
      readonly node: string;
      readonly count: number;
      readonly lastSeq: number;
      readonly seq: number;
    }
  | { readonly kind: 'tooManyLost'; readonly node: string; readonly count: number }
  | { readonly kind: 'noPacketsMissing'; readonly node: string }
  | { readonly kind: 'irretrievable'; readonly node: string; readonly seq: number; readonly info: string }
  /** A frame of an older generation than the node's current one (heartbeat: "attempted replay attack"). */
  | {
      readonly kind: 'oldGeneration';
      readonly node: string;
      readonly generation: number;
      readonly known: number;
    }
  /**
   * A frame of the current generation whose seq this link already delivered: a replay (or a
   * network duplicate). It refreshes nothing. Copies of one frame on different media are not
   * replays: each medium delivers every frame once.
   */
  | { readonly kind: 'replay'; readonly node: string; readonly seq: number; readonly link: string }
  | { readonly kind: 'badNode'; readonly src: string }
  | { readonly kind: 'badMessage'; readonly node: string; readonly reason: string }
  | { readonly kind: 'uuidChanged'; readonly node: string }
  | { readonly kind: 'flowControlDisabled'; readonly node: string }
  | { readonly kind: 'rexmitBeyondMax'; readonly node: string; readonly seq: number; readonly maxSeq: number }
  | { readonly kind: 'stall'; readonly frozenMs: number }
  | { readonly kind: 'nodeListDiffers'; readonly node: string; readonly nodelist: readonly string[] };

/** A message for the layer above (resource management, API clients). */
export interface Delivered {
  readonly from: string;
  readonly type: string;
  readonly msg: Message;
}

export interface Output {
  readonly send: Outbound[];
  readonly events: MembershipEvent[];
  readonly deliver: Delivered[];
  /** The shell must call `step` with a tick at this monotonic time at the latest. */
  readonly wakeAtMs: number;
}

export interface LinkState {
  status: LinkStatus;
  lastHeardAtMs: number | undefined;
  /** Highest seq of the peer's current generation this link delivered (replay protection). */
  seqHighWater: number | undefined;
}

export interface PeerState {
  readonly name: string;
  status: NodeStatus;
  /** Any accepted packet since start (heartbeat's anypacketsyet): counts for comm-up. */
  heard: boolean;
  generation: number | undefined;
  uuid: Uint8Array | undefined;
  /** The peer's advertised dead time (`dt`), or ours until it tells us. */
  deadtimeMs: number;
  /** Local monotonic time of the last accepted status; undefined = never (counts from start). */
  lastStatusAtMs: number | undefined;
  lastStatusSeq: number | undefined;
  lastStatusTs: number | undefined;
  /** Highest in-order seq received; undefined = no sequence tracking yet. */
  lastSeq: number | undefined;
  /**
   * Highest seq ever accepted from the current generation. Unlike lastSeq it survives the
   * reset of sequence tracking when a dead node returns, so frames captured before its death
   * and replayed afterwards are recognised (heartbeat lacks this and revives such a node).
   */
  seqHighWater: number | undefined;
  /** Missing seqs and when to (re)request each. Bounded by PROTOCOL.maxMissing. */
  readonly missing: Map<number, number>;
  /** ACK when an in-order seq % 10 equals this (chosen randomly per peer, as heartbeat does). */
  ackTrigger: number;
  /** Highest of our seqs this peer acknowledged. */
  ackedSeq: number;
  /** The peer's status messages carry `protocol`: it speaks flow control. */
  protocol: boolean;
  readonly links: LinkState[];
}

export interface HistoryEntry {
  readonly seq: number;
  readonly msg: Message;
  lastResentAtMs: number | undefined;
}

export interface MembershipState {
  readonly cfg: MembershipConfig;
  readonly random: Random;
  startedAtMs: number;
  started: boolean;
  localStatus: 'init' | 'up' | 'active';
  commUp: boolean;
  /** Waiting for repnodes from `target`; retry at `nextAtMs`. */
  reqnodes: { target: string; nextAtMs: number } | undefined;
  /** Last seq used (0 = none yet). */
  seq: number;
  readonly history: HistoryEntry[];
  readonly peers: Map<string, PeerState>;
  /** Our own links: do we hear our own broadcasts/multicasts on each medium. */
  readonly selfLinks: LinkState[];
  nextKeepaliveAtMs: number;
  /** False once any peer showed it does not speak flow control. */
  flowControl: boolean;
  lastStepAtMs: number | undefined;
}
