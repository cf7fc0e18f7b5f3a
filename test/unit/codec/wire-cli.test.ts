/**
 * `tsbeat wire decode` end to end, as a user runs it: the built CLI (dist/, made by
 * `npm run build`, which `npm test` runs first) is spawned on captured frames. A frame
 * that verifies prints its JSON (verdict, format, auth index/method, readable field names)
 * and exits 0, also from stdin and with --roundtrip reporting identical bytes; a tampered
 * frame, a wrong key or garbage exits 1 with the verdict in the JSON; bad arguments and
 * unreadable or invalid files exit 2 with one clear line on stderr and no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromLatin1, latin1 } from '../../../src/codec/bytes.js';
import { vectorBytes, WIRE_FIXTURES } from './fixtures.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'tsbeat.js');

let dir = '';
const keys: Record<string, string> = {};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: () => Record<string, unknown>;
}

function tsbeat(args: string[], input?: Uint8Array): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 30_000 });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () => JSON.parse(r.stdout) as Record<string, unknown>,
  };
}

function expectUsageError(r: Run, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(() => {
  if (!existsSync(CLI) || !existsSync(join(ROOT, 'dist', 'cli', 'wire.js'))) {
    throw new Error('dist/cli/wire.js is missing: run "npm run build" first (npm test does)');
  }
  dir = mkdtempSync(join(tmpdir(), 'tsbeat-wire-cli-'));
  const write = (name: string, text: string): void => {
    keys[name] = join(dir, name);
    writeFileSync(keys[name], text, { mode: 0o600 });
  };
  write('md5', 'auth 1\n1 md5 secret\n');
  write('md5-quoted', 'auth 1\n1 md5 "secret"\n');
  write('sha1', 'auth 1\n1 sha1 secret2\n');
  write('crc', 'auth 1\n1 crc\n');
  write('wrong', 'auth 1\n1 md5 notthekey\n');
  write('invalid', 'auth 2\n1 md5 secret\n');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const frame = (file: string): string => join(WIRE_FIXTURES, file);

describe('frames that verify: exit 0', () => {
  it.each([
    ['md5-status-init.bin', 'md5', 'netstring'],
    ['sha1-resource.bin', 'sha1', 'netstring'],
    ['crc-short-digest.bin', 'crc', 'netstring'],
    ['md5-quotedkey-status.bin', 'md5-quoted', 'netstring'],
    ['md5-serial-status-active.txt', 'md5', 'classic'],
    ['md5-fakenode-classic-udp-status.bin', 'md5', 'classic'],
    ['md5-traditional-compression.bin', 'md5', 'netstring'],
  ])('%s with --roundtrip', (file, key, format) => {
    const r = tsbeat(['wire', 'decode', '--authkeys', keys[key]!, '--roundtrip', frame(file)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({
      verdict: 'ok',
      format,
      auth: { index: 1, method: key === 'md5-quoted' ? 'md5' : key, verdict: 'ok' },
      roundtrip: { identical: true },
    });
  });

  it('prints fields with readable names, binary as hex and base64', () => {
    const r = tsbeat(['wire', 'decode', '--authkeys', keys['md5']!, frame('md5-rexmit-request.bin')]);
    expect(r.code).toBe(0);
    const msg = r.json()['message'] as { type: string; fields: Record<string, unknown>[] };
    expect(msg.type).toBe('NS_rexmit');
    expect(msg.fields.find((f) => f['name'] === 'firstseq')).toMatchObject({
      readable: 'firstSeqno',
      value: '58',
      number: 58,
    });
    expect(msg.fields.find((f) => f['name'] === 'destuuid')).toMatchObject({
      readable: 'destinationUuid',
      kind: 'binary',
      hex: 'd09708ac4bbe4a9fba46fc6f7a18c5a0',
      base64: '0JcIrEu+Sp+6RvxvehjFoA==',
    });
  });

  it('reads the frame from stdin when no file is given', () => {
    const r = tsbeat(['wire', 'decode', '--authkeys', keys['sha1']!], vectorBytes('sha1-status-init.bin'));
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ verdict: 'ok', auth: { method: 'sha1' } });
  });

  it('shows the payload of a compressed frame', () => {
    const r = tsbeat([
      'wire',
      'decode',
      '--authkeys',
      keys['md5']!,
      frame('md5-traditional-compression.bin'),
    ]);
    expect(r.json()).toMatchObject({
      compressed: {
        algorithm: 'zlib',
        format: 'classic',
        innerAuth: { verdict: 'ok' },
        message: { type: 'wa-big' },
      },
    });
  });
});

describe('frames that do not verify: exit 1', () => {
  it('a flipped bit', () => {
    const bytes = vectorBytes('md5-status-active.bin');
    // Inside the value of st=active: still well formed, no longer what was signed.
    const at = Buffer.from(bytes).indexOf('st=active') + 3;
    bytes[at]! ^= 0x01;
    const r = tsbeat(['wire', 'decode', '--authkeys', keys['md5']!], bytes);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ verdict: 'badDigest', auth: { verdict: 'badDigest', method: 'md5' } });
  });

  it('a wrong key', () => {
    const r = tsbeat(['wire', 'decode', '--authkeys', keys['wrong']!, frame('md5-status-active.bin')]);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ verdict: 'badDigest' });
  });

  it('garbage', () => {
    const r = tsbeat(
      ['wire', 'decode', '--authkeys', keys['md5']!],
      new TextEncoder().encode('###\n9999:(0)t=x,'),
    );
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ verdict: 'malformed', reason: expect.stringMatching(/length 9999/) });
  });

  it('an empty input', () => {
    const r = tsbeat(['wire', 'decode', '--authkeys', keys['md5']!], new Uint8Array(0));
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ verdict: 'malformed' });
  });

  it('a frame that verifies but does not round-trip (--roundtrip counts that as failure)', () => {
    // heartbeat skips empty lines in classic text, so this verifies; re-encoding drops them.
    const serial = latin1(vectorBytes('md5-serial-status-active.txt'));
    const r = tsbeat(
      ['wire', 'decode', '--authkeys', keys['md5']!, '--roundtrip'],
      fromLatin1(serial.replace('>>>\n', '>>>\n\n')),
    );
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ verdict: 'ok', roundtrip: { identical: false, firstDifferenceAt: 4 } });
  });
});

describe('usage errors: exit 2, one line, no stack trace', () => {
  it('--help prints usage and exits 0', () => {
    const r = tsbeat(['wire', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: tsbeat wire decode --authkeys FILE/);
    expect(tsbeat(['wire', 'decode', '--help']).code).toBe(0);
  });

  it('no sub-command prints usage and exits 2', () => {
    const r = tsbeat(['wire']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^usage:/);
  });

  it.each([
    ['missing --authkeys', ['decode', 'x.bin'], /--authkeys FILE is required/],
    ['--authkeys without a file', ['decode', '--authkeys'], /--authkeys needs a file name/],
    ['an unknown option', ['decode', '--authkeys', 'k', '--hexdump'], /unknown option "--hexdump"/],
    ['two frame files', ['decode', '--authkeys', 'k', 'a', 'b'], /only one frame file/],
    ['an unknown sub-command', ['encode'], /unknown sub-command "encode"/],
  ])('%s', (_what, args, message) => {
    expectUsageError(tsbeat(['wire', ...args]), message);
  });

  it('an unreadable authkeys file', () => {
    expectUsageError(
      tsbeat(['wire', 'decode', '--authkeys', join(dir, 'nope'), frame('md5-status-init.bin')]),
      /cannot read authkeys file ".*nope": no such file/,
    );
  });

  it('an authkeys file heartbeat would refuse', () => {
    expectUsageError(
      tsbeat(['wire', 'decode', '--authkeys', keys['invalid']!, frame('md5-status-init.bin')]),
      /invalid:1:1: error: "auth 2" selects key 2/,
    );
  });

  it('an unreadable frame file', () => {
    expectUsageError(
      tsbeat(['wire', 'decode', '--authkeys', keys['md5']!, join(dir, 'missing.bin')]),
      /cannot read frame file/,
    );
    expectUsageError(tsbeat(['wire', 'decode', '--authkeys', keys['md5']!, dir]), /is a directory/);
  });
});
