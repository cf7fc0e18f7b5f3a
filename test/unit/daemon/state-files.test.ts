/**
 * The generation and uuid files (src/daemon/state-files.ts), on the failure paths an
 * operator meets. Each file-system step of a durable write (mkdir, create, write, fsync,
 * close, rename, directory fsync) is made to fail in turn through an injected file system
 * over a real temporary directory: the error names the file, the step and a fix for the
 * errno, no `.tmpPID` file is left, and the previous content survives. A real full disk is
 * then used: a 16 KiB tmpfs, filled, in a private mount namespace (root only), where the
 * built daemon module must fail with ENOSPC the same way. Temporaries left by a killed
 * process are removed at the next start unless their process still runs. `uuidfrom
 * nodename` gives the uuids the real heartbeat 3.0.6 was seen sending (node1, node2; see
 * test/interop/compression.test.ts), and glibc's rand() is reproduced for seeds taken from
 * libc itself, including seeds above 2^31.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { glibcRandom, nodenameSeed, uuidFromNodename } from '../../../src/config/node-uuid.js';
import {
  nextGeneration,
  nodeUuid,
  removeStaleTemporaries,
  StateFileError,
  type StateFs,
  systemStateFs,
  writeDurably,
} from '../../../src/daemon/state-files.js';
import { REPO } from '../../support/cli.js';

const tmp = fs.mkdtempSync(join(tmpdir(), 'tsbeat-state-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const d = join(tmp, `d${n++}`);
  fs.mkdirSync(d);
  return d;
};

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** The real file system, with the `nth` call of `op` (counting from 1) failing with `code`. */
function failing(op: keyof StateFs, code: string, nth = 1): StateFs {
  let calls = 0;
  return new Proxy(systemStateFs, {
    get(target, prop, recv) {
      const real = Reflect.get(target, prop, recv) as (...a: unknown[]) => unknown;
      if (prop !== op) return real;
      return (...args: unknown[]) => {
        calls++;
        if (calls === nth) throw errno(code, 'injected failure');
        return real(...args);
      };
    },
  });
}

describe('a durable write that fails', () => {
  it.each([
    ['mkdirSync', 1, 'EACCES', /\(create directory .*\/sub\): EACCES: injected failure; run tsbeat as root/],
    ['openSync', 1, 'EROFS', /\(create .*hb_generation\.tmp\d+\): EROFS: .*read-only file system: remount/],
    [
      'writeSync',
      1,
      'ENOSPC',
      /\(write .*hb_generation\.tmp\d+\): ENOSPC: .*; free space on the file system that holds /,
    ],
    ['fsyncSync', 1, 'EIO', /\(fsync .*hb_generation\.tmp\d+\): EIO: .*I\/O error \(see dmesg\)/],
    ['closeSync', 1, 'EIO', /\(close .*hb_generation\.tmp\d+\): EIO/],
    ['renameSync', 1, 'EDQUOT', /\(rename .*hb_generation\.tmp\d+ to hb_generation\): EDQUOT: .*quota/],
    ['openSync', 2, 'EMFILE', /\(fsync directory .*\/sub\): EMFILE: .*; check .*\/sub/],
    ['fsyncSync', 2, 'EIO', /\(fsync directory .*\/sub\): EIO/],
  ] as const)('%s (call %i) with %s: names file, step and fix; leaves no temporary', (op, nth, code, re) => {
    const dir = join(freshDir(), 'sub');
    const file = join(dir, 'hb_generation');
    if (op !== 'mkdirSync') {
      fs.mkdirSync(dir);
      fs.writeFileSync(file, '             41\n');
    }
    let caught: unknown;
    try {
      nextGeneration(file, 'file', 1000, failing(op, code, nth));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StateFileError);
    const err = caught as StateFileError;
    expect(err.message).toMatch(new RegExp(`^cannot write ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
    expect(err.message).toMatch(re);
    expect(err.code).toBe(code);
    if (op !== 'mkdirSync') {
      expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
      // Before the rename the old counter is untouched; after it the new one is complete.
      const after = fs.readFileSync(file, 'latin1');
      expect(['             41\n', '             42\n']).toContain(after);
    }
  });

  it('creates missing directories level by level, and gives up where the file system refuses', () => {
    const nested = join(freshDir(), 'a', 'b', 'c', 'hb_generation');
    expect(nextGeneration(nested, 'file', 99)).toEqual({ generation: 100, fresh: true });
    // /proc refuses new directories with ENOENT, which makes Node's own recursive mkdir loop
    // forever; this must return at once with the file, the step and a fix.
    expect(() => nextGeneration('/proc/tsbeat-no-such-dir/hb_generation', 'file', 1)).toThrow(
      /^cannot write \/proc\/tsbeat-no-such-dir\/hb_generation \(create directory \/proc\/tsbeat-no-such-dir\): ENOENT: no such file or directory; create \/proc\/tsbeat-no-such-dir as a directory, or point TSBEAT_STATEDIR at one$/,
    );
  });

  it('a directory fsync the file system does not support is not a failure', () => {
    const dir = freshDir();
    const file = join(dir, 'hb_uuid');
    writeDurably(file, new Uint8Array(16).fill(7), 0o644, failing('fsyncSync', 'EINVAL', 2));
    expect(fs.readFileSync(file)).toEqual(Buffer.alloc(16, 7));
  });
});

describe('a full disk (real ENOSPC on a 16 KiB tmpfs in a private mount namespace)', () => {
  const root = process.getuid?.() === 0;
  it.skipIf(!root)('nextGeneration fails with file, step and fix, and leaves no temporary', () => {
    const mnt = freshDir();
    const module = join(REPO, 'dist', 'daemon', 'state-files.js');
    expect(fs.existsSync(module), 'run "npm run build" first').toBe(true);
    const script = `
      const m = await import(${JSON.stringify(module)});
      try { m.nextGeneration(${JSON.stringify(`${mnt}/state/hb_generation`)}, 'file', 1000); console.log('NO ERROR'); }
      catch (e) { console.log('ERROR ' + e.name + ': ' + e.message); }
      const fs = await import('node:fs');
      console.log('LEFT ' + fs.readdirSync(${JSON.stringify(`${mnt}/state`)}).join(' '));`;
    const r = spawnSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount -t tmpfs -o size=16k tsbeat-full "$1" && mkdir "$1/state" && (dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; true) && exec "$2" --input-type=module -e "$3"`,
        'sh',
        mnt,
        process.execPath,
        script,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      new RegExp(
        `ERROR StateFileError: cannot write ${mnt}/state/hb_generation \\((write|create) ${mnt}/state/hb_generation\\.tmp\\d+\\): ENOSPC: no space left on device; free space on the file system that holds ${mnt}/state`,
      ),
    );
    expect(r.stdout).toMatch(/^LEFT $/m);
    // The mount was private to the child: nothing is left mounted here.
    expect(fs.readdirSync(mnt)).toEqual([]);
  });
});

describe('temporaries of a killed writer', () => {
  it('are removed at the next start, unless their process still runs', () => {
    const dir = freshDir();
    const file = join(dir, 'hb_generation');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    }).stdout;
    fs.writeFileSync(`${file}.tmp${dead}`, 'half');
    fs.writeFileSync(`${file}.tmp${process.ppid}`, 'a live writer');
    fs.writeFileSync(`${file}.tmpx`, 'not ours');
    const r = nextGeneration(file, 'file', 5000);
    expect(r).toEqual({ generation: 5001, fresh: true });
    expect(fs.readdirSync(dir).sort()).toEqual(
      ['hb_generation', `hb_generation.tmp${process.ppid}`, 'hb_generation.tmpx'].sort(),
    );
    expect(removeStaleTemporaries(file)).toEqual([]);
  });
});

describe('generation file content', () => {
  it('counts on from the stored value', () => {
    const file = join(freshDir(), 'hb_generation');
    fs.writeFileSync(file, '              7\n');
    expect(nextGeneration(file, 'file', 1000)).toEqual({ generation: 8, fresh: false });
    expect(fs.readFileSync(file, 'latin1')).toBe('              8\n');
  });
  it('says why a file that exists is not used', () => {
    const file = join(freshDir(), 'hb_generation');
    fs.writeFileSync(file, 'garbage\x1b[2J');
    const r = nextGeneration(file, 'file', 1000);
    expect(r.generation).toBe(1001);
    expect(r.fresh).toBe(true);
    expect(r.problem).toMatch(/hb_generation does not hold a generation number \("garbage\\u001b\[2J"\)/);
  });
});

describe('node uuid', () => {
  it('uuidfrom file: created once, then read; a longer file gives its first 16 bytes', () => {
    const file = join(freshDir(), 'hb_uuid');
    const a = nodeUuid(file);
    expect(a.created).toBe(true);
    expect(nodeUuid(file)).toEqual({ uuid: a.uuid, created: false });
    fs.writeFileSync(file, Buffer.concat([Buffer.alloc(16, 0xab), Buffer.from('trailing')]));
    expect(Buffer.from(nodeUuid(file).uuid)).toEqual(Buffer.alloc(16, 0xab));
  });

  it('uuidfrom nodename: the uuid heartbeat 3.0.6 sends, without touching hb_uuid', () => {
    const file = join(freshDir(), 'hb_uuid');
    const r = nodeUuid(file, { uuidfrom: 'nodename', nodename: 'node1' });
    // Captured from the real heartbeat's srcuuid in two runs with different hb_uuid files.
    expect(Buffer.from(r.uuid).toString('hex')).toBe('90b8de7708c87a6cfef1993a43051dba');
    expect(r.seed).toBe(104993391);
    expect(r.created).toBe(false);
    expect(fs.existsSync(file)).toBe(false);
    expect(Buffer.from(uuidFromNodename('node2')).toString('hex')).toBe('f3727cf5aae82f22b5f603e93235dadc');
  });

  it.each([
    // Seeds above 2^31 (a negative int in heartbeat's hash) and the empty name (seed 0).
    ['node-number-1', 4231637528, '8c557115c096cf7a80ee0dfd8c6bb343'],
    ['alpha', 92909918, 'cc301fda9190a843de51a987ec340ccc'],
    ['', 0, '76931fac9dab2b36c248b87d6ae33f9a'],
  ])('name %j: seed %i, uuid %s (glibc srand/rand computed by libc)', (name, seed, hex) => {
    expect(nodenameSeed(name)).toBe(seed);
    expect(Buffer.from(uuidFromNodename(name)).toString('hex')).toBe(hex);
  });

  it.each([
    [0, [1804289383, 846930886, 1681692777, 628175011, 1656478042]],
    [2, [1505335290, 1738766719, 190686788, 578248473, 1596076397]],
    [12345, [383100999, 858300821, 357768173, 837983241, 2048358883]],
    [2147483647, [1065668062, 2142264300, 1066566375, 1026638805, 2078819896]],
    [2147483648, [1336741213, 1210407648, 1447044896, 728968744, 1832059940]],
    [3000000000, [2058147116, 854483408, 922419988, 1520019235, 1128620477]],
    [4294967295, [254925627, 1205188300, 366127624, 1755607549, 1763396188]],
  ])('glibc rand() after srand(%i): outputs 1, 2, 3, 39, 40 as libc gives them', (seed, want) => {
    const r = glibcRandom(seed);
    const v = Array.from({ length: 40 }, () => r());
    expect([v[0], v[1], v[2], v[38], v[39]]).toEqual(want);
  });
});
