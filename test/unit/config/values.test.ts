/**
 * Time, boolean and integer values read as cluster-glue reads them (cl_get_msec,
 * cl_str_to_boolean, atoi): what an operator writes in ha.cf must mean the same in tsbeat.
 */
import { describe, expect, it } from 'vitest';
import { atoi, parseBoolean, parseTime } from '../../../src/config/values.js';

describe('parseTime', () => {
  it.each([
    ['1', 1000],
    ['0.5', 500],
    ['1.5', 1500],
    ['500ms', 500],
    ['1500ms', 1500],
    ['2000000us', 2000],
    ['3msec', 3],
    ['3MS', 3],
    ['0', 0],
    ['0.0004', 0],
    ['0.0005', 1],
  ])('%s -> %d ms', (text, ms) => {
    const t = parseTime(text);
    expect(t.ok && t.ms).toBe(ms);
  });

  it.each(['abc', '-1', '10s', '1e3', 'ms', ''])('rejects %j', (text) => {
    expect(parseTime(text).ok).toBe(false);
  });

  it('reads a malformed number like atof, with a note', () => {
    const t = parseTime('1.5.2');
    expect(t).toMatchObject({ ok: true, ms: 1500 });
    expect(t.ok && t.note).toContain('1.5');
  });
});

describe('parseBoolean', () => {
  it.each(['true', 'on', 'yes', 'y', '1', 'YES', 'On'])('%s is true', (s) =>
    expect(parseBoolean(s)).toBe(true),
  );
  it.each(['false', 'off', 'no', 'n', '0', 'OFF'])('%s is false', (s) => expect(parseBoolean(s)).toBe(false));
  it.each(['maybe', '2', '', 'tru'])('%j is neither', (s) => expect(parseBoolean(s)).toBeUndefined());
});

describe('atoi', () => {
  it('reads like C', () => {
    expect(atoi('42')).toEqual({ value: 42, exact: true });
    expect(atoi('2x')).toEqual({ value: 2, exact: false });
    expect(atoi('abc')).toEqual({ value: 0, exact: false });
    expect(atoi('-3')).toEqual({ value: -3, exact: true });
  });
});
