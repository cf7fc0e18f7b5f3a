#!/usr/bin/env node
// Part: `check_tsbeat`: a Nagios/Icinga plugin. Asks the local daemon for its status report (as
// `tsbeat status --json` does), judges it (src/monitoring/evaluate.ts) and prints one status line
// with performance data; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

import { parseArgs } from 'node:util';
import { clientSocketPaths, isMainModule } from '../ipc/cli-common.js';
import { daemonAlive } from '../ipc/cli-daemon.js';
import { ApiCallError, ApiUnavailableError, isTransient, openFirst, retrying } from '../ipc/client.js';
import { printable } from '../lib/printable.js';
import {
  type CheckedReport,
  type CheckOptions,
  type CheckResult,
  evaluate,
  reportProblem,
  unavailableResult,
} from '../monitoring/evaluate.js';
import { exitCode, formatOutput, parseRange, type Range } from '../monitoring/plugin.js';

export const CHECK_TSBEAT_USAGE = `usage: check_tsbeat [-w RANGE] [-c RANGE] [--age-warning RANGE] [--age-critical RANGE]
                    [--ignore-placement] [-t SECONDS] [-V] [-h]

Monitoring plugin (Nagios, Icinga) for the local tsbeat daemon: peers, links, resource
groups, configuration agreement. Prints one status line with performance data.

  -w, --warning RANGE       links up per peer that give WARNING (default: fewer than all)
  -c, --critical RANGE      links up per peer that give CRITICAL (default: none up)
      --age-warning RANGE   ms since a peer was last heard that give WARNING (default: above warntime)
      --age-critical RANGE  same for CRITICAL (default: above deadtime)
      --ignore-placement    no WARNING for a group that runs on a node other than its preferred one
  -t, --timeout SECONDS     give up (UNKNOWN) after this long (default 10)
  -V, --version             print the version
  -h, --help                this text

RANGE is the plugin guidelines' [@]START:END: a value outside START..END alerts, with @ one
inside; "2" means 0:2, "2:" at least 2, "~:2" at most 2.

Exit status: 0 OK, 1 WARNING, 2 CRITICAL (also: tsbeat not running), 3 UNKNOWN (usage error,
timeout, no usable answer). Environment: TSBEAT_RUNDIR (default /run/tsbeat).
`;

const SERVICE = 'TSBEAT';

/** Parsed command line, or the usage error to report. */
export function parseCheckArgs(
  argv: readonly string[],
): { options: CheckOptions; timeoutS: number; help: boolean; version: boolean } | string {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        warning: { type: 'string', short: 'w' },
        critical: { type: 'string', short: 'c' },
        'age-warning': { type: 'string' },
        'age-critical': { type: 'string' },
        'ignore-placement': { type: 'boolean' },
        timeout: { type: 'string', short: 't' },
        version: { type: 'boolean', short: 'V' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return printable((e as Error).message, 300);
  }
  const ranges: Partial<Record<'linksWarning' | 'linksCritical' | 'ageWarning' | 'ageCritical', Range>> = {};
  const pairs = [
    ['warning', 'linksWarning'],
    ['critical', 'linksCritical'],
    ['age-warning', 'ageWarning'],
    ['age-critical', 'ageCritical'],
  ] as const;
  for (const [opt, key] of pairs) {
    const v = values[opt];
    if (typeof v !== 'string') continue;
    const r = parseRange(v);
    if (typeof r === 'string') return `--${opt}: ${printable(r, 200)}`;
    ranges[key] = r;
  }
  let timeoutS = 10;
  const t = values['timeout'];
  if (typeof t === 'string') {
    if (!/^\d+(\.\d+)?$/.test(t) || Number(t) <= 0 || Number(t) > 3600)
      return `--timeout wants seconds between 0 and 3600, not "${printable(t, 40)}"`;
    timeoutS = Number(t);
  }
  return {
    options: { ...ranges, ...(values['ignore-placement'] === true ? { ignorePlacement: true } : {}) },
    timeoutS,
    help: values['help'] === true,
    version: values['version'] === true,
  };
}

/** Ask the daemon (control.sock when permitted, else api.sock) and judge the answer; never throws. */
export async function runCheck(
  options: CheckOptions,
  timeoutS: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CheckResult> {
  const paths = clientSocketPaths(env);
  const budgetMs = timeoutS * 1000;
  const abort = new AbortController();
  // -t bounds everything, the retries of a busy daemon included (guidelines: plugins must end).
  const timer = setTimeout(() => abort.abort(), budgetMs);
  try {
    const ask = retrying(
      async (msLeft) => {
        const session = await openFirst([paths.control, paths.read], msLeft, abort.signal);
        try {
          return (await session.call('status', {})) as unknown;
        } finally {
          session.close();
        }
      },
      { budgetMs, signal: abort.signal },
    );
    const timedOut = new Promise<'timeout'>((resolve) =>
      abort.signal.addEventListener('abort', () => resolve('timeout')),
    );
    const report = await Promise.race([ask, timedOut]);
    ask.catch(() => undefined);
    if (report === 'timeout') return unavailableResult({ kind: 'timeout', seconds: timeoutS });
    const problem = reportProblem(report);
    if (problem !== undefined) return unavailableResult({ kind: 'error', detail: problem });
    return evaluate(report as CheckedReport, options);
  } catch (e) {
    if (abort.signal.aborted) return unavailableResult({ kind: 'timeout', seconds: timeoutS });
    const pid = daemonAlive(env);
    if (e instanceof ApiUnavailableError && e.reason === 'not-running')
      return unavailableResult(
        pid === undefined
          ? { kind: 'not-running', socket: paths.read }
          : { kind: 'not-answering', pid, socket: paths.read },
      );
    if (isTransient(e)) return unavailableResult({ kind: 'busy', detail: (e as Error).message });
    if (e instanceof ApiUnavailableError && e.reason === 'timeout')
      return unavailableResult({ kind: 'timeout', seconds: timeoutS });
    if (e instanceof ApiUnavailableError || e instanceof ApiCallError)
      return unavailableResult({
        kind: 'error',
        detail: `cannot get the status from ${paths.read}: ${e.message}`,
      });
    return unavailableResult({ kind: 'error', detail: `unexpected error: ${printable(String(e), 300)}` });
  } finally {
    clearTimeout(timer);
  }
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCheckArgs(argv);
  if (typeof parsed === 'string') {
    // Guidelines: a usage error is UNKNOWN, still with one status line first.
    process.stdout.write(`${SERVICE} UNKNOWN - usage: ${parsed}\n\n${CHECK_TSBEAT_USAGE}`);
    return 3;
  }
  if (parsed.help) {
    process.stdout.write(CHECK_TSBEAT_USAGE);
    return 0;
  }
  if (parsed.version) {
    process.stdout.write('check_tsbeat (tsbeat 0.1.0)\n');
    return 0;
  }
  const r = await runCheck(parsed.options, parsed.timeoutS);
  process.stdout.write(formatOutput(SERVICE, r.state, r.summary, r.perf, r.details));
  return exitCode(r.state);
}

if (isMainModule(import.meta.url)) {
  // Not runMain: a plugin must say UNKNOWN (3), never 70, whatever happens.
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stdout.write(`${SERVICE} UNKNOWN - internal error: ${printable(String(e), 300)}\n`);
      process.exitCode = 3;
    },
  );
}
