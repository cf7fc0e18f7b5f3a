// Part: the three heartbeat auth digests (lib/plugins/HBauth/{crc,md5,sha1}.c) as the text
// that travels on the wire. Pure apart from node:crypto's HMAC.

import { createHmac } from 'node:crypto';
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
      return createHmac(method, key).update(data).digest('hex');
    default:
      return assertNever(method, 'auth method');
  }
}

/** The `"<index> <digest>"` text of a trailer or inner `auth` field, signed with `key`. */
export function authString(key: AuthKey, data: Uint8Array): string {
  return `${key.index} ${computeDigest(key.method, key.key, data)}`;
}
