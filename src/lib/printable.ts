// Part: untrusted text made safe to print: control characters and invalid bytes escaped,
// length cut, so that a command-line argument, a frame field or a client request can never
// rewrite the operator's terminal or turn one log line into many.

/** The most characters of untrusted text any message quotes. */
export const PRINTABLE_MAX_CHARS = 200;

const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with C0/C1 controls, DEL, lone surrogates and U+FFFD (an undecodable byte) escaped
 * as `\xNN`/`\u{...}`, cut to `max` characters with a note of how much was left out.
 */
export function printable(text: string | Uint8Array, max = PRINTABLE_MAX_CHARS): string {
  const s = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: false }).decode(text);
  let out = '';
  let shown = 0;
  let i = 0;
  for (const ch of s) {
    if (shown >= max) break;
    out += escapeChar(ch);
    shown++;
    i += ch.length;
  }
  if (i < s.length) out += `... (${s.length - i} more characters)`;
  return out;
}

function escapeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  const named = ESCAPES[ch];
  if (named !== undefined) return named;
  if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0))
    return `\\x${code.toString(16).padStart(2, '0')}`;
  // Lone surrogates (ill-formed UTF-16) and the replacement character stand for bytes we could not read.
  if ((code >= 0xd800 && code <= 0xdfff) || code === 0xfffd) return `\\u{${code.toString(16)}}`;
  return ch;
}

/** `printable` in double quotes, for quoting an argument in an error message. */
export function quoted(text: string | Uint8Array, max = PRINTABLE_MAX_CHARS): string {
  return `"${printable(text, max).replace(/"/g, '\\"')}"`;
}
