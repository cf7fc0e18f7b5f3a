/**
 * The three auth methods and the verification rules. crc: heartbeat's CRC-32 (MSB-first
 * 0x04C11DB7, init 0, complemented) matches its published check value, a bit-by-bit
 * reference model on random inputs, and is NOT zlib's CRC-32; its text has no zero
 * padding. md5/sha1: RFC 2202 HMAC test cases, including keys longer than a block. Then
 * the 3.0.6 receiver quirk of spec §3.4, reproduced on purpose: a netstring trailer is
 * checked with the algorithm of the index it names but the receiver's ACTIVE key, a
 * classic inner auth field with that index's own key.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crcDigestText, heartbeatCrc32 } from '../../../src/codec/auth/crc.js';
import { computeDigest } from '../../../src/codec/auth/digest.js';
import { type AuthKey, makeKeyring } from '../../../src/codec/auth/keyring.js';
import { fromLatin1, latin1 } from '../../../src/codec/bytes.js';
import {
  decodeFrame,
  encodeClassicFrame,
  encodeNetstringFrame,
  verificationKey,
} from '../../../src/codec/frame.js';
import { messageFromPairs } from '../../../src/codec/model.js';
import { keyringFromText } from './fixtures.js';

/** Textbook bit-serial CRC, written independently of the table-driven one. */
function bitwiseCrc(data: Uint8Array): number {
  let reg = 0;
  for (const byte of data) {
    for (let bit = 7; bit >= 0; bit--) {
      const inBit = (byte >> bit) & 1;
      const top = (reg >>> 31) & 1;
      reg = (reg << 1) >>> 0;
      if ((top ^ inBit) === 1) reg = (reg ^ 0x04c11db7) >>> 0;
    }
  }
  return ~reg >>> 0;
}

const bytesOf = (hex: string): Uint8Array =>
  Uint8Array.from(hex.match(/../g)!.map((h) => Number.parseInt(h, 16)));

describe('crc', () => {
  it('has the check value 765e7680 for "123456789"', () => {
    expect(crcDigestText(fromLatin1('123456789'))).toBe('765e7680');
  });

  it('agrees with a bit-serial model on random inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        expect(heartbeatCrc32(data)).toBe(bitwiseCrc(data));
      }),
      { numRuns: 500 },
    );
  });

  it('is not zlib CRC-32', async () => {
    const zlib = await import('node:zlib');
    const data = fromLatin1('123456789');
    // zlib's (reflected, init ~0) CRC-32 check value is cbf43926.
    const z = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
    if (z) expect(z(data).toString(16)).toBe('cbf43926');
    expect(crcDigestText(data)).not.toBe('cbf43926');
  });

  it('prints %lx: no leading zeros', () => {
    // Find inputs whose CRC is below 0x10000000 and check the text length.
    const found: string[] = [];
    for (let i = 0; found.length < 3 && i < 100_000; i++) {
      const data = fromLatin1(`frame-${i}`);
      if (heartbeatCrc32(data) < 0x10000000) found.push(crcDigestText(data));
    }
    expect(found.length).toBe(3);
    for (const t of found) {
      expect(t.length).toBeLessThan(8);
      expect(t.startsWith('0')).toBe(false);
      expect(t).toMatch(/^[0-9a-f]+$/);
    }
  });
});

describe('hmac (RFC 2202)', () => {
  it.each([
    ['md5', '0b'.repeat(16), 'Hi There', '9294727a3638bb1c13f48ef8158bfc9d'],
    ['md5', '4a656665', 'what do ya want for nothing?', '750c783e6ab0b503eaa86e310a5db738'],
    [
      'md5',
      'aa'.repeat(80),
      'Test Using Larger Than Block-Size Key - Hash Key First',
      '6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd',
    ],
    ['sha1', '0b'.repeat(20), 'Hi There', 'b617318655057264e28bc0b6fb378c8ef146be00'],
    ['sha1', '4a656665', 'what do ya want for nothing?', 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'],
    [
      'sha1',
      'aa'.repeat(80),
      'Test Using Larger Than Block-Size Key - Hash Key First',
      'aa4ae5e15272d00e95705637ce8a3b55ed402112',
    ],
  ] as const)('%s key=%s', (method, keyHex, data, expected) => {
    expect(computeDigest(method, bytesOf(keyHex), fromLatin1(data))).toBe(expected);
  });
});

describe('hmac from precomputed pads', () => {
  // computeDigest keeps the padded keys per key and hashes with crypto.hash (src/codec/auth/
  // digest.ts); node:crypto's createHmac is the reference, for both paths (data up to 4 KiB
  // padded, larger through createHmac), keys shorter and longer than a block, and the same
  // key array used again and again.
  const reference = (method: 'md5' | 'sha1', key: Uint8Array, data: Uint8Array): string =>
    createHmac(method, key).update(data).digest('hex');

  it('equals createHmac on random keys and data', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('md5' as const, 'sha1' as const),
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.uint8Array({ maxLength: 5000 }), { minLength: 1, maxLength: 4 }),
        (method, key, datas) => {
          for (const data of datas)
            expect(computeDigest(method, key, data)).toBe(reference(method, key, data));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('equals createHmac at the edges of the padded path and after a shorter message', () => {
    const key = fromLatin1('tsbeat-failover-bench');
    for (const n of [0, 1, 63, 64, 65, 4095, 4096, 4097, 300, 10]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
      expect(computeDigest('sha1', key, data)).toBe(reference('sha1', key, data));
      expect(computeDigest('md5', key, data)).toBe(reference('md5', key, data));
    }
  });

  it('notices a key array changed in place', () => {
    const key = fromLatin1('secret-one');
    const data = fromLatin1('t=status\n');
    expect(computeDigest('sha1', key, data)).toBe(reference('sha1', key, data));
    key[0] = 0x53;
    expect(computeDigest('sha1', key, data)).toBe(reference('sha1', key, data));
  });
});

describe('a sender hearing its own frame', () => {
  // HaNode takes the echo of its last frame as the message it encoded (ha-node.ts ownEcho);
  // that is exact only because decoding a frame we signed gives back that message.
  it('decodes to the message encodeNetstringFrame says it sent', () => {
    const name = fc.stringMatching(/^[a-z_][a-z0-9_-]{0,11}$/).filter((n) => n !== 'auth');
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            name,
            fc.uint8Array({ maxLength: 40 }).map((v) => v.map((b) => b || 1)),
          ),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        fc.boolean(),
        fc.constantFrom('crc', 'md5', 'sha1'),
        (pairs, innerAuth, method) => {
          const kr = makeKeyring([{ index: 1, method, key: fromLatin1('k') }], 1)!;
          const msg = { fields: pairs.map(([n, v]) => ({ name: n, kind: 'string' as const, value: v })) };
          const sent = encodeNetstringFrame(msg, kr, { innerAuth });
          if (!sent.ok) return;
          const back = decodeFrame(sent.bytes, kr);
          expect(back.outcome).toBe('ok');
          if (back.outcome === 'ok') expect(back.message).toEqual(sent.message);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the 3.0.6 receiver quirk (spec §3.4)', () => {
  // The lab's receiver: auth 1 / 1 md5 secret / 2 sha1 secret2.
  const receiver = keyringFromText('auth 1\n1 md5 secret\n2 sha1 secret2\n');
  const msg = messageFromPairs([
    ['t', 'status'],
    ['st', 'active'],
    ['src', 'bravo'],
    ['seq', '5'],
    ['hg', '6b0353ca'],
    ['ts', '6b0353c9'],
  ]);
  const signer = (key: AuthKey) => makeKeyring([key], key.index)!;
  const sha1With = (key: string): AuthKey => ({ index: 2, method: 'sha1', key: fromLatin1(key) });

  it('netstring: index 2 with index 2 own key (secret2) is rejected', () => {
    const frame = encodeNetstringFrame(msg, signer(sha1With('secret2')), { innerAuth: true });
    if (!frame.ok) throw new Error(frame.reason);
    expect(decodeFrame(frame.bytes, receiver)).toMatchObject({
      outcome: 'badDigest',
      authIndex: 2,
      method: 'sha1',
    });
  });

  it("netstring: index 2's algorithm (sha1) keyed with the active key (secret) is accepted", () => {
    const frame = encodeNetstringFrame(msg, signer(sha1With('secret')), { innerAuth: false });
    if (!frame.ok) throw new Error(frame.reason);
    expect(decodeFrame(frame.bytes, receiver)).toMatchObject({ outcome: 'ok', authIndex: 2, method: 'sha1' });
  });

  it('classic: index 2 checks with its own key, as expected', () => {
    const good = encodeClassicFrame(msg, signer(sha1With('secret2')));
    const quirky = encodeClassicFrame(msg, signer(sha1With('secret')));
    if (!good.ok || !quirky.ok) throw new Error('encode');
    expect(decodeFrame(good.bytes, receiver)).toMatchObject({ outcome: 'ok', authIndex: 2, method: 'sha1' });
    expect(decodeFrame(quirky.bytes, receiver)).toMatchObject({ outcome: 'badDigest', authIndex: 2 });
  });

  it('verificationKey spells the rule out', () => {
    expect(verificationKey(receiver, 'netstring', 2)).toEqual({ method: 'sha1', key: fromLatin1('secret') });
    expect(verificationKey(receiver, 'classic', 2)).toEqual({ method: 'sha1', key: fromLatin1('secret2') });
    expect(verificationKey(receiver, 'netstring', 7)).toBeUndefined();
    expect(verificationKey(receiver, 'classic', 16)).toBeUndefined();
  });

  it('an index with no key line is unknownKeyIndex, for both formats', () => {
    const three = signer({ index: 3, method: 'md5', key: fromLatin1('secret') });
    const ns = encodeNetstringFrame(msg, three, { innerAuth: true });
    const cl = encodeClassicFrame(msg, three);
    if (!ns.ok || !cl.ok) throw new Error('encode');
    expect(decodeFrame(ns.bytes, receiver)).toMatchObject({ outcome: 'unknownKeyIndex', authIndex: 3 });
    expect(decodeFrame(cl.bytes, receiver)).toMatchObject({ outcome: 'unknownKeyIndex', authIndex: 3 });
  });
});

describe('digest comparison is exact text', () => {
  const keyring = keyringFromText('auth 1\n1 md5 secret\n');
  const msg = messageFromPairs([
    ['t', 'status'],
    ['src', 'alpha'],
  ]);

  it('rejects an uppercase hex digest of the right value', () => {
    const frame = encodeNetstringFrame(msg, keyring, { innerAuth: false });
    if (!frame.ok) throw new Error(frame.reason);
    const text = latin1(frame.bytes);
    const upper = text.replace(
      /(\d+:1 )([0-9a-f]+),$/,
      (_m, head: string, d: string) => `${head}${d.toUpperCase()},`,
    );
    expect(upper).not.toBe(text);
    expect(decodeFrame(fromLatin1(upper), keyring).outcome).toBe('badDigest');
  });

  it('rejects a zero-padded crc digest', () => {
    const crc = keyringFromText('auth 1\n1 crc\n');
    // Search a message whose crc text is shorter than 8 digits, then pad it.
    for (let i = 0; i < 100_000; i++) {
      const m = messageFromPairs([
        ['t', 'status'],
        ['seq', i.toString(16)],
      ]);
      const frame = encodeNetstringFrame(m, crc, { innerAuth: false });
      if (!frame.ok) throw new Error(frame.reason);
      const text = latin1(frame.bytes);
      const digest = /:1 ([0-9a-f]+),$/.exec(text)![1]!;
      if (digest.length === 8) continue;
      expect(decodeFrame(frame.bytes, crc).outcome).toBe('ok');
      const padded = digest.padStart(8, '0');
      const a = `1 ${padded}`;
      const tampered = text.replace(/\d+:1 [0-9a-f]+,$/, `${a.length}:${a},`);
      expect(decodeFrame(fromLatin1(tampered), crc).outcome).toBe('badDigest');
      return;
    }
    throw new Error('no short crc digest found');
  });
});
