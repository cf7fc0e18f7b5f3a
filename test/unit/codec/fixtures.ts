// Shared loader for the captured heartbeat 3.0.6 frames in test/fixtures/wire (copied
// from the project's reference vectors, so CI needs nothing outside the repository).
// Keyrings are built through the real authkeys parser from each vector's key line.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthMethod, Keyring } from '../../../src/codec/auth/keyring.js';
import { parseAuthkeys } from '../../../src/config/authkeys.js';

export const WIRE_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'wire');

export interface Vector {
  readonly file: string;
  readonly method: AuthMethod;
  /** The HMAC key exactly as on the authkeys line (quotes included); null for crc. */
  readonly key: string | null;
  readonly authnum: string;
  readonly payload_len: number;
  readonly signed_len: number | null;
  readonly trailer_digest: string | null;
  readonly inner_auth_field_digest: string | null;
  readonly format: 'netstring' | 'classic';
  readonly summary: string;
  readonly note: string;
}

export const VECTORS: readonly Vector[] = JSON.parse(
  readFileSync(join(WIRE_FIXTURES, 'index.json'), 'utf8'),
) as Vector[];

export function vectorBytes(v: Vector | string): Uint8Array {
  const file = typeof v === 'string' ? v : v.file;
  return new Uint8Array(readFileSync(join(WIRE_FIXTURES, file)));
}

export function vectorNamed(file: string): Vector {
  const v = VECTORS.find((x) => x.file === file);
  if (!v) throw new Error(`no vector ${file} in index.json`);
  return v;
}

/** authkeys text for one key line, `auth N` first, as heartbeat requires. */
export function authkeysText(index: number | string, method: AuthMethod, key: string | null): string {
  return `auth ${index}\n${index} ${method}${method === 'crc' ? '' : ` ${key}`}\n`;
}

/** A keyring parsed from authkeys text, the way tsbeat loads /etc/ha.d/authkeys. */
export function keyringFromText(text: string): Keyring {
  const parsed = parseAuthkeys(text, 'authkeys');
  if (!parsed.keyring) throw new Error(`test authkeys rejected: ${JSON.stringify(parsed.diagnostics)}`);
  return parsed.keyring;
}

export function keyringFor(v: Vector): Keyring {
  return keyringFromText(authkeysText(v.authnum, v.method, v.key));
}

/** `k=v` pairs of an index.json summary ("t=status st=init src=alpha ..."). */
export function summaryPairs(v: Vector): [string, string][] {
  if (v.summary.trim() === '') return [];
  return v.summary.split(' ').map((kv) => {
    const eq = kv.indexOf('=');
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}
