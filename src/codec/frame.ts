// Part: whole frames as they cross a medium: netstring + auth trailer (UDP) and classic +
// inner `auth` field (serial, and accepted on UDP). Decoding returns a closed union of
// verdicts and never throws; encoding signs exactly the bytes heartbeat 3.0.6 signs.

import { authString, computeDigest } from './auth/digest.js';
import type { AuthKey, AuthMethod, Keyring } from './auth/keyring.js';
import { fromLatin1, latin1, startsWithAt } from './bytes.js';
import { CLASSIC_START, classicAuthText, encodeClassic, parseClassicBody } from './classic.js';
import {
  type CompressionPolicy,
  compressMessage,
  type Decompressed,
  decompressMessage,
  isCompressedMessage,
  type WireFormat,
} from './compression.js';
import { MAX_AUTH_INDEX, MAX_FRAME_BYTES, MAX_UNCOMPRESSED_BYTES } from './limits.js';
import {
  getField,
  type Malformed,
  type Message,
  malformed,
  mustUseNetstring,
  setField,
  stringField,
} from './model.js';
import { encodeNetstring, NETSTRING_START, parseNetstringBody, peelNetstring } from './netstring.js';

export type { WireFormat } from './compression.js';

/** Name of the inner auth field (F_AUTH): protocol spelling. */
export const AUTH_FIELD = 'auth';

const NUL = 0x00;
const SPACE = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** `"<index> <digest>"` as found in a trailer or an `auth` field. */
export interface FrameAuth {
  readonly index: number;
  readonly digest: string;
}

/** A frame whose structure is sound; its authenticity is judged separately. */
export interface DecodedFrame {
  readonly format: WireFormat;
  /** The message exactly as it travelled (for traditional compression: the two-field wrapper). */
  readonly message: Message;
  /** netstring: the trailer; classic: the inner `auth` field. undefined when there is none. */
  readonly auth: FrameAuth | undefined;
  /** netstring: the bytes the trailer signs, "###\n" through "%%%\n"; undefined for classic. */
  readonly signed: Uint8Array | undefined;
  /** A NUL followed the frame (classic text on UDP carries one; spec §9 item 4). */
  readonly trailingNul: boolean;
  readonly sizeBytes: number;
}

/**
 * Verification outcomes, after keepalived's vrrp_auth_hmac.h: a closed set, each with what
 * a log line needs. `malformed` also covers a sound frame whose compressed payload is bad.
 */
export type DecodeResult =
  | {
      readonly outcome: 'ok';
      readonly frame: DecodedFrame;
      /** What the receiver acts on: the decompressed payload for a compressed frame. */
      readonly message: Message;
      readonly authIndex: number;
      readonly method: AuthMethod;
      readonly compressed: Decompressed | undefined;
    }
  | {
      readonly outcome: 'malformed';
      readonly reason: string;
      readonly offsetBytes: number;
      readonly frame: DecodedFrame | undefined;
    }
  | { readonly outcome: 'noAuth'; readonly frame: DecodedFrame }
  | { readonly outcome: 'unknownKeyIndex'; readonly frame: DecodedFrame; readonly authIndex: number }
  | {
      readonly outcome: 'badDigest';
      readonly frame: DecodedFrame;
      readonly authIndex: number;
      readonly method: AuthMethod;
      readonly receivedDigest: string;
      readonly computedDigest: string;
    };

export type VerificationOutcome = DecodeResult['outcome'];

/** The verdict on one digest, without the frame around it. */
export type AuthCheck =
  | { readonly outcome: 'ok'; readonly authIndex: number; readonly method: AuthMethod }
  | { readonly outcome: 'malformed'; readonly reason: string; readonly offsetBytes: number }
  | { readonly outcome: 'noAuth' }
  | { readonly outcome: 'unknownKeyIndex'; readonly authIndex: number }
  | {
      readonly outcome: 'badDigest';
      readonly authIndex: number;
      readonly method: AuthMethod;
      readonly receivedDigest: string;
      readonly computedDigest: string;
    };

/**
 * Parse `"<index> <digest>"` (heartbeat: sscanf "%d %s"). Canonical form only: a decimal
 * index without leading zeros, one space, a digest without whitespace.
 */
function parseAuthText(bytes: Uint8Array, start: number, end: number): FrameAuth | undefined {
  let p = start;
  let index = 0;
  while (p < end && p - start < 3 && bytes[p]! >= DIGIT_0 && bytes[p]! <= DIGIT_9) {
    index = index * 10 + (bytes[p]! - DIGIT_0);
    p++;
  }
  const digits = p - start;
  if (digits === 0 || (digits > 1 && bytes[start] === DIGIT_0)) return undefined;
  if (p >= end || bytes[p] !== SPACE) return undefined;
  p++;
  if (p >= end) return undefined;
  for (let i = p; i < end; i++) {
    const c = bytes[i]!;
    // %s stops at whitespace; a digest with any is not one heartbeat could have written.
    if (c === SPACE || (c >= 0x09 && c <= 0x0d) || c === NUL) return undefined;
  }
  return { index, digest: latin1(bytes, p, end) };
}

/** Inner `auth` field of a message as heartbeat's isauthentic() reads it. */
function innerAuthOf(msg: Message): FrameAuth | undefined | 'unparsable' {
  // isauthentic() walks every field and keeps the LAST `auth` it sees.
  let last: Message['fields'][number] | undefined;
  const fields = msg.fields;
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === AUTH_FIELD) last = fields[i];
  if (!last) return undefined;
  if (last.kind !== 'string') return 'unparsable';
  return parseAuthText(last.value, 0, last.value.length) ?? 'unparsable';
}

/**
 * Structure only: split a received datagram or serial frame into message and auth data,
 * without judging the digest. Copies the input once (values are views into that copy), so
 * the caller may reuse its buffer; allocates nothing larger than the frame.
 */
export function parseFrame(
  input: Uint8Array,
): { readonly ok: true; readonly frame: DecodedFrame } | Malformed {
  if (input.length > MAX_FRAME_BYTES) {
    return malformed(`frame of ${input.length} bytes exceeds MAXMSG-1 (${MAX_FRAME_BYTES})`, MAX_FRAME_BYTES);
  }
  // A real copy: Buffer.prototype.slice (a dgram message is a Buffer) would be a view, and
  // views of a plain Uint8Array are cheaper than Buffer views.
  const bytes = new Uint8Array(input);
  const trailingNul = bytes.length > 0 && bytes[bytes.length - 1] === NUL;
  const end = trailingNul ? bytes.length - 1 : bytes.length;
  if (startsWithAt(bytes, NETSTRING_START, 0)) {
    const body = parseNetstringBody(bytes, 0, end, 0);
    if (!body.ok) return body;
    let auth: FrameAuth | undefined;
    if (body.endOffset < end) {
      const item = peelNetstring(bytes, body.endOffset, end, 'auth trailer');
      if (!item.ok) return item;
      if (item.next !== end) return malformed('bytes after the auth trailer', item.next);
      auth = parseAuthText(bytes, item.dataStart, item.dataEnd);
      if (!auth) return malformed('auth trailer is not "<index> <digest>"', item.dataStart);
    }
    const frame: DecodedFrame = {
      format: 'netstring',
      message: body.message,
      auth,
      signed: bytes.subarray(0, body.endOffset),
      trailingNul,
      sizeBytes: input.length,
    };
    return { ok: true, frame };
  }
  if (startsWithAt(bytes, CLASSIC_START, 0)) {
    const body = parseClassicBody(bytes, 0, end, 0);
    if (!body.ok) return body;
    if (body.endOffset !== end) return malformed('bytes after the "<<<" end line', body.endOffset);
    const auth = innerAuthOf(body.message);
    if (auth === 'unparsable') return malformed('auth field is not "<index> <digest>"', 0);
    const frame: DecodedFrame = {
      format: 'classic',
      message: body.message,
      auth,
      signed: undefined,
      trailingNul,
      sizeBytes: input.length,
    };
    return { ok: true, frame };
  }
  if (bytes.length === 0) return malformed('empty frame', 0);
  return malformed('frame starts with neither "###\\n" (netstring) nor ">>>\\n" (classic)', 0);
}

/**
 * Which algorithm and which key a heartbeat 3.0.6 receiver uses to check a digest that
 * claims auth index `authIndex`. This reproduces a quirk of the real daemon on purpose:
 *
 * - netstring trailer (cl_netstring.c is_auth_netstring -> heartbeat.c
 *   hb_compute_authentication): the ALGORITHM of entry `authIndex`, but the KEY of the
 *   receiver's own active entry (`auth N`). With `auth 1 / 1 md5 secret / 2 sha1 secret2`
 *   a real node rejects sha1 frames keyed `secret2` with index 2 and accepts sha1 frames
 *   keyed `secret` (spec §3.4, verified in the lab).
 * - classic inner `auth` field (ha_msg_internal.c isauthentic): algorithm and key of entry
 *   `authIndex`, as one would expect.
 *
 * So two nodes interoperate only when they sign with the same index, method and key; with
 * a single key line (the normal case) both rules agree. undefined: no such entry.
 */
export function verificationKey(
  keyring: Keyring,
  format: WireFormat,
  authIndex: number,
): { readonly method: AuthMethod; readonly key: Uint8Array } | undefined {
  if (authIndex < 0 || authIndex > MAX_AUTH_INDEX) return undefined;
  const entry = keyring.keys.get(authIndex);
  if (!entry) return undefined;
  return format === 'netstring'
    ? { method: entry.method, key: keyring.active.key }
    : { method: entry.method, key: entry.key };
}

function judge(
  keyring: Keyring,
  format: WireFormat,
  auth: FrameAuth | undefined,
  signed: Uint8Array,
): AuthCheck {
  if (!auth) return { outcome: 'noAuth' };
  const k = verificationKey(keyring, format, auth.index);
  if (!k) return { outcome: 'unknownKeyIndex', authIndex: auth.index };
  const computed = computeDigest(k.method, k.key, signed);
  // heartbeat compares the strings exactly: a zero-padded crc or uppercase hex fails.
  if (computed === auth.digest) return { outcome: 'ok', authIndex: auth.index, method: k.method };
  return {
    outcome: 'badDigest',
    authIndex: auth.index,
    method: k.method,
    receivedDigest: auth.digest,
    computedDigest: computed,
  };
}

/**
 * Check the inner classic `auth` field of a message: the real check for classic frames,
 * informational for netstring frames (a 3.0.6 receiver carries it along unchecked).
 * The signed text is re-rendered from the parsed fields, as isauthentic() does.
 */
export function checkInnerAuth(msg: Message, keyring: Keyring): AuthCheck {
  const auth = innerAuthOf(msg);
  if (auth === 'unparsable')
    return { outcome: 'malformed', reason: 'auth field is not "<index> <digest>"', offsetBytes: 0 };
  if (!auth) return { outcome: 'noAuth' };
  const text = classicAuthText(msg, MAX_UNCOMPRESSED_BYTES);
  if (!text.ok) return { outcome: 'malformed', reason: text.reason, offsetBytes: 0 };
  return judge(keyring, 'classic', auth, text.bytes);
}

/** Judge a parsed frame's authenticity with `keyring` (see verificationKey for the rules). */
export function verifyFrame(frame: DecodedFrame, keyring: Keyring): AuthCheck {
  if (frame.format === 'classic') return checkInnerAuth(frame.message, keyring);
  return judge(keyring, 'netstring', frame.auth, frame.signed ?? new Uint8Array(0));
}

/**
 * Everything a receiver does with one datagram or serial frame: parse, verify, and (only
 * once authentic) inflate a traditional-compression payload, whose inner message is not
 * checked again, as in heartbeat. Never throws.
 */
export function decodeFrame(input: Uint8Array, keyring: Keyring): DecodeResult {
  const parsed = parseFrame(input);
  if (!parsed.ok)
    return { outcome: 'malformed', reason: parsed.reason, offsetBytes: parsed.offsetBytes, frame: undefined };
  const frame = parsed.frame;
  const check = verifyFrame(frame, keyring);
  switch (check.outcome) {
    case 'malformed':
      return { outcome: 'malformed', reason: check.reason, offsetBytes: check.offsetBytes, frame };
    case 'noAuth':
      return { outcome: 'noAuth', frame };
    case 'unknownKeyIndex':
      return { outcome: 'unknownKeyIndex', frame, authIndex: check.authIndex };
    case 'badDigest':
      return { ...check, frame };
    case 'ok':
      break;
  }
  let compressed: Decompressed | undefined;
  if (isCompressedMessage(frame.message)) {
    const d = decompressMessage(frame.message);
    if (!d.ok) return { outcome: 'malformed', reason: d.reason, offsetBytes: d.offsetBytes, frame };
    compressed = d;
  }
  return {
    outcome: 'ok',
    frame,
    message: compressed ? compressed.message : frame.message,
    authIndex: check.authIndex,
    method: check.method,
    compressed,
  };
}

export type FrameEncodeResult =
  | {
      readonly ok: true;
      readonly bytes: Uint8Array /** The message as sent, with its inner auth. */;
      readonly message: Message;
      /** The bytes are a traditional-compression wrapper around `message`. */
      readonly compressed?: boolean;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Compute the inner `auth` field over the classic text of every other field and set it
 * (replacing an existing one in place, else appending), as add_msg_auth() does.
 */
export function withInnerAuth(
  msg: Message,
  key: AuthKey,
): { ok: true; message: Message } | { ok: false; reason: string } {
  const text = classicAuthText(msg, MAX_UNCOMPRESSED_BYTES);
  if (!text.ok) return text;
  return { ok: true, message: setField(msg, stringField(AUTH_FIELD, authString(key, text.bytes))) };
}

export interface NetstringFrameOptions {
  /**
   * ha.cf `msgfmt classic` (heartbeat's default): add the inner `auth` field before
   * encoding. Like heartbeat, skipped for messages with struct or compressed fields
   * (must_use_netstring), which keep whatever `auth` field they have.
   */
  readonly innerAuth: boolean;
  /** Append a NUL. Heartbeat never does on netstring; only for reproducing a received frame. */
  readonly trailingNul?: boolean;
  /**
   * ha.cf `compression`, `compression_threshold`, `traditional_compression` (see
   * compressionPolicy): when given, a message over the threshold (traditional) or too big
   * for one frame is sent as a compressed wrapper, as heartbeat's msg2wirefmt does. Without
   * it nothing is compressed and a message too big for a frame is refused.
   */
  readonly compression?: CompressionPolicy;
}

function withNul(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/**
 * A UDP frame: netstring message + trailer `len:<index> <digest>,` signed with the
 * keyring's active key over "###\n" through "%%%\n" (msg2netstring in cl_netstring.c).
 */
export function encodeNetstringFrame(
  msg: Message,
  keyring: Keyring,
  options: NetstringFrameOptions,
): FrameEncodeResult {
  let toSend = msg;
  if (options.innerAuth && !mustUseNetstring(msg)) {
    const signed = withInnerAuth(msg, keyring.active);
    if (!signed.ok) return signed;
    toSend = signed.message;
  }
  const policy = options.compression;
  // With a policy the body may be built up to MAXUNCOMPRESSED: compression brings it back.
  const body = encodeNetstring(toSend, policy ? MAX_UNCOMPRESSED_BYTES : MAX_FRAME_BYTES);
  if (!body.ok) return body;
  const auth = authString(keyring.active, body.bytes);
  const trailer = fromLatin1(`${auth.length}:${auth},`);
  const total = body.bytes.length + trailer.length + (options.trailingNul ? 1 : 0);
  if (policy && shouldCompress(policy, body.bytes.length, total) && !isCompressedMessage(toSend)) {
    const wrapped = compressMessage(toSend, policy.innerFormat);
    if (!wrapped.ok) return wrapped;
    // The wrapper carries no inner auth (heartbeat signs only its trailer) and is never
    // compressed again.
    const sent = encodeNetstringFrame(wrapped.message, keyring, {
      innerAuth: false,
      ...(options.trailingNul ? { trailingNul: true } : {}),
    });
    return sent.ok ? { ...sent, message: toSend, compressed: true } : sent;
  }
  if (total > MAX_FRAME_BYTES)
    return { ok: false, reason: `frame of ${total} bytes exceeds MAXMSG-1 (${MAX_FRAME_BYTES})` };
  const out = new Uint8Array(total);
  out.set(body.bytes);
  out.set(trailer, body.bytes.length);
  return { ok: true, bytes: out, message: toSend };
}

/**
 * heartbeat's choice (spec §2.4): with traditional compression, any message whose netstring
 * body is larger than the threshold; otherwise only a message that would not fit in MAXMSG.
 */
function shouldCompress(policy: CompressionPolicy, bodyBytes: number, frameBytes: number): boolean {
  if (frameBytes > MAX_FRAME_BYTES) return true;
  return policy.traditional && bodyBytes > policy.thresholdBytes;
}

export interface ClassicFrameOptions {
  /** Append a NUL, as heartbeat does for classic text sent over UDP (not on serial). */
  readonly trailingNul?: boolean;
}

/** A serial-line frame: classic text with the inner `auth` field set (msg2stream). */
export function encodeClassicFrame(
  msg: Message,
  keyring: Keyring,
  options: ClassicFrameOptions = {},
): FrameEncodeResult {
  const signed = withInnerAuth(msg, keyring.active);
  if (!signed.ok) return signed;
  const text = encodeClassic(signed.message);
  if (!text.ok) return text;
  const bytes = options.trailingNul ? withNul(text.bytes) : text.bytes;
  if (bytes.length > MAX_FRAME_BYTES)
    return { ok: false, reason: `frame of ${bytes.length} bytes exceeds MAXMSG-1 (${MAX_FRAME_BYTES})` };
  return { ok: true, bytes, message: signed.message };
}

/**
 * Re-encode a decoded frame the way it arrived (same format, inner auth present or not,
 * trailing NUL or not), signing with the keyring's active key. For a frame signed by a
 * node with the same active key this reproduces the input byte for byte.
 */
export function reencodeFrame(frame: DecodedFrame, keyring: Keyring): FrameEncodeResult {
  if (frame.format === 'classic')
    return encodeClassicFrame(frame.message, keyring, { trailingNul: frame.trailingNul });
  return encodeNetstringFrame(frame.message, keyring, {
    innerAuth: getField(frame.message, AUTH_FIELD) !== undefined,
    trailingNul: frame.trailingNul,
  });
}
