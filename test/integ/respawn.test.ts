/**
 * Client children and `cl_status clientstatus` under two tsbeat daemons in namespaces. Each
 * node has `respawn nobody /bin/sleep 1000` and `respawn hacluster .../ipfail` (built in).
 * Proves: the program runs as the configured user; killed, it is started again (new pid) and
 * `clientstatus node1 sleep` stays online; `clientstatus` answers for the built-in ipfail
 * locally and, from the join the peer's ipfail announced, for the peer; a client that does not
 * run is offline (exit 1); `tsbeat stop` ends the program, and the peer then reports the
 * stopped node's ipfail offline.
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
} from '../harness/index.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

const TSBEAT = `${process.cwd()}/dist/cli/tsbeat.js`;
const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const clStatus = (n: HarnessNode, args: readonly string[]) =>
  n.exec([process.execPath, `${process.cwd()}/dist/cli/cl_status.js`, ...args], {
    env: env(n),
    timeoutMs: 30_000,
  });

/** The node's `sleep` processes: [pid, user]. */
async function sleeps(n: HarnessNode): Promise<[number, string][]> {
  const r = await n.exec(['ps', '-eo', 'pid=,user=,args=']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[2] === '/bin/sleep' && f[3] === '1000')
    .map((f) => [Number(f[0]), f[1]!]);
}

describe('respawn and clientstatus in namespaces', () => {
  it('runs, restarts and stops a client; clientstatus answers from real client state', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    for (const n of cluster.nodes) {
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: cluster.nodes,
          media: ['bcast eth0'],
          keepalive: 1,
          deadtime: 5,
          warntime: 3,
          initdead: 10,
          autoFailback: 'on',
          extra: ['respawn nobody /bin/sleep 1000', 'respawn hacluster /usr/lib/heartbeat/ipfail'],
        }),
        authkeys: authkeys('sha1', 'tsbeat-respawn'),
        haresources: 'node1 HarnessRes::a1\n',
        'resource.d/HarnessRes': testResourceScript('HarnessRes'),
      });
    }
    await Promise.all([a, b].map((n) => startTsbeat(n, { args: ['--foreground'], env: env(n) })));
    await waitFor(async () => (await sleeps(a)).length === 1, 30_000, {
      description: 'sleep started on node1',
    });
    const [[pid, user]] = (await sleeps(a)) as [[number, string]];
    expect(user).toBe('nobody');
    await waitFor(
      async () => (await clStatus(a, ['clientstatus', 'node1', 'sleep'])).stdout === 'online\n',
      20_000,
    );

    await a.execOk(['kill', '-9', String(pid)]);
    await waitFor(
      async () => {
        const s = await sleeps(a);
        return s.length === 1 && s[0]![0] !== pid;
      },
      20_000,
      { description: 'sleep restarted with a new pid' },
    );
    const online = await clStatus(a, ['clientstatus', 'node1', 'sleep']);
    expect({ stdout: online.stdout, code: online.code }).toEqual({ stdout: 'online\n', code: 0 });

    // The built-in ipfail, here and (from its join) on the peer; an absent client is offline.
    expect((await clStatus(a, ['clientstatus', 'node1', 'ipfail'])).stdout).toBe('online\n');
    await waitFor(
      async () => (await clStatus(a, ['clientstatus', 'node2', 'ipfail'])).stdout === 'online\n',
      30_000,
      {
        description: 'node1 sees the ipfail of node2',
      },
    );
    const absent = await clStatus(a, ['clientstatus', 'node1', 'ccm']);
    expect({ stdout: absent.stdout, code: absent.code }).toEqual({ stdout: 'offline\n', code: 1 });

    const stop = await a.exec([process.execPath, TSBEAT, 'stop'], { env: env(a), timeoutMs: 60_000 });
    expect(stop.code).toBe(0);
    expect(await sleeps(a)).toEqual([]);
    await waitFor(
      async () => (await clStatus(b, ['clientstatus', 'node1', 'ipfail'])).stdout !== 'online\n',
      30_000,
      {
        description: 'node2 no longer sees the ipfail of node1',
      },
    );
  }, 180_000);
});
