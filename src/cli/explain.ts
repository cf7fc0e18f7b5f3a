// Part: `tsbeat explain [--since T] [--json]`: asks the running daemon for its event journal
// and tells, one line per ownership change, why it happened and how long each step took.

import { parseArgs } from 'node:util';
import { clientSocketPaths } from '../ipc/cli-common.js';
import { daemonAlive } from '../ipc/cli-daemon.js';
import { ApiUnavailableError, isTransient, openFirst, retrying } from '../ipc/client.js';
import { printable } from '../lib/printable.js';
import { explain, formatExplain } from '../observe/explain.js';

export const EXPLAIN_USAGE = `usage: tsbeat explain [--since T] [--json]

Tells why each ownership change of resource groups happened since the daemon started, one
line each, with reason codes and the time every step took, e.g.

  2026-12-05T08:40:01.120Z [peer-dead] node2 silent 3012 ms on 2/2 links > deadtime 3000 ms
    → fenced node2 via external/ipmi (180 ms) → took over group IPaddr2::10.0.0.10
    (IPaddr2 4 ms, ldirectord 310 ms) → total 3.52 s

      --since T   only changes since T: an ISO time (2026-12-05T08:00), or a duration
                  back from now (90s, 15m, 2h)
      --json      the same as JSON (episodes with reason, groups, steps, totalMs)
  -h, --help      this text

Exit status: 0 the daemon answered, 2 usage, 3 not running, 4 no usable answer.
`;

/** `--since`: an ISO time, or a duration back from `nowMs`; undefined when it is neither. */
export function parseSince(text: string, nowMs: number): number | undefined {
  const d = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (d) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 'ms'];
    return nowMs - Number(d[1]) * unit;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : undefined;
}

export async function main(argv: string[]): Promise<number> {
  let values: { since?: string; json?: boolean; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        since: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    process.stderr.write(`tsbeat explain: ${printable((e as Error).message, 300)}\n\n${EXPLAIN_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(EXPLAIN_USAGE);
    return 0;
  }
  let sinceMs: number | undefined;
  if (values.since !== undefined) {
    sinceMs = parseSince(values.since, Date.now());
    if (sinceMs === undefined) {
      process.stderr.write(
        `tsbeat explain: --since ${printable(values.since, 100)} is neither an ISO time (2026-12-05T08:00) nor a duration (90s, 15m, 2h)\n`,
      );
      return 2;
    }
  }
  const paths = clientSocketPaths();
  let journal: Awaited<ReturnType<typeof fetchJournal>>;
  try {
    // The whole journal: a change that began before --since but ended after it still needs its causes.
    journal = await fetchJournal(paths);
  } catch (e) {
    if (e instanceof ApiUnavailableError && e.reason === 'not-running' && daemonAlive() === undefined) {
      process.stderr.write(`tsbeat: not running (nothing answers on ${paths.read})\n`);
      return 3;
    }
    const why = isTransient(e) ? 'too busy to answer; try again' : (e as Error).message;
    process.stderr.write(`tsbeat explain: cannot read the journal from ${paths.read}: ${why}\n`);
    return 4;
  }
  const episodes = explain(journal.events).filter(
    (ep) => sinceMs === undefined || Date.parse(ep.at) >= sinceMs,
  );
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ format: 'tsbeat-explain/1', episodes, journalDropped: journal.dropped }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(formatExplain(episodes));
    if (journal.dropped > 0)
      process.stdout.write(`(the journal is full: its ${journal.dropped} oldest entries were dropped)\n`);
  }
  return 0;
}

function fetchJournal(paths: { readonly read: string; readonly control: string }) {
  return retrying(
    async (msLeft) => {
      const session = await openFirst([paths.control, paths.read], msLeft);
      try {
        return await session.call('journal', {});
      } finally {
        session.close();
      }
    },
    { budgetMs: 5000 },
  );
}
