// The two packagings of one agent give the same answers, and both follow the contracts their
// callers rely on. With the Dummy agent (a state file, so no root and no namespace needed): the
// in-process fast path `runHeartbeatStyle` and the executable `resource.d/Dummy` print the same
// heartbeat wrapper lines with the same exit codes for the same sequence; their status output
// classifies under heartbeat's ResourceManager rule as running/not running; the OCF executable
// `ocf/Dummy` answers 0/7, treats stop-when-stopped as success, reports a bad state path as
// OCF_ERR_ARGS with an `ocf-exit-reason:` line, and unknown actions as 3; wrong heartbeat
// arguments print the wrapper's usage and exit 1. Also `tsbeat install-agents` into a scratch
// prefix: self-contained copies that run (as user nobody too, when root) and uninstall cleanly.
// Needs `npm run build` (npm test does it).
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuiltinAgent, runHeartbeatStyle, shutdownBuiltinAgents } from '../../../src/agents/builtin.js';
import { heartbeatSaysRunning } from '../../../src/agents/ocf.js';
import { REPO } from '../../support/cli.js';

let tmp = '';
beforeAll(() => {
  if (!existsSync(join(REPO, 'dist', 'cli', 'agent.js')))
    throw new Error('dist/ is missing: run "npm run build" first');
  // World-searchable, so the nobody check below can reach the installed copy.
  tmp = mkdtempSync(join(tmpdir(), 'tsbeat-agents-'));
  spawnSync('chmod', ['755', tmp]);
});
afterAll(() => {
  // The in-process runtime keeps idle helper processes; end them with the test.
  shutdownBuiltinAgents();
  rmSync(tmp, { recursive: true, force: true });
});

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C', HA_RSCTMP: join(tmp, 'rsc'), ...extra };
}

function exe(
  rel: string,
  args: string[],
  env: Record<string, string>,
): { rc: number; stdout: string; stderr: string } {
  const r = spawnSync(join(REPO, rel), args, { env, encoding: 'utf8', timeout: 20_000 });
  return { rc: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('heartbeat style: in-process and executable agree', () => {
  it('knows its built-in agents', () => {
    for (const n of [
      'IPaddr2',
      'IPaddr',
      'SendArp',
      'Dummy',
      'Filesystem',
      'drbddisk',
      'vserver',
      'lxc',
      'MailTo',
      'Delay',
    ])
      expect(isBuiltinAgent(n)).toBe(true);
    expect(isBuiltinAgent('apache')).toBe(false);
    expect(isBuiltinAgent('toString')).toBe(false);
  });

  it('status/start/status/stop/status/stop give the same lines and codes both ways', async () => {
    const seq = ['status', 'start', 'start', 'status', 'stop', 'status', 'stop'] as const;
    const inProc: [number, string][] = [];
    const logs: string[] = [];
    for (const action of seq) {
      const r = await runHeartbeatStyle('Dummy', ['web'], action, {
        env: baseEnv({ HA_LOGFILE: '/dev/null' }),
        signal: new AbortController().signal,
        log: (level, m) => logs.push(`${level}: ${m}`),
      });
      inProc.push([r.rc, r.stdout]);
    }
    const viaExe: [number, string][] = seq.map((action) => {
      const r = exe('resource.d/Dummy', ['web', action], baseEnv());
      return [r.rc, r.stdout];
    });
    expect(inProc).toEqual([
      [7, 'INFO:  Resource is stopped\n'],
      [0, 'INFO:  Success\n'],
      [0, 'INFO:  Success\n'],
      [0, 'INFO:  Running OK\n'],
      [0, 'INFO:  Success\n'],
      [7, 'INFO:  Resource is stopped\n'],
      [0, 'INFO:  Success\n'],
    ]);
    expect(viaExe).toEqual(inProc);
    expect(heartbeatSaysRunning(inProc[3]?.[1] ?? '')).toBe(true);
    expect(heartbeatSaysRunning(inProc[0]?.[1] ?? '')).toBe(false);
    expect(logs).toContain('info:  Running OK');
  });

  it('the state file is named after the wrapper-style instance', async () => {
    const env = baseEnv();
    expect(exe('resource.d/Dummy', ['db', 'start'], env).rc).toBe(0);
    expect(existsSync(join(tmp, 'rsc', 'Dummy-Dummy_db.state'))).toBe(true);
    expect(exe('resource.d/Dummy', ['db', 'stop'], env).rc).toBe(0);
    expect(existsSync(join(tmp, 'rsc', 'Dummy-Dummy_db.state'))).toBe(false);
  });

  it('wrong arguments: usage and exit 1; unknown operation: error, usage, exit 1', async () => {
    const r = exe('resource.d/IPaddr2', ['start'], baseEnv());
    expect(r.rc).toBe(1);
    expect(r.stdout).toMatch(
      /^usage: .*IPaddr2 ip-address\[\/netmaskbits\[\/interface\[:label\]\[\/broadcast\]\]\] \(start\|stop\|status\|usage\|meta-data\)\n$/,
    );
    const u = await runHeartbeatStyle('IPaddr2', [], 'status', {
      env: baseEnv(),
      signal: new AbortController().signal,
      log: () => undefined,
    });
    expect(u.rc).toBe(1);
    expect(u.stdout).toMatch(/^usage: /);
    const b = exe('resource.d/Dummy', ['x', 'bogus'], baseEnv());
    expect(b.rc).toBe(1);
    expect(b.stdout).toMatch(/^ERROR: Unknown operation: bogus\nusage: /);
  });
});

describe('OCF executable', () => {
  it('answers 0/7, stop of a stopped resource is 0', () => {
    const env = baseEnv({ OCF_RESOURCE_INSTANCE: 'd1', OCF_RESKEY_state: join(tmp, 'd1.state') });
    const codes = ['monitor', 'start', 'monitor', 'start', 'stop', 'monitor', 'stop'].map(
      (a) => exe('ocf/Dummy', [a], env).rc,
    );
    expect(codes).toEqual([7, 0, 0, 0, 0, 7, 0]);
  });

  it('a non-probe monitor of a stopped Dummy gives the stock exit reason', () => {
    const env = baseEnv({ OCF_RESOURCE_INSTANCE: 'd2', OCF_RESKEY_CRM_meta_interval: '10000' });
    const r = exe('ocf/Dummy', ['monitor'], env);
    expect(r.rc).toBe(7);
    expect(r.stderr).toBe('ocf-exit-reason:No process state file found\n');
  });

  it('bad state path: OCF_ERR_ARGS with a reason; unknown action: 3 with usage', () => {
    const r = exe(
      'ocf/Dummy',
      ['validate-all'],
      baseEnv({ OCF_RESOURCE_INSTANCE: 'x', OCF_RESKEY_state: '/nonexistent/dir/x.state' }),
    );
    expect(r.rc).toBe(2);
    expect(r.stderr).toContain('ocf-exit-reason:State file "/nonexistent/dir/x.state" is not writable\n');
    const u = exe('ocf/Dummy', ['frobnicate'], baseEnv({ OCF_RESOURCE_INSTANCE: 'x' }));
    expect(u.rc).toBe(3);
    expect(u.stdout).toMatch(/^usage: /);
  });

  it('IPaddr2 without ip is OCF_ERR_CONFIGURED with the stock reason (nothing is touched)', () => {
    const r = exe('ocf/IPaddr2', ['validate-all'], baseEnv({ OCF_RESOURCE_INSTANCE: 'v' }));
    expect(r.rc).toBe(6);
    expect(r.stderr).toContain('ocf-exit-reason:IP address (the ip parameter) is mandatory\n');
  });

  it('meta-data works without any environment', () => {
    const r = spawnSync(join(REPO, 'ocf', 'IPaddr2'), ['meta-data'], {
      env: { PATH: '/usr/bin:/bin' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^<\?xml version="1.0"\?>\n<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">/);
  });
});

describe('tsbeat install-agents', () => {
  it('installs self-contained, world-readable copies and removes them again', () => {
    const root = join(tmp, 'inst');
    const args = [
      '--ocf-root',
      join(root, 'ocf'),
      '--lib-dir',
      join(root, 'lib'),
      '--resource-d',
      join(root, 'rd'),
    ];
    const r = spawnSync(
      process.execPath,
      [join(REPO, 'dist', 'cli', 'tsbeat.js'), 'install-agents', ...args],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const shim = join(root, 'ocf', 'resource.d', 'tsbeat', 'IPaddr2');
    expect(readFileSync(shim, 'utf8')).toContain('Installed by tsbeat install-agents');
    // The copy must not reach back into the repository or node_modules.
    const lib = readFileSync(join(root, 'lib', 'cli', 'agent.js'), 'utf8');
    expect(lib).not.toContain(REPO);
    const md = spawnSync(shim, ['meta-data'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(md.status).toBe(0);
    expect(md.stdout).toContain('<resource-agent name="IPaddr2"');
    const hb = spawnSync(join(root, 'rd', 'Dummy'), ['x', 'status'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HA_RSCTMP: join(tmp, 'rsc') },
    });
    expect([hb.status, hb.stdout]).toEqual([7, 'INFO:  Resource is stopped\n']);
    if (process.getuid?.() === 0) {
      // ocf-tester's first check, done the same way.
      const nobody = spawnSync('su', ['nobody', '-s', '/bin/sh', '-c', `${shim} meta-data`], {
        encoding: 'utf8',
      });
      expect(nobody.status).toBe(0);
    }
    // Foreign files in a resource.d directory are kept unless --force.
    const again = spawnSync(
      process.execPath,
      [
        join(REPO, 'dist', 'cli', 'tsbeat.js'),
        'install-agents',
        ...args.slice(0, 4),
        '--resource-d',
        '/etc/ha.d/resource.d',
        '--dry-run',
      ],
      { encoding: 'utf8' },
    );
    if (existsSync('/etc/ha.d/resource.d/IPaddr2')) {
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/not replacing/);
    }
    const un = spawnSync(
      process.execPath,
      [join(REPO, 'dist', 'cli', 'tsbeat.js'), 'install-agents', ...args, '--uninstall'],
      {
        encoding: 'utf8',
      },
    );
    expect(un.status).toBe(0);
    expect(existsSync(shim)).toBe(false);
    expect(existsSync(join(root, 'rd', 'Dummy'))).toBe(false);
    expect(existsSync(join(root, 'lib'))).toBe(false);
  });

  it("--force replaces a symlink in resource.d and leaves the file it points to alone (heartbeat's resource.d/ldirectord -> /usr/sbin/ldirectord)", () => {
    const root = join(tmp, 'link');
    const rd = join(root, 'rd');
    mkdirSync(rd, { recursive: true });
    const program = join(root, 'sbin-ldirectord');
    writeFileSync(program, '#!/usr/bin/perl\n# the real program\n');
    symlinkSync(program, join(rd, 'ldirectord'));
    const r = spawnSync(
      process.execPath,
      [
        join(REPO, 'dist', 'cli', 'tsbeat.js'),
        'install-agents',
        '--ocf-root',
        join(root, 'ocf'),
        '--lib-dir',
        join(root, 'lib'),
        '--resource-d',
        rd,
        '--force',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(program, 'utf8')).toBe('#!/usr/bin/perl\n# the real program\n');
    expect(lstatSync(join(rd, 'ldirectord')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(rd, 'ldirectord'), 'utf8')).toContain('Installed by tsbeat install-agents');
    expect(readdirSync(rd).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
