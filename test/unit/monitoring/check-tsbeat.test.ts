/**
 * check_tsbeat, the Nagios/Icinga plugin. Proves, on the pure functions: the guidelines' range
 * syntax (`10`, `10:`, `~:10`, `10:20`, `@10:20`, inclusive ends) and its refusals; perfdata as
 * `'label'=value[UOM];warn;crit;min;max` with trailing empty fields dropped; the output line
 * `TSBEAT STATE - summary | perfdata` with long output after it; and the verdict on status
 * reports built by the daemon's own statusReport() from a fake view, one per state: OK for a
 * healthy pair, WARNING for a dead link, a late peer, a joining peer, a group off its preferred
 * node, a group in transition, communication not up, a failing log, a failed STONITH check and
 * a configuration digest mismatch (`configMismatch`, fabricated here, naming node and files),
 * CRITICAL for a dead peer, all links dead, a peer silent past deadtime, a group running
 * nowhere and a group that could not be stopped, and UNKNOWN for an unreadable answer or a
 * timeout; custom -w/-c/--age-* ranges replace the defaults. Then the built command against
 * a real API server (the daemon's, over a fake view) in a temp run directory: exit 0, 1, 2 and
 * 3 with the matching first word, 2 without a daemon, 3 for a usage error, for a daemon alive
 * by its pid file with no socket, and for one that never answers within -t.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_TSBEAT_USAGE, parseCheckArgs } from '../../../src/cli/check_tsbeat.js';
import { type ApiServers, startApiServers, statusReport } from '../../../src/ipc/api.js';
import {
  type CheckedReport,
  type CheckOptions,
  evaluate,
  reportProblem,
  unavailableResult,
} from '../../../src/monitoring/evaluate.js';
import {
  alerts,
  exitCode,
  formatOutput,
  formatPerfDatum,
  parseRange,
  type Range,
  worst,
} from '../../../src/monitoring/plugin.js';
import { REPO } from '../../support/cli.js';
import { FakeView, labNode } from '../ipc/fake-view.js';

const range = (t: string): Range => {
  const r = parseRange(t);
  if (typeof r === 'string') throw new Error(r);
  return r;
};

describe('threshold ranges (guidelines "Threshold and ranges")', () => {
  it.each([
    // text, values that alert, values that do not
    ['10', [-1, 10.5, 11], [0, 5, 10]],
    ['10:', [-5, 9.99], [10, 11, 1e9]],
    ['~:10', [10.01, 11], [-1e9, 0, 10]],
    ['10:20', [9, 21], [10, 15, 20]],
    ['@10:20', [10, 15, 20], [9, 21]],
    ['@5', [0, 5], [-1, 6]],
    ['2:2', [1, 3], [2]],
  ] as const)('%s', (text, alerting, quiet) => {
    const r = range(text);
    for (const v of alerting) expect(alerts(r, v), `${text} on ${v}`).toBe(true);
    for (const v of quiet) expect(alerts(r, v), `${text} on ${v}`).toBe(false);
  });

  it('refuses what is not a range, saying why', () => {
    expect(parseRange('20:10')).toMatch(/start 20 is above end 10/);
    expect(parseRange('abc')).toMatch(/end "abc" is not a number/);
    expect(parseRange('x:5')).toMatch(/start "x" is not a number or "~"/);
    expect(parseRange('@')).toMatch(/nothing after "@"/);
    expect(parseRange('5:~')).toMatch(/end "~" is not a number/);
  });
});

describe('states, perfdata, output', () => {
  it('maps states to exit codes 0..3 and ranks CRITICAL > WARNING > UNKNOWN > OK', () => {
    expect(['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'].map((s) => exitCode(s as 'OK'))).toEqual([0, 1, 2, 3]);
    expect(worst([])).toBe('OK');
    expect(worst(['OK', 'UNKNOWN'])).toBe('UNKNOWN');
    expect(worst(['UNKNOWN', 'WARNING'])).toBe('WARNING');
    expect(worst(['WARNING', 'CRITICAL', 'UNKNOWN'])).toBe('CRITICAL');
  });

  it('formats perfdata as label=value[UOM];warn;crit;min;max', () => {
    expect(
      formatPerfDatum({
        label: 'node2_links_up',
        value: 1,
        warning: range('2:'),
        critical: range('1:'),
        min: 0,
        max: 2,
      }),
    ).toBe("'node2_links_up'=1;2:;1:;0;2");
    expect(formatPerfDatum({ label: 'age', value: 512, uom: 'ms', min: 0 })).toBe("'age'=512ms;;;0");
    expect(formatPerfDatum({ label: "it's=odd x", value: 3 })).toBe("'it_s_odd_x'=3");
  });

  it('prints one status line, perfdata after |, then the long output', () => {
    expect(
      formatOutput('TSBEAT', 'WARNING', 'a|b', [{ label: 'x', value: 1 }], ['detail 1', 'detail|2']),
    ).toBe("TSBEAT WARNING - a/b | 'x'=1\ndetail 1\ndetail/2\n");
    expect(formatOutput('TSBEAT', 'OK', 'fine', [])).toBe('TSBEAT OK - fine\n');
  });
});

/** A healthy pair as the daemon reports it: node2 active on two links, one group per node, each at home. */
function view(): FakeView {
  return new FakeView({
    local: 'node1',
    nodes: [
      labNode('node1', { lastHeardAgoMs: 0, links: [] }),
      labNode('node2', {
        lastHeardAgoMs: 400,
        links: [
          { name: 'eth0', status: 'up', lastHeardAgoMs: 400 },
          { name: 'eth1', status: 'up', lastHeardAgoMs: 450 },
        ],
      }),
    ],
    groups: [
      {
        key: 'IPaddr2::10.0.0.10',
        preferredNode: 'node1',
        resources: ['IPaddr2::10.0.0.10'],
        runningOn: 'node1',
        state: 'running',
      },
      {
        key: 'Dummy::b',
        preferredNode: 'node2',
        resources: ['Dummy::b'],
        runningOn: 'node2',
        state: 'stopped',
      },
    ],
  });
}

const report = (v: FakeView, extra: Partial<CheckedReport> = {}): CheckedReport => ({
  ...statusReport(v),
  ...extra,
});
const judge = (v: FakeView, o: CheckOptions = {}, extra: Partial<CheckedReport> = {}) =>
  evaluate(report(v, extra), o);

describe('the verdict on a status report', () => {
  it('OK: peer active on all links, groups at home; perfdata for links, age and groups', () => {
    const r = judge(view());
    expect(r.state).toBe('OK');
    expect(r.summary).toBe('node1: node2 active, 2/2 links up; 2 groups running on the preferred node');
    expect(r.perf.map(formatPerfDatum)).toEqual([
      "'node2_links_up'=2;2:;1:;0;2",
      "'node2_last_heard'=400ms;2000;3000;0",
      "'groups_running'=2;;;0;2",
      "'groups_not_running'=0;;;0;2",
      "'config_mismatch_nodes'=0;;;0",
    ]);
    expect(r.details).toEqual([
      'node node2: active, 2/2 links up (eth0 up, eth1 up), last heard 400 ms ago',
      'group IPaddr2::10.0.0.10: runs on node1 (preferred node1; here running)',
      'group Dummy::b: runs on node2 (preferred node2; here stopped)',
    ]);
  });

  it('WARNING: one of two links dead, naming it', () => {
    const v = view();
    v.nodeList[1] = {
      ...v.nodeList[1]!,
      links: [v.nodeList[1]!.links[0]!, { name: 'eth1', status: 'dead', lastHeardAgoMs: undefined }],
    };
    const r = judge(v);
    expect(r.state).toBe('WARNING');
    expect(r.summary).toBe('1/2 links up to node2 (eth1 dead)');
  });

  it('CRITICAL: the peer dead on every link, said once', () => {
    const v = view();
    v.nodeList[1] = {
      ...v.nodeList[1]!,
      status: 'dead',
      lastHeardAgoMs: 35_000,
      links: v.nodeList[1]!.links.map((l) => ({ ...l, status: 'dead' as const })),
    };
    v.groupList = v.groupList.map((g) => ({ ...g, runningOn: 'node1', state: 'running' }));
    const r = judge(v);
    expect(r.state).toBe('CRITICAL');
    expect(r.summary).toBe(
      'node2 dead; 0/2 links up to node2 (eth0, eth1 dead); group Dummy::b runs on node1, not on its preferred node node2',
    );
    expect(exitCode(r.state)).toBe(2);
  });

  it('WARNING past warntime, CRITICAL past deadtime while the peer still counts as active', () => {
    const v = view();
    v.nodeList[1] = { ...v.nodeList[1]!, lastHeardAgoMs: 2500 };
    expect(judge(v)).toMatchObject({ state: 'WARNING', summary: 'node2 last heard 2500 ms ago' });
    v.nodeList[1] = { ...v.nodeList[1]!, lastHeardAgoMs: 3100 };
    expect(judge(v)).toMatchObject({ state: 'CRITICAL', summary: 'node2 last heard 3100 ms ago' });
  });

  it('WARNING: a peer that is up but not active yet, and communication not up', () => {
    const v = view();
    v.nodeList[1] = { ...v.nodeList[1]!, status: 'up' };
    expect(judge(v)).toMatchObject({ state: 'WARNING', summary: 'node2 up (not active yet)' });
    const w = view();
    w.up = false;
    const r = judge(w);
    expect(r).toMatchObject({ state: 'WARNING', summary: 'communication not up yet (initdead)' });
    expect(r.details).toContain('resource groups not judged before communication is up');
  });

  it('CRITICAL: a group running nowhere, also after a failed start here', () => {
    const v = view();
    v.groupList[1] = { ...v.groupList[1]!, runningOn: undefined, state: 'stopped' };
    const r = judge(v);
    expect(r).toMatchObject({ state: 'CRITICAL', summary: 'group Dummy::b not running anywhere' });
    expect(r.perf.map(formatPerfDatum)).toContain("'groups_not_running'=1;;;0;2");
    v.groupList[1] = { ...v.groupList[1]!, runningOn: undefined, state: 'failed' };
    expect(judge(v).summary).toBe('group Dummy::b not running anywhere (failed to start on node1)');
  });

  it('CRITICAL: a group that could not be stopped here', () => {
    const v = view();
    v.groupList[0] = { ...v.groupList[0]!, state: 'stopFailed' };
    expect(judge(v)).toMatchObject({
      state: 'CRITICAL',
      summary: 'group IPaddr2::10.0.0.10 could not be stopped on node1',
    });
  });

  it('WARNING: a group off its preferred node (OK with --ignore-placement), or in transition', () => {
    const v = view();
    v.groupList[1] = { ...v.groupList[1]!, runningOn: 'node1', state: 'running' };
    expect(judge(v)).toMatchObject({
      state: 'WARNING',
      summary: 'group Dummy::b runs on node1, not on its preferred node node2',
    });
    expect(judge(v, { ignorePlacement: true })).toMatchObject({
      state: 'OK',
      summary: 'node1: node2 active, 2/2 links up; 2 groups running',
    });
    v.groupList[0] = { ...v.groupList[0]!, runningOn: undefined, state: 'starting.resource' };
    expect(judge(v, { ignorePlacement: true })).toMatchObject({
      state: 'WARNING',
      summary: 'group IPaddr2::10.0.0.10 in transition (starting.resource)',
    });
  });

  it('WARNING: the nodes disagree on their configuration (configMismatch), naming node and files', () => {
    const mismatch = [{ node: 'node2', files: ['haresources', 'authkeys'] }];
    const r = judge(view(), {}, { configMismatch: mismatch });
    expect(r.state).toBe('WARNING');
    expect(r.summary).toBe('configuration differs from node2: haresources, authkeys');
    expect(r.perf.map(formatPerfDatum)).toContain("'config_mismatch_nodes'=1;;;0");
    expect(judge(view(), {}, { configMismatch: [] }).state).toBe('OK');
    expect(judge(view(), {}, { configMismatch: [{ node: 'node2', files: [] }] }).state).toBe('OK');
    // A daemon without the digest (before tsbeat.cf's digest exchange) says nothing about it,
    // and neither does the check.
    const older: Record<string, unknown> = { ...report(view()) };
    delete older['configMismatch'];
    expect(
      evaluate(older as unknown as CheckedReport, {}).perf.some((p) => p.label === 'config_mismatch_nodes'),
    ).toBe(false);
  });

  it('WARNING: a failing log destination and a failed STONITH device check', () => {
    const base = report(view());
    const logs = [
      {
        file: '/var/log/ha-log',
        ok: false,
        queuedLines: 3,
        writtenLines: 10,
        droppedLines: 1,
        lastError: 'no space left on device (ENOSPC)',
      },
    ];
    expect(evaluate({ ...base, logs })).toMatchObject({
      state: 'WARNING',
      summary: 'log /var/log/ha-log failing (no space left on device (ENOSPC))',
    });
    const fencing = {
      ...base.fencing,
      configured: true,
      device: 'external/ipmi',
      lastCheck: { at: '2026-12-05T08:00:00.000Z', ok: false, detail: 'status exited 1' },
    };
    expect(evaluate({ ...base, fencing })).toMatchObject({
      state: 'WARNING',
      summary: 'STONITH device check failed (status exited 1)',
    });
  });

  it('custom ranges: -w/-c on links up per peer, --age-* on ms since last heard', () => {
    const v = view();
    v.nodeList[1] = {
      ...v.nodeList[1]!,
      links: [v.nodeList[1]!.links[0]!, { name: 'eth1', status: 'dead', lastHeardAgoMs: undefined }],
    };
    // One link up is fine for this site; none would be critical.
    expect(judge(v, { linksWarning: range('1:'), linksCritical: range('1:') }).state).toBe('OK');
    expect(judge(v, { linksWarning: range('3:'), linksCritical: range('2:') })).toMatchObject({
      state: 'CRITICAL',
      summary: '1/2 links up to node2 (eth1 dead)',
    });
    const w = view();
    expect(judge(w, { ageWarning: range('100'), ageCritical: range('10000') })).toMatchObject({
      state: 'WARNING',
      summary: 'node2 last heard 400 ms ago',
    });
    expect(judge(w, { ageWarning: range('100'), ageCritical: range('300') }).state).toBe('CRITICAL');
  });

  it('several problems: the worst state, critical ones first in the summary', () => {
    const v = view();
    v.groupList[1] = { ...v.groupList[1]!, runningOn: undefined };
    const r = judge(v, {}, { configMismatch: [{ node: 'node2', files: ['ha.cf'] }] });
    expect(r.state).toBe('CRITICAL');
    expect(r.summary).toBe('group Dummy::b not running anywhere; configuration differs from node2: ha.cf');
  });

  it('groups not managed here (Pacemaker) are not judged', () => {
    const r = judge(view(), {}, { managedBy: 'pacemaker' });
    expect(r.state).toBe('OK');
    expect(r.details).toContain(
      'resource groups not managed by tsbeat here (Pacemaker, or resource management off)',
    );
  });

  it('an unreadable report is named, and UNKNOWN', () => {
    expect(reportProblem(report(view()))).toBeUndefined();
    expect(reportProblem(null)).toMatch(/not an object/);
    expect(reportProblem({ format: 'tsbeat-status/9' })).toMatch(/unknown status format "tsbeat-status\/9"/);
    expect(reportProblem({ ...report(view()), nodes: 'x' })).toMatch(/no nodes or groups/);
    expect(reportProblem({ ...report(view()), configMismatch: [{ node: 'node2' }] })).toMatch(
      /no node or files/,
    );
    expect(reportProblem({ ...report(view()), configMismatch: 'haresources' })).toMatch(/not a list/);
  });

  it('without a report: CRITICAL when not running, UNKNOWN otherwise', () => {
    const cases = [
      [{ kind: 'not-running', socket: '/run/tsbeat/api.sock' }, 'CRITICAL'],
      [{ kind: 'not-answering', pid: 42, socket: '/run/tsbeat/api.sock' }, 'UNKNOWN'],
      [{ kind: 'busy', detail: 'too many clients' }, 'UNKNOWN'],
      [{ kind: 'timeout', seconds: 10 }, 'UNKNOWN'],
      [{ kind: 'error', detail: 'x' }, 'UNKNOWN'],
    ] as const;
    for (const [u, state] of cases) expect(unavailableResult(u).state).toBe(state);
  });

  it('parses the command line: ranges checked, -t bounded', () => {
    expect(parseCheckArgs(['-w', '2:', '-c', '1:', '-t', '5', '--ignore-placement'])).toMatchObject({
      timeoutS: 5,
      options: { linksWarning: { start: 2 }, linksCritical: { start: 1 }, ignorePlacement: true },
    });
    expect(parseCheckArgs(['-w', '3:1'])).toBe('--warning: "3:1" is not a range: start 3 is above end 1');
    expect(parseCheckArgs(['-t', '0'])).toMatch(/--timeout wants seconds/);
    expect(parseCheckArgs(['--what'])).toMatch(/Unknown option '--what'/);
    expect(parseCheckArgs(['extra'])).toMatch(/positional/);
  });
});

it('check_tsbeat(8) documents every option of the usage, and no other', () => {
  const page = readFileSync(join(REPO, 'man/check_tsbeat.8'), 'utf8').replace(/\\-/g, '-');
  const usage = new Set([...CHECK_TSBEAT_USAGE.matchAll(/(?<![\w-])--?[a-zA-Z][\w-]*/g)].map((m) => m[0]));
  const section = (name: string) => {
    const at = page.indexOf(`.SH ${name}`);
    return page.slice(at, page.indexOf('.SH', at + 4));
  };
  const optionLines = `${section('SYNOPSIS')}${section('OPTIONS')}`
    .split('\n')
    .filter((l) => /^\.B[RI]? /.test(l));
  const documented = new Set(
    optionLines.flatMap((l) => [...l.matchAll(/(?<![\w-])--?[a-zA-Z][\w-]*/g)].map((m) => m[0])),
  );
  expect([...usage].sort()).toEqual([...documented].sort());
});

describe('the built check_tsbeat', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-check-'));
  let v: FakeView;
  let servers: ApiServers;
  beforeAll(async () => {
    v = view();
    servers = await startApiServers(v, join(tmp, 'run'));
  });
  afterAll(() => {
    servers.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const check = (args: string[], runDir = join(tmp, 'run')) =>
    new Promise<{ status: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
      const t0 = Date.now();
      execFile(
        process.execPath,
        ['dist/cli/check_tsbeat.js', ...args],
        { cwd: REPO, encoding: 'utf8', timeout: 30_000, env: { ...process.env, TSBEAT_RUNDIR: runDir } },
        (err, stdout, stderr) =>
          resolve({
            status: err ? (typeof err.code === 'number' ? err.code : null) : 0,
            stdout,
            stderr,
            ms: Date.now() - t0,
          }),
      );
    });

  it('exit 0 OK, 1 WARNING, 2 CRITICAL, each with one status line and perfdata', async () => {
    const ok = await check([]);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toBe('');
    expect(ok.stdout.split('\n')[0]).toBe(
      "TSBEAT OK - node1: node2 active, 2/2 links up; 2 groups running on the preferred node | 'node2_links_up'=2;2:;1:;0;2 'node2_last_heard'=400ms;2000;3000;0 'groups_running'=2;;;0;2 'groups_not_running'=0;;;0;2 'config_mismatch_nodes'=0;;;0",
    );
    v.nodeList[1] = {
      ...v.nodeList[1]!,
      links: [v.nodeList[1]!.links[0]!, { name: 'eth1', status: 'dead', lastHeardAgoMs: undefined }],
    };
    const warn = await check([]);
    expect(warn.status).toBe(1);
    expect(warn.stdout).toMatch(
      /^TSBEAT WARNING - 1\/2 links up to node2 \(eth1 dead\) \| 'node2_links_up'=1;/,
    );
    const crit = await check(['-c', '2:']);
    expect(crit.status).toBe(2);
    expect(crit.stdout).toMatch(/^TSBEAT CRITICAL - 1\/2 links up to node2/);
  });

  it('exit 2 without a daemon; 3 for a usage error, a daemon alive without a socket, and a -t timeout', async () => {
    const none = await check([], join(tmp, 'nothing'));
    expect(none.status).toBe(2);
    expect(none.stdout).toBe(
      `TSBEAT CRITICAL - tsbeat is not running (nothing answers on ${join(tmp, 'nothing', 'api.sock')})\n`,
    );

    const usage = await check(['-w', 'x']);
    expect(usage.status).toBe(3);
    expect(usage.stdout.split('\n')[0]).toBe(
      'TSBEAT UNKNOWN - usage: --warning: "x" is not a range: end "x" is not a number',
    );

    const alive = join(tmp, 'alive');
    mkdirSync(alive, { recursive: true });
    writeFileSync(join(alive, 'tsbeat.pid'), `${process.pid}\n`);
    const noSocket = await check([], alive);
    expect(noSocket.status).toBe(3);
    expect(noSocket.stdout).toBe(
      `TSBEAT UNKNOWN - tsbeat (pid ${process.pid}) runs, but nothing answers on ${join(alive, 'api.sock')}\n`,
    );

    // A daemon that accepts and never answers: -t 1 ends it with UNKNOWN, well before the 5 s
    // a session would otherwise wait.
    const silentDir = join(tmp, 'silent');
    mkdirSync(silentDir, { recursive: true });
    const server = createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(join(silentDir, 'api.sock'), resolve));
    try {
      const silent = await check(['-t', '1'], silentDir);
      expect(silent.status).toBe(3);
      expect(silent.stdout).toBe('TSBEAT UNKNOWN - no answer from tsbeat within 1 s (-t)\n');
      expect(silent.ms).toBeLessThan(4500);
    } finally {
      server.close();
    }
  });
});
