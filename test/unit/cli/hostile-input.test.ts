/**
 * Untrusted text reaches the terminal only escaped and cut (issue 11 item 12). Every
 * command of tsbeat that takes arguments (check, wire decode, fence, install-agents, the
 * agent shim, the dispatcher itself) is run, as built, with arguments made of terminal
 * escape sequences, C1 controls, invalid UTF-8 bytes (through sh, since Node cannot pass
 * them) and 100 KB of text; a config file and a captured frame carry the same. For each
 * run the test proves the output is bounded (well under the 100 KB it was given), holds no
 * control character but newline and tab, and still says what was wrong. For `wire decode`
 * it proves the JSON escapes DEL, C1 and direction overrides and still parses back to the
 * exact field value, since frames come off the wire.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNetstringFrame } from '../../../src/codec/frame.js';
import { message, stringField } from '../../../src/codec/model.js';
import { REPO, TSBEAT } from '../../support/cli.js';
import { keyringFromText } from '../codec/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ESC = '\u001b[2J\u001b]0;owned\u0007\r\u009b31m\u0085';
const BIG = `${ESC}${'A'.repeat(100_000)}${ESC}`;
/** Control characters a terminal acts on: all C0 but tab and newline, DEL, C1. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

interface Out {
  code: number | null;
  out: string;
}

function run(args: readonly string[], env: Record<string, string> = {}): Out {
  const r = spawnSync(process.execPath, [TSBEAT, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    cwd: REPO,
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function expectSafe(r: Out, says: RegExp, maxChars = 8000): void {
  expect(r.out.length).toBeLessThan(maxChars);
  const bad = CONTROL.exec(r.out);
  expect(bad, bad ? `control character U+${bad[0].charCodeAt(0).toString(16)} printed` : '').toBeNull();
  expect(r.out).toMatch(says);
  expect(r.out).not.toMatch(/\n\s+at .*\.js:\d+/);
}

describe.each([
  ['escape sequences', ESC],
  ['100 KB', BIG],
])('arguments with %s', (_what, evil) => {
  it.each<[string, readonly string[], RegExp, number]>([
    ['unknown command', [evil], /tsbeat: unknown command "\\x1b\[2J\\x1b\]0;owned\\x07\\r\\x9b31m\\x85/, 2],
    ['check: stray argument', ['check', evil], /tsbeat check: Unexpected argument '\\x1b\[2J/, 2],
    ['check: unknown option', ['check', `--${evil}`], /tsbeat check: Unknown option '--\\x1b\[2J/, 2],
    [
      'check: bad --node',
      ['check', '--node', evil],
      /tsbeat check: --node "\\x1b\[2J.*" is not a node name/,
      2,
    ],
    [
      'check: config dir',
      ['check', '--offline', '--node', 'a', '-c', evil],
      /: error: (ha\.cf not found|cannot read ha\.cf: the path is too long)/,
      1,
    ],
    ['wire: unknown sub-command', ['wire', evil], /tsbeat wire: unknown sub-command "\\x1b\[2J/, 2],
    [
      'wire decode: unknown option',
      ['wire', 'decode', `--${evil}`],
      /tsbeat wire: unknown option "--\\x1b/,
      2,
    ],
    [
      'wire decode: authkeys path',
      ['wire', 'decode', '--authkeys', evil, '/dev/null'],
      /tsbeat wire: cannot read authkeys file "\\x1b\[2J.*": (no such file|ENAMETOOLONG)/,
      2,
    ],
    [
      'wire decode: two frame files',
      ['wire', 'decode', '--authkeys', 'x', 'a', evil],
      /only one frame file may be given \(got "a" and "\\x1b/,
      2,
    ],
    ['fence: unknown sub-command', ['fence', evil], /tsbeat fence: unknown sub-command "\\x1b\[2J/, 2],
    [
      'fence test: unknown option',
      ['fence', 'test', `--${evil}`],
      /tsbeat fence test: Unknown option '--\\x1b/,
      2,
    ],
    [
      'install-agents: unknown option',
      ['install-agents', `--${evil}`],
      /tsbeat install-agents: unknown option "--\\x1b/,
      2,
    ],
    [
      'install-agents: provider',
      ['install-agents', '--provider', evil],
      /--provider( ".*": control characters are not allowed|: value of \d+ characters is too long)/,
      2,
    ],
    [
      'install-agents: path',
      ['install-agents', '--dry-run', '--lib-dir', `/tmp/${evil}`],
      /--lib-dir( "\/tmp\/\\x1b\[2J.*": control characters are not allowed|: value of \d+ characters is too long)/,
      2,
    ],
  ])('%s', (_name, args, says, code) => {
    const r = run(args);
    expectSafe(r, says);
    expect(r.code).toBe(code);
  });
});

describe('bytes that are not UTF-8 (passed through sh)', () => {
  it.each([
    ['unknown command', ''],
    ['check argument', 'check'],
  ])('%s: printed as escapes', (_name, sub) => {
    const r = spawnSync(
      'sh',
      ['-c', `exec "$1" "$2" ${sub} "$(printf '\\377\\376\\033[2J\\233')"`, 'sh', process.execPath, TSBEAT],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expectSafe({ code: r.status, out: `${r.stdout}${r.stderr}` }, /\\u\{fffd\}\\u\{fffd\}\\x1b\[2J/);
    expect(r.status).toBe(2);
  });
});

describe('the agent shim', () => {
  it('prints its name from TSBEAT_ARGV0 escaped', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'dist', 'cli', 'agent.js'), 'ocf', 'Dummy'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, TSBEAT_ARGV0: BIG },
    });
    expectSafe(
      { code: r.status, out: `${r.stdout}${r.stderr}` },
      /^usage: \\x1b\[2J.*\.\.\. \(\d+ more characters\) \{/m,
    );
    expect(r.status).toBe(2);
  });

  it('does not echo an unknown agent or mode', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'dist', 'cli', 'agent.js'), BIG, ESC], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expectSafe({ code: r.status, out: `${r.stdout}${r.stderr}` }, /^usage: agent\.js ocf NAME ACTION/);
    expect(r.status).toBe(2);
  });
});

describe('files with hostile content', () => {
  it('tsbeat check escapes what it quotes from ha.cf', () => {
    const dir = join(tmp, 'cfg');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'ha.cf'),
      `bcast eth0\nnode ra1 ra2\nlogfile /x\nauto_failback on\nkeepalive ${ESC}\nenv X${ESC}\n${ESC}foo 1\ncluster ${'B'.repeat(5000)}${ESC}\n`,
    );
    writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 sha1 k\n');
    chmodSync(join(dir, 'authkeys'), 0o600);
    writeFileSync(join(dir, 'haresources'), '');
    const r = run(['check', '-c', dir, '--node', 'ra1', '--offline']);
    // heartbeat cuts a line at its first CR, so the value ends there.
    expectSafe(r, /ha\.cf:5:11: error: keepalive: "\\x1b\[2J\\x1b\]0;owned\\x07" is not a time/);
    expect(r.code).toBe(1);
  });

  it('tsbeat check escapes names in its summary', () => {
    const dir = join(tmp, 'cfg2');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'ha.cf'),
      `bcast eth0\nnode ra1 ra2\nlogfile /x\nauto_failback on\ncluster ${'B'.repeat(3000)}\u001b[2J\u009b\n`,
    );
    writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 sha1 k\n');
    chmodSync(join(dir, 'authkeys'), 0o600);
    writeFileSync(join(dir, 'haresources'), '');
    const r = run(['check', '-c', dir, '--node', 'ra1', '--offline']);
    expectSafe(r, /Cluster\s"B+\\x1b\[2J\\x9b"\sof 2 nodes/);
    expect(r.code).toBe(0);
  });

  it('tsbeat wire decode escapes field values from the wire, and the JSON still holds them exactly', () => {
    const keyring = keyringFromText('auth 1\n1 md5 secret\n');
    // Values are bytes, shown as latin1: DEL, CSI (0x9b), and the UTF-8 bytes of U+202E.
    const value = `x\u007fy\u009bz${Buffer.from('\u202e', 'utf8').toString('latin1')}evil`;
    const frame = encodeNetstringFrame(
      message([stringField('t', 'status'), stringField('src', 'alpha'), stringField('info', value)]),
      keyring,
      { innerAuth: true },
    );
    if (!frame.ok) throw new Error(frame.reason);
    const file = join(tmp, 'frame.bin');
    writeFileSync(file, frame.bytes);
    writeFileSync(join(tmp, 'keys'), 'auth 1\n1 md5 secret\n', { mode: 0o600 });
    const r = run(['wire', 'decode', '--authkeys', join(tmp, 'keys'), file]);
    expect(r.code).toBe(0);
    expectSafe(r, /"value": "x\\u007fy\\u009bz\u00e2\\u0080\u00aeevil"/, 20_000);
    const json = JSON.parse(r.out) as { message: { fields: { name: string; value?: string }[] } };
    expect(json.message.fields.find((f) => f.name === 'info')?.value).toBe(value);
  });
});
