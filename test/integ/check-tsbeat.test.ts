/**
 * check_tsbeat against two real tsbeat daemons in network namespaces, two media (mcast on eth0
 * and on eth1), one resource group preferring each node. Every state and exit code from a
 * live daemon, each waited for rather than timed: OK (0) once both are active and each group
 * runs at home; WARNING (1) with eth1 of node2 down, naming the dead link; OK again after it
 * comes back; UNKNOWN (3) when node1's daemon is frozen (SIGSTOP) and -t 2 runs out; CRITICAL
 * (2) when node2 is killed, naming it dead and its group running away from home; CRITICAL (2)
 * again, "not running", once node1's daemon is gone too. The perfdata of the first answer is
 * checked field by field. A second cluster whose node2 knows one group more: WARNING (1) on
 * node1, naming node2 and haresources, from the config digests the daemons exchange.
 */
import { afterEach, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  kill,
  linkDown,
  linkUp,
  pause,
  resume,
  startTsbeat,
  testResourceScript,
  waitFor,
} from '../harness/index.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

const CHECK = `${process.cwd()}/dist/cli/check_tsbeat.js`;
const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });

async function check(n: HarnessNode, args: string[] = []): Promise<{ code: number | null; out: string }> {
  const r = await n.exec([process.execPath, CHECK, ...args], { env: env(n), timeoutMs: 30_000 });
  return { code: r.code, out: r.stdout };
}

/** Poll check_tsbeat until its exit code and first line match. */
async function until(n: HarnessNode, code: number, line: RegExp, args: string[] = []): Promise<string> {
  let last = { code: null as number | null, out: '' };
  await waitFor(
    async () => {
      last = await check(n, args);
      return last.code === code && line.test(last.out.split('\n')[0] ?? '');
    },
    60_000,
    {
      intervalMs: 500,
      description: `check_tsbeat on ${n.name} exits ${code} with ${line} (last: ${JSON.stringify(last)})`,
    },
  );
  return last.out;
}

it('every state and exit code from live daemons: OK, WARNING, UNKNOWN, CRITICAL', async () => {
  cluster = await createCluster({ nodes: 2, networks: 2 });
  const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
  for (const n of cluster.nodes)
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes: cluster.nodes,
        media: ['mcast eth0 239.77.16.1 694 1 0', 'mcast eth1 239.77.16.2 694 1 0'],
        keepalive: 1,
        deadtime: 4,
        warntime: 2,
        initdead: 8,
      }),
      authkeys: authkeys('sha1', 'tsbeat-check'),
      haresources: 'node1 HarnessRes::a\nnode2 HarnessRes::b\n',
      'resource.d/HarnessRes': testResourceScript('HarnessRes'),
    });
  const da = await startTsbeat(a, { args: ['--foreground'], env: env(a) });
  await startTsbeat(b, { args: ['--foreground'], env: env(b) });

  const ok = await until(
    a,
    0,
    /^TSBEAT OK - node1: node2 active, 2\/2 links up; 2 groups running on the preferred node \|/,
  );
  const perf = ok.split('\n')[0]!.split(' | ')[1]!.split(' ');
  expect(perf[0]).toBe("'node2_links_up'=2;2:;1:;0;2");
  expect(perf[1]).toMatch(/^'node2_last_heard'=\d+ms;2000;4000;0$/);
  // The daemons exchange config digests (src/observe), so the drift count is there too.
  expect(perf.slice(2)).toEqual([
    "'groups_running'=2;;;0;2",
    "'groups_not_running'=0;;;0;2",
    "'config_mismatch_nodes'=0;;;0",
  ]);
  expect(ok).toMatch(/^group HarnessRes::a: runs on node1 \(preferred node1; here running\)$/m);

  await linkDown(b, 'eth1');
  await until(
    a,
    1,
    /^TSBEAT WARNING - 1\/2 links up to node2 \(eth1 dead\) \| 'node2_links_up'=1;2:;1:;0;2 /,
  );
  await linkUp(b, 'eth1');
  await until(a, 0, /^TSBEAT OK - /);

  // A frozen daemon accepts nothing: -t bounds the wait and the answer is UNKNOWN.
  await pause(da);
  try {
    const frozen = await check(a, ['-t', '2']);
    expect(frozen).toEqual({ code: 3, out: 'TSBEAT UNKNOWN - no answer from tsbeat within 2 s (-t)\n' });
  } finally {
    await resume(da);
  }
  await until(a, 0, /^TSBEAT OK - /);

  await kill(b, 'SIGKILL');
  await until(
    a,
    2,
    /^TSBEAT CRITICAL - node2 dead; 0\/2 links up to node2 \(eth0, eth1 dead\); group HarnessRes::b runs on node1, not on its preferred node node2 \|/,
  );

  await kill(a, 'SIGKILL');
  const gone = await check(a);
  expect(gone).toEqual({
    code: 2,
    out: 'TSBEAT CRITICAL - tsbeat is not running (nothing answers on /run/tsbeat/api.sock)\n',
  });
}, 240_000);

it("config drift: node2's haresources differs, and node1's check_tsbeat says so (WARNING)", async () => {
  cluster = await createCluster({ nodes: 2, networks: 1 });
  const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
  for (const n of cluster.nodes)
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes: cluster.nodes,
        media: ['mcast eth0 239.77.16.3 694 1 0'],
        keepalive: 1,
        deadtime: 4,
        warntime: 2,
        initdead: 8,
      }),
      authkeys: authkeys('sha1', 'tsbeat-check-drift'),
      haresources: `node1 HarnessRes::a\nnode2 HarnessRes::b\n${n === b ? 'node2 HarnessRes::c\n' : ''}`,
      'resource.d/HarnessRes': testResourceScript('HarnessRes'),
    });
  await startTsbeat(a, { args: ['--foreground'], env: env(a) });
  await startTsbeat(b, { args: ['--foreground'], env: env(b) });
  const out = await until(a, 1, /^TSBEAT WARNING - .*configuration differs from node2: haresources/);
  expect(out.split('\n')[0]).toContain("'config_mismatch_nodes'=1;;;0");
}, 180_000);
