// Part: /etc/ha.d/authkeys -> Keyring, read the way heartbeat 3.0.6 reads it
// (heartbeat/auth.c: fgets + sscanf("%d%s%s"), `auth N` selects while reading).

import { type AuthKey, isAuthMethod, type Keyring } from '../codec/auth/keyring.js';
import type { Diagnostic } from '../lib/diagnostic.js';

export const MAX_AUTH_INDEX = 15;

export interface AuthkeysResult {
  /** Present only when the file is usable (no errors). */
  readonly keyring?: Keyring;
  readonly diagnostics: readonly Diagnostic[];
}

/** File mode bits heartbeat refuses: readable by group or other (0o040, 0o004). */
export function authkeysModeProblem(mode: number): string | undefined {
  if ((mode & 0o044) === 0) return undefined;
  return `permissions ${(mode & 0o777).toString(8).padStart(3, '0')} let other users read the keys; heartbeat refuses to start`;
}

const WS = /[ \t\n\v\f\r]/;

/** sscanf-style scanning over one line: `%d` then whitespace-free `%s` tokens. */
class Scanner {
  pos = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  skipSpace(): void {
    while (this.pos < this.text.length && WS.test(this.text[this.pos]!)) this.pos++;
  }
  /** `%d`: optional sign and digits; undefined when there are none. */
  int(): { value: number; col: number } | undefined {
    this.skipSpace();
    const m = /^[+-]?\d+/.exec(this.text.slice(this.pos));
    if (!m) return undefined;
    const col = this.pos + 1;
    this.pos += m[0].length;
    return { value: Number.parseInt(m[0], 10), col };
  }
  /** `%s`: a run of non-whitespace. */
  token(): { value: string; col: number } | undefined {
    this.skipSpace();
    const start = this.pos;
    while (this.pos < this.text.length && !WS.test(this.text[this.pos]!)) this.pos++;
    if (this.pos === start) return undefined;
    return { value: this.text.slice(start, this.pos), col: start + 1 };
  }
}

/**
 * Parse authkeys text. `text` must be the file decoded as latin1 so that every byte of a
 * key survives unchanged (keys are bytes, not characters).
 */
export function parseAuthkeys(text: string, file: string): AuthkeysResult {
  const diagnostics: Diagnostic[] = [];
  const err = (line: number, col: number, message: string, hint?: string): void => {
    diagnostics.push({ severity: 'error', file, line, col, message, ...(hint ? { hint } : {}) });
  };
  const warn = (line: number, col: number, message: string, hint?: string): void => {
    diagnostics.push({ severity: 'warning', file, line, col, message, ...(hint ? { hint } : {}) });
  };

  let authIndex: number | undefined;
  let authLine = 0;
  let active: AuthKey | undefined;
  const keys = new Map<number, AuthKey>();
  const keyLines = new Map<number, number>();

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const lead = raw.length - raw.replace(/^[ \t]+/, '').length;
    const body = raw.slice(lead);
    if (body === '' || body === '\r' || body.startsWith('#')) continue;

    if (body.startsWith('a')) {
      // heartbeat: any line starting with 'a' is sscanf("auth %d"), so "auth1" is fine too.
      const s = new Scanner(body);
      let n: { value: number; col: number } | undefined;
      if (body.startsWith('auth')) {
        s.pos = 4;
        n = s.int();
      }
      if (!n) {
        err(
          lineNo,
          lead + 1,
          `invalid auth line "${body.trimEnd()}"`,
          'write "auth N" where N is the number of a key line below it',
        );
        continue;
      }
      if (authIndex !== undefined) {
        warn(lineNo, lead + 1, `second "auth" line overrides "auth ${authIndex}" on line ${authLine}`);
      }
      authIndex = n.value;
      authLine = lineNo;
      active = undefined;
      if (n.value < 0 || n.value > MAX_AUTH_INDEX) {
        err(lineNo, lead + n.col, `auth index ${n.value} is out of range`, `use 0..${MAX_AUTH_INDEX}`);
      }
      const rest = s.token();
      if (rest) warn(lineNo, lead + rest.col, `text after "auth ${n.value}" is ignored`);
      continue;
    }

    const s = new Scanner(body);
    const idx = s.int();
    const method = idx ? s.token() : undefined;
    if (!idx || !method) {
      err(
        lineNo,
        lead + 1,
        `invalid key line "${body.trimEnd()}"`,
        'key lines look like "1 sha1 SECRET", "2 md5 SECRET" or "3 crc"',
      );
      continue;
    }
    const keyTok = s.token();
    const extra = s.token();
    const col = lead + idx.col;
    if (idx.value < 0 || idx.value > MAX_AUTH_INDEX) {
      err(lineNo, col, `key index ${idx.value} is out of range`, `use 0..${MAX_AUTH_INDEX}`);
      continue;
    }
    if (!isAuthMethod(method.value)) {
      err(
        lineNo,
        lead + method.col,
        `unknown auth method "${method.value}"`,
        'heartbeat knows crc, md5 and sha1; sha1 is the strongest',
      );
      continue;
    }
    if (method.value === 'crc' && keyTok) {
      err(
        lineNo,
        lead + keyTok.col,
        'auth method crc does not take a key',
        `remove "${keyTok.value}", or use sha1 with that key`,
      );
      continue;
    }
    if (method.value !== 'crc' && !keyTok) {
      err(
        lineNo,
        lead + method.col + method.value.length,
        `auth method ${method.value} requires a key`,
        `write "${idx.value} ${method.value} SECRET"`,
      );
      continue;
    }
    if (extra) {
      warn(
        lineNo,
        lead + extra.col,
        `key ends at the first blank: the key is ${JSON.stringify(keyTok!.value)}, "${extra.value}..." is ignored`,
        'heartbeat reads one whitespace-free token; all nodes must use the same bytes',
      );
    }
    const key: AuthKey = {
      index: idx.value,
      method: method.value,
      key: Uint8Array.from(Buffer.from(keyTok?.value ?? '', 'latin1')),
    };
    if (keys.has(idx.value)) {
      warn(
        lineNo,
        col,
        `key ${idx.value} is defined again (first on line ${keyLines.get(idx.value)}); this line wins`,
      );
    }
    keys.set(idx.value, key);
    keyLines.set(idx.value, lineNo);
    // heartbeat selects the signing key while reading, so it must come after `auth N`.
    if (authIndex === idx.value) active = key;
    if (method.value === 'crc') {
      warn(
        lineNo,
        lead + method.col,
        'crc is a checksum, not authentication: anyone on the network can forge heartbeats',
        'use sha1 with a secret key',
      );
    }
  }

  if (authIndex === undefined) {
    diagnostics.push({
      severity: 'error',
      file,
      message: 'missing "auth N" line',
      hint: 'add "auth 1" before the key lines',
    });
  } else if (!active && authIndex >= 0 && authIndex <= MAX_AUTH_INDEX) {
    const later = keyLines.get(authIndex);
    err(
      authLine,
      1,
      `"auth ${authIndex}" selects key ${authIndex}, but no valid key ${authIndex} follows it`,
      later !== undefined && later < authLine
        ? `key ${authIndex} is on line ${later}: move the "auth" line above it, as heartbeat requires`
        : `add a line like "${authIndex} sha1 SECRET" below the auth line`,
    );
  }

  if (diagnostics.some((d) => d.severity === 'error') || !active) return { diagnostics };
  return { keyring: { active, keys }, diagnostics };
}

/** Canonical authkeys text for a keyring (the round-trip printer). */
export function printAuthkeys(keyring: Keyring): string {
  const out = [`auth ${keyring.active.index}`];
  for (const k of [...keyring.keys.values()].sort((a, b) => a.index - b.index)) {
    out.push(
      k.method === 'crc'
        ? `${k.index} crc`
        : `${k.index} ${k.method} ${Buffer.from(k.key).toString('latin1')}`,
    );
  }
  return `${out.join('\n')}\n`;
}
