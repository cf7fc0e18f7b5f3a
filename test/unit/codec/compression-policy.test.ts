/**
 * Sending side of heartbeat's compression (ha.cf `compression`, `compression_threshold`,
 * `traditional_compression`), as encodeNetstringFrame applies it when given a policy.
 * Proves: with traditional compression a message whose netstring body is larger than the
 * threshold leaves as heartbeat's two-field wrapper (no inner auth on the wrapper, signed
 * trailer) and one of exactly the threshold does not; the captured heartbeat message,
 * re-sent by tsbeat, inflates to the very same classic text heartbeat compressed (byte for
 * byte, trailing NUL included); without traditional compression only a message too big for
 * MAXMSG is compressed, and without a policy such a message is refused; the inner format
 * follows msgfmt; a wrapper is never wrapped again; and the ha.cf values map to the policy.
 */
import { describe, expect, it } from 'vitest';
import { latin1 } from '../../../src/codec/bytes.js';
import {
  COMPRESSED_PAYLOAD_FIELD,
  COMPRESSION_ALGORITHM_FIELD,
  type CompressionPolicy,
  compressionPolicy,
  compressMessage,
} from '../../../src/codec/compression.js';
import { decodeFrame, encodeNetstringFrame, parseFrame } from '../../../src/codec/frame.js';
import { MAX_FRAME_BYTES } from '../../../src/codec/limits.js';
import { type Message, message, removeField, stringField } from '../../../src/codec/model.js';
import { encodeNetstring } from '../../../src/codec/netstring.js';
import { authkeysText, keyringFor, keyringFromText, vectorBytes, vectorNamed } from './fixtures.js';

const keyring = keyringFromText(authkeysText(1, 'md5', 'secret'));
const traditional = (thresholdBytes: number, innerFormat: 'classic' | 'netstring' = 'classic') =>
  ({ traditional: true, thresholdBytes, innerFormat }) satisfies CompressionPolicy;

function userMessage(valueBytes: number): Message {
  return message([stringField('t', 'tsbeat-big'), stringField('data', 'x'.repeat(valueBytes))]);
}

/** Body length of `msg` as it would be sent without compression (no inner auth). */
function bodyBytes(msg: Message): number {
  const r = encodeNetstring(msg, 4 * 1024 * 1024);
  if (!r.ok) throw new Error(r.reason);
  return r.bytes.length;
}

describe('traditional compression on the sending side', () => {
  it('re-sends the captured heartbeat message as the same compressed classic text', () => {
    const v = vectorNamed('md5-traditional-compression.bin');
    const kr = keyringFor(v);
    const captured = decodeFrame(vectorBytes(v), kr);
    if (captured.outcome !== 'ok' || !captured.compressed) throw new Error('vector does not decode');
    // What heartbeat had before it signed and compressed: the message without its `auth`.
    const original = removeField(captured.message, 'auth');
    const sent = encodeNetstringFrame(original, kr, { innerAuth: true, compression: traditional(2048) });
    if (!sent.ok) throw new Error(sent.reason);
    expect(sent.compressed).toBe(true);
    const parsed = parseFrame(sent.bytes);
    if (!parsed.ok) throw new Error(parsed.reason);
    // The wrapper: exactly heartbeat's two fields, no src/seq/auth of its own.
    expect(parsed.frame.message.fields.map((f) => [f.name, f.kind])).toEqual([
      [COMPRESSED_PAYLOAD_FIELD, 'binary'],
      [COMPRESSION_ALGORITHM_FIELD, 'string'],
    ]);
    const back = decodeFrame(sent.bytes, kr);
    if (back.outcome !== 'ok' || !back.compressed) throw new Error(`re-sent frame: ${back.outcome}`);
    expect(back.compressed.format).toBe('classic');
    expect(latin1(back.compressed.text)).toBe(latin1(vectorBytes('md5-traditional-compression.inner.txt')));
  });

  it('compresses above the threshold and not at it', () => {
    // Find the value size whose body (with the inner auth field) is exactly 2048 bytes.
    const authLen = (m: Message) => {
      const r = encodeNetstringFrame(m, keyring, { innerAuth: true });
      if (!r.ok) throw new Error(r.reason);
      return bodyBytes(r.message);
    };
    let size = 2048 - authLen(userMessage(0));
    while (authLen(userMessage(size)) > 2048) size--;
    const atThreshold = userMessage(size);
    expect(authLen(atThreshold)).toBe(2048);
    expect(authLen(userMessage(size + 1))).toBe(2049);
    const at = encodeNetstringFrame(atThreshold, keyring, {
      innerAuth: true,
      compression: traditional(2048),
    });
    const over = encodeNetstringFrame(userMessage(size + 1), keyring, {
      innerAuth: true,
      compression: traditional(2048),
    });
    if (!at.ok || !over.ok) throw new Error('encode failed');
    expect(at.compressed).toBeUndefined();
    expect(latin1(at.bytes).startsWith('###\n15:(0)t=tsbeat-big,')).toBe(true);
    expect(over.compressed).toBe(true);
    expect(latin1(over.bytes)).toMatch(/^###\n\d+:\(1\)_compressed_payload=/);
    expect(over.bytes.length).toBeLessThan(400);
  });

  it('puts the msgfmt format inside: netstring without inner auth', () => {
    const sent = encodeNetstringFrame(userMessage(5000), keyring, {
      innerAuth: false,
      compression: traditional(1024, 'netstring'),
    });
    if (!sent.ok) throw new Error(sent.reason);
    const back = decodeFrame(sent.bytes, keyring);
    if (back.outcome !== 'ok' || !back.compressed) throw new Error(back.outcome);
    expect(back.compressed.format).toBe('netstring');
    expect(back.message.fields.map((f) => f.name)).toEqual(['t', 'data']);
    expect(latin1(back.compressed.text).endsWith('%%%\n')).toBe(true);
  });

  it('never wraps a wrapper again', () => {
    const inner = compressMessage(userMessage(20_000), 'classic');
    if (!inner.ok) throw new Error(inner.reason);
    const sent = encodeNetstringFrame(inner.message, keyring, {
      innerAuth: false,
      compression: traditional(1),
    });
    if (!sent.ok) throw new Error(sent.reason);
    expect(sent.compressed).toBeUndefined();
    const back = decodeFrame(sent.bytes, keyring);
    expect(back.outcome === 'ok' && back.compressed?.format).toBe('classic');
  });
});

describe('without traditional compression', () => {
  const policy: CompressionPolicy = { traditional: false, thresholdBytes: 2048, innerFormat: 'classic' };

  it('sends messages that fit in a frame as they are, however big', () => {
    const sent = encodeNetstringFrame(userMessage(100_000), keyring, {
      innerAuth: true,
      compression: policy,
    });
    if (!sent.ok) throw new Error(sent.reason);
    expect(sent.compressed).toBeUndefined();
    expect(sent.bytes.length).toBeGreaterThan(100_000);
  });

  it('compresses a message that would not fit in MAXMSG, which is refused without a policy', () => {
    const huge = userMessage(MAX_FRAME_BYTES + 10);
    const refused = encodeNetstringFrame(huge, keyring, { innerAuth: true });
    expect(refused.ok).toBe(false);
    const sent = encodeNetstringFrame(huge, keyring, { innerAuth: true, compression: policy });
    if (!sent.ok) throw new Error(sent.reason);
    expect(sent.compressed).toBe(true);
    expect(sent.bytes.length).toBeLessThan(MAX_FRAME_BYTES);
    const back = decodeFrame(sent.bytes, keyring);
    if (back.outcome !== 'ok') throw new Error(back.outcome);
    const data = back.message.fields.find((f) => f.name === 'data');
    expect(data?.kind === 'string' && data.value.length).toBe(MAX_FRAME_BYTES + 10);
  });
});

describe('compressionPolicy (ha.cf -> encoder)', () => {
  it.each([
    [{ traditionalCompression: false, compressionThresholdKb: 2, msgfmt: 'classic' as const }, false, 2048],
    [{ traditionalCompression: true, compressionThresholdKb: 1, msgfmt: 'netstring' as const }, true, 1024],
    [{ traditionalCompression: true, compressionThresholdKb: 64, msgfmt: 'classic' as const }, true, 65536],
  ])('%o', (haCf, trad, bytes) => {
    expect(compressionPolicy(haCf)).toEqual({
      traditional: trad,
      thresholdBytes: bytes,
      innerFormat: haCf.msgfmt,
    });
  });
});
