/**
 * Hostile and broken input, case by case. Each frame below is wrong in exactly one way
 * (a length that lies, a missing "(t)" tag, a non-digit length, no end marker, absurd
 * nesting, oversize, NUL bytes, bad base64, a zip bomb, an unknown algorithm, ...) and
 * must come back as the named verdict with a reason saying what is wrong, never as an
 * exception. Bodies are signed correctly where that matters, so a rejection is the
 * structure's fault, not the digest's. Also the accepted oddities heartbeat tolerates: a
 * trailing NUL, empty classic lines, an unchecked inner auth on netstring frames.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { computeDigest } from '../../../src/codec/auth/digest.js';
import { fromLatin1, latin1 } from '../../../src/codec/bytes.js';
import { COMPRESSED_PAYLOAD_FIELD, COMPRESSION_ALGORITHM_FIELD } from '../../../src/codec/compression.js';
import { type DecodeResult, decodeFrame, encodeNetstringFrame } from '../../../src/codec/frame.js';
import { MAX_FRAME_BYTES, MAX_UNCOMPRESSED_BYTES } from '../../../src/codec/limits.js';
import { binaryField, message, stringField } from '../../../src/codec/model.js';
import { describeDecodeResult } from '../../../src/codec/print.js';
import { keyringFromText } from './fixtures.js';

const keyring = keyringFromText('auth 1\n1 md5 secret\n');

/** A netstring frame from a raw body (latin1 text), with a correct trailer. */
function signed(body: string): Uint8Array {
  const a = `1 ${computeDigest('md5', fromLatin1('secret'), fromLatin1(body))}`;
  return fromLatin1(`${body}${a.length}:${a},`);
}

/** One `len:data,` netstring item with a true length. */
const item = (data: string): string => `${data.length}:${data},`;

const GOOD_BODY = `###\n${item('(0)t=status')}${item('(0)src=alpha')}%%%\n`;
const classicSigned = (lines: string): Uint8Array => {
  const digest = computeDigest('md5', fromLatin1('secret'), fromLatin1(lines));
  return fromLatin1(`>>>\n${lines}auth=1 ${digest}\n<<<\n`);
};

function decode(frame: Uint8Array | string): DecodeResult {
  return decodeFrame(typeof frame === 'string' ? fromLatin1(frame) : frame, keyring);
}

function expectMalformed(r: DecodeResult, reason: RegExp): void {
  expect(r.outcome).toBe('malformed');
  if (r.outcome === 'malformed') expect(r.reason).toMatch(reason);
}

describe('sanity', () => {
  it('the base frames are good', () => {
    expect(decode(signed(GOOD_BODY)).outcome).toBe('ok');
    expect(decode(classicSigned('t=status\nsrc=alpha\n')).outcome).toBe('ok');
  });
});

describe('netstring structure', () => {
  it.each([
    [
      'a field length that claims more than the frame holds',
      '###\n999:(0)t=status,%%%\n',
      /length 999 exceeds/,
    ],
    ['a field length that claims less than the field', '###\n5:(0)t=status,%%%\n', /not followed by ","/],
    ['a missing (t) type tag', '###\n8:t=status,%%%\n', /no "\(t\)" type tag/],
    ['a type tag that is not a digit', '###\n11:(x)t=status,%%%\n', /not a wire type/],
    ['type 5 (in-memory only)', '###\n11:(5)t=status,%%%\n', /not a wire type/],
    ['a non-digit length', '###\nab:(0)t=status,%%%\n', /not a decimal number/],
    ['a length with a leading zero', '###\n011:(0)t=status,%%%\n', /leading zero/],
    ['a length with absurdly many digits', `###\n${'9'.repeat(40)}:(0)t=status,%%%\n`, /too many digits/],
    ['a length not followed by ":"', '###\n11;(0)t=status,%%%\n', /not followed by ":"/],
    ['a field without "="', '###\n10:(0)tstatus,%%%\n', /no "="/],
    ['an empty field name', '###\n10:(0)=status,%%%\n', /empty field name/],
    ['a NUL in a string value', '###\n11:(0)t=sta\u0000us,%%%\n', /NUL/],
    ['an empty list', '###\n5:(3)l=,%%%\n', /list field "l" is empty/],
    ['a list element whose length lies', '###\n10:(3)l=9:ab,,%%%\n', /exceeds/],
    ['a struct whose body is not a message', `###\n${item('(2)s=abc')}%%%\n`, /in struct field "s"/],
    [
      'a struct with bytes after its end marker',
      `###\n${item(`(2)s=###\n${item('(0)a=')}%%%\nx`)}%%%\n`,
      /after its end marker/,
    ],
  ])('%s', (_what, body, reason) => {
    expectMalformed(decode(signed(body)), reason);
  });

  it('an unterminated frame (no "%%%\\n")', () => {
    expectMalformed(decode('###\n11:(0)t=status,12:(0)src=alpha,'), /unterminated/);
  });

  it('a frame cut inside a field', () => {
    expectMalformed(decode('###\n11:(0)t=sta'), /exceeds/);
  });

  it('an empty frame, and one in neither format', () => {
    expectMalformed(decode(''), /empty frame/);
    expectMalformed(decode('hello world'), /neither/);
    expectMalformed(decode('\u0000'), /neither/);
  });

  it('bytes after the auth trailer', () => {
    expectMalformed(decode(latin1(signed(GOOD_BODY)) + 'x'), /after the auth trailer/);
  });

  it.each([
    ['no space', '5:1abcd,'],
    ['no digest', '2:1 ,'],
    ['leading zero index', '6:01 abc,'],
    ['non-digit index', '5:x abc,'],
    ['whitespace in the digest', '7:1 ab cd,'],
  ])('an auth trailer with %s', (_what, trailer) => {
    expectMalformed(decode(GOOD_BODY + trailer), /auth trailer is not/);
  });

  it('absurd nesting depth (5000 levels) stops at the limit without recursing further', () => {
    let body = '###\n8:(0)leaf=,%%%\n';
    for (let i = 0; i < 5000; i++) {
      const item = `(2)s=${body}`;
      body = `###\n${item.length}:${item},%%%\n`;
    }
    expect(body.length).toBeLessThan(MAX_FRAME_BYTES);
    expectMalformed(decode(signed(body)), /nests deeper than 16/);
  });

  it('a frame over MAXMSG-1 bytes is refused before parsing', () => {
    const big = new Uint8Array(MAX_FRAME_BYTES + 1).fill(0x41);
    big.set(fromLatin1('###\n'));
    expectMalformed(decode(big), /exceeds MAXMSG/);
  });
});

describe('classic structure', () => {
  it.each([
    ['a line without "="', 't=status\nsrcalpha\n', /no "="/],
    ['an explicit (0) tag', '(0)t=status\n', /explicit "\(0\)"/],
    ['a bad tag', '(9)t=status\n', /type tag/],
    ['bad base64', '(1)u=@@@@\n', /base64/],
    ['base64 of the wrong length', '(1)u=QUJD=\n', /base64/],
    ['non-canonical base64 (unused bits set)', '(1)u=QR==\n', /base64/],
    ['an empty name', '=x\n', /empty field name/],
  ])('%s', (_what, lines, reason) => {
    expectMalformed(decode(classicSigned(lines)), reason);
  });

  it('no "<<<" end line', () => {
    expectMalformed(decode('>>>\nt=status\nsrc=alpha\n'), /unterminated/);
  });

  it('a last line without newline', () => {
    expectMalformed(decode('>>>\nt=status\nsrc=alpha'), /unterminated/);
  });

  it('a NUL inside the text', () => {
    expectMalformed(decode('>>>\nt=sta\u0000tus\n<<<\n'), /NUL/);
  });

  it('bytes after "<<<"', () => {
    expectMalformed(decode(latin1(classicSigned('t=status\n')) + 'x'), /after the "<<<"/);
  });

  it('an auth field that is not "<index> <digest>"', () => {
    expectMalformed(decode('>>>\nt=status\nauth=garbage\n<<<\n'), /auth field is not/);
  });

  it('a struct nested deeper than 16 levels', () => {
    // Depth k uses newline byte SYMS[k-1]; past the table there is nothing to use.
    const syms = [
      0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x0f, 0x10, 0x11, 0x12, 0x01,
    ];
    let inner = '';
    for (let depth = syms.length; depth >= 1; depth--) {
      const nl = String.fromCharCode(syms[depth - 1]!);
      inner = depth === syms.length ? `>>>${nl}leaf=1${nl}<<<${nl}` : `>>>${nl}(2)s=${inner}${nl}<<<${nl}`;
    }
    expectMalformed(decode(classicSigned(`(2)s=${inner}\n`)), /nests deeper than 16/);
  });
});

describe('compressed payloads (checked only after the wrapper verifies)', () => {
  const wrap = (payload: Uint8Array, algorithm = 'zlib'): Uint8Array => {
    const msg = message([
      binaryField(COMPRESSED_PAYLOAD_FIELD, payload),
      stringField(COMPRESSION_ALGORITHM_FIELD, algorithm),
    ]);
    const out = encodeNetstringFrame(msg, keyring, { innerAuth: false });
    if (!out.ok) throw new Error(out.reason);
    return out.bytes;
  };
  const inner = fromLatin1('>>>\nt=status\n<<<\n\u0000');

  it('a zip bomb is cut at MAXUNCOMPRESSED', () => {
    const bomb = new Uint8Array(deflateSync(new Uint8Array(MAX_UNCOMPRESSED_BYTES + 1024 * 1024)));
    expect(bomb.length).toBeLessThan(10_000);
    const r = decode(wrap(bomb));
    expectMalformed(r, /does not inflate/);
    expect(r.outcome === 'malformed' && r.frame?.format).toBe('netstring');
    // The wrapper itself was authentic; the JSON view says so next to the verdict.
    expect(describeDecodeResult(r, keyring)).toMatchObject({ verdict: 'malformed', auth: { verdict: 'ok' } });
  });

  it('bz2 is named but not supported', () => {
    expectMalformed(decode(wrap(inner, 'bz2')), /"bz2" is not supported/);
  });

  it('a corrupt zlib stream', () => {
    expectMalformed(decode(wrap(fromLatin1('definitely not zlib'))), /does not inflate/);
  });

  it('a payload that is not a message', () => {
    expectMalformed(decode(wrap(new Uint8Array(deflateSync(fromLatin1('hello'))))), /neither/);
  });

  it('a compressed message inside a compressed message', () => {
    const nested = encodeNetstringFrame(
      message([
        binaryField(COMPRESSED_PAYLOAD_FIELD, new Uint8Array(deflateSync(inner))),
        stringField(COMPRESSION_ALGORITHM_FIELD, 'zlib'),
      ]),
      keyring,
      { innerAuth: false },
    );
    if (!nested.ok) throw new Error(nested.reason);
    // The inner one as a netstring body without trailer.
    const text = latin1(nested.bytes);
    const body = text.slice(0, text.indexOf('%%%\n') + 4);
    expectMalformed(
      decode(wrap(new Uint8Array(deflateSync(fromLatin1(body))))),
      /another compressed message/,
    );
  });

  it('a good payload is inflated', () => {
    const r = decode(wrap(new Uint8Array(deflateSync(inner))));
    expect(r.outcome).toBe('ok');
    expect(r.outcome === 'ok' && r.compressed?.format).toBe('classic');
  });

  it('an unverified wrapper is not inflated at all', () => {
    const bytes = wrap(new Uint8Array(deflateSync(inner)));
    bytes[bytes.length - 3]! ^= 1;
    expect(decode(bytes).outcome).toBe('badDigest');
  });
});

describe('verdicts other than malformed', () => {
  it('netstring without trailer: noAuth', () => {
    expect(decode(GOOD_BODY).outcome).toBe('noAuth');
  });

  it('classic without auth field: noAuth', () => {
    expect(decode('>>>\nt=status\n<<<\n').outcome).toBe('noAuth');
  });

  it('an index above 15: unknownKeyIndex', () => {
    const a = `99 ${computeDigest('md5', fromLatin1('secret'), fromLatin1(GOOD_BODY))}`;
    expect(decode(`${GOOD_BODY}${a.length}:${a},`)).toMatchObject({
      outcome: 'unknownKeyIndex',
      authIndex: 99,
    });
  });
});

describe('oddities heartbeat tolerates', () => {
  it('a trailing NUL after a netstring frame', () => {
    const r = decode(`${latin1(signed(GOOD_BODY))}\u0000`);
    expect(r.outcome).toBe('ok');
    expect(r.outcome === 'ok' && r.frame.trailingNul).toBe(true);
  });

  it('empty lines in classic text', () => {
    const digest = computeDigest('md5', fromLatin1('secret'), fromLatin1('t=status\nsrc=alpha\n'));
    expect(decode(`>>>\n\nt=status\n\n\nsrc=alpha\nauth=1 ${digest}\n<<<\n`).outcome).toBe('ok');
  });

  it('a garbage inner auth field on a netstring frame is carried, not checked (spec §2.3)', () => {
    const body = `###\n${item('(0)t=status')}${item('(0)auth=garbage')}%%%\n`;
    expect(decode(signed(body)).outcome).toBe('ok');
  });

  it('the last of two classic auth fields is the one checked (isauthentic keeps the last)', () => {
    const digest = computeDigest('md5', fromLatin1('secret'), fromLatin1('t=status\n'));
    expect(decode(`>>>\nt=status\nauth=1 0000\nauth=1 ${digest}\n<<<\n`).outcome).toBe('ok');
    expect(decode(`>>>\nt=status\nauth=1 ${digest}\nauth=1 0000\n<<<\n`).outcome).toBe('badDigest');
  });
});
