// Part: the three heartbeat auth digests (lib/plugins/HBauth/{crc,md5,sha1}.c) as the text
// that travels on the wire. Pure apart from node:crypto's hashes.

import { createHmac, hash } from 'node:crypto';
import { assertNever } from '../../lib/assert.js';
import { crcDigestText } from './crc.js';
import type { AuthKey, AuthMethod } from './keyring.js';

/**
 * Digest text of `data` under `method` and `key`: crc -> `%lx` of heartbeat's CRC (key
 * ignored); md5 / sha1 -> standard RFC 2104 HMAC as lowercase hex (32 / 40 digits).
 */
export function computeDigest(method: AuthMethod, key: Uint8Array, data: Uint8Array): string {
  switch (method) {
    case 'crc':
      return crcDigestText(data);
    case 'md5':
    case 'sha1':
      return data.length <= PADDED_DATA_MAX_BYTES
        ? paddedHmacHex(method, key, data)
        : createHmac(method, key).update(data).digest('hex');
    default:
      return assertNever(method, 'auth method');
  }
}

/** The `"<index> <digest>"` text of a trailer or inner `auth` field, signed with `key`. */
export function authString(key: AuthKey, data: Uint8Array): string {
  return `${key.index} ${computeDigest(key.method, key.key, data)}`;
}

// ---------------------------------------------------------------------------------------------
// HMAC from two one-shot hashes
//
// A daemon signs or checks three or four frames per heartbeat. createHmac() builds a stream
// object and re-imports the key every time, which in the mostly unoptimised code of an idle
// daemon costs more than the hashing. RFC 2104 is H((K ^ opad) || H((K ^ ipad) || m)): with
// the padded keys computed once per key, each digest is two calls of crypto.hash() over
// reused buffers. Large messages (rare: resource requests, compressed payloads) still go
// through createHmac, so no buffer the size of a big message is kept.

/** md5 and sha1 both hash 64-byte blocks. */
const BLOCK_BYTES = 64;
/** Up to this much data goes through the padded path (a status frame is ~300 bytes). */
const PADDED_DATA_MAX_BYTES = 4096;
const DIGEST_BYTES: Readonly<Record<'md5' | 'sha1', number>> = { md5: 16, sha1: 20 };

interface Pads {
  /** The key these pads were made from (a copy: a caller changing its array is noticed). */
  readonly key: Uint8Array;
  /** K ^ ipad, then room for the data. */
  readonly inner: Uint8Array;
  /** K ^ opad, then the inner digest. */
  readonly outer: Uint8Array;
}

const padsOf: Readonly<Record<'md5' | 'sha1', WeakMap<Uint8Array, Pads>>> = {
  md5: new WeakMap(),
  sha1: new WeakMap(),
};

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function makePads(method: 'md5' | 'sha1', key: Uint8Array): Pads {
  // Keys longer than a block are hashed first (RFC 2104 section 2).
  const k = key.length > BLOCK_BYTES ? new Uint8Array(hash(method, key, 'buffer')) : key;
  const inner = new Uint8Array(BLOCK_BYTES + PADDED_DATA_MAX_BYTES);
  const outer = new Uint8Array(BLOCK_BYTES + DIGEST_BYTES[method]);
  for (let i = 0; i < BLOCK_BYTES; i++) {
    const b = i < k.length ? k[i]! : 0;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  return { key: key.slice(), inner, outer };
}

function paddedHmacHex(method: 'md5' | 'sha1', key: Uint8Array, data: Uint8Array): string {
  const cache = padsOf[method];
  let pads = cache.get(key);
  if (pads === undefined || !sameBytes(pads.key, key)) {
    pads = makePads(method, key);
    cache.set(key, pads);
  }
  pads.inner.set(data, BLOCK_BYTES);
  const innerDigest = hash(method, pads.inner.subarray(0, BLOCK_BYTES + data.length), 'buffer');
  pads.outer.set(innerDigest, BLOCK_BYTES);
  return hash(method, pads.outer, 'hex');
}
