/**
 * IPv6 heartbeat media with two tsbeat daemons in network namespaces: `mcast6` to a
 * link-scoped group (ff02::, sent out of the named interface) and `ucast6` to the peer's
 * link-local address (fe80::, scoped to the interface) and, separately, to a ULA address.
 * Proves each brings both nodes to active for each other, with the link named after the
 * device, and that SIGKILL of one node is seen as death over that medium alone. IPv6 VIPs
 * (IPaddr2/IPaddr with unsolicited neighbour advertisements, IPv6addr) are not implemented.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  kill,
  startTsbeat,
  waitFor,
  waitForLog,
} from '../harness/index.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const clStatus = (n: HarnessNode, args: readonly string[]) =>
  n.exec([process.execPath, `${process.cwd()}/dist/cli/cl_status.js`, ...args], {
    env: env(n),
    timeoutMs: 30_000,
  });

/** The interface's link-local address, once DAD finished. */
async function linkLocal(n: HarnessNode): Promise<string> {
  let addr = '';
  await waitFor(
    async () => {
      const r = await n.exec(['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
      const m = /inet6 (fe80::[0-9a-f:]+)\/64 scope link(?! tentative)/.exec(r.stdout);
      addr = m?.[1] ?? '';
      return addr !== '' && !/tentative/.test(r.stdout);
    },
    20_000,
    { description: `link-local address of ${n.name}` },
  );
  return addr;
}

async function pairWith(
  media: (n: HarnessNode, peer: HarnessNode) => Promise<string[]>,
): Promise<HarnessNode[]> {
  cluster = await createCluster({ nodes: 2 });
  const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
  // Link-scoped sends need the interface's link-local address, usable once DAD is done.
  await Promise.all([linkLocal(a), linkLocal(b)]);
  for (const [n, peer] of [
    [a, b],
    [b, a],
  ] as const) {
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes: [a, b],
        media: await media(n, peer),
        keepalive: 1,
        deadtime: 4,
        warntime: 2,
        initdead: 10,
      }),
      authkeys: authkeys('sha1', 'tsbeat-ipv6'),
      haresources: '',
    });
  }
  await Promise.all([a, b].map((n) => startTsbeat(n, { args: ['--foreground'], env: env(n) })));
  return [a, b];
}

async function expectActivePair(a: HarnessNode, b: HarnessNode): Promise<void> {
  for (const [n, peer] of [
    [a, b],
    [b, a],
  ] as const)
    await waitFor(async () => (await clStatus(n, ['nodestatus', peer.name])).stdout === 'active\n', 60_000, {
      description: `${n.name} sees ${peer.name} active`,
    });
  expect((await clStatus(a, ['hblinkstatus', 'node2', 'eth0'])).stdout).toBe('up\n');
  await kill(b, 'SIGKILL');
  await waitForLog(a, /node node2: is dead/, 30_000);
}

describe('IPv6 media in namespaces', () => {
  it('mcast6 to a link-scoped group: both active, death detected', async () => {
    const [a, b] = (await pairWith(async () => ['mcast6 eth0 ff02::694 694 1 0'])) as [
      HarnessNode,
      HarnessNode,
    ];
    await expectActivePair(a, b);
  }, 180_000);

  it('ucast6 to the peer link-local address: both active, death detected', async () => {
    const [a, b] = (await pairWith(async (_n, peer) => [`ucast6 eth0 ${await linkLocal(peer)}`])) as [
      HarnessNode,
      HarnessNode,
    ];
    await expectActivePair(a, b);
  }, 180_000);

  it('ucast6 to a ULA address: both active, death detected', async () => {
    const [a, b] = (await pairWith(async (n, peer) => {
      for (const m of [n, peer]) {
        const ip = m.name === 'node1' ? 'fd77::1' : 'fd77::2';
        await m.exec(['ip', '-6', 'addr', 'add', `${ip}/64`, 'dev', 'eth0', 'nodad']);
      }
      return [`ucast6 eth0 ${peer.name === 'node1' ? 'fd77::1' : 'fd77::2'}`];
    })) as [HarnessNode, HarnessNode];
    await expectActivePair(a, b);
  }, 180_000);
});
