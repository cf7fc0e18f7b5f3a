// Part: what the daemon offers the local API: a read view of the cluster and the few
// state-changing requests (standby, takeover). The daemon implements it; src/ipc turns it
// into socket commands; the CLIs (cl_status, hb_standby, hb_takeover, tsbeat status) use them.

import type { ApiAuthConfig } from '../config/model.js';
import type { RejectCounts } from '../lib/rejected.js';
import type { JournalEvent } from '../observe/journal.js';

/** heartbeat's node types (`cl_status nodetype`). */
export type NodeType = 'normal' | 'ping';

/** `cl_status nodestatus` values: a node's own status, or `dead`; ping nodes are `ping`/`dead`. */
export type NodeStatusWord = 'init' | 'up' | 'active' | 'dead' | 'ping';

/** `cl_status rscstatus`: what this node holds, or `transition` while anything is in flux. */
export type RscStatusWord = 'none' | 'local' | 'foreign' | 'all' | 'transition';

/** hb_standby / hb_takeover arguments. */
export type ResourceSet = 'all' | 'local' | 'foreign' | 'failback';

export interface LinkInfo {
  /** heartbeat's link name: the device (eth0) or the serial device path. */
  readonly name: string;
  readonly status: 'up' | 'dead';
  /** Milliseconds since anything was heard on this link; undefined = never. */
  readonly lastHeardAgoMs: number | undefined;
}

export interface NodeInfo {
  readonly name: string;
  readonly type: NodeType;
  readonly status: NodeStatusWord;
  /** heartbeat's default weight is 100; `site` is empty unless set. */
  readonly weight: number;
  readonly site: string;
  readonly generation: number | undefined;
  /** The dead time in force for this node (its advertised `dt`). */
  readonly deadtimeMs: number;
  readonly lastHeardAgoMs: number | undefined;
  /** In ha.cf media order (cl_status prints them reversed, as heartbeat does). */
  readonly links: readonly LinkInfo[];
}

export interface GroupInfo {
  /** The group key: its first resource as written in haresources. */
  readonly key: string;
  /** The node haresources names first (the group is "local" to it). */
  readonly preferredNode: string;
  readonly resources: readonly string[];
  /** Where it runs now, as far as this node knows; undefined = nowhere. */
  readonly runningOn: string | undefined;
  /** This node's machine state for the group (stopped, starting, running, stopping, failed, ...). */
  readonly state: string;
}

export interface EventInfo {
  /** ISO wall-clock time. */
  readonly at: string;
  readonly level: 'info' | 'warn' | 'error' | 'crit';
  readonly message: string;
}

export interface StandbyResult {
  /** Whether the request was sent to the cluster (the outcome shows in the log and in status). */
  readonly accepted: boolean;
  /** What happened, for the operator: e.g. "Standby mode only implemented when nice_failback on". */
  readonly message: string;
}

/** STONITH as this node runs it (issue 8): the device, the race policy, the last results. */
export interface FencingInfo {
  readonly configured: boolean;
  /** The device as configured, e.g. "null (via cluster-glue stonith)". */
  readonly device: string | undefined;
  /** The node that fences at once in a two-node race. */
  readonly preferredSurvivor: string | undefined;
  /** How long this node waits before it fences (0 on the preferred survivor). */
  readonly delayMs: number;
  /** Without fencing: whether groups on shared storage are taken over anyway (operator override). */
  readonly takeoverWithoutFencing: boolean;
  /** The last device check (`stonith -S`). */
  readonly lastCheck: { readonly at: string; readonly ok: boolean; readonly detail: string } | undefined;
  /** The last reset this node did. */
  readonly lastFence:
    | { readonly at: string; readonly node: string; readonly ok: boolean; readonly detail: string }
    | undefined;
}

export interface ClusterView {
  readonly version: string;
  /** The node this daemon runs as. */
  localNode(): string;
  /** Every configured node (normal nodes in ha.cf order, then ping nodes). */
  nodes(): readonly NodeInfo[];
  /** `cl_status hbparameter`: the recorded parameters (as heartbeat stores them). */
  parameter(name: string): string | undefined;
  /** `cl_status rscstatus`. */
  rscStatus(): RscStatusWord;
  /**
   * `cl_status clientstatus NODE CLIENT`. tsbeat has no heartbeat client API: the daemon
   * answers from its respawned programs and built-in ipfail, and from the clients a peer
   * announced (hbapi-clstat join); see cl_status(1).
   */
  clientStatus(node: string, client: string): 'online' | 'offline' | 'join' | 'leave';
  groups(): readonly GroupInfo[];
  /** Recent notable events (node/link changes, takeovers), newest last. */
  recentEvents(): readonly EventInfo[];
  /** Timing in force (ms). */
  timing(): {
    readonly keepaliveMs: number;
    readonly deadtimeMs: number;
    readonly warntimeMs: number;
    readonly initdeadMs: number;
  };
  /** `hb_standby SET`: this node gives SET up (heartbeat's ask_resources me). */
  standby(set: ResourceSet): Promise<StandbyResult>;
  /** `hb_takeover SET`: ask the peer to give SET to us. */
  takeover(set: ResourceSet): Promise<StandbyResult>;

  // Optional members (added for the local API). Each has a fallback in src/ipc, so a view
  // without them still works; the daemon should implement them for full fidelity.

  /**
   * Whether communication is up (heartbeat's comm-up: every node heard from or declared dead).
   * heartbeat opens its API socket only then, so until it is true `cl_status` behaves as if
   * the daemon were not running. Fallback: the local node's status is `active`.
   */
  commUp?(): boolean;
  /**
   * The `apiauth` lines of ha.cf. The control socket (standby, takeover, shutdown) is given to
   * the group heartbeat authorises for casual clients (`apiauth anon gid=...`, default
   * `haclient`). Fallback: no lines, i.e. group `haclient` when it exists.
   */
  apiAuth?(): readonly ApiAuthConfig[];
  /** When this daemon started (ISO wall-clock time), for `tsbeat status`. */
  startedAt?(): string;
  /**
   * Whether v1 resource management runs. false answers `rscstatus` as heartbeat started with
   * `-M` does ("Resource is managed by crm. Use crm tool to query resource"). Fallback: true.
   */
  managesResources?(): boolean;
  /** Graceful shutdown requested through the control socket (as `heartbeat -k`). */
  shutdown?(): Promise<StandbyResult>;
  /** Fencing configuration and results, for `tsbeat status`. Fallback: not configured. */
  fencing?(): FencingInfo;
  /**
   * Rejected input since start, per class (bad frames, replays, local API abuse), for
   * `tsbeat status`. When the daemon passes its RejectedInput to startApiServers, these counts
   * include what the API sockets refused; otherwise the sockets' own counts are added.
   * Fallback: the sockets' own counts only.
   */
  rejected?(): RejectCounts;
  /** Peers whose configuration files differ from this node's (config digest). Fallback: none. */
  configMismatch?(): readonly { readonly node: string; readonly files: readonly string[] }[];
  /** The event journal since a wall-clock time (tsbeat explain). Fallback: empty. */
  journal?(sinceMs: number): { readonly events: readonly JournalEvent[]; readonly dropped: number };
  /** The daemon's log destinations and their counters (tsbeat status). */
  logs?(): readonly {
    readonly file: string;
    readonly ok: boolean;
    readonly queuedLines: number;
    readonly writtenLines: number;
    readonly droppedLines: number;
    readonly lastError?: string;
  }[];
}
