/**
 * hb_takeover behaves as heartbeat 3.0.6's script: every argument error of the real
 * transcript prints the same stdout, stderr and exit code; each valid set (failback passed on
 * unchanged, as the script sends it) reaches the daemon's control socket, silently, with exit
 * 0; and where heartbeat's script hangs without a daemon it exits 7 with a message at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestIo } from '../../../src/cli/hb_standby.js';
import { hbTakeover } from '../../../src/cli/hb_takeover.js';
import { type ApiServers, startApiServers } from '../../../src/ipc/api.js';
import { FakeView } from '../ipc/fake-view.js';
import { readTranscript } from '../ipc/transcripts.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-takeover-'));
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

async function takeover(argv: readonly string[], o: Partial<RequestIo> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await hbTakeover(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
    pid: 1,
    now: () => new Date(),
    stdinIsTty: false,
    program: '/usr/share/heartbeat/hb_takeover',
    controlPath: servers.controlSocket,
    deadlineMs: 5000,
    ...o,
  });
  return { stdout, stderr, code };
}

describe('argument errors, as the real hb_takeover', () => {
  const cases = readTranscript('hb_standby-hb_takeover-cli.txt').filter(
    (i) => i.program === '/usr/share/heartbeat/hb_takeover' && !i.command.startsWith('timeout'),
  );
  it('has the recorded cases', () => {
    expect(cases.map((c) => c.args.join(' '))).toEqual(['bogus', 'all foreign', '--help', '-h']);
  });
  it.each(cases.map((c) => [c.command, c] as const))('%s', async (_, c) => {
    expect(await takeover(c.args)).toEqual({ stdout: c.stdout, stderr: c.stderr, code: c.code });
  });
});

describe('requests', () => {
  it.each([
    [[], 'all'],
    [['local'], 'local'],
    [['foreign'], 'foreign'],
    [['failback'], 'failback'],
  ] as const)('hb_takeover %j asks for %s, silently', async (argv, set) => {
    view.requests.length = 0;
    expect(await takeover(argv)).toEqual({ stdout: '', stderr: '', code: 0 });
    expect(view.requests).toEqual([{ kind: 'takeover', set }]);
  });

  it('daemon not running: exit 7, no hang', async () => {
    const r = await takeover([], { controlPath: join(tmp, 'none', 'control.sock') });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^\/usr\/share\/heartbeat\/hb_takeover: tsbeat is not running /);
  });
});
