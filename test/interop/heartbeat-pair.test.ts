// Two real heartbeat 3.0.6 nodes on the namespace harness. This proves the harness can run the
// reference implementation the way later interop tests (heartbeat <-> tsbeat) need it: for each
// UDP medium (bcast, then mcast) and for a serial line (a socat pty pair as the only medium), two
// nodes with sha1 authentication and short timing (keepalive 1, deadtime 3, initdead 10,
// auto_failback on, crm off) see each other `active` through `cl_status nodestatus`, their link
// is `up` through `cl_status hblinkstatus`, and the harmless resource group of node1 runs there.
// After SIGKILL of node1's heartbeat (the whole process tree, i.e. a crash), node2 logs
// `node node1: is dead`, `cl_status nodestatus node1` prints `dead` and node2 takes the group
// over; over bcast, node1 is then rebooted, rejoins (`Heartbeat restart on node node1`) and
// gets its group back (auto_failback on). All waits are on conditions with generous deadlines,
// never on elapsed time.
// Needs root and the packages of scripts/install-deps.sh (heartbeat, socat, iproute2, ...).
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  createSerialPair,
  type DaemonKind,
  type HarnessNode,
  haCf,
  kill,
  linkStatus,
  logMark,
  nodeStatus,
  startHeartbeat,
  startNodeDaemon,
  testResourceScript,
  waitFor,
  waitForLog,
} from '../harness/index.js';

const KEY = 'tsbeat-harness-interop';

function configure(nodes: readonly HarnessNode[], media: readonly string[], baud?: number): void {
  for (const node of nodes) {
    node.writeHaD({
      'ha.cf': haCf(node, { nodes, media, ...(baud === undefined ? {} : { baud }) }),
      authkeys: authkeys('sha1', KEY),
      haresources: 'node1 HarnessRes::svc1\n',
      'resource.d/HarnessRes': testResourceScript('HarnessRes'),
    });
  }
}

async function groupRunsOn(node: HarnessNode): Promise<boolean> {
  return (await node.exec(['test', '-f', '/run/HarnessRes-svc1'])).code === 0;
}

/** Both nodes active for each other and the link up both ways. */
async function expectPairActive(a: HarnessNode, b: HarnessNode, link: string): Promise<void> {
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    await waitFor(async () => (await nodeStatus(x, y.name)) === 'active', 90_000, {
      description: `cl_status nodestatus ${y.name} on ${x.name} prints active`,
      intervalMs: 500,
    });
    await waitFor(async () => (await linkStatus(x, y.name, link)) === 'up', 30_000, {
      description: `cl_status hblinkstatus ${y.name} ${link} on ${x.name} prints up`,
      intervalMs: 500,
    });
  }
  expect(await nodeStatus(a, b.name)).toBe('active');
  expect(await linkStatus(b, a.name, link)).toBe('up');
}

/** SIGKILL node1's heartbeat; node2 must declare it dead and take its group over. */
async function expectCrashDetected(n1: HarnessNode, n2: HarnessNode): Promise<void> {
  await waitFor(() => groupRunsOn(n1), 60_000, { description: 'HarnessRes svc1 started on node1' });
  const mark = logMark(n2);
  await kill(n1, 'SIGKILL');
  expect(n1.daemon?.running()).toBe(false);
  const line = await waitForLog(n2, /node node1: is dead/, 60_000, { since: mark });
  expect(line).toMatch(/WARN: node node1: is dead/);
  await waitFor(async () => (await nodeStatus(n2, 'node1')) === 'dead', 30_000, {
    description: 'cl_status nodestatus node1 on node2 prints dead',
    intervalMs: 500,
  });
  await waitFor(() => groupRunsOn(n2), 60_000, { description: 'node2 took over HarnessRes svc1' });
}

describe('two real heartbeat 3.0.6 nodes', () => {
  let cluster: Cluster | undefined;

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && cluster) console.error(cluster.logTails());
    await cluster?.destroy();
    cluster = undefined;
  });

  it.each([
    { medium: 'bcast', media: ['bcast eth0'], rejoin: true },
    { medium: 'mcast', media: ['mcast eth0 239.77.0.1 694 1 0'], rejoin: false },
  ])(
    '$medium eth0: both active, link up, SIGKILL detected',
    { timeout: 240_000 },
    async ({ media, rejoin }) => {
      cluster = await createCluster({ nodes: 2 });
      const n1 = cluster.node('node1');
      const n2 = cluster.node('node2');
      configure([n1, n2], media);
      // Interop style: one implementation per node. Later rows will put 'tsbeat' on either side.
      const kinds: readonly DaemonKind[] = ['heartbeat', 'heartbeat'];
      await Promise.all([startNodeDaemon(n1, kinds[0]!), startNodeDaemon(n2, kinds[1]!)]);
      await expectPairActive(n1, n2, 'eth0');
      await expectCrashDetected(n1, n2);
      if (!rejoin) return;
      // Reboot node1: fresh machine (empty /run, new PID namespace), same /var/lib/heartbeat, so
      // heartbeat starts with a new generation; started the lab's way (self-daemonizing) this time.
      await n1.reboot();
      const mark = logMark(n2);
      await startHeartbeat(n1, { daemonize: true });
      await waitForLog(n2, /Heartbeat restart on node node1/, 60_000, { since: mark });
      await expectPairActive(n1, n2, 'eth0');
      await waitFor(() => groupRunsOn(n1), 90_000, { description: 'HarnessRes svc1 failed back to node1' });
      await waitFor(async () => !(await groupRunsOn(n2)), 60_000, {
        description: 'node2 released HarnessRes svc1',
      });
    },
  );

  it('serial (socat pty pair, 19200 baud) as the only medium: both active', {
    timeout: 240_000,
  }, async () => {
    cluster = await createCluster({ nodes: 2 });
    const n1 = cluster.node('node1');
    const n2 = cluster.node('node2');
    const pair = await createSerialPair(cluster, n1, n2);
    configure([n1, n2], [`serial ${pair.path}`], 19200);
    await Promise.all([startHeartbeat(n1), startHeartbeat(n2)]);
    await expectPairActive(n1, n2, pair.path);
    await expectCrashDetected(n1, n2);
  });
});
