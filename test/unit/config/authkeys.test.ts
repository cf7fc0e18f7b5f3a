/**
 * authkeys is read like heartbeat's auth.c: `auth N` must come before key N, the key is
 * one whitespace-free token taken literally (quotes included), crc takes no key, md5/sha1
 * need one, indexes are 0..15, and group/other-readable files are refused.
 */
import { describe, expect, it } from 'vitest';
import { authkeysModeProblem, parseAuthkeys, printAuthkeys } from '../../../src/config/authkeys.js';
import { formatDiagnostic } from '../../../src/lib/diagnostic.js';

const parse = (text: string) => parseAuthkeys(text, 'authkeys');
const errors = (text: string) =>
  parse(text)
    .diagnostics.filter((d) => d.severity === 'error')
    .map(formatDiagnostic);

describe('authkeys', () => {
  it('selects the signing key and keeps every key for verification', () => {
    const r = parse('# comment\nauth 3\n1 md5 "secret"\n2 crc\n3 sha1 s3cr3t\n');
    expect(r.keyring?.active).toMatchObject({ index: 3, method: 'sha1' });
    expect(Buffer.from(r.keyring!.active.key).toString()).toBe('s3cr3t');
    expect(Buffer.from(r.keyring!.keys.get(1)!.key).toString()).toBe('"secret"');
    expect(r.keyring!.keys.get(2)!.key.length).toBe(0);
  });

  it('keeps key bytes exactly, also non-ASCII ones', () => {
    const r = parse('auth 1\n1 sha1 k\xe9y\n');
    expect([...r.keyring!.active.key]).toEqual([0x6b, 0xe9, 0x79]);
  });

  it('ends a key at the first blank and warns', () => {
    const r = parse('auth 3\n3 sha1 "two words"\n');
    expect(Buffer.from(r.keyring!.active.key).toString()).toBe('"two');
    expect(r.diagnostics.map(formatDiagnostic).join('\n')).toMatch(
      /authkeys:2:\d+: warning: key ends at the first blank/,
    );
  });

  it('reads "auth1" and "authN" without a blank, as sscanf("auth %d") does', () => {
    expect(parse('auth1\n1 sha1 k\n').keyring?.active.index).toBe(1);
    expect(errors('authority 1\n1 sha1 k\n').join('\n')).toMatch(
      /authkeys:1:1: error: invalid auth line "authority 1"/,
    );
  });

  it('accepts CRLF line endings (sscanf treats CR as blank)', () => {
    const r = parse('auth 1\r\n1 md5 secret\r\n');
    expect(Buffer.from(r.keyring!.active.key).toString()).toBe('secret');
  });

  it.each([
    ['1 sha1 secret\n', /authkeys: error: missing "auth N" line/],
    ['auth 2\n1 sha1 secret\n', /authkeys:1:1: error: "auth 2" selects key 2, but no valid key 2 follows it/],
    ['1 sha1 secret\nauth 1\n', /move the "auth" line above it/],
    ['auth 1\n1 crc secret\n', /authkeys:2:7: error: auth method crc does not take a key/],
    ['auth 1\n1 md5\n', /authkeys:2:\d+: error: auth method md5 requires a key/],
    ['auth 1\n1 bogus key\n', /authkeys:2:3: error: unknown auth method "bogus"/],
    ['auth 16\n16 sha1 k\n', /error: auth index 16 is out of range/],
    ['auth x\n1 sha1 k\n', /authkeys:1:1: error: invalid auth line "auth x"/],
    ['auth 1\n1 sha1 k\ngarbage line\n', /authkeys:3:1: error: invalid key line "garbage line"/],
    ['auth 1\n-1 sha1 k\n1 sha1 k\n', /authkeys:2:1: error: key index -1 is out of range/],
  ])('rejects %j', (text, re) => {
    expect(errors(text).join('\n')).toMatch(re);
    expect(parse(text).keyring).toBeUndefined();
  });

  it('warns that crc is not authentication', () => {
    const r = parse('auth 1\n1 crc\n');
    expect(r.keyring?.active.method).toBe('crc');
    expect(r.diagnostics.some((d) => d.severity === 'warning' && /not authentication/.test(d.message))).toBe(
      true,
    );
  });

  it('refuses files readable by group or other, like heartbeat', () => {
    for (const mode of [0o644, 0o640, 0o604, 0o444]) expect(authkeysModeProblem(mode)).toBeDefined();
    for (const mode of [0o600, 0o400, 0o620, 0o700]) expect(authkeysModeProblem(mode)).toBeUndefined();
  });

  it('prints a keyring that parses back to the same keys', () => {
    const r = parse('auth 2\n1 md5 a\n2 sha1 b\n3 crc\n');
    const again = parse(printAuthkeys(r.keyring!));
    expect(again.keyring).toEqual(r.keyring);
  });
});
