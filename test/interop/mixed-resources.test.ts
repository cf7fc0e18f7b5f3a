/**
 * Resource hand-over in a mixed cluster: node1 runs the real heartbeat 3.0.6 (with its own
 * ResourceManager and resource.d scripts), node2 runs tsbeat; md5 keys, auto_failback on.
 * Each node prefers one group of harmless test resources. Proves, on the wire protocol only:
 * cold start puts each group at home; heartbeat takes tsbeat's group when tsbeat dies, and
 * gives it back when tsbeat returns; hb_standby on the heartbeat node hands its group to
 * tsbeat, and tsbeat's standby request gives it back; tsbeat takes heartbeat's group when
 * heartbeat dies and gives it back when heartbeat returns. At each step the real node's
 * `cl_status rscstatus` prints the word heartbeat itself would.
 * The real heartbeat runs only inside the harness's machines (own PID/mount/UTS namespaces,
 * reboot stubbed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  clStatus,
  createCluster,
  type HarnessNode,
  haCf,
  kill,
  logMark,
  startHeartbeat,
  startTsbeat,
  testResourceScript,
  waitFor,
  waitForLog,
} from '../harness/index.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

const tsEnv = (n: HarnessNode) => ({
  TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`,
  TSBEAT_RUNDIR: '/run/tsbeat',
});

async function where(nodes: readonly HarnessNode[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const n of nodes) {
    const r = await n.exec([
      'sh',
      '-c',
      'ls /run | grep "^HarnessRes-" | sed "s/HarnessRes-//" | sort | tr "\\n" " "',
    ]);
    out[n.name] = r.stdout.trim() === '' ? [] : r.stdout.trim().split(' ');
  }
  return out;
}

async function expectWhere(
  nodes: readonly HarnessNode[],
  want: Record<string, string[]>,
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(async () => JSON.stringify(await where(nodes)) === JSON.stringify(want), timeoutMs, {
    description: `groups at ${JSON.stringify(want)} (now ${JSON.stringify(await where(nodes))})`,
    intervalMs: 500,
  });
}

async function rscstatus(hb: HarnessNode, want: string): Promise<void> {
  await waitFor(async () => (await clStatus(hb, ['rscstatus'])).stdout.trim() === want, 30_000, {
    description: `cl_status rscstatus on ${hb.name} prints ${want}`,
    intervalMs: 500,
  });
}

describe('real heartbeat 3.0.6 + tsbeat: resource groups (md5, auto_failback on)', () => {
  it('failover and failback both ways, hb_standby from either side', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [hb, ts] = cluster.nodes as [HarnessNode, HarnessNode];
    for (const n of cluster.nodes) {
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: cluster.nodes,
          media: ['mcast eth0 239.77.4.1 694 1 0'],
          keepalive: 1,
          deadtime: 3,
          warntime: 2,
          initdead: 10,
          autoFailback: 'on',
        }),
        authkeys: authkeys('md5', 'tsbeat-mixed-rm'),
        haresources: 'node1 HarnessRes::A\nnode2 HarnessRes::B\n',
        'resource.d/HarnessRes': testResourceScript('HarnessRes'),
      });
    }
    await startHeartbeat(hb);
    await startTsbeat(ts, { args: ['--foreground'], env: tsEnv(ts) });
    await expectWhere(cluster.nodes, { node1: ['A'], node2: ['B'] });
    await rscstatus(hb, 'local');

    // tsbeat dies (the machine with it): heartbeat takes B.
    await kill(ts, 'SIGKILL');
    await ts.exec(['rm', '-f', '/run/HarnessRes-B']);
    await expectWhere(cluster.nodes, { node1: ['A', 'B'], node2: [] });
    await rscstatus(hb, 'all');

    // tsbeat returns: heartbeat fails B back (it goes standby for its foreign groups).
    let mark = logMark(hb);
    await startTsbeat(ts, { args: ['--foreground'], env: tsEnv(ts) });
    await expectWhere(cluster.nodes, { node1: ['A'], node2: ['B'] });
    await waitForLog(hb, /node1 wants to go standby \[foreign\]/, 10_000, { since: mark });
    await rscstatus(hb, 'local');

    // hb_standby on the heartbeat node: tsbeat takes A.
    mark = logMark(ts);
    const sb = await hb.exec(['/usr/share/heartbeat/hb_standby', 'local'], { timeoutMs: 10_000 });
    expect(sb.code).toBe(0);
    await expectWhere(cluster.nodes, { node1: [], node2: ['A', 'B'] });
    await rscstatus(hb, 'none');
    await waitForLog(ts, /standby: acquire \[local\] resources from node1/, 10_000, { since: mark });

    // A standby request on the tsbeat node gives A back (hb_standby foreign = failback).
    const req = await ts.exec(
      [
        process.execPath,
        '-e',
        `import('${process.cwd()}/dist/ipc/client.js').then(async (m) => { const r = await m.apiCall('/run/tsbeat/control.sock', 'standby', { set: 'foreign' }); console.log(JSON.stringify(r)); })`,
      ],
      { env: tsEnv(ts) },
    );
    expect(req.stdout).toMatch(/"accepted":true/);
    await expectWhere(cluster.nodes, { node1: ['A'], node2: ['B'] });
    await rscstatus(hb, 'local');

    // heartbeat dies: tsbeat takes A; heartbeat returns: tsbeat fails A back.
    await kill(hb, 'SIGKILL');
    await hb.exec(['rm', '-f', '/run/HarnessRes-A']);
    await expectWhere(cluster.nodes, { node1: [], node2: ['A', 'B'] });
    await hb.reboot();
    await startHeartbeat(hb, { daemonize: true });
    await expectWhere(cluster.nodes, { node1: ['A'], node2: ['B'] });
    await rscstatus(hb, 'local');
  });
});
