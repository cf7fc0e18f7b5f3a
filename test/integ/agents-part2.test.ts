// The second set of agents as other managers drive them, inside a namespace "machine":
//  - ocf-tester 4.12 passes ocf:tsbeat:drbddisk, vserver, lxc, MailTo and Delay as installed by
//    `tsbeat install-agents`, and crm_resource drives each (start 0, check 0, stop 0, check 7,
//    stop 0; a bad parameter 6 with the agent's reason);
//  - heartbeat 3.0.6's own ResourceManager, given tsbeat's resource.d scripts, takes and gives
//    the group `drbddisk::r0 Filesystem::<loop>::/srv::ext4 vserver::g1::g2 MailTo::root
//    Delay::1::1`: statgroup NONE → ALL → NONE, the file system mounted and unmounted, guests
//    started left to right and stopped right to left, two mails, no stop ever failing.
// Stand-ins, named: drbdadm is test/fixtures/agents/fake-drbdadm (STAND-IN: DRBD needs a kernel
// module this host lacks; the real one is test/integ/agents-drbd-vm.test.ts), bind-mounted over
// /usr/sbin/drbdadm inside the node; mail(1) is fake-mail (STAND-IN: no mail may leave);
// util-vserver is vserver-standin (STAND-IN: no VServer kernel exists for Debian 12). lxc is
// real: LXC 5 with a busybox root file system.
// Needs root, lxc, busybox, ocf-tester, crm_resource and heartbeat (scripts/install-deps.sh).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, createCluster, type HarnessNode, TSBEAT_JS } from '../harness/index.js';
import { installAgentsInNode, ocfAgent, REPO } from './agents-support.js';

let cluster: Cluster | undefined;
let n1: HarnessNode;
let loop = '';
let state = '';
const FIX = join(REPO, 'test', 'fixtures', 'agents');

/** A busybox system container: the smallest real LXC guest (an init that stops on SIGTERM). */
function busyboxContainer(lxcpath: string, name: string): void {
  const root = join(lxcpath, name, 'rootfs');
  for (const d of ['bin', 'sbin', 'proc', 'sys', 'dev', 'tmp', 'run', 'etc'])
    mkdirSync(join(root, d), { recursive: true });
  execFileSync('cp', [
    execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(),
    join(root, 'bin', 'busybox'),
  ]);
  for (const a of ['sh', 'sleep']) execFileSync('ln', ['-sf', 'busybox', join(root, 'bin', a)]);
  writeFileSync(
    join(root, 'sbin', 'tsinit'),
    "#!/bin/sh\ntrap 'exit 0' TERM PWR\nwhile :; do sleep 1 & wait $!; done\n",
  );
  chmodSync(join(root, 'sbin', 'tsinit'), 0o755);
  writeFileSync(
    join(lxcpath, name, 'config'),
    [
      `lxc.uts.name = ${name}`,
      `lxc.rootfs.path = dir:${root}`,
      'lxc.net.0.type = none',
      'lxc.mount.auto = proc:mixed sys:ro',
      'lxc.init.cmd = /sbin/tsinit',
      'lxc.signal.halt = SIGTERM',
      'lxc.apparmor.profile = unconfined',
      '',
    ].join('\n'),
  );
}

beforeAll(async () => {
  cluster = await createCluster({ nodes: 1 });
  n1 = cluster.node('node1');
  state = join(cluster.tmpDir, 'state');
  for (const d of ['drbd', 'vs/g1', 'vs/g2', 'lxc']) mkdirSync(join(state, d), { recursive: true });
  busyboxContainer(join(state, 'lxc'), 'tsbc1');
  const img = join(cluster.tmpDir, 'fs.img');
  execFileSync('truncate', ['-s', '32M', img]);
  execFileSync('mkfs.ext4', ['-q', '-F', img]);
  loop = execFileSync('losetup', ['-f', '--show', img], { encoding: 'utf8' }).trim();
  await installAgentsInNode(n1);
  // The STAND-IN drbdadm, where heartbeat's drbddisk and ours look for it (the node's own mounts).
  await n1.execOk(['mount', '--bind', join(FIX, 'fake-drbdadm'), '/usr/sbin/drbdadm']);
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
  if (loop !== '') execFileSync('losetup', ['-d', loop]);
});

/** Environment the stand-ins read. */
function standinEnv(): Record<string, string> {
  return {
    FAKE_DRBD_DIR: join(state, 'drbd'),
    VSERVER_STANDIN_DIR: join(state, 'vs'),
    MAILCMD: join(FIX, 'fake-mail'),
    FAKE_MAIL_OUT: join(state, 'mail.out'),
  };
}

const OCF_CASES: [string, string[]][] = [
  ['drbddisk', ['drbd_resource=r0']],
  ['vserver', ['guests=g1 g2', `vserver_cmd=${FIX}/vserver-standin`, 'arp_count=0']],
  ['lxc', ['container=tsbc1', 'lxcpath=STATE/lxc', 'config=STATE/lxc/tsbc1/config', 'stop_timeout=5']],
  ['MailTo', ['email=root']],
  ['Delay', ['startdelay=0.2', 'stopdelay=0.2', 'mondelay=0']],
];

function opts(list: string[]): string[] {
  return list.map((o) => o.replace(/STATE/g, state));
}

describe('ocf-tester', () => {
  it.each(OCF_CASES)(
    'passes ocf:tsbeat:%s',
    async (name, list) => {
      const r = await n1.exec(
        ['ocf-tester', '-n', `t-${name}`, ...opts(list).flatMap((o) => ['-o', o]), ocfAgent(name)],
        {
          timeoutMs: 180_000,
          env: standinEnv(),
        },
      );
      expect(r.stdout, r.stderr).toContain(`${ocfAgent(name)} passed all tests`);
      expect(r.code).toBe(0);
    },
    200_000,
  );
});

describe('crm_resource', () => {
  it.each(OCF_CASES)(
    'drives ocf:tsbeat:%s',
    async (name, list) => {
      const crm = (op: string, extra: string[] = []) =>
        n1.exec(
          [
            'crm_resource',
            op,
            '--class',
            'ocf',
            '--provider',
            'tsbeat',
            '--agent',
            name,
            ...[...opts(list), ...extra].flatMap((o) => ['--option', o]),
          ],
          { timeoutMs: 60_000, env: standinEnv() },
        );
      const codes: number[] = [];
      for (const op of ['--force-start', '--force-check', '--force-stop', '--force-check', '--force-stop'])
        codes.push((await crm(op)).code);
      expect(codes).toEqual([0, 0, 0, 7, 0]);
    },
    120_000,
  );

  it("a bad parameter is OCF_ERR_CONFIGURED (6) with the agent's reason", async () => {
    const r = await n1.exec(
      [
        'crm_resource',
        '--force-start',
        '--class',
        'ocf',
        '--provider',
        'tsbeat',
        '--agent',
        'vserver',
        '--option',
        'guests=../x',
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(6);
    expect(`${r.stdout}${r.stderr}`).toContain('guests "../x" is not a list of guest names');
  });
});

describe("heartbeat's ResourceManager with tsbeat's resource.d scripts", () => {
  it('takes and gives drbddisk + Filesystem + vserver + MailTo + Delay: NONE → ALL → NONE', async () => {
    const key = 'drbddisk::r0';
    n1.writeHaD({
      haresources: `node1 ${key} Filesystem::${loop}::/srv::ext4 vserver::g1::g2 MailTo::root Delay::1::1\n`,
    });
    await n1.execOk([
      'node',
      TSBEAT_JS,
      'install-agents',
      '--lib-dir',
      '/run/tsbeat-agents',
      '--resource-d',
      '/etc/ha.d/resource.d',
      '--force',
    ]);
    const debugLog = '/run/rm-debug.log';
    const env = {
      ...standinEnv(),
      HA_DEBUGLOG: debugLog,
      OCF_RESKEY_vserver_cmd: join(FIX, 'vserver-standin'),
      OCF_RESKEY_arp_count: '0',
    };
    const rm = (...args: string[]) =>
      n1.exec(['/usr/share/heartbeat/ResourceManager', ...args], { timeoutMs: 180_000, env });
    const statgroup = async (): Promise<string> => {
      await n1.execOk(['truncate', '-s', '0', debugLog]);
      expect((await rm('statgroup', key)).code).toBe(0);
      return (await n1.execOk(['cat', debugLog])).stdout.trim().split('\n').pop() ?? '';
    };
    await n1.execOk(['touch', debugLog]);
    await n1.execOk(['mkdir', '-p', '/srv']);
    writeFileSync(join(state, 'drbd', 'role'), 'Secondary\n');
    expect(await statgroup()).toBe('NONE');
    expect((await rm('takegroup', key)).code).toBe(0);
    expect(readFileSync(join(state, 'drbd', 'role'), 'utf8')).toBe('Primary\n');
    expect((await n1.execOk(['findmnt', '-n', '-o', 'SOURCE', '/srv'])).stdout.trim()).toBe(loop);
    expect(await statgroup()).toBe('ALL');
    expect((await rm('givegroup', key)).code).toBe(0);
    expect((await n1.exec(['findmnt', '/srv'])).code).not.toBe(0);
    expect(readFileSync(join(state, 'drbd', 'role'), 'utf8')).toBe('Secondary\n');
    expect(await statgroup()).toBe('NONE');
    const vs = readFileSync(join(state, 'vs', 'calls.log'), 'utf8')
      .split('\n')
      .map((l) => /vserver (g\d) (start|stop)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => `${m[2]} ${m[1]}`);
    expect(vs.slice(-4)).toEqual(['start g1', 'start g2', 'stop g2', 'stop g1']);
    const mails = readFileSync(join(state, 'mail.out'), 'utf8');
    expect(mails).toMatch(/Resource Group Takeover in progress at .* on node1 root\n/);
    expect(mails).toMatch(/Resource Group Migrating resource away at .* from node1 root\n/);
    // No stop failed, so nothing asked for a reboot.
    expect(n1.stubCalls()).toBe('');
  }, 200_000);
});
