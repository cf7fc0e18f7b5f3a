/**
 * Chaos suite: two real tsbeat daemons in network namespaces, two media (mcast on eth0 and on
 * eth1), driven through a fixed sequence of faults named after Pacemaker's CTS tests (cts/lab/
 * CTStests.py), as CTS runs them: one cluster, one test after another, each starting from and
 * returning to the healthy state (every group on its home node, both nodes active). Each test
 * states its expected outcome:
 * - SimulStart: both daemons start at the same moment; each group starts once, on its home node.
 * - StandbyTest: hb_standby moves node1's group to node2; hb_takeover brings it back.
 * - FlipTest: `tsbeat stop` on node2 hands its group over at once (no deadtime, nobody declared
 *   dead); node2 started again gets it back (auto_failback on).
 * - RestartTest: SIGKILL of node1 (its machine "crashes": resources gone); node2 declares it dead
 *   after deadtime and takes its group; node1 restarted comes back with a newer generation and
 *   gets its group back.
 * - ComponentFail: one component fails while the node lives. 30% packet loss on one of the two
 *   media for 20 s: nobody is declared dead, no group moves. That medium's link down: the link is
 *   declared dead, the node is not, no group moves; link up: the link comes back. The daemon
 *   frozen (SIGSTOP) shorter than deadtime: nothing happens; longer than deadtime: the peer
 *   takes the group over (no fencing: heartbeat's known two-owner case while it is frozen), and
 *   once it resumes (SIGCONT) there is no takeover storm: the frozen node does not declare its
 *   peer dead, takes nothing over, every group ends on exactly one node and stays there.
 * - SplitBrainTest: a full partition (every packet dropped both ways on both media): both
 *   declare the other dead and, without fencing, both run both groups (the split-brain case,
 *   counted here, never silent); after the heal, exactly one owner per group, both active.
 * - ResourceRecover: a resource of node1's group fails to start; the group is stopped right to
 *   left and handed to node2; once the fault is gone, hb_takeover on node1 brings it home.
 * - SimulStop: both daemons are stopped at the same moment: both exit 0, nothing runs anywhere,
 *   no group is ever on two nodes, no ERROR or CRIT (a node that hears its peer's shutdown
 *   notice before its own stop request may take the group over first, as heartbeat does).
 * - StonithTest: with a STONITH device (this test's recording external plugin, never a real
 *   device), SIGKILL of node1: node2 resets node1 before it starts node1's group.
 * - Wall-clock step: tested in chaos-clock-vm.test.ts, not here. CLOCK_REALTIME has no namespace
 *   (a time namespace only offsets CLOCK_MONOTONIC and CLOCK_BOOTTIME), so stepping it for one
 *   daemon would step the host's clock under every other test; the VM's kernel is the test's own.
 * Loss uses netem where the kernel has it, else the harness's nftables random-drop fallback.
 * Ownership is sampled on both nodes every ~250 ms throughout; each test checks its samples.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  clearNetem,
  createCluster,
  type Daemon,
  type HarnessNode,
  haCf,
  kill,
  linkDown,
  linkUp,
  logMark,
  netem,
  pause,
  readLog,
  resume,
  startTsbeat,
  testResourceScript,
  waitFor,
  waitForLog,
} from '../harness/index.js';

const DIST = `${process.cwd()}/dist/cli`;
const GROUPS = { a: 'node1', b: 'node2' } as const; // group -> home node
type Group = keyof typeof GROUPS;
type Owners = Record<Group, string[]>;
const HEALTHY: Owners = { a: ['node1'], b: ['node2'] };
const DEADTIME_S = 4;

let cluster: Cluster | undefined;
let a: HarnessNode;
let b: HarnessNode;
let stonithState = '';
const daemons = new Map<string, Daemon>();

const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(n: HarnessNode): Promise<Daemon> {
  const d = await startTsbeat(n, { args: ['--foreground'], env: env(n) });
  daemons.set(n.name, d);
  return d;
}
const running = (n: HarnessNode) => daemons.get(n.name)?.running() === true;
const cli = (n: HarnessNode, tool: string, args: string[] = []) =>
  n.exec([process.execPath, `${DIST}/${tool}.js`, ...args], { env: env(n), timeoutMs: 60_000 });

/** A resource that fails its start while /run/fail-start-NAME exists. */
function flakyScript(): string {
  return `#!/bin/sh
inst=$1; op=$2
S=/run/Flaky-$inst
echo "$(date '+%T') Flaky $inst $op" >> /run/Flaky.log
case $op in
  start) [ -f /run/fail-start-$inst ] && { echo "Flaky $inst start failed"; exit 1; }; touch "$S"; exit 0;;
  stop) rm -f "$S"; exit 0;;
  status) if [ -f "$S" ]; then echo "Flaky $inst is running"; else echo "Flaky $inst is stopped"; fi; exit 0;;
esac
exit 2
`;
}

/** The STONITH plugin of stonith.test.ts, reduced: records every call, always succeeds. */
function recorderPlugin(state: string): string {
  return `#!/bin/sh
echo "$(date +%s.%N) $(hostname) $* hostlist=[$hostlist]" >> ${state}/calls.log
case $1 in
  gethosts) for h in $hostlist; do echo $h; done; exit 0;;
  getconfignames) echo hostlist; exit 0;;
  getinfo-devid|getinfo-devname|getinfo-devdescr|getinfo-devurl) echo "tsbeat chaos test device"; exit 0;;
  getinfo-xml) echo '<parameters><parameter name="hostlist" unique="0" required="1"><content type="string"/><shortdesc lang="en">hosts</shortdesc><longdesc lang="en">hosts</longdesc></parameter></parameters>'; exit 0;;
  status|on|off|reset) exit 0;;
esac
exit 1
`;
}

function configure(extra: string[] = []): void {
  for (const n of [a, b]) {
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes: [a, b],
        media: ['mcast eth0 239.77.12.1 694 1 0', 'mcast eth1 239.77.12.2 694 1 0'],
        keepalive: 1,
        deadtime: DEADTIME_S,
        warntime: 2,
        initdead: 12,
        autoFailback: 'on',
        extra,
      }),
      authkeys: authkeys('sha1', 'tsbeat-chaos'),
      haresources: 'node1 HarnessRes::a1 Flaky::a2\nnode2 HarnessRes::b1\n',
      'resource.d/HarnessRes': testResourceScript('HarnessRes'),
      'resource.d/Flaky': flakyScript(),
    });
  }
}

/** Which nodes run each group right now (group a = HarnessRes a1 + Flaky a2, b = HarnessRes b1). */
async function owners(): Promise<Owners> {
  const out: Owners = { a: [], b: [] };
  await Promise.all(
    [a, b].map(async (n) => {
      const r = await n.exec(['sh', '-c', 'ls /run 2>/dev/null'], { timeoutMs: 30_000 });
      const files = new Set(r.stdout.split('\n'));
      if (files.has('HarnessRes-a1') || files.has('Flaky-a2')) out.a.push(n.name);
      if (files.has('HarnessRes-b1')) out.b.push(n.name);
    }),
  );
  out.a.sort();
  out.b.sort();
  return out;
}

/** Samples ownership every ~250 ms until stopped. */
function sampler() {
  let on = true;
  const samples: { atMs: number; owners: Owners }[] = [];
  const loop = (async () => {
    while (on) {
      samples.push({ atMs: Date.now(), owners: await owners() });
      await sleep(250);
    }
  })();
  return {
    samples,
    async stop() {
      on = false;
      await loop;
      return {
        samples,
        /** The largest number of nodes that ran one group at the same moment. */
        maxOwners: Math.max(0, ...samples.flatMap((s) => [s.owners.a.length, s.owners.b.length])),
        /** How many times the owner set of any group changed between samples. */
        changes: samples.reduce(
          (k, s, i) =>
            i === 0 ? 0 : k + (JSON.stringify(s.owners) !== JSON.stringify(samples[i - 1]!.owners) ? 1 : 0),
          0,
        ),
      };
    },
  };
}

async function expectOwners(want: Owners, timeoutMs = 40_000, what = ''): Promise<void> {
  await waitFor(async () => JSON.stringify(await owners()) === JSON.stringify(want), timeoutMs, {
    description: `${what} owners ${JSON.stringify(want)}`.trim(),
    intervalMs: 300,
  });
}

interface StatusJson {
  generation: number;
  nodes: { name: string; status: string; generation?: number; links: { name: string; status: string }[] }[];
}
async function status(n: HarnessNode): Promise<StatusJson | undefined> {
  const r = await cli(n, 'tsbeat', ['status', '--json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as StatusJson) : undefined;
}
async function peerStatus(n: HarnessNode, peer: string): Promise<string | undefined> {
  return (await status(n))?.nodes.find((x) => x.name === peer)?.status;
}

/** Both daemons run, see each other active, and every group is home. Starts what is missing. */
async function healthy(): Promise<void> {
  for (const n of [a, b]) if (!running(n)) await start(n);
  await waitFor(
    async () => (await peerStatus(a, 'node2')) === 'active' && (await peerStatus(b, 'node1')) === 'active',
    60_000,
    { description: 'both nodes active for each other', intervalMs: 500 },
  );
  await expectOwners(HEALTHY, 60_000, 'healthy:');
}

/** Lines of a node's log since a mark that match. */
const count = (n: HarnessNode, since: number, re: RegExp) =>
  readLog(n, since).match(new RegExp(re.source, 'g'))?.length ?? 0;

/** `HarnessRes a1 start` lines in the node's resource log (every start of the a-group's first resource). */
async function startsOf(n: HarnessNode, inst: string): Promise<number> {
  const log = (await n.exec(['sh', '-c', 'cat /run/HarnessRes.log 2>/dev/null'])).stdout;
  return log.split('\n').filter((l) => l.endsWith(`HarnessRes ${inst} start`)).length;
}

/** Packets the harness's nftables loss rule dropped on the node's interface (nft-loss fallback only). */
async function nftDropped(n: HarnessNode, ifname: string): Promise<number> {
  const r = await n.exec(['nft', 'list', 'table', 'netdev', `tsbfault_${ifname}`]);
  return Number(/counter packets (\d+)/.exec(r.stdout)?.[1] ?? Number.NaN);
}

/** "The machine crashes": SIGKILL the daemon and drop what its resources left behind. */
async function crash(n: HarnessNode): Promise<void> {
  await kill(n, 'SIGKILL');
  daemons.delete(n.name);
  await n.exec(['sh', '-c', 'rm -f /run/HarnessRes-* /run/Flaky-*']);
}

beforeAll(async () => {
  cluster = await createCluster({ nodes: 2, networks: 2 });
  [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
  stonithState = join(cluster.tmpDir, 'stonith');
  const plugins = join(cluster.tmpDir, 'stonith-plugins');
  mkdirSync(stonithState, { recursive: true });
  mkdirSync(plugins, { recursive: true });
  writeFileSync(join(plugins, 'tsbchaos'), recorderPlugin(stonithState), { mode: 0o755 });
  for (const n of [a, b]) await n.execOk(['mount', '--bind', plugins, '/usr/lib/stonith/plugins/external']);
  configure();
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
  cluster = undefined;
}, 120_000);

describe.sequential('chaos: CTS-style faults against real tsbeat daemons (2 nodes, 2 media)', () => {
  it('SimulStart: both start at once; each group starts once, on its home node', async () => {
    await Promise.all([start(a), start(b)]);
    await healthy();
    await sleep(2000);
    expect(await owners()).toEqual(HEALTHY);
    expect(await startsOf(a, 'a1')).toBe(1);
    expect(await startsOf(b, 'a1')).toBe(0);
    expect(await startsOf(b, 'b1')).toBe(1);
    expect(await startsOf(a, 'b1')).toBe(0);
  }, 120_000);

  it('StandbyTest: hb_standby moves the group to the peer, hb_takeover brings it back, never on two nodes', async () => {
    await healthy();
    const watch = sampler();
    const r = await cli(a, 'hb_standby');
    expect(r.code, r.stderr).toBe(0);
    await expectOwners({ a: ['node2'], b: ['node2'] }, 40_000, 'after hb_standby on node1:');
    const t = await cli(a, 'hb_takeover', ['local']);
    expect(t.code, t.stderr).toBe(0);
    await expectOwners(HEALTHY, 40_000, 'after hb_takeover local on node1:');
    const w = await watch.stop();
    expect(w.maxOwners).toBe(1);
  }, 120_000);

  it('FlipTest: a graceful stop hands the group over at once; the node started again gets it back', async () => {
    await healthy();
    const watch = sampler();
    const markA = logMark(a);
    const d = daemons.get('node2')!;
    const stop = await cli(b, 'tsbeat', ['stop']);
    expect(stop.code, stop.stderr).toBe(0);
    expect((await d.exited).code).toBe(0);
    daemons.delete('node2');
    await waitForLog(a, /Received shutdown notice from 'node2'\./, 20_000, { since: markA });
    await expectOwners({ a: ['node1'], b: ['node1'] }, 20_000, 'node2 stopped:');
    await start(b);
    await expectOwners(HEALTHY, 60_000, 'node2 back:');
    const w = await watch.stop();
    expect(w.maxOwners).toBe(1);
    expect(readLog(a, markA)).not.toMatch(/node node2: is dead/);
  }, 120_000);

  it('RestartTest: SIGKILL; the peer takes over after deadtime; the restarted node returns with a newer generation', async () => {
    await healthy();
    const genBefore = (await status(b))!.nodes.find((n) => n.name === 'node1')!.generation!;
    const watch = sampler();
    const markB = logMark(b);
    await crash(a);
    await waitForLog(b, /node node1: is dead/, 30_000, { since: markB });
    await expectOwners({ a: ['node2'], b: ['node2'] }, 30_000, 'node1 crashed:');
    await start(a);
    await healthy();
    const w = await watch.stop();
    expect(w.maxOwners).toBe(1);
    const genAfter = (await status(b))!.nodes.find((n) => n.name === 'node1')!.generation!;
    expect(genAfter).toBeGreaterThan(genBefore);
    expect(count(b, markB, /node node1: is dead/)).toBe(1);
  }, 150_000);

  it('ComponentFail (medium): 30% loss on eth1 for 20 s: no node declared dead, no group moves', async () => {
    await healthy();
    const watch = sampler();
    const marks = [logMark(a), logMark(b)] as const;
    const method = await netem(b, 'eth1', 'loss 30%');
    await netem(a, 'eth1', 'loss 30%');
    expect(['netem', 'nft-loss']).toContain(method);
    let dropped: number | undefined;
    try {
      await sleep(20_000);
      dropped = method === 'nft-loss' ? await nftDropped(b, 'eth1') : undefined;
    } finally {
      await clearNetem(a, 'eth1');
      await clearNetem(b, 'eth1');
    }
    // The fault was real: node2 sends ~40 frames in 20 s on eth1, about 12 of them dropped on
    // average; "more than 1" keeps this a check that the rule bit, not a coin flip (5 or fewer
    // happened once in a full run: P ~ 1.6% for Binomial(40, 0.3); 1 or fewer: P ~ 1e-5).
    if (dropped !== undefined) expect(dropped).toBeGreaterThan(1);
    const w = await watch.stop();
    expect(w.changes).toBe(0);
    expect(w.maxOwners).toBe(1);
    expect(readLog(a, marks[0])).not.toMatch(/: is dead|returning after partition|Resources being acquired/);
    expect(readLog(b, marks[1])).not.toMatch(/: is dead|returning after partition|Resources being acquired/);
    expect(await peerStatus(a, 'node2')).toBe('active');
    expect(await peerStatus(b, 'node1')).toBe('active');
  }, 120_000);

  it('ComponentFail (link): eth1 down kills that link only, no group moves; eth1 up brings the link back', async () => {
    await healthy();
    const watch = sampler();
    const markA = logMark(a);
    await linkDown(b, 'eth1');
    try {
      await waitForLog(a, /Link node2:eth1 dead\./, 30_000, { since: markA });
      await sleep(3000);
      expect(await peerStatus(a, 'node2')).toBe('active');
    } finally {
      await linkUp(b, 'eth1');
    }
    await waitForLog(a, /Link node2:eth1 up\./, 30_000, { since: markA });
    const w = await watch.stop();
    expect(w.changes).toBe(0);
    expect(readLog(a, markA)).not.toMatch(/node node2: is dead|Resources being acquired/);
  }, 120_000);

  it('ComponentFail (frozen daemon): SIGSTOP shorter than deadtime changes nothing', async () => {
    await healthy();
    const watch = sampler();
    const marks = [logMark(a), logMark(b)] as const;
    await pause(b);
    try {
      await sleep(1500);
    } finally {
      await resume(b);
    }
    await sleep(4000);
    const w = await watch.stop();
    expect(w.changes).toBe(0);
    expect(readLog(a, marks[0])).not.toMatch(/: is dead|Resources being acquired/);
    expect(readLog(b, marks[1])).not.toMatch(/: is dead|Resources being acquired/);
  }, 120_000);

  it('ComponentFail (frozen daemon): SIGSTOP past deadtime, then SIGCONT: no takeover storm, one owner per group', async () => {
    await healthy();
    const markA = logMark(a);
    const markB = logMark(b);
    const startsA = await startsOf(a, 'b1');
    const startsB = { a1: await startsOf(b, 'a1'), b1: await startsOf(b, 'b1') };
    const frozenAt = Date.now();
    await pause(b);
    try {
      await waitForLog(a, /node node2: is dead/, 30_000, { since: markA });
      // node2 is frozen with b running: node1 takes b over (no fencing: two owners for now).
      await waitFor(async () => (await owners()).b.includes('node1'), 30_000, {
        description: 'node1 takes b over',
      });
      // Frozen for twice deadtime: every heartbeat node2 last heard is stale when it wakes.
      await sleep(Math.max(0, frozenAt + 2 * DEADTIME_S * 1000 - Date.now()));
    } finally {
      await resume(b);
    }
    const watch = sampler();
    await expectOwners(HEALTHY, 60_000, 'after SIGCONT:');
    // Stable: the owners do not change any more over the next 10 s.
    const settled = sampler();
    await sleep(10_000);
    const s = await settled.stop();
    await watch.stop();
    expect(s.changes).toBe(0);
    expect(s.maxOwners).toBe(1);
    // The resumed node did not declare its peer dead and took nothing over.
    const logB = readLog(b, markB);
    expect(logB).not.toMatch(/node node1: is dead|Resources being acquired from/);
    expect(await startsOf(b, 'a1')).toBe(startsB.a1);
    // node1 took b over once, and gave it back once.
    expect(count(a, markA, /node node2: is dead/)).toBe(1);
    expect(count(a, markA, /Resources being acquired from node2\./)).toBe(1);
    expect(await startsOf(a, 'b1')).toBe(startsA + 1);
    // node2 kept b: started at most once more (none if it kept running through the pause).
    expect(await startsOf(b, 'b1')).toBeLessThanOrEqual(startsB.b1 + 1);
  }, 150_000);

  it('SplitBrainTest: a full partition runs both groups on both nodes (no fencing); after the heal exactly one owner each', async () => {
    await healthy();
    const markA = logMark(a);
    const markB = logMark(b);
    for (const n of [a, b]) for (const i of ['eth0', 'eth1']) await netem(n, i, 'loss 100%');
    try {
      await waitForLog(a, /node node2: is dead/, 30_000, { since: markA });
      await waitForLog(b, /node node1: is dead/, 30_000, { since: markB });
      // heartbeat's known split-brain case: every medium cut, no fencing configured.
      await expectOwners({ a: ['node1', 'node2'], b: ['node1', 'node2'] }, 30_000, 'split brain:');
    } finally {
      for (const n of [a, b]) for (const i of ['eth0', 'eth1']) await clearNetem(n, i);
    }
    const healed = Date.now();
    await waitForLog(a, /Cluster node node2 returning after partition\./, 30_000, { since: markA });
    await waitForLog(b, /Cluster node node1 returning after partition\./, 30_000, { since: markB });
    await expectOwners(HEALTHY, 60_000, 'healed:');
    const healMs = Date.now() - healed;
    const settled = sampler();
    await sleep(8000);
    const s = await settled.stop();
    expect(s.changes).toBe(0);
    expect(s.maxOwners).toBe(1);
    expect(await peerStatus(a, 'node2')).toBe('active');
    expect(await peerStatus(b, 'node1')).toBe('active');
    process.stdout.write(`SplitBrainTest: one owner per group ${healMs} ms after the heal\n`);
  }, 150_000);

  it('ResourceRecover: a failing start is handed to the peer; once fixed, hb_takeover brings the group home', async () => {
    await healthy();
    const watch = sampler();
    await a.exec(['touch', '/run/fail-start-a2']);
    try {
      await cli(a, 'hb_standby');
      await expectOwners({ a: ['node2'], b: ['node2'] }, 40_000, 'standby:');
      const markA = logMark(a);
      // node1 asks for its group back; the start of Flaky::a2 fails on node1.
      await cli(a, 'hb_takeover', ['local']);
      await waitForLog(a, /Giving up resources due to failure of Flaky::a2/, 40_000, { since: markA });
      await expectOwners({ a: ['node2'], b: ['node2'] }, 90_000, 'failed start handed back:');
    } finally {
      await a.exec(['rm', '-f', '/run/fail-start-a2']);
    }
    await cli(a, 'hb_takeover', ['local']);
    await expectOwners(HEALTHY, 60_000, 'recovered:');
    const w = await watch.stop();
    expect(w.maxOwners).toBe(1);
  }, 240_000);

  it('SimulStop: both stop at once: both exit 0, nothing runs anywhere, no group ever on two nodes', async () => {
    await healthy();
    const watch = sampler();
    const marks = [logMark(a), logMark(b)] as const;
    const exits = [daemons.get('node1')!.exited, daemons.get('node2')!.exited];
    const [ra, rb] = await Promise.all([cli(a, 'tsbeat', ['stop']), cli(b, 'tsbeat', ['stop'])]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect((await Promise.all(exits)).map((e) => e.code)).toEqual([0, 0]);
    daemons.clear();
    const w = await watch.stop();
    expect(await owners()).toEqual({ a: [], b: [] });
    expect(w.maxOwners).toBeLessThanOrEqual(1);
    // "At once" is a race: a node whose peer's shutdown notice arrives before its own stop
    // request takes the group over (as heartbeat does), then releases everything on its way
    // down. Either way, no ERROR or CRIT, and each node releases what it holds.
    for (const [i, n] of [a, b].entries()) {
      const log = readLog(n, marks[i]);
      expect(log).not.toMatch(/: (ERROR|CRIT): /);
      expect(log).toMatch(/All HA resources relinquished\./);
    }
  }, 120_000);

  it('StonithTest: with a STONITH device, the survivor resets the crashed node before it starts its group', async () => {
    configure(['stonith_host * external/tsbchaos node1 node2']);
    await Promise.all([start(a), start(b)]);
    await healthy();
    const markB = logMark(b);
    await crash(a);
    await waitForLog(b, /node node1 now reset\./, 40_000, { since: markB });
    await expectOwners({ a: ['node2'], b: ['node2'] }, 30_000, 'after the reset:');
    const log = readLog(b, markB);
    expect(log.indexOf('node node1 now reset.')).toBeGreaterThan(0);
    expect(log.indexOf('node node1 now reset.')).toBeLessThan(
      log.indexOf('Resources being acquired from node1.'),
    );
    const calls = readFileSync(join(stonithState, 'calls.log'), 'utf8');
    expect(calls).toMatch(/ node2 reset node1 hostlist=\[node1 node2\]/);
    expect(calls).not.toMatch(/ reset node2/);
    await start(a);
    await healthy();
  }, 150_000);
});
