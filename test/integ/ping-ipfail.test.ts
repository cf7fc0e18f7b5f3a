/**
 * Ping nodes and built-in ipfail with two tsbeat daemons in network namespaces and a third
 * namespace, node3, as the ping node (its kernel answers ICMP echo; nothing runs there). The
 * daemons ping it with the system `ping` (iputils), as tsbeat does on a real machine. A
 * node's path to the ping node is cut by an nftables rule in node3 that drops that node's
 * echo requests (the heartbeat traffic on the same wire is untouched), as a dead uplink would.
 * Proves: `cl_status listnodes`/`nodetype`/`nodestatus`/`listhblinks`/`hblinkstatus` show the
 * ping node as heartbeat does (the byte-exact comparison with the real heartbeat runs in
 * test/interop/ping-nodes.test.ts); with `respawn hacluster /usr/lib/heartbeat/ipfail`,
 * cutting node2's path moves node2's group to node1 within deadping + 2 x keepalive + the
 * takeover; restoring it brings the group back (auto_failback on); cutting both paths moves
 * nothing while both nodes report the ping node dead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
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
/** tsbeat's cl_status inside the node. */
const clStatus = (n: HarnessNode, args: readonly string[]) =>
  n.exec([process.execPath, `${process.cwd()}/dist/cli/cl_status.js`, ...args], {
    env: env(n),
    timeoutMs: 30_000,
  });

const KEEPALIVE_S = 1;
const DEADPING_S = 4;

function configure(nodes: readonly HarnessNode[], pingHost: string): void {
  for (const n of nodes) {
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes,
        media: ['bcast eth0'],
        keepalive: KEEPALIVE_S,
        deadtime: 5,
        warntime: 3,
        initdead: 10,
        autoFailback: 'on',
        extra: [`ping ${pingHost}`, `deadping ${DEADPING_S}`, 'respawn hacluster /usr/lib/heartbeat/ipfail'],
      }),
      authkeys: authkeys('sha1', 'tsbeat-ping'),
      haresources: 'node1 HarnessRes::a1\nnode2 HarnessRes::b1\n',
      'resource.d/HarnessRes': testResourceScript('HarnessRes'),
    });
  }
}

async function where(nodes: readonly HarnessNode[]): Promise<string> {
  const out: string[] = [];
  for (const n of nodes) {
    for (const r of ['a1', 'b1'])
      if ((await n.exec(['test', '-e', `/run/HarnessRes-${r}`])).code === 0) out.push(`${r}@${n.name}`);
  }
  return out.sort().join(' ');
}

/** The "router" drops echo requests from `from` (nftables in the ping node's namespace). */
async function cutPath(router: HarnessNode, from: HarnessNode, cut: boolean): Promise<void> {
  const ip = from.addr('eth0');
  if (cut) {
    await router.execOk(['nft', 'add', 'table', 'inet', 'tsbping']);
    await router.execOk([
      'nft',
      'add',
      'chain',
      'inet',
      'tsbping',
      'in',
      '{ type filter hook input priority 0 ; policy accept ; }',
    ]);
    await router.execOk(`nft add rule inet tsbping in ip saddr ${ip} icmp type echo-request drop`.split(' '));
  } else {
    await router.execOk(['nft', 'flush', 'chain', 'inet', 'tsbping', 'in']);
  }
}

describe('ping nodes and built-in ipfail in namespaces', () => {
  it('shows the ping node in cl_status; one path cut moves the group within the grace, restore brings it back, both cut moves nothing', async () => {
    cluster = await createCluster({ nodes: 3 });
    const [a, b, router] = cluster.nodes as [HarnessNode, HarnessNode, HarnessNode];
    const pingHost = router.addr('eth0');
    const pair = [a, b];
    configure(pair, pingHost);
    await Promise.all([start(a), start(b)]);
    await waitFor(async () => (await where(pair)) === 'a1@node1 b1@node2', 60_000, {
      description: 'each group on its home node',
      intervalMs: 300,
    });
    await waitFor(async () => (await clStatus(a, ['nodestatus', pingHost])).stdout === 'ping\n', 20_000);

    // cl_status shows the ping node as heartbeat does (listnodes: reverse of ha.cf order).
    expect((await clStatus(a, ['listnodes'])).stdout).toBe(`${pingHost}\nnode2\nnode1\n`);
    expect((await clStatus(a, ['listnodes', '-p'])).stdout).toBe(`${pingHost}\n`);
    expect((await clStatus(a, ['nodetype', pingHost])).stdout).toBe('ping\n');
    expect((await clStatus(a, ['listhblinks', pingHost])).stdout).toBe(`\t${pingHost}\n`);
    expect((await clStatus(a, ['hblinkstatus', pingHost, pingHost])).stdout).toBe('up\n');
    await waitForLog(
      a,
      new RegExp(`Status update for node ${pingHost.replace(/\./g, '\\.')}: status ping`),
      5000,
    );

    // One path cut: node2 sees no ping node, node1 does: node2 gives its group up.
    const cutAt = Date.now();
    await cutPath(router, b, true);
    await waitFor(async () => (await clStatus(b, ['nodestatus', pingHost])).stdout === 'dead\n', 20_000);
    expect((await clStatus(b, ['nodestatus', pingHost])).code).toBe(1);
    await waitFor(async () => (await where(pair)) === 'a1@node1 b1@node1', 30_000, {
      description: 'b1 moved to node1',
      intervalMs: 200,
    });
    const movedMs = Date.now() - cutAt;
    // deadping + 2 x keepalive + a keepalive of skew + a group stop and start, with slack for
    // a loaded machine.
    expect(movedMs).toBeLessThan((DEADPING_S + 3 * KEEPALIVE_S) * 1000 + 10_000);
    await waitForLog(b, /ipfail: giving up all resources \(hb_standby all\)/, 5000);
    expect((await clStatus(a, ['nodestatus', pingHost])).stdout).toBe('ping\n');

    // Restore: counts balance; node1 gives node2's group back (auto_failback on).
    await cutPath(router, b, false);
    await waitFor(async () => (await where(pair)) === 'a1@node1 b1@node2', 40_000, {
      description: 'b1 back on node2',
      intervalMs: 300,
    });

    // Both paths cut: both see nothing; nobody gives anything up.
    await cutPath(router, a, true);
    await cutPath(router, b, true);
    for (const n of pair)
      await waitFor(async () => (await clStatus(n, ['nodestatus', pingHost])).stdout === 'dead\n', 20_000);
    const settle = Date.now();
    while (Date.now() - settle < (DEADPING_S + 4 * KEEPALIVE_S) * 1000) {
      expect(await where(pair)).toBe('a1@node1 b1@node2');
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 240_000);
});
