// Part: `tsbeat status`: the daemon's view of the cluster for humans (nodes, links, groups,
// timing and the takeover time it implies, recent events), or as JSON for scripts.

import { parseArgs } from 'node:util';
import { clientSocketPaths } from '../ipc/cli-common.js';
import { daemonAlive } from '../ipc/cli-daemon.js';
import { ApiCallError, ApiUnavailableError, isTransient, openFirst, retrying } from '../ipc/client.js';
import type { StatusReport } from '../ipc/schema.js';
import { REJECT_CLASSES } from '../lib/rejected.js';

export const STATUS_USAGE = `usage: tsbeat status [--json]

Shows the running daemon's view of the cluster: nodes, links, resource groups, timing and
recent events.

      --json   print the same data as one JSON object (format tsbeat-status/1, see tsbeat(8))
  -h, --help   this text

Exit status: 0 the daemon answered, 2 usage, 3 not running, 4 running but no usable answer
(too busy, or no answer within 5 s: try again).
`;

/** How long `tsbeat status` waits for the daemon, retries of a busy daemon included. */
const DEADLINE_MS = 5000;

/** Ask the daemon for its report: control.sock when this user may open it, else api.sock. */
function fetchStatus(paths: { readonly read: string; readonly control: string }): Promise<StatusReport> {
  return retrying(
    async (msLeft) => {
      const session = await openFirst([paths.control, paths.read], msLeft);
      try {
        return await session.call('status', {});
      } finally {
        session.close();
      }
    },
    { budgetMs: DEADLINE_MS },
  );
}

/** At most this many events in the human view (the JSON has all the daemon keeps). */
const EVENTS_SHOWN = 10;

export async function main(argv: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    process.stderr.write(`tsbeat status: ${(e as Error).message}\n\n${STATUS_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(STATUS_USAGE);
    return 0;
  }
  const paths = clientSocketPaths();
  const socket = paths.read;
  let report: StatusReport;
  try {
    report = await fetchStatus(paths);
  } catch (e) {
    const pid = daemonAlive();
    if (e instanceof ApiUnavailableError && e.reason === 'not-running') {
      if (pid !== undefined) {
        process.stderr.write(
          `tsbeat: the daemon (pid ${pid}) runs, but nothing answers on ${socket}: it may still be starting, or its socket was removed (restart it)\n`,
        );
        return 4;
      }
      process.stderr.write(`tsbeat: not running (nothing answers on ${socket})\n`);
      return 3;
    }
    if (isTransient(e)) {
      const who = pid !== undefined ? `the daemon (pid ${pid})` : 'the daemon';
      process.stderr.write(`tsbeat: ${who} is too busy to answer (${(e as Error).message}); try again\n`);
      return 4;
    }
    if (e instanceof ApiUnavailableError && e.reason === 'timeout') {
      process.stderr.write(`tsbeat: the daemon did not answer within ${DEADLINE_MS / 1000} s (${socket})\n`);
      return 4;
    }
    if (e instanceof ApiUnavailableError || e instanceof ApiCallError) {
      process.stderr.write(`tsbeat: cannot get the status from ${socket}: ${e.message}\n`);
      return 4;
    }
    throw e;
  }
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
  return 0;
}

/** A duration for people: 850ms, 3s, 2.5s, 4m05s, 3h12m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function ago(ms: number | null): string {
  return ms === null ? 'never' : `${formatDuration(ms)} ago`;
}

/** Local wall-clock time of an ISO stamp: `2026-11-22 20:31:18`. */
function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Rows as aligned columns, two blanks apart, indented by two; no trailing blanks. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** Words into lines of at most `width` characters, each indented by two blanks. */
function wrap(text: string, width = 96): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width - 2) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => `  ${l}\n`).join('');
}

const HOLDS: Readonly<Record<string, string>> = {
  none: 'no resources',
  local: 'its local resources',
  foreign: 'the foreign resources',
  all: 'all resources',
  transition: 'resources in transition',
};

function renderFencing(f: StatusReport['fencing']): string {
  if (!f.configured)
    return wrap(
      f.takeoverWithoutFencing
        ? 'not configured; groups on shared storage are taken over without fencing (takeover_without_fencing is on)'
        : 'not configured; groups on shared storage (drbddisk, Filesystem, LVM, Raid1) are not taken over from a dead peer',
    );
  const lines = [`  device ${f.device ?? '?'}\n`];
  if (f.preferredSurvivor)
    lines.push(
      `  preferred survivor ${f.preferredSurvivor}; this node ${f.delayMs > 0 ? `waits ${formatDuration(f.delayMs)} before fencing` : 'fences at once'}\n`,
    );
  lines.push(
    f.lastCheck
      ? `  device check ${localTime(f.lastCheck.at)}: ${f.lastCheck.ok ? 'operational' : `FAILED (${f.lastCheck.detail})`}\n`
      : '  device check: not run yet\n',
  );
  lines.push(
    f.lastFence
      ? `  last reset ${localTime(f.lastFence.at)}: ${f.lastFence.node} ${f.lastFence.ok ? 'reset' : `NOT reset (${f.lastFence.detail})`}\n`
      : '  last reset: none\n',
  );
  return lines.join('');
}

/** One line of the non-zero rejected-input counters, or '' when nothing was rejected. */
function rejectedLine(counts: StatusReport['rejected'] | undefined): string {
  if (!counts) return '';
  const parts = REJECT_CLASSES.filter((c) => (counts[c] ?? 0) > 0).map((c) => `${c} ${counts[c]}`);
  return parts.length > 0 ? `rejected input since start: ${parts.join(', ')} (details in the log)\n` : '';
}

/** The human view of a status report. */
export function renderStatus(r: StatusReport): string {
  const out: string[] = [];
  const head = [`cluster ${r.cluster ?? '(unnamed)'}`];
  if (r.generation !== null) head.push(`generation ${r.generation}`);
  head.push(`pid ${r.pid}`);
  if (r.startedAt !== null) head.push(`started ${localTime(r.startedAt)}`);
  out.push(`tsbeat ${r.version} on ${r.node}: ${head.join(', ')}\n`);
  const comm = r.ready ? 'communication up' : 'communication not up yet (waiting for initdead)';
  const rsc =
    r.managedBy === 'pacemaker'
      ? 'resources managed by Pacemaker'
      : `resources managed by haresources, this node holds ${r.rscstatus === null ? 'nothing (resource management off)' : (HOLDS[r.rscstatus] ?? r.rscstatus)}`;
  out.push(`${comm}; ${rsc}\n`);
  for (const m of r.configMismatch ?? [])
    out.push(
      `WARNING: configuration differs from node ${m.node}: ${m.files.join(', ')} (make the files the same on every node)\n`,
    );
  const rejected = rejectedLine(r.rejected);
  if (rejected) out.push(rejected);
  for (const l of r.logs ?? []) {
    if (l.ok && l.droppedLines === 0) continue;
    out.push(
      `log ${l.file}: ${l.ok ? 'writing' : 'failing'}${l.lastError ? ` (${l.lastError})` : ''}, ${l.droppedLines} line(s) dropped, ${l.queuedLines} queued\n`,
    );
  }

  out.push('\nNodes:\n');
  out.push(
    table(
      ['NODE', 'TYPE', 'STATUS', 'GENERATION', 'WEIGHT', 'LAST HEARD'],
      r.nodes.map((n) => [
        n.local ? `${n.name} (this node)` : n.name,
        n.type,
        n.status,
        n.generation === null ? '-' : String(n.generation),
        String(n.weight),
        n.local ? '-' : ago(n.lastHeardAgoMs),
      ]),
    ),
  );

  out.push('\nLinks:\n');
  const links = r.nodes.flatMap((n) => n.links.map((l) => [n.name, l.name, l.status, ago(l.lastHeardAgoMs)]));
  out.push(links.length > 0 ? table(['NODE', 'LINK', 'STATE', 'LAST HEARD'], links) : '  none\n');

  out.push('\nResource groups:\n');
  out.push(
    r.groups.length > 0
      ? table(
          ['GROUP', 'PREFERRED', 'RUNS ON', 'STATE HERE', 'RESOURCES'],
          r.groups.map((g) => [g.key, g.preferredNode, g.runningOn ?? '-', g.state, g.resources.join(' ')]),
        )
      : '  none (haresources has no groups)\n',
  );

  out.push('\nFencing:\n');
  out.push(renderFencing(r.fencing));

  const t = r.timing;
  out.push('\nTiming:\n');
  out.push(
    `  keepalive ${formatDuration(t.keepaliveMs)}, warntime ${formatDuration(t.warntimeMs)}, deadtime ${formatDuration(t.deadtimeMs)}, initdead ${formatDuration(t.initdeadMs)}\n`,
  );
  out.push(
    wrap(
      `worst-case takeover: a failed peer is declared dead ${formatDuration(t.detectionMs)} after its last heartbeat` +
        ` (${formatDuration(t.startupDetectionMs)} while the cluster starts), then its groups start here;` +
        ` heartbeat 3.0.6 may take up to ${formatDuration(t.heartbeatDetectionMs)} to notice`,
    ),
  );

  out.push('\nRecent events:\n');
  const events = r.events.slice(-EVENTS_SHOWN);
  out.push(
    events.length > 0
      ? `${events.map((e) => `  ${localTime(e.at)}  ${e.level.padEnd(5)}  ${e.message}`).join('\n')}\n`
      : '  none\n',
  );
  return out.join('');
}
