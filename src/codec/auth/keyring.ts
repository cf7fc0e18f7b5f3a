// Part: the authkeys model shared by the config parser (which builds it) and the codec
// (which signs and verifies with it).

/** The auth methods heartbeat 3.0.6 ships (lib/plugins/HBauth): its own CRC-32, HMAC-MD5, HMAC-SHA1. */
export const AUTH_METHODS = ['crc', 'md5', 'sha1'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** One numbered line of authkeys, e.g. `1 md5 secret`. */
export interface AuthKey {
  /** 0..15, the number that travels on the wire in front of the digest. */
  readonly index: number;
  readonly method: AuthMethod;
  /**
   * The HMAC key exactly as heartbeat reads it: one whitespace-free token, quotes
   * included (`"secret"` is 8 bytes). Empty for crc.
   */
  readonly key: Uint8Array;
}

/** `auth N` selects the signing key; every listed key can verify. */
export interface Keyring {
  readonly active: AuthKey;
  readonly keys: ReadonlyMap<number, AuthKey>;
}

export function isAuthMethod(s: string): s is AuthMethod {
  return (AUTH_METHODS as readonly string[]).includes(s);
}

/**
 * A keyring from key lines and the `auth N` index, for code that does not read an
 * authkeys file (tests, benchmarks, the simulator). Later lines with the same index win,
 * as in the file. undefined when no key has index `activeIndex`.
 */
export function makeKeyring(keys: readonly AuthKey[], activeIndex: number): Keyring | undefined {
  const map = new Map<number, AuthKey>();
  for (const k of keys) map.set(k.index, k);
  const active = map.get(activeIndex);
  return active ? { active, keys: map } : undefined;
}
