/**
 * Observability against the real heartbeat 3.0.6 (issue 16 items 2 and 6), in one mixed
 * cluster: node1 runs heartbeat, node2 runs tsbeat (with tsbeat.cf: metrics and a JSON log).
 * Proves:
 * - tsbeat's configuration digest message (`t=tsbeat-cfg`, sent at comm-up and whenever a peer
 *   comes back) does not disturb heartbeat: heartbeat logs nothing about it, sees tsbeat
 *   active, and the cluster still fails over both ways; tsbeat reports no mismatch with a
 *   peer that sends no digest;
 * - heartbeat's log lines for the same events, side by side: each node sees its peer's link
 *   come up, the peer become active, communication come up, then (SIGKILL of the peer) the
 *   peer dead, its link dead and its resources acquired, with mach_down complete. For every
 *   one of these lines, the text after `heartbeat: [PID]: ` is the same in heartbeat's log and
 *   in tsbeat's (node names swapped), both lines have heartbeat's format
 *   `Mon DD HH:MM:SS host heartbeat: [pid]: LEVEL: text`, and the dead-peer lines come in the
 *   same order in both logs.
 * The real heartbeat runs only inside the harness's machines (own PID/mount/UTS namespaces,
 * reboot stubbed).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/ipc/schema.js';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  kill,
  logMark,
  nodeStatus,
  readLog,
  startHeartbeat,
  startTsbeat,
  testResourceScript,
  waitFor,
  waitForLog,
} from '../harness/index.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.destroy();
});

const tsEnv = (n: HarnessNode) => ({
  TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`,
  TSBEAT_RUNDIR: '/run/tsbeat',
});
const runs = async (n: HarnessNode, r: string) =>
  (await n.exec(['test', '-f', `/run/HarnessRes-${r}`])).code === 0;

/** heartbeat's logfile line: `Dec 05 08:43:15 node1 heartbeat: [13]: WARN: text`. */
const LINE =
  /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d (\S+) heartbeat: \[\d+\]: (debug|info|WARN|ERROR|CRIT): (.*)$/;

/** The operator lines both implementations must write for these events, PEER = the other node. */
const UP_LINES = [
  'info: Link PEER:eth0 up.',
  'info: Status update for node PEER: status active',
  'info: Comm_now_up(): updating status to active',
  "info: Local status now set to: 'active'",
];
const DEAD_LINES = [
  'WARN: node PEER: is dead',
  'info: Link PEER:eth0 dead.',
  'info: Resources being acquired from PEER.',
  'info: mach_down takeover complete.',
];

/** Each wanted line's first occurrence in `log` (from `since`): its index and the full line. */
function find(
  log: string,
  peer: string,
  wanted: readonly string[],
): { want: string; line: string | undefined; at: number }[] {
  const lines = log.split('\n');
  return wanted.map((w) => {
    const want = w.replaceAll('PEER', peer);
    const at = lines.findIndex((l) => LINE.exec(l) && l.endsWith(`]: ${want}`));
    return { want, line: at < 0 ? undefined : lines[at], at };
  });
}

describe('real heartbeat 3.0.6 + tsbeat: digest message and log lines', () => {
  it('heartbeat ignores the digest; the same events give the same lines in both logs', {
    timeout: 240_000,
  }, async () => {
    cluster = await createCluster({ nodes: 2 });
    const [hb, ts] = cluster.nodes as [HarnessNode, HarnessNode];
    for (const n of cluster.nodes) {
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: cluster.nodes,
          media: ['mcast eth0 239.77.7.1 694 1 0'],
          keepalive: 1,
          deadtime: 3,
          warntime: 2,
          initdead: 10,
          autoFailback: 'on',
        }),
        authkeys: authkeys('sha1', 'tsbeat-observe-interop'),
        haresources: 'node1 HarnessRes::A\nnode2 HarnessRes::B\n',
        'resource.d/HarnessRes': testResourceScript('HarnessRes'),
        ...(n === ts ? { 'tsbeat.cf': `metrics 127.0.0.1:9694\nlogjson ${n.dir}/tsbeat.json\n` } : {}),
      });
    }
    const hbMark = logMark(hb);
    const tsMark = logMark(ts);
    await startHeartbeat(hb);
    // From here on heartbeat hears tsbeat.
    const hbJoined = logMark(hb);
    await startTsbeat(ts, { args: ['--foreground'], env: tsEnv(ts) });
    await waitFor(async () => (await runs(hb, 'A')) && (await runs(ts, 'B')), 60_000, {
      description: 'A on node1, B on node2',
    });
    await waitFor(async () => (await nodeStatus(hb, 'node2')) === 'active', 30_000, {
      description: 'heartbeat sees tsbeat active',
    });
    // tsbeat sent its digest to heartbeat (at comm-up, and when it heard heartbeat active).
    await waitForLog(
      ts.debugFile,
      /debug: configuration digest sent: ha\.cf [0-9a-f]{16}, haresources [0-9a-f]{16}, authkeys [0-9a-f]{16}/,
      10_000,
    );
    const st = await ts.exec([process.execPath, `${process.cwd()}/dist/cli/tsbeat.js`, 'status', '--json'], {
      env: tsEnv(ts),
    });
    expect(st.code, st.stderr).toBe(0);
    expect((JSON.parse(st.stdout) as StatusReport).configMismatch).toEqual([]);

    // SIGKILL tsbeat (its group stays on the dead machine's /run until we remove it).
    await kill(ts, 'SIGKILL');
    await ts.exec(['rm', '-f', '/run/HarnessRes-B']);
    await waitFor(() => runs(hb, 'B'), 30_000, { description: 'heartbeat takes B' });
    await waitForLog(hb, /mach_down takeover complete\./, 30_000, { since: hbMark });

    // tsbeat returns (its digest goes out again when it sees heartbeat); then heartbeat dies.
    const tsMark2 = logMark(ts);
    await startTsbeat(ts, { args: ['--foreground'], env: tsEnv(ts) });
    await waitFor(async () => (await runs(ts, 'B')) && !(await runs(hb, 'B')), 60_000, {
      description: 'B back on node2',
    });
    await kill(hb, 'SIGKILL');
    await hb.exec(['rm', '-f', '/run/HarnessRes-A']);
    await waitFor(() => runs(ts, 'A'), 30_000, { description: 'tsbeat takes A' });
    await waitForLog(ts, /mach_down takeover complete\./, 30_000, { since: tsMark2 });

    const hbLog = readLog(hb, hbMark);
    const tsFirst = readLog(ts, tsMark);
    const tsSecond = readLog(ts, tsMark2);
    // heartbeat said nothing about the messages it does not know.
    expect(
      readLog(hb, hbJoined)
        .split('\n')
        .filter((l) => /tsbeat-cfg|cfg_hacf|unknown message|bad message|ERROR|CRIT/i.test(l))
        // heartbeat's own start-up complaint (no mlockall in a namespace), whenever it comes.
        .filter((l) => !/Cannot lock ourselves into memory/.test(l)),
    ).toEqual([]);

    const hbUp = find(hbLog, 'node2', UP_LINES);
    const tsUp = find(tsFirst, 'node1', UP_LINES);
    const hbDead = find(hbLog, 'node2', DEAD_LINES);
    const tsDead = find(tsSecond, 'node1', DEAD_LINES);
    for (const [label, list] of [
      ['heartbeat (up)', hbUp],
      ['tsbeat (up)', tsUp],
      ['heartbeat (dead)', hbDead],
      ['tsbeat (dead)', tsDead],
    ] as const)
      expect(
        list.filter((x) => x.line === undefined).map((x) => x.want),
        `${label}: lines missing from the log`,
      ).toEqual([]);
    // Same text after the pid, node names swapped; heartbeat's format on both sides.
    const text = (l: string | undefined) => LINE.exec(l ?? '')?.[3];
    expect(hbUp.map((x) => text(x.line)?.replaceAll('node2', 'PEER'))).toEqual(
      tsUp.map((x) => text(x.line)?.replaceAll('node1', 'PEER')),
    );
    expect(hbDead.map((x) => text(x.line)?.replaceAll('node2', 'PEER'))).toEqual(
      tsDead.map((x) => text(x.line)?.replaceAll('node1', 'PEER')),
    );
    // The dead-peer lines come in the same order in both logs.
    const order = (l: { at: number }[]) =>
      l
        .map((x, i) => [x.at, i])
        .sort((p, q) => p[0]! - q[0]!)
        .map((p) => p[1]);
    expect(order(tsDead)).toEqual(order(hbDead));
  });
});
