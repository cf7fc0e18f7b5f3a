// Part: the node uuid heartbeat 3.0.6 derives from a node name (ha.cf `uuidfrom nodename`),
// reproduced exactly so a tsbeat node announces the uuid a heartbeat node would.
//
// Observed on the real daemon (test/interop/compression.test.ts checks it on the wire): the
// uuid is the same for a name on every run whatever hb_uuid holds, hb_uuid is neither read
// nor written, and the bytes are those of 32 hex digits drawn as rand() % 16 after
// srand(seed), where seed is the 31-multiplier string hash of the name's bytes in 32 bits
// (heartbeat logs it as "seed is N"). rand() is glibc's, so it is reimplemented below.

/**
 * glibc's random()/rand() with the default state (TYPE_3: x[i] = x[i-3] + x[i-31] mod 2^32,
 * seeded by 16807 * x mod (2^31 - 1), the first 310 outputs discarded). A generator of
 * values in 0..2^31-1, deterministic for a seed; srand(0) is srand(1), as in glibc.
 */
export function glibcRandom(seed: number): () => number {
  let s = seed >>> 0;
  if (s === 0) s = 1;
  // x[0] is the seed as glibc's int32_t state word; the recurrence runs on that signed
  // value with truncating division (Schrage's method), each result wrapped to 32 bits.
  const ring = new Uint32Array(34);
  let word = s | 0;
  ring[0] = word >>> 0;
  for (let k = 1; k < 31; k++) {
    const hi = Math.trunc(word / 127773);
    const lo = word % 127773;
    word = (16807 * lo - 2836 * hi) | 0;
    if (word < 0) word = (word + 2147483647) | 0;
    ring[k] = word >>> 0;
  }
  // x[31..33] repeat x[0..2]; from x[34] on, x[i] = x[i-31] + x[i-3]. A ring of 34 holds both.
  for (let k = 31; k < 34; k++) ring[k] = ring[k - 31]!;
  let i = 34;
  const next = (): number => {
    const v = (ring[(i - 31) % 34]! + ring[(i - 3) % 34]!) >>> 0;
    ring[i % 34] = v;
    i++;
    return v;
  };
  for (let k = 0; k < 310; k++) next();
  return () => next() >>> 1;
}

/** heartbeat's seed for a name: h = 31 * h + byte over the name's bytes, in 32 bits. */
export function nodenameSeed(name: string): number {
  let h = 0;
  for (const b of new TextEncoder().encode(name)) h = (Math.imul(h, 31) + b) >>> 0;
  return h;
}

/** The 16-byte uuid heartbeat 3.0.6 gives node `name` under `uuidfrom nodename`. */
export function uuidFromNodename(name: string): Uint8Array {
  const rand = glibcRandom(nodenameSeed(name));
  const out = new Uint8Array(16);
  for (let k = 0; k < 16; k++) out[k] = ((rand() % 16) << 4) | (rand() % 16);
  return out;
}
