/**
 * The resource runner: how tsbeat runs a haresources resource as heartbeat does. Proves that
 * scripts are found in resource.d before /etc/init.d, built-in agents win unless the operator
 * names them in TSBEAT_SCRIPT_AGENTS, arguments come in haresources order with the action
 * last, the environment is heartbeat's, `status` is judged by heartbeat's stdout rule (never
 * the exit code), a script that hangs is killed with its whole process group, and a missing
 * script is an error in the log, not a crash.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type BuiltinAgents,
  ResourceRunner,
  type RunnerLog,
  scriptEnvironment,
} from '../../../src/agents/runner.js';
import type { ResourceConfig } from '../../../src/config/model.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-runner-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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

describe('finding a resource', () => {
  script(rd, 'Both', 'echo resource.d');
  script(initd, 'Both', 'echo init.d');
  script(initd, 'OnlyInit', 'echo init.d');
  writeFileSync(join(rd, 'NotExecutable'), '#!/bin/sh\n');
  script(rd, 'IPaddr2', 'echo "heartbeat\'s own IPaddr2 $*"');

  const builtin: BuiltinAgents = {
    isBuiltinAgent: (s) => s === 'IPaddr2',
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
