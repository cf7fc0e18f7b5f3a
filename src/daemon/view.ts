// Part: the daemon's implementation of the ClusterView the local API serves: membership from
// the HaNode, parameters from ha.cf, resources from the node's resource side.

import type { ApiAuthConfig, Config } from '../config/model.js';
import type {
  ClusterView,
  EventInfo,
  FencingInfo,
  GroupInfo,
  NodeInfo,
  ResourceSet,
  RscStatusWord,
  StandbyResult,
} from '../ipc/view.js';
import { emptyRejectCounts, type RejectCounts } from '../lib/rejected.js';
import type { HaNode } from '../node/ha-node.js';

/** What the resource manager contributes to the view (absent until it runs). */
export interface ResourceView {
  rscStatus(): RscStatusWord;
  groups(): readonly GroupInfo[];
  standby(set: ResourceSet): Promise<StandbyResult>;
  takeover(set: ResourceSet): Promise<StandbyResult>;
}

const MAX_EVENTS = 100;

export class DaemonView implements ClusterView {
  readonly version: string;
  private readonly config: Config;
  private readonly node: HaNode;
  private readonly events: EventInfo[] = [];
  resources: ResourceView | undefined;
  /** Set by whoever owns the process: a graceful stop asked for through the control socket. */
  onShutdown: (() => void) | undefined;
  /** Set by the daemon when STONITH runs. */
  fencingInfo: (() => FencingInfo) | undefined;
  /** Set by the daemon: its counters of rejected frames and API requests. */
  rejectedCounts: (() => RejectCounts) | undefined;
  /** Set by the daemon: its log destinations. */
  logStats: (() => ReturnType<NonNullable<ClusterView['logs']>>) | undefined;
  private readonly started = new Date().toISOString();

  constructor(version: string, config: Config, node: HaNode) {
    this.version = version;
    this.config = config;
    this.node = node;
  }

  commUp(): boolean {
    return this.node.state.commUp;
  }

  apiAuth(): readonly ApiAuthConfig[] {
    return this.config.haCf.apiauth;
  }

  startedAt(): string {
    return this.started;
  }

  managesResources(): boolean {
    return true;
  }

  async shutdown(): Promise<StandbyResult> {
    if (!this.onShutdown)
      return { accepted: false, message: 'this daemon cannot be stopped through its API' };
    this.onShutdown();
    return { accepted: true, message: 'shutting down: resources are handed over, then tsbeat exits' };
  }

  logs(): ReturnType<NonNullable<ClusterView['logs']>> {
    return this.logStats?.() ?? [];
  }

  rejected(): RejectCounts {
    return this.rejectedCounts?.() ?? emptyRejectCounts();
  }

  fencing(): FencingInfo {
    if (this.fencingInfo) return this.fencingInfo();
    const override = this.config.haCf.env.find(([k]) => k === 'TSBEAT_TAKEOVER_WITHOUT_FENCING')?.[1];
    return {
      configured: false,
      device: undefined,
      preferredSurvivor: undefined,
      delayMs: 0,
      takeoverWithoutFencing: /^(yes|true|on|1)$/i.test(override ?? ''),
      lastCheck: undefined,
      lastFence: undefined,
    };
  }

  /** Record a notable event for `tsbeat status` (bounded). */
  note(level: EventInfo['level'], message: string): void {
    this.events.push({ at: new Date().toISOString(), level, message });
    if (this.events.length > MAX_EVENTS) this.events.shift();
  }

  localNode(): string {
    return this.config.localNode;
  }

  nodes(): readonly NodeInfo[] {
    const views = this.node.views();
    const byName = new Map(views.map((v) => [v.name, v]));
    return this.config.haCf.nodes.map((name): NodeInfo => {
      const v = byName.get(name)!;
      return {
        name,
        type: 'normal',
        status: v.status,
        weight: 100,
        site: '',
        generation: v.generation,
        deadtimeMs: v.deadtimeMs,
        lastHeardAgoMs: v.lastHeardAgoMs,
        links: v.links.map((l) => ({ name: l.name, status: l.status, lastHeardAgoMs: l.lastHeardAgoMs })),
      };
    });
  }

  parameter(name: string): string | undefined {
    if (name === 'hbversion') return `${this.version} (tsbeat)`;
    return this.config.haCf.params[name === 'crm' ? 'pacemaker' : name];
  }

  rscStatus(): RscStatusWord {
    return this.resources?.rscStatus() ?? 'none';
  }

  clientStatus(): 'offline' {
    return 'offline';
  }

  groups(): readonly GroupInfo[] {
    return (
      this.resources?.groups() ??
      this.config.groups.map((g) => ({
        key: g.key,
        preferredNode: g.node,
        resources: g.resources.map((r) => r.spec),
        runningOn: undefined,
        state: 'unmanaged',
      }))
    );
  }

  recentEvents(): readonly EventInfo[] {
    return this.events;
  }

  timing() {
    const h = this.config.haCf;
    return {
      keepaliveMs: h.keepaliveMs,
      deadtimeMs: h.deadtimeMs,
      warntimeMs: h.warntimeMs,
      initdeadMs: h.initdeadMs,
    };
  }

  standby(set: ResourceSet): Promise<StandbyResult> {
    return this.resources
      ? this.resources.standby(set)
      : Promise.resolve({ accepted: false, message: 'resource management is not running' });
  }

  takeover(set: ResourceSet): Promise<StandbyResult> {
    return this.resources
      ? this.resources.takeover(set)
      : Promise.resolve({ accepted: false, message: 'resource management is not running' });
  }
}
