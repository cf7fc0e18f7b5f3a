/**
 * Ping nodes in a mixed cluster: node1 runs the real heartbeat 3.0.6, node2 runs tsbeat, both
 * with `ping <node3>` (node3 is a third namespace whose kernel answers ICMP echo). The real
 * cl_status on node1 and tsbeat's cl_status on node2 must print the same stdout and exit
 * code for every ping-node query heartbeat's tutorial uses (`listnodes` with -p/-n,
 * `nodetype`, `nodestatus`, `listhblinks`, `hblinkstatus`) while the ping node answers, and
 * again after node3 drops every echo request (nftables) and both daemons declared it dead.
 * This replaces the cl_status conformance check against a fake view
 * (test/unit/cli/cl_status.test.ts) with the daemon itself.
 *
 * Then the real ipfail (/usr/libexec/heartbeat/ipfail, respawned by heartbeat) against
 * tsbeat's built-in one, over ipfail's own messages (num_ping_nodes, you_are_dead,
 * abort_giveup, hbapi-clstat join): when the heartbeat node loses its ping node, the real
 * ipfail gives its group to the tsbeat node; restored, it comes back (auto_failback on); when
 * the tsbeat node loses it, tsbeat gives its group to the heartbeat node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  clStatus,
  createCluster,
  type HarnessNode,
  haCf,
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

const tsbeatEnv = (n: HarnessNode) => ({
  TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`,
  TSBEAT_RUNDIR: '/run/tsbeat',
});

const tsClStatus = (n: HarnessNode, args: readonly string[]) =>
  n.exec([process.execPath, `${process.cwd()}/dist/cli/cl_status.js`, ...args], {
    env: tsbeatEnv(n),
    timeoutMs: 30_000,
  });

describe('ping nodes: real heartbeat 3.0.6 and tsbeat print the same', () => {
  it('cl_status for the ping node matches, alive and dead', async () => {
    cluster = await createCluster({ nodes: 3 });
    const [hb, ts, router] = cluster.nodes as [HarnessNode, HarnessNode, HarnessNode];
    const ping = router.addr('eth0');
    for (const n of [hb, ts]) {
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: [hb, ts],
          media: ['bcast eth0'],
          keepalive: 1,
          deadtime: 5,
          warntime: 3,
          initdead: 10,
          extra: [`ping ${ping}`, 'deadping 4'],
        }),
        authkeys: authkeys('sha1', 'tsbeat-interop-ping'),
        haresources: '',
      });
    }
    await startHeartbeat(hb);
    await startTsbeat(ts, { args: ['--foreground'], env: tsbeatEnv(ts) });
    const queries = [
      ['listnodes'],
      ['listnodes', '-p'],
      ['listnodes', '-n'],
      ['nodetype', ping],
      ['nodestatus', ping],
      ['listhblinks', ping],
      ['hblinkstatus', ping, ping],
      ['nodestatus', 'node1'],
      ['nodestatus', 'node2'],
    ];
    const both = async (args: readonly string[]) => {
      const [a, b] = await Promise.all([clStatus(hb, args), tsClStatus(ts, args)]);
      return { heartbeat: { stdout: a.stdout, code: a.code }, tsbeat: { stdout: b.stdout, code: b.code } };
    };
    const settled = async (want: string) =>
      waitFor(
        async () => {
          const r = await both(['nodestatus', ping]);
          return r.heartbeat.stdout === want && r.tsbeat.stdout === want;
        },
        60_000,
        { description: `both see the ping node ${want.trim()}`, intervalMs: 500 },
      );
    await settled('ping\n');
    await waitFor(async () => (await both(['nodestatus', 'node2'])).heartbeat.stdout === 'active\n', 60_000);
    await waitFor(async () => (await both(['nodestatus', 'node1'])).tsbeat.stdout === 'active\n', 60_000);
    for (const q of queries) {
      const r = await both(q);
      expect(r.tsbeat, `cl_status ${q.join(' ')} (alive)`).toEqual(r.heartbeat);
    }
    expect((await both(['nodestatus', ping])).tsbeat).toEqual({ stdout: 'ping\n', code: 0 });

    await router.execOk(['nft', 'add', 'table', 'inet', 'tsbping']);
    await router.execOk([
      'nft',
      'add',
      'chain',
      'inet',
      'tsbping',
      'in',
      '{ type filter hook input priority 0 ; }',
    ]);
    await router.execOk('nft add rule inet tsbping in icmp type echo-request drop'.split(' '));
    await settled('dead\n');
    for (const q of queries) {
      const r = await both(q);
      expect(r.tsbeat, `cl_status ${q.join(' ')} (dead)`).toEqual(r.heartbeat);
    }
    expect((await both(['hblinkstatus', ping, ping])).tsbeat.stdout).toBe('dead\n');
  }, 180_000);
});

/** The "router" drops (or again answers) echo requests from `from`. */
async function cutPath(router: HarnessNode, from: HarnessNode, cut: boolean): Promise<void> {
  if (cut) {
    await router.exec(['nft', 'add', 'table', 'inet', 'tsbping']);
    await router.exec([
      'nft',
      'add',
      'chain',
      'inet',
      'tsbping',
      'in',
      '{ type filter hook input priority 0 ; }',
    ]);
    await router.execOk(
      `nft add rule inet tsbping in ip saddr ${from.addr('eth0')} icmp type echo-request drop`.split(' '),
    );
  } else {
    await router.execOk(['nft', 'flush', 'chain', 'inet', 'tsbping', 'in']);
  }
}

async function where(nodes: readonly HarnessNode[]): Promise<string> {
  const out: string[] = [];
  for (const n of nodes)
    for (const r of ['a1', 'b1'])
      if ((await n.exec(['test', '-e', `/run/HarnessRes-${r}`])).code === 0) out.push(`${r}@${n.name}`);
  return out.sort().join(' ');
}

describe('ipfail: the real one on heartbeat, the built-in one on tsbeat', () => {
  it('each gives its group up when it alone loses the ping node, and takes it back after', async () => {
    cluster = await createCluster({ nodes: 3 });
    const [hb, ts, router] = cluster.nodes as [HarnessNode, HarnessNode, HarnessNode];
    const ping = router.addr('eth0');
    for (const n of [hb, ts]) {
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: [hb, ts],
          media: ['bcast eth0'],
          keepalive: 1,
          deadtime: 5,
          warntime: 3,
          initdead: 10,
          autoFailback: 'on',
          extra: [`ping ${ping}`, 'deadping 4', 'respawn hacluster /usr/libexec/heartbeat/ipfail'],
        }),
        authkeys: authkeys('sha1', 'tsbeat-interop-ipfail'),
        haresources: 'node1 HarnessRes::a1\nnode2 HarnessRes::b1\n',
        'resource.d/HarnessRes': testResourceScript('HarnessRes'),
      });
    }
    const pair = [hb, ts];
    await startHeartbeat(hb);
    await startTsbeat(ts, { args: ['--foreground'], env: tsbeatEnv(ts) });
    const at = (want: string, ms: number) =>
      waitFor(async () => (await where(pair)) === want, ms, {
        description: `groups: ${want}`,
        intervalMs: 300,
      });
    await at('a1@node1 b1@node2', 90_000);
    // The real ipfail answered tsbeat's count (tsbeat asks at comm-up and when it joins).
    await waitForLog(hb, /ipfail: \[\d+\]: info: Ping node count is balanced\./, 30_000);

    // The heartbeat node loses its ping node: the real ipfail gives node1's group away.
    await cutPath(router, hb, true);
    await at('a1@node2 b1@node2', 40_000);
    await cutPath(router, hb, false);
    await at('a1@node1 b1@node2', 40_000);

    // The tsbeat node loses it: tsbeat's ipfail gives node2's group to heartbeat.
    await cutPath(router, ts, true);
    await at('a1@node1 b1@node1', 40_000);
    await waitForLog(ts, /ipfail: giving up all resources \(hb_standby all\)/, 5000);
    await cutPath(router, ts, false);
    await at('a1@node1 b1@node2', 40_000);
  }, 300_000);
});
