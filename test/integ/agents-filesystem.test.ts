// Filesystem, for real, on loop devices inside a namespace "machine" (its own mount namespace,
// so nothing is mounted on the host). It proves that:
//  - ocf-tester 4.12 passes ocf:tsbeat:Filesystem as installed by `tsbeat install-agents`, and
//    crm_resource drives it (start, check, check at depth 20, stop, check, stop again);
//  - monitor depth 0/10/20 work (depth 20 writes <mnt>/.Filesystem_status/<instance>_<node>);
//  - a busy mount is cleared on stop: TERM rounds, then KILL for a process that ignores TERM,
//    and stop only succeeds once nothing is mounted; with force_unmount=false and fast_stop it
//    gives up after about 6 s with rc 1 and the file system still mounted;
//  - wrong fstype (5), missing mount point (2; created with create_directory=true), and a mount
//    point that already holds another device (start 2, monitor 7, stop 0 leaves it alone);
//  - a device that vanishes under the mounted file system: its node gone → monitor 1; its
//    capacity gone (the loop device shrunk to 0) → monitor depth 10 fails;
//  - -LLABEL / -UUUID devices and bind mounts; the heartbeat-style resource.d/Filesystem lines.
// Needs root, losetup, mkfs.ext4, ocf-tester and crm_resource (scripts/install-deps.sh).
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, createCluster, type HarnessNode } from '../harness/index.js';
import { installAgentsInNode, ocfAgent, REPO } from './agents-support.js';

let cluster: Cluster | undefined;
let n1: HarnessNode;
const loops: string[] = [];
let img = '';

function losetup(file: string): string {
  const dev = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim();
  loops.push(dev);
  return dev;
}

function newImage(name: string, label: string): { file: string; dev: string; uuid: string } {
  const file = join(img, `${name}.img`);
  execFileSync('truncate', ['-s', '32M', file]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', label, file]);
  const uuid = execFileSync('blkid', ['-o', 'value', '-s', 'UUID', file], { encoding: 'utf8' }).trim();
  return { file, dev: losetup(file), uuid };
}

let a: { file: string; dev: string; uuid: string };
let b: { file: string; dev: string; uuid: string };
const label = `tsbfs${process.pid}`;

beforeAll(async () => {
  cluster = await createCluster({ nodes: 1 });
  n1 = cluster.node('node1');
  img = join(cluster.tmpDir, 'img');
  mkdirSync(img, { recursive: true });
  a = newImage('a', label);
  b = newImage('b', `${label}b`);
  await installAgentsInNode(n1);
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
  for (const l of loops) {
    try {
      execFileSync('losetup', ['-d', l]);
    } catch {
      // already detached
    }
  }
});

const FS = `${REPO}/ocf/Filesystem`;

function env(vals: Record<string, string>, instance = 'fs1'): Record<string, string> {
  const out: Record<string, string> = { OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: instance };
  for (const [k, v] of Object.entries(vals)) out[`OCF_RESKEY_${k}`] = v;
  return out;
}

async function fs(action: string, e: Record<string, string>, timeoutMs = 60_000) {
  return n1.exec([FS, action], { env: e, timeoutMs });
}

async function mountedAt(dir: string): Promise<string | undefined> {
  const r = await n1.exec(['findmnt', '-n', '-o', 'SOURCE', '--mountpoint', dir]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

describe('other managers', () => {
  it('ocf-tester passes ocf:tsbeat:Filesystem', async () => {
    await n1.execOk(['mkdir', '-p', '/run/tsb-fs/t-ocft']);
    const r = await n1.exec(
      [
        'ocf-tester',
        '-n',
        't-fs',
        '-o',
        `device=${a.dev}`,
        '-o',
        'directory=/run/tsb-fs/t-ocft',
        '-o',
        'fstype=ext4',
        ocfAgent('Filesystem'),
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.stdout).toContain(`${ocfAgent('Filesystem')} passed all tests`);
    expect(r.code).toBe(0);
    expect(await mountedAt('/run/tsb-fs/t-ocft')).toBeUndefined();
  });

  it('crm_resource drives it, with --force-check=20', async () => {
    await n1.execOk(['mkdir', '-p', '/run/tsb-fs/t-crm']);
    const crm = (...op: string[]) =>
      n1.exec(
        [
          'crm_resource',
          ...op,
          '--class',
          'ocf',
          '--provider',
          'tsbeat',
          '--agent',
          'Filesystem',
          '--option',
          `device=${a.dev}`,
          '--option',
          'directory=/run/tsb-fs/t-crm',
          '--option',
          'fstype=ext4',
        ],
        { timeoutMs: 60_000 },
      );
    const codes: number[] = [];
    for (const op of [
      ['--force-start'],
      ['--force-check'],
      ['--force-check=20'],
      ['--force-stop'],
      ['--force-check'],
      ['--force-stop'],
    ])
      codes.push((await crm(...op)).code);
    expect(codes).toEqual([0, 0, 0, 0, 7, 0]);
    const bad = await n1.exec(
      ['crm_resource', '--force-start', '--class', 'ocf', '--provider', 'tsbeat', '--agent', 'Filesystem'],
      { timeoutMs: 60_000 },
    );
    expect(bad.code).toBe(6);
    expect(`${bad.stdout}${bad.stderr}`).toContain('Please set OCF_RESKEY_device');
  });
});

describe('mount, monitor depths, unmount', () => {
  const dir = '/run/tsb-fs/fs-depth';
  const e = () => env({ device: a.dev, directory: dir, fstype: 'ext4' }, 'depthfs');

  it('start, monitor 0/10/20 (status file written), stop, and each is idempotent', async () => {
    await n1.execOk(['mkdir', '-p', dir]);
    expect((await fs('monitor', e())).code).toBe(7);
    expect((await fs('start', e())).code).toBe(0);
    expect((await fs('start', e())).code).toBe(0);
    expect(await mountedAt(dir)).toBe(a.dev);
    for (const level of ['0', '10', '20']) {
      const r = await n1.exec([FS, 'monitor'], { env: { ...e(), OCF_CHECK_LEVEL: level } });
      expect(r.code, `depth ${level}: ${r.stderr}`).toBe(0);
    }
    const st = await n1.execOk(['cat', `${dir}/.Filesystem_status/depthfs_node1`]);
    expect(st.stdout.replace(/\0+$/, '')).toBe('depthfs\n');
    const bad = await n1.exec([FS, 'monitor'], { env: { ...e(), OCF_CHECK_LEVEL: '15' } });
    expect(bad.code).toBe(6);
    expect(bad.stderr).toContain('ocf-exit-reason:unsupported monitor level 15');
    expect((await fs('stop', e())).code).toBe(0);
    expect(await mountedAt(dir)).toBeUndefined();
    expect((await fs('stop', e())).code).toBe(0);
    expect((await fs('monitor', e())).code).toBe(7);
  });

  it('-LLABEL and -UUUID name the device', async () => {
    await n1.execOk(['mkdir', '-p', '/run/tsb-fs/fs-label']);
    for (const device of [`-L${label}`, `-U${a.uuid}`, `LABEL=${label}`]) {
      const x = env({ device, directory: '/run/tsb-fs/fs-label', fstype: 'ext4' }, 'lbl');
      expect((await fs('start', x)).code, device).toBe(0);
      expect(await mountedAt('/run/tsb-fs/fs-label')).toBe(a.dev);
      expect((await n1.exec([FS, 'monitor'], { env: { ...x, OCF_CHECK_LEVEL: '10' } })).code).toBe(0);
      expect((await fs('stop', x)).code).toBe(0);
    }
  });

  it('bind mounts', async () => {
    await n1.execOk(['mkdir', '-p', '/run/bind-src', '/run/tsb-fs/fs-bind']);
    await n1.execOk(['touch', '/run/bind-src/marker']);
    const x = env({ device: '/run/bind-src', directory: '/run/tsb-fs/fs-bind', fstype: 'none' }, 'bnd');
    expect((await fs('start', x)).code).toBe(0);
    expect((await n1.exec(['test', '-f', '/run/tsb-fs/fs-bind/marker'])).code).toBe(0);
    expect((await fs('monitor', x)).code).toBe(0);
    expect((await fs('stop', x)).code).toBe(0);
    expect((await fs('monitor', x)).code).toBe(7);
  });
});

describe('busy unmount escalation', () => {
  const dir = '/run/tsb-fs/fs-busy';
  const e = (extra: Record<string, string> = {}) =>
    env({ device: a.dev, directory: dir, fstype: 'ext4', ...extra }, 'busyfs');

  it('TERM rounds, then KILL for a process that ignores TERM; stop succeeds only when unmounted', async () => {
    await n1.execOk(['mkdir', '-p', dir]);
    expect((await fs('start', e())).code).toBe(0);
    await n1.execOk(['sh', '-c', `echo data > ${dir}/held`]);
    const stubborn = await n1.spawn(['sh', '-c', `trap '' TERM; cd ${dir}; while :; do sleep 1; done`], {
      label: 'stubborn',
    });
    const reader = await n1.spawn(['sh', '-c', `exec sleep 1000 < ${dir}/held`], { label: 'reader' });
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    const r = await n1.exec([FS, 'stop'], { env: { ...e(), OCF_RESKEY_CRM_meta_timeout: '8000' } });
    const ms = Date.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(await mountedAt(dir)).toBeUndefined();
    expect(r.stderr).toMatch(/Couldn't unmount \/run\/tsb-fs\/fs-busy; trying cleanup with TERM/);
    expect(r.stderr).toMatch(/sending signal TERM to: \d+ sleep 1000/);
    expect(r.stderr).toMatch(/sending signal KILL to: \d+ sh -c trap/);
    // timeout 8 s → 4 TERM rounds of 1 s before the first KILL.
    expect(ms).toBeGreaterThanOrEqual(4000);
    expect(ms).toBeLessThan(30_000);
    const codes = await Promise.all([stubborn.exited, reader.exited]);
    expect(codes.length).toBe(2);
  }, 60_000);

  it('force_unmount=false with fast_stop: gives up after about 6 s, rc 1, still mounted', async () => {
    expect((await fs('start', e())).code).toBe(0);
    const holder = await n1.spawn(['sh', '-c', `cd ${dir}; exec sleep 1000`], { label: 'holder' });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const r = await fs('stop', e({ force_unmount: 'false', fast_stop: 'yes' }));
    const ms = Date.now() - t0;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ocf-exit-reason:Couldn't unmount ${dir}, giving up!`);
    expect(r.stderr).toContain(
      "No processes on /run/tsb-fs/fs-busy were signalled. force_unmount is set to 'false'",
    );
    expect(ms).toBeGreaterThanOrEqual(5500);
    expect(ms).toBeLessThan(20_000);
    expect(await mountedAt(dir)).toBe(a.dev);
    expect((await fs('monitor', e())).code).toBe(0);
    expect((await fs('stop', e())).code).toBe(0);
    await holder.exited;
    expect(await mountedAt(dir)).toBeUndefined();
  }, 60_000);
});

describe('refusals', () => {
  it('an fstype the kernel does not know: 5', async () => {
    await n1.execOk(['mkdir', '-p', '/run/tsb-fs/fs-type']);
    const r = await fs('start', env({ device: a.dev, directory: '/run/tsb-fs/fs-type', fstype: 'nosuchfs' }));
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("ocf-exit-reason:Couldn't find filesystem nosuchfs in /proc/filesystems");
  });

  it('a missing mount point: 2, unless create_directory=true', async () => {
    const x = env({ device: a.dev, directory: '/run/tsb-fs/fs-new/deep', fstype: 'ext4' }, 'newdir');
    const r = await fs('start', x);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ocf-exit-reason:Mount point /run/tsb-fs/fs-new/deep does not exist');
    expect((await fs('start', { ...x, OCF_RESKEY_create_directory: 'true' })).code).toBe(0);
    expect(await mountedAt('/run/tsb-fs/fs-new/deep')).toBe(a.dev);
    expect((await fs('stop', x)).code).toBe(0);
  });

  it('a mount point that holds another device: start 2, monitor 7, stop 0 and leaves it mounted', async () => {
    await n1.execOk(['mkdir', '-p', '/run/tsb-fs/fs-other']);
    await n1.execOk(['mount', b.dev, '/run/tsb-fs/fs-other']);
    const x = env({ device: a.dev, directory: '/run/tsb-fs/fs-other', fstype: 'ext4' }, 'other');
    const r = await fs('start', x);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`ocf-exit-reason:/run/tsb-fs/fs-other is already a mount point of ${b.dev}`);
    expect((await fs('monitor', x)).code).toBe(7);
    expect((await fs('stop', x)).code).toBe(0);
    expect(await mountedAt('/run/tsb-fs/fs-other')).toBe(b.dev);
    await n1.execOk(['umount', '/run/tsb-fs/fs-other']);
  });
});

describe('a device vanishing under the mounted file system', () => {
  it('its device node removed: monitor 1 (not "stopped"), and stop still unmounts', async () => {
    // A device node of our own for a's loop device, as udev's /dev/sdX of a disk that is pulled.
    const node = join(img, 'disk-node');
    const st = statSync(a.dev);
    const major = Math.floor(st.rdev / 256);
    const minor = st.rdev % 256;
    execFileSync('mknod', [node, 'b', String(major), String(minor)]);
    await n1.execOk(['mkdir', '-p', '/run/tsb-fs/fs-gone']);
    const x = env({ device: node, directory: '/run/tsb-fs/fs-gone', fstype: 'ext4' }, 'gone');
    expect((await fs('start', x)).code).toBe(0);
    expect((await fs('monitor', x)).code).toBe(0);
    execFileSync('rm', ['-f', node]);
    const r = await fs('monitor', x);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('but the device has vanished');
    expect((await fs('stop', x)).code).toBe(0);
    expect(await mountedAt('/run/tsb-fs/fs-gone')).toBeUndefined();
  });

  it('its capacity gone (loop device shrunk to 0 bytes): monitor depth 10 fails', async () => {
    const c = newImage('c', `${label}c`);
    await n1.execOk(['mkdir', '-p', '/run/tsb-fs/fs-shrunk']);
    const x = env({ device: c.dev, directory: '/run/tsb-fs/fs-shrunk', fstype: 'ext4' }, 'shrunk');
    expect((await fs('start', x)).code).toBe(0);
    expect((await n1.exec([FS, 'monitor'], { env: { ...x, OCF_CHECK_LEVEL: '10' } })).code).toBe(0);
    execFileSync('truncate', ['-s', '0', c.file]);
    execFileSync('losetup', ['-c', c.dev]);
    const r = await n1.exec([FS, 'monitor'], { env: { ...x, OCF_CHECK_LEVEL: '10' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ocf-exit-reason:Failed to read device ${c.dev}`);
    expect((await fs('stop', x)).code).toBe(0);
  });
});

describe('heartbeat style', () => {
  it('resource.d/Filesystem dev dir fstype: the wrapper lines and codes', async () => {
    await n1.execOk(['mkdir', '-p', '/run/tsb-fs/fs-hb']);
    const hb = (action: string) =>
      n1.exec([`${REPO}/resource.d/Filesystem`, a.dev, '/run/tsb-fs/fs-hb', 'ext4', action]);
    const seq: [number, string][] = [];
    for (const action of ['status', 'start', 'status', 'stop', 'status']) {
      const r = await hb(action);
      seq.push([r.code, r.stdout]);
    }
    expect(seq).toEqual([
      [7, 'INFO:  Resource is stopped\n'],
      [0, 'INFO:  Success\n'],
      [0, 'INFO:  Running OK\n'],
      [0, 'INFO:  Success\n'],
      [7, 'INFO:  Resource is stopped\n'],
    ]);
    const usage = await n1.exec([`${REPO}/resource.d/Filesystem`, a.dev, 'start']);
    expect([usage.code, usage.stdout]).toEqual([
      1,
      `usage: ${REPO}/resource.d/Filesystem device directory [fstype [options]] (start|stop|status|usage|meta-data)\n`,
    ]);
  });
});
