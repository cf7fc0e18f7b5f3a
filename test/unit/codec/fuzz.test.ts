/**
 * Property and fuzz tests of the decoder (fast-check). Well over 100 000 frames go through
 * decodeFrame: real captured frames and encoder-made frames (nested structs, lists,
 * classic, compressed) with random mutations (bit flips, byte sets, inserted protocol
 * tokens, deletions, duplications, truncations, and numbers swapped for lying lengths),
 * plus random bytes and random well-formed messages. The decoder must never throw, must
 * always answer with one of the five verdicts, and whatever structure it accepts must
 * re-encode to bytes that decode to the same message. Random messages must survive
 * encode -> decode in both formats. Heap growth across the whole run must stay small
 * (measured after forced GCs), i.e. nothing is retained per frame. A failure prints the
 * fast-check seed and path; set FC_SEED to replay.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Keyring } from '../../../src/codec/auth/keyring.js';
import { fromLatin1, latin1 } from '../../../src/codec/bytes.js';
import { compressMessage } from '../../../src/codec/compression.js';
import {
  type DecodeResult,
  decodeFrame,
  encodeClassicFrame,
  encodeNetstringFrame,
  parseFrame,
  reencodeFrame,
} from '../../../src/codec/frame.js';
import { type Field, type Message, message } from '../../../src/codec/model.js';
import { keyringFor, keyringFromText, VECTORS, vectorBytes } from './fixtures.js';

const seedFromEnv = process.env['FC_SEED'];
const params = seedFromEnv ? { seed: Number(seedFromEnv) } : {};

const OUTCOMES = new Set(['ok', 'malformed', 'noAuth', 'unknownKeyIndex', 'badDigest']);
let framesDecoded = 0;

function decodeChecked(bytes: Uint8Array, keyring: Keyring): DecodeResult {
  framesDecoded++;
  const r = decodeFrame(bytes, keyring);
  if (!OUTCOMES.has(r.outcome)) throw new Error(`unexpected outcome ${String(r.outcome)}`);
  if (r.outcome === 'malformed' && (typeof r.reason !== 'string' || r.reason.length === 0))
    throw new Error('malformed without reason');
  return r;
}

/** A comparable view: kinds, names and latin1 values, recursively. */
function show(msg: Message): unknown {
  return msg.fields.map((f): unknown => {
    if (f.kind === 'struct') return [f.name, f.kind, show(f.value)];
    if (f.kind === 'list') return [f.name, f.kind, f.value.map((x) => latin1(x))];
    return [f.name, f.kind, latin1(f.value)];
  });
}

/** What the classic format does to strings: 0x13 comes back as a newline. */
function classicView(msg: Message): Message {
  return message(
    msg.fields.map((f): Field => {
      if (f.kind === 'string') return { ...f, value: f.value.map((b) => (b === 0x13 ? 0x0a : b)) };
      if (f.kind === 'struct') return { ...f, value: classicView(f.value) };
      return f;
    }),
  );
}

/** The message without top-level auth fields: re-encoding computes (or, classic, adds) them. */
function withoutAuth(msg: Message): Message {
  return message(msg.fields.filter((f) => f.name !== 'auth'));
}

/**
 * Whatever the parser accepted must re-encode and decode to the same message (apart from
 * the inner auth field, which re-encoding computes afresh).
 */
function checkReencode(bytes: Uint8Array, keyring: Keyring): void {
  const parsed = parseFrame(bytes);
  if (!parsed.ok) return;
  const again = reencodeFrame(parsed.frame, keyring);
  if (!again.ok) return; // e.g. a list element with a newline cannot be rendered as classic text
  const back = parseFrame(again.bytes);
  if (!back.ok) throw new Error(`re-encoded frame does not parse: ${back.reason}`);
  const expected =
    parsed.frame.format === 'classic' ? classicView(parsed.frame.message) : parsed.frame.message;
  expect(show(withoutAuth(back.frame.message))).toEqual(show(withoutAuth(expected)));
}

// ---- seed frames -------------------------------------------------------------------

const md5 = keyringFromText('auth 1\n1 md5 secret\n');
const sha1 = keyringFromText('auth 1\n1 sha1 secret2\n');
const crc = keyringFromText('auth 1\n1 crc\n');

const nameChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_-0123456789.:,#%<>( '.split(''));
const fieldName = fc
  .array(nameChars, { minLength: 1, maxLength: 8 })
  .map((cs) => cs.join(''))
  .filter((n) => !n.startsWith('('));
const valueBytes = fc.uint8Array({ maxLength: 24 }).map((b) => b.map((x) => (x === 0 ? 1 : x)));
const textBytes = fc
  .array(fc.constantFrom(...'abc xyz019=,:#%\n\u0013\u0014'.split('')), { maxLength: 16 })
  .map((cs) => fromLatin1(cs.join('')));
const listItem = fc
  .uint8Array({ minLength: 1, maxLength: 8 })
  .map((b) => b.map((x) => (x === 0 || x === 10 ? 65 : x)));

const { msg: arbMessage } = fc.letrec<{ msg: Message; field: Field }>((tie) => ({
  msg: fc.array(tie('field'), { minLength: 1, maxLength: 6 }).map((fields) => message(fields as Field[])),
  field: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      name: fieldName,
      kind: fc.constant('string' as const),
      value: fc.oneof(textBytes, valueBytes),
    }),
    fc.record({
      name: fieldName,
      kind: fc.constant('binary' as const),
      value: fc.uint8Array({ maxLength: 24 }),
    }),
    fc.record({
      name: fieldName,
      kind: fc.constant('list' as const),
      value: fc.array(listItem, { minLength: 1, maxLength: 4 }),
    }),
    fc.record({
      name: fieldName,
      kind: fc.constant('compressed' as const),
      value: fc.uint8Array({ maxLength: 16 }),
    }),
    fc.record({
      name: fieldName,
      kind: fc.constant('struct' as const),
      value: tie('msg') as fc.Arbitrary<Message>,
    }),
  ) as fc.Arbitrary<Field>,
}));

interface Seed {
  readonly bytes: Uint8Array;
  readonly keyring: Keyring;
}

function encoderSeeds(): Seed[] {
  const seeds: Seed[] = [];
  const samples = fc.sample(arbMessage, { numRuns: 60, seed: 42 });
  for (const [i, m] of samples.entries()) {
    const keyring = [md5, sha1, crc][i % 3]!;
    const ns = encodeNetstringFrame(m, keyring, { innerAuth: i % 2 === 0 });
    if (ns.ok) seeds.push({ bytes: ns.bytes, keyring });
    const cl = encodeClassicFrame(m, keyring, { trailingNul: i % 4 === 0 });
    if (cl.ok) seeds.push({ bytes: cl.bytes, keyring });
    const z = compressMessage(m, i % 2 === 0 ? 'classic' : 'netstring');
    if (z.ok) {
      const zf = encodeNetstringFrame(z.message, keyring, { innerAuth: false });
      if (zf.ok) seeds.push({ bytes: zf.bytes, keyring });
    }
  }
  return seeds;
}

const SEEDS: Seed[] = [
  ...VECTORS.map((v) => ({ bytes: vectorBytes(v), keyring: keyringFor(v) })),
  ...encoderSeeds(),
];

// ---- mutations -----------------------------------------------------------------------

const TOKENS = [
  '###\n',
  '%%%\n',
  '>>>\n',
  '<<<\n',
  '(0)',
  '(1)',
  '(2)',
  '(3)',
  '(4)',
  '(9)',
  ':',
  ',',
  '=',
  '\n',
  '\u0000',
  '\u0013',
  '\u0014',
  '999999:',
  '0:',
  '1 ',
  'auth=1 ',
  '-1:',
].map(fromLatin1);

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; len: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'truncate'; at: number }
  | { op: 'number'; at: number; value: number };

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(fc.constantFrom(...TOKENS), fc.uint8Array({ minLength: 1, maxLength: 8 })),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('number' as const),
    at: fc.nat(),
    value: fc.oneof(fc.nat({ max: 400 }), fc.constantFrom(0, 262_143, 262_144, 2 ** 31, 2 ** 53)),
  }),
);

function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  const at = n === 0 ? 0 : m.at % (n + 1);
  const join = (...parts: Uint8Array[]): Uint8Array => {
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  switch (m.op) {
    case 'flip': {
      if (n === 0) return input;
      const out = input.slice();
      out[m.at % n]! ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      if (n === 0) return input;
      const out = input.slice();
      out[m.at % n] = m.byte;
      return out;
    }
    case 'insert':
      return join(input.subarray(0, at), m.bytes, input.subarray(at));
    case 'delete':
      return join(input.subarray(0, at), input.subarray(Math.min(n, at + m.len)));
    case 'duplicate':
      return join(input.subarray(0, Math.min(n, at + m.len)), input.subarray(at));
    case 'truncate':
      return input.subarray(0, at);
    case 'number': {
      // Replace the digit run at or after `at` with another number: lengths that lie.
      let s = at;
      while (s < n && !(input[s]! >= 0x30 && input[s]! <= 0x39)) s++;
      if (s >= n) return input;
      let e = s;
      while (e < n && input[e]! >= 0x30 && input[e]! <= 0x39) e++;
      return join(input.subarray(0, s), fromLatin1(String(m.value)), input.subarray(e));
    }
  }
}

// ---- heap measurement ------------------------------------------------------------------

let gc: (() => void) | undefined;
let heapBeforeBytes = 0;

beforeAll(() => {
  setFlagsFromString('--expose-gc');
  gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  heapBeforeBytes = process.memoryUsage().heapUsed;
});

afterAll(() => {
  setFlagsFromString('--no-expose-gc');
});

describe('decoder fuzzing', () => {
  it('mutated real and encoder-made frames: no throw, closed verdicts, re-encodable structure', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(arbMutation, { minLength: 1, maxLength: 6 }), (which, mutations) => {
        const seed = SEEDS[which % SEEDS.length]!;
        let bytes = seed.bytes;
        for (const m of mutations) bytes = mutate(bytes, m);
        decodeChecked(bytes, seed.keyring);
        checkReencode(bytes, seed.keyring);
      }),
      { numRuns: 70_000, ...params },
    );
  });

  it('random bytes, bare and behind a valid start marker', () => {
    const starts = ['', '###\n', '>>>\n'].map(fromLatin1);
    fc.assert(
      fc.property(fc.constantFrom(...starts), fc.uint8Array({ maxLength: 400 }), (start, tail) => {
        const bytes = new Uint8Array(start.length + tail.length);
        bytes.set(start);
        bytes.set(tail, start.length);
        decodeChecked(bytes, md5);
        checkReencode(bytes, md5);
      }),
      { numRuns: 20_000, ...params },
    );
  });

  it('random messages survive encode -> decode in both formats, and their mutations do not throw', () => {
    fc.assert(
      fc.property(arbMessage, fc.constantFrom(md5, sha1, crc), arbMutation, (m, keyring, mutation) => {
        const ns = encodeNetstringFrame(m, keyring, { innerAuth: true });
        if (ns.ok) {
          const r = decodeChecked(ns.bytes, keyring);
          expect(r.outcome).toBe('ok');
          if (r.outcome === 'ok') expect(show(r.message)).toEqual(show(ns.message));
          decodeChecked(mutate(ns.bytes, mutation), keyring);
        }
        const cl = encodeClassicFrame(m, keyring);
        if (cl.ok) {
          const r = decodeChecked(cl.bytes, keyring);
          expect(r.outcome).toBe('ok');
          if (r.outcome === 'ok') expect(show(r.message)).toEqual(show(classicView(cl.message)));
          decodeChecked(mutate(cl.bytes, mutation), keyring);
        }
      }),
      { numRuns: 10_000, ...params },
    );
  });

  it('went through at least 100 000 frames and kept the heap bounded', () => {
    expect(framesDecoded).toBeGreaterThanOrEqual(100_000);
    gc?.();
    gc?.();
    const growthBytes = process.memoryUsage().heapUsed - heapBeforeBytes;
    // Nothing is retained per frame: after 100k+ frames the heap must be about where it was.
    expect(growthBytes).toBeLessThan(32 * 1024 * 1024);
  });
});
