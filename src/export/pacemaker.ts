// Part: the pure core of `tsbeat export pacemaker`: heartbeat's ha.cf, haresources and
// authkeys -> a Pacemaker configuration (groups, constraints, fencing, properties), a
// Corosync 3 configuration, and a report line for every input item. No I/O.

import { SHARED_STORAGE } from '../config/validate.js';
import type { Diagnostic } from '../lib/diagnostic.js';
import { type CorosyncExport, directiveEntry, exportCorosync } from './corosync.js';
import type {
  Constraint,
  ExportInput,
  ExportOptions,
  Group,
  GroupPlacement,
  Nv,
  PacemakerConfig,
  Primitive,
  PromotableClone,
  ReportEntry,
  Resource,
} from './model.js';
import { IdSet, mapResource } from './resources.js';
import { mapStonith } from './stonith.js';

/** A group's preference for its haresources node: below any stickiness used for `auto_failback off`. */
export const LOCATION_SCORE = 100;
/** Per member; a group's stickiness is the sum over its running members, so any value > 100 keeps it. */
export const STICKINESS_OFF = 200;

export interface ExportResult {
  readonly pacemaker: PacemakerConfig;
  readonly corosync: CorosyncExport;
  readonly report: readonly ReportEntry[];
  /** Errors: nothing useful can be written. Warnings travel in the report. */
  readonly diagnostics: readonly Diagnostic[];
  readonly placements: readonly GroupPlacement[];
  /** The node whose fencing is delayed, so that it wins a fence race (undefined without STONITH). */
  readonly preferredSurvivor?: string;
}

function drbdClone(res: string, ids: IdSet): PromotableClone {
  const id = ids.take(`drbd-${res}`);
  const primitive: Primitive = {
    kind: 'primitive',
    id,
    class: 'ocf',
    provider: 'linbit',
    type: 'drbd',
    params: [{ name: 'drbd_resource', value: res }],
    // Two monitors must differ in interval; these are LINBIT's documented values.
    ops: [
      { name: 'monitor', interval: '29s', timeout: '20s', role: 'Promoted' },
      { name: 'monitor', interval: '31s', timeout: '20s', role: 'Unpromoted' },
      { name: 'start', interval: '0s', timeout: '240s' },
      { name: 'stop', interval: '0s', timeout: '100s' },
      { name: 'promote', interval: '0s', timeout: '90s' },
      { name: 'demote', interval: '0s', timeout: '90s' },
    ],
  };
  return {
    kind: 'clone',
    id: ids.take(`${id}-clone`),
    primitive,
    meta: [
      { name: 'promotable', value: 'true' },
      { name: 'promoted-max', value: '1' },
      { name: 'promoted-node-max', value: '1' },
      { name: 'clone-max', value: '2' },
      { name: 'clone-node-max', value: '1' },
      { name: 'notify', value: 'true' },
    ],
    why: `drbddisk::${res}: DRBD runs on both nodes and is Primary (Promoted) on one, where the groups that use it run`,
  };
}

/**
 * tsbeat's preferred survivor, as its daemon picks it (src/daemon/daemon.ts, createFencer):
 * `env TSBEAT_PREFERRED_SURVIVOR=NODE` in ha.cf, else the first node; and the delay the other
 * node waits before fencing it (`env TSBEAT_FENCE_DELAY`, seconds, default 5).
 */
function survivorOf(input: ExportInput): { node: string; delay: string } | undefined {
  const h = input.haCf;
  const envValue = (name: string): string | undefined => h.env.find(([k]) => k === name)?.[1];
  const node = (envValue('TSBEAT_PREFERRED_SURVIVOR') ?? h.nodes[0])?.toLowerCase();
  const delayS = Number.parseFloat(envValue('TSBEAT_FENCE_DELAY') ?? '5');
  if (node === undefined) return undefined;
  return { node, delay: `${Number.isFinite(delayS) ? Math.max(0, delayS) : 5}s` };
}

export function exportPacemaker(input: ExportInput, opts: ExportOptions): ExportResult {
  const report: ReportEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  const ids = new IdSet();
  const { haCf } = input;
  const nodes = haCf.nodes;
  const resources: Resource[] = [];
  const constraints: Constraint[] = [];
  const placements: GroupPlacement[] = [];

  if (nodes.length === 0) {
    diagnostics.push({
      severity: 'error',
      file: input.haCfFile,
      message: 'no "node" lines: there is no cluster to export',
      hint: 'list every member with "node NAME" (the output of uname -n)',
    });
  }
  if (nodes.length > 2) {
    report.push({
      file: input.haCfFile,
      item: `${nodes.length} nodes`,
      status: 'decide',
      became:
        'heartbeat v1 resource groups are a two-node concept; the export keeps each group on its node, and Pacemaker spreads them over the others on failure (add constraints if that is not wanted)',
    });
  }

  // Fencing first: its devices head the resource list, as pcs and crmsh show them.
  const survivor = input.stonith.length > 0 ? survivorOf(input) : undefined;
  const fencing = mapStonith(input, ids, survivor);
  resources.push(...fencing.resources);
  constraints.push(...fencing.constraints);
  report.push(...fencing.report);
  const stonithEnabled = fencing.resources.length > 0;

  const drbdClones = new Map<string, { clone: PromotableClone; group: string; line: number }>();

  input.groups.forEach((g, gi) => {
    const src = input.haresourcesSource.groups[gi];
    const members: Primitive[] = [];
    const drbdHere: string[] = [];
    let firstDrbdAt = -1;
    g.resources.forEach((r, ri) => {
      const at = src?.resources[ri];
      const m = mapResource(r, ids, opts);
      if (m.kind === 'error') {
        diagnostics.push({
          severity: 'error',
          file: input.haresourcesFile,
          ...(at ? { line: at.line, col: at.col } : {}),
          message: m.message,
          hint: m.hint,
        });
        return;
      }
      report.push({
        file: input.haresourcesFile,
        ...(at ? { line: at.line } : {}),
        item: r.spec,
        status: m.status,
        became: m.became,
      });
      if (m.kind === 'drbd') {
        if (firstDrbdAt < 0) firstDrbdAt = members.length;
        drbdHere.push(m.drbdResource);
      } else {
        members.push(m.primitive);
      }
    });
    const groupId = ids.take(`grp-${members[0]?.id ?? (drbdHere[0] ? `drbd-${drbdHere[0]}` : g.key)}`);
    placements.push({
      id: groupId,
      key: g.key,
      preferredNode: g.node,
      sharedStorage: g.resources.some((r) => SHARED_STORAGE.has(r.script)),
    });
    const line = src?.at.line;
    const lineRef = line !== undefined ? ` (line ${line})` : '';
    const onlyDrbd = members.length === 0;
    if (!onlyDrbd) {
      const group: Group = {
        kind: 'group',
        id: groupId,
        members,
        why: `haresources${lineRef}: ${g.node} ${g.resources.map((r) => r.spec).join(' ')}`,
      };
      resources.push(group);
      constraints.push({
        kind: 'location',
        id: ids.take(`loc-${groupId}`),
        rsc: groupId,
        node: g.node,
        score: String(LOCATION_SCORE),
        why: `haresources${lineRef} prefers ${g.node}`,
      });
    }
    for (const res of drbdHere) {
      const prior = drbdClones.get(res);
      if (prior) {
        diagnostics.push({
          severity: 'error',
          file: input.haresourcesFile,
          ...(line !== undefined ? { line } : {}),
          message: `drbddisk::${res} is also in the group on line ${prior.line}: DRBD can be Primary on one node only`,
          hint: 'put every resource that uses one DRBD device in one haresources line',
        });
        continue;
      }
      const clone = drbdClone(res, ids);
      drbdClones.set(res, { clone, group: groupId, line: line ?? 0 });
      resources.push(clone);
      if (onlyDrbd) {
        constraints.push({
          kind: 'location',
          id: ids.take(`loc-${clone.id}-promoted`),
          rsc: clone.id,
          node: g.node,
          role: 'Promoted',
          score: String(LOCATION_SCORE),
          why: `haresources${lineRef} prefers ${g.node} for drbddisk::${res}`,
        });
        continue;
      }
      constraints.push({
        kind: 'colocation',
        id: ids.take(`col-${groupId}-with-${clone.id}`),
        rsc: groupId,
        withRsc: clone.id,
        withRole: 'Promoted',
        score: 'INFINITY',
        why: `drbddisk::${res} was in this group: it runs where ${res} is Primary`,
      });
      constraints.push({
        kind: 'order',
        id: ids.take(`ord-${clone.id}-then-${groupId}`),
        first: clone.id,
        firstAction: 'promote',
        thenRsc: groupId,
        thenAction: 'start',
        why: `the group's resources start after ${res} becomes Primary`,
      });
      if (firstDrbdAt > 0) {
        report.push({
          file: input.haresourcesFile,
          ...(line !== undefined ? { line } : {}),
          item: `order of ${members
            .slice(0, firstDrbdAt)
            .map((m) => m.id)
            .join(', ')} before drbddisk::${res}`,
          status: 'changed',
          became: `they now start after ${res} is promoted (heartbeat started them first); harmless unless they need to run before DRBD`,
        });
      }
    }
    if (placements.at(-1)?.sharedStorage && !stonithEnabled) {
      report.push({
        file: input.haresourcesFile,
        ...(line !== undefined ? { line } : {}),
        item: `group ${groupId}: shared storage without STONITH`,
        status: 'decide',
        became:
          'tsbeat never takes these over from a dead peer it could not fence; Pacemaker with stonith-enabled=false does: configure a fence device (and stonith-enabled=true) before going live',
      });
    }
  });

  const autoFailbackAt = input.haCfSource.directives['auto_failback']?.line;
  const stickiness = haCf.autoFailback === 'off' ? String(STICKINESS_OFF) : '0';
  const stickinessWhy =
    haCf.autoFailback === 'off'
      ? `auto_failback off: a running group stays where it is; ${STICKINESS_OFF} per resource outweighs the ${LOCATION_SCORE} of its preferred node`
      : haCf.autoFailback === 'on'
        ? `auto_failback on: a group returns to its preferred node (location ${LOCATION_SCORE}) as soon as that node is back`
        : `auto_failback legacy: groups return to their preferred node as with "on" (only heartbeat's wire protocol differed)`;
  report.push({
    file: input.haCfFile,
    ...(autoFailbackAt !== undefined ? { line: autoFailbackAt } : {}),
    item: `auto_failback ${haCf.autoFailback}`,
    status: haCf.autoFailback === 'legacy' ? 'changed' : 'mapped',
    became: `rsc_defaults resource-stickiness=${stickiness}: ${stickinessWhy}`,
  });

  const properties: Nv[] = [
    {
      name: 'stonith-enabled',
      value: String(stonithEnabled),
      why: stonithEnabled
        ? 'ha.cf configures STONITH: a node is fenced before its groups are taken over'
        : 'ha.cf configures no STONITH: groups are taken over without fencing, as heartbeat did; configure a fence device and set this to true',
    },
    {
      name: 'no-quorum-policy',
      value: 'stop',
      why:
        nodes.length === 2
          ? 'two nodes: corosync.conf sets two_node, so the survivor keeps quorum and "stop" never stops it; without two_node one node alone would stop everything'
          : 'a partition without quorum stops its resources',
    },
  ];
  if (!stonithEnabled) {
    report.push({
      file: input.haCfFile,
      item: 'no stonith / stonith_host',
      status: 'decide',
      became:
        'stonith-enabled=false, as heartbeat ran without fencing; Pacemaker clusters are supported only with fencing: add a fence device',
    });
  }
  const rscDefaults: Nv[] = [
    { name: 'resource-stickiness', value: stickiness, why: stickinessWhy },
    {
      name: 'migration-threshold',
      value: '3',
      why: 'heartbeat never monitored resources; Pacemaker monitors them, restarts a failed one, and moves its group after 3 failures',
    },
  ];

  const corosync = exportCorosync(input);
  report.push(...corosync.report);

  // Lines not reported yet: earlier lines of a repeated directive, or more env/apiauth lines.
  for (const l of input.haCfLines) {
    if (report.some((e) => e.file === input.haCfFile && e.line === l.line)) continue;
    const later = input.haCfLines.some((x) => x.directive === l.directive && x.line > l.line);
    const multi = l.directive === 'env' || l.directive === 'apiauth';
    report.push({
      file: input.haCfFile,
      line: l.line,
      ...(later && !multi
        ? {
            item: l.text,
            status: 'none' as const,
            became: `replaced by the later ${l.directive} line, as in heartbeat`,
          }
        : directiveEntry(l.directive, l.text, input)),
    });
  }

  return {
    pacemaker: { nodes, properties, rscDefaults, resources, constraints },
    corosync,
    report,
    diagnostics,
    placements,
    ...(survivor !== undefined ? { preferredSurvivor: survivor.node } : {}),
  };
}
