// Part: the serial medium. First the compliance suite over a real socat pty pair (serialport's
// native binding, 19200 baud, CRTSCTS on as heartbeat sets it: a pty ignores hardware flow
// control, so this proves the setting does not block); then serial specifics on the same kind
// of pair: garbage, over-long lines and a frame over MAXMSG on the wire, UUCP locking and open
// errors; and, with a recording stand-in binding, heartbeat's write discipline: 512-byte
// chunks, a pause of 512/(baud/8) s between the chunks of a frame, and the write timeout.

import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  lockFileName,
  type Medium,
  type MediumEvent,
  type SerialBinding,
  type SerialOpenOptions,
  type SerialPortHandle,
  serialChunkPauseMs,
  serialMedium,
} from '../../src/media/index.js';
import { describeMediumCompliance, FrameCollector, type MediumPair, tagOf } from './medium-suite.js';
import { type PtyPair, socatAvailable, startPtyPair } from './pty.js';

const WAIT_MS = 20_000;
const exactly = (text: string): RegExp => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
const ascii = (text: string): Uint8Array => Buffer.from(text, 'latin1');

/** Writes raw bytes onto a pty's wire through a second descriptor, next to the medium's own. */
async function writeRaw(device: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(device, constants.O_WRONLY | constants.O_NOCTTY);
  try {
    await handle.write(bytes);
  } finally {
    await handle.close();
  }
}

const GARBAGE = Buffer.concat([
  ascii('line noise before any frame\n'),
  Buffer.from([0xc1, 0xe2, 0x0d, 0x41, 0x0a]), // high bits and a CR: ISTRIP and IGNCR
  Buffer.from([0x00, 0x00, 0x00, 0x0a]), // what a break looks like on a raw line
  ascii('<<<\n'), // a stray end line
  ascii(`${'x'.repeat(600)}\n`),
  ascii('>>>\nt=partial\nno-end=1\n'), // a frame whose sender died: the next >>> restarts
]);

describe.skipIf(!socatAvailable())('serial medium on a socat pty pair', () => {
  let lockDir: string;
  beforeAll(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'tsm-lock-'));
  });
  afterAll(async () => {
    await rm(lockDir, { recursive: true, force: true });
  });

  async function ptyPair(
    options: { bMaxLineBytes?: number; bEvents?: MediumEvent[] } = {},
  ): Promise<MediumPair & { pty: PtyPair }> {
    const pty = await startPtyPair();
    const a = serialMedium({ device: pty.a, lockDir });
    const b = serialMedium(
      {
        device: pty.b,
        lockDir,
        ...(options.bMaxLineBytes !== undefined ? { maxLineBytes: options.bMaxLineBytes } : {}),
      },
      options.bEvents ? { onEvent: (e) => void options.bEvents?.push(e) } : {},
    );
    return {
      pty,
      a,
      b,
      fromA: exactly(pty.b),
      fromB: exactly(pty.a),
      garbageSurfaces: false,
      ordered: true,
      // Six chunks, five pauses of 213 ms at 19200 baud.
      largeFrameBytes: 3000,
      injectGarbage: () => writeRaw(pty.a, GARBAGE),
      async dispose() {
        // Close the media before their line goes away.
        await Promise.all([a.close(), b.close()]);
        await pty.stop();
      },
    };
  }

  describeMediumCompliance('serial', () => ptyPair());

  it('a line over maxLineBytes costs its frame only; the next frame arrives', async () => {
    const events: MediumEvent[] = [];
    const pair = await ptyPair({ bMaxLineBytes: 512, bEvents: events });
    try {
      const atB = new FrameCollector(pair.b);
      await Promise.all([pair.a.open(), pair.b.open()]);
      await pair.a.send(ascii(`>>>\nt=test\ntag=long-line\ninfo=${'p'.repeat(600)}\n<<<\n`));
      const fine = ascii(`>>>\nt=test\ntag=after-long\ninfo=${'q'.repeat(500)}\n<<<\n`);
      await pair.a.send(fine);
      const got = await atB.waitForTag('after-long', WAIT_MS);
      expect(Buffer.from(got.bytes).equals(Buffer.from(fine))).toBe(true);
      // The line is ordered: had the long frame come through, it would be here already.
      expect(atB.frames.map((f) => tagOf(f.bytes))).toEqual(['after-long']);
      expect(events).toContainEqual(
        expect.objectContaining({ kind: 'receive-dropped', reason: 'line-too-long' }),
      );
    } finally {
      await pair.dispose();
    }
  });

  it('a frame over MAXMSG is dropped without growing memory; the next frame arrives', async () => {
    const events: MediumEvent[] = [];
    const pair = await ptyPair({ bEvents: events });
    try {
      const atB = new FrameCollector(pair.b);
      await Promise.all([pair.a.open(), pair.b.open()]);
      const line = `pad=${'z'.repeat(995)}\n`;
      await writeRaw(pair.pty.a, ascii(`>>>\nt=test\ntag=huge\n${line.repeat(300)}<<<\n`));
      const fine = ascii('>>>\nt=test\ntag=after-huge\n<<<\n');
      await pair.a.send(fine);
      await atB.waitForTag('after-huge', WAIT_MS);
      expect(atB.frames.map((f) => tagOf(f.bytes))).toEqual(['after-huge']);
      expect(events).toContainEqual(
        expect.objectContaining({ kind: 'receive-dropped', reason: 'frame-too-long' }),
      );
    } finally {
      await pair.dispose();
    }
  });

  it('sending a frame that is not classic is a FrameFormatError', async () => {
    const pair = await ptyPair();
    try {
      await pair.a.open();
      await expect(pair.a.send(ascii('###\n11:(0)t=status,%%%\n'))).rejects.toMatchObject({
        name: 'FrameFormatError',
      });
    } finally {
      await pair.dispose();
    }
  });

  it('holds a UUCP lock file while open and refuses a line another process has locked', async () => {
    const pair = await ptyPair();
    try {
      await pair.a.open();
      const lockPath = join(lockDir, lockFileName(pair.pty.a));
      expect((await readFile(lockPath, 'utf8')).trim()).toBe(String(process.pid));
      // A second medium on the same line, in this process.
      const twin = serialMedium({ device: pair.pty.a, lockDir });
      await expect(twin.open()).rejects.toMatchObject({ name: 'MediumOpenError' });
      // The failed twin must not have removed the holder's lock.
      expect((await readFile(lockPath, 'utf8')).trim()).toBe(String(process.pid));
      await pair.a.close();
      await expect(readFile(lockPath, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

      // A live foreign process (socat itself) holds B's line.
      const bLock = join(lockDir, lockFileName(pair.pty.b));
      await writeFile(bLock, `${String(pair.pty.pid).padStart(11)}\n`);
      await expect(pair.b.open()).rejects.toThrow(new RegExp(`locked by process ${pair.pty.pid}`));
    } finally {
      await pair.dispose();
    }
  });

  it('takes over a stale lock file', async () => {
    const pair = await ptyPair();
    try {
      const lockPath = join(lockDir, lockFileName(pair.pty.a));
      // No process has pid 2^22 + 1 on a default pid_max; heartbeat removes such files.
      await writeFile(lockPath, `${String(4_194_305).padStart(11)}\n`);
      await pair.a.open();
      expect((await readFile(lockPath, 'utf8')).trim()).toBe(String(process.pid));
    } finally {
      await pair.dispose();
    }
  });
});

describe('serial medium: open errors', () => {
  it('a missing device, a plain file and a non-tty character device are MediumOpenErrors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsm-serial-'));
    try {
      const plain = join(dir, 'ttyFAKE');
      await writeFile(plain, '');
      const cases: [string, RegExp][] = [
        [join(dir, 'ttyNOPE'), /: no such device$/],
        [plain, /: not a character device$/],
        ['/dev/null', /: cannot open: not a serial line$/],
      ];
      for (const [device, message] of cases) {
        const m = serialMedium({ device, lockDir: false });
        const err = await m.open().catch((e: unknown) => e);
        expect(err).toMatchObject({ name: 'MediumOpenError', medium: `serial ${device}` });
        expect((err as Error).message).toMatch(message);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a relative path or an unknown baud rate is refused when the medium is built', () => {
    expect(() => serialMedium({ device: 'ttyS0' })).toThrow(/full path name/);
    expect(() => serialMedium({ device: '/dev/ttyS0', baud: 1200 as 9600 })).toThrow(
      /invalid baud rate 1200/,
    );
  });
});

/** A stand-in for serialport's binding that records what the medium does to the line. */
class RecordingPort implements SerialPortHandle {
  isOpen = true;
  readonly writes: Buffer[] = [];
  readonly sets: { brk?: boolean }[] = [];
  flushes = 0;
  /** When true, writes never complete (a line held back by flow control). */
  blockWrites = false;
  #cancel: ((err: Error) => void)[] = [];

  read(): Promise<{ bytesRead: number }> {
    return new Promise((_, reject) => this.#cancel.push(reject));
  }
  write(buffer: Buffer): Promise<void> {
    this.writes.push(Buffer.from(buffer));
    if (!this.blockWrites) return Promise.resolve();
    return new Promise((_, reject) => this.#cancel.push(reject));
  }
  async flush(): Promise<void> {
    this.flushes += 1;
  }
  async set(options: { brk?: boolean }): Promise<void> {
    this.sets.push(options);
  }
  async close(): Promise<void> {
    this.isOpen = false;
    const cancel = this.#cancel;
    this.#cancel = [];
    for (const reject of cancel) reject(Object.assign(new Error('Port is not open'), { canceled: true }));
  }
}

function recordingMedium(options: { baud?: 9600 | 19200 | 115200; writeTimeoutMs?: number } = {}) {
  const port = new RecordingPort();
  const opened: SerialOpenOptions[] = [];
  const binding: SerialBinding = {
    open: async (o) => {
      opened.push(o);
      return port;
    },
  };
  const sleeps: number[] = [];
  const events: MediumEvent[] = [];
  // /dev/null passes the character-device check; the binding never touches it.
  const medium: Medium = serialMedium(
    {
      device: '/dev/null',
      lockDir: false,
      ...(options.baud ? { baud: options.baud } : {}),
      ...(options.writeTimeoutMs ? { writeTimeoutMs: options.writeTimeoutMs } : {}),
    },
    {
      binding,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      onEvent: (e) => void events.push(e),
    },
  );
  return { medium, port, opened, sleeps, events };
}

function classicFrame(size: number, tag: string): Uint8Array {
  const head = `>>>\nt=test\ntag=${tag}\n`;
  const tail = '<<<\n';
  const body = 'x'.repeat(size - head.length - tail.length - 1);
  return ascii(`${head}${body}\n${tail}`);
}

describe('serial medium: write discipline (recording binding)', () => {
  it('opens raw 8N1 with CRTSCTS, flushes and sends a break, as heartbeat does', async () => {
    const { medium, port, opened, sleeps } = recordingMedium();
    await medium.open();
    expect(opened).toEqual([
      {
        path: '/dev/null',
        baudRate: 19200,
        dataBits: 8,
        stopBits: 1,
        parity: 'none',
        rtscts: true,
        lock: true,
      },
    ]);
    expect(port.flushes).toBe(1);
    expect(port.sets).toEqual([{ brk: true }, { brk: false }]);
    expect(sleeps).toEqual([250]);
    await medium.close();
    expect(port.isOpen).toBe(false);
  });

  it.each([9600, 19200, 115200] as const)(
    'writes 512-byte chunks with a 512/(baud/8) s pause at %i baud',
    async (baud) => {
      const { medium, port, sleeps } = recordingMedium({ baud });
      await medium.open();
      sleeps.length = 0;
      const frame = classicFrame(1300, 'chunked');
      await medium.send(frame);
      await vi.waitFor(() => expect(port.writes.reduce((n, w) => n + w.length, 0)).toBe(1300));
      expect(port.writes.map((w) => w.length)).toEqual([512, 512, 276]);
      expect(Buffer.concat(port.writes).equals(Buffer.from(frame))).toBe(true);
      // A pause between chunks, none after the last one.
      expect(sleeps).toEqual([serialChunkPauseMs(baud), serialChunkPauseMs(baud)]);
      expect(serialChunkPauseMs(19200)).toBeCloseTo(213.333, 3);

      // Small frames go out whole and back to back.
      port.writes.length = 0;
      sleeps.length = 0;
      await medium.send(classicFrame(200, 's1'));
      await medium.send(classicFrame(512, 's2'));
      await vi.waitFor(() => expect(port.writes.map((w) => w.length)).toEqual([200, 512]));
      expect(sleeps).toEqual([]);
      await medium.close();
    },
  );

  it('a write that times out is reported, the line flushed and the waiting frames dropped', async () => {
    const { medium, port, events } = recordingMedium({ writeTimeoutMs: 200 });
    await medium.open();
    port.blockWrites = true;
    await medium.send(classicFrame(1300, 'stuck'));
    await medium.send(classicFrame(100, 'waiting-1'));
    await medium.send(classicFrame(100, 'waiting-2'));
    await vi.waitFor(
      () =>
        expect(events).toContainEqual(
          expect.objectContaining({ kind: 'send-dropped', reason: 'write-timeout', frames: 2 }),
        ),
      { timeout: WAIT_MS },
    );
    expect(events).toContainEqual(expect.objectContaining({ kind: 'send-failed', code: 'ETIMEDOUT' }));
    expect(port.flushes).toBe(2);
    // Only the first chunk reached the line; nothing is written while it is stuck: the next
    // frame waits for the stuck write, the one after it waits in the queue.
    await medium.send(classicFrame(100, 'later-1'));
    await medium.send(classicFrame(100, 'later-2'));
    expect(port.writes.map((w) => w.length)).toEqual([512]);
    // close() cancels the stuck write and finishes.
    await medium.close();
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'send-dropped', reason: 'closed', frames: 1 }),
    );
  });

  it('a full send queue drops frames with an event instead of growing', async () => {
    const { medium, port, events } = recordingMedium({ writeTimeoutMs: 60_000 });
    await medium.open();
    port.blockWrites = true;
    for (let i = 0; i < 70; i++) await medium.send(classicFrame(100, `q${i}`));
    const dropped = events.filter((e) => e.kind === 'send-dropped' && e.reason === 'queue-full');
    // One frame is on the line, 64 wait, the rest are refused.
    expect(dropped).toHaveLength(5);
    await medium.close();
  });
});
