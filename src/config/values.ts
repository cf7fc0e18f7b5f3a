// Part: the value syntaxes of heartbeat's config files (times, booleans, integers), read
// exactly as cluster-glue reads them, plus the stricter view tsbeat reports on top.

/**
 * A time value as cluster-glue's cl_get_msec reads it: a run of digits and dots, then an
 * optional unit starting with `ms` (milliseconds) or `us` (microseconds), case-insensitive;
 * no unit means seconds. Rounded to the nearest millisecond.
 */
export type TimeParse =
  | { readonly ok: true; readonly ms: number; readonly note?: string }
  | { readonly ok: false; readonly reason: string };

export function parseTime(text: string): TimeParse {
  const m = /^([0-9.]+)(.*)$/.exec(text);
  if (!m) {
    return { ok: false, reason: `"${text}" is not a time` };
  }
  const digits = m[1]!;
  const unit = m[2]!;
  const lower = unit.toLowerCase();
  let multiplier = 1000;
  let divisor = 1;
  let note: string | undefined;
  if (lower.startsWith('ms')) {
    multiplier = 1;
    if (lower !== 'ms' && lower !== 'msec') note = `unit "${unit}" is read as milliseconds`;
  } else if (lower.startsWith('us')) {
    multiplier = 1;
    divisor = 1000;
    if (lower !== 'us' && lower !== 'usec') note = `unit "${unit}" is read as microseconds`;
  } else if (unit !== '') {
    return { ok: false, reason: `unknown time unit "${unit}"` };
  }
  // atof() reads the longest decimal prefix: "1.5.2" is 1.5.
  const num = /^\d*(\.\d*)?/.exec(digits)![0];
  const value = num === '' || num === '.' ? 0 : Number.parseFloat(num);
  if (num !== digits) note = `"${digits}" is read as ${value}`;
  const ms = Math.floor((value * multiplier) / divisor + 0.5);
  return note ? { ok: true, ms, note } : { ok: true, ms };
}

/** cl_str_to_boolean: case-insensitive true/on/yes/y/1 and false/off/no/n/0. */
export function parseBoolean(text: string): boolean | undefined {
  switch (text.toLowerCase()) {
    case 'true':
    case 'on':
    case 'yes':
    case 'y':
    case '1':
      return true;
    case 'false':
    case 'off':
    case 'no':
    case 'n':
    case '0':
      return false;
    default:
      return undefined;
  }
}

/**
 * C's atoi: optional blanks and sign, then digits; anything after is ignored and no digits
 * at all gives 0. `exact` tells whether the whole text was a plain integer.
 */
export function atoi(text: string): { value: number; exact: boolean } {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  if (!m) return { value: 0, exact: false };
  const value = Number.parseInt(m[1]!, 10);
  return { value, exact: m[0].length === text.length && /^[+-]?\d+$/.test(text) };
}

/** Milliseconds in the shortest form an operator would write (`2s`, `1500ms`). */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
