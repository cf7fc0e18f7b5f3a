/**
 * Which built-in agents tsbeat's resource manager runs inside the daemon, and that the others run
 * as their own executable without ever holding up the daemon's event loop.
 *
 * Proves that:
 *  - every registered agent is classified, and exactly the ones that only talk to the kernel
 *    (through helper processes), wait on timers and children, and keep small files in HA_RSCTMP
 *    run in-process; Filesystem, drbddisk, vserver, lxc and ldirectord run out of process;
 *  - no module an in-process agent loads makes a synchronous file-system call other than the
 *    justified ones (HA_RSCTMP files, procfs reads, PATH lookups), read from the sources, so a
 *    new statSync in IPaddr2 fails here; the same check finds Filesystem's;
 *  - the runner's choice: an in-process agent runs in the daemon ("(tsbeat built-in)", via
 *    `builtin`); an out-of-process one spawns `node dist/cli/agent.js hb NAME ...` ("(tsbeat
 *    built-in, own process)", via `builtin-process`), which drbdadm's parent pid shows, with its
 *    exit code and stdout honoured and its status texts judged by heartbeat's rule; its output is
 *    the in-process path's, usage line included; no script in resource.d is needed, and
 *    TSBEAT_SCRIPT_AGENTS still sends the agent to the script;
 *  - while an out-of-process agent is wedged (the test-only `agent-hang` hook blocks the child's
 *    only thread, as a synchronous call on a hung mount would, so it ignores SIGTERM), timers in
 *    the test process keep firing on time, and the deadline kills the child (SIGKILL after the
 *    grace) and fails the action.
 * Stand-ins, named: drbdadm is test/fixtures/agents/fake-drbdadm (STAND-IN: no DRBD here).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  agentCommand,
  agentExecutablePath,
  builtinAgents,
  isInProcessAgent,
  runHeartbeatStyle,
  shutdownBuiltinAgents,
} from '../../../src/agents/builtin.js';
import { heartbeatSaysRunning } from '../../../src/agents/ocf.js';
import { agentNames } from '../../../src/agents/registry.js';
import { type ResourceAction, ResourceRunner, type RunnerLog } from '../../../src/agents/runner.js';
import type { ResourceConfig } from '../../../src/config/model.js';
import { FAULT_ENV } from '../../../src/lib/fault-hooks.js';
import { REPO } from '../../support/cli.js';

const FIX = join(REPO, 'test', 'fixtures', 'agents');
const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-ooproc-'));
afterAll(() => {
  shutdownBuiltinAgents();
  rmSync(tmp, { recursive: true, force: true });
});

const never = new AbortController().signal;

const res = (spec: string): ResourceConfig => {
  const [scriptName, ...args] = spec.split('::');
  return { spec, script: scriptName!, args };
};

function runner(
  env: Record<string, string>,
  extra: Partial<ConstructorParameters<typeof ResourceRunner>[0]> = {},
) {
  const lines: string[] = [];
  const log: RunnerLog = (level, message) => lines.push(`${level}: ${message}`);
  // An empty resource.d: the out-of-process agents must not need a script there.
  const rd = join(tmp, 'empty-resource.d');
  mkdirSync(rd, { recursive: true });
  const r = new ResourceRunner({ scriptDirs: [rd], env, log, builtin: builtinAgents, ...extra });
  return { r, lines };
}

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HA_RSCTMP: join(tmp, 'rsc'),
    HA_DIR: '/etc/ha.d',
    ...extra,
  };
}

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('which built-in agents run inside the daemon', () => {
  it('classifies every registered agent: kernel-only agents in-process, storage and config readers not', () => {
    const where = Object.fromEntries(agentNames().map((n) => [n, isInProcessAgent(n)]));
    expect(where).toEqual({
      IPaddr2: true,
      IPaddr: true,
      IPv6addr: true,
      SendArp: true,
      Dummy: true,
      Filesystem: false,
      drbddisk: false,
      vserver: false,
      lxc: false,
      MailTo: true,
      Delay: true,
      ldirectord: false,
      LVSSyncDaemonSwap: true,
    });
    expect(isInProcessAgent('apache')).toBe(false);
    expect(isInProcessAgent('toString')).toBe(false);
  });

  // The module of each agent (registry.ts imports them from these files).
  const MODULE: Record<string, string> = {
    IPaddr2: 'ipaddr2.ts',
    IPaddr: 'ipaddr.ts',
    IPv6addr: 'ipv6addr.ts',
    SendArp: 'sendarp.ts',
    Dummy: 'dummy.ts',
    Filesystem: 'filesystem.ts',
    drbddisk: 'drbddisk.ts',
    vserver: 'vserver.ts',
    lxc: 'lxc.ts',
    MailTo: 'mailto.ts',
    Delay: 'delay.ts',
    ldirectord: 'ldirectord.ts',
    LVSSyncDaemonSwap: 'lvssyncdaemonswap.ts',
  };
  /**
   * The synchronous fs calls allowed in code an in-process agent loads, each justified where it
   * is made: HA_RSCTMP files on tmpfs (files.ts, IPaddr's alias links), procfs reads of our own
   * helpers (garp.ts, announce.ts), PATH lookups of system programs (runtime.ts haveBinary).
   */
  const ALLOWED: Record<string, readonly string[]> = {
    'src/agents/files.ts': [
      'closeSync',
      'mkdirSync',
      'openSync',
      'readFileSync',
      'statSync',
      'unlinkSync',
      'utimesSync',
      'writeFileSync',
    ],
    'src/agents/ipaddr.ts': ['readdirSync', 'linkSync'],
    'src/agents/garp.ts': ['readFileSync'],
    'src/agents/announce.ts': ['readFileSync'],
    'src/agents/runtime.ts': ['statSync'],
  };

  /** Every source file a module loads (value imports, relative), itself included. */
  function closure(entry: string): string[] {
    const seen = new Set<string>();
    const queue = [resolve(REPO, entry)];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'(\.[^']+)\.js';/gms))
        queue.push(resolve(dirname(file), `${m[1]}.ts`));
    }
    return [...seen].map((f) => relative(REPO, f)).sort();
  }

  /** Synchronous fs calls outside ALLOWED, as "file: name". */
  function unjustifiedSyncCalls(entry: string): string[] {
    const out: string[] = [];
    for (const file of closure(entry)) {
      const text = readFileSync(join(REPO, file), 'utf8');
      const calls = new Set([...text.matchAll(/\b([a-z][A-Za-z]*Sync)\(/g)].map((m) => m[1]!));
      for (const c of calls) if (!(ALLOWED[file] ?? []).includes(c)) out.push(`${file}: ${c}`);
    }
    return out.sort();
  }

  it.each(agentNames().filter((n) => isInProcessAgent(n)))(
    'in-process %s loads no unjustified synchronous fs call',
    (name) => {
      expect(unjustifiedSyncCalls(`src/agents/${MODULE[name]}`)).toEqual([]);
    },
  );

  it('the same check finds the calls that keep Filesystem, vserver and ldirectord out of the daemon', () => {
    expect(unjustifiedSyncCalls('src/agents/filesystem.ts')).toEqual(
      expect.arrayContaining([
        'src/agents/filesystem.ts: statSync',
        'src/agents/mounts.ts: readdirSync',
        'src/agents/mounts.ts: realpathSync',
        'src/agents/mounts.ts: statSync',
      ]),
    );
    expect(unjustifiedSyncCalls('src/agents/vserver.ts')).toContain('src/agents/vserver.ts: readdirSync');
    expect(unjustifiedSyncCalls('src/agents/ldirectord.ts')).toContain('src/agents/ldirectord.ts: rmSync');
  });
});

describe("the agent's own executable", () => {
  it('is what resource.d/NAME runs: this node, the built agent.js, TSBEAT_ARGV0, no extra CA bundle', () => {
    const c = agentCommand('Filesystem', {
      PATH: '/bin',
      HA_DIR: '/etc/ha.d',
      NODE_EXTRA_CA_CERTS: '/x.pem',
    });
    expect(c.file).toBe(process.execPath);
    expect(c.args).toEqual([agentExecutablePath(), 'hb', 'Filesystem']);
    expect(agentExecutablePath()).toBe(join(REPO, 'dist', 'cli', 'agent.js'));
    expect(existsSync(agentExecutablePath())).toBe(true);
    expect(c.env).toEqual({
      PATH: '/bin',
      HA_DIR: '/etc/ha.d',
      TSBEAT_ARGV0: '/etc/ha.d/resource.d/Filesystem',
    });
    // The shim does the same (src/cli/install-agents.ts shimText, resource.d/*).
    expect(readFileSync(join(REPO, 'resource.d', 'Filesystem'), 'utf8')).toMatch(
      /js=\$root\/dist\/cli\/agent\.js\n[\s\S]*TSBEAT_ARGV0=\$0\n[\s\S]*unset NODE_EXTRA_CA_CERTS\n[\s\S]*"\$js" hb Filesystem "\$@"/,
    );
  });

  it("passes the daemon's test-only TSBEAT_TEST_FAULT on (script environments do not carry it)", () => {
    const saved = process.env[FAULT_ENV];
    process.env[FAULT_ENV] = 'agent-hang:drbddisk';
    try {
      expect(agentCommand('drbddisk', { PATH: '/bin' }).env[FAULT_ENV]).toBe('agent-hang:drbddisk');
    } finally {
      if (saved === undefined) delete process.env[FAULT_ENV];
      else process.env[FAULT_ENV] = saved;
    }
    expect(agentCommand('drbddisk', { PATH: '/bin' }).env[FAULT_ENV]).toBe(saved);
  });
});

describe("the runner's choice", () => {
  it('runs an in-process agent in the daemon, with the in-process label', async () => {
    const { r, lines } = runner(baseEnv());
    const out = await r.run(res('Dummy::inproc'), 'start', never);
    expect(out).toMatchObject({ rc: 0, via: 'builtin' });
    expect(lines).toContain('info: Running Dummy (tsbeat built-in) inproc start');
    expect(r.locate('Dummy')).toEqual({ kind: 'builtin', inProcess: true });
    expect(r.locate('drbddisk')).toEqual({ kind: 'builtin', inProcess: false });
  });

  it('spawns an out-of-process agent and honours its exit codes, stdout and status texts', async () => {
    const dir = join(tmp, 'drbd');
    mkdirSync(dir, { recursive: true });
    // Records who ran drbdadm: the agent's process, not the daemon (the test process here).
    const wrap = join(tmp, 'drbdadm-wrap');
    writeFileSync(wrap, `#!/bin/sh\necho $PPID >> ${dir}/ppids\nexec ${FIX}/fake-drbdadm "$@"\n`);
    chmodSync(wrap, 0o755);
    const { r, lines } = runner(baseEnv({ FAKE_DRBD_DIR: dir, OCF_RESKEY_drbdadm: wrap }));
    const seq: [ResourceAction, number, string, boolean | undefined, string][] = [];
    for (const action of ['status', 'start', 'status', 'stop', 'status'] as const) {
      const o = await r.run(res('drbddisk::r0'), action, never);
      seq.push([action, o.rc, o.stdout, o.running, o.via]);
    }
    expect(seq).toEqual([
      ['status', 3, 'stopped (Secondary)\n', false, 'builtin-process'],
      ['start', 0, '', undefined, 'builtin-process'],
      ['status', 0, 'running (Primary)\n', true, 'builtin-process'],
      ['stop', 0, '', undefined, 'builtin-process'],
      ['status', 3, 'stopped (Secondary)\n', false, 'builtin-process'],
    ]);
    expect(lines).toContain('info: Running drbddisk (tsbeat built-in, own process) r0 start');
    expect(lines).toContain('info: Running drbddisk (tsbeat built-in, own process) r0 stop');
    const ppids = readFileSync(join(dir, 'ppids'), 'utf8').trim().split('\n').map(Number);
    expect(ppids.length).toBeGreaterThanOrEqual(5);
    expect(ppids).not.toContain(process.pid);
    expect(new Set(ppids).size).toBeGreaterThanOrEqual(5); // one process per action
    // A non-zero exit code is the action's result (drbddisk's 10: no resource for status).
    const all = await r.run(res('drbddisk'), 'status', never);
    expect(all).toMatchObject({ rc: 10, via: 'builtin-process', running: false });
    expect(all.stdout).toBe('A resource name is required for status inquiries.\n');
    expect(lines).not.toContain('error: Return code 10 from drbddisk (tsbeat built-in, own process)');
    expect(await r.run(res('drbddisk::r0'), 'stop', never)).toMatchObject({ rc: 0 });
    writeFileSync(join(dir, 'fail_secondary'), '99\n');
    expect((await r.run(res('drbddisk::r0'), 'start', never)).rc).toBe(0);
    const failed = await r.run(res('drbddisk::r0'), 'stop', never);
    expect(failed.rc).toBe(1);
    expect(lines).toContain('error: Return code 1 from drbddisk (tsbeat built-in, own process)');
    expect(heartbeatSaysRunning((await r.run(res('drbddisk::r0'), 'status', never)).stdout)).toBe(true);
  }, 120_000);

  it("gives the output the in-process path gives, usage line with heartbeat's script path included", async () => {
    const env = baseEnv();
    const { r } = runner(env);
    for (const [spec, action] of [
      ['Filesystem::/dev/tsbeat-none', 'start'],
      [`Filesystem::/dev/tsbeat-none::${join(tmp, 'mnt')}::ext4`, 'status'],
    ] as const) {
      const rr = res(spec);
      const out = await r.run(rr, action, never);
      const inProc = await runHeartbeatStyle(rr.script, rr.args, action, {
        env,
        signal: never,
        log: () => {},
      });
      expect(out.via).toBe('builtin-process');
      expect([out.rc, out.stdout]).toEqual([inProc.rc, inProc.stdout]);
    }
    const usage = await r.run(res('Filesystem::/dev/tsbeat-none'), 'start', never);
    expect(usage.stdout).toMatch(/^usage: \/etc\/ha\.d\/resource\.d\/Filesystem /);
  }, 60_000);

  it('TSBEAT_SCRIPT_AGENTS still sends a built-in agent to its script', async () => {
    const rd = join(tmp, 'own-resource.d');
    mkdirSync(rd, { recursive: true });
    writeFileSync(join(rd, 'drbddisk'), '#!/bin/sh\necho "the operator\'s drbddisk $*"\n');
    chmodSync(join(rd, 'drbddisk'), 0o755);
    const { r, lines } = runner(baseEnv(), { scriptDirs: [rd], external: new Set(['drbddisk']) });
    const out = await r.run(res('drbddisk::r0'), 'start', never);
    expect(out).toMatchObject({
      rc: 0,
      stdout: "the operator's drbddisk r0 start\n",
      via: join(rd, 'drbddisk'),
    });
    expect(lines).toContain(`info: Running ${join(rd, 'drbddisk')} r0 start`);
  });
});

describe('a wedged out-of-process agent', () => {
  it('does not hold up the event loop, and the deadline kills it', async () => {
    const logfile = join(tmp, 'hang.log');
    const timeoutMs = 1500;
    const graceMs = 500;
    const { r, lines } = runner(
      baseEnv({ HA_LOGFILE: logfile, [FAULT_ENV]: 'agent-hang:Filesystem:start' }),
      {
        timeoutMs: { start: timeoutMs },
        killGraceMs: graceMs,
      },
    );
    // A 20 ms timer stands for the heartbeat: how late does it ever fire while the agent hangs?
    const periodMs = 20;
    let last = performance.now();
    let worstLateMs = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worstLateMs = Math.max(worstLateMs, now - last - periodMs);
      last = now;
      ticks++;
    }, periodMs);
    const t0 = performance.now();
    let out: Awaited<ReturnType<ResourceRunner['run']>>;
    try {
      out = await r.run(res(`Filesystem::/dev/tsbeat-none::${join(tmp, 'mnt')}::ext4`), 'start', never);
    } finally {
      clearInterval(timer);
    }
    const tookMs = performance.now() - t0;
    expect(out).toMatchObject({ rc: 1, timedOut: true, via: 'builtin-process' });
    expect(out.abandoned).toBeUndefined();
    // SIGTERM at the deadline did not end it (its thread is blocked); SIGKILL after the grace did.
    expect(tookMs).toBeGreaterThanOrEqual(timeoutMs + graceMs - 50);
    expect(tookMs).toBeLessThan(timeoutMs + graceMs + 5000);
    expect(lines).toContain(
      `error: Filesystem (tsbeat built-in, own process) /dev/tsbeat-none ${join(tmp, 'mnt')} ext4 start timed out after ${timeoutMs} ms; its process group was killed`,
    );
    // The hook fired in the child (it logs to HA_LOGFILE with its pid), and the child is gone.
    const hung =
      /Filesystem\(\)\[(\d+)\]: +WARNING: test fault hook agent-hang: Filesystem .* start will never finish/.exec(
        readFileSync(logfile, 'utf8'),
      );
    expect(hung).not.toBeNull();
    const pid = Number(hung![1]);
    expect(pid).not.toBe(process.pid);
    expect(alive(pid)).toBe(false);
    // Timers kept firing: a blocked loop would show one gap of about 2 s and few ticks.
    expect(worstLateMs).toBeLessThan(300);
    expect(ticks).toBeGreaterThan(tookMs / periodMs / 3);
  }, 60_000);
});
