// A ClusterView with fixed contents for the unit tests of the local API and its CLIs: by
// default the lab cluster of the real transcripts (ra1, ra2 on eth0, ra1 holding `local`).
import type {
  ClusterView,
  EventInfo,
  GroupInfo,
  NodeInfo,
  ResourceSet,
  RscStatusWord,
  StandbyResult,
} from '../../../src/ipc/view.js';

export const HBVERSION = '3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)';

export function labNode(name: string, over: Partial<NodeInfo> = {}): NodeInfo {
  return {
    name,
    type: 'normal',
    status: 'active',
    weight: 100,
    site: '',
    generation: 3,
    deadtimeMs: 3000,
    lastHeardAgoMs: 420,
    links: [{ name: 'eth0', status: 'up', lastHeardAgoMs: 420 }],
    ...over,
  };
}

export function pingNode(host: string, status: 'ping' | 'dead' = 'ping'): NodeInfo {
  return {
    name: host,
    type: 'ping',
    status,
    weight: 100,
    site: '',
    generation: undefined,
    deadtimeMs: 3000,
    lastHeardAgoMs: 800,
    links: [{ name: host, status: status === 'ping' ? 'up' : 'dead', lastHeardAgoMs: 800 }],
  };
}

/** Parameters as the real ra1 reports them (test/fixtures/cl_status/cl_status-hbparameter.txt). */
export const LAB_PARAMS: Readonly<Record<string, string>> = {
  hbversion: HBVERSION,
  cluster: 'linux-ha',
  hopfudge: '1',
  keepalive: '1',
  deadtime: '3',
  deadping: '3000ms',
  warntime: '2',
  initdead: '10',
  baud: '19200',
  udpport: '694',
  logfile: 'lab-rm/nodes/ra1/ha-log',
  debugfile: 'lab-rm/nodes/ra1/ha-debug',
  auto_failback: 'on',
  hbgenmethod: 'file',
  realtime: 'true',
  debug: '0',
  msgfmt: 'classic',
  conn_logd_time: '60',
  log_badpack: 'true',
  syslogmsgfmt: 'true',
  coredumps: 'true',
  pacemaker: 'off',
  autojoin: 'none',
  uuidfrom: 'file',
  compression: 'zlib',
  compression_threshold: '2',
  traditional_compression: 'no',
  max_rexmit_delay: '250',
  record_config_changes: 'on',
  record_pengine_inputs: 'on',
  enable_config_writes: 'on',
  memreserve: '6500',
};

export interface FakeViewOptions {
  local?: string;
  nodes?: NodeInfo[];
  params?: Record<string, string>;
  rsc?: RscStatusWord;
  groups?: GroupInfo[];
  events?: EventInfo[];
  commUp?: boolean;
  managesResources?: boolean;
  standby?: (set: ResourceSet) => Promise<StandbyResult>;
}

/** A mutable fake: tests change its fields between calls. */
export class FakeView implements ClusterView {
  readonly version = '0.1.0';
  local: string;
  nodeList: NodeInfo[];
  params: Record<string, string>;
  rsc: RscStatusWord;
  groupList: GroupInfo[];
  events: EventInfo[];
  up: boolean | undefined;
  managed: boolean | undefined;
  readonly requests: { kind: 'standby' | 'takeover'; set: ResourceSet }[] = [];
  private readonly standbyImpl: ((set: ResourceSet) => Promise<StandbyResult>) | undefined;
  /** Set to make every call throw (the server must survive it). */
  broken = false;

  constructor(o: FakeViewOptions = {}) {
    this.local = o.local ?? 'ra1';
    this.nodeList = o.nodes ?? [labNode('ra1', { lastHeardAgoMs: 0 }), labNode('ra2')];
    this.params = o.params ?? { ...LAB_PARAMS };
    this.rsc = o.rsc ?? 'local';
    this.groupList = o.groups ?? [];
    this.events = o.events ?? [];
    this.up = o.commUp;
    this.managed = o.managesResources;
    this.standbyImpl = o.standby;
  }

  private check(): void {
    if (this.broken) throw new Error('view exploded');
  }
  localNode(): string {
    this.check();
    return this.local;
  }
  nodes(): readonly NodeInfo[] {
    this.check();
    return this.nodeList;
  }
  parameter(name: string): string | undefined {
    this.check();
    return this.params[name];
  }
  rscStatus(): RscStatusWord {
    this.check();
    return this.rsc;
  }
  clientStatus(): 'offline' {
    return 'offline';
  }
  groups(): readonly GroupInfo[] {
    return this.groupList;
  }
  recentEvents(): readonly EventInfo[] {
    return this.events;
  }
  timing() {
    return { keepaliveMs: 1000, deadtimeMs: 3000, warntimeMs: 2000, initdeadMs: 10000 };
  }
  commUp(): boolean {
    return this.up ?? this.nodeList.find((n) => n.name === this.local)?.status === 'active';
  }
  managesResources(): boolean {
    return this.managed ?? true;
  }
  standby(set: ResourceSet): Promise<StandbyResult> {
    this.requests.push({ kind: 'standby', set });
    return this.standbyImpl ? this.standbyImpl(set) : Promise.resolve({ accepted: true, message: 'sent' });
  }
  takeover(set: ResourceSet): Promise<StandbyResult> {
    this.requests.push({ kind: 'takeover', set });
    return Promise.resolve({ accepted: true, message: 'sent' });
  }
}
