/**
 * lvs-dr at daemon start (issue 14, item 6): with `lvs_dr yes` in tsbeat.cf, a tsbeat
 * node that is also an LVS-DR real server puts each VIP of an `IPaddr2 ... ldirectord` group on
 * lo as /32 when it starts (it owns no group yet), after arp_ignore=1/arp_announce=2 (all and lo)
 * — so IPaddr2's hidden-loopback restore has something to restore after a reboot. A VIP of a
 * group without ldirectord stays off lo. Without the setting nothing happens; the deprecated
 * `env TSBEAT_LVS_DR=` line of ha.cf still works, and a value of it that is not a boolean is a
 * warning naming ha.cf and the fix, and the daemon still starts. One harness
 * machine (namespaces, needs root); node2 is named in ha.cf but never started, and initdead is
 * long, so no group is taken over while the test looks.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type Daemon,
  type HarnessNode,
  haCf,
  kill,
  logMark,
  readLog,
  startTsbeat,
  waitForLog,
} from '../harness/index.js';

const VIP = '10.77.0.150';
const PLAIN_VIP = '10.77.0.151';
let cluster: Cluster | undefined;
let n: HarnessNode;

beforeAll(async () => {
  cluster = await createCluster({ nodes: 1 });
  n = cluster.nodes[0] as HarnessNode;
}, 120_000);
afterAll(async () => {
  await cluster?.destroy();
});

/** `lvsDr`: tsbeat.cf's `lvs_dr` value; `envLvsDr`: the deprecated ha.cf env line's. */
function configure(lvsDr: string | undefined, envLvsDr?: string): void {
  n.writeHaD({
    'tsbeat.cf': lvsDr === undefined ? '' : `lvs_dr ${lvsDr}\n`,
    'ha.cf': haCf(n, {
      nodes: [n, 'node2'],
      media: ['bcast eth0'],
      initdead: 120,
      deadtime: 60,
      warntime: 30,
      extra: envLvsDr === undefined ? [] : [`env TSBEAT_LVS_DR=${envLvsDr}`],
    }),
    authkeys: authkeys('sha1', 'tsbeat-lvs-dr'),
    haresources: `node2 IPaddr2::${VIP}/24/eth0 ldirectord::ld.cf\nnode2 IPaddr2::${PLAIN_VIP}/24/eth0\n`,
    'ld.cf': `checkinterval=1\nvirtual=${VIP}:80\n\treal=10.77.0.9:80 gate\n\tchecktype=connect\n`,
  });
}

const env = (x: HarnessNode) => ({ TSBEAT_STATEDIR: `${x.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });

async function loAddrs(): Promise<string> {
  return (await n.execOk(['ip', '-4', '-o', 'addr', 'show', 'dev', 'lo'])).stdout;
}

async function sysctl(name: string): Promise<string> {
  return (await n.execOk(['cat', `/proc/sys/net/ipv4/conf/${name}`])).stdout.trim();
}

async function runOnce(lvsDr: string | undefined, until: RegExp, envLvsDr?: string): Promise<string> {
  configure(lvsDr, envLvsDr);
  const mark = logMark(n);
  const d: Daemon = await startTsbeat(n, { args: ['--foreground'], env: env(n) });
  try {
    await waitForLog(n, until, 60_000, { since: mark });
    return readLog(n, mark);
  } finally {
    await kill(d, 'SIGKILL');
  }
}

it('without the setting, start leaves lo alone', async () => {
  const log = await runOnce(undefined, /start-up check: no configured resource is running here/);
  expect(log).not.toMatch(/lvs-dr/);
  expect(await loAddrs()).not.toContain(VIP);
  expect(await sysctl('all/arp_ignore')).toBe('0');
}, 120_000);

it('a deprecated env line that is not a boolean is a warning naming ha.cf and the fix; the daemon still starts', async () => {
  const log = await runOnce(undefined, /local API listening/, 'maybe');
  expect(log).toMatch(
    /ha\.cf:\d+:\d+: warning: env TSBEAT_LVS_DR=maybe is not yes or no, so lvs-dr is not set up at start[^\n]*lvs_dr yes/,
  );
  expect(await loAddrs()).not.toContain(VIP);
}, 120_000);

it('a bad lvs_dr value in tsbeat.cf stops the start with file, line and fix', async () => {
  configure('maybe');
  const d: Daemon = await startTsbeat(n, { args: ['--foreground'], env: env(n) });
  const r = await d.exited;
  expect(r.code).not.toBe(0);
  expect(d.output()).toMatch(/tsbeat\.cf:1:\d+: error: lvs_dr: "maybe" is not yes or no/);
  expect(await loAddrs()).not.toContain(VIP);
}, 120_000);

it('the deprecated env TSBEAT_LVS_DR=yes still works, with a deprecation warning', async () => {
  const log = await runOnce(undefined, /lvs-dr: 10\.77\.0\.150: (added to|already on) lo/, 'yes');
  expect(log).toMatch(/env TSBEAT_LVS_DR is deprecated/);
  expect(await loAddrs()).toMatch(new RegExp(`inet ${VIP.replaceAll('.', '\\.')}/32 `));
  await n.execOk(['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'lo']);
  for (const dev of ['all', 'lo']) {
    await n.execOk([
      'sysctl',
      '-q',
      '-w',
      `net.ipv4.conf.${dev}.arp_ignore=0`,
      `net.ipv4.conf.${dev}.arp_announce=0`,
    ]);
  }
}, 120_000);

it("with lvs_dr yes in tsbeat.cf, start sets the ARP sysctls, then puts the ldirectord group's VIP on lo as /32", async () => {
  const log = await runOnce('yes', /lvs-dr: 10\.77\.0\.150: added to lo as \/32/);
  const lines = log.split('\n').filter((l) => l.includes('lvs-dr: '));
  const firstVip = lines.findIndex((l) => l.includes(VIP));
  const lastSysctl = lines.findLastIndex((l) => /arp_(ignore|announce) = /.test(l));
  expect(lastSysctl).toBeGreaterThanOrEqual(3);
  expect(firstVip).toBeGreaterThan(lastSysctl);
  expect(await loAddrs()).toMatch(new RegExp(`inet ${VIP.replaceAll('.', '\\.')}/32 `));
  expect(await loAddrs()).not.toContain(PLAIN_VIP);
  for (const dev of ['all', 'lo']) {
    expect(await sysctl(`${dev}/arp_ignore`)).toBe('1');
    expect(await sysctl(`${dev}/arp_announce`)).toBe('2');
  }
  // A second start finds it in place (nothing added twice, no error).
  const again = await runOnce('yes', /lvs-dr: 10\.77\.0\.150: already on lo/);
  expect(again).not.toMatch(/ERROR: lvs-dr/);
}, 180_000);
