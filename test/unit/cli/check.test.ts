/**
 * `tsbeat check` as an operator meets it: exit 0 for a usable configuration (with a
 * summary), 1 with a precise FILE:LINE:COL diagnostic for each kind of broken input, 2 for
 * usage errors, never a stack trace; `--json` prints the parsed configuration.
 */
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHaCf } from '../../../src/config/hacf.js';
import { buildMedia } from '../../../src/daemon/media-factory.js';
import { systemClock } from '../../../src/lib/clock.js';
import { REPO, runTsbeat } from '../../support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const GOOD_HA_CF =
  'logfile /var/log/ha-log\nkeepalive 1\ndeadtime 10\nmcast eth0 239.0.0.1 694 1 0\nauto_failback on\nnode ra1 ra2\n';
const GOOD_AUTH = 'auth 1\n1 sha1 secret\n';
const GOOD_RES = 'ra1 IPaddr2::10.0.0.10/24 Dummy::a\n';

let n = 0;
function configDir(files: {
  haCf?: string | Buffer | null;
  authkeys?: string | null;
  haresources?: string | Buffer | null;
  authMode?: number;
}): string {
  const dir = join(tmp, `c${n++}`);
  mkdirSync(dir);
  if (files.haCf !== null) writeFileSync(join(dir, 'ha.cf'), files.haCf ?? GOOD_HA_CF);
  if (files.authkeys !== null) {
    writeFileSync(join(dir, 'authkeys'), files.authkeys ?? GOOD_AUTH);
    chmodSync(join(dir, 'authkeys'), files.authMode ?? 0o600);
  }
  if (files.haresources !== null) writeFileSync(join(dir, 'haresources'), files.haresources ?? GOOD_RES);
  return dir;
}

const check = (dir: string, ...extra: string[]) =>
  runTsbeat(['check', '-c', dir, '--node', 'ra1', '--offline', ...extra]);

describe('tsbeat check', () => {
  it('accepts a good configuration and explains it', () => {
    const r = check(configDir({}));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Cluster "linux-ha" of 2 nodes \(ra1, ra2\); this node is ra1\./);
    expect(r.stdout).toMatch(/multicast 239\.0\.0\.1:694 on eth0/);
    expect(r.stdout).toMatch(/declared dead 10s after its last heartbeat/);
  });

  it('explains ping nodes, built-in ipfail, client programs and the watchdog', () => {
    const r = check(
      configDir({
        haCf: `${GOOD_HA_CF}ping 10.0.0.254\ndeadping 20\nrespawn hacluster /usr/lib/heartbeat/ipfail\nwatchdog /dev/watchdog\n`,
      }),
    );
    expect(r.code).toBe(0);
    const text = r.stdout.replace(/\s+/g, ' ');
    expect(text).toMatch(
      /Ping nodes 10\.0\.0\.254: one ICMP echo per heartbeat, dead after 20s without an answer\./,
    );
    expect(text).toMatch(
      /ipfail \(built in\): when this node sees fewer ping nodes than its peer it gives its groups up \(hb_standby all\), about 22s after losing them/,
    );
    expect(text).toMatch(/Watchdog \/dev\/watchdog: written with every heartbeat/);
  });

  const huge = `# ${'x'.repeat(2 * 1024 * 1024)}\n`;
  it.each([
    [
      'unknown directive',
      { haCf: `${GOOD_HA_CF}deadtiem 10\n` },
      /ha\.cf:7:1: error: unknown directive "deadtiem" \(did you mean "deadtime"\?\)/,
    ],
    [
      'bad value',
      { haCf: `${GOOD_HA_CF}keepalive abc\n` },
      /ha\.cf:7:11: error: keepalive: "abc" is not a time/,
    ],
    [
      'bad unit',
      { haCf: `${GOOD_HA_CF}deadtime 10s\n` },
      /ha\.cf:7:10: error: deadtime: unknown time unit "s"/,
    ],
    [
      'wrong order (crmd_spawns_pengine after crm)',
      { haCf: `${GOOD_HA_CF}crm off\ncrmd_spawns_pengine yes\n` },
      /ha\.cf:8:21: error: crmd_spawns_pengine must come before/,
    ],
    [
      'wrong order (auth after its key)',
      { authkeys: '1 sha1 secret\nauth 1\n' },
      /authkeys:2:1: error: "auth 1" selects key 1, but no valid key 1 follows it \(key 1 is on line 1: move the "auth" line above it/,
    ],
    [
      'deadtime too small',
      { haCf: `${GOOD_HA_CF}deadtime 2\n` },
      /ha\.cf:7:1: error: deadtime 2000 ms is too small compared to keepalive 1000 ms/,
    ],
    [
      'unknown node in haresources',
      { haresources: 'ra3 Dummy::a\n' },
      /haresources:1:1: error: unknown node "ra3" \(ha\.cf lists: ra1, ra2\) \(did you mean "ra1"\?\)/,
    ],
    [
      'this node not in ha.cf',
      { haCf: GOOD_HA_CF.replace('node ra1 ra2', 'node ra2 ra4') },
      /ha\.cf: error: this node "ra1" \(--node\) is not a "node" in ha\.cf/,
    ],
    ['missing ha.cf', { haCf: null }, /ha\.cf: error: ha\.cf not found/],
    ['missing authkeys', { authkeys: null }, /authkeys: error: authkeys not found/],
    ['missing haresources', { haresources: null }, /haresources: error: haresources not found/],
    [
      'auth 3 but no key 3',
      { authkeys: 'auth 3\n1 sha1 secret\n' },
      /authkeys:1:1: error: "auth 3" selects key 3, but no valid key 3 follows it/,
    ],
    [
      'unknown auth method',
      { authkeys: 'auth 1\n1 sha256 secret\n' },
      /authkeys:2:3: error: unknown auth method "sha256"/,
    ],
    [
      'group-readable authkeys',
      { authMode: 0o640 },
      /authkeys: error: permissions 640 let other users read the keys; heartbeat refuses to start \(chmod 600 /,
    ],
    [
      'non-UTF-8 bytes',
      {
        haCf: Buffer.concat([
          Buffer.from(GOOD_HA_CF),
          Buffer.from('cluster caf'),
          Buffer.from([0xe9]),
          Buffer.from('\n'),
        ]),
      },
      /ha\.cf:7:12: error: byte 0xe9 is not UTF-8 text/,
    ],
    [
      'huge file',
      { haCf: huge },
      /ha\.cf: error: ha\.cf is \d+ bytes, more than the 1048576 a configuration file can be/,
    ],
    [
      'CRLF in haresources',
      { haresources: 'ra1 Dummy::a\r\n' },
      /haresources:1:13: error: carriage return \(CRLF line ending\)/,
    ],
    ['empty ha.cf', { haCf: '' }, /ha\.cf: error: no heartbeat media defined/],
    [
      'binary garbage',
      { haCf: Buffer.from([0x00, 0x01, 0x02, 0x0a, 0xff, 0xfe]) },
      /ha\.cf:1:1: error: unknown directive "\\x00\\x01\\x02"/,
    ],
  ])('%s: exit 1 with a precise diagnostic', (_name, files, re) => {
    const r = check(configDir(files));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(re);
    expect(r.stdout).toMatch(
      /\d+ errors?, \d+ warnings?: heartbeat would refuse to start with this configuration\./,
    );
    expect(r.stdout).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(r.code).toBe(1);
  });

  it('accepts Latin-1 bytes in comments, as heartbeat does', () => {
    const r = check(
      configDir({
        haCf: Buffer.concat([
          Buffer.from('# Überwachung: '),
          Buffer.from([0xfc]),
          Buffer.from(`\n${GOOD_HA_CF}`),
        ]),
      }),
    );
    expect(r.code).toBe(0);
  });

  it('accepts CRLF in ha.cf and authkeys, as heartbeat does', () => {
    const r = check(
      configDir({ haCf: GOOD_HA_CF.replace(/\n/g, '\r\n'), authkeys: GOOD_AUTH.replace(/\n/g, '\r\n') }),
    );
    expect(r.stdout).toMatch(/Cluster/);
    expect(r.code).toBe(0);
  });

  it('prints every problem, not only the first', () => {
    const r = check(
      configDir({
        haCf: `${GOOD_HA_CF}foo 1\nbar 2\n`,
        authkeys: 'auth 1\n1 bogus x\n',
        haresources: 'ra9 X\n',
      }),
    );
    expect(r.stdout.match(/: error: /g)?.length).toBeGreaterThanOrEqual(4);
    expect(r.code).toBe(1);
  });

  it('--json prints the parsed configuration, without the secret', () => {
    const r = check(configDir({}), '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as {
      ok: boolean;
      config: {
        haCf: { deadtimeMs: number };
        keyring: { active: { method: string; keyBytes: number } };
        groups: { key: string }[];
      };
    };
    expect(json.ok).toBe(true);
    expect(json.config.haCf.deadtimeMs).toBe(10000);
    expect(json.config.keyring.active).toEqual({ index: 1, method: 'sha1', keyBytes: 6 });
    expect(json.config.groups[0]?.key).toBe('IPaddr2::10.0.0.10/24');
    expect(r.stdout).not.toContain('secret');
  });

  it('--json reports errors too', () => {
    const r = check(configDir({ haCf: `${GOOD_HA_CF}foo 1\n` }), '--json');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as {
      ok: boolean;
      diagnostics: { severity: string; line: number; message: string }[];
    };
    expect(json.ok).toBe(false);
    expect(json.diagnostics).toContainEqual(
      expect.objectContaining({ severity: 'error', line: 7, message: 'unknown directive "foo"' }),
    );
  });

  it.each([
    [['check', '--bogus'], /tsbeat check: Unknown option '--bogus'/],
    [['check', 'extra'], /tsbeat check: Unexpected argument 'extra'/],
    [['check', '--node', 'a b'], /is not a node name/],
    [['nosuch'], /tsbeat: unknown command "nosuch"/],
  ])('usage error %j exits 2', (args, re) => {
    const r = runTsbeat(args);
    expect(r.stderr).toMatch(re);
    expect(r.code).toBe(2);
  });

  it.each([
    [
      'apiauth for a client tsbeat does not have',
      `${GOOD_HA_CF}apiauth ccm uid=hacluster\n`,
      /ha\.cf:7:1: warning: apiauth ccm: tsbeat does not serve heartbeat's client API .*"tsbeat signon ccm"/,
    ],
    [
      'explicit realtime',
      `${GOOD_HA_CF}realtime on\nrtprio 20\n`,
      /ha\.cf:7:10: warning: realtime: tsbeat runs at SCHED_RR priority 20 as heartbeat does, but cannot lock its memory/,
    ],
    [
      'compression bz2',
      `${GOOD_HA_CF}compression bz2\n`,
      /ha\.cf:7:1: warning: compression bz2: Node has no bzip2/,
    ],
  ])('%s: exit 0 with a warning on its line', (_name, haCf, re) => {
    const r = check(configDir({ haCf }));
    expect(r.stdout).toMatch(re);
    expect(r.code).toBe(0);
  });

  it('authkeys owned by another user: a warning naming the owner and the fix', () => {
    const dir = configDir({});
    const file = join(dir, 'authkeys');
    const root = process.getuid?.() === 0;
    // As root the file is given to nobody; otherwise it is ours and check runs as if as another user.
    if (root) chownSync(file, 65534, 65534);
    const r = root ? check(dir) : runTsbeat(['check', '-c', dir, '--node', 'ra1', '--offline']);
    if (root) {
      expect(r.stdout).toContain(
        `${file}: warning: owned by uid 65534, not by root: that user can change the keys and read them (heartbeat does not check the owner) (chown root:root ${file})`,
      );
      expect(r.code).toBe(0);
    } else {
      expect(r.stdout).not.toMatch(/owned by/);
    }
  });
});

describe('built-in agents', () => {
  it("need no script file, and their arguments go through the agent's own validation (file:line:col)", () => {
    const dir = configDir({
      haresources:
        'ra1 drbddisk::r0 Filesystem::/dev/drbd0::/srv::ext4 vserver::g1::g2 MailTo::root Delay::1::1\n' +
        'ra2 Filesystem::/dev/sdb1 Filesystem::/dev/sdb1::srv::ext4 \\\n  vserver::../etc\n',
    });
    const r = check(dir);
    expect(r.stdout).not.toMatch(/not found in/);
    expect(r.stdout).toContain(
      `${dir}/haresources:2:5: error: Filesystem::/dev/sdb1: wrong arguments for the built-in agent Filesystem (write Filesystem::device::directory[::fstype[::options]])`,
    );
    expect(r.stdout).toContain(
      `${dir}/haresources:2:27: error: Filesystem::/dev/sdb1::srv::ext4: OCF_ERR_CONFIGURED (6): Mount point srv is not an absolute path`,
    );
    expect(r.stdout).toContain(
      `${dir}/haresources:3:3: error: vserver::../etc: OCF_ERR_CONFIGURED (6): guests "../etc" is not a list of guest names`,
    );
    expect(r.stdout.match(/: error: /g)).toHaveLength(3);
    expect(r.stdout).toContain('3 errors, 0 warnings: these resources cannot start as written');
    expect(r.code).toBe(1);
  });

  it('without --offline, what this machine lacks is a warning with the OCF code and reason', () => {
    const dir = configDir({ haresources: 'ra1 Delay::soon Filesystem::/dev/null::/nonexistent-mnt::ext4\n' });
    const r = runTsbeat(['check', '-c', dir, '--node', 'ra1']);
    expect(r.stdout).toContain(
      `${dir}/haresources:1:5: warning: Delay::soon: on this machine: OCF_ERR_ARGS (2): startdelay "soon" is not a number of seconds`,
    );
    expect(r.stdout).toContain(
      `${dir}/haresources:1:17: warning: Filesystem::/dev/null::/nonexistent-mnt::ext4: on this machine: OCF_ERR_ARGS (2): Mount point /nonexistent-mnt does not exist (set create_directory=true to have it created)`,
    );
  });
});

describe('check and start agree on what tsbeat cannot run', () => {
  it.each([['ucast6 eth0 node2', 'ucast6 eth0']])(
    '%s: check exits 1 and start exits 6, with the same line',
    (medium, what) => {
      const dir = configDir({ haCf: GOOD_HA_CF.replace('mcast eth0 239.0.0.1 694 1 0', medium) });
      const line = `${dir}/ha.cf:4:1: error: ${what}: tsbeat needs the peer as an IPv6 address, not "node2"`;
      const c = check(dir);
      expect(c.stdout).toContain(line);
      expect(c.code).toBe(1);
      const s = runTsbeat(['start', '-c', dir, '--node', 'ra1', '--foreground']);
      expect(s.stderr).toContain(line);
      expect(s.stderr).toMatch(/configuration error, not started/);
      expect(s.code).toBe(6);
    },
  );

  it('IPv6 media are accepted by check and built by start', () => {
    const parsed = parseHaCf('mcast6 eth1 ff02::7 694 1 0\nucast6 eth1 fe80::2\nnode ra1\n', {
      file: 'ha.cf',
      localNode: 'ra1',
    });
    expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(buildMedia(parsed.haCf.media, systemClock, () => {}).map((m) => m.name)).toEqual([
      'mcast6 eth1 ff02::7 694 1 0',
      'ucast6 eth1 fe80::2',
    ]);
  });
});

describe('tsbeat check usage', () => {
  it('--help exits 0', () => {
    const r = runTsbeat(['check', '--help']);
    expect(r.stdout).toMatch(/usage: tsbeat check/);
    expect(r.code).toBe(0);
  });

  it("README's first command works on a fresh checkout, where git left authkeys at mode 644", () => {
    const copy = join(tmp, 'readme');
    cpSync(join(REPO, 'etc/ha.d/lvs-dr'), copy, { recursive: true });
    chmodSync(join(copy, 'authkeys'), 0o644);
    const before = runTsbeat(['check', '-c', copy, '--node', 'node1', '--offline']);
    expect(before.stdout).toMatch(/authkeys: error: permissions 644 .* \(chmod 600 /);
    expect(before.code).toBe(1);
    chmodSync(join(copy, 'authkeys'), 0o600);
    const after = runTsbeat(['check', '-c', copy, '--node', 'node1', '--offline']);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/node1 runs \[IPaddr2::192\.168\.10\.100\/24\/eth0/);
  });
});
