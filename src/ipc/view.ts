// Part: what the daemon offers the local API: a read view of the cluster and the few
// state-changing requests (standby, takeover). The daemon implements it; src/ipc turns it
// into socket commands; the CLIs (cl_status, hb_standby, hb_takeover, tsbeat status) use them.

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
  /** `cl_status clientstatus NODE CLIENT`: tsbeat has no API clients, so always offline. */
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
}
