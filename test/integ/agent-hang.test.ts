/**
 * A built-in agent whose action never settles, in a real tsbeat pair in namespaces (issue 11:
 * "a hung agent never blocks a takeover"). node2's daemon runs with the test-only fault hook
 * TSBEAT_TEST_FAULT=agent-hang:Dummy:start:b, so the start of its own group (Dummy::b, the
 * built-in Dummy agent, in-process) never finishes and ignores its abort. While it hangs,
 * node1 (holding Dummy::a) is SIGKILLed. Proves, against the real daemon: node2 fences node1
 * (STONITH with cluster-glue's null plugin) and takes Dummy::a over within deadtime plus a
 * few seconds, long before the hung start's deadline (12 s + 5 s grace, set with ha.cf's
 * TSBEAT_RESOURCE_TIMEOUT), where the old single work queue would have made both wait for it;
 * then, at the deadline and not before, the hung start is declared timed out, Dummy::b is given
 * up, its stops are refused (the start still runs, left behind) and retried STOPRETRYMAX times,
 * and the group is kept on node2 as a STOP failure — never handed over while it may run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/ipc/schema.js';
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
  waitFor,
  waitForLog,
} from '../harness/index.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

const DEADTIME_S = 3;
const TIMEOUT_S = 12;
const GRACE_S = 5;

const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });

/** Dummy keeps its state file in HA_RSCTMP (the node's private /run/resource-agents). */
const runs = async (n: HarnessNode, instance: string) =>
  (await n.exec(['test', '-f', `/run/resource-agents/Dummy-Dummy_${instance}.state`])).code === 0;

async function status(n: HarnessNode): Promise<StatusReport> {
  const r = await n.exec([process.execPath, `${process.cwd()}/dist/cli/tsbeat.js`, 'status', '--json'], {
    env: env(n),
  });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusReport;
}

describe('a built-in agent that never finishes', () => {
  it('holds up neither the fence nor the takeover of the dead peer; its group fails at the deadline and stays here', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    for (const n of cluster.nodes) {
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: cluster.nodes,
          media: ['mcast eth0 239.77.11.1 694 1 0'],
          keepalive: 1,
          deadtime: DEADTIME_S,
          warntime: 2,
          initdead: 10,
          extra: [
            'stonith_host * null node1 node2',
            // node2 is not the preferred survivor: no fencing delay, so the bound below is tight.
            'env TSBEAT_FENCE_DELAY=0',
            `env TSBEAT_RESOURCE_TIMEOUT=${TIMEOUT_S}`,
            'env STOPRETRYMAX=2',
          ],
        }),
        authkeys: authkeys('sha1', 'tsbeat-agent-hang'),
        haresources: 'node1 Dummy::a\nnode2 Dummy::b\n',
      });
    }
    await Promise.all([
      startTsbeat(a, { args: ['--foreground'], env: env(a) }),
      startTsbeat(b, {
        args: ['--foreground'],
        env: { ...env(b), TSBEAT_TEST_FAULT: 'agent-hang:Dummy:start:b' },
      }),
    ]);
    await waitForLog(b, /test fault hook agent-hang: Dummy b start will never finish/, 60_000);
    const hangAt = Date.now();
    await waitFor(() => runs(a, 'a'), 30_000, { description: 'Dummy::a runs on node1' });
    expect(await runs(b, 'b')).toBe(false);

    const mark = logMark(b);
    const killedAt = Date.now();
    await kill(a, 'SIGKILL');
    // The machine "crashes" with it: its group goes too.
    await a.exec(['rm', '-f', '/run/resource-agents/Dummy-Dummy_a.state']);

    await waitForLog(b, /node node1 now reset\./, 30_000, { since: mark });
    await waitFor(() => runs(b, 'a'), 30_000, { description: 'node2 takes Dummy::a over', intervalMs: 100 });
    const tookOverAt = Date.now();
    await waitForLog(b, /mach_down takeover complete\./, 10_000, { since: mark });
    // On time: deadtime plus a few seconds, and before the hung start's deadline.
    expect(tookOverAt - killedAt).toBeLessThan((DEADTIME_S + 7) * 1000);
    expect(readLog(b, mark)).not.toMatch(/Dummy \(tsbeat built-in\) b start timed out/);

    // The hung start fails at its deadline (plus the grace for its abort), not before.
    await waitForLog(
      b,
      new RegExp(
        `Dummy \\(tsbeat built-in\\) b start timed out after ${TIMEOUT_S * 1000} ms; it ignored its abort and still runs`,
      ),
      (TIMEOUT_S + GRACE_S + 30) * 1000,
      { since: mark },
    );
    expect(Date.now() - hangAt).toBeGreaterThanOrEqual((TIMEOUT_S - 1) * 1000);
    await waitForLog(b, /Resource STOP failure: Dummy::b may still be running/, 30_000, { since: mark });

    const log = readLog(b, mark);
    const at = (re: RegExp) => log.search(re);
    expect(at(/node node1 now reset\./)).toBeLessThan(at(/Resources being acquired from node1\./));
    expect(at(/mach_down takeover complete\./)).toBeLessThan(at(/b start timed out/));
    expect(at(/b start timed out/)).toBeLessThan(at(/Giving up resources due to failure of Dummy::b/));
    // The stop is refused while the start still runs (never two actions of one resource at
    // once): the first attempt and STOPRETRYMAX=2 retries, then the status check, also refused.
    expect(log.match(/Dummy \(tsbeat built-in\) b stop not run: its start, abandoned/g)).toHaveLength(3);
    expect(log.match(/Retrying failed stop operation \[Dummy::b\]/g)).toHaveLength(2);
    expect(log).toMatch(/Dummy \(tsbeat built-in\) b status not run: its start, abandoned/);
    expect(log).not.toMatch(/probably not LSB-compliant/);

    // Where things are: a on node2, b kept here as stuck (not started, not handed anywhere).
    expect(await runs(b, 'a')).toBe(true);
    expect(await runs(b, 'b')).toBe(false);
    const groups = (await status(b)).groups;
    expect(groups.map((g) => [g.key, g.state])).toEqual([
      ['Dummy::a', 'running'],
      ['Dummy::b', 'stopFailed'],
    ]);
  });
});

/**
 * The same fault for an agent that runs as its own process (Filesystem, registry.ts): here the
 * hook blocks the agent process's only thread, as a synchronous stat on a hung NFS mount would,
 * so it ignores SIGTERM. Proves, against the real daemon, that while it is stuck node2's
 * heartbeats go out and are heard on time both ways (no late heartbeat, nobody declared dead)
 * and its local API answers; at the deadline the agent's process group gets SIGTERM, 5 s later
 * SIGKILL, and the start fails ("its process group was killed"), the process gone.
 */
describe('an out-of-process built-in agent that is stuck', () => {
  it('leaves the heartbeats and the local API on time, and is killed at its deadline', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    const timeoutS = 8;
    for (const n of cluster.nodes) {
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: cluster.nodes,
          media: ['mcast eth0 239.77.11.2 694 1 0'],
          keepalive: 1,
          deadtime: DEADTIME_S,
          warntime: 2,
          initdead: 10,
          extra: [`env TSBEAT_RESOURCE_TIMEOUT=${timeoutS}`],
        }),
        authkeys: authkeys('sha1', 'tsbeat-agent-hang-fs'),
        haresources: 'node1 Dummy::a\nnode2 Filesystem::/dev/tsbeat-hang-none::/run/tsbeat-hang-mnt::ext4\n',
      });
    }
    const markA = logMark(a);
    const markB = logMark(b);
    await Promise.all([
      startTsbeat(a, { args: ['--foreground'], env: env(a) }),
      startTsbeat(b, {
        args: ['--foreground'],
        env: { ...env(b), TSBEAT_TEST_FAULT: 'agent-hang:Filesystem:start' },
      }),
    ]);
    // The child writes the hook's line to ha.cf's logfile itself, tagged with its pid.
    await waitForLog(b, /test fault hook agent-hang: Filesystem .* start will never finish/, 60_000);
    const hungAt = Date.now();
    const hook = /Filesystem\(\)\[(\d+)\]: +WARNING: test fault hook agent-hang/.exec(readLog(b, markB));
    expect(hook).not.toBeNull();
    const pid = Number(hook![1]);
    expect(readLog(b, markB)).toMatch(
      /Running Filesystem \(tsbeat built-in, own process\) \/dev\/tsbeat-hang-none \/run\/tsbeat-hang-mnt ext4 start/,
    );

    // The agent's own process (seen in the node's PID namespace, as the pid in its log line).
    const cmdline = await b.exec(['cat', `/proc/${pid}/cmdline`]);
    expect(cmdline.stdout.split('\0').slice(1, 4)).toEqual([
      `${process.cwd()}/dist/cli/agent.js`,
      'hb',
      'Filesystem',
    ]);

    // While it is stuck: the local API answers at once.
    const t0 = Date.now();
    expect((await status(b)).nodes.length).toBeGreaterThan(0);
    expect(Date.now() - t0).toBeLessThan(5000);

    await waitForLog(
      b,
      new RegExp(
        `Filesystem \\(tsbeat built-in, own process\\) \\S+ \\S+ ext4 start timed out after ${timeoutS * 1000} ms; its process group was killed$`,
        'm',
      ),
      (timeoutS + GRACE_S + 30) * 1000,
      { since: markB },
    );
    // SIGTERM at the deadline did not end it; SIGKILL after the grace did.
    expect(Date.now() - hungAt).toBeGreaterThanOrEqual((timeoutS + GRACE_S - 1) * 1000);
    const gone = await b.exec([
      'sh',
      '-c',
      `! test -e /proc/${pid} || grep -q '^[0-9]* ([^)]*) Z' /proc/${pid}/stat`,
    ]);
    expect(gone.code, `agent process ${pid} still runs`).toBe(0);

    // Throughout, each node heard the other on time.
    for (const [n, mark, peer] of [
      [a, markA, 'node2'],
      [b, markB, 'node1'],
    ] as const) {
      const log = readLog(n, mark);
      expect(log).not.toMatch(new RegExp(`Late heartbeat: Node ${peer}`));
      expect(log).not.toMatch(new RegExp(`node ${peer}: is dead`));
    }
  });
});
