// Part: heartbeat's message compression (cluster-glue lib/clplumbing/cl_compress.c) with
// the zlib plugin: "traditional" whole-message compression and type-4 compressed fields.

import { deflateSync, inflateSync } from 'node:zlib';
import { latin1, startsWithAt } from './bytes.js';
import { CLASSIC_START, decodeClassic, encodeClassic } from './classic.js';
import { MAX_UNCOMPRESSED_BYTES, MAXMSG_BYTES } from './limits.js';
import {
  binaryField,
  type EncodeResult,
  getField,
  getString,
  type Malformed,
  type Message,
  malformed,
  message,
  stringField,
} from './model.js';
import { decodeNetstring, encodeNetstring, NETSTRING_START } from './netstring.js';

/** Field names of a compressed message: protocol spelling, from cl_compress.c. */
export const COMPRESSED_PAYLOAD_FIELD = '_compressed_payload';
export const COMPRESSION_ALGORITHM_FIELD = '_compression_algorithm';

/**
 * Algorithms we can inflate. heartbeat also ships `bz2`; Node has no bzip2, so a bz2
 * message is reported as malformed with that reason rather than silently dropped.
 */
export const SUPPORTED_COMPRESSION = ['zlib'] as const;

export type WireFormat = 'netstring' | 'classic';

/** What ha.cf says about compressing outgoing messages (see compressionPolicy). */
export interface CompressionPolicy {
  /** `traditional_compression yes`: compress every message above the threshold. */
  readonly traditional: boolean;
  /** `compression_threshold` in bytes (ha.cf gives kilobytes). */
  readonly thresholdBytes: number;
  /**
   * The text inside the compressed payload: heartbeat renders it in its configured
   * `msgfmt` (classic by default, as in the captured vector).
   */
  readonly innerFormat: WireFormat;
}

/**
 * The policy for ha.cf values. `compression bz2` still compresses with zlib: Node has no
 * bzip2, and the receiver inflates with the algorithm the message names, not its own setting.
 */
export function compressionPolicy(haCf: {
  readonly traditionalCompression: boolean;
  readonly compressionThresholdKb: number;
  readonly msgfmt: WireFormat;
}): CompressionPolicy {
  return {
    traditional: haCf.traditionalCompression,
    thresholdBytes: haCf.compressionThresholdKb * 1024,
    innerFormat: haCf.msgfmt,
  };
}

/**
 * A message carrying a traditional-compression payload: heartbeat's receiver recognises
 * it by a *binary* `_compressed_payload` field (is_compressed_msg), whatever else it holds.
 */
export function isCompressedMessage(msg: Message): boolean {
  return getField(msg, COMPRESSED_PAYLOAD_FIELD)?.kind === 'binary';
}

export interface Decompressed {
  readonly ok: true;
  /** The message inside, parsed without any auth check (heartbeat does not check it either). */
  readonly message: Message;
  readonly format: WireFormat;
  readonly algorithm: string;
  /** The decompressed text (classic text usually ends with a NUL). */
  readonly text: Uint8Array;
}

function inflate(
  algorithm: string | undefined,
  data: Uint8Array,
): { ok: true; bytes: Uint8Array } | Malformed {
  if (algorithm === undefined)
    return malformed(`compressed message has no string field ${COMPRESSION_ALGORITHM_FIELD}`, 0);
  if (algorithm !== 'zlib')
    return malformed(`compression algorithm "${algorithm}" is not supported (only zlib)`, 0);
  // cl_decompressmsg refuses payloads above MAXMSG and output above MAXUNCOMPRESSED.
  if (data.length > MAXMSG_BYTES)
    return malformed(`compressed payload of ${data.length} bytes exceeds MAXMSG`, 0);
  try {
    const out = inflateSync(data, { maxOutputLength: MAX_UNCOMPRESSED_BYTES });
    return { ok: true, bytes: new Uint8Array(out.buffer, out.byteOffset, out.length) };
  } catch (err) {
    // zlib reports corrupt streams and output over the cap by throwing; both are bad input.
    return malformed(`zlib payload does not inflate: ${err instanceof Error ? err.message : String(err)}`, 0);
  }
}

function parseInflated(text: Uint8Array): { ok: true; message: Message; format: WireFormat } | Malformed {
  const format: WireFormat | undefined = startsWithAt(text, CLASSIC_START, 0)
    ? 'classic'
    : startsWithAt(text, NETSTRING_START, 0)
      ? 'netstring'
      : undefined;
  if (!format)
    return malformed(
      `decompressed payload starts with neither ">>>" nor "###": ${JSON.stringify(latin1(text, 0, Math.min(8, text.length)))}`,
      0,
    );
  const parsed =
    format === 'classic'
      ? decodeClassic(text, MAX_UNCOMPRESSED_BYTES)
      : decodeNetstring(text, MAX_UNCOMPRESSED_BYTES);
  if (!parsed.ok) return malformed(`decompressed ${format} payload: ${parsed.reason}`, parsed.offsetBytes);
  // heartbeat would decompress again (wirefmt2msg recurses); nothing legitimate does that.
  if (isCompressedMessage(parsed.message))
    return malformed('compressed payload holds another compressed message', 0);
  return { ok: true, message: parsed.message, format };
}

/** Inflate and parse the payload of a traditional-compression message. */
export function decompressMessage(msg: Message): Decompressed | Malformed {
  const payload = getField(msg, COMPRESSED_PAYLOAD_FIELD);
  if (payload?.kind !== 'binary')
    return malformed(`message has no binary ${COMPRESSED_PAYLOAD_FIELD} field`, 0);
  const algorithm = getString(msg, COMPRESSION_ALGORITHM_FIELD);
  const text = inflate(algorithm, payload.value);
  if (!text.ok) return text;
  const parsed = parseInflated(text.bytes);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    message: parsed.message,
    format: parsed.format,
    algorithm: algorithm ?? 'zlib',
    text: text.bytes,
  };
}

/** Inflate and parse a type-4 (compressed) field; the algorithm is named by the same message. */
export function expandCompressedField(msg: Message, name: string): Decompressed | Malformed {
  const field = getField(msg, name);
  if (field?.kind !== 'compressed') return malformed(`message has no compressed field "${name}"`, 0);
  const algorithm = getString(msg, COMPRESSION_ALGORITHM_FIELD);
  const text = inflate(algorithm, field.value);
  if (!text.ok) return text;
  const parsed = parseInflated(text.bytes);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    message: parsed.message,
    format: parsed.format,
    algorithm: algorithm ?? 'zlib',
    text: text.bytes,
  };
}

/**
 * Traditional compression as the sender does it (cl_compressmsg): render the whole
 * message, already carrying its inner `auth` field, as `innerFormat` (classic text gets a
 * trailing NUL, as msg2wirefmt_noac writes it), zlib it, and wrap it in a two-field
 * message. Send the result with encodeNetstringFrame(..., { innerAuth: false }): the
 * wrapper has no src/seq/ts and heartbeat signs only its trailer.
 *
 * Node's zlib is not the zlib Debian's heartbeat links, so the compressed bytes can differ
 * from a real node's for the same text (both inflate to the same text).
 */
export function compressMessage(
  msg: Message,
  innerFormat: WireFormat,
): { ok: true; message: Message } | { ok: false; reason: string } {
  const rendered: EncodeResult =
    innerFormat === 'classic'
      ? encodeClassic(msg, MAX_UNCOMPRESSED_BYTES - 1)
      : encodeNetstring(msg, MAX_UNCOMPRESSED_BYTES);
  if (!rendered.ok) return rendered;
  let text = rendered.bytes;
  if (innerFormat === 'classic') {
    text = new Uint8Array(rendered.bytes.length + 1);
    text.set(rendered.bytes);
  }
  const deflated = deflateSync(text);
  const compressed = new Uint8Array(deflated);
  if (compressed.length > MAXMSG_BYTES)
    return { ok: false, reason: 'message too big even after compression' };
  return {
    ok: true,
    message: message([
      binaryField(COMPRESSED_PAYLOAD_FIELD, compressed),
      stringField(COMPRESSION_ALGORITHM_FIELD, 'zlib'),
    ]),
  };
}
