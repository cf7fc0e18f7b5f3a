/**
 * hb_standby behaves as heartbeat 3.0.6's script where heartbeat defines it, and answers where
 * heartbeat hangs. Proves: every argument error of the real transcript (bogus, too many,
 * --help, -h) prints the same stdout, stderr and exit code; each valid set reaches the daemon's
 * control socket (failback as foreign, as the script sends it) with exit 0; the "Going standby"
 * line follows ha_log (bare on a terminal, `%b %d %T ` prefix otherwise, HA_LOGTAG, HA_DATEFMT,
 * HA_LOGFILE instead of stderr, HA_DEBUGLOG); and instead of blocking for ever it exits with a
 * clear message when the daemon is not running (7), refuses (1), does not answer in time (1), or
 * the caller may not change state (4, proven as `nobody` when run as root). A daemon that
 * refuses the request as busy before reading it is asked again (backoff, within the deadline);
 * one that closes the connection before answering is not, since it may have acted on it. The
 * built program and `tsbeat hb_standby` agree.
 */
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hbStandby, type RequestIo } from '../../../src/cli/hb_standby.js';
import { type ApiServers, startApiServers } from '../../../src/ipc/api.js';
import { REPO } from '../../support/cli.js';
import { FakeView } from '../ipc/fake-view.js';
import { readTranscript } from '../ipc/transcripts.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-standby-'));
chmodSync(tmp, 0o755);
let view: FakeView;
let servers: ApiServers;
beforeAll(async () => {
  view = new FakeView();
  servers = await startApiServers(view, join(tmp, 'run'));
});
afterAll(async () => {
  await servers.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Out {
  stdout: string;
  stderr: string;
  code: number;
}

async function standby(argv: readonly string[], o: Partial<RequestIo> = {}): Promise<Out> {
  let stdout = '';
  let stderr = '';
  const code = await hbStandby(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
    pid: 357,
    now: () => new Date(2026, 10, 22, 20, 32, 51),
    stdinIsTty: false,
    program: '/usr/share/heartbeat/hb_standby',
    controlPath: servers.controlSocket,
    deadlineMs: 5000,
    ...o,
  });
  return { stdout, stderr, code };
}

describe('argument errors, as the real hb_standby', () => {
  const cases = readTranscript('hb_standby-hb_takeover-cli.txt').filter(
    (i) => i.program === '/usr/share/heartbeat/hb_standby' && !i.command.startsWith('timeout'),
  );
  it('has the recorded cases', () => {
    expect(cases.map((c) => c.args.join(' '))).toEqual(['bogus', 'all foreign', '--help', '-h']);
  });
  it.each(cases.map((c) => [c.command, c] as const))('%s', async (_, c) => {
    expect(await standby(c.args)).toEqual({ stdout: c.stdout, stderr: c.stderr, code: c.code });
  });
  it('an empty argument is a wrong one', async () => {
    expect(await standby([''])).toMatchObject({
      stdout: '/usr/share/heartbeat/hb_standby: wrong resources().\nusage:\n',
      code: 1,
    });
  });
});

describe('requests', () => {
  it.each([
    [[], 'all'],
    [['all'], 'all'],
    [['local'], 'local'],
    [['foreign'], 'foreign'],
    [['failback'], 'foreign'],
  ] as const)('hb_standby %j asks the daemon for standby %s', async (argv, set) => {
    view.requests.length = 0;
    expect(await standby(argv)).toEqual({
      stdout: '',
      stderr: `Nov 22 20:32:51 Going standby [${set}].\n`,
      code: 0,
    });
    expect(view.requests).toEqual([{ kind: 'standby', set }]);
  });

  it('logs as ha_log does: terminal, HA_LOGTAG, HA_DATEFMT, HA_LOGFILE, HA_DEBUGLOG', async () => {
    expect((await standby([], { stdinIsTty: true })).stderr).toBe('Going standby [all].\n');
    expect((await standby([], { stdinIsTty: true, env: { HA_LOGTAG: 'me' } })).stderr).toBe(
      'me: Going standby [all].\n',
    );
    expect((await standby([], { env: { HA_DATEFMT: '%Y/%m/%d_%T\t' } })).stderr).toBe(
      '2026/11/22_20:32:51\tGoing standby [all].\n',
    );
    const log = join(tmp, 'ha-log');
    const debug = join(tmp, 'ha-debug');
    const r = await standby(['local'], {
      env: { HA_LOGFILE: log, HA_DEBUGLOG: debug, HA_DATEFMT: '%Y/%m/%d_%T\t' },
    });
    expect(r).toEqual({ stdout: '', stderr: '', code: 0 });
    expect(readFileSync(log, 'utf8')).toBe(
      '2026/11/22_20:32:51\t hb_standby(default)[357]:    Going standby [local].\n',
    );
    expect(readFileSync(debug, 'utf8')).toBe(
      'hb_standby(default)[357]:\t2026/11/22_20:32:51\tGoing standby [local].\n',
    );
  });
});

describe('never hangs: a clear error instead', () => {
  it('daemon not running: exit 7 at once', async () => {
    const r = await standby([], { controlPath: join(tmp, 'nothing', 'control.sock') });
    expect(r.code).toBe(7);
    expect(r.stderr).toBe(
      `Nov 22 20:32:51 Going standby [all].\n/usr/share/heartbeat/hb_standby: tsbeat is not running (nothing answers on ${join(tmp, 'nothing', 'control.sock')}); nothing was requested\n`,
    );
  });

  it('daemon refuses: exit 1 with its reason', async () => {
    const refusing = new FakeView({
      standby: () => Promise.resolve({ accepted: false, message: 'resource management is not running' }),
    });
    const s = await startApiServers(refusing, join(tmp, 'refusing'));
    try {
      const r = await standby([], { controlPath: s.controlSocket });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('/usr/share/heartbeat/hb_standby: resource management is not running\n');
    } finally {
      await s.close();
    }
  });

  it('daemon silent: exit 1 after the deadline', async () => {
    const path = join(tmp, 'silent.sock');
    const server = createServer((sock) => sock.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const r = await standby([], { controlPath: path, deadlineMs: 300 });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('tsbeat did not answer within 0.3 s; the request may not have been made');
    } finally {
      server.close();
    }
  });

  /** A control socket whose first `busyFor` connections are answered busy, then forwarded to the daemon. */
  async function busyFront(busyFor: number, mode: 'busy' | 'close' = 'busy') {
    const path = join(tmp, `front-${mode}-${busyFor}.sock`);
    let count = 0;
    const server = createServer((sock) => {
      sock.on('error', () => undefined);
      if (count++ < busyFor) {
        sock.on('data', (d) => {
          if (mode === 'close') {
            sock.destroy();
            return;
          }
          const id = JSON.parse(d.toString().split('\n')[0]!).id;
          sock.write(
            `${JSON.stringify({ v: 1, id, ok: false, error: { code: 'busy', message: 'too many clients (64); try again' } })}\n`,
          );
        });
        return;
      }
      const up = connect(servers.controlSocket);
      up.on('error', () => sock.destroy());
      sock.pipe(up).pipe(sock);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { path, server, connections: () => count };
  }

  it('daemon busy: asked again, and accepted', async () => {
    const f = await busyFront(2);
    try {
      view.requests.length = 0;
      const r = await standby(['local'], { controlPath: f.path });
      expect(r).toEqual({ stdout: '', stderr: 'Nov 22 20:32:51 Going standby [local].\n', code: 0 });
      expect(f.connections()).toBe(3);
      expect(view.requests).toEqual([{ kind: 'standby', set: 'local' }]);
    } finally {
      f.server.close();
    }
  });

  it('daemon busy until the deadline: exit 1, nothing was requested', async () => {
    const f = await busyFront(1000);
    try {
      const r = await standby([], { controlPath: f.path, deadlineMs: 800 });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'hb_standby: tsbeat is too busy to take the request (too many clients (64); try again); nothing was requested, try again\n',
      );
      expect(f.connections()).toBeGreaterThan(1);
    } finally {
      f.server.close();
    }
  });

  it('connection closed before an answer: not sent again (it may have been acted on)', async () => {
    const f = await busyFront(1000, 'close');
    try {
      const r = await standby([], { controlPath: f.path });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'hb_standby: tsbeat closed the connection before answering; the request may not have been made\n',
      );
      expect(f.connections()).toBe(1);
    } finally {
      f.server.close();
    }
  });

  it('the read-only socket is not the control socket: exit 4', async () => {
    const r = await standby([], { controlPath: servers.readSocket });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('permission denied: "standby" changes the cluster');
  });
});

describe('the built program', () => {
  const node = (args: string[], o: { uid?: number; gid?: number } = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        args,
        {
          cwd: REPO,
          encoding: 'utf8',
          timeout: 20_000,
          env: { PATH: process.env['PATH'], TSBEAT_RUNDIR: join(tmp, 'run') },
          ...o,
        },
        (err, stdout, stderr) =>
          resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
      );
    });

  it('prints $0 as invoked; tsbeat hb_standby prints its own name', async () => {
    const bin = await node([join(REPO, 'dist/cli/hb_standby.js'), 'bogus']);
    expect(bin).toEqual({
      status: 1,
      stdout: `${join(REPO, 'dist/cli/hb_standby.js')}: wrong resources(bogus).\nusage:\n`,
      stderr: `${join(REPO, 'dist/cli/hb_standby.js')} [all|foreign|local|failback]\n`,
    });
    const alias = await node(['dist/cli/tsbeat.js', 'hb_standby', 'bogus']);
    expect(alias).toEqual({
      status: 1,
      stdout: 'tsbeat hb_standby: wrong resources(bogus).\nusage:\n',
      stderr: 'tsbeat hb_standby [all|foreign|local|failback]\n',
    });
    view.requests.length = 0;
    expect((await node(['dist/cli/tsbeat.js', 'hb_standby', 'local'])).status).toBe(0);
    expect(view.requests).toEqual([{ kind: 'standby', set: 'local' }]);
  });

  it.runIf(process.getuid?.() === 0)(
    'as a user outside the API group: exit 4, naming the group',
    async () => {
      // A copy nobody can read: the checkout may sit under a directory only root can enter.
      const copy = join(tmp, 'build');
      cpSync(join(REPO, 'dist'), join(copy, 'dist'), { recursive: true });
      cpSync(join(REPO, 'package.json'), join(copy, 'package.json'));
      const r = await node([join(copy, 'dist/cli/hb_standby.js')], { uid: 65534, gid: 65534 });
      expect(r.status).toBe(4);
      expect(r.stderr).toMatch(
        /hb_standby\.js: permission denied: standby needs root or membership in group haclient\n$/,
      );
    },
  );
});
