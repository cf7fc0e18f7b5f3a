// Part: the heartbeat message model: an ordered list of typed name/value fields (struct
// ha_msg in cluster-glue include/ha_msg.h), with values kept as bytes so binary fields
// (16-byte uuids, compressed payloads) survive untouched. Pure data and pure helpers.

import { fromLatin1, latin1 } from './bytes.js';

/**
 * The field types that travel on the wire. The digit is the `(t)` tag of both encodings:
 * it is protocol (cluster-glue FT_STRING..FT_COMPRESS), never renumber it. Type 5
 * (FT_UNCOMPRESS) exists only in heartbeat's memory and is never sent.
 */
export const FIELD_TYPE_TAGS = {
  string: 0,
  binary: 1,
  struct: 2,
  list: 3,
  compressed: 4,
} as const;
export type FieldKind = keyof typeof FIELD_TYPE_TAGS;

/** Field kind for a `(t)` digit, undefined for digits that are not a wire type. */
export function fieldKindOfTag(tag: number): FieldKind | undefined {
  switch (tag) {
    case 0:
      return 'string';
    case 1:
      return 'binary';
    case 2:
      return 'struct';
    case 3:
      return 'list';
    case 4:
      return 'compressed';
    default:
      return undefined;
  }
}

/**
 * One field. `name` is the field name as text (each char one byte, latin1). String values
 * are bytes too: heartbeat treats them as C strings (no NUL) but does not promise ASCII.
 */
export type Field =
  | { readonly name: string; readonly kind: 'string'; readonly value: Uint8Array }
  | { readonly name: string; readonly kind: 'binary'; readonly value: Uint8Array }
  | { readonly name: string; readonly kind: 'struct'; readonly value: Message }
  | { readonly name: string; readonly kind: 'list'; readonly value: readonly Uint8Array[] }
  /** Compressed nested message; the algorithm is named by the `_compression_algorithm` field. */
  | { readonly name: string; readonly kind: 'compressed'; readonly value: Uint8Array };

/** A heartbeat message: fields in wire order. Duplicate names are allowed; lookups take the first. */
export interface Message {
  readonly fields: readonly Field[];
}

export function message(fields: readonly Field[]): Message {
  return { fields };
}

const asBytes = (v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? fromLatin1(v) : v);

export function stringField(name: string, value: string | Uint8Array): Field {
  return { name, kind: 'string', value: asBytes(value) };
}
export function binaryField(name: string, value: Uint8Array): Field {
  return { name, kind: 'binary', value };
}
export function structField(name: string, value: Message): Field {
  return { name, kind: 'struct', value };
}
export function listField(name: string, items: readonly (string | Uint8Array)[]): Field {
  return { name, kind: 'list', value: items.map(asBytes) };
}
export function compressedField(name: string, value: Uint8Array): Field {
  return { name, kind: 'compressed', value };
}

/** Shorthand for tests and builders: string fields from [name, value] pairs, in order. */
export function messageFromPairs(pairs: readonly (readonly [string, string])[]): Message {
  return message(pairs.map(([n, v]) => stringField(n, v)));
}

/** The first field called `name` (cl_get_value semantics). */
export function getField(msg: Message, name: string): Field | undefined {
  // An index loop: for-of allocates an iterator result per field in unoptimised code.
  const fields = msg.fields;
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) return fields[i];
  return undefined;
}

export function hasField(msg: Message, name: string): boolean {
  return getField(msg, name) !== undefined;
}

/** The value of the first field `name` as text, if that field is a string field. */
export function getString(msg: Message, name: string): string | undefined {
  const f = getField(msg, name);
  return f?.kind === 'string' ? latin1(f.value) : undefined;
}

/** The value of the first field `name`, if that field is binary. */
export function getBinary(msg: Message, name: string): Uint8Array | undefined {
  const f = getField(msg, name);
  return f?.kind === 'binary' ? f.value : undefined;
}

/** The first field `name` as a nested message, if it is a struct field. */
export function getStruct(msg: Message, name: string): Message | undefined {
  const f = getField(msg, name);
  return f?.kind === 'struct' ? f.value : undefined;
}

/** The first field `name` as a list of texts, if it is a list field. */
export function getList(msg: Message, name: string): string[] | undefined {
  const f = getField(msg, name);
  return f?.kind === 'list' ? f.value.map((v) => latin1(v)) : undefined;
}

/**
 * Replace the first field with the same name in place (keeping its position, so a
 * retransmitted or re-signed message keeps its byte layout), or append it when absent.
 * This is cl_msg_mod / ha_msg_mod.
 */
export function setField(msg: Message, field: Field): Message {
  const fields = msg.fields.slice();
  for (let i = 0; i < fields.length; i++) {
    if (fields[i]!.name === field.name) {
      fields[i] = field;
      return { fields };
    }
  }
  fields.push(field);
  return { fields };
}

/** Append a field even if one with that name exists (ha_msg_add). */
export function addField(msg: Message, field: Field): Message {
  return { fields: [...msg.fields, field] };
}

export function setString(msg: Message, name: string, value: string | Uint8Array): Message {
  return setField(msg, stringField(name, value));
}

/** Remove every field called `name`. */
export function removeField(msg: Message, name: string): Message {
  return { fields: msg.fields.filter((f) => f.name !== name) };
}

/**
 * Heartbeat sends a message in netstring format, whatever msgfmt says, when it holds a
 * struct or compressed field (must_use_netstring in cl_msg.c), and then adds no inner
 * `auth` field.
 */
export function mustUseNetstring(msg: Message): boolean {
  return msg.fields.some((f) => f.kind === 'struct' || f.kind === 'compressed');
}

/** A decoder's refusal: why, and the byte offset where it noticed. */
export interface Malformed {
  readonly ok: false;
  readonly reason: string;
  readonly offsetBytes: number;
}

export type ParseResult = { readonly ok: true; readonly message: Message } | Malformed;

/** An encoder's answer: the bytes, or why the message cannot be put on the wire. */
export type EncodeResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly reason: string };

export function malformed(reason: string, offsetBytes: number): Malformed {
  return { ok: false, reason, offsetBytes };
}

const NUL = 0x00;
const LF = 0x0a;
const EQ = 0x3d;
const OPEN_PAREN = 0x28;

/**
 * Why a field name cannot travel, or undefined when it can. A name is what comes before
 * the first `=`; heartbeat stores it as a C string; the classic format ends it at a
 * newline and reads a leading `(` as a type tag.
 */
export function fieldNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty field name';
  if (name.charCodeAt(0) === OPEN_PAREN)
    return `field name ${JSON.stringify(name)} starts with "(" (read as a type tag)`;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === EQ || c === NUL || c === LF || c > 0xff) {
      return `field name ${JSON.stringify(name)} contains a forbidden character (=, NUL, newline or non-latin1)`;
    }
  }
  return undefined;
}

/** Same rule on raw name bytes, as the decoders see them. */
export function fieldNameBytesProblem(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (end <= start) return 'empty field name';
  if (bytes[start] === OPEN_PAREN) return 'field name starts with "(" (read as a type tag)';
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === NUL || c === LF) return 'field name contains NUL or newline';
  }
  return undefined;
}
