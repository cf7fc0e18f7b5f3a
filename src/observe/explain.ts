// Part: `tsbeat explain`: the journal's typed events turned into a reason-coded timeline of
// every ownership change (why a group moved, what happened on the way, how long each step
// took). Pure: journal entries in, episodes and their words out.

import type { JournalEvent } from './journal.js';

/** Why groups moved: one code per cause, stable for scripts (`--json`). */
export type ReasonCode =
  | 'comm-up'
  | 'peer-dead'
  | 'peer-shutdown'
  | 'operator-standby'
  | 'operator-takeover'
  | 'peer-request'
  | 'shutdown'
  | 'shutdown-aborted'
  | 'legacy-failback'
  | 'partition-healed';

export type Step =
  | {
      readonly kind: 'silent';
      readonly node: string;
      readonly silentMs: number;
      readonly limitMs: number;
      readonly linksDead: number;
      readonly linksTotal: number;
    }
  | {
      readonly kind: 'fence';
      readonly node: string;
      readonly device: string;
      readonly ok: boolean;
      readonly durationMs: number;
    }
  | { readonly kind: 'cause'; readonly text: string }
  | {
      readonly kind: 'resources';
      readonly action: 'acquire' | 'release';
      readonly groups: readonly string[];
      readonly agents: readonly {
        readonly resource: string;
        readonly agent: string;
        readonly action: string;
        readonly rc: number;
        readonly durationMs: number;
      }[];
      readonly startFailed: readonly string[];
      readonly stopFailed: readonly string[];
    };

export interface Episode {
  /** When the change began (ISO wall-clock time of its first cause). */
  readonly at: string;
  readonly reason: ReasonCode;
  readonly action: 'acquire' | 'release';
  readonly groups: readonly string[];
  readonly peer: string | null;
  readonly steps: readonly Step[];
  readonly outcome: 'done' | 'failed' | 'in progress';
  /** From the first cause (a dead peer: when it was last heard) to the end of the work. */
  readonly totalMs: number | null;
}

type WorkEvent = Extract<JournalEvent, { kind: 'work' }>;

const OPERATOR_WINDOW_MS = 60_000;

function reasonOf(
  w: WorkEvent,
  operator: Extract<JournalEvent, { kind: 'operator' }> | undefined,
): ReasonCode {
  switch (w.purpose) {
    case 'reqOurResources':
      return 'comm-up';
    case 'machDown':
      return 'peer-dead';
    case 'shutdownAcquire':
      return 'peer-shutdown';
    case 'standbyRelease':
    case 'standbyAcquire':
      if (operator) return operator.request === 'standby' ? 'operator-standby' : 'operator-takeover';
      return 'peer-request';
    case 'shutdownRelease':
      return 'shutdown';
    case 'shutdownAbortAcquire':
      return 'shutdown-aborted';
    case 'legacyRelease':
    case 'legacyAcquire':
      return 'legacy-failback';
    default:
      return 'partition-healed';
  }
}

/** The ownership changes recorded in `events` (oldest first), one episode per resource work item. */
export function explain(events: readonly JournalEvent[]): Episode[] {
  const episodes: Episode[] = [];
  for (const [i, e] of events.entries()) {
    // A work item that moved no group (a mach_down of a node with nothing to take) is no
    // ownership change: heartbeat runs one for every dead node of a multi-node ha.cf.
    if (e.kind !== 'work' || e.action === 'fence' || e.keys.length === 0) continue;
    const done = events.slice(i + 1).find((x) => x.kind === 'workDone' && x.id === e.id);
    const end = done ? events.indexOf(done) : events.length;
    const before = events.slice(0, i);
    const operator = before.findLast(
      (x): x is Extract<JournalEvent, { kind: 'operator' }> =>
        x.kind === 'operator' && e.monoMs - x.monoMs <= OPERATOR_WINDOW_MS,
    );
    const reason = reasonOf(e, operator);
    const steps: Step[] = [];
    let startMono = e.monoMs;
    let startWall = e.atMs;
    let peer: string | null = e.peer ?? null;
    if (reason === 'peer-dead') {
      // The death this work item answers: its own peer's when it names one (several nodes can
      // die together), else the last.
      const dead = before.findLast(
        (x) => x.kind === 'nodeDead' && (e.peer === undefined || x.node === e.peer),
      );
      if (dead && dead.kind === 'nodeDead') {
        peer = dead.node;
        steps.push({
          kind: 'silent',
          node: dead.node,
          silentMs: dead.silentMs,
          limitMs: dead.limitMs,
          linksDead: dead.linksDead,
          linksTotal: dead.linksTotal,
        });
        startMono = dead.monoMs - dead.silentMs;
        startWall = dead.atMs - dead.silentMs;
        for (const f of events.slice(events.indexOf(dead), i)) {
          if (f.kind === 'fence' && f.node === dead.node)
            steps.push({ kind: 'fence', node: f.node, device: f.device, ok: f.ok, durationMs: f.durationMs });
        }
      }
    } else if (reason === 'peer-shutdown' || reason === 'peer-request' || reason === 'legacy-failback') {
      const status = before.findLast((x) => x.kind === 'nodeStatus' || x.kind === 'restart');
      if (status && 'node' in status) peer ??= status.node;
      steps.push({
        kind: 'cause',
        text:
          reason === 'peer-shutdown'
            ? `${peer ?? 'the peer'} shut down and gave its groups up`
            : reason === 'peer-request'
              ? `${peer ?? 'the peer'} asked for the groups (auto_failback, or hb_takeover/hb_standby there)`
              : `${peer ?? 'the peer'} returned (auto_failback legacy)`,
      });
    } else if (operator) {
      startMono = operator.monoMs;
      startWall = operator.atMs;
      steps.push({ kind: 'cause', text: `hb_${operator.request} ${operator.set} on this node` });
    } else if (reason === 'comm-up') {
      steps.push({ kind: 'cause', text: 'communication up: this node takes the groups it should hold' });
    } else if (reason === 'shutdown') {
      steps.push({ kind: 'cause', text: 'this node shuts down' });
    } else if (reason === 'partition-healed') {
      steps.push({
        kind: 'cause',
        text: 'a partition healed: both nodes held groups; this one gives its copies up',
      });
    } else if (reason === 'shutdown-aborted') {
      steps.push({ kind: 'cause', text: 'the shutdown was aborted: this node takes back what it held' });
    }
    const agents = events
      .slice(i + 1, end)
      .filter(
        (x): x is Extract<JournalEvent, { kind: 'agent' }> =>
          x.kind === 'agent' &&
          x.action === (e.action === 'acquire' ? 'start' : 'stop') &&
          (x.group === undefined || e.keys.includes(x.group)),
      )
      .map((x) => ({
        resource: x.resource,
        agent: x.agent,
        action: x.action,
        rc: x.rc,
        durationMs: x.durationMs,
      }));
    const startFailed = done?.kind === 'workDone' ? done.startFailed : [];
    const stopFailed = done?.kind === 'workDone' ? done.stopFailed : [];
    steps.push({ kind: 'resources', action: e.action, groups: e.keys, agents, startFailed, stopFailed });
    const failed = startFailed.length > 0 || stopFailed.length > 0;
    episodes.push({
      at: new Date(startWall).toISOString(),
      reason,
      action: e.action,
      groups: e.keys,
      peer,
      steps,
      outcome: !done ? 'in progress' : failed ? 'failed' : 'done',
      totalMs: done ? Math.round(done.monoMs - startMono) : null,
    });
  }
  return episodes;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function wordStep(s: Step, reason: ReasonCode): string {
  switch (s.kind) {
    case 'silent':
      return `${s.node} silent ${s.silentMs} ms on ${s.linksDead}/${s.linksTotal} links ${s.silentMs > s.limitMs ? '>' : '≥'} deadtime ${s.limitMs} ms`;
    case 'fence':
      return `${s.ok ? 'fenced' : 'failed to fence'} ${s.node} via ${s.device} (${s.durationMs} ms)`;
    case 'cause':
      return s.text;
    case 'resources': {
      const verb = s.action === 'release' ? 'released' : reason === 'comm-up' ? 'started' : 'took over';
      const what = `${s.groups.length === 1 ? 'group' : 'groups'} ${s.groups.join(', ')}`;
      const agents = s.agents.map((a) => `${a.agent} ${a.durationMs} ms${a.rc !== 0 ? ` rc=${a.rc}` : ''}`);
      const failed = [
        ...(s.startFailed.length > 0 ? [`start failed: ${s.startFailed.join(', ')}`] : []),
        ...(s.stopFailed.length > 0 ? [`stop failed: ${s.stopFailed.join(', ')}`] : []),
      ];
      return `${verb} ${what}${agents.length > 0 ? ` (${agents.join(', ')})` : ''}${failed.length > 0 ? `; ${failed.join('; ')}` : ''}`;
    }
  }
}

/** One line per episode: `TIME [reason] step → step → … → total N s`. */
export function formatExplain(episodes: readonly Episode[]): string {
  if (episodes.length === 0) return 'no ownership change recorded in this period\n';
  return episodes
    .map((ep) => {
      const tail =
        ep.outcome === 'in progress'
          ? 'still in progress'
          : `${ep.outcome === 'failed' ? 'FAILED, ' : ''}total ${ep.totalMs !== null ? seconds(ep.totalMs) : '?'}`;
      return `${ep.at} [${ep.reason}] ${[...ep.steps.map((s) => wordStep(s, ep.reason)), tail].join(' → ')}\n`;
    })
    .join('');
}
