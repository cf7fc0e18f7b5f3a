/**
 * Ping nodes in a mixed cluster: node1 runs the real heartbeat 3.0.6, node2 runs tsbeat, both
 * with `ping <node3>` (node3 is a third namespace whose kernel answers ICMP echo). The real
 * cl_status on node1 and tsbeat's cl_status on node2 must print the same stdout and exit
 * code for every ping-node query heartbeat's tutorial uses (`listnodes` with -p/-n,
 * `nodetype`, `nodestatus`, `listhblinks`, `hblinkstatus`) while the ping node answers, and
 * again after node3 drops every echo request (nftables) and both daemons declared it dead.
 * This replaces the cl_status conformance check against a fake view
 * (test/unit/cli/cl_status.test.ts) with the daemon itself.
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
