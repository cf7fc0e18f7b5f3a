// Part: Filesystem — mount a block device (or a bind mount, or a network file system) on a
// directory and unmount it again, by force if it is busy. Behaviour as ocf:heartbeat:Filesystem
// 4.12 (spec §5.4), with the safety rules of this project: a directory that is the mount point of
// another device is never reported as ours and never unmounted by us, and stop never reports
// success while the file system is still mounted.

import { mkdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Agent, AgentRequest, AgentResult } from './agent.js';
import { readText, removeFile, writeText } from './files.js';
import type { AgentMetadata } from './metadata.js';
import {
  canonicalDir,
  describeProcess,
  type MountEntry,
  mountAt,
  mountsBelow,
  mountUsers,
  readMounts,
} from './mounts.js';
import { isTrue, OCF } from './ocf.js';
import { haveBinary } from './runtime.js';
import { sleepMs } from './sleep.js';

const metadata: AgentMetadata = {
  name: 'Filesystem',
  version: '1.1',
  shortdesc: 'Manages filesystem mounts (tsbeat)',
  longdesc: `
Mounts a file system on a directory and unmounts it. The device is a block device (also given
as -LLABEL, -UUUID, --label=, --uuid=, LABEL= or UUID=), a directory with fstype "none" or the
option "bind" (a bind mount), a regular file with the option "loop", or a network source
(host:/path). Stop kills the processes that keep the mount busy (TERM, then KILL) unless
force_unmount is false, and fails rather than leave the file system mounted. monitor depth 10
reads the device, depth 20 writes and reads a status file on the file system.
`,
  parameters: [
    {
      name: 'device',
      type: 'string',
      required: true,
      unique: false,
      shortdesc: 'block device',
      longdesc:
        'The device to mount: /dev/XXX, -LLABEL, -UUUID, --label=L, --uuid=U, LABEL=L, UUID=U, a directory for a bind mount, host:/path for NFS.',
    },
    {
      name: 'directory',
      type: 'string',
      required: true,
      unique: false,
      shortdesc: 'mount point',
      longdesc: 'The absolute path of the mount point.',
    },
    {
      name: 'fstype',
      type: 'string',
      required: true,
      unique: false,
      shortdesc: 'filesystem type',
      longdesc:
        'The type of file system (ext4, xfs, nfs, ...); "none" for a bind mount; empty lets mount(8) find out.',
    },
    {
      name: 'options',
      type: 'string',
      unique: false,
      default: '',
      shortdesc: 'mount options',
      longdesc: 'Options for mount -o ("ro", "noatime", "bind", "loop", ...).',
    },
    {
      name: 'statusfile_prefix',
      type: 'string',
      unique: false,
      default: '.Filesystem_status/',
      shortdesc: 'status file prefix',
      longdesc: 'Where, relative to the mount point, monitor depth 20 writes its status file.',
    },
    {
      name: 'run_fsck',
      type: 'string',
      unique: false,
      default: 'auto',
      shortdesc: 'run fsck before mount',
      longdesc:
        '"auto": only for file systems without a journal; "force": always; "no": never. Network and bind mounts are never checked.',
    },
    {
      name: 'fast_stop',
      type: 'boolean',
      unique: false,
      default: 'no',
      shortdesc: 'fast stop',
      longdesc: 'Give up unmounting after 6 seconds instead of the operation timeout.',
    },
    {
      name: 'force_clones',
      type: 'boolean',
      unique: false,
      default: 'false',
      shortdesc: 'allow running as a clone, regardless of filesystem type',
      longdesc:
        'A local file system (ext4, xfs, ...) mounted read-write on several nodes is corrupted; cloning one is refused unless this is true.',
    },
    {
      name: 'force_unmount',
      type: 'boolean',
      unique: false,
      default: 'true',
      shortdesc: 'kill processes before unmount',
      longdesc:
        '"true" or "safe": signal the processes that use the mount (TERM, then KILL) until it can be unmounted; "false": never signal, fail instead. tsbeat finds the processes by reading /proc in both cases.',
    },
    {
      name: 'create_directory',
      type: 'boolean',
      unique: false,
      default: 'false',
      shortdesc: 'create a missing mount point',
      longdesc:
        'Create the mount point (mkdir -p) when it does not exist. Off by default: a missing mount point usually means the wrong directory or a missing parent mount, and start then fails with OCF_ERR_ARGS.',
    },
  ],
  actions: [
    { name: 'start', timeout: '60s' },
    { name: 'stop', timeout: '60s' },
    { name: 'monitor', timeout: '40s', interval: '20s', depth: '0' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '5s' },
  ],
};

/** File system types whose start needs no fsck under run_fsck=auto (they have a journal or no disk). */
const NO_FSCK = new Set([
  'ext3',
  'ext4',
  'reiserfs',
  'reiser4',
  'nss',
  'xfs',
  'jfs',
  'vfat',
  'fat',
  'nfs',
  'nfs4',
  'cifs',
  'smbfs',
  'ocfs2',
  'gfs2',
  'none',
  'lustre',
  'glusterfs',
  'btrfs',
  'tmpfs',
  'ceph',
]);

/** Network file systems: unmounted with -f, no device to find or read. */
const NETWORK_FS = new Set(['nfs', 'nfs4', 'cifs', 'smbfs', 'glusterfs', 'ceph']);

/** The parameters of one call, checked. */
interface FsConfig {
  readonly deviceParam: string;
  readonly dir: string;
  readonly fstype: string;
  readonly options: string;
  readonly bind: boolean;
  readonly loop: boolean;
  readonly network: boolean;
  /** LABEL/UUID selector for blkid, when the device is given that way. */
  readonly tag?: { kind: 'LABEL' | 'UUID'; value: string };
}

/** Parameter problems that are the same on every node (OCF_ERR_CONFIGURED), or undefined. */
export function configProblem(device: string, directory: string, level: number): string | undefined {
  if (device === '') return 'Please set OCF_RESKEY_device to the device to be managed';
  if (directory === '') return 'Please specify a directory';
  if (!directory.startsWith('/')) return `Mount point ${directory} is not an absolute path`;
  if (![0, 10, 20].includes(level)) return `unsupported monitor level ${level}`;
  return undefined;
}

/** The LABEL/UUID selector in a device parameter, in any of the spellings mount(8) accepts. */
export function deviceTag(device: string): { kind: 'LABEL' | 'UUID'; value: string } | undefined {
  const m =
    /^-([LU])\s*(.+)$/.exec(device) ??
    /^--(label|uuid)=(.+)$/.exec(device) ??
    /^(LABEL|UUID)=(.+)$/.exec(device);
  if (!m) return undefined;
  const k = (m[1] ?? '').toUpperCase();
  return { kind: k === 'L' || k === 'LABEL' ? 'LABEL' : 'UUID', value: m[2] ?? '' };
}

function configOf(req: AgentRequest): FsConfig {
  const deviceParam = req.param('device');
  const fstype = req.param('fstype');
  const options = req.param('options');
  const optList = options.split(',');
  const tag = deviceTag(deviceParam);
  return {
    deviceParam,
    dir: canonicalDir(req.param('directory')),
    fstype,
    options,
    bind: fstype === 'none' || optList.includes('bind') || optList.includes('rbind'),
    loop: optList.includes('loop'),
    network: NETWORK_FS.has(fstype) || /^[^/][^:]*:\//.test(deviceParam),
    ...(tag ? { tag } : {}),
  };
}

type StatInfo = { dev: number; rdev: number; ino: number; block: boolean; dir: boolean; file: boolean };

function statOf(path: string): StatInfo | undefined {
  try {
    const s = statSync(path);
    return {
      dev: s.dev,
      rdev: s.rdev,
      ino: s.ino,
      block: s.isBlockDevice(),
      dir: s.isDirectory(),
      file: s.isFile(),
    };
  } catch {
    return undefined;
  }
}

/** The block device a LABEL/UUID names (`blkid -l -t TAG=value -o device`). */
async function resolveTag(
  req: AgentRequest,
  tag: { kind: 'LABEL' | 'UUID'; value: string },
): Promise<string | undefined> {
  if (!haveBinary('blkid', req.env)) return undefined;
  const r = await req.runtime.runTool('blkid', ['-l', '-t', `${tag.kind}=${tag.value}`, '-o', 'device'], {
    signal: req.signal,
    timeoutMs: 20_000,
  });
  const dev = r.stdout.trim().split('\n')[0] ?? '';
  return r.code === 0 && dev !== '' ? dev : undefined;
}

/** The device path to mount and read: the parameter, or what its LABEL/UUID resolves to. */
async function devicePath(req: AgentRequest, c: FsConfig): Promise<string | undefined> {
  return c.tag ? resolveTag(req, c.tag) : c.deviceParam;
}

/**
 * What is on the mount point, as far as this resource is concerned:
 *  - `unmounted`: nothing is mounted there;
 *  - `ours`: our device (same device number, same bind source, same network source);
 *  - `other`: another device is mounted there — never ours to stop, never "running";
 *  - `vanished`: the kernel still has our device's name mounted there, but the device node is gone
 *    (a pulled disk): mounted, and failed.
 */
type MountState =
  | { kind: 'unmounted' }
  | { kind: 'ours'; entry: MountEntry }
  | { kind: 'other'; entry: MountEntry }
  | { kind: 'vanished'; entry: MountEntry };

async function mountState(req: AgentRequest, c: FsConfig, mounts = readMounts()): Promise<MountState> {
  const entry = mountAt(mounts, c.dir);
  if (entry === undefined) return { kind: 'unmounted' };
  const here = statOf(c.dir);
  if (c.bind) {
    const src = statOf(c.deviceParam);
    if (here && src && here.dev === src.dev && here.ino === src.ino) return { kind: 'ours', entry };
    return { kind: 'other', entry };
  }
  if (c.network) return entry.source === c.deviceParam ? { kind: 'ours', entry } : { kind: 'other', entry };
  if (c.loop) {
    // mount -o loop FILE shows /dev/loopN; the loop device's backing file names FILE.
    const loopName = /^\/dev\/(loop[0-9]+)$/.exec(entry.source)?.[1];
    const backing = loopName ? readText(`/sys/block/${loopName}/loop/backing_file`)?.trim() : undefined;
    return backing !== undefined && backing === canonicalDir(c.deviceParam)
      ? { kind: 'ours', entry }
      : { kind: 'other', entry };
  }
  const dev = await devicePath(req, c);
  const node = dev === undefined ? undefined : statOf(dev);
  if (node?.block) {
    return here !== undefined && here.dev === node.rdev ? { kind: 'ours', entry } : { kind: 'other', entry };
  }
  if (node === undefined && (entry.source === c.deviceParam || (dev !== undefined && entry.source === dev)))
    return { kind: 'vanished', entry };
  // Not a block device (tmpfs, a pseudo file system given by name): the mount table's source.
  return entry.source === c.deviceParam ? { kind: 'ours', entry } : { kind: 'other', entry };
}

function otherReason(c: FsConfig, entry: MountEntry): string {
  return `${c.dir} is already a mount point of ${entry.source} (${entry.fstype}), not of ${c.deviceParam}`;
}

/** `/proc/filesystems` lists the type, or modprobe can load it. */
async function kernelKnows(req: AgentRequest, fstype: string): Promise<boolean> {
  const listed = (): boolean =>
    (readText('/proc/filesystems') ?? '').split('\n').some((l) => l.split('\t').pop()?.trim() === fstype);
  if (listed()) return true;
  if (!haveBinary('modprobe', req.env)) return false;
  await req.runtime.runTool('modprobe', [fstype], { signal: req.signal, timeoutMs: 20_000 });
  return listed();
}

function needsFsck(c: FsConfig, runFsck: string): boolean {
  if (c.bind || c.network) return false;
  if (runFsck === 'force') return true;
  if (runFsck === 'no') return false;
  return c.fstype === '' ? false : !NO_FSCK.has(c.fstype);
}

/** Validation shared by start and validate-all: rc and reason, or undefined when fine. */
async function validate(req: AgentRequest, c: FsConfig, forStart: boolean): Promise<AgentResult | undefined> {
  const problem = configProblem(c.deviceParam, req.param('directory'), 0);
  if (problem) return { rc: OCF.ERR_CONFIGURED, reason: problem };
  const cloneMax = req.env['OCF_RESKEY_CRM_meta_clone_max'];
  const ro = c.options.split(',').includes('ro');
  if (
    cloneMax !== undefined &&
    cloneMax !== '' &&
    !c.network &&
    !c.bind &&
    !ro &&
    !isTrue(req.param('force_clones'))
  )
    return {
      rc: OCF.ERR_CONFIGURED,
      reason: `DANGER! ${c.fstype || 'a local file system'} on ${c.deviceParam} is NOT cluster-aware: do not clone it (force_clones=true overrides)`,
    };
  const runFsck = req.param('run_fsck');
  if (!['auto', 'force', 'no'].includes(runFsck))
    return { rc: OCF.ERR_CONFIGURED, reason: `Invalid run_fsck "${runFsck}": use auto, force or no` };
  const fu = req.param('force_unmount');
  if (!['true', 'safe', 'false', 'yes', 'no', '1', '0'].includes(fu))
    return { rc: OCF.ERR_CONFIGURED, reason: `Invalid force_unmount "${fu}": use true, safe or false` };
  for (const b of ['mount', 'umount'])
    if (!haveBinary(b, req.env))
      return { rc: OCF.ERR_INSTALLED, reason: `Setup problem: couldn't find command: ${b}` };
  if (c.tag && !haveBinary('blkid', req.env))
    return { rc: OCF.ERR_INSTALLED, reason: "Setup problem: couldn't find command: blkid" };
  const dirStat = statOf(c.dir);
  if (dirStat !== undefined && !dirStat.dir)
    return { rc: OCF.ERR_ARGS, reason: `Mount point ${c.dir} exists but is not a directory` };
  if (dirStat === undefined && !(forStart && isTrue(req.param('create_directory'))))
    return {
      rc: OCF.ERR_ARGS,
      reason: `Mount point ${c.dir} does not exist (set create_directory=true to have it created)`,
    };
  if (c.fstype !== '' && !c.bind && !(await kernelKnows(req, c.fstype)))
    return {
      rc: OCF.ERR_INSTALLED,
      reason: `Couldn't find filesystem ${c.fstype} in /proc/filesystems and failed to load kernel module`,
    };
  if (c.bind) {
    if (!statOf(c.deviceParam)?.dir)
      return {
        rc: OCF.ERR_INSTALLED,
        reason: `Couldn't find directory [${c.deviceParam}] to use as a bind mount`,
      };
  } else if (c.loop) {
    if (!statOf(c.deviceParam)?.file)
      return { rc: OCF.ERR_INSTALLED, reason: `Couldn't find file [${c.deviceParam}] for the loop mount` };
  } else if (!c.network) {
    const dev = await devicePath(req, c);
    if (dev === undefined)
      return {
        rc: OCF.ERR_INSTALLED,
        reason: `Couldn't find device for ${c.deviceParam} (blkid found none)`,
      };
    if (dev.startsWith('/') && !statOf(dev)?.block && statOf(dev) === undefined)
      return { rc: OCF.ERR_INSTALLED, reason: `Couldn't find device [${dev}]. Expected /dev/??? to exist` };
  }
  return undefined;
}

async function start(req: AgentRequest, c: FsConfig): Promise<AgentResult> {
  const mounts = readMounts();
  const below = mountsBelow(mounts, c.dir);
  if (below.length > 0)
    return {
      rc: OCF.ERR_CONFIGURED,
      reason: `There is one or more mounts mounted under ${c.dir} (${below.map((m) => m.target).join(', ')})`,
    };
  const state = await mountState(req, c, mounts);
  if (state.kind === 'ours') {
    req.io.log('info', `Filesystem ${c.dir} is already mounted.`);
    return { rc: OCF.SUCCESS };
  }
  if (state.kind === 'other') return { rc: OCF.ERR_ARGS, reason: otherReason(c, state.entry) };
  if (state.kind === 'vanished')
    return { rc: OCF.ERR_GENERIC, reason: `${c.dir} is still mounted from ${c.deviceParam}, which is gone` };
  const bad = await validate(req, c, true);
  if (bad) return bad;
  if (statOf(c.dir) === undefined) {
    try {
      mkdirSync(c.dir, { recursive: true, mode: 0o755 });
      req.io.log('info', `Created mount point ${c.dir}`);
    } catch (e) {
      return { rc: OCF.ERR_GENERIC, reason: `Couldn't create mount point ${c.dir}: ${(e as Error).message}` };
    }
  }
  const dev = c.bind || c.network || c.loop ? c.deviceParam : ((await devicePath(req, c)) ?? c.deviceParam);
  if (needsFsck(c, req.param('run_fsck'))) {
    if (!haveBinary('fsck', req.env))
      return { rc: OCF.ERR_INSTALLED, reason: "Setup problem: couldn't find command: fsck" };
    req.io.log('info', `Starting filesystem check on ${dev}`);
    const f = await req.runtime.runTool('fsck', ['-p', ...(c.fstype ? ['-t', c.fstype] : []), dev], {
      signal: req.signal,
    });
    if (f.code >= 4)
      return {
        rc: OCF.ERR_GENERIC,
        reason: `Couldn't successfully fsck filesystem for ${dev} (exit ${f.code})`,
      };
  }
  const args: string[] = [];
  if (c.bind) {
    const opts = c.options.split(',').filter((o) => o !== '' && o !== 'bind' && o !== 'rbind');
    args.push(c.options.split(',').includes('rbind') ? '--rbind' : '--bind', c.deviceParam, c.dir);
    const r = await req.runtime.runTool('mount', args, { signal: req.signal });
    if (r.code !== 0)
      return {
        rc: OCF.ERR_GENERIC,
        reason: `Couldn't mount device [${c.deviceParam}] as ${c.dir}: ${r.stderr.trim()}`,
      };
    // A bind mount takes its options only on a remount (the stock agent does the same for ro).
    if (opts.length > 0) {
      const rr = await req.runtime.runTool('mount', ['-o', `remount,bind,${opts.join(',')}`, c.dir], {
        signal: req.signal,
      });
      if (rr.code !== 0) {
        await req.runtime.runTool('umount', [c.dir], { signal: req.signal });
        return {
          rc: OCF.ERR_GENERIC,
          reason: `Couldn't remount ${c.dir} with ${opts.join(',')}: ${rr.stderr.trim()}`,
        };
      }
    }
  } else {
    if (c.fstype !== '') args.push('-t', c.fstype);
    if (c.options !== '') args.push('-o', c.options);
    args.push(dev, c.dir);
    req.io.log('info', `Running start for ${c.deviceParam} on ${c.dir}`);
    const r = await req.runtime.runTool('mount', args, { signal: req.signal });
    if (r.code !== 0) {
      if (r.stderr !== '') req.io.stderr(r.stderr);
      return { rc: OCF.ERR_GENERIC, reason: `Couldn't mount device [${c.deviceParam}] as ${c.dir}` };
    }
  }
  const after = await mountState(req, c);
  if (after.kind !== 'ours')
    return {
      rc: OCF.ERR_GENERIC,
      reason: `mount reported success, but ${c.dir} is not mounted from ${c.deviceParam}`,
    };
  return { rc: OCF.SUCCESS };
}

function statusFile(req: AgentRequest, c: FsConfig): string {
  const prefix = req.param('statusfile_prefix');
  const clone = req.env['OCF_RESKEY_CRM_meta_clone'];
  const inst = clone !== undefined && clone !== '' ? `${req.instance}_${clone}` : req.instance;
  return `${c.dir}/${prefix}${inst}_${hostname()}`;
}

/** Depth 10: one direct 4 KiB read from the device. Depth 20: a synced write and a read back. */
async function deepCheck(req: AgentRequest, c: FsConfig): Promise<AgentResult> {
  const level = req.checkLevel;
  if (level >= 10 && !c.bind && !c.network && !c.loop) {
    const dev = (await devicePath(req, c)) ?? c.deviceParam;
    if (statOf(dev)?.block) {
      const r = await req.runtime.runTool(
        'dd',
        [`if=${dev}`, 'of=/dev/null', 'iflag=direct', 'bs=4k', 'count=1'],
        {
          signal: req.signal,
          timeoutMs: 30_000,
        },
      );
      if (r.code !== 0 || !/^1\+0 records in$/m.test(r.stderr))
        return {
          rc: OCF.ERR_GENERIC,
          reason: `Failed to read device ${dev}: ${r.stderr.trim().split('\n')[0] ?? ''}`,
        };
    } else {
      req.io.log('warn', `Cannot check read access: ${dev} is not a block device`);
    }
  }
  if (level >= 20) {
    const file = statusFile(req, c);
    const dir = file.slice(0, file.lastIndexOf('/'));
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      return { rc: OCF.ERR_GENERIC, reason: `Failed to create ${dir}: ${(e as Error).message}` };
    }
    const src = `${req.rscTmp}/Filesystem-status-${process.pid}`;
    const werr = writeText(src, `${req.instance}\n`, 0o600);
    if (werr !== undefined) return { rc: OCF.ERR_GENERIC, reason: `Cannot write ${src}: ${werr}` };
    const w = await req.runtime.runTool(
      'dd',
      [`if=${src}`, `of=${file}`, 'oflag=direct', 'bs=4k', 'conv=fsync,sync'],
      { signal: req.signal, timeoutMs: 30_000 },
    );
    removeFile(src);
    if (w.code !== 0)
      return {
        rc: OCF.ERR_GENERIC,
        reason: `Failed to write status file ${file}: ${w.stderr.trim().split('\n').pop() ?? ''}`,
      };
    const r = await req.runtime.runTool(
      'dd',
      [`if=${file}`, 'of=/dev/null', 'iflag=direct', 'bs=4k', 'count=1'],
      {
        signal: req.signal,
        timeoutMs: 30_000,
      },
    );
    if (r.code !== 0 || !/^1\+0 records in$/m.test(r.stderr))
      return { rc: OCF.ERR_GENERIC, reason: `Failed to read status file ${file}` };
  }
  return { rc: OCF.SUCCESS };
}

async function monitor(req: AgentRequest, c: FsConfig): Promise<AgentResult> {
  const state = await mountState(req, c);
  switch (state.kind) {
    case 'unmounted':
      if (req.action === 'monitor' && !req.probe) req.io.log('debug', `${c.dir} is unmounted (stopped)`);
      return { rc: OCF.NOT_RUNNING };
    case 'other':
      req.io.log('warn', otherReason(c, state.entry));
      return { rc: OCF.NOT_RUNNING };
    case 'vanished':
      return {
        rc: OCF.ERR_GENERIC,
        reason: `${c.dir} is mounted from ${c.deviceParam}, but the device has vanished`,
      };
    case 'ours':
      return req.checkLevel > 0 ? deepCheck(req, c) : { rc: OCF.SUCCESS };
  }
}

/** One mount point: umount, and between tries signal its users; TERM rounds, then KILL rounds. */
async function unmountOne(
  req: AgentRequest,
  c: FsConfig,
  target: string,
  timeoutS: number,
): Promise<boolean> {
  const mounted = (): boolean => mountAt(readMounts(), target) !== undefined;
  const force = req.param('force_unmount');
  const kill = force !== 'false' && force !== 'no' && force !== '0';
  const fsType = mountAt(readMounts(), target)?.fstype ?? c.fstype;
  const umountArgs = NETWORK_FS.has(fsType) ? ['-f', target] : [target];
  const rounds = Math.max(1, Math.floor(timeoutS / 2));
  for (const sig of ['TERM', 'KILL'] as const) {
    for (let i = 0; i < rounds; i++) {
      const r = await req.runtime.runTool('umount', umountArgs, { signal: req.signal, timeoutMs: 30_000 });
      if (!mounted()) {
        req.io.log('info', `unmounted ${target} successfully`);
        return true;
      }
      if (req.signal.aborted) return false;
      req.io.log('error', `Couldn't unmount ${target}; trying cleanup with ${sig}`);
      if (r.stderr.trim() !== '') req.io.log('debug', r.stderr.trim());
      if (kill) {
        const dev = statOf(target)?.dev;
        const users =
          c.bind && target === c.dir
            ? mountUsers({ underDir: target })
            : dev === undefined
              ? []
              : mountUsers({ dev });
        if (users.length === 0) req.io.log('info', `No processes on ${target} were signalled.`);
        for (const pid of users) {
          req.io.log('info', `sending signal ${sig} to: ${describeProcess(pid)}`);
          try {
            process.kill(pid, `SIG${sig}`);
          } catch {
            // already gone
          }
        }
      } else {
        req.io.log('info', `No processes on ${target} were signalled. force_unmount is set to '${force}'`);
      }
      if (await sleepMs(1000, req.signal)) return !mounted();
    }
  }
  return !mounted();
}

async function stop(req: AgentRequest, c: FsConfig): Promise<AgentResult> {
  if (c.deviceParam === '' || req.param('directory') === '') {
    // Nothing we could have mounted: stopped (ocf-rarun's rule for a broken environment).
    return { rc: OCF.SUCCESS };
  }
  const mounts = readMounts();
  const state = await mountState(req, c, mounts);
  if (state.kind === 'unmounted') return { rc: OCF.SUCCESS };
  if (state.kind === 'other') {
    req.io.log('warn', `${otherReason(c, state.entry)}: left alone`);
    return { rc: OCF.SUCCESS };
  }
  removeFile(statusFile(req, c));
  const fast = isTrue(req.param('fast_stop'));
  const metaTimeout = Number(req.env['OCF_RESKEY_CRM_meta_timeout'] ?? '');
  const timeoutS = fast ? 6 : Number.isFinite(metaTimeout) && metaTimeout > 0 ? metaTimeout / 1000 : 20;
  const targets = [...mountsBelow(mounts, c.dir).map((m) => m.target), c.dir];
  for (const t of targets) {
    if (!(await unmountOne(req, c, t, timeoutS))) {
      return { rc: OCF.ERR_GENERIC, reason: `Couldn't unmount ${t}, giving up!` };
    }
  }
  // Never report a stop while anything is still mounted there.
  if (mountAt(readMounts(), c.dir) !== undefined)
    return { rc: OCF.ERR_GENERIC, reason: `${c.dir} is still mounted after unmount` };
  return { rc: OCF.SUCCESS };
}

async function run(req: AgentRequest): Promise<AgentResult> {
  const c = configOf(req);
  if (req.action === 'stop') return stop(req, c);
  const problem = configProblem(c.deviceParam, req.param('directory'), req.checkLevel);
  if (problem) return { rc: OCF.ERR_CONFIGURED, reason: problem };
  switch (req.action) {
    case 'start':
      return start(req, c);
    case 'monitor':
      if (req.probe && !haveBinary('mount', req.env)) return { rc: OCF.NOT_RUNNING };
      return monitor(req, c);
    case 'status': {
      const r = await monitor(req, c);
      req.io.stdout(
        r.rc === OCF.SUCCESS ? `${c.dir} is mounted (running)\n` : `${c.dir} is unmounted (stopped)\n`,
      );
      return r;
    }
    default:
      return (await validate(req, c, false)) ?? { rc: OCF.SUCCESS };
  }
}

/** Parameters as the heartbeat wrapper maps `Filesystem::dev::dir[::fstype[::options]]`. */
export function filesystemArgs(args: readonly string[]): Record<string, string> | undefined {
  if (args.length < 2 || args.length > 4) return undefined;
  const [device = '', directory = '', fstype, options] = args;
  return {
    device,
    directory,
    ...(fstype !== undefined ? { fstype } : {}),
    ...(options !== undefined ? { options } : {}),
  };
}

/** The Filesystem agent. heartbeat style: `Filesystem::device::directory[::fstype[::options]]`. */
export const filesystem: Agent = {
  metadata,
  actions: ['start', 'stop', 'monitor', 'status', 'validate-all'],
  run,
  heartbeat: {
    grammar: 'device directory [fstype [options]]',
    parse(args) {
      const reskeys = filesystemArgs(args);
      if (reskeys === undefined) return undefined;
      return { instance: `Filesystem_${reskeys['device']}`, reskeys };
    },
  },
};
