/**
 * Golden-vector tests against real heartbeat 3.0.6 traffic. For every frame listed in
 * test/fixtures/wire/index.json (so new captures are covered without touching this file):
 * the frame decodes, verifies with its authkeys line with the expected index, method and
 * digests (trailer and inner auth field, signed length), holds the fields its summary
 * names, and re-encodes byte for byte: netstring and classic, serial and UDP, the crc
 * digest printed without zero padding, the quoted key, and the traditional compression
 * frame (whose payload must inflate to the captured inner text, itself signed correctly).
 * Then the other direction: every single flipped bit anywhere in the frame, a wrong key,
 * a missing key index, and every truncation is rejected.
 */
import { describe, expect, it } from 'vitest';
import { latin1 } from '../../../src/codec/bytes.js';
import { checkInnerAuth, decodeFrame, parseFrame, reencodeFrame } from '../../../src/codec/frame.js';
import { getField, getString } from '../../../src/codec/model.js';
import { authkeysText, keyringFor, keyringFromText, summaryPairs, VECTORS, vectorBytes } from './fixtures.js';

describe.each(VECTORS.map((v) => [v.file, v] as const))('%s', (_file, v) => {
  const bytes = vectorBytes(v);
  const keyring = keyringFor(v);

  it('decodes and verifies with its key, index and method', () => {
    expect(bytes.length).toBe(v.payload_len);
    const r = decodeFrame(bytes, keyring);
    expect(r.outcome, JSON.stringify(r.outcome === 'malformed' ? r.reason : r.outcome)).toBe('ok');
    if (r.outcome !== 'ok') return;
    expect(r.frame.format).toBe(v.format);
    expect(r.authIndex).toBe(Number(v.authnum));
    expect(r.method).toBe(v.method);
    expect(r.frame.auth?.index).toBe(Number(v.authnum));
    if (v.format === 'netstring') {
      expect(r.frame.auth?.digest).toBe(v.trailer_digest);
      expect(r.frame.signed?.length).toBe(v.signed_len);
    } else {
      expect(r.frame.signed).toBeUndefined();
      expect(r.frame.auth?.digest).toBe(v.inner_auth_field_digest);
    }
  });

  it('carries the inner auth field the capture says, and it verifies', () => {
    const parsed = parseFrame(bytes);
    if (!parsed.ok) throw new Error(parsed.reason);
    const inner = checkInnerAuth(parsed.frame.message, keyring);
    if (v.inner_auth_field_digest === null) {
      expect(getField(parsed.frame.message, 'auth')).toBeUndefined();
      expect(inner.outcome).toBe('noAuth');
    } else {
      expect(getString(parsed.frame.message, 'auth')).toBe(`${v.authnum} ${v.inner_auth_field_digest}`);
      expect(inner).toEqual({ outcome: 'ok', authIndex: Number(v.authnum), method: v.method });
    }
  });

  it('holds the fields named in its summary', () => {
    const r = decodeFrame(bytes, keyring);
    if (r.outcome !== 'ok') throw new Error(r.outcome);
    for (const [name, value] of summaryPairs(v)) expect(getString(r.message, name), name).toBe(value);
  });

  it('re-encodes byte for byte', () => {
    const parsed = parseFrame(bytes);
    if (!parsed.ok) throw new Error(parsed.reason);
    const again = reencodeFrame(parsed.frame, keyring);
    if (!again.ok) throw new Error(again.reason);
    expect(latin1(again.bytes)).toBe(latin1(bytes));
  });

  it('rejects every single flipped bit', () => {
    const accepted: string[] = [];
    const copy = bytes.slice();
    for (let i = 0; i < copy.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        copy[i] = bytes[i]! ^ (1 << bit);
        if (decodeFrame(copy, keyring).outcome === 'ok') accepted.push(`byte ${i} bit ${bit}`);
      }
      copy[i] = bytes[i]!;
    }
    expect(accepted).toEqual([]);
  });

  it('rejects every truncation', () => {
    // A trailing NUL is optional (spec §9 item 4): dropping only that still verifies.
    const whole = bytes[bytes.length - 1] === 0 ? bytes.length - 1 : bytes.length;
    const accepted: number[] = [];
    for (let n = 0; n < whole; n++)
      if (decodeFrame(bytes.subarray(0, n), keyring).outcome === 'ok') accepted.push(n);
    expect(accepted).toEqual([]);
    expect(decodeFrame(bytes.subarray(0, whole), keyring).outcome).toBe('ok');
  });

  it('rejects a wrong key and an unknown key index', () => {
    const wrong =
      v.method === 'crc'
        ? // crc has no key to get wrong: the same index with a keyed method must fail.
          keyringFromText(authkeysText(v.authnum, 'md5', 'secret'))
        : keyringFromText(authkeysText(v.authnum, v.method, `${v.key ?? ''}x`));
    const r = decodeFrame(bytes, wrong);
    expect(r.outcome).toBe('badDigest');
    const otherIndex = Number(v.authnum) === 3 ? 4 : 3;
    const missing = decodeFrame(bytes, keyringFromText(authkeysText(otherIndex, v.method, v.key)));
    expect(missing).toMatchObject({ outcome: 'unknownKeyIndex', authIndex: Number(v.authnum) });
  });
});

describe('the vector set', () => {
  it('covers every auth method, both formats, the quirky cases and no stray files', async () => {
    const { readdirSync } = await import('node:fs');
    const { WIRE_FIXTURES } = await import('./fixtures.js');
    const listed = new Set(VECTORS.map((v) => v.file));
    const frames = readdirSync(WIRE_FIXTURES).filter(
      (f) => /\.(bin|txt)$/.test(f) && !f.endsWith('.inner.txt'),
    );
    expect(frames.filter((f) => !listed.has(f))).toEqual([]);
    expect(new Set(VECTORS.map((v) => v.method))).toEqual(new Set(['crc', 'md5', 'sha1']));
    expect(new Set(VECTORS.map((v) => v.format))).toEqual(new Set(['netstring', 'classic']));
    // A crc digest printed with %lx can be shorter than 8 digits: one must be in the set.
    expect(VECTORS.some((v) => v.method === 'crc' && (v.trailer_digest?.length ?? 8) < 8)).toBe(true);
    expect(VECTORS.some((v) => v.key?.startsWith('"'))).toBe(true);
  });
});

describe('traditional compression vector', () => {
  const bytes = vectorBytes('md5-traditional-compression.bin');
  const innerText = vectorBytes('md5-traditional-compression.inner.txt');
  const keyring = keyringFromText(authkeysText(1, 'md5', 'secret'));

  it('inflates to the captured classic text and exposes the inner message', () => {
    const r = decodeFrame(bytes, keyring);
    if (r.outcome !== 'ok') throw new Error(r.outcome);
    expect(r.compressed?.algorithm).toBe('zlib');
    expect(r.compressed?.format).toBe('classic');
    expect(latin1(r.compressed!.text)).toBe(latin1(innerText));
    expect(getString(r.message, 't')).toBe('wa-big');
    expect(r.message.fields.length).toBeGreaterThan(10);
    // The outer wrapper has no src/seq/ts of its own.
    expect(r.frame.message.fields.map((f) => f.name)).toEqual([
      '_compressed_payload',
      '_compression_algorithm',
    ]);
  });

  it('carries an inner auth field signed like any classic message', () => {
    const r = decodeFrame(bytes, keyring);
    if (r.outcome !== 'ok') throw new Error(r.outcome);
    expect(checkInnerAuth(r.message, keyring)).toMatchObject({ outcome: 'ok', authIndex: 1, method: 'md5' });
  });
});
