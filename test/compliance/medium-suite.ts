// Part: the one contract suite every medium must pass (js-libp2p's interface-compliance-tests
// habit): memory, bcast, mcast, ucast and serial all run exactly these tests.
//
// What it proves: the lifecycle is idempotent and closed means closed; a frame sent by A
// arrives at B byte for byte with a plausible `from`, in both directions, many of them and a
// large one; closing ends iteration; garbage on the wire does not stop the reader. How: each
// test gets a fresh pair of media from the factory (real sockets, a real pty pair or the memory
// network), tags every frame it sends and waits, with generous limits and no timing
// assertions, for the tags to come out on the other side.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FrameFormat, Medium, ReceivedFrame } from '../../src/media/index.js';

/** Two media that can hear each other, fresh and not opened. */
export interface MediumPair {
  readonly a: Medium;
  readonly b: Medium;
  /** What `from` looks like at B for frames sent by A, and the reverse. */
  readonly fromA: RegExp;
  readonly fromB: RegExp;
  /** Writes bytes that are no frame of A's onto B's wire (both media are open). */
  injectGarbage(): Promise<void>;
  /** UDP media hand every datagram up (they do not parse); a serial reader discards garbage. */
  readonly garbageSurfaces: boolean;
  /** Whether frames arrive in sending order (serial and memory do; UDP makes no promise). */
  readonly ordered: boolean;
  /** Size of the "large frame" test: 3.5 KB on UDP (IP-fragmented), several chunks on serial. */
  readonly largeFrameBytes: number;
  /** Closes both media and releases whatever the factory set up. */
  dispose(): Promise<void>;
}

export interface MediumSuiteOptions {
  /** How long to wait for frames before failing; generous for a loaded 2-core machine. */
  readonly waitMs?: number;
  /** Frames in the "many frames" test. */
  readonly manyFrames?: number;
}

/** Registers the compliance tests for one kind of medium. */
export function describeMediumCompliance(
  label: string,
  makePair: () => Promise<MediumPair>,
  options: MediumSuiteOptions = {},
): void {
  const waitMs = options.waitMs ?? 20_000;
  const manyFrames = options.manyFrames ?? 60;

  describe(`${label}: Medium contract`, () => {
    let pair: MediumPair;
    beforeEach(async () => {
      pair = await makePair();
    });
    afterEach(async () => {
      await pair.dispose();
    });

    async function openBoth(): Promise<[FrameCollector, FrameCollector]> {
      const collectors: [FrameCollector, FrameCollector] = [
        new FrameCollector(pair.a),
        new FrameCollector(pair.b),
      ];
      await Promise.all([pair.a.open(), pair.b.open()]);
      return collectors;
    }

    it('describes itself', () => {
      for (const m of [pair.a, pair.b]) {
        expect(m.name.length).toBeGreaterThan(0);
        expect(m.link.length).toBeGreaterThan(0);
        expect(['bcast', 'mcast', 'ucast', 'serial', 'memory']).toContain(m.kind);
        expect(['netstring', 'classic']).toContain(m.frameFormat);
      }
      expect(pair.a.frameFormat).toBe(pair.b.frameFormat);
    });

    it('open and close are idempotent', async () => {
      const first = pair.a.open();
      const second = pair.a.open();
      await Promise.all([first, second]);
      await pair.a.open();
      await Promise.all([pair.a.close(), pair.a.close()]);
      await pair.a.close();
    });

    it('refuses to send before open and after close, with named errors', async () => {
      await expect(pair.a.send(frameFor(pair.a.frameFormat, 'early', 100))).rejects.toMatchObject({
        name: 'MediumNotOpenError',
      });
      await pair.a.open();
      await pair.a.close();
      await expect(pair.a.send(frameFor(pair.a.frameFormat, 'late', 100))).rejects.toMatchObject({
        name: 'MediumClosedError',
      });
      await expect(pair.a.open()).rejects.toMatchObject({ name: 'MediumClosedError' });
    });

    it('a medium closed before it was opened cannot be opened', async () => {
      await pair.b.close();
      await expect(pair.b.open()).rejects.toMatchObject({ name: 'MediumClosedError' });
    });

    it('a frame sent by A arrives at B intact, and the other way round', async () => {
      const [atA, atB] = await openBoth();
      const toB = frameFor(pair.a.frameFormat, 'a-to-b', 300);
      await pair.a.send(toB);
      const gotB = await atB.waitForTag('a-to-b', waitMs);
      expect(Buffer.from(gotB.bytes).equals(Buffer.from(toB))).toBe(true);
      expect(gotB.from).toMatch(pair.fromA);
      expect(Number.isFinite(gotB.receivedAtMs)).toBe(true);

      const toA = frameFor(pair.b.frameFormat, 'b-to-a', 300);
      await pair.b.send(toA);
      const gotA = await atA.waitForTag('b-to-a', waitMs);
      expect(Buffer.from(gotA.bytes).equals(Buffer.from(toA))).toBe(true);
      expect(gotA.from).toMatch(pair.fromB);
    });

    it('the sender may reuse its buffer as soon as send() resolved', async () => {
      const [, atB] = await openBoth();
      const frame = frameFor(pair.a.frameFormat, 'reused', 200);
      const original = frame.slice();
      await pair.a.send(frame);
      frame.fill(0x41, 40, frame.length - 20);
      const got = await atB.waitForTag('reused', waitMs);
      expect(Buffer.from(got.bytes).equals(Buffer.from(original))).toBe(true);
    });

    it(`many frames arrive (${manyFrames})`, async () => {
      const [, atB] = await openBoth();
      const tags: string[] = [];
      const sent = new Map<string, Uint8Array>();
      for (let i = 0; i < manyFrames; i++) {
        const tag = `many-${i}`;
        const frame = frameFor(pair.a.frameFormat, tag, 150 + ((i * 37) % 250));
        tags.push(tag);
        sent.set(tag, frame);
        await pair.a.send(frame);
      }
      const got = await atB.waitForTags(tags, waitMs);
      for (const frame of got) {
        const tag = tagOf(frame.bytes);
        expect(tag).toBeDefined();
        expect(Buffer.from(frame.bytes).equals(Buffer.from(sent.get(tag!)!))).toBe(true);
      }
      if (pair.ordered) {
        const order = atB.frames
          .map((f) => tagOf(f.bytes))
          .filter((t): t is string => t?.startsWith('many-') === true);
        expect(order).toEqual(tags);
      }
    });

    it('a large frame arrives intact', async () => {
      const [, atB] = await openBoth();
      const frame = frameFor(pair.a.frameFormat, 'large', pair.largeFrameBytes);
      expect(frame.length).toBe(pair.largeFrameBytes);
      await pair.a.send(frame);
      const got = await atB.waitForTag('large', waitMs);
      expect(got.bytes.length).toBe(frame.length);
      expect(Buffer.from(got.bytes).equals(Buffer.from(frame))).toBe(true);
    });

    it('close ends the iteration of frames()', async () => {
      const [atA, atB] = await openBoth();
      await pair.a.send(frameFor(pair.a.frameFormat, 'before-close', 100));
      await atB.waitForTag('before-close', waitMs);
      await pair.b.close();
      await atB.ended(waitMs);
      // Iterating a closed medium ends at once.
      const again = pair.b.frames()[Symbol.asyncIterator]();
      await expect(again.next()).resolves.toMatchObject({ done: true });
      await pair.a.close();
      await atA.ended(waitMs);
    });

    it('iteration may start before open and sees frames sent after it', async () => {
      const atB = new FrameCollector(pair.b);
      await pair.b.open();
      await pair.a.open();
      await pair.a.send(frameFor(pair.a.frameFormat, 'late-open', 120));
      await atB.waitForTag('late-open', waitMs);
    });

    it('garbage on the wire does not break the reader', async () => {
      const [, atB] = await openBoth();
      await pair.injectGarbage();
      const frame = frameFor(pair.a.frameFormat, 'after-garbage', 400);
      await pair.a.send(frame);
      const got = await atB.waitForTag('after-garbage', waitMs);
      expect(Buffer.from(got.bytes).equals(Buffer.from(frame))).toBe(true);
      if (!pair.garbageSurfaces) {
        // Everything a parsing reader yields is a whole frame we sent.
        for (const f of atB.frames) expect(tagOf(f.bytes)).toBeDefined();
      }
    });
  });
}

/**
 * A frame in the medium's format carrying `tag`, exactly `size` bytes long. Netstring frames
 * carry binary bytes (NUL, 0xff, newlines) to prove the media are 8-bit clean; classic frames
 * are 7-bit text lines, which is all a heartbeat serial line carries.
 */
export function frameFor(format: FrameFormat, tag: string, size: number): Uint8Array {
  const head =
    format === 'classic' ? `>>>\nt=test\ntag=${tag}\n` : `###\n6:(0)t=x,${tag.length + 7}:(0)tag=${tag},`;
  const tail = format === 'classic' ? '<<<\n' : '%%%\n';
  const frame = new Uint8Array(size);
  const headBytes = Buffer.from(head, 'latin1');
  const tailBytes = Buffer.from(tail, 'latin1');
  if (size < headBytes.length + tailBytes.length + 8) throw new Error(`frame of ${size} bytes is too small`);
  frame.set(headBytes, 0);
  frame.set(tailBytes, size - tailBytes.length);
  let seed = 0;
  for (const c of tag) seed = (seed * 31 + c.charCodeAt(0)) >>> 0;
  const end = size - tailBytes.length;
  if (format === 'classic') {
    // Lines of printable text, each ending in a newline, with a final newline before `<<<`.
    let column = 0;
    for (let i = headBytes.length; i < end; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const lineEnd = i === end - 1 || column === 70;
      frame[i] = lineEnd ? 0x0a : column === 0 ? 0x70 : 0x21 + (seed % 94);
      column = lineEnd ? 0 : column + 1;
    }
    // A line must not start with `<<<` or `>>>` by accident: the first byte of every line is "p".
  } else {
    frame[headBytes.length] = 0x00;
    for (let i = headBytes.length + 1; i < end; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      frame[i] = seed >>> 24;
    }
  }
  return frame;
}

/** The tag `frameFor` put into a frame, if any. */
export function tagOf(bytes: Uint8Array): string | undefined {
  const text = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  return /\(0\)tag=([A-Za-z0-9-]+),|\ntag=([A-Za-z0-9-]+)\n/
    .exec(text)
    ?.slice(1)
    .find((t) => t !== undefined);
}

/** Consumes a medium's frames in the background and lets tests wait for tags. */
export class FrameCollector {
  readonly frames: ReceivedFrame[] = [];
  #ended = false;
  #wake: (() => void)[] = [];

  constructor(medium: Medium) {
    void this.#consume(medium);
  }

  async #consume(medium: Medium): Promise<void> {
    try {
      for await (const frame of medium.frames()) {
        this.frames.push(frame);
        this.#notify();
      }
    } finally {
      this.#ended = true;
      this.#notify();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  async #until<T>(check: () => T | undefined, waitMs: number, what: () => string): Promise<T> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const result = check();
      if (result !== undefined) return result;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${waitMs} ms waiting for ${what()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForTag(tag: string, waitMs: number): Promise<ReceivedFrame> {
    return this.#until(
      () => this.frames.find((f) => tagOf(f.bytes) === tag),
      waitMs,
      () => `frame "${tag}" (have ${this.frames.length} frames)`,
    );
  }

  waitForTags(tags: readonly string[], waitMs: number): Promise<ReceivedFrame[]> {
    const wanted = new Set(tags);
    return this.#until(
      () => {
        const found = new Map<string, ReceivedFrame>();
        for (const f of this.frames) {
          const tag = tagOf(f.bytes);
          if (tag !== undefined && wanted.has(tag) && !found.has(tag)) found.set(tag, f);
        }
        return found.size === wanted.size ? [...found.values()] : undefined;
      },
      waitMs,
      () => `${tags.length} frames (have ${this.frames.length})`,
    );
  }

  ended(waitMs: number): Promise<true> {
    return this.#until(
      () => (this.#ended ? true : undefined),
      waitMs,
      () => 'frames() to end',
    );
  }
}
