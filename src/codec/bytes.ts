// Part: byte-level helpers for the codec: latin1 text, strict base64, hex and a bounded
// writer. Frames are bytes, never JS strings, because uuids and compressed payloads are
// raw binary; latin1 maps every byte to one char and back, so no byte is ever lost.

import { assert } from '../lib/assert.js';

/** One char per byte (U+0000..U+00FF): lossless for any byte sequence. */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end - start <= 1) return end > start ? String.fromCharCode(bytes[start]!) : '';
  // One builtin call per chunk, not one string per byte: the daemon's codec runs a few
  // times per heartbeat, mostly unoptimised, where a += loop allocates a string per byte.
  // apply() takes the typed array as the argument list; chunk it to stay under the limit.
  if (end - start <= 4096)
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let out = '';
  for (let i = start; i < end; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return out;
}

/** Inverse of latin1(). Every char must be below U+0100 (a programmer error otherwise). */
export function fromLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // The message is built only on failure: this runs for every byte of every field sent.
    if (c > 255) assert(false, `character U+${c.toString(16)} does not fit in one byte`);
    out[i] = c;
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Index of the first difference, or -1 when equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** True when `bytes` has `prefix` at `at`. */
export function startsWithAt(bytes: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (at < 0 || at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

export function indexOfByte(bytes: Uint8Array, byte: number, start: number, end: number): number {
  for (let i = start; i < end; i++) if (bytes[i] === byte) return i;
  return -1;
}

export function containsByte(bytes: Uint8Array, byte: number): boolean {
  return bytes.indexOf(byte) !== -1;
}

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_CODES = fromLatin1(B64_ALPHABET);
const B64_VALUES = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 64; i++) t[B64_CODES[i]!] = i;
  return t;
})();
const EQUALS = 0x3d;

/** Bytes of base64 text for `n` input bytes (RFC 4648, `=` padded, no line breaks). */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** RFC 4648 base64 with `=` padding and no line breaks, as cluster-glue's base64.c writes it. */
export function encodeBase64(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(base64Length(bytes.length));
  let o = 0;
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const chunk = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = B64_CODES[(chunk >> 18) & 63]!;
    out[o++] = B64_CODES[(chunk >> 12) & 63]!;
    out[o++] = B64_CODES[(chunk >> 6) & 63]!;
    out[o++] = B64_CODES[chunk & 63]!;
  }
  const left = bytes.length - i;
  if (left > 0) {
    const chunk = (bytes[i]! << 16) | (left === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = B64_CODES[(chunk >> 18) & 63]!;
    out[o++] = B64_CODES[(chunk >> 12) & 63]!;
    out[o++] = left === 2 ? B64_CODES[(chunk >> 6) & 63]! : EQUALS;
    out[o++] = EQUALS;
  }
  return out;
}

/**
 * Strict base64 decoding of bytes[start, end). Returns undefined unless the text is
 * exactly what encodeBase64 would produce for some input (length a multiple of 4, padding
 * only at the end, unused low bits zero). cluster-glue would also accept non-zero unused
 * bits, but its receiver re-renders the value before checking the inner auth digest, so
 * such a frame could never verify anyway; refusing it keeps decode/encode an identity.
 */
export function decodeBase64Strict(bytes: Uint8Array, start: number, end: number): Uint8Array | undefined {
  const n = end - start;
  if (n % 4 !== 0) return undefined;
  if (n === 0) return new Uint8Array(0);
  let pad = 0;
  if (bytes[end - 1] === EQUALS) pad = bytes[end - 2] === EQUALS ? 2 : 1;
  const out = new Uint8Array((n / 4) * 3 - pad);
  let o = 0;
  for (let i = start; i < end; i += 4) {
    const last = i + 4 === end;
    const a = B64_VALUES[bytes[i]!]!;
    const b = B64_VALUES[bytes[i + 1]!]!;
    const cRaw = bytes[i + 2]!;
    const dRaw = bytes[i + 3]!;
    const c = last && pad === 2 ? 0 : B64_VALUES[cRaw]!;
    const d = last && pad >= 1 ? 0 : B64_VALUES[dRaw]!;
    if (a < 0 || b < 0 || c < 0 || d < 0) return undefined;
    const chunk = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = (chunk >> 16) & 0xff;
    if (last && pad === 2) {
      if ((chunk & 0xffff) !== 0) return undefined;
      break;
    }
    out[o++] = (chunk >> 8) & 0xff;
    if (last && pad === 1) {
      if ((chunk & 0xff) !== 0) return undefined;
      break;
    }
    out[o++] = chunk & 0xff;
  }
  return out;
}

/**
 * An append-only byte buffer that refuses to grow past `limitBytes`. Once a write would
 * cross the limit the writer stops writing and remembers it (`overflowed`), so encoders
 * can build without checking every step and still never allocate beyond the limit.
 */
export class ByteWriter {
  readonly limitBytes: number;
  private buf: Uint8Array;
  private len = 0;
  overflowed = false;

  constructor(limitBytes: number, initialBytes = 512) {
    this.limitBytes = limitBytes;
    this.buf = new Uint8Array(Math.min(initialBytes, limitBytes));
  }

  get lengthBytes(): number {
    return this.len;
  }

  private reserve(n: number): boolean {
    if (this.overflowed) return false;
    const need = this.len + n;
    if (need > this.limitBytes) {
      this.overflowed = true;
      return false;
    }
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.min(this.limitBytes, Math.max(need, this.buf.length * 2)));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    return true;
  }

  bytes(b: Uint8Array): this {
    if (this.reserve(b.length)) {
      this.buf.set(b, this.len);
      this.len += b.length;
    }
    return this;
  }

  byte(b: number): this {
    if (this.reserve(1)) this.buf[this.len++] = b;
    return this;
  }

  /** ASCII text (names, decimal numbers, digests); chars must be below U+0100. */
  text(s: string): this {
    if (this.reserve(s.length)) {
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        assert(c < 256, 'ByteWriter.text: non-latin1 character');
        this.buf[this.len++] = c;
      }
    }
    return this;
  }

  /** A copy of what was written, exactly `lengthBytes` long. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
