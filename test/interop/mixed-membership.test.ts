/**
 * Mixed cluster: node1 runs the real heartbeat 3.0.6, node2 runs tsbeat, over multicast, for
 * each auth method (md5, sha1, crc). Proves, per method:
 * - the real node's `cl_status nodestatus node2` prints `active`, and tsbeat sees node1 active;
 * - flow control works: after 600 messages from the real node (injected through its FIFO, as
 *   heartbeat's own scripts do) its cl_status still answers at once and heartbeat never pauses
 *   its clients, which it does after 250 unacknowledged messages;
 * - retransmission works both ways: heartbeat's packets dropped for 2.5 s are requested and
 *   recovered by tsbeat ("No pkts missing from node1!"), and tsbeat's are recovered by heartbeat;
 * - a tsbeat node with the wrong key is rejected by both sides and each sees the other dead.
 * Runs heartbeat only inside the harness's machines (own PID/mount/UTS namespaces, reboot stubbed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  clearNetem,
  clStatus,
  createCluster,
  type HarnessNode,
  haCf,
  kill,
  logMark,
  netem,
  nodeStatus,
  readLog,
  startHeartbeat,
  startTsbeat,
  waitFor,
  waitForLog,
} from '../harness/index.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

const tsbeatEnv = (n: HarnessNode) => ({
  TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`,
  TSBEAT_RUNDIR: '/run/tsbeat',
});

async function tsbeatView(n: HarnessNode, peer: string): Promise<string | undefined> {
  const r = await n.exec([process.execPath, `${process.cwd()}/dist/cli/tsbeat.js`, 'status', '--json'], {
    env: tsbeatEnv(n),
  });
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { nodes: { name: string; status: string }[] }).nodes.find(
    (x) => x.name === peer,
  )?.status;
}

function configure(nodes: readonly HarnessNode[], keys: (n: HarnessNode) => string): void {
  for (const n of nodes) {
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes,
        media: ['mcast eth0 239.77.2.1 694 1 0'],
        keepalive: 1,
        // 2.5 s of 100% loss plus up to a keepalive before it and the time to set and clear the
        // loss (processes spawned on a loaded machine) must stay well under deadtime: a death
        // here would be the test's own doing, not a retransmission failure.
        deadtime: 8,
        warntime: 4,
        initdead: 10,
      }),
      authkeys: keys(n),
      haresources: '',
    });
  }
}

/** Write `count` messages into heartbeat's FIFO: it signs and multicasts each one. */
let injected = 0;
async function injectIntoHeartbeat(hb: HarnessNode, count: number): Promise<void> {
  let text = '';
  for (let i = 0; i < count; i++) text += `>>>\nt=tsbeat-interop\nn=${injected++}\n<<<\n`;
  const r = await hb.exec(['sh', '-c', 'cat > /var/lib/heartbeat/fifo'], { input: text, timeoutMs: 30_000 });
  expect(r.code).toBe(0);
}

describe.each([
  ['md5', 'tsbeat-interop-md5'],
  ['sha1', 'tsbeat-interop-sha1'],
  ['crc', ''],
] as const)('real heartbeat 3.0.6 + tsbeat, auth %s', (method, key) => {
  it('see each other active, ACK 600 messages, retransmit both ways', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [hb, ts] = cluster.nodes as [HarnessNode, HarnessNode];
    configure(cluster.nodes, () => authkeys(method, key));
    await startHeartbeat(hb);
    await startTsbeat(ts, { args: ['--foreground'], env: tsbeatEnv(ts) });

    await waitFor(async () => (await nodeStatus(hb, 'node2')) === 'active', 60_000, {
      description: 'heartbeat: cl_status nodestatus node2 = active',
      intervalMs: 500,
    });
    await waitFor(async () => (await tsbeatView(ts, 'node1')) === 'active', 30_000, {
      description: 'tsbeat sees node1 active',
    });

    // Flow control: heartbeat pauses its API clients once more than 250 of its messages are
    // unacknowledged. 600 messages in batches of 100: with our ACKs it never gets there.
    for (let batch = 0; batch < 6; batch++) {
      await injectIntoHeartbeat(hb, 100);
      await new Promise((r) => setTimeout(r, 500));
    }
    const after = await clStatus(hb, ['nodestatus', 'node2']);
    expect(after.code).toBe(0);
    expect(after.stdout.trim()).toBe('active');
    // (heartbeat may still warn "Message hist queue is filling up": it keeps ~5 s of history
    // whatever the ACKs say. The pause is what ACKs prevent.)
    expect(readLog(hb)).not.toMatch(/clients are now paused/);

    // heartbeat -> tsbeat: 2.5 s of lost heartbeat packets, recovered by NS_rexmit.
    let mark = logMark(ts);
    await netem(hb, 'eth0', 'loss 100%');
    await new Promise((r) => setTimeout(r, 2500));
    await clearNetem(hb, 'eth0');
    await waitForLog(ts, /lost packet\(s\) for \[node1\]/, 20_000, { since: mark });
    await waitForLog(ts, /No pkts missing from node1!/, 20_000, { since: mark });

    // tsbeat -> heartbeat: the same the other way; heartbeat asks us and we resend.
    mark = logMark(hb);
    await netem(ts, 'eth0', 'loss 100%');
    await new Promise((r) => setTimeout(r, 2500));
    await clearNetem(ts, 'eth0');
    await waitForLog(hb, /lost packet\(s\) for \[node2\]/, 20_000, { since: mark });
    await waitForLog(hb, /No pkts missing from node2!/, 20_000, { since: mark });

    expect(await nodeStatus(hb, 'node2')).toBe('active');
    expect(await tsbeatView(ts, 'node1')).toBe('active');
  });

  it('a tsbeat node with the wrong key is rejected by both sides', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [hb, ts] = cluster.nodes as [HarnessNode, HarnessNode];
    // For crc (no secret), the "wrong key" is another method.
    configure(cluster.nodes, (n) =>
      n === hb
        ? authkeys(method, key)
        : method === 'crc'
          ? authkeys('sha1', 'other')
          : authkeys(method, `${key}-wrong`),
    );
    await startHeartbeat(hb);
    await startTsbeat(ts, { args: ['--foreground'], env: tsbeatEnv(ts) });
    await waitForLog(hb, /authtoken does not match|authentication failed/, 30_000);
    await waitForLog(
      ts,
      /bad frame from 10\.77\.0\.1:\d+ on mcast eth0 239\.77\.2\.1 694 1 0: authentication failed/,
      30_000,
    );
    await waitFor(async () => (await tsbeatView(ts, 'node1')) === 'dead', 30_000, {
      description: 'tsbeat declares node1 dead',
    });
    await waitFor(async () => (await nodeStatus(hb, 'node2')) === 'dead', 30_000, {
      description: 'heartbeat declares node2 dead',
      intervalMs: 500,
    });
    await kill(ts, 'SIGTERM');
  });
});
