// Part: check_tsbeat's decision, pure: from one `tsbeat status` report (and the thresholds) to a
// service state, a summary, detail lines and performance data. The successor of heartbeat's
// check_heartbeat_link, which only counted links; this also judges the peers, the groups and
// whether the nodes' configurations agree.

import type { StatusReport } from '../ipc/schema.js';
import {
  atLeast,
  atMost,
  type PerfDatum,
  type PluginState,
  type Range,
  thresholdState,
  worst,
} from './plugin.js';

/**
 * One node whose ha.cf, haresources or authkeys differ from this node's (the config digest the
 * nodes exchange). Absent or empty in the report when every node agrees.
 */
export interface ConfigMismatch {
  readonly node: string;
  readonly files: readonly string[];
}

/** What check_tsbeat reads: the status report, with the digest comparison when the daemon has it. */
export type CheckedReport = StatusReport & { readonly configMismatch?: readonly ConfigMismatch[] | null };

export interface CheckOptions {
  /** On the number of links up, per peer. Default: WARNING unless all are up. */
  readonly linksWarning?: Range;
  /** On the number of links up, per peer. Default: CRITICAL when none is up. */
  readonly linksCritical?: Range;
  /** On ms since a peer was last heard. Default: above the warntime. */
  readonly ageWarning?: Range;
  /** On ms since a peer was last heard. Default: above the deadtime. */
  readonly ageCritical?: Range;
  /** Do not warn about a group that runs on a node other than its preferred one. */
  readonly ignorePlacement?: boolean;
}

export interface CheckResult {
  readonly state: PluginState;
  readonly summary: string;
  readonly details: readonly string[];
  readonly perf: readonly PerfDatum[];
}

interface Finding {
  readonly state: PluginState;
  readonly text: string;
}

const fmtMs = (ms: number): string => (ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/**
 * Why a report cannot be judged (a daemon of another version, a truncated answer), or
 * undefined when every field check_tsbeat reads is there.
 */
export function reportProblem(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null) return 'the status answer is not an object';
  const o = r as Record<string, unknown>;
  if (o['format'] !== 'tsbeat-status/1')
    return `unknown status format ${JSON.stringify(o['format'])} (this check_tsbeat reads tsbeat-status/1)`;
  if (!Array.isArray(o['nodes']) || !Array.isArray(o['groups']))
    return 'the status answer has no nodes or groups';
  const t = o['timing'] as Record<string, unknown> | undefined;
  if (typeof t?.['warntimeMs'] !== 'number' || typeof t['deadtimeMs'] !== 'number')
    return 'the status answer has no timing';
  for (const n of o['nodes'] as unknown[]) {
    const node = n as Record<string, unknown> | null;
    if (typeof node?.['name'] !== 'string' || !Array.isArray(node['links']))
      return 'a node in the status answer has no name or links';
  }
  const cm = o['configMismatch'];
  if (cm !== undefined && cm !== null) {
    if (!Array.isArray(cm)) return 'configMismatch in the status answer is not a list';
    for (const m of cm) {
      const e = m as Record<string, unknown> | null;
      if (typeof e?.['node'] !== 'string' || !Array.isArray(e['files']))
        return 'an entry of configMismatch has no node or files';
    }
  }
  return undefined;
}

/** Judge one report. Never throws on a report that passed reportProblem(). */
export function evaluate(r: CheckedReport, o: CheckOptions = {}): CheckResult {
  const findings: Finding[] = [];
  const details: string[] = [];
  const perf: PerfDatum[] = [];

  if (!r.ready) findings.push({ state: 'WARNING', text: 'communication not up yet (initdead)' });

  // Peers: status, links, last heard. Ping nodes are not peers: an unreachable router is
  // ipfail's business (it moves the groups), not a cluster fault.
  const peers = r.nodes.filter((n) => !n.local && n.type !== 'ping');
  for (const p of peers) {
    const total = p.links.length;
    const up = p.links.filter((l) => l.status === 'up').length;
    const lw = o.linksWarning ?? atLeast(total);
    const lc = o.linksCritical ?? atLeast(Math.min(1, total));
    const aw = o.ageWarning ?? atMost(r.timing.warntimeMs);
    const ac = o.ageCritical ?? atMost(r.timing.deadtimeMs);

    if (p.status === 'dead') findings.push({ state: 'CRITICAL', text: `${p.name} dead` });
    else if (p.status !== 'active')
      findings.push({ state: 'WARNING', text: `${p.name} ${p.status} (not active yet)` });

    const linkState = thresholdState(up, lw, lc);
    if (linkState !== 'OK') {
      const down = p.links.filter((l) => l.status !== 'up').map((l) => l.name);
      findings.push({
        state: linkState,
        text: `${up}/${total} links up to ${p.name}${down.length > 0 ? ` (${down.join(', ')} dead)` : ''}`,
      });
    }
    perf.push({ label: `${p.name}_links_up`, value: up, warning: lw, critical: lc, min: 0, max: total });

    const age = p.lastHeardAgoMs;
    if (age === null) {
      // A dead peer is already CRITICAL; one never heard while alive cannot be.
      if (p.status !== 'dead') findings.push({ state: 'WARNING', text: `${p.name} never heard` });
    } else {
      const ageState = thresholdState(age, aw, ac);
      // A dead peer's silence is the same problem as its death: say it once.
      if (ageState !== 'OK' && p.status !== 'dead')
        findings.push({ state: ageState, text: `${p.name} last heard ${fmtMs(age)} ago` });
      perf.push({
        label: `${p.name}_last_heard`,
        value: Math.round(age),
        uom: 'ms',
        warning: aw,
        critical: ac,
        min: 0,
      });
    }
    const links = p.links.map((l) => `${l.name} ${l.status}`).join(', ') || 'no links';
    details.push(
      `node ${p.name}: ${p.status}, ${up}/${total} links up (${links}), last heard ${age === null ? 'never' : `${fmtMs(age)} ago`}`,
    );
  }
  if (peers.length === 0) details.push('no peer in ha.cf');

  // Groups: each should run somewhere, on its preferred node unless told otherwise.
  const managed =
    r.managedBy === 'haresources' && r.rscstatus !== null && r.groups.some((g) => g.state !== 'unmanaged');
  let running = 0;
  let nowhere = 0;
  if (!managed) {
    details.push(
      r.groups.length === 0
        ? 'no resource groups'
        : 'resource groups not managed by tsbeat here (Pacemaker, or resource management off)',
    );
  } else if (!r.ready) {
    details.push('resource groups not judged before communication is up');
  } else {
    for (const g of r.groups) {
      const inTransition = /^(starting|stopping)/.test(g.state) || r.rscstatus === 'transition';
      if (g.runningOn !== null) running++;
      if (g.state === 'stopFailed') {
        findings.push({ state: 'CRITICAL', text: `group ${g.key} could not be stopped on ${r.node}` });
      } else if (g.runningOn === null) {
        if (inTransition)
          findings.push({ state: 'WARNING', text: `group ${g.key} in transition (${g.state})` });
        else {
          nowhere++;
          findings.push({
            state: 'CRITICAL',
            text: `group ${g.key} not running anywhere${g.state === 'failed' ? ` (failed to start on ${r.node})` : ''}`,
          });
        }
      } else {
        if (g.state === 'failed')
          findings.push({ state: 'WARNING', text: `group ${g.key} failed to start on ${r.node}` });
        if (g.runningOn !== g.preferredNode && !o.ignorePlacement)
          findings.push({
            state: 'WARNING',
            text: `group ${g.key} runs on ${g.runningOn}, not on its preferred node ${g.preferredNode}`,
          });
      }
      details.push(
        `group ${g.key}: ${g.runningOn === null ? 'not running' : `runs on ${g.runningOn}`} (preferred ${g.preferredNode}; here ${g.state})`,
      );
    }
    perf.push({ label: 'groups_running', value: running, min: 0, max: r.groups.length });
    perf.push({ label: 'groups_not_running', value: nowhere, min: 0, max: r.groups.length });
  }

  // Configuration drift between the nodes, from the digests they exchange.
  const mismatches = (r.configMismatch ?? []).filter((m) => m.files.length > 0);
  for (const m of mismatches)
    findings.push({
      state: 'WARNING',
      text: `configuration differs from ${m.node}: ${m.files.join(', ')}`,
    });
  if (r.configMismatch !== undefined && r.configMismatch !== null)
    perf.push({ label: 'config_mismatch_nodes', value: mismatches.length, min: 0 });

  for (const l of r.logs ?? [])
    if (!l.ok)
      findings.push({
        state: 'WARNING',
        text: `log ${l.file} failing${l.lastError ? ` (${l.lastError})` : ''}`,
      });
  const check = r.fencing.lastCheck;
  if (r.fencing.configured && check && !check.ok)
    findings.push({ state: 'WARNING', text: `STONITH device check failed (${check.detail})` });

  const state = worst(findings.map((f) => f.state));
  const order: PluginState[] = ['CRITICAL', 'WARNING', 'UNKNOWN'];
  const summary =
    findings.length > 0
      ? order.flatMap((s) => findings.filter((f) => f.state === s).map((f) => f.text)).join('; ')
      : okSummary(r, o, managed ? running : undefined);
  return { state, summary, details, perf };
}

function okSummary(r: CheckedReport, o: CheckOptions, running: number | undefined): string {
  const peers = r.nodes
    .filter((n) => !n.local && n.type !== 'ping')
    .map(
      (p) =>
        `${p.name} ${p.status}, ${p.links.filter((l) => l.status === 'up').length}/${p.links.length} links up`,
    );
  const parts = [`${r.node}: ${peers.length > 0 ? peers.join('; ') : 'no peers'}`];
  if (running !== undefined)
    parts.push(
      `${running} group${running === 1 ? '' : 's'} running${o.ignorePlacement ? '' : ' on the preferred node'}`,
    );
  return parts.join('; ');
}

/** Why the daemon did not give a report, as check_tsbeat sees it. */
export type Unavailable =
  | { readonly kind: 'not-running'; readonly socket: string }
  | { readonly kind: 'not-answering'; readonly pid: number; readonly socket: string }
  | { readonly kind: 'busy'; readonly detail: string }
  | { readonly kind: 'timeout'; readonly seconds: number }
  | { readonly kind: 'error'; readonly detail: string };

/**
 * The result when there is no report. A stopped daemon is CRITICAL (the cluster is not
 * protecting anything on this node); anything that leaves the answer open is UNKNOWN.
 */
export function unavailableResult(u: Unavailable): CheckResult {
  switch (u.kind) {
    case 'not-running':
      return {
        state: 'CRITICAL',
        summary: `tsbeat is not running (nothing answers on ${u.socket})`,
        details: [],
        perf: [],
      };
    case 'not-answering':
      return {
        state: 'UNKNOWN',
        summary: `tsbeat (pid ${u.pid}) runs, but nothing answers on ${u.socket}`,
        details: [],
        perf: [],
      };
    case 'busy':
      return {
        state: 'UNKNOWN',
        summary: `tsbeat is too busy to answer (${u.detail})`,
        details: [],
        perf: [],
      };
    case 'timeout':
      return {
        state: 'UNKNOWN',
        summary: `no answer from tsbeat within ${u.seconds} s (-t)`,
        details: [],
        perf: [],
      };
    case 'error':
      return { state: 'UNKNOWN', summary: u.detail, details: [], perf: [] };
  }
}
