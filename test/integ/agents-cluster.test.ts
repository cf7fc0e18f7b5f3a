// The classic heartbeat cluster on tsbeat alone: two tsbeat daemons in namespace "machines" run
// the group `node1 drbddisk::r0 Filesystem::<loop>::/srv::ext4 vserver::g1::g2 MailTo::root`
// with tsbeat's built-in agents (drbddisk, Filesystem and vserver as their own processes, MailTo
// in-process), one loop device as the shared disk, and STONITH
// (a recording test plugin whose "power switch" resets the machine: every process of the node
// dies and its mounts with it). It proves that:
//  - node1 starts the group left to right (drbddisk, Filesystem, vserver g1 then g2, MailTo);
//  - on SIGKILL of node1's tsbeat, node2 fences node1 first and only then takes the group over
//    (promote, mount, guests, mail);
//  - failback to node1 with a process on node2 that keeps /srv busy and ignores SIGTERM: node2's
//    Filesystem stop escalates (TERM rounds, then KILL), unmounts, and only then node1 mounts;
//  - a stop that cannot clear the mount (its user is outside the node's PID namespace, so no
//    signal reaches it) fails, is retried (STOPRETRYMAX=1), and the group stays where it is
//    (a STOP failure) instead of being mounted by the peer;
//  - vserver announces each guest's addresses (util-vserver's interfaces/N/ip and dev) by
//    gratuitous ARP before it starts the guest, seen by the peer;
//  - at no moment, sampled every 50 ms from the host through /proc/<init>/mounts, is the
//    shared file system mounted on both machines.
// Stand-ins, named: drbdadm is test/fixtures/agents/fake-drbdadm (STAND-IN: this kernel has no
// DRBD; each node's role lives in its private /run; real DRBD is agents-drbd-vm.test.ts), mail
// is fake-mail (STAND-IN), util-vserver is vserver-standin (STAND-IN), all placed inside the
// nodes' private mount namespaces. Needs root and scripts/install-deps.sh.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
import { captureArp, macOf, REPO } from './agents-support.js';

const FIX = join(REPO, 'test', 'fixtures', 'agents');
let cluster: Cluster | undefined;
let a: HarnessNode;
let b: HarnessNode;
let loop = '';
let stonith = '';
let watcher: NodeJS.Timeout | undefined;
let powerSwitch: NodeJS.Timeout | undefined;
const doubleMounts: string[] = [];
let samples = 0;

const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const start = (n: HarnessNode) => startTsbeat(n, { args: ['--foreground'], env: env(n) });

/** cluster-glue external plugin: records calls; a reset asks the test's power switch. */
function plugin(dir: string): string {
  return `#!/bin/sh
echo "$(date +%s.%N) $(hostname) $*" >> ${dir}/calls.log
case $1 in
  gethosts) for h in $hostlist; do echo $h; done; exit 0;;
  getconfignames) echo hostlist; exit 0;;
  getinfo-devid|getinfo-devname|getinfo-devdescr|getinfo-devurl) echo "tsbeat test power switch"; exit 0;;
  getinfo-xml) echo '<parameters><parameter name="hostlist" unique="0" required="1"><content type="string"/><shortdesc lang="en">hosts</shortdesc><longdesc lang="en">hosts</longdesc></parameter></parameters>'; exit 0;;
  status) exit 0;;
  on|off|reset) touch ${dir}/power-$2.req; i=0
    while [ ! -f ${dir}/power-$2.done ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
    [ -f ${dir}/power-$2.done ]; exit $?;;
esac
exit 1
`;
}

/** What each machine needs besides the cluster's files; re-done after a reset. */
async function prepare(n: HarnessNode, bin: string): Promise<void> {
  await n.bindInside(join(FIX, 'fake-drbdadm'), '/usr/sbin/drbdadm');
  await n.bindInside(join(stonith, 'plugins'), '/usr/lib/stonith/plugins/external');
  await n.bindInside(bin, '/usr/local/sbin');
  await n.execOk(['mkdir', '-p', '/run/vs/g1', '/run/vs/g2']);
}

/** The source of /srv in a machine's mount table (read from the host), if mounted. */
function srvMount(n: HarnessNode): string | undefined {
  try {
    for (const line of readFileSync(`/proc/${n.initPid}/mounts`, 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f[1] === '/srv') return f[0];
    }
  } catch {
    // the machine is being reset
  }
  return undefined;
}

beforeAll(async () => {
  cluster = await createCluster({ nodes: 2 });
  [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
  const img = join(cluster.tmpDir, 'shared.img');
  execFileSync('truncate', ['-s', '32M', img]);
  execFileSync('mkfs.ext4', ['-q', '-F', img]);
  loop = execFileSync('losetup', ['-f', '--show', img], { encoding: 'utf8' }).trim();
  stonith = join(cluster.tmpDir, 'stonith');
  mkdirSync(join(stonith, 'plugins'), { recursive: true });
  writeFileSync(join(stonith, 'plugins', 'tsbpower'), plugin(stonith), { mode: 0o755 });
  // mail and vserver as the agents look them up (PATH), only inside the machines.
  const bin = join(cluster.tmpDir, 'bin');
  mkdirSync(bin);
  symlinkSync(join(FIX, 'fake-mail'), join(bin, 'mail'));
  symlinkSync(join(FIX, 'vserver-standin'), join(bin, 'vserver'));
  for (const n of cluster.nodes) {
    await prepare(n, bin);
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes: cluster.nodes,
        media: ['mcast eth0 239.77.13.1 694 1 0'],
        keepalive: 1,
        deadtime: 4,
        warntime: 2,
        initdead: 12,
        autoFailback: 'on',
        extra: [
          'stonith_host * external/tsbpower node1 node2',
          'env STOPRETRYMAX=1',
          'env FAKE_DRBD_DIR=/run/fakedrbd',
          'env VSERVER_STANDIN_DIR=/run/vs',
          `env FAKE_MAIL_OUT=${join(cluster.tmpDir, 'mail.out')}`,
        ],
      }),
      authkeys: authkeys('sha1', 'tsbeat-agents-cluster'),
      haresources: `node1 drbddisk::r0 Filesystem::${loop}::/srv::ext4 vserver::g1::g2 MailTo::root\n`,
    });
  }
  // The power switch: a reset request ends every process of the target machine, then boots it.
  const done = new Set<string>();
  powerSwitch = setInterval(() => {
    for (const f of readdirSync(stonith)) {
      const m = /^power-(node\d)\.req$/.exec(f);
      if (!m?.[1] || done.has(f)) continue;
      done.add(f);
      const victim = m[1] === 'node1' ? a : b;
      void (async () => {
        await victim.reboot();
        await prepare(victim, bin);
        writeFileSync(join(stonith, `power-${m[1]}.done`), '');
      })();
    }
  }, 100);
  watcher = setInterval(() => {
    samples++;
    const ma = srvMount(a);
    const mb = srvMount(b);
    if (ma !== undefined && mb !== undefined)
      doubleMounts.push(`${new Date().toISOString()} node1 ${ma} node2 ${mb}`);
  }, 50);
}, 120_000);

afterAll(async () => {
  if (watcher) clearInterval(watcher);
  if (powerSwitch) clearInterval(powerSwitch);
  await cluster?.destroy();
  if (loop !== '') execFileSync('losetup', ['-d', loop]);
});

function startOrder(log: string, only?: 'start' | 'stop'): string[] {
  return [
    // The storage agents run as their own processes (registry.ts), MailTo inside the daemon.
    ...log.matchAll(
      /Running (?:(drbddisk|Filesystem|vserver) \(tsbeat built-in, own process\)|(MailTo) \(tsbeat built-in\)) .*\b(start|stop)$/gm,
    ),
  ]
    .map((m) => `${m[3]} ${m[1] ?? m[2]}`)
    .filter((x) => only === undefined || x.startsWith(only));
}

it("vserver announces each guest's addresses before starting it (seen by the peer)", async () => {
  const conf = join(cluster!.tmpDir, 'vservers');
  for (const [g, ip] of [
    ['g1', '10.77.0.201'],
    ['g2', '10.77.0.202'],
  ] as const) {
    mkdirSync(join(conf, g, 'interfaces', '0'), { recursive: true });
    writeFileSync(join(conf, g, 'interfaces', '0', 'ip'), `${ip}\n`);
    writeFileSync(join(conf, g, 'interfaces', '0', 'dev'), 'eth0\n');
  }
  const e = {
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RESOURCE_INSTANCE: 'vs',
    OCF_RESKEY_guests: 'g1 g2',
    OCF_RESKEY_confdir: conf,
    OCF_RESKEY_arp_count: '2',
    VSERVER_STANDIN_DIR: '/run/vs',
  };
  const mac = await macOf(a);
  const frames = await captureArp(b, '10.77.0.202', 4, async () => {
    expect((await a.exec([`${REPO}/ocf/vserver`, 'start'], { env: e })).code).toBe(0);
  });
  expect(frames.map((f) => [f.op, f.srcMac])).toEqual([
    ['request', mac],
    ['reply', mac],
    ['request', mac],
    ['reply', mac],
  ]);
  expect((await a.exec([`${REPO}/ocf/vserver`, 'monitor'], { env: e })).code).toBe(0);
  expect((await a.exec([`${REPO}/ocf/vserver`, 'stop'], { env: e })).code).toBe(0);
  expect((await a.exec([`${REPO}/ocf/vserver`, 'monitor'], { env: e })).code).toBe(7);
  await a.execOk(['rm', '-f', '/run/vs/calls.log']);
}, 60_000);

it('starts in order, fails over after fencing, fails back through a busy-unmount escalation, keeps the group where a stop cannot unmount, never mounted twice', async () => {
  await Promise.all([start(a), start(b)]);
  await waitFor(() => srvMount(a) === loop, 60_000, { description: '/srv mounted on node1' });
  await waitFor(
    () =>
      existsSync(join(cluster!.tmpDir, 'mail.out')) &&
      readFileSync(join(cluster!.tmpDir, 'mail.out'), 'utf8').includes('on node1'),
    30_000,
    { description: 'takeover mail from node1' },
  );
  expect(startOrder(readLog(a), 'start')).toEqual([
    'start drbddisk',
    'start Filesystem',
    'start vserver',
    'start MailTo',
  ]);
  const guests = (await a.execOk(['cat', '/run/vs/calls.log'])).stdout;
  expect([...guests.matchAll(/vserver (g\d) start/g)].map((m) => m[1])).toEqual(['g1', 'g2']);
  expect((await a.execOk(['cat', '/run/fakedrbd/role'])).stdout).toBe('Primary\n');

  // SIGKILL failover: node1's tsbeat dies, its resources stay (the machine is still on).
  const markB = logMark(b);
  await kill(a, 'SIGKILL');
  await waitFor(() => srvMount(b) === loop, 90_000, { description: '/srv mounted on node2 after failover' });
  const calls = readFileSync(join(stonith, 'calls.log'), 'utf8');
  expect(calls).toMatch(/ node2 reset node1/);
  expect(srvMount(a)).toBeUndefined();
  // /srv is mounted by the group's second resource: wait for the last one's start before the order.
  await waitFor(() => startOrder(readLog(b, markB)).length >= 4, 60_000, {
    description: 'the whole group started on node2',
  });
  const afterFailover = readLog(b, markB);
  expect(startOrder(afterFailover)).toEqual([
    'start drbddisk',
    'start Filesystem',
    'start vserver',
    'start MailTo',
  ]);
  expect((await b.execOk(['cat', '/run/fakedrbd/role'])).stdout).toBe('Primary\n');
  await waitFor(() => readFileSync(join(cluster!.tmpDir, 'mail.out'), 'utf8').includes('on node2'), 30_000, {
    description: 'takeover mail from node2',
  });

  // Failback with /srv busy on node2 (a process that ignores SIGTERM): the stop must escalate.
  const stubborn = await b.spawn(['sh', '-c', "trap '' TERM; cd /srv; while :; do sleep 1; done"], {
    label: 'stubborn',
  });
  await new Promise((r) => setTimeout(r, 500));
  const markB2 = logMark(b);
  await start(a);
  await waitFor(() => srvMount(a) === loop, 120_000, { description: '/srv back on node1 after failback' });
  const giveBack = readLog(b, markB2);
  expect(startOrder(giveBack)).toEqual(['stop MailTo', 'stop vserver', 'stop Filesystem', 'stop drbddisk']);
  expect(giveBack).toMatch(/sending signal TERM to: \d+ /);
  expect(giveBack).toMatch(/sending signal KILL to: \d+ sh -c trap/);
  await stubborn.exited;
  expect(srvMount(b)).toBeUndefined();
  expect((await b.execOk(['cat', '/run/fakedrbd/role'])).stdout).toBe('Secondary\n');
  await waitForLog(a, /Running MailTo \(tsbeat built-in\) root start/, 30_000);

  // A stop that cannot succeed: /srv's user lives in node1's mount namespace but outside its
  // PID namespace (entered from the host), so Filesystem finds no process to signal.
  const holder: ChildProcess = spawn(
    'nsenter',
    ['-t', String(a.initPid), '-m', 'sh', '-c', 'cd /srv && exec sleep 1000'],
    {
      stdio: 'ignore',
    },
  );
  try {
    await new Promise((r) => setTimeout(r, 500));
    const markA = logMark(a);
    await a.execOk(
      [
        process.execPath,
        '-e',
        `import('${REPO}/dist/ipc/client.js').then(async (m) => { const r = await m.apiCall('/run/tsbeat/control.sock', 'standby', { set: 'local' }); console.log(JSON.stringify(r)); })`,
      ],
      { env: env(a) },
    );
    await waitForLog(a, /Resource STOP failure: Filesystem::\S+ is still running/, 150_000, { since: markA });
    const stuck = readLog(a, markA);
    expect(stuck).toMatch(/No processes on \/srv were signalled\./);
    expect(stuck).toMatch(/Retrying failed stop operation \[Filesystem::/);
    await new Promise((r) => setTimeout(r, 3000));
    expect(srvMount(a)).toBe(loop);
    expect(srvMount(b)).toBeUndefined();
  } finally {
    holder.kill('SIGKILL');
  }

  expect(samples).toBeGreaterThan(100);
  expect(doubleMounts).toEqual([]);
  expect(a.stubCalls()).toBe('');
  expect(b.stubCalls()).toBe('');
}, 400_000);
