// Part: plain-JSON views of messages and decode verdicts, for `tsbeat wire decode`, logs
// and tests. Pure: data in, data out.

import { assertNever } from '../lib/assert.js';
import type { Keyring } from './auth/keyring.js';
import { encodeBase64, latin1, toHex } from './bytes.js';
import { type AuthCheck, checkInnerAuth, type DecodeResult, verifyFrame } from './frame.js';
import type { Field, FieldKind, Message } from './model.js';
import { interpretField, messageType } from './wire-keys.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function uuidText(b: Uint8Array): string {
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function describeField(f: Field, typeText: string | undefined): { [key: string]: JsonValue } {
  const { readable, number } = interpretField(f, typeText);
  const out: { [key: string]: JsonValue } = { name: f.name };
  if (readable !== undefined) out['readable'] = readable;
  out['kind'] = f.kind satisfies FieldKind;
  switch (f.kind) {
    case 'string':
      out['value'] = latin1(f.value);
      if (number !== undefined) out['number'] = number;
      break;
    case 'binary':
    case 'compressed':
      out['hex'] = toHex(f.value);
      out['base64'] = latin1(encodeBase64(f.value));
      out['sizeBytes'] = f.value.length;
      if (f.kind === 'binary' && f.value.length === 16) out['uuid'] = uuidText(f.value);
      break;
    case 'list':
      out['items'] = f.value.map((v) => latin1(v));
      break;
    case 'struct':
      out['fields'] = describeFields(f.value);
      break;
    default:
      return assertNever(f, 'field');
  }
  return out;
}

export function describeFields(msg: Message): JsonValue[] {
  const t = messageType(msg);
  return msg.fields.map((f) => describeField(f, t));
}

export function describeMessage(msg: Message): { [key: string]: JsonValue } {
  return { type: messageType(msg) ?? null, fields: describeFields(msg) };
}

function describeCheck(c: AuthCheck): { [key: string]: JsonValue } {
  switch (c.outcome) {
    case 'ok':
      return { verdict: 'ok', index: c.authIndex, method: c.method };
    case 'malformed':
      return { verdict: 'malformed', reason: c.reason };
    case 'noAuth':
      return { verdict: 'noAuth' };
    case 'unknownKeyIndex':
      return { verdict: 'unknownKeyIndex', index: c.authIndex };
    case 'badDigest':
      return {
        verdict: 'badDigest',
        index: c.authIndex,
        method: c.method,
        digest: c.receivedDigest,
        computedDigest: c.computedDigest,
      };
    default:
      return assertNever(c, 'auth check');
  }
}

/**
 * The whole verdict on one frame. `innerAuth` (netstring frames that carry an `auth`
 * field) is informational only: a 3.0.6 receiver does not check it.
 */
export function describeDecodeResult(result: DecodeResult, keyring: Keyring): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = { verdict: result.outcome };
  if (result.outcome === 'malformed') {
    out['reason'] = result.reason;
    out['offsetBytes'] = result.offsetBytes;
  }
  const frame = result.frame;
  if (!frame) return out;
  out['format'] = frame.format;
  out['sizeBytes'] = frame.sizeBytes;
  if (frame.signed) out['signedLengthBytes'] = frame.signed.length;
  out['trailingNul'] = frame.trailingNul;
  const auth: { [key: string]: JsonValue } = {
    source: frame.format === 'netstring' ? 'trailer' : 'auth field',
  };
  if (frame.auth) auth['index'] = frame.auth.index;
  switch (result.outcome) {
    case 'ok':
      auth['method'] = result.method;
      break;
    case 'badDigest':
      auth['method'] = result.method;
      auth['computedDigest'] = result.computedDigest;
      break;
    case 'noAuth':
    case 'unknownKeyIndex':
    case 'malformed':
      break;
    default:
      assertNever(result, 'decode result');
  }
  if (frame.auth) auth['digest'] = frame.auth.digest;
  // A frame can be malformed after its digest checked out (a bad compressed payload):
  // report the digest's own verdict then, not the frame's.
  auth['verdict'] = result.outcome === 'malformed' ? verifyFrame(frame, keyring).outcome : result.outcome;
  out['auth'] = auth;
  if (frame.format === 'netstring' && frame.message.fields.some((f) => f.name === 'auth')) {
    out['innerAuth'] = {
      ...describeCheck(checkInnerAuth(frame.message, keyring)),
      checkedByHeartbeat: false,
    };
  }
  out['message'] = describeMessage(frame.message);
  if (result.outcome === 'ok' && result.compressed) {
    out['compressed'] = {
      algorithm: result.compressed.algorithm,
      format: result.compressed.format,
      sizeBytes: result.compressed.text.length,
      innerAuth: describeCheck(checkInnerAuth(result.compressed.message, keyring)),
      message: describeMessage(result.compressed.message),
    };
  }
  return out;
}
