/**
 * The resource runner: how tsbeat runs a haresources resource as heartbeat does. Proves that
 * scripts are found in resource.d before /etc/init.d, built-in agents win unless the operator
 * names them in TSBEAT_SCRIPT_AGENTS, arguments come in haresources order with the action
 * last, the environment is heartbeat's, `status` is judged by heartbeat's stdout rule (never
 * the exit code), a script that hangs is killed with its whole process group, and a missing
 * script is an error in the log, not a crash.
 *
 * Deadlines that hold whatever the agent does: a built-in agent that never settles and ignores
 * its abort is left behind at deadline + grace (measured against a bound, with a fake agent
 * whose promise the test controls), and the resource is refused every later action — status
 * answers "unknown", never "not running" — until that action ends; a script that ignores
 * SIGTERM is ended by SIGKILL; a script whose grandchild (in a session of its own, out of reach
 * of the group kill) keeps stdout open still settles, both when it times out and when it
 * finishes normally, and in the latter case the grandchild (a daemon it started) is left alone.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinAgents, shutdownBuiltinAgents } from '../../../src/agents/builtin.js';
import {
  type BuiltinAgents,
  ResourceRunner,
  type RunnerLog,
  scriptEnvironment,
} from '../../../src/agents/runner.js';
import type { ResourceConfig } from '../../../src/config/model.js';
import { FAULT_ENV } from '../../../src/lib/fault-hooks.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-runner-'));
afterAll(() => {
  shutdownBuiltinAgents();
  rmSync(tmp, { recursive: true, force: true });
});

const rd = join(tmp, 'resource.d');
const initd = join(tmp, 'init.d');
mkdirSync(rd);
mkdirSync(initd);

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const res = (spec: string): ResourceConfig => {
  const [scriptName, ...args] = spec.split('::');
  return { spec, script: scriptName!, args };
};

function runner(extra: Partial<ConstructorParameters<typeof ResourceRunner>[0]> = {}) {
  const lines: string[] = [];
  const log: RunnerLog = (level, message) => lines.push(`${level}: ${message}`);
  const r = new ResourceRunner({
    scriptDirs: [rd, initd],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HA_CURHOST: 'node1', HA_RSCTMP: tmp },
    log,
    ...extra,
  });
  return { r, lines };
}

const never = new AbortController().signal;

/** The runner looks the script up asynchronously first: wait until the call reached the agent. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setImmediate(r));
}

describe('finding a resource', () => {
  script(rd, 'Both', 'echo resource.d');
  script(initd, 'Both', 'echo init.d');
  script(initd, 'OnlyInit', 'echo init.d');
  writeFileSync(join(rd, 'NotExecutable'), '#!/bin/sh\n');
  script(rd, 'IPaddr2', 'echo "heartbeat\'s own IPaddr2 $*"');

  const builtin: BuiltinAgents = {
    isBuiltinAgent: (s) => s === 'IPaddr2',
    isInProcessAgent: () => true,
    agentCommand: () => {
      throw new Error('an in-process agent is never spawned');
    },
    runHeartbeatStyle: async (s, args, action) => ({
      rc: 0,
      stdout: `built-in ${s} ${args.join(' ')} ${action}\n`,
      stderr: '',
    }),
  };

  it('looks in resource.d first, then /etc/init.d, and skips files that are not executable', () => {
    const { r } = runner();
    expect(r.locate('Both')).toEqual({ kind: 'script', path: join(rd, 'Both') });
    expect(r.locate('OnlyInit')).toEqual({ kind: 'script', path: join(initd, 'OnlyInit') });
    expect(r.locate('NotExecutable')).toBeUndefined();
    expect(r.locate('Nowhere')).toBeUndefined();
  });

  it('runs a built-in agent in-process, unless the operator asked for the script', async () => {
    const inproc = runner({ builtin });
    const a = await inproc.r.run(res('IPaddr2::10.0.0.10/24'), 'start', never);
    expect(a.stdout).toBe('built-in IPaddr2 10.0.0.10/24 start\n');
    expect(inproc.lines).toContain('info: Running IPaddr2 (tsbeat built-in) 10.0.0.10/24 start');

    const scripted = runner({ builtin, external: new Set(['IPaddr2']) });
    const b = await scripted.r.run(res('IPaddr2::10.0.0.10/24'), 'start', never);
    expect(b.stdout).toBe("heartbeat's own IPaddr2 10.0.0.10/24 start\n");
  });

  it('a missing script fails the action with a log line, and counts as not running', async () => {
    const { r, lines } = runner();
    expect(await r.run(res('Nowhere::x'), 'start', never)).toMatchObject({ rc: 1 });
    expect(await r.run(res('Nowhere::x'), 'status', never)).toMatchObject({ running: false });
    expect(lines).toContain('error: Cannot locate resource script Nowhere');
  });
});

describe('running a script', () => {
  it("passes the arguments in order with the action last, and heartbeat's environment", async () => {
    script(rd, 'Echo', 'echo "$# args: $* on $HA_CURHOST"; exit 3');
    const { r, lines } = runner();
    const out = await r.run(res('Echo::a b::c'), 'stop', never);
    expect(out).toMatchObject({ rc: 3, stdout: '3 args: a b c stop on node1\n' });
    expect(lines).toContain(`error: Return code 3 from ${join(rd, 'Echo')}`);
  });

  it.each([
    ['Echo running', true],
    ['OK', true],
    ['is stopped', false],
    ['', false],
    ['not running', false],
    // heartbeat's glob *[Nn][Oo][Tt]\ *[Rr]unning*: a blank, then anything, then running.
    ['cannot determine status, may be running', false],
  ])('status printing %j counts as running: %s (the exit code never matters)', async (text, want) => {
    script(rd, 'Says', `echo "${text}"; exit ${want ? 7 : 0}`);
    const { r } = runner();
    expect((await r.run(res('Says'), 'status', never)).running).toBe(want);
  });

  it('kills a script that hangs, with everything it started, after the timeout', async () => {
    const pidFile = join(tmp, 'grandchild.pid');
    script(rd, 'Hangs', `sleep 60 & echo $! > ${pidFile}; wait`);
    const { r, lines } = runner({ timeoutMs: { start: 300 }, killGraceMs: 200 });
    const out = await r.run(res('Hangs'), 'start', never);
    expect(out).toMatchObject({ rc: 1, timedOut: true });
    expect(lines.some((l) => /Hangs start timed out after 300 ms/.test(l))).toBe(true);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    // Gone, or a zombie waiting for whichever init adopted it.
    const running = (): boolean => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${grandchild}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    let alive = running();
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise((res) => setTimeout(res, 20));
      alive = running();
    }
    expect(alive).toBe(false);
  });

  it('an abort (the resource manager giving up) ends the script too', async () => {
    script(rd, 'Slow', 'sleep 60');
    const { r } = runner();
    const ac = new AbortController();
    const pending = r.run(res('Slow'), 'stop', ac.signal);
    setTimeout(() => ac.abort(), 100);
    expect(await pending).toMatchObject({ rc: 1, timedOut: true });
  });
});

/** Poll for a pid file a script writes (it may take a moment to fork). */
async function pidFrom(file: string): Promise<number> {
  for (let i = 0; i < 200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 10));
  return Number(readFileSync(file, 'utf8'));
}

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** End a process this test started (by pid, never by name). */
function reap(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** A built-in agent whose actions the test settles by hand (or never). */
function controllable(honourAbort: boolean) {
  const pending: { action: string; settle: (rc: number) => void }[] = [];
  const builtin: BuiltinAgents = {
    isBuiltinAgent: (s) => s === 'Dummy',
    isInProcessAgent: () => true,
    agentCommand: () => {
      throw new Error('an in-process agent is never spawned');
    },
    runHeartbeatStyle: (_s, _args, action, ctx) =>
      new Promise((resolve) => {
        const settle = (rc: number) =>
          resolve({ rc, stdout: rc === 0 ? 'INFO:  Running OK\n' : '', stderr: '' });
        pending.push({ action, settle });
        if (honourAbort) ctx.signal.addEventListener('abort', () => settle(1), { once: true });
      }),
  };
  return { builtin, pending };
}

describe('deadlines that do not depend on the agent', () => {
  it('a built-in agent that never settles is left behind after deadline + grace, and its resource refused until it ends', async () => {
    const { builtin, pending } = controllable(false);
    const { r, lines } = runner({
      builtin,
      timeoutMs: { start: 200, stop: 200, status: 200 },
      killGraceMs: 100,
    });
    const t0 = Date.now();
    const start = await r.run(res('Dummy::b'), 'start', never);
    const took = Date.now() - t0;
    expect(start).toMatchObject({ rc: 1, timedOut: true, abandoned: true });
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5000);
    expect(lines).toContain(
      'error: Dummy (tsbeat built-in) b start timed out after 200 ms; it ignored its abort and still runs: further actions on Dummy::b are refused until it finishes',
    );
    expect(r.abandonedActions()).toMatchObject([{ resource: 'Dummy::b', action: 'start' }]);

    // Every later action of that resource is refused at once: never two actions at the same time.
    const t1 = Date.now();
    expect(await r.run(res('Dummy::b'), 'stop', never)).toMatchObject({
      rc: 1,
      timedOut: true,
      refused: true,
    });
    const status = await r.run(res('Dummy::b'), 'status', never);
    expect(status).toMatchObject({ running: false, unknown: true, refused: true });
    expect(Date.now() - t1).toBeLessThan(1000);
    expect(pending.map((p) => p.action)).toEqual(['start']);
    expect(
      lines.some((l) =>
        /^error: Dummy \(tsbeat built-in\) b stop not run: its start, abandoned \d+ s ago/.test(l),
      ),
    ).toBe(true);
    // Another resource of the same agent is not affected.
    const other = r.run(res('Dummy::c'), 'stop', never);
    await until(() => pending[1] !== undefined);
    pending[1]!.settle(0);
    expect(await other).toMatchObject({ rc: 0 });

    // The left-behind start ends after all: the resource can be acted on again.
    pending[0]!.settle(0);
    await new Promise((res) => setImmediate(res));
    expect(r.abandonedActions()).toEqual([]);
    expect(lines).toContain(
      'warn: Dummy (tsbeat built-in) b start, abandoned after its deadline, finished after all (exit status 0); Dummy::b can be acted on again',
    );
    const again = r.run(res('Dummy::b'), 'stop', never);
    await until(() => pending[2] !== undefined);
    pending[2]!.settle(0);
    expect(await again).toMatchObject({ rc: 0 });
  });

  it('the agent-hang fault hook makes the real built-in Dummy hang, only where it says, and the deadline holds', async () => {
    const { r, lines } = runner({
      builtin: builtinAgents,
      timeoutMs: { start: 200 },
      killGraceMs: 100,
    });
    const saved = process.env[FAULT_ENV];
    process.env[FAULT_ENV] = 'agent-hang:Dummy:start:b';
    try {
      expect(await r.run(res('Dummy::b'), 'start', never)).toMatchObject({ timedOut: true, abandoned: true });
      expect(lines).toContain('warn: test fault hook agent-hang: Dummy b start will never finish');
      // Dummy::c is not named: it starts.
      expect(await r.run(res('Dummy::c'), 'start', never)).toMatchObject({ rc: 0 });
      expect(existsSync(join(tmp, 'Dummy-Dummy_c.state'))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env[FAULT_ENV];
      else process.env[FAULT_ENV] = saved;
    }
    // Unset, the hook is inert, but the start left behind still blocks Dummy::b.
    expect(await r.run(res('Dummy::b'), 'status', never)).toMatchObject({ unknown: true, refused: true });
  });

  it('a built-in agent that gives up when aborted fails with a timeout but is not left behind', async () => {
    const { builtin, pending } = controllable(true);
    const { r } = runner({ builtin, timeoutMs: { stop: 100 }, killGraceMs: 5000 });
    const t0 = Date.now();
    expect(await r.run(res('Dummy::b'), 'stop', never)).toMatchObject({ rc: 1, timedOut: true });
    // Returned at the abort, not at the end of the grace.
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(r.abandonedActions()).toEqual([]);
    const next = r.run(res('Dummy::b'), 'stop', never);
    await until(() => pending[1] !== undefined);
    pending[1]!.settle(0);
    expect(await next).toMatchObject({ rc: 0 });
  });

  it('a status that times out is "unknown", never "not running"', async () => {
    script(rd, 'SlowStatus', 'sleep 60');
    const { r } = runner({ timeoutMs: { status: 200 }, killGraceMs: 100 });
    expect(await r.run(res('SlowStatus'), 'status', never)).toMatchObject({
      timedOut: true,
      running: false,
      unknown: true,
    });
  });

  it('a script that ignores SIGTERM is ended by SIGKILL after the grace', async () => {
    const pidFile = join(tmp, 'ignores-term.pid');
    script(rd, 'IgnoresTerm', `trap '' TERM; echo $$ > ${pidFile}; sleep 60`);
    const { r } = runner({ timeoutMs: { stop: 300 }, killGraceMs: 300 });
    const t0 = Date.now();
    const out = await r.run(res('IgnoresTerm'), 'stop', never);
    const took = Date.now() - t0;
    expect(out).toMatchObject({ rc: 1, timedOut: true });
    expect(out.abandoned).toBeUndefined();
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(10_000);
    expect(alive(await pidFrom(pidFile))).toBe(false);
    expect(r.abandonedActions()).toEqual([]);
  });

  it('a timed-out script whose grandchild keeps stdout open settles anyway', async () => {
    const pidFile = join(tmp, 'holder-timeout.pid');
    // setsid: the grandchild has a session (and process group) of its own, out of the group kill.
    script(rd, 'PipeHolder', `setsid sleep 60 & echo $! > ${pidFile}; echo started; sleep 60`);
    const { r } = runner({ timeoutMs: { start: 300 }, killGraceMs: 300 });
    const t0 = Date.now();
    const out = await r.run(res('PipeHolder'), 'start', never);
    const grandchild = await pidFrom(pidFile);
    try {
      expect(out).toMatchObject({ rc: 1, timedOut: true, stdout: 'started\n' });
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(alive(grandchild)).toBe(true); // it really did hold the pipe all along
    } finally {
      reap(grandchild);
    }
  });

  it('a script that starts a daemon holding its stdout finishes when the script exits, and the daemon is left alone', async () => {
    const pidFile = join(tmp, 'holder-daemon.pid');
    script(rd, 'StartsDaemon', `sleep 60 & echo $! > ${pidFile}; echo "daemon started"; exit 0`);
    const { r } = runner({ timeoutMs: { start: 20_000 } });
    const t0 = Date.now();
    const out = await r.run(res('StartsDaemon'), 'start', never);
    const daemon = await pidFrom(pidFile);
    try {
      expect(out).toMatchObject({ rc: 0, stdout: 'daemon started\n' });
      expect(out.timedOut).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(alive(daemon)).toBe(true);
    } finally {
      reap(daemon);
    }
  });
});

describe("heartbeat's script environment", () => {
  it('has HA_ variables for the node, the directories, ha.cf parameters and env lines', () => {
    const env = scriptEnvironment({
      localNode: 'node1',
      dir: '/etc/ha.d',
      params: { keepalive: '2' },
      env: [['STOPRETRYMAX', '2']],
      logfile: '/var/log/ha-log',
      logfacility: 'none',
      niceFailback: true,
      base: { PATH: '/usr/bin:/bin', HOME: '/root', SECRET: 'not passed' },
    });
    expect(env).toMatchObject({
      HA_CURHOST: 'node1',
      HA_DIR: '/etc/ha.d',
      HA_RESOURCEDIR: '/etc/ha.d/resource.d',
      HA_RSCTMP: '/run/resource-agents',
      HA_LOGFILE: '/var/log/ha-log',
      HA_NICEFAILBACK: 'yes',
      HA_keepalive: '2',
      HA_STOPRETRYMAX: '2',
      LC_ALL: 'C',
      HOME: '/root',
    });
    expect(env['PATH']).toBe('/usr/libexec/heartbeat:/usr/sbin:/usr/share/heartbeat:/usr/bin:/bin');
    expect(env).not.toHaveProperty('SECRET');
    expect(env).not.toHaveProperty('HA_LOGFACILITY');
  });
});
