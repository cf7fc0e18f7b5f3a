// Part: the classic ("nvpair") message format (cluster-glue lib/clplumbing/cl_msg.c
// string2msg_ll / msg2string_buf, cl_msg_types.c): ">>>\n", one `[(t)]name=value\n` line
// per field, "<<<\n". Used on serial lines, inside traditional compression, and as the
// text the inner `auth` field signs.

import { ByteWriter, decodeBase64Strict, encodeBase64, fromLatin1, latin1, startsWithAt } from './bytes.js';
import { MAX_FRAME_BYTES, MAX_NESTING_DEPTH } from './limits.js';
import {
  type EncodeResult,
  FIELD_TYPE_TAGS,
  type Field,
  fieldKindOfTag,
  fieldNameBytesProblem,
  type Malformed,
  type Message,
  malformed,
  type ParseResult,
} from './model.js';
import { fieldValueProblem, parseListValue, writeListValue } from './netstring.js';

const LF = 0x0a;
const NUL = 0x00;
const EQ = 0x3d;
const OPEN = 0x28;
const CLOSE = 0x29;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * A newline inside a string value is sent as this byte (SPECIAL_SYM in cl_msg_types.c)
 * and turned back into a newline on receipt, at every depth.
 */
export const STRING_NEWLINE_BYTE = 0x13;

/**
 * The newlines of a nested message's classic text are replaced by one byte per depth of
 * the message that holds it (SPECIAL_SYMS in cl_msg_types.c): 0x14 when the holder is at
 * depth 0, 0x15 at depth 1, ... 0x1f at depth 11, then 0x0f..0x12 for depths 12..15.
 * Protocol bytes: do not change.
 */
export const NESTING_NEWLINE_BYTES: readonly number[] = [
  0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x0f, 0x10, 0x11, 0x12,
];

export const CLASSIC_START = fromLatin1('>>>\n');
export const CLASSIC_END = fromLatin1('<<<\n');
const START_HEAD = fromLatin1('>>>');
const END_HEAD = fromLatin1('<<<');

/** The line separator of a message at `depth`: LF at the top, its holder's nesting byte below. */
function lineSeparator(depth: number): number {
  return depth === 0 ? LF : NESTING_NEWLINE_BYTES[depth - 1]!;
}

function isMarker(bytes: Uint8Array, head: Uint8Array, pos: number, end: number, nl: number): boolean {
  return pos + 4 <= end && startsWithAt(bytes, head, pos) && bytes[pos + 3] === nl;
}

interface BodyParsed {
  readonly ok: true;
  readonly message: Message;
  /** Offset just after the "<<<" end line. */
  readonly endOffset: number;
}

/**
 * Parse a classic message at `start`, not reading past `end`, at nesting `depth` (0 for a
 * frame). Like heartbeat, empty lines are skipped and a line is split at its first `=`.
 * Stricter than heartbeat where heartbeat would mis-parse: a NUL, a line without `=`, an
 * explicit "(0)" tag, bad base64 or a missing "<<<" line make the message malformed.
 */
export function parseClassicBody(
  bytes: Uint8Array,
  start: number,
  end: number,
  depth: number,
): BodyParsed | Malformed {
  const nl = lineSeparator(depth);
  if (!isMarker(bytes, START_HEAD, start, end, nl))
    return malformed('classic message does not start with ">>>"', start);
  const fields: Field[] = [];
  let pos = start + 4;
  for (;;) {
    if (pos >= end) return malformed('unterminated classic message: no "<<<" end line', pos);
    if (bytes[pos] === nl) {
      pos++;
      continue;
    }
    if (isMarker(bytes, END_HEAD, pos, end, nl)) return { ok: true, message: { fields }, endOffset: pos + 4 };
    let lineEnd = pos;
    while (lineEnd < end && bytes[lineEnd] !== nl) {
      if (bytes[lineEnd] === NUL) return malformed('NUL byte inside a classic message', lineEnd);
      lineEnd++;
    }
    if (lineEnd >= end) return malformed('unterminated classic message: last line has no newline', pos);
    const field = parseClassicLine(bytes, pos, lineEnd, depth);
    if (!field.ok) return field;
    fields.push(field.field);
    pos = lineEnd + 1;
  }
}

function parseClassicLine(
  bytes: Uint8Array,
  start: number,
  end: number,
  depth: number,
): { ok: true; field: Field } | Malformed {
  let kind: Field['kind'] = 'string';
  let nameStart = start;
  if (bytes[start] === OPEN) {
    const tag = bytes[start + 1] ?? 0;
    const tagKind = tag >= DIGIT_0 && tag <= DIGIT_9 ? fieldKindOfTag(tag - DIGIT_0) : undefined;
    if (end - start < 3 || bytes[start + 2] !== CLOSE || tagKind === undefined) {
      return malformed('field type tag is not "(1)".."(4)"', start);
    }
    // heartbeat writes no tag for strings and refuses an explicit "(0)".
    if (tagKind === 'string') return malformed('explicit "(0)" tag on a classic string field', start);
    kind = tagKind;
    nameStart = start + 3;
  }
  let eq = nameStart;
  while (eq < end && bytes[eq] !== EQ) eq++;
  if (eq >= end) return malformed('classic line has no "="', start);
  const nameProblem = fieldNameBytesProblem(bytes, nameStart, eq);
  if (nameProblem) return malformed(nameProblem, nameStart);
  const name = latin1(bytes, nameStart, eq);
  const vStart = eq + 1;
  switch (kind) {
    case 'string': {
      let value = bytes.subarray(vStart, end);
      if (value.indexOf(STRING_NEWLINE_BYTE) >= 0) {
        value = value.slice();
        for (let i = 0; i < value.length; i++) if (value[i] === STRING_NEWLINE_BYTE) value[i] = LF;
      }
      return { ok: true, field: { name, kind, value } };
    }
    case 'binary':
    case 'compressed': {
      const value = decodeBase64Strict(bytes, vStart, end);
      if (!value) return malformed(`field "${name}" is not canonical base64`, vStart);
      return { ok: true, field: { name, kind, value } };
    }
    case 'struct': {
      if (depth >= MAX_NESTING_DEPTH)
        return malformed(`struct field "${name}" nests deeper than ${MAX_NESTING_DEPTH}`, vStart);
      const child = parseClassicBody(bytes, vStart, end, depth + 1);
      if (!child.ok) return malformed(`in struct field "${name}": ${child.reason}`, child.offsetBytes);
      if (child.endOffset !== end)
        return malformed(`struct field "${name}" has bytes after its end line`, child.endOffset);
      return { ok: true, field: { name, kind, value: child.message } };
    }
    case 'list': {
      const items = parseListValue(bytes, vStart, end, name);
      if (!items.ok) return items;
      return { ok: true, field: { name, kind, value: items.items } };
    }
  }
}

/**
 * Parse a whole classic message (serial frame without auth check, or decompressed
 * payload). One trailing NUL is tolerated (heartbeat sends one after classic text on
 * UDP and inside compression); nothing else may follow "<<<\n".
 */
export function decodeClassic(bytes: Uint8Array, limitBytes = MAX_FRAME_BYTES): ParseResult {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === NUL ? bytes.length - 1 : bytes.length;
  if (end > limitBytes) return malformed(`message of ${end} bytes exceeds the ${limitBytes}-byte limit`, 0);
  const body = parseClassicBody(bytes, 0, end, 0);
  if (!body.ok) return body;
  if (body.endOffset !== end) return malformed('bytes after the "<<<" end line', body.endOffset);
  return { ok: true, message: body.message };
}

/**
 * Render `msg` as classic text with LF separators into `w`. With `withHead` false this is
 * the "NOHEAD" rendering heartbeat signs: no ">>>"/"<<<" lines and no top-level `auth`
 * field. Nested messages always get their head lines and keep their `auth` fields.
 */
function writeClassic(w: ByteWriter, msg: Message, depth: number, withHead: boolean): string | undefined {
  if (withHead) w.bytes(CLASSIC_START);
  const fields = msg.fields;
  for (let k = 0; k < fields.length; k++) {
    const field = fields[k]!;
    if (!withHead && field.name === 'auth') continue;
    const problem = fieldValueProblem(field);
    if (problem) return problem;
    if (field.kind !== 'string') w.text(`(${FIELD_TYPE_TAGS[field.kind]})`);
    w.text(field.name).byte(EQ);
    switch (field.kind) {
      case 'string':
        // heartbeat replaces newlines (and only them) in string values; a raw 0x13 in a
        // value is sent as is and comes back as a newline, exactly as in heartbeat.
        if (field.value.indexOf(LF) < 0) w.bytes(field.value);
        else for (const b of field.value) w.byte(b === LF ? STRING_NEWLINE_BYTE : b);
        break;
      case 'binary':
      case 'compressed':
        w.bytes(encodeBase64(field.value));
        break;
      case 'list':
        for (const item of field.value) {
          if (item.indexOf(LF) >= 0)
            return `list field "${field.name}" element contains a newline (not sendable in classic format)`;
        }
        writeListValue(w, field.value);
        break;
      case 'struct': {
        if (depth >= MAX_NESTING_DEPTH)
          return `struct field "${field.name}" nests deeper than ${MAX_NESTING_DEPTH}`;
        const child = new ByteWriter(Math.max(0, w.limitBytes - w.lengthBytes));
        const childProblem = writeClassic(child, field.value, depth + 1, true);
        if (childProblem) return childProblem;
        if (child.overflowed) return 'message too big for MAXMSG';
        const text = child.toBytes();
        const sym = NESTING_NEWLINE_BYTES[depth]!;
        // cl_msg_types.c convert_nl_sym refuses text that already holds the byte.
        if (text.indexOf(sym) >= 0) {
          return `struct field "${field.name}" contains byte 0x${sym.toString(16)}, reserved for nesting at depth ${depth}`;
        }
        for (let i = 0; i < text.length; i++) if (text[i] === LF) text[i] = sym;
        w.bytes(text);
        break;
      }
    }
    w.byte(LF);
    if (w.overflowed) return 'message too big for MAXMSG';
  }
  if (withHead) w.bytes(CLASSIC_END);
  return w.overflowed ? 'message too big for MAXMSG' : undefined;
}

/** Classic text of `msg`: ">>>\n" ... "<<<\n", no NUL, no auth computed. */
export function encodeClassic(msg: Message, limitBytes = MAX_FRAME_BYTES): EncodeResult {
  const w = new ByteWriter(limitBytes);
  const problem = writeClassic(w, msg, 0, true);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, bytes: w.toBytes() };
}

/**
 * The bytes the inner `auth` field signs (add_msg_auth / isauthentic in heartbeat
 * ha_msg_internal.c): every field but `auth` as a classic line, no head lines.
 * e.g. "t=status\nst=init\n...(1)srcuuid=0JcIrEu+Sp+6RvxvehjFoA==\n...ttl=3\n".
 */
export function classicAuthText(msg: Message, limitBytes = MAX_FRAME_BYTES): EncodeResult {
  const w = new ByteWriter(limitBytes);
  const problem = writeClassic(w, msg, 0, false);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, bytes: w.toBytes() };
}
