/**
 * IPv6 media in a mixed cluster: node1 runs the real heartbeat 3.0.6 (Debian's build has the
 * mcast6 and ucast6 plugins), node2 runs tsbeat. Over `mcast6` to ff02::694 and, separately,
 * over `ucast6` to the peer's link-local address, each sees the other active (the real
 * cl_status on node1, tsbeat's on node2): heartbeat's wire format is the same over IPv6.
 */
import { afterEach, describe, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  clStatus,
  createCluster,
  type HarnessNode,
  haCf,
  startHeartbeat,
  startTsbeat,
  waitFor,
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
const tsClStatus = (n: HarnessNode, args: readonly string[]) =>
  n.exec([process.execPath, `${process.cwd()}/dist/cli/cl_status.js`, ...args], {
    env: tsbeatEnv(n),
    timeoutMs: 30_000,
  });

async function linkLocal(n: HarnessNode): Promise<string> {
  let addr = '';
  await waitFor(
    async () => {
      const r = await n.exec(['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
      addr = /inet6 (fe80::[0-9a-f:]+)\/64/.exec(r.stdout)?.[1] ?? '';
      return addr !== '' && !/tentative/.test(r.stdout);
    },
    20_000,
    { description: `link-local address of ${n.name}` },
  );
  return addr;
}

describe.each(['mcast6', 'ucast6'] as const)('real heartbeat + tsbeat over %s', (kind) => {
  it('see each other active', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [hb, ts] = cluster.nodes as [HarnessNode, HarnessNode];
    // Link-scoped sends need the interface's link-local address, usable once DAD is done.
    await Promise.all([linkLocal(hb), linkLocal(ts)]);
    for (const [n, peer] of [
      [hb, ts],
      [ts, hb],
    ] as const) {
      const medium =
        kind === 'mcast6' ? 'mcast6 eth0 ff02::694 694 1 0' : `ucast6 eth0 ${await linkLocal(peer)}`;
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: [hb, ts],
          media: [medium],
          keepalive: 1,
          deadtime: 4,
          warntime: 2,
          initdead: 10,
        }),
        authkeys: authkeys('sha1', 'tsbeat-interop-ipv6'),
        haresources: '',
      });
    }
    await startHeartbeat(hb);
    await startTsbeat(ts, { args: ['--foreground'], env: tsbeatEnv(ts) });
    await waitFor(async () => (await clStatus(hb, ['nodestatus', 'node2'])).stdout === 'active\n', 60_000, {
      description: 'heartbeat sees tsbeat active',
    });
    await waitFor(async () => (await tsClStatus(ts, ['nodestatus', 'node1'])).stdout === 'active\n', 60_000, {
      description: 'tsbeat sees heartbeat active',
    });
  }, 180_000);
});
