/**
 * The Debian package (`npm run package`, issue 16 item 7) installs into a clean Debian 12 root
 * and works there from the installed files alone. Builds tsbeat_VERSION_amd64.deb with
 * scripts/package/build-deb.sh (its Node 24 runtime comes from /var/cache/tsbeat-pkg, or from
 * the npm registry once: a failed download fails this test, it is never skipped), assembles a
 * root from this host's installed packages (test/support/debian-root.ts says exactly what is in
 * it: Priority required, the package's Depends and Recommends, systemd for systemd-analyze and
 * man-db for its man-page check, and their dependencies; no Node, no npm), installs the .deb
 * with `dpkg --root` (dpkg checks the Depends against that set and runs the maintainer scripts
 * chrooted; `dpkg --verify` then checks every file against the md5sums), and then, chrooted in
 * private mount, network and PID namespaces, proves: no node or npm on PATH, the commands on
 * PATH run on the packaged Node 24; `tsbeat check` accepts an installed example configuration
 * copied to /etc/ha.d; `systemd-analyze verify` accepts the unit (with its Documentation= man
 * pages, which must be installed); an installed OCF agent answers meta-data; logrotate rotates
 * with the installed file; `tsbeat demo` runs its
 * two-node failover and failback; and `dpkg --purge` removes it all, state included.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.js';
import { buildRoot, dependencyGroups, inRoot, rootPackages } from '../support/debian-root.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-pkg-'));
const root = join(tmp, 'root');
let deb = '';

beforeAll(() => {
  const build = spawnSync('bash', [join(REPO, 'scripts/package/build-deb.sh'), '--out', tmp], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (build.status !== 0)
    throw new Error(`building the package failed (status ${build.status}):\n${build.stderr}${build.stdout}`);
  deb = build.stdout.trim().split('\n').pop() ?? '';
  const fields = execFileSync('dpkg-deb', ['-f', deb, 'Depends', 'Recommends'], { encoding: 'utf8' });
  const wanted = dependencyGroups(fields.replace(/^\w+: /gm, '').replace(/\n/g, ', ')).map((g) => g[0]!);
  buildRoot(root, rootPackages([...wanted, 'systemd', 'man-db']));
  const install = spawnSync('dpkg', ['--root', root, '--force-unsafe-io', '-i', deb], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (install.status !== 0) throw new Error(`dpkg --root -i failed:\n${install.stdout}${install.stderr}`);
}, 400_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sh = (script: string, timeoutMs?: number) => inRoot(root, script, timeoutMs);

describe('the installed package in a clean root', () => {
  it('is named tsbeat_VERSION_amd64.deb and is installed by dpkg', () => {
    expect(deb).toMatch(/\/tsbeat_\d+\.\d+\.\d+_amd64\.deb$/);
    const s = spawnSync('dpkg', ['--root', root, '-s', 'tsbeat'], { encoding: 'utf8' });
    expect(s.stdout).toMatch(/^Status: install ok installed$/m);
    // Every installed file matches the package's md5sums.
    const v = spawnSync('dpkg', ['--root', root, '--verify', 'tsbeat'], { encoding: 'utf8' });
    expect({ status: v.status, out: v.stdout + v.stderr }).toEqual({ status: 0, out: '' });
  });

  it('runs on its own Node 24, with no node or npm on PATH', () => {
    const r = sh(
      'command -v node npm; /usr/lib/tsbeat/node/bin/node --version; tsbeat --version; check_tsbeat -V; ' +
        'for c in tsbeat cl_status hb_standby hb_takeover check_tsbeat; do command -v $c; done; ls /usr/lib/tsbeat/node_modules',
    );
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^v24\./);
    expect(lines.slice(1, 3)).toEqual([
      'tsbeat 0.1.0 (compatible with heartbeat 3.0.6)',
      'check_tsbeat (tsbeat 0.1.0)',
    ]);
    expect(lines.slice(3, 8)).toEqual(
      ['tsbeat', 'cl_status', 'hb_standby', 'hb_takeover', 'check_tsbeat'].map((c) => `/usr/bin/${c}`),
    );
    // Production dependencies only.
    expect(lines).toContain('xstate');
    expect(lines).toContain('pino');
    expect(lines).toContain('serialport');
    expect(lines).not.toContain('vitest');
    expect(lines).not.toContain('typescript');
    // And the host's node really is not in the root.
    expect(existsSync(join(root, 'usr/bin/node'))).toBe(false);
  });

  it('check_tsbeat says CRITICAL with exit 2 when no daemon runs (from the Nagios plugin directory)', () => {
    const r = sh('/usr/lib/nagios/plugins/check_tsbeat; echo "exit $?"');
    expect(r.stdout).toBe(
      'TSBEAT CRITICAL - tsbeat is not running (nothing answers on /run/tsbeat/api.sock)\nexit 2\n',
    );
  });

  it('tsbeat check accepts an example configuration copied to /etc/ha.d', () => {
    const r = sh(
      // The example's IPaddr2 names eth0; the root's private network has only lo until then.
      'ip link add eth0 type veth peer name eth0p && mkdir -p /etc/ha.d && cp /usr/share/doc/tsbeat/examples/ha.d/lvs-dr/* /etc/ha.d/ && chmod 600 /etc/ha.d/authkeys && tsbeat check --node node1 --offline; echo "exit $?"',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/exit 0\n$/);
    expect(r.stdout).toMatch(/^Cluster "linux-ha" of 2 nodes \(node1, node2\); this node is node1\./);
  });

  it('systemd-analyze verify accepts the unit, its ExecStart and its man pages', () => {
    const r = sh('systemd-analyze verify /lib/systemd/system/tsbeat.service; echo "exit $?"');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('exit 0\n');
    const unit = sh('systemctl cat tsbeat.service 2>/dev/null || cat /lib/systemd/system/tsbeat.service');
    expect(unit.stdout).toMatch(/^Restart=on-failure$/m);
    expect(unit.stdout).toMatch(/^RestartPreventExitStatus=2 6$/m);
  });

  it('an installed OCF agent answers meta-data, and a heartbeat-style script runs', () => {
    const r = sh(
      '/usr/lib/ocf/resource.d/tsbeat/Dummy meta-data; echo "exit $?"; /usr/lib/tsbeat/resource.d/Dummy x start 2>&1; /usr/lib/tsbeat/resource.d/Dummy x status 2>&1; echo "exit $?"',
    );
    expect(r.stdout).toMatch(/<resource-agent name="Dummy"/);
    expect(r.stdout).toMatch(/<\/resource-agent>\s*exit 0\n/);
    expect(r.stdout).toMatch(/INFO: {2}Success\n.*INFO: {2}Running OK\nexit 0\n$/s);
  });

  it('logrotate rotates the logs with the installed file', () => {
    const r = sh(
      'mkdir -p /var/log && echo line > /var/log/ha-log && logrotate -f -s /tmp/lr.state /etc/logrotate.d/tsbeat; echo "exit $?"; ls /var/log; stat -c "%a %U %G" /var/log/ha-log',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^exit 0\n/);
    expect(r.stdout).toMatch(/^ha-log\.1$/m);
    expect(r.stdout).toMatch(/640 root adm\n$/);
  });

  it('tsbeat demo fails a node over and back, and cleans up', () => {
    const r = sh('tsbeat demo; echo "exit $?"; ip netns list | wc -l', 150_000);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/killing node1[\s\S]*node1: \[\] {3}node2: \[10\.99\.0\.10 web db\]/);
    expect(r.stdout).toMatch(/restarting node1[\s\S]*node1: \[10\.99\.0\.10 web\] {3}node2: \[db\]/);
    expect(r.stdout).toMatch(/exit 0\n0\n$/);
  }, 180_000);

  it('dpkg --purge removes everything it installed', () => {
    const r = spawnSync('dpkg', ['--root', root, '--purge', 'tsbeat'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    for (const p of [
      'usr/lib/tsbeat',
      'usr/bin/tsbeat',
      'usr/lib/ocf/resource.d/tsbeat',
      'etc/logrotate.d/tsbeat',
      'var/lib/tsbeat',
    ])
      expect(existsSync(join(root, p)), p).toBe(false);
    expect(readdirSync(join(root, 'usr/bin')).filter((f) => /tsbeat|cl_status|hb_/.test(f))).toEqual([]);
  });
});
