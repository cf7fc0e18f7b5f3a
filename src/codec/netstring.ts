// Part: the netstring message format, heartbeat's UDP encoding (cluster-glue
// lib/clplumbing/cl_netstring.c): "###\n", one `len:(t)name=value,` per field, "%%%\n".
// This file does the message body only; the auth trailer is frame.ts's business.

import { ByteWriter, fromLatin1, latin1, startsWithAt } from './bytes.js';
import { MAX_FRAME_BYTES, MAX_NESTING_DEPTH } from './limits.js';
import {
  type EncodeResult,
  FIELD_TYPE_TAGS,
  type Field,
  fieldKindOfTag,
  fieldNameBytesProblem,
  fieldNameProblem,
  type Malformed,
  type Message,
  malformed,
  type ParseResult,
} from './model.js';

export const NETSTRING_START = fromLatin1('###\n');
export const NETSTRING_END = fromLatin1('%%%\n');

const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x28;
const CLOSE = 0x29;
const EQ = 0x3d;
const NUL = 0x00;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * Longest decimal length we read: MAXMSG (262144) has 6 digits. Anything longer is a lie
 * about the length, refused before any arithmetic can overflow.
 */
const MAX_LENGTH_DIGITS = 7;

/** A successfully peeled `len:data,` item: data is bytes[dataStart, dataEnd), next item at `next`. */
interface Peeled {
  readonly ok: true;
  readonly dataStart: number;
  readonly dataEnd: number;
  readonly next: number;
}

/**
 * Read one `len:data,` item at `pos`, inside [pos, end). Stricter than cl_netstring.c's
 * peel_netstring (which skips junk between the digits and the colon and accepts leading
 * zeros): heartbeat never sends either, and a canonical form keeps decode/encode exact.
 */
export function peelNetstring(bytes: Uint8Array, pos: number, end: number, what: string): Peeled | Malformed {
  let p = pos;
  let len = 0;
  while (p < end && p - pos < MAX_LENGTH_DIGITS) {
    const c = bytes[p]!;
    if (c < DIGIT_0 || c > DIGIT_9) break;
    len = len * 10 + (c - DIGIT_0);
    p++;
  }
  const digits = p - pos;
  if (digits === 0) {
    return malformed(
      p < end ? `${what}: length is not a decimal number` : `${what}: truncated before its length`,
      pos,
    );
  }
  if (p < end && bytes[p]! >= DIGIT_0 && bytes[p]! <= DIGIT_9)
    return malformed(`${what}: length has too many digits`, pos);
  if (digits > 1 && bytes[pos] === DIGIT_0) return malformed(`${what}: length has a leading zero`, pos);
  if (p >= end) return malformed(`${what}: truncated after its length`, p);
  if (bytes[p] !== COLON) return malformed(`${what}: length is not followed by ":"`, p);
  const dataStart = p + 1;
  // The length must fit in what is left, with room for the closing comma.
  if (len > end - dataStart - 1) {
    return malformed(
      `${what}: length ${len} exceeds the ${Math.max(0, end - dataStart - 1)} bytes left before a ","`,
      pos,
    );
  }
  const dataEnd = dataStart + len;
  if (bytes[dataEnd] !== COMMA)
    return malformed(`${what}: data of length ${len} is not followed by ","`, dataEnd);
  return { ok: true, dataStart, dataEnd, next: dataEnd + 1 };
}

interface BodyParsed {
  readonly ok: true;
  readonly message: Message;
  /** Offset just after the "%%%\n" end marker. */
  readonly endOffset: number;
}

/**
 * Parse a netstring message body starting at `start` ("###\n"), not reading past `end`.
 * `depth` is 0 for a frame and +1 per nested struct. Recursion is bounded by
 * MAX_NESTING_DEPTH; values are views into `bytes` (no copying).
 */
export function parseNetstringBody(
  bytes: Uint8Array,
  start: number,
  end: number,
  depth: number,
): BodyParsed | Malformed {
  if (!startsWithAt(bytes, NETSTRING_START, start))
    return malformed('netstring message does not start with "###\\n"', start);
  const fields: Field[] = [];
  let pos = start + NETSTRING_START.length;
  for (;;) {
    if (pos >= end) return malformed('unterminated netstring message: no "%%%\\n" end marker', pos);
    if (pos + NETSTRING_END.length <= end && startsWithAt(bytes, NETSTRING_END, pos)) {
      return { ok: true, message: { fields }, endOffset: pos + NETSTRING_END.length };
    }
    const item = peelNetstring(bytes, pos, end, `field ${fields.length + 1}`);
    if (!item.ok) return item;
    const field = parseNetstringField(bytes, item.dataStart, item.dataEnd, depth);
    if (!field.ok) return field;
    fields.push(field.field);
    pos = item.next;
  }
}

function parseNetstringField(
  bytes: Uint8Array,
  start: number,
  end: number,
  depth: number,
): { ok: true; field: Field } | Malformed {
  // The 3.0.6 parser assert()s on a missing "(": such a field would abort a real daemon.
  if (end - start < 5 || bytes[start] !== OPEN || bytes[start + 2] !== CLOSE) {
    return malformed('field has no "(t)" type tag', start);
  }
  const tagByte = bytes[start + 1]!;
  const kind = tagByte >= DIGIT_0 && tagByte <= DIGIT_9 ? fieldKindOfTag(tagByte - DIGIT_0) : undefined;
  if (kind === undefined) {
    return malformed(
      `field type tag "(${String.fromCharCode(tagByte)})" is not a wire type (0..4)`,
      start + 1,
    );
  }
  const nameStart = start + 3;
  let eq = nameStart;
  while (eq < end && bytes[eq] !== EQ) eq++;
  if (eq >= end) return malformed('field has no "="', start);
  const nameProblem = fieldNameBytesProblem(bytes, nameStart, eq);
  if (nameProblem) return malformed(nameProblem, nameStart);
  const name = latin1(bytes, nameStart, eq);
  const vStart = eq + 1;
  switch (kind) {
    case 'string': {
      const value = bytes.subarray(vStart, end);
      const nul = value.indexOf(NUL);
      // heartbeat keeps strings as C strings; a NUL would make it assert when re-encoding.
      if (nul >= 0) return malformed(`string field "${name}" contains a NUL byte`, vStart + nul);
      return { ok: true, field: { name, kind, value } };
    }
    case 'binary':
    case 'compressed':
      return { ok: true, field: { name, kind, value: bytes.subarray(vStart, end) } };
    case 'struct': {
      if (depth + 1 > MAX_NESTING_DEPTH)
        return malformed(`struct field "${name}" nests deeper than ${MAX_NESTING_DEPTH}`, vStart);
      const child = parseNetstringBody(bytes, vStart, end, depth + 1);
      if (!child.ok) return malformed(`in struct field "${name}": ${child.reason}`, child.offsetBytes);
      if (child.endOffset !== end)
        return malformed(`struct field "${name}" has bytes after its end marker`, child.endOffset);
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
 * A list value is `len:elem,` repeated (string_list_unpack in cl_msg_types.c), in both
 * formats. Heartbeat refuses empty lists and empty elements; elements are C strings.
 */
export function parseListValue(
  bytes: Uint8Array,
  start: number,
  end: number,
  name: string,
): { ok: true; items: Uint8Array[] } | Malformed {
  const items: Uint8Array[] = [];
  let pos = start;
  if (start === end) return malformed(`list field "${name}" is empty`, start);
  while (pos < end) {
    const item = peelNetstring(bytes, pos, end, `list field "${name}" element ${items.length + 1}`);
    if (!item.ok) return item;
    if (item.dataEnd === item.dataStart) return malformed(`list field "${name}" has an empty element`, pos);
    const value = bytes.subarray(item.dataStart, item.dataEnd);
    if (value.indexOf(NUL) >= 0)
      return malformed(`list field "${name}" element contains a NUL byte`, item.dataStart);
    items.push(value);
    pos = item.next;
  }
  return { ok: true, items };
}

/**
 * Parse a whole netstring message without auth trailer (a nested or decompressed
 * message). One trailing NUL is tolerated, nothing else may follow "%%%\n".
 */
export function decodeNetstring(bytes: Uint8Array, limitBytes = MAX_FRAME_BYTES): ParseResult {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === NUL ? bytes.length - 1 : bytes.length;
  if (end > limitBytes) return malformed(`message of ${end} bytes exceeds the ${limitBytes}-byte limit`, 0);
  const body = parseNetstringBody(bytes, 0, end, 0);
  if (!body.ok) return body;
  if (body.endOffset !== end) return malformed('bytes after the "%%%\\n" end marker', body.endOffset);
  return { ok: true, message: body.message };
}

/** Why a list element cannot be sent, or undefined. */
function listItemProblem(name: string, item: Uint8Array): string | undefined {
  if (item.length === 0) return `list field "${name}" has an empty element (heartbeat refuses those)`;
  if (item.indexOf(NUL) >= 0) return `list field "${name}" element contains a NUL byte`;
  return undefined;
}

/** Shared by both encoders: what is wrong with one field's value, ignoring nesting. */
export function fieldValueProblem(field: Field): string | undefined {
  const nameProblem = fieldNameProblem(field.name);
  if (nameProblem) return nameProblem;
  switch (field.kind) {
    case 'string':
      return field.value.indexOf(NUL) >= 0 ? `string field "${field.name}" contains a NUL byte` : undefined;
    case 'list':
      if (field.value.length === 0) return `list field "${field.name}" is empty (heartbeat refuses those)`;
      for (const item of field.value) {
        const p = listItemProblem(field.name, item);
        if (p) return p;
      }
      return undefined;
    case 'binary':
    case 'compressed':
    case 'struct':
      return undefined;
  }
}

/** Write the `len:elem,` packing of a list value. */
export function writeListValue(w: ByteWriter, items: readonly Uint8Array[]): void {
  for (const item of items) w.text(`${item.length}:`).bytes(item).byte(COMMA);
}

function listValueLength(items: readonly Uint8Array[]): number {
  let n = 0;
  for (const item of items) n += String(item.length).length + item.length + 2;
  return n;
}

/** Encode the body of `msg` into `w`; returns a reason when the message cannot be encoded. */
function writeNetstringBody(w: ByteWriter, msg: Message, depth: number): string | undefined {
  w.bytes(NETSTRING_START);
  const fields = msg.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const problem = fieldValueProblem(field);
    if (problem) return problem;
    const head = `(${FIELD_TYPE_TAGS[field.kind]})${field.name}=`;
    switch (field.kind) {
      case 'string':
      case 'binary':
      case 'compressed':
        w.text(`${head.length + field.value.length}:${head}`)
          .bytes(field.value)
          .byte(COMMA);
        break;
      case 'list':
        w.text(`${head.length + listValueLength(field.value)}:${head}`);
        writeListValue(w, field.value);
        w.byte(COMMA);
        break;
      case 'struct': {
        if (depth + 1 > MAX_NESTING_DEPTH)
          return `struct field "${field.name}" nests deeper than ${MAX_NESTING_DEPTH}`;
        // The child's length prefixes it, so render it first, within what is left.
        const child = new ByteWriter(Math.max(0, w.limitBytes - w.lengthBytes));
        const problem = writeNetstringBody(child, field.value, depth + 1);
        if (problem) return problem;
        if (child.overflowed) return 'message too big for MAXMSG';
        w.text(`${head.length + child.lengthBytes}:${head}`)
          .bytes(child.toBytes())
          .byte(COMMA);
        break;
      }
    }
    if (w.overflowed) return 'message too big for MAXMSG';
  }
  w.bytes(NETSTRING_END);
  return w.overflowed ? 'message too big for MAXMSG' : undefined;
}

/**
 * Encode a message as netstring without auth trailer, at most `limitBytes` long
 * (default: the frame limit). Frames with a trailer come from frame.ts.
 */
export function encodeNetstring(msg: Message, limitBytes = MAX_FRAME_BYTES): EncodeResult {
  const w = new ByteWriter(limitBytes);
  const problem = writeNetstringBody(w, msg, 0);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, bytes: w.toBytes() };
}
