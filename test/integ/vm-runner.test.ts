/**
 * The project's own qemu VM runner (scripts/vm-run): the guest boots Debian 12's kernel, has the
 * modules this host lacks (IPVS, DRBD 8.4, loop + ext4), runs the host's node on the shared
 * checkout, and hands back stdout, stderr and the exit code. One boot for all checks (~5 s warm).
 * Tests of the director (IPVS) and of drbddisk build on this.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runInVm, vmUnavailable } from '../support/vm.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbeat-vmtest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.skipIf(process.env['TSBEAT_NO_VM'] === '1')(
  'vm-run boots a kernel with IPVS, DRBD 8.4 and loop/ext4, runs node on the share and passes the exit code back',
  async () => {
    const why = await vmUnavailable();
    expect(why, `the VM cannot run here: ${why}`).toBeUndefined();
    writeFileSync(
      join(dir, 'probe.mjs'),
      'import { writeFileSync } from "node:fs"; writeFileSync("from-guest", process.version);\n',
    );
    const script = [
      'set -e',
      'uname -r',
      'modprobe ip_vs && ipvsadm -A -t 10.9.9.9:80 -s rr && ipvsadm -Ln | grep -c 10.9.9.9:80 | sed "s/^/ipvs=/"',
      'modprobe drbd && sed -n "1s/^version: \\([0-9.]*\\).*/drbd=\\1/p" /proc/drbd',
      'modprobe loop && truncate -s 16M /tmp/img && L=$(losetup -f --show /tmp/img) && mkfs.ext4 -q "$L"',
      'mkdir -p /mnt/t && mount "$L" /mnt/t && findmnt -no FSTYPE /mnt/t | sed "s/^/fs=/"',
      'node probe.mjs',
      'echo to-stderr >&2',
      'exit 42',
    ].join('\n');
    const r = await runInVm(script, { share: dir, timeoutS: 180 });
    expect(r.stderr).toContain('to-stderr');
    expect(r.code, r.stderr).toBe(42);
    expect(r.stdout).toMatch(/^6\.1\.0-\d+-amd64$/m);
    expect(r.stdout).toContain('ipvs=1');
    expect(r.stdout).toMatch(/^drbd=8\.4\.\d+$/m);
    expect(r.stdout).toContain('fs=ext4');
    expect(readFileSync(join(dir, 'from-guest'), 'utf8')).toBe(process.version);
  },
  240_000,
);
