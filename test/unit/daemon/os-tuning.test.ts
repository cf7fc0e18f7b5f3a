/**
 * `realtime`, `rtprio` and `coredumps` as tsbeat applies them (src/daemon/os-tuning.ts).
 * With a scripted outside world it proves, case by case, which commands are run and which
 * log lines come back: SCHED_RR at rtprio (default 1) through chrt on every thread with
 * reset-on-fork, checked against what the kernel then reports; nice -10 and a warning
 * naming the reason when chrt is missing, fails, or the kernel has RT throttling off;
 * nothing for `realtime off`; a warning when node runs without DAEMON_NODE_FLAGS (GC threads);
 * prlimit for core files, heartbeat's three core_pattern
 * warnings on kernel defaults; that memory locking is always said to be missing; and that
 * nothing throws. As root it then runs the built module in a child Node process on itself:
 * the kernel reports SCHED_RR at the asked priority for its threads, an unlimited core
 * size, and a program that child starts runs at normal priority.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyOsTuning,
  DAEMON_NODE_FLAGS,
  type OsDeps,
  type RunResult,
} from '../../../src/daemon/os-tuning.js';
import { REPO } from '../../support/cli.js';

interface World {
  throttle?: string;
  chrt?: RunResult;
  prlimit?: RunResult;
  /** policy, rt_priority reported for each thread after chrt. */
  threads?: [number, number][];
  coreLimit?: string;
  corePattern?: string;
  coreUsesPid?: string;
  niceFails?: boolean;
  /** node options of the process (default: the daemon's DAEMON_NODE_FLAGS). */
  execArgv?: string[];
}

function fakeDeps(w: World): { deps: OsDeps; calls: string[] } {
  const calls: string[] = [];
  const statLine = (policy: number, prio: number) => {
    // pid (comm, with blanks and a parenthesis) state, then fields 4..; 40 rt_priority, 41 policy.
    const f = Array.from({ length: 49 }, () => '0');
    f[40 - 4] = String(prio);
    f[41 - 4] = String(policy);
    return `4242 (node (main) x) S ${f.join(' ')}\n`;
  };
  const deps: OsDeps = {
    pid: 4242,
    run: async (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      return (cmd === 'chrt' ? w.chrt : w.prlimit) ?? { code: 0, stderr: '' };
    },
    readText: async (path) => {
      if (path === '/proc/sys/kernel/sched_rt_runtime_us') return w.throttle ?? '950000\n';
      if (path === '/proc/sys/kernel/core_pattern')
        return w.corePattern ?? '|/usr/lib/systemd/systemd-coredump %P\n';
      if (path === '/proc/sys/kernel/core_uses_pid') return w.coreUsesPid ?? '0\n';
      if (path === '/proc/4242/limits')
        return `Limit                     Soft Limit           Hard Limit           Units\nMax core file size        ${w.coreLimit ?? 'unlimited            unlimited'}            bytes\n`;
      const m = /^\/proc\/4242\/task\/(\d+)\/stat$/.exec(path);
      if (m) {
        const t = (w.threads ?? [[2, 1]])[Number(m[1]) - 1];
        return t ? statLine(t[0], t[1]) : undefined;
      }
      return undefined;
    },
    threads: async () => (w.threads ?? [[2, 1]]).map((_, i) => i + 1),
    setNice: (_pid, nice) => {
      calls.push(`nice ${nice}`);
      if (w.niceFails) throw new Error('EACCES: permission denied');
    },
    execArgv: w.execArgv ?? [...DAEMON_NODE_FLAGS],
  };
  return { deps, calls };
}

const CHRT = (prio: number) => `chrt --all-tasks --reset-on-fork --rr --pid ${prio} 4242`;
const PRLIMIT = 'prlimit --core=unlimited:unlimited --pid 4242';

describe('applyOsTuning', () => {
  it.each<[string, { realtime: boolean; rtprio?: number; coredumps: boolean }, World, string[], RegExp[]]>([
    [
      'heartbeat defaults: SCHED_RR 1, core files unlimited',
      { realtime: true, coredumps: true },
      {
        threads: [
          [2, 1],
          [2, 1],
          [2, 1],
        ],
      },
      [CHRT(1), PRLIMIT],
      [
        /^info: realtime: SCHED_RR priority 1 applied \(3 of 3 threads; programs tsbeat starts run at normal priority\); memory not locked \(Node cannot mlockall\)$/,
        /^info: coredumps: core file size limit raised to unlimited$/,
      ],
    ],
    [
      'rtprio 50',
      { realtime: true, rtprio: 50, coredumps: false },
      { threads: [[2, 50]] },
      [CHRT(50)],
      [/^info: realtime: SCHED_RR priority 50 applied \(1 of 1 threads/, /^info: coredumps: off in ha.cf/],
    ],
    [
      'realtime off: no chrt, no nice',
      { realtime: false, coredumps: false },
      {},
      [],
      [/^info: realtime: off in ha.cf; normal scheduling$/, /^info: coredumps: off/],
    ],
    [
      'chrt not installed: nice -10',
      { realtime: true, coredumps: false },
      { chrt: { code: null, stderr: '', error: 'ENOENT' } },
      [CHRT(1), 'nice -10'],
      [
        /^warn: realtime: SCHED_RR not applied \(chrt is not installed \(apt-get install util-linux\)\); running at nice -10 instead; memory not locked/,
        /^info: coredumps: off in ha.cf; core file size limit left as it is$/,
      ],
    ],
    [
      'chrt refused (no CAP_SYS_NICE)',
      { realtime: true, coredumps: false },
      { chrt: { code: 1, stderr: "chrt: failed to set pid 4242's policy: Operation not permitted\n" } },
      [CHRT(1), 'nice -10'],
      [
        /^warn: realtime: SCHED_RR not applied \(chrt failed \(status 1\): chrt: failed to set pid 4242's policy: Operation not permitted\)/,
        /^info: coredumps: off in ha.cf; core file size limit left as it is$/,
      ],
    ],
    [
      'chrt claims success but nothing changed',
      { realtime: true, coredumps: false },
      { threads: [[0, 0]] },
      [CHRT(1), 'nice -10'],
      [
        /^warn: realtime: SCHED_RR not applied \(chrt succeeded but the kernel reports no thread at SCHED_RR 1\)/,
        /^info: coredumps: off in ha.cf; core file size limit left as it is$/,
      ],
    ],
    [
      'RT throttling off: refuses SCHED_RR',
      { realtime: true, coredumps: false },
      { throttle: '-1\n' },
      ['nice -10'],
      [
        /^warn: realtime: SCHED_RR not applied \(the kernel does not throttle real-time tasks \(kernel.sched_rt_runtime_us = -1\)/,
        /^info: coredumps: off in ha.cf; core file size limit left as it is$/,
      ],
    ],
    [
      'nice refused too',
      { realtime: true, coredumps: false },
      { throttle: '-1', niceFails: true },
      ['nice -10'],
      [
        /^warn: realtime: SCHED_RR not applied .*, nor nice -10 \(EACCES: permission denied\); normal scheduling; memory not locked/,
        /^info: coredumps: off in ha.cf; core file size limit left as it is$/,
      ],
    ],
    [
      'node started without --single-threaded-gc: SCHED_RR applied, and a warning that GC threads can hold heartbeats up',
      { realtime: true, coredumps: false },
      { execArgv: ['--max-old-space-size=64'] },
      [CHRT(1)],
      [
        /^info: realtime: SCHED_RR priority 1 applied \(1 of 1 threads/,
        /^warn: realtime: node was started without --single-threaded-gc: heartbeats can wait for garbage collector threads under CPU load \(start tsbeat through the tsbeat command, or run node --single-threaded-gc\)$/,
        /^info: coredumps: off in ha.cf/,
      ],
    ],
    [
      'realtime off: no warning about node options',
      { realtime: false, coredumps: false },
      { execArgv: [] },
      [],
      [/^info: realtime: off in ha.cf; normal scheduling$/, /^info: coredumps: off/],
    ],
    [
      "prlimit missing, kernel default core_pattern: heartbeat's three warnings",
      { realtime: false, coredumps: true },
      {
        prlimit: { code: null, stderr: '', error: 'ENOENT' },
        coreLimit: '0 unlimited',
        corePattern: 'core\n',
        coreUsesPid: '0\n',
      },
      [PRLIMIT],
      [
        /^info: realtime: off/,
        /^warn: coredumps: core file size limit not raised \(prlimit is not installed .*\); run "ulimit -c unlimited" before tsbeat start$/,
        /^warn: Core dumps could be lost if multiple dumps occur\.$/,
        /^warn: Consider setting non-default value in \/proc\/sys\/kernel\/core_pattern/,
        /^warn: Consider setting \/proc\/sys\/kernel\/core_uses_pid/,
      ],
    ],
  ])('%s', async (_name, req, world, commands, lines) => {
    const { deps, calls } = fakeDeps(world);
    const out = await applyOsTuning(req, deps);
    expect(calls.sort()).toEqual([...commands].sort());
    const text = out.map((l) => `${l.level}: ${l.text}`);
    expect(text).toHaveLength(lines.length);
    for (const [i, re] of lines.entries()) expect(text[i]).toMatch(re);
  });

  it('never throws, even when the world does', async () => {
    const { deps } = fakeDeps({});
    const broken: OsDeps = {
      ...deps,
      run: async () => {
        throw new Error('boom');
      },
    };
    const out = await applyOsTuning({ realtime: true, coredumps: true }, broken);
    expect(out.map((l) => l.text)).toEqual(['realtime: not applied (boom)', 'coredumps: not applied (boom)']);
  });
});

describe('on this machine (root): the kernel agrees', () => {
  const root = process.getuid?.() === 0;
  it.skipIf(!root)(
    'a Node process runs itself at SCHED_RR 3 with unlimited core size; its children do not inherit RR',
    () => {
      const module = join(REPO, 'dist', 'daemon', 'os-tuning.js');
      expect(existsSync(module), 'run "npm run build" first').toBe(true);
      const script = `
      const { applyOsTuning } = await import(${JSON.stringify(module)});
      const fs = await import('node:fs');
      const { execFileSync } = await import('node:child_process');
      const lines = await applyOsTuning({ realtime: true, rtprio: 3, coredumps: true });
      for (const l of lines) console.log('LINE ' + l.level + ': ' + l.text);
      const sched = (stat) => { const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); return f[38] + '/' + f[37]; };
      const tasks = fs.readdirSync('/proc/self/task');
      console.log('MAIN ' + sched(fs.readFileSync('/proc/self/stat', 'utf8')));
      console.log('CHILD ' + sched(execFileSync('cat', ['/proc/self/stat'], { encoding: 'utf8' })));
      console.log('CORE ' + fs.readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max core')));
    `;
      const r = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(
        /^LINE info: realtime: SCHED_RR priority 3 applied \(\d+ of \d+ threads; programs tsbeat starts run at normal priority\); memory not locked/m,
      );
      expect(r.stdout).not.toMatch(/^LINE warn: realtime/m);
      expect(r.stdout).toMatch(/^LINE info: coredumps: core file size limit raised to unlimited$/m);
      expect(r.stdout).toMatch(/^MAIN 2\/3$/m); // policy SCHED_RR (2), rt_priority 3
      expect(r.stdout).toMatch(/^CHILD 0\/0$/m); // SCHED_OTHER: reset on fork
      expect(r.stdout).toMatch(/^CORE Max core file size\s+unlimited\s+unlimited/m);
    },
  );
});
