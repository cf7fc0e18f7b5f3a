// Part: the serial line reader on its own (no line needed), plus the small pure helpers of the
// media layer. It proves that how the bytes are chunked never changes the frames (property
// test over random splits), that heartbeat's reading rules hold (skip to `>>>`, collect to
// `<<<`, ISTRIP, IGNCR), and that every buffer stays within its bound.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  broadcastOf,
  ClassicFrameReader,
  isClassicFrame,
  lockFileName,
  type ReceiveDropReason,
} from '../../src/media/index.js';

const ascii = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const str = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

function readAll(reader: ClassicFrameReader, chunks: Uint8Array[]): string[] {
  return chunks.flatMap((c) => reader.push(c)).map(str);
}

function recorder(): {
  drops: [ReceiveDropReason, number][];
  onDrop: (r: ReceiveDropReason, n: number) => void;
} {
  const drops: [ReceiveDropReason, number][] = [];
  return { drops, onDrop: (r, n) => void drops.push([r, n]) };
}

describe('ClassicFrameReader', () => {
  it('skips garbage, then yields each frame from the >>> line through the <<< line', () => {
    const reader = new ClassicFrameReader();
    const frames = readAll(reader, [
      ascii('noise\n\nmore noise\n>>>\nt=status\nsrc=alpha\n<<<\ntrailing\n>>>\nt=x\n<<<\n'),
    ]);
    expect(frames).toEqual(['>>>\nt=status\nsrc=alpha\n<<<\n', '>>>\nt=x\n<<<\n']);
  });

  it('keeps empty lines inside a frame and the rest of the marker lines, as heartbeat does', () => {
    const reader = new ClassicFrameReader();
    expect(readAll(reader, [ascii('>>>junk\nt=a\n\n<<<junk\n')])).toEqual(['>>>junk\nt=a\n\n<<<junk\n']);
  });

  it('strips the high bit (ISTRIP), drops CR (IGNCR) and NUL', () => {
    const reader = new ClassicFrameReader();
    const bytes = Uint8Array.from([
      ...ascii('>>>\r\n'),
      0xf4,
      0x3d,
      0xe1,
      0x00,
      0x0d,
      0x0a,
      ...ascii('<<<\r\n'),
    ]);
    expect(readAll(reader, [bytes])).toEqual(['>>>\nt=a\n<<<\n']);
  });

  it('a >>> inside a frame starts over and reports the cut frame', () => {
    const { drops, onDrop } = recorder();
    const reader = new ClassicFrameReader(undefined, onDrop);
    expect(readAll(reader, [ascii('>>>\nt=cut\n>>>\nt=whole\n<<<\n')])).toEqual(['>>>\nt=whole\n<<<\n']);
    expect(drops).toEqual([['frame-incomplete', 10]]);
  });

  it('a line over the limit drops its frame; garbage lines over it are only reported', () => {
    const { drops, onDrop } = recorder();
    const reader = new ClassicFrameReader({ maxLineBytes: 16, maxFrameBytes: 1000 }, onDrop);
    const long = 'x'.repeat(40);
    const input = `${long}\n>>>\nt=${long}\n<<<\n>>>\nt=ok\n<<<\n`;
    expect(readAll(reader, [ascii(input)])).toEqual(['>>>\nt=ok\n<<<\n']);
    expect(drops).toEqual([
      ['line-too-long', 41],
      ['line-too-long', 43],
    ]);
  });

  it('a frame over the limit is dropped and the reader waits for the next >>>', () => {
    const { drops, onDrop } = recorder();
    const reader = new ClassicFrameReader({ maxLineBytes: 100, maxFrameBytes: 64 }, onDrop);
    const input = `>>>\n${'field=0123456789\n'.repeat(10)}<<<\n>>>\nt=ok\n<<<\n`;
    expect(readAll(reader, [ascii(input)])).toEqual(['>>>\nt=ok\n<<<\n']);
    expect(drops.map(([r]) => r)).toEqual(['frame-too-long']);
  });

  it('a frame of exactly the limit passes', () => {
    const reader = new ClassicFrameReader({ maxLineBytes: 100, maxFrameBytes: 16 });
    expect(readAll(reader, [ascii('>>>\nt=abcd\n<<<\n')])).toEqual(['>>>\nt=abcd\n<<<\n']);
  });

  it('megabytes without a newline do not grow memory past the line limit', () => {
    const { drops, onDrop } = recorder();
    const reader = new ClassicFrameReader({ maxLineBytes: 512, maxFrameBytes: 4096 }, onDrop);
    const block = new Uint8Array(64 * 1024).fill(0x61);
    for (let i = 0; i < 64; i++) expect(reader.push(block)).toEqual([]);
    expect(readAll(reader, [ascii('\n>>>\nt=ok\n<<<\n')])).toEqual(['>>>\nt=ok\n<<<\n']);
    expect(drops).toEqual([['line-too-long', 64 * 64 * 1024 + 1]]);
  });

  it('property: however the stream is split, the same frames come out', () => {
    const line = fc.stringMatching(/^[a-z][a-z0-9=_.]{0,30}$/);
    const frame = fc
      .array(line, { maxLength: 8 })
      .map((lines) => `>>>\n${lines.map((l) => `${l}\n`).join('')}<<<\n`);
    const noise = fc.stringMatching(/^[a-z ]{0,20}\n$/);
    const piece = fc.oneof(frame, noise);
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (pieces, cuts) => {
          const stream = ascii(pieces.join(''));
          const expected = pieces.filter((p) => p.startsWith('>>>'));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let start = 0;
          for (const point of [...points, stream.length]) {
            chunks.push(stream.subarray(start, point));
            start = point;
          }
          expect(readAll(new ClassicFrameReader(), chunks)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('small helpers', () => {
  it('isClassicFrame wants >>>\\n at the start and <<<\\n at the end', () => {
    expect(isClassicFrame(ascii('>>>\n<<<\n'))).toBe(true);
    expect(isClassicFrame(ascii('>>>\nt=a\n<<<\n'))).toBe(true);
    expect(isClassicFrame(ascii('>>>\nt=a\n<<<'))).toBe(false);
    expect(isClassicFrame(ascii('###\nt=a\n<<<\n'))).toBe(false);
    expect(isClassicFrame(ascii('>>>\n'))).toBe(false);
  });

  it('broadcastOf sets the host bits, and /31 and /32 have no broadcast address', () => {
    expect(broadcastOf('10.250.1.7', 24)).toBe('10.250.1.255');
    expect(broadcastOf('192.168.5.130', 25)).toBe('192.168.5.255');
    expect(broadcastOf('172.16.0.1', 12)).toBe('172.31.255.255');
    expect(broadcastOf('10.0.0.1', 0)).toBe('255.255.255.255');
    expect(broadcastOf('10.0.0.1', 31)).toBeUndefined();
    expect(broadcastOf('10.0.0.1', 32)).toBeUndefined();
  });

  it('UUCP lock names keep the letters and digits after /dev/', () => {
    expect(lockFileName('/dev/ttyS0')).toBe('LCK..ttyS0');
    expect(lockFileName('/dev/pts/3')).toBe('LCK..pts3');
    expect(lockFileName('/dev/ttyUSB-1')).toBe('LCK..ttyUSB1');
  });
});
