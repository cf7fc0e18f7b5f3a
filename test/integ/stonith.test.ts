/**
 * STONITH before takeover, with two tsbeat daemons in namespaces. Proves: with cluster-glue's
 * `null` plugin, a survivor resets its dead peer before taking its group over; with a
 * recording external plugin, the reset call names the right host and action, a failing
 * plugin makes the survivor retry and take nothing over, and once the plugin works the
 * takeover completes; in a partition where both nodes live and can fence each other, the
 * preferred survivor fences first and is the only node left holding the groups.
 * Only the `null` plugin and the test's own recording plugin are used (never real devices);
 * the plugin directory is bind-mounted inside each node's private mount namespace.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/ipc/schema.js';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  kill,
  linkDown,
  logMark,
  readLog,
  startTsbeat,
  testResourceScript,
  waitFor,
  waitForLog,
} from '../harness/index.js';

let cluster: Cluster | undefined;
let watcher: NodeJS.Timeout | undefined;
afterEach(async () => {
  if (watcher) clearInterval(watcher);
  watcher = undefined;
  await cluster?.destroy();
  cluster = undefined;
});

const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const start = (n: HarnessNode) => startTsbeat(n, { args: ['--foreground'], env: env(n) });

function recorderPlugin(state: string): string {
  return `#!/bin/sh
# tsbeat test STONITH plugin: touches nothing; records each call. Mode in ${state}/mode: ok|fail|power
echo "$(date +%s.%N) $(hostname) $* hostlist=[$hostlist]" >> ${state}/calls.log
mode=$(cat ${state}/mode 2>/dev/null || echo ok)
case $1 in
  gethosts) for h in $hostlist; do echo $h; done; exit 0;;
  getconfignames) echo hostlist; exit 0;;
  getinfo-devid) echo "tsbeat test device"; exit 0;;
  getinfo-devname|getinfo-devdescr|getinfo-devurl) echo "tsbeat test device"; exit 0;;
  getinfo-xml) echo '<parameters><parameter name="hostlist" unique="0" required="1"><content type="string"/><shortdesc lang="en">hosts</shortdesc><longdesc lang="en">hosts</longdesc></parameter></parameters>'; exit 0;;
  status) exit 0;;
  on|off|reset)
    case $mode in
      fail) exit 1;;
      power) touch ${state}/power-$2.req; i=0
        while [ ! -f ${state}/power-$2.done ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done
        [ -f ${state}/power-$2.done ]; exit $?;;
      *) exit 0;;
    esac;;
esac
exit 1
`;
}

async function setup(
  device: 'null' | 'recorder',
  extra: string[] = [],
): Promise<{ a: HarnessNode; b: HarnessNode; state: string }> {
  cluster = await createCluster({ nodes: 2 });
  const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
  const state = join(cluster.tmpDir, 'stonith');
  const plugins = join(cluster.tmpDir, 'stonith-plugins');
  mkdirSync(state, { recursive: true });
  mkdirSync(plugins, { recursive: true });
  writeFileSync(join(plugins, 'tsbtest'), recorderPlugin(state), { mode: 0o755 });
  writeFileSync(join(state, 'mode'), 'ok\n');
  const line =
    device === 'null' ? 'stonith_host * null node1 node2' : 'stonith_host * external/tsbtest node1 node2';
  for (const n of cluster.nodes) {
    await n.execOk(['mount', '--bind', plugins, '/usr/lib/stonith/plugins/external']);
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes: cluster.nodes,
        media: ['mcast eth0 239.77.5.1 694 1 0'],
        keepalive: 1,
        deadtime: 3,
        warntime: 2,
        initdead: 10,
        extra: [line, ...extra],
      }),
      authkeys: authkeys('sha1', 'tsbeat-stonith'),
      haresources: 'node1 HarnessRes::a\nnode2 HarnessRes::b\n',
      'resource.d/HarnessRes': testResourceScript('HarnessRes'),
    });
  }
  await Promise.all([start(a), start(b)]);
  for (const [n, r] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    await waitFor(async () => (await n.exec(['test', '-f', `/run/HarnessRes-${r}`])).code === 0, 40_000, {
      description: `${r} runs on ${n.name}`,
    });
  }
  return { a, b, state };
}

/** `tsbeat status --json`'s fencing object on a node. */
async function fencing(n: HarnessNode): Promise<StatusReport['fencing']> {
  const r = await n.exec([process.execPath, `${process.cwd()}/dist/cli/tsbeat.js`, 'status', '--json'], {
    env: env(n),
  });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as StatusReport).fencing;
}

const runs = async (n: HarnessNode, r: string) =>
  (await n.exec(['test', '-f', `/run/HarnessRes-${r}`])).code === 0;

describe('STONITH before takeover', () => {
  it("cluster-glue's null plugin: the survivor resets the dead node, then takes its group", async () => {
    const { a, b } = await setup('null');
    const mark = logMark(a);
    await kill(b, 'SIGKILL'); // its group keeps running on the machine: fencing is needed
    await waitForLog(a, /node node2 now reset\./, 30_000, { since: mark });
    await waitFor(() => runs(a, 'b'), 20_000, { description: 'b taken over by node1' });
    const log = readLog(a, mark);
    expect(log.indexOf('Resetting node node2 with [null]')).toBeGreaterThan(0);
    expect(log.indexOf('node node2 now reset.')).toBeLessThan(
      log.indexOf('Resources being acquired from node2.'),
    );
    expect(log).not.toMatch(/No STONITH device configured/);
  });

  it('a failing device is retried and nothing is taken over; once it works the takeover completes', async () => {
    const { a, b, state } = await setup('recorder');
    writeFileSync(join(state, 'mode'), 'fail\n');
    const mark = logMark(a);
    await kill(b, 'SIGKILL');
    await waitForLog(a, /STONITH of node2 failed\. {2}Retrying\.\.\./, 30_000, { since: mark });
    await waitFor(() => (readLog(a, mark).match(/STONITH of node2 failed/g)?.length ?? 0) >= 2, 30_000, {
      description: 'a second failed attempt',
    });
    expect(await runs(a, 'b')).toBe(false);
    // tsbeat status tells the operator what is going on.
    const failing = await fencing(a);
    expect(failing).toMatchObject({
      configured: true,
      preferredSurvivor: 'node1',
      delayMs: 0,
      lastCheck: { ok: true },
      lastFence: { node: 'node2', ok: false },
    });
    expect(failing.device).toMatch(/^external\/tsbtest /);
    writeFileSync(join(state, 'mode'), 'ok\n');
    await waitForLog(a, /node node2 now reset\./, 30_000, { since: mark });
    await waitFor(() => runs(a, 'b'), 20_000, { description: 'b taken over after the reset' });
    expect((await fencing(a)).lastFence).toMatchObject({ node: 'node2', ok: true });
    const calls = readFileSync(join(state, 'calls.log'), 'utf8');
    expect(calls).toMatch(/ node1 reset node2 hostlist=\[node1 node2\]/);
    expect(calls).not.toMatch(/ node1 reset node1/);
  });

  it('a partition with both nodes alive ends with the preferred survivor alone holding the groups', async () => {
    const { a, b, state } = await setup('recorder', ['env TSBEAT_FENCE_DELAY=6']);
    writeFileSync(join(state, 'mode'), 'power\n');
    const shot: string[] = [];
    // The "power switch": a reset request turns the target machine off.
    watcher = setInterval(() => {
      for (const f of readdirSync(state)) {
        const m = /^power-(node\d)\.req$/.exec(f);
        if (!m || shot.includes(m[1]!)) continue;
        shot.push(m[1]!);
        const victim = m[1] === 'node1' ? a : b;
        void (async () => {
          await kill(victim, 'SIGKILL');
          await victim.exec(['sh', '-c', 'rm -f /run/HarnessRes-*']);
          writeFileSync(join(state, `power-${m[1]}.done`), '');
        })();
      }
    }, 100);
    await linkDown(b, 'eth0'); // both alive, each sees the other die
    await waitFor(() => existsSync(join(state, 'power-node2.done')), 40_000, {
      description: 'node1 (preferred survivor) fences node2',
    });
    await waitFor(() => runs(a, 'b'), 30_000, { description: 'node1 takes b' });
    await new Promise((r) => setTimeout(r, 8000)); // longer than node2's delay
    expect(shot).toEqual(['node2']);
    expect(await runs(a, 'a')).toBe(true);
    expect(await runs(b, 'a')).toBe(false);
    expect(await runs(b, 'b')).toBe(false);
    expect(readLog(b)).toMatch(/waiting 6000 ms before fencing node1: node1 is the preferred survivor/);
  });
});
