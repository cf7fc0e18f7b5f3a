/**
 * Resource groups under two tsbeat daemons in network namespaces. Each node prefers one
 * group of harmless test resources (state files under the node's private /run). Proves:
 * a cold start of both puts each group on its home node; SIGKILL of a node moves its group
 * to the survivor after deadtime; restarting the home node brings the group back with
 * auto_failback on and leaves it with off; a graceful `tsbeat stop` hands groups over at once
 * and logs no ERROR on either node;
 * legacy mode gets groups back through ip-request; a failing start is stopped right to left
 * and handed over; a failing stop keeps the group where it runs (never on two nodes); a
 * virtual IP run by the daemon's built-in IPaddr2 moves with its group and is announced, so a
 * third host's ARP cache follows it without asking.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  kill,
  logMark,
  readLog,
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

const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const start = (n: HarnessNode) => startTsbeat(n, { args: ['--foreground'], env: env(n) });

/** A resource script that fails on demand: touch /run/fail-start-NAME or /run/fail-stop-NAME. */
function flakyScript(): string {
  return `#!/bin/sh
inst=$1; op=$2
S=/run/Flaky-$inst
case $op in
  start) [ -f /run/fail-start-$inst ] && { echo "Flaky $inst start failed"; exit 1; }; touch "$S"; exit 0;;
  stop) [ -f /run/fail-stop-$inst ] && { echo "Flaky $inst stop failed"; exit 1; }; rm -f "$S"; exit 0;;
  status) if [ -f "$S" ]; then echo "Flaky $inst is running"; else echo "Flaky $inst is stopped"; fi; exit 0;;
esac
exit 2
`;
}

function configure(
  nodes: readonly HarnessNode[],
  autoFailback: 'on' | 'off' | 'legacy',
  extra: string[] = [],
): void {
  for (const n of nodes) {
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes,
        media: ['mcast eth0 239.77.3.1 694 1 0'],
        keepalive: 1,
        deadtime: 3,
        warntime: 2,
        initdead: 10,
        autoFailback,
        extra,
      }),
      authkeys: authkeys('sha1', 'tsbeat-resources'),
      haresources: 'node1 HarnessRes::a1 Flaky::a2\nnode2 HarnessRes::b1\n',
      'resource.d/HarnessRes': testResourceScript('HarnessRes'),
      'resource.d/Flaky': flakyScript(),
    });
  }
}

async function has(n: HarnessNode, file: string): Promise<boolean> {
  return (await n.exec(['test', '-e', file])).code === 0;
}

/** Where the groups run: node1's group is HarnessRes-a1 + Flaky-a2, node2's is HarnessRes-b1. */
async function where(nodes: readonly HarnessNode[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const n of nodes) {
    const held: string[] = [];
    if (await has(n, '/run/HarnessRes-a1')) held.push('a1');
    if (await has(n, '/run/Flaky-a2')) held.push('a2');
    if (await has(n, '/run/HarnessRes-b1')) held.push('b1');
    out[n.name] = held;
  }
  return out;
}

async function expectWhere(
  nodes: readonly HarnessNode[],
  want: Record<string, string[]>,
  timeoutMs = 40_000,
): Promise<void> {
  await waitFor(async () => JSON.stringify(await where(nodes)) === JSON.stringify(want), timeoutMs, {
    description: `groups at ${JSON.stringify(want)}`,
    intervalMs: 300,
  });
}

describe('tsbeat resource groups in namespaces', () => {
  it.each(['on', 'off'] as const)(
    'cold start, SIGKILL takeover, return of the home node (auto_failback %s)',
    async (mode) => {
      cluster = await createCluster({ nodes: 2 });
      const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
      configure(cluster.nodes, mode);
      await Promise.all([start(a), start(b)]);
      await expectWhere(cluster.nodes, { node1: ['a1', 'a2'], node2: ['b1'] });
      // Left to right: the group started HarnessRes before Flaky.
      const log = (await a.exec(['cat', '/run/HarnessRes.log'])).stdout;
      expect(log).toMatch(/HarnessRes a1 start/);

      const mark = logMark(b);
      await kill(a, 'SIGKILL');
      // The daemon died but its resources run on (as with heartbeat); the machine "crashes":
      await a.exec(['sh', '-c', 'rm -f /run/HarnessRes-a1 /run/Flaky-a2']);
      await waitForLog(b, /Resources being acquired from node1\./, 30_000, { since: mark });
      await expectWhere(cluster.nodes, { node1: [], node2: ['a1', 'a2', 'b1'] });
      await waitForLog(b, /mach_down takeover complete\./, 10_000, { since: mark });

      await start(a);
      if (mode === 'on') {
        await expectWhere(cluster.nodes, { node1: ['a1', 'a2'], node2: ['b1'] });
        await waitForLog(
          b,
          /node1 wants to go standby \[foreign\]|node2 wants to go standby \[foreign\]/,
          10_000,
          { since: mark },
        );
      } else {
        await new Promise((r) => setTimeout(r, 8000));
        expect(await where(cluster.nodes)).toEqual({ node1: [], node2: ['a1', 'a2', 'b1'] });
      }
    },
  );

  it('tsbeat stop hands the groups over at once; the stopped node releases right to left', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    configure(cluster.nodes, 'on');
    await Promise.all([start(a), start(b)]);
    await expectWhere(cluster.nodes, { node1: ['a1', 'a2'], node2: ['b1'] });
    const mark = logMark(b);
    const stop = await a.exec([process.execPath, `${process.cwd()}/dist/cli/tsbeat.js`, 'stop'], {
      env: env(a),
      timeoutMs: 30_000,
    });
    expect(stop.code).toBe(0);
    await waitForLog(b, /Received shutdown notice from 'node1'\./, 10_000, { since: mark });
    await expectWhere(cluster.nodes, { node1: [], node2: ['a1', 'a2', 'b1'] }, 10_000);
    const stopLog = (await a.exec(['cat', a.logFile])).stdout;
    expect(stopLog).toMatch(/Releasing resource group: node1 HarnessRes::a1 Flaky::a2/);
    const flakyStop = stopLog.lastIndexOf('resource.d/Flaky a2 stop');
    const harnessStop = stopLog.lastIndexOf('resource.d/HarnessRes a1 stop');
    expect(flakyStop).toBeGreaterThan(0);
    expect(harnessStop).toBeGreaterThan(flakyStop); // right to left
    expect(stopLog).toMatch(/All HA resources relinquished\./);
    // Operators grep for ERROR: a normal hand-over logs none on either node (as heartbeat).
    expect(readLog(b, mark)).not.toMatch(/: (ERROR|CRIT): /);
    expect(stopLog).not.toMatch(/: (ERROR|CRIT): /);
  });

  it('a virtual IP (built-in IPaddr2) moves with its group and is announced by gratuitous ARP', async () => {
    cluster = await createCluster({ nodes: 3 });
    const [a, b, c] = cluster.nodes as [HarnessNode, HarnessNode, HarnessNode];
    const vip = a.addr().replace(/\.\d+$/, '.200');
    for (const n of [a, b]) {
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: [a, b],
          media: ['mcast eth0 239.77.3.2 694 1 0'],
          keepalive: 1,
          deadtime: 3,
          warntime: 2,
          initdead: 10,
          autoFailback: 'on',
        }),
        authkeys: authkeys('sha1', 'tsbeat-resources'),
        haresources: `node1 IPaddr2::${vip}/24/eth0 HarnessRes::a1\nnode2 HarnessRes::b1\n`,
        'resource.d/HarnessRes': testResourceScript('HarnessRes'),
      });
    }
    const holds = async (n: HarnessNode) =>
      (await n.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(` ${vip}/24 `);
    const mac = async (n: HarnessNode) =>
      /link\/ether ([0-9a-f:]+)/.exec((await n.exec(['ip', '-o', 'link', 'show', 'eth0'])).stdout)?.[1];
    const cachedMac = async () =>
      /lladdr ([0-9a-f:]+)/.exec((await c.exec(['ip', 'neigh', 'show', vip, 'dev', 'eth0'])).stdout)?.[1];

    await Promise.all([start(a), start(b)]);
    await waitFor(() => holds(a), 40_000, { description: `${vip} on node1` });
    expect(await holds(b)).toBe(false);
    expect((await c.exec(['ping', '-c', '1', '-W', '2', vip])).code).toBe(0);
    expect(await cachedMac()).toBe(await mac(a));
    const startLog = (await a.exec(['cat', a.logFile])).stdout;
    expect(startLog).toMatch(/Running IPaddr2 \(tsbeat built-in\) \S+ start/);

    const mark = logMark(b);
    await kill(a, 'SIGKILL');
    // The machine "crashes": its address goes with it (the daemon alone would leave it up).
    await a.exec(['ip', 'addr', 'del', `${vip}/24`, 'dev', 'eth0']);
    await waitForLog(b, /mach_down takeover complete\./, 30_000, { since: mark });
    expect(await holds(b)).toBe(true);
    expect(await has(b, '/run/HarnessRes-a1')).toBe(true);
    // node3 sent nothing since its ping; its cache follows the announcement alone.
    await waitFor(async () => (await cachedMac()) === (await mac(b)), 10_000, {
      description: `node3's ARP cache names node2's MAC for ${vip}`,
    });

    await start(a);
    await waitFor(async () => (await holds(a)) && !(await holds(b)), 40_000, {
      description: `${vip} back on node1 only`,
    });
  });

  it('legacy mode: the returning home node gets its group back through ip-request', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    configure(cluster.nodes, 'legacy');
    await Promise.all([start(a), start(b)]);
    await expectWhere(cluster.nodes, { node1: ['a1', 'a2'], node2: ['b1'] });
    await kill(a, 'SIGKILL');
    await a.exec(['sh', '-c', 'rm -f /run/HarnessRes-a1 /run/Flaky-a2']);
    await expectWhere(cluster.nodes, { node1: [], node2: ['a1', 'a2', 'b1'] });
    await start(a);
    await expectWhere(cluster.nodes, { node1: ['a1', 'a2'], node2: ['b1'] });
  });

  it('a failing start is rolled back right to left and handed to the peer; a failing stop keeps the group in place', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    configure(cluster.nodes, 'on', ['env STOPRETRYMAX=2']);
    await a.exec(['touch', '/run/fail-start-a2']);
    await Promise.all([start(a), start(b)]);
    await waitForLog(a, /CRIT: Giving up resources due to failure of Flaky::a2/, 40_000);
    await waitForLog(a, /Releasing resource group: node1 HarnessRes::a1 Flaky::a2/, 10_000);
    // After heartbeat's 30 s, node1 hands its local class to node2.
    await expectWhere(cluster.nodes, { node1: [], node2: ['a1', 'a2', 'b1'] }, 60_000);

    // A stop that fails: node2 is asked to give node1's group back, but Flaky will not stop.
    await b.exec(['touch', '/run/fail-stop-a2']);
    await a.exec(['rm', '-f', '/run/fail-start-a2']);
    const mark = logMark(b);
    await b.exec(
      [
        process.execPath,
        '-e',
        `import('${process.cwd()}/dist/ipc/client.js').then(async (m) => { const r = await m.apiCall('/run/tsbeat/control.sock', 'standby', { set: 'foreign' }); console.log(JSON.stringify(r)); })`,
      ],
      { env: env(b) },
    );
    await waitForLog(b, /Retrying failed stop operation \[Flaky::a2\]/, 20_000, { since: mark });
    await waitForLog(b, /CRIT: Resource STOP failure: Flaky::a2 is still running/, 20_000, { since: mark });
    await waitForLog(b, /standby of \[foreign\] aborted/, 10_000, { since: mark });
    await new Promise((r) => setTimeout(r, 3000));
    const w = await where(cluster.nodes);
    expect(w['node2']).toContain('a2');
    expect(w['node1']).not.toContain('a2');
  });
});
