// Part: the daemon's observation shell: subscribes to what the node already reports
// (membership events, deliveries, resource work), times every agent action and fence, and
// feeds the event journal (tsbeat explain), the metrics registry (OpenMetrics endpoint), the
// structured JSON log fields and the configuration digest exchange. Adds no prose to the cores.

import { getString } from '../codec/model.js';
import type { Config } from '../config/model.js';
import type { GroupInfo } from '../ipc/view.js';
import type { Clock } from '../lib/clock.js';
import type { RejectCounts } from '../lib/rejected.js';
import type { NodeView } from '../membership/core.js';
import type { Delivered, MembershipEvent } from '../membership/model.js';
import { Registry } from '../metrics/registry.js';
import type { NodeLog, WorkListener } from '../node/ha-node.js';
import type { WorkItem } from '../resources/model.js';
import {
  CFG_MESSAGE_TYPE,
  type ConfigDigest,
  DIGEST_FILES,
  differingFiles,
  digestMessage,
  parseDigestFields,
} from './config-digest.js';
import { explain, formatExplain } from './explain.js';
import { Journal } from './journal.js';

/** What the observer reads from the node at scrape time. */
export interface ObservedNode {
  views(): NodeView[];
  groups(): GroupInfo[];
  send(msg: ReturnType<typeof digestMessage>): void;
}

export interface ObserverOptions {
  readonly config: Config;
  readonly log: NodeLog;
  readonly clock: Clock;
  /** This node's configuration digest as started. */
  readonly digest: ConfigDigest;
  readonly generation: number;
  readonly rejected?: () => RejectCounts;
  readonly logDrops?: () => readonly { file: string; droppedLines: number }[];
}

/** The contract of `tsbeat status --json` (and check_tsbeat): `configMismatch`. */
export interface ConfigMismatch {
  readonly node: string;
  readonly files: readonly string[];
}

/** Journal entries looked at to word one finished change for the log. */
const RECENT_FOR_LOG = 500;

const ACQUIRE_TAKEOVER = new Set(['machDown', 'shutdownAcquire', 'standbyAcquire', 'legacyAcquire']);
const RELEASE_FAILBACK = new Set(['standbyRelease', 'legacyRelease']);

export class Observer {
  readonly journal = new Journal();
  readonly registry = new Registry();
  private readonly opts: ObserverOptions;
  private node: ObservedNode | undefined;
  private readonly mismatch = new Map<string, string[]>();
  private readonly lateHeartbeats = new Map<string, number>();
  private readonly groupOf = new Map<string, string>();

  constructor(opts: ObserverOptions) {
    this.opts = opts;
    for (const g of opts.config.groups) for (const r of g.resources) this.groupOf.set(r.spec, g.key);
    this.declareMetrics();
  }

  private now(): { atMs: number; monoMs: number } {
    return { atMs: this.opts.clock.wallMs(), monoMs: this.opts.clock.monotonicMs() };
  }

  private declareMetrics(): void {
    const r = this.registry;
    const local = this.opts.config.localNode;
    r.gauge(
      'tsbeat_node_up',
      'Whether a node is alive (status init, up or active) as this node sees it.',
      () =>
        (this.node?.views() ?? []).map((v) => ({
          labels: { node: v.name },
          value: v.status === 'dead' ? 0 : 1,
        })),
    );
    r.gauge('tsbeat_node_status', 'Membership status of each node (1 for the current status).', () =>
      (this.node?.views() ?? []).flatMap((v) =>
        ['init', 'up', 'active', 'dead'].map((s) => ({
          labels: { node: v.name, status: s },
          value: v.status === s ? 1 : 0,
        })),
      ),
    );
    r.gauge('tsbeat_link_up', 'Whether a link (a node on a medium) is up.', () =>
      (this.node?.views() ?? [])
        .filter((v) => v.name !== local)
        .flatMap((v) =>
          v.links.map((l) => ({ labels: { node: v.name, link: l.name }, value: l.status === 'up' ? 1 : 0 })),
        ),
    );
    r.gauge(
      'tsbeat_link_last_heard_seconds',
      'Seconds since a frame was last heard from a node on a link.',
      () =>
        (this.node?.views() ?? [])
          .filter((v) => v.name !== local)
          .flatMap((v) =>
            v.links
              .filter((l) => l.lastHeardAgoMs !== undefined)
              .map((l) => ({
                labels: { node: v.name, link: l.name },
                value: (l.lastHeardAgoMs ?? 0) / 1000,
              })),
          ),
    );
    r.gauge('tsbeat_generation', "Each node's heartbeat generation (hg), as last announced.", () =>
      (this.node?.views() ?? []).map((v) => ({
        labels: { node: v.name },
        value: v.name === local ? this.opts.generation : (v.generation ?? 0),
      })),
    );
    r.counter(
      'tsbeat_late_heartbeats',
      'Late heartbeats (interval above warntime) per node since start.',
      () =>
        this.opts.config.haCf.nodes
          .filter((n) => n !== local)
          .map((n) => ({ labels: { node: n }, value: this.lateHeartbeats.get(n) ?? 0 })),
    );
    r.gauge('tsbeat_group_owned', 'Whether a resource group runs on this node (1) or not (0).', () =>
      (this.node?.groups() ?? []).map((g) => ({
        labels: { group: g.key },
        value: g.runningOn === local ? 1 : 0,
      })),
    );
    r.gauge('tsbeat_group_state', "Each resource group's state on this node (1 for the current state).", () =>
      (this.node?.groups() ?? []).map((g) => ({ labels: { group: g.key, state: g.state }, value: 1 })),
    );
    r.counter('tsbeat_takeovers', 'Resource groups taken over (peer dead or gone, standby, failback).');
    r.counter('tsbeat_failbacks', 'Resource groups handed back to a peer (auto_failback, standby).');
    r.histogram(
      'tsbeat_takeover_duration_seconds',
      'Takeovers: from the cause (a dead peer: its last heartbeat) to the groups running.',
    );
    r.histogram('tsbeat_failback_duration_seconds', 'Failbacks: time to stop the groups handed back.');
    r.histogram('tsbeat_agent_action_duration_seconds', 'Resource agent actions (start, stop, status).');
    r.counter('tsbeat_agent_action_failures', 'Resource agent actions that failed (non-zero or timed out).');
    r.counter('tsbeat_fence_attempts', 'STONITH resets attempted.');
    r.counter('tsbeat_fence_failures', 'STONITH resets that failed.');
    r.histogram('tsbeat_fence_duration_seconds', 'STONITH resets, including the preferred-survivor delay.');
    r.counter('tsbeat_rejected_input', 'Rejected frames and API requests since start, per class.', () =>
      Object.entries(this.opts.rejected?.() ?? {}).map(([c, v]) => ({ labels: { class: c }, value: v })),
    );
    r.gauge(
      'tsbeat_config_mismatch',
      "1 when a peer's copy of a configuration file differs from this node's.",
      () =>
        [...this.mismatch].flatMap(([node, files]) =>
          files.map((f) => ({ labels: { node, file: f }, value: 1 })),
        ),
    );
    r.counter(
      'tsbeat_log_dropped_lines',
      'Log lines dropped per destination (a destination that cannot keep up).',
      () => (this.opts.logDrops?.() ?? []).map((s) => ({ labels: { file: s.file }, value: s.droppedLines })),
    );
  }

  /** Subscribe to the node (before it starts). */
  attach(
    node: ObservedNode & {
      onEvent(l: (e: MembershipEvent) => void): void;
      onDeliver(l: (d: Delivered) => void): void;
      onWork(l: WorkListener): void;
    },
  ): void {
    this.node = node;
    node.onEvent((e) => this.onEvent(e));
    node.onDeliver((d) => this.onDeliver(d));
    node.onWork((e) => this.onWork(e));
  }

  private onEvent(e: MembershipEvent): void {
    const t = this.now();
    const j = this.journal;
    switch (e.kind) {
      case 'linkStatus':
        j.record(t.atMs, t.monoMs, { kind: 'linkStatus', node: e.node, link: e.link, status: e.status });
        return;
      case 'nodeDead': {
        const v = this.node?.views().find((x) => x.name === e.node);
        const links = v?.links ?? [];
        j.record(t.atMs, t.monoMs, {
          kind: 'nodeDead',
          node: e.node,
          silentMs: e.silentMs,
          limitMs: e.limitMs,
          linksDead: links.filter((l) => l.status === 'dead').length,
          linksTotal: links.length,
        });
        return;
      }
      case 'nodeStatus':
        j.record(t.atMs, t.monoMs, { kind: 'nodeStatus', node: e.node, from: e.from, to: e.to });
        if ((e.from === 'dead' || e.from === 'init') && (e.to === 'up' || e.to === 'active'))
          this.sendDigest();
        return;
      case 'restart':
        j.record(t.atMs, t.monoMs, { kind: 'restart', node: e.node, generation: e.generation });
        this.sendDigest();
        return;
      case 'partitionHealed':
        j.record(t.atMs, t.monoMs, { kind: 'partitionHealed', node: e.node });
        return;
      case 'commUp':
        j.record(t.atMs, t.monoMs, { kind: 'commUp' });
        this.sendDigest();
        return;
      case 'lateHeartbeat':
        this.lateHeartbeats.set(e.node, (this.lateHeartbeats.get(e.node) ?? 0) + 1);
        return;
      default:
        return;
    }
  }

  private sendDigest(): void {
    if (!this.node) return;
    this.node.send(digestMessage(this.opts.digest));
    const d = this.opts.digest;
    this.opts.log.debug(`configuration digest sent: ${DIGEST_FILES.map((f) => `${f} ${d[f]}`).join(', ')}`);
  }

  private onDeliver(d: Delivered): void {
    if (d.type !== CFG_MESSAGE_TYPE || d.from === this.opts.config.localNode) return;
    const fields: Record<string, string> = {};
    for (const f of d.msg.fields) if (f.kind === 'string') fields[f.name] = getString(d.msg, f.name) ?? '';
    const theirs = parseDigestFields(fields);
    if (!theirs) {
      this.opts.log.warn(`configuration digest from ${d.from} is malformed; ignored`, { node: d.from });
      return;
    }
    const files = differingFiles(this.opts.digest, theirs);
    const before = this.mismatch.get(d.from) ?? [];
    if (files.join() === before.join()) return;
    const t = this.now();
    this.journal.record(t.atMs, t.monoMs, { kind: 'configMismatch', node: d.from, files });
    if (files.length === 0) {
      this.mismatch.delete(d.from);
      this.opts.log.info(`configuration of ${d.from} now matches this node's (${DIGEST_FILES.join(', ')})`, {
        node: d.from,
      });
      return;
    }
    this.mismatch.set(d.from, files);
    const dir = this.opts.config.dir;
    this.opts.log.warn(
      `configuration differs from node ${d.from}'s: ${files.map((f) => `${dir}/${f}`).join(', ')} (ha.cf apart from media and logging lines, haresources and authkeys must be the same on every node; a failover onto a node with another haresources may fail)`,
      { node: d.from, files },
    );
  }

  /** For `tsbeat status` (text and JSON) and check_tsbeat: every peer whose files differ. */
  configMismatch(): ConfigMismatch[] {
    return [...this.mismatch].map(([node, files]) => ({ node, files }));
  }

  private onWork(e: Parameters<WorkListener>[0]): void {
    const t = this.now();
    const it = e.item;
    if (e.phase === 'dispatch') {
      // The node hands work out while it translates a membership event, before it tells the
      // event's listeners (this one included): record the work after the event that caused it.
      queueMicrotask(() => this.recordWork(it, t));
      return;
    }
    const r = e.result;
    this.journal.record(t.atMs, t.monoMs, {
      kind: 'workDone',
      id: it.id,
      startFailed: r.startFailed,
      stopFailed: r.stopFailed,
      ...(r.fenced !== undefined ? { fenced: r.fenced } : {}),
    });
    if (it.kind === 'fence') return;
    const takeover = it.kind === 'acquire' && ACQUIRE_TAKEOVER.has(it.purpose);
    const failback = it.kind === 'release' && RELEASE_FAILBACK.has(it.purpose);
    // The episode as tsbeat explain tells it: one line with reason, group and duration fields.
    // Only the recent past: an incident's causes are seconds old, and this runs on the event loop.
    const episode = explain(this.journal.recent(RECENT_FOR_LOG)).findLast(
      (x) => x.outcome !== 'in progress' && x.groups.join() === it.keys.join(),
    );
    if (episode && (takeover || failback || it.purpose === 'reqOurResources')) {
      const line = formatExplain([episode]).trimEnd();
      this.opts.log.info(`ownership change: ${line.slice(line.indexOf(' ') + 1)}`, {
        reason: episode.reason,
        group: episode.groups.join(' '),
        ...(episode.peer ? { node: episode.peer } : {}),
        durationMs: episode.totalMs,
        outcome: episode.outcome,
      });
    }
    const seconds = (episode?.totalMs ?? 0) / 1000;
    for (const _k of it.keys) {
      if (takeover) {
        this.registry.inc('tsbeat_takeovers');
        this.registry.observe('tsbeat_takeover_duration_seconds', {}, seconds);
      } else if (failback) {
        this.registry.inc('tsbeat_failbacks');
        this.registry.observe('tsbeat_failback_duration_seconds', {}, seconds);
      }
    }
  }

  private recordWork(it: WorkItem, t: { atMs: number; monoMs: number }): void {
    this.journal.record(t.atMs, t.monoMs, {
      kind: 'work',
      id: it.id,
      action: it.kind,
      purpose: it.purpose,
      keys: it.kind === 'fence' ? [] : it.keys,
      ...(it.kind === 'fence' ? { peer: it.node } : it.peer !== undefined ? { peer: it.peer } : {}),
    });
  }

  /** hb_standby / hb_takeover on this node (for explain's reason codes). */
  operator(request: 'standby' | 'takeover', set: string): void {
    const t = this.now();
    this.journal.record(t.atMs, t.monoMs, { kind: 'operator', request, set });
  }

  /** Time one agent action (the daemon wraps its runner with this). */
  async agentRun<R extends { readonly rc: number; readonly timedOut?: boolean }>(
    resource: { readonly spec: string; readonly script: string },
    action: string,
    run: () => Promise<R>,
  ): Promise<R> {
    const start = this.opts.clock.monotonicMs();
    const r = await run();
    const durationMs = Math.round(this.opts.clock.monotonicMs() - start);
    const t = this.now();
    const group = this.groupOf.get(resource.spec);
    const failed = action === 'status' ? r.timedOut === true : r.rc !== 0 || r.timedOut === true;
    this.journal.record(t.atMs, t.monoMs, {
      kind: 'agent',
      resource: resource.spec,
      ...(group !== undefined ? { group } : {}),
      agent: resource.script,
      action,
      rc: r.rc,
      durationMs,
      timedOut: r.timedOut === true,
    });
    this.registry.observe(
      'tsbeat_agent_action_duration_seconds',
      { agent: resource.script, action },
      durationMs / 1000,
    );
    if (failed) this.registry.inc('tsbeat_agent_action_failures', { agent: resource.script, action });
    if (action !== 'status')
      this.opts.log.debug(`${resource.spec} ${action}: rc ${r.rc} in ${durationMs} ms`, {
        ...(group !== undefined ? { group } : {}),
        resource: resource.spec,
        action,
        rc: r.rc,
        durationMs,
      });
    return r;
  }

  /** Time one fence (the daemon wraps its fencer with this). */
  async fence(node: string, device: string, run: () => Promise<boolean>): Promise<boolean> {
    const start = this.opts.clock.monotonicMs();
    let ok = false;
    try {
      ok = await run();
      return ok;
    } finally {
      const durationMs = Math.round(this.opts.clock.monotonicMs() - start);
      const t = this.now();
      this.journal.record(t.atMs, t.monoMs, { kind: 'fence', node, device, ok, durationMs });
      this.registry.inc('tsbeat_fence_attempts', { node });
      if (!ok) this.registry.inc('tsbeat_fence_failures', { node });
      this.registry.observe('tsbeat_fence_duration_seconds', {}, durationMs / 1000);
    }
  }
}
