// The second set of agents (Filesystem, drbddisk, vserver, lxc, MailTo, Delay) without root:
// their pure parts (mount table, device tags, DRBD roles and status words, mail text, guest
// addresses), and their logic through the real dispatcher with stand-ins for the tools this
// host lacks — drbddisk against test/fixtures/agents/fake-drbdadm (STAND-IN for drbdadm: DRBD
// needs a kernel module; the real thing is test/integ/agents-drbd-vm.test.ts), MailTo against
// fake-mail (STAND-IN for mail(1)), vserver against vserver-standin (STAND-IN for util-vserver).
// It proves heartbeat's retry counts (6 promotions, 3 demotions, 1 s apart) and exit codes, that
// every status text classifies under heartbeat's ResourceManager rule as intended, that Delay
// answers 3 to unknown actions, and that `tsbeat check`'s agent validation gives file-free
// problems with OCF code and reason.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AgentIo, runOcfAction } from '../../../src/agents/agent.js';
import {
  haresourcesForm,
  runHeartbeatStyle,
  shutdownBuiltinAgents,
  validateBuiltinResource,
} from '../../../src/agents/builtin.js';
import { delay, parseDelay } from '../../../src/agents/delay.js';
import {
  drbdadmFromDefaults,
  drbddisk,
  localRole,
  roleFromProcDrbd,
  statusLine,
} from '../../../src/agents/drbddisk.js';
import { configProblem, deviceTag, filesystemArgs } from '../../../src/agents/filesystem.js';
import { runHeartbeatAction } from '../../../src/agents/heartbeat.js';
import { lxcState } from '../../../src/agents/lxc.js';
import { cDate, mailText, mailTo } from '../../../src/agents/mailto.js';
import {
  canonicalDir,
  devMajorMinor,
  mountAt,
  mountsBelow,
  parseMounts,
} from '../../../src/agents/mounts.js';
import { heartbeatSaysRunning } from '../../../src/agents/ocf.js';
import { executableRuntime } from '../../../src/agents/runtime.js';
import { guestAddresses, parseGuests, vserver } from '../../../src/agents/vserver.js';
import { REPO } from '../../support/cli.js';

const FIX = join(REPO, 'test', 'fixtures', 'agents');
const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-agents2-'));
afterAll(() => {
  shutdownBuiltinAgents();
  rmSync(tmp, { recursive: true, force: true });
});

interface Captured {
  rc: number;
  stdout: string;
  stderr: string;
  reasons: string[];
  logs: string[];
}

function io(c: Captured): AgentIo {
  return {
    log: (level, m) => c.logs.push(`${level}: ${m}`),
    stdout: (t) => {
      c.stdout += t;
    },
    stderr: (t) => {
      c.stderr += t;
    },
    exitReason: (r) => c.reasons.push(r),
  };
}

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HA_RSCTMP: join(tmp, 'rsc'), ...extra };
}

async function ocf(agent: typeof drbddisk, action: string, env: Record<string, string>): Promise<Captured> {
  const c: Captured = { rc: -1, stdout: '', stderr: '', reasons: [], logs: [] };
  c.rc = await runOcfAction(agent, action, {
    env,
    io: io(c),
    runtime: executableRuntime(),
    signal: new AbortController().signal,
    argv0: agent.metadata.name,
  });
  return c;
}

async function hb(
  agent: typeof drbddisk,
  args: string[],
  action: string,
  env: Record<string, string>,
): Promise<Captured> {
  const c: Captured = { rc: -1, stdout: '', stderr: '', reasons: [], logs: [] };
  c.rc = await runHeartbeatAction(agent, args, action, {
    env,
    io: io(c),
    runtime: executableRuntime(),
    signal: new AbortController().signal,
    argv0: `/etc/ha.d/resource.d/${agent.metadata.name}`,
  });
  return c;
}

describe('mount table', () => {
  const table = [
    '/dev/loop0 /srv ext4 rw,relatime 0 0',
    '/dev/loop1 /srv/a\\040b ext4 rw 0 0',
    'tmpfs /srv/a\\040b/deep tmpfs rw 0 0',
    '/dev/loop2 /srv ext4 rw 0 0',
    'garbage',
  ].join('\n');
  it('parses the kernel escapes, finds the topmost mount and the submounts deepest first', () => {
    const m = parseMounts(table);
    expect(m).toHaveLength(4);
    expect(m[1]?.target).toBe('/srv/a b');
    expect(mountAt(m, '/srv')?.source).toBe('/dev/loop2');
    expect(mountsBelow(m, '/srv').map((e) => e.target)).toEqual(['/srv/a b/deep', '/srv/a b']);
    expect(mountsBelow(m, '/sr')).toEqual([]);
  });
  it('canonicalises mount points and splits device numbers as Linux does', () => {
    expect(canonicalDir('/no/such/dir///')).toBe('/no/such/dir');
    expect(devMajorMinor(0x0701)).toEqual([7, 1]);
    expect(devMajorMinor(259 * 256 + 3)).toEqual([259, 3]);
  });
});

describe('Filesystem parameters', () => {
  it('reads every LABEL/UUID spelling mount(8) accepts', () => {
    expect(deviceTag('-Ldata')).toEqual({ kind: 'LABEL', value: 'data' });
    expect(deviceTag('-U 1234-abcd')).toEqual({ kind: 'UUID', value: '1234-abcd' });
    expect(deviceTag('--label=data')).toEqual({ kind: 'LABEL', value: 'data' });
    expect(deviceTag('UUID=42')).toEqual({ kind: 'UUID', value: '42' });
    expect(deviceTag('/dev/sdb1')).toBeUndefined();
  });
  it('refuses what is wrong everywhere', () => {
    expect(configProblem('', '/srv', 0)).toMatch(/OCF_RESKEY_device/);
    expect(configProblem('/dev/x', '', 0)).toMatch(/directory/);
    expect(configProblem('/dev/x', 'srv', 0)).toMatch(/not an absolute path/);
    expect(configProblem('/dev/x', '/srv', 15)).toBe('unsupported monitor level 15');
    expect(configProblem('/dev/x', '/srv', 20)).toBeUndefined();
  });
  it("maps heartbeat's Filesystem::dev::dir[::fstype[::options]]", () => {
    expect(filesystemArgs(['/dev/drbd0', '/srv', 'ext4', 'noatime'])).toEqual({
      device: '/dev/drbd0',
      directory: '/srv',
      fstype: 'ext4',
      options: 'noatime',
    });
    expect(filesystemArgs(['/dev/drbd0'])).toBeUndefined();
    expect(filesystemArgs(['a', 'b', 'c', 'd', 'e'])).toBeUndefined();
  });
});

describe('drbddisk words', () => {
  it('reads roles from drbdadm and /proc/drbd', () => {
    expect(localRole('Primary/Secondary\n')).toBe('Primary');
    expect(localRole('Unconfigured\n')).toBe('Unconfigured');
    const proc =
      'version: 8.4.11\n 0: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n 1: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----\n';
    expect(roleFromProcDrbd(proc, 0)).toBe('Secondary');
    expect(roleFromProcDrbd(proc, 1)).toBe('Primary');
    expect(roleFromProcDrbd(proc, 7)).toBe('Unconfigured');
  });
  it('status words classify under ResourceManager as intended (unknown counts as running)', () => {
    const cases: [string, string, number, boolean][] = [
      ['Primary', 'running (Primary)', 0, true],
      ['Secondary', 'stopped (Secondary)', 3, false],
      ['Unconfigured', 'stopped (Unconfigured)', 3, false],
      ['Unknown', 'unknown status, may be running (Unknown)', 4, true],
    ];
    for (const [role, text, lsb, owned] of cases) {
      expect(statusLine(role)).toEqual({ text, lsb });
      expect(heartbeatSaysRunning(`${text}\n`), text).toBe(owned);
    }
    // The stock script's wording is why tsbeat's differs: heartbeat reads it as not running.
    expect(heartbeatSaysRunning('cannot determine status, may be running (Unknown)\n')).toBe(false);
  });
  it('takes DRBDADM from /etc/default/drbd as the stock script sources it', () => {
    expect(drbdadmFromDefaults('# x\nDRBDADM="/usr/local/sbin/drbdadm" # local build\n')).toBe(
      '/usr/local/sbin/drbdadm',
    );
    expect(drbdadmFromDefaults('ADJUST_AFTER_UP=yes\n')).toBeUndefined();
  });
});

describe('drbddisk against the fake drbdadm (STAND-IN for drbdadm)', () => {
  let n = 0;
  const fresh = (): { dir: string; env: Record<string, string> } => {
    const dir = join(tmp, `drbd${n++}`);
    mkdirSync(dir, { recursive: true });
    return { dir, env: baseEnv({ FAKE_DRBD_DIR: dir, OCF_RESKEY_drbdadm: join(FIX, 'fake-drbdadm') }) };
  };
  const calls = (dir: string, verb: string): number =>
    readFileSync(join(dir, 'calls.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes(`drbdadm ${verb} `)).length;

  it('heartbeat style: status, start, status, stop, status with the stock words and codes', async () => {
    const { env } = fresh();
    const seq: [string, number, string][] = [];
    for (const action of ['status', 'start', 'status', 'stop', 'status', 'bogus']) {
      const r = await hb(drbddisk, ['r0'], action, env);
      seq.push([action, r.rc, r.stdout]);
    }
    expect(seq).toEqual([
      ['status', 3, 'stopped (Secondary)\n'],
      ['start', 0, ''],
      ['status', 0, 'running (Primary)\n'],
      ['stop', 0, ''],
      ['status', 3, 'stopped (Secondary)\n'],
      ['bogus', 1, 'Usage: drbddisk [resource] {start|stop|status}\n'],
    ]);
    const all = await hb(drbddisk, [], 'status', env);
    expect([all.rc, all.stdout]).toEqual([10, 'A resource name is required for status inquiries.\n']);
  });

  it('a refused promotion is tried 6 times, 1 s apart, then start exits 1', async () => {
    const { dir, env } = fresh();
    writeFileSync(join(dir, 'fail_primary'), '99\n');
    const t0 = Date.now();
    const r = await hb(drbddisk, ['r0'], 'start', env);
    const ms = Date.now() - t0;
    expect(r.rc).toBe(1);
    expect(calls(dir, 'primary')).toBe(6);
    expect(ms).toBeGreaterThanOrEqual(5000);
    expect(r.stderr).toContain('Multiple primaries not allowed by config');
  }, 120_000);

  it('a promotion refused 5 times succeeds on the 6th attempt', async () => {
    const { dir, env } = fresh();
    writeFileSync(join(dir, 'fail_primary'), '5\n');
    const r = await hb(drbddisk, ['r0'], 'start', env);
    expect(r.rc).toBe(0);
    expect(calls(dir, 'primary')).toBe(6);
  }, 120_000);

  it('a refused demotion is tried 3 times, then stop exits 1 (no pretending)', async () => {
    const { dir, env } = fresh();
    expect((await hb(drbddisk, ['r0'], 'start', env)).rc).toBe(0);
    writeFileSync(join(dir, 'fail_secondary'), '99\n');
    const t0 = Date.now();
    const r = await hb(drbddisk, ['r0'], 'stop', env);
    expect(r.rc).toBe(1);
    expect(calls(dir, 'secondary')).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect((await hb(drbddisk, ['r0'], 'status', env)).stdout).toBe('running (Primary)\n');
  }, 120_000);

  it('an unreadable role falls back to /proc/drbd, and an unknown role is "may be running" with 4', async () => {
    const { dir, env } = fresh();
    writeFileSync(join(dir, 'role_output'), 'garbage\n');
    const r = await hb(drbddisk, ['r0'], 'status', env);
    // No /proc/drbd on this host: heartbeat's script then says Unconfigured.
    expect([r.rc, r.stdout]).toEqual([3, 'stopped (Unconfigured)\n']);
  });

  it('OCF form: 0/7, exit reasons, 6 without a resource, 5 without drbdadm (but stop 0, probe 7)', async () => {
    const { dir, env } = fresh();
    const e = { ...env, OCF_RESOURCE_INSTANCE: 'd', OCF_RESKEY_drbd_resource: 'r0' };
    expect((await ocf(drbddisk, 'monitor', e)).rc).toBe(7);
    expect((await ocf(drbddisk, 'start', e)).rc).toBe(0);
    expect((await ocf(drbddisk, 'monitor', e)).rc).toBe(0);
    expect((await ocf(drbddisk, 'stop', e)).rc).toBe(0);
    expect((await ocf(drbddisk, 'stop', e)).rc).toBe(0);
    writeFileSync(join(dir, 'fail_primary'), '99\n');
    const refused = await ocf(drbddisk, 'start', e);
    expect(refused.rc).toBe(1);
    expect(refused.reasons[0]).toMatch(/^drbdadm primary r0 failed 6 times \(exit 11: .*Multiple primaries/);
    const none = await ocf(drbddisk, 'validate-all', { ...e, OCF_RESKEY_drbd_resource: '' });
    expect([none.rc, none.reasons]).toEqual([6, ['drbd_resource is not set']]);
    const missing = { ...e, OCF_RESKEY_drbdadm: '/nonexistent/drbdadm' };
    expect((await ocf(drbddisk, 'start', missing)).rc).toBe(5);
    expect((await ocf(drbddisk, 'stop', missing)).rc).toBe(0);
    expect((await ocf(drbddisk, 'monitor', missing)).rc).toBe(7);
  }, 120_000);
});

describe('MailTo against the fake mailer (STAND-IN for mail)', () => {
  it('mails subject and body as the stock agent on start and stop; status running/stopped', async () => {
    const out = join(tmp, 'mail.out');
    const env = baseEnv({
      MAILCMD: join(FIX, 'fake-mail'),
      FAKE_MAIL_OUT: out,
      TSBEAT_ARGV0: '/usr/lib/ocf/resource.d/tsbeat/MailTo',
    });
    expect((await hb(mailTo, ['root@example.org', 'apollo12'], 'status', env)).stdout).toBe(
      'INFO:  Resource is stopped\n',
    );
    expect((await hb(mailTo, ['root@example.org', 'apollo12'], 'start', env)).rc).toBe(0);
    expect((await hb(mailTo, ['root@example.org', 'apollo12'], 'status', env)).stdout).toBe(
      'INFO:  Running OK\n',
    );
    expect((await hb(mailTo, ['root@example.org', 'apollo12'], 'stop', env)).rc).toBe(0);
    const text = readFileSync(out, 'utf8');
    const mails = text.split('---- fake-mail argv: ').filter(Boolean);
    expect(mails).toHaveLength(2);
    expect(mails[0]).toMatch(
      /^-s apollo12 Takeover in progress at \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \S+ \d{4} on \S+ root@example.org\n {8}apollo12 Takeover in progress at .*\n \n {8}Command line was:\n {8}\/usr\/lib\/ocf\/resource.d\/tsbeat\/MailTo start\n$/,
    );
    expect(mails[1]).toMatch(/^-s apollo12 Migrating resource away at .* from \S+ root@example.org\n/);
    const none = await ocf(mailTo, 'start', { ...env, OCF_RESOURCE_INSTANCE: 'm' });
    expect([none.rc, none.reasons]).toEqual([6, ['At least 1 Email address has to be given!']]);
    const nomail = await ocf(mailTo, 'start', {
      ...env,
      OCF_RESOURCE_INSTANCE: 'm',
      OCF_RESKEY_email: 'root',
      MAILCMD: '/nonexistent/mail',
    });
    expect(nomail.rc).toBe(5);
  });
  it('formats the date as date(1) in the C locale and keeps a short subject out', () => {
    expect(cDate(new Date(2026, 11, 5, 3, 4, 5))).toMatch(/^Sat Dec {2}5 03:04:05 \S+ 2026$/);
    expect(mailText('start', 'x', 'n1', 'D', 'cmd').subject).toBe(
      'Resource Group Takeover in progress at D on n1',
    );
  });
});

describe('Delay', () => {
  it('sleeps as configured, accepts decimals, refuses words with 2, and answers 3 to unknown actions', async () => {
    const env = baseEnv({
      OCF_RESOURCE_INSTANCE: 'dl',
      OCF_RESKEY_startdelay: '0.3',
      OCF_RESKEY_stopdelay: '0.2',
      OCF_RESKEY_mondelay: '0',
    });
    const t0 = Date.now();
    expect((await ocf(delay, 'start', env)).rc).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect((await ocf(delay, 'monitor', env)).rc).toBe(0);
    expect((await ocf(delay, 'stop', env)).rc).toBe(0);
    expect((await ocf(delay, 'monitor', env)).rc).toBe(7);
    for (const a of ['promote', 'demote', 'notify', 'bogus']) expect((await ocf(delay, a, env)).rc).toBe(3);
    const bad = await ocf(delay, 'start', { ...env, OCF_RESKEY_startdelay: 'ten' });
    expect([bad.rc, bad.reasons]).toEqual([2, ['startdelay "ten" is not a number of seconds']]);
    expect(parseDelay('1.5')).toBe(1.5);
    expect(parseDelay('-1')).toBeUndefined();
  });
  it("heartbeat style Delay::1: status costs no mondelay (heartbeat's wrapper would sleep 30 s)", async () => {
    const env = baseEnv();
    const t0 = Date.now();
    const r = await hb(delay, ['0.1'], 'status', env);
    expect([r.rc, r.stdout]).toEqual([7, 'INFO:  Resource is stopped\n']);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('vserver against the util-vserver stand-in (STAND-IN for vserver(8))', () => {
  it('starts left to right, stops right to left, status running only when all run', async () => {
    const dir = join(tmp, 'vs');
    for (const g of ['g1', 'g2', 'g3']) mkdirSync(join(dir, g), { recursive: true });
    const env = baseEnv({
      VSERVER_STANDIN_DIR: dir,
      OCF_RESKEY_vserver_cmd: join(FIX, 'vserver-standin'),
      OCF_RESKEY_arp_count: '0',
    });
    const st = await hb(vserver, ['g1', 'g2', 'g3'], 'status', env);
    expect([st.rc, st.stdout]).toEqual([3, 'stopped (g1: stopped, g2: stopped, g3: stopped)\n']);
    expect(heartbeatSaysRunning(st.stdout)).toBe(false);
    expect((await hb(vserver, ['g1', 'g2', 'g3'], 'start', env)).rc).toBe(0);
    const on = await hb(vserver, ['g1', 'g2', 'g3'], 'status', env);
    expect([on.rc, on.stdout]).toEqual([0, 'running (g1: running, g2: running, g3: running)\n']);
    expect(heartbeatSaysRunning(on.stdout)).toBe(true);
    expect((await hb(vserver, ['g1', 'g2', 'g3'], 'stop', env)).rc).toBe(0);
    const order = readFileSync(join(dir, 'calls.log'), 'utf8')
      .split('\n')
      .map((l) => /vserver (\S+) (start|stop)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => `${m[2]} ${m[1]}`);
    expect(order).toEqual(['start g1', 'start g2', 'start g3', 'stop g3', 'stop g2', 'stop g1']);
    // One guest down: status is "stopped" (heartbeat starts the group, start is idempotent).
    expect((await hb(vserver, ['g1', 'g2'], 'start', env)).rc).toBe(0);
    expect((await hb(vserver, ['g1', 'g2', 'g3'], 'status', env)).stdout).toMatch(
      /^stopped \(.*g3: stopped\)\n$/,
    );
    // A failing guest start undoes the guests started by that call.
    writeFileSync(join(dir, 'g3', 'fail_start'), '');
    const failed = await ocf(vserver, 'start', {
      ...env,
      OCF_RESOURCE_INSTANCE: 'v',
      OCF_RESKEY_guests: 'g3',
    });
    expect(failed.rc).toBe(1);
    expect((await hb(vserver, ['g1', 'g2'], 'stop', env)).rc).toBe(0);
    const unknown = await ocf(vserver, 'start', {
      ...env,
      OCF_RESOURCE_INSTANCE: 'v',
      OCF_RESKEY_guests: 'nosuch',
    });
    expect(unknown.rc).toBe(5);
  });
  it("reads each guest's addresses from util-vserver's interfaces directory", () => {
    const conf = join(tmp, 'vservers');
    const put = (p: string, t: string): void => {
      mkdirSync(join(conf, p, '..'), { recursive: true });
      writeFileSync(join(conf, p), t);
    };
    put('hebdo/interfaces/0/ip', '10.0.0.21\n');
    put('hebdo/interfaces/0/dev', 'eth0\n');
    put('hebdo/interfaces/1/ip', '10.0.1.21\n');
    put('hebdo/interfaces/2/ip', '10.0.2.21\n');
    put('hebdo/interfaces/2/nodev', '');
    put('hebdo/interfaces/dev', 'eth1\n');
    expect(guestAddresses(conf, 'hebdo')).toEqual([
      { ip: '10.0.0.21', dev: 'eth0' },
      { ip: '10.0.1.21', dev: 'eth1' },
    ]);
    expect(guestAddresses(conf, 'none')).toEqual([]);
    expect(parseGuests(' a  b ')).toEqual(['a', 'b']);
    expect(parseGuests('a ../x')).toBeUndefined();
  });
});

describe('lxc words', () => {
  it('reads the state of lxc-info -s', () => {
    expect(lxcState('State:          RUNNING\n')).toBe('RUNNING');
    expect(lxcState('')).toBeUndefined();
  });
});

describe('tsbeat check: agent validation', () => {
  it('grammar errors and OCF_ERR_CONFIGURED are errors, local problems warnings, offline only the former', async () => {
    expect(await validateBuiltinResource('Filesystem', ['/dev/x'], true)).toEqual([
      {
        severity: 'error',
        message: 'wrong arguments for the built-in agent Filesystem',
        hint: 'write Filesystem::device::directory[::fstype[::options]]',
      },
    ]);
    expect(await validateBuiltinResource('Filesystem', ['/dev/x', 'srv', 'ext4'], false)).toEqual([
      { severity: 'error', message: 'OCF_ERR_CONFIGURED (6): Mount point srv is not an absolute path' },
    ]);
    expect(await validateBuiltinResource('Delay', ['ten'], true)).toEqual([
      {
        severity: 'warning',
        message: 'on this machine: OCF_ERR_ARGS (2): startdelay "ten" is not a number of seconds',
      },
    ]);
    expect(await validateBuiltinResource('Delay', ['ten'], false)).toEqual([]);
    expect(await validateBuiltinResource('Delay', ['1', '2'], true)).toEqual([]);
    expect(await validateBuiltinResource('apache', [], true)).toEqual([]);
    expect(haresourcesForm('[resource]')).toBe('[::resource]');
    expect(haresourcesForm('email [subject]')).toBe('::email[::subject]');
  });
});

describe('the two packagings agree (in-process runHeartbeatStyle and the resource.d executables)', () => {
  it.each([
    ['drbddisk', ['r0']],
    ['Delay', ['0.1', '0.1']],
    ['MailTo', ['root']],
  ] as const)(
    '%s',
    async (name, args) => {
      const dir = join(tmp, `pk-${name}`);
      mkdirSync(dir, { recursive: true });
      const env = baseEnv({
        FAKE_DRBD_DIR: join(dir, 'drbd'),
        OCF_RESKEY_drbdadm: join(FIX, 'fake-drbdadm'),
        MAILCMD: join(FIX, 'fake-mail'),
        FAKE_MAIL_OUT: join(dir, 'mail.out'),
        HA_RSCTMP: join(dir, 'rsc'),
      });
      const seq = ['status', 'start', 'status', 'stop', 'status'] as const;
      const inProc: [number, string][] = [];
      for (const action of seq) {
        const r = await runHeartbeatStyle(name, [...args], action, {
          env,
          signal: new AbortController().signal,
          log: () => {},
        });
        inProc.push([r.rc, r.stdout]);
      }
      const exe: [number, string][] = [];
      for (const action of seq) {
        const r = spawnSync(join(REPO, 'resource.d', name), [...args, action], {
          env,
          encoding: 'utf8',
          timeout: 30_000,
        });
        exe.push([r.status ?? -1, r.stdout]);
      }
      expect(exe).toEqual(inProc);
      expect(inProc.map(([, out]) => heartbeatSaysRunning(out))).toEqual([false, false, true, false, false]);
    },
    60_000,
  );
});
