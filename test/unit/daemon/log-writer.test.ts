/**
 * The daemon's log writers (src/daemon/log-writer.ts): nothing a log destination does can
 * block the event loop or the process's exit, every queue is bounded, and every line is either
 * written, in order, or counted as dropped, with a note at the gap. Proves it against the real
 * troublemakers, not mocks: a FIFO nobody opened for reading, a FIFO whose reader stopped
 * reading, a tmpfs filled to the last byte (mounted in a private mount namespace through
 * unshare), a file renamed away by "logrotate", a stderr pipe or socket nobody drains, and a
 * logger(1) stand-in that never reads or dies. Where a hang is the failure, the writer runs in a
 * child process (built dist/) that is killed after a deadline, and the test measures how long
 * the child took to exit after its last output; event-loop delay is measured inside the child
 * with perf_hooks.monitorEventLoopDelay while it logs 10,000 lines. Bounds are generous (a
 * loaded 2-core machine): a blocking writer would hang for ever, not for a second.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DROP_NOTE_INTERVAL_MS,
  FileSink,
  type SinkStats,
  SyslogSink,
} from '../../../src/daemon/log-writer.js';
import { DIST_LOG, lastJson, runNode } from './child.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-logw-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const fresh = (name: string): string => join(tmp, `${++seq}-${name}`);
const mkfifo = (name: string): string => {
  const p = fresh(name);
  const r = spawnSync('mkfifo', [p]);
  if (r.status !== 0) throw new Error(`mkfifo ${p}: ${r.stderr}`);
  return p;
};
const note = (text: string): string => `NOTE ${text}\n`;
// A blocked log write holds the event loop for good (a FIFO nobody reads blocks open(2) and
// write(2) forever); these bounds only tell "never blocked" from "a loaded 2-core machine was
// slow", so they are generous on purpose. Speed itself is measured by `npm run bench -- log`.
const LAG_MS = 8000;
const EXIT_GAP_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(f: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');
const numberedLine = (i: number): string => `line ${String(i).padStart(5, '0')} ${'y'.repeat(80)}\n`;
/** What a non-blocking pipe fd holds right now. */
function readNow(fd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65_536);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}
/** Exactly n bytes that are already in the pipe. */
function readExactly(fd: number, n: number): string {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) got += readSync(fd, buf, got, n - got, null);
  return buf.toString('utf8');
}
/** Fill a pipe through a non-blocking fd of it until it takes no more; how many bytes went in. */
function fillPipe(fd: number): number {
  const page = Buffer.alloc(4096, 'j');
  let n = 0;
  for (;;) {
    try {
      n += writeSync(fd, page);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return n;
      throw e;
    }
  }
}

/** `cat FIFO > OUT` as the FIFO's reader; resolves once cat ended (every writer closed). */
function drain(fifo: string, out: string): { pid: number; ended: Promise<void> } {
  const c = spawn('sh', ['-c', 'exec cat "$0" > "$1"', fifo, out], { stdio: 'ignore' });
  return { pid: c.pid!, ended: new Promise((r) => c.on('exit', () => r())) };
}

interface ChildReport {
  maxLagMs: number;
  stats: SinkStats[];
}

/** Child code: log N lines through createLog(OPTS) in bursts, report event-loop delay and stats, close, and end naturally. */
function loggingChild(opts: string, n = 10_000): string {
  return `
import { createLog } from ${JSON.stringify(DIST_LOG)};
import { monitorEventLoopDelay } from 'node:perf_hooks';
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
const log = createLog(${opts});
for (let i = 0; i < ${n}; i++) {
  log.info('line ' + i + ' of the log-writer test, long enough to look like a real heartbeat log line');
  if (i % 500 === 499) await new Promise((r) => setImmediate(r));
}
// Wait for the writers to settle (an error met, or everything written) rather than a fixed time:
// under load the first open or the write that fills the pipe can take longer than any guess.
const settled = () => log.stats().every((s) => s.lastError !== undefined || s.queuedLines === 0);
for (const end = Date.now() + 20000; !settled() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
h.disable();
process.stdout.write(JSON.stringify({ maxLagMs: h.max / 1e6, stats: log.stats() }) + '\\n');
log.close();
`;
}

describe('FileSink', () => {
  it('writes every line in order when it keeps up', async () => {
    const f = fresh('order.log');
    const s = new FileSink({ path: f, noteLine: note });
    const want: string[] = [];
    for (let b = 0; b < 40; b++) {
      for (let i = 0; i < 500; i++) {
        const line = `line ${b * 500 + i}\n`;
        want.push(line);
        expect(s.push(line)).toBe(true);
      }
      expect(await s.flush(10_000)).toBe(true);
    }
    s.close();
    expect(read(f)).toBe(want.join(''));
    expect(s.stats()).toMatchObject({ writtenLines: 20_000, droppedLines: 0, queuedLines: 0, ok: true });
  });

  it('holds at most maxQueueLines, drops the newest with an exact count, and notes the gap where it is', async () => {
    const f = fresh('bound.log');
    const s = new FileSink({ path: f, noteLine: note, limits: { maxQueueLines: 100 } });
    // The file opens asynchronously, so nothing is written during this synchronous burst.
    for (let i = 0; i < 2000; i++) s.push(`line ${i}\n`);
    expect(s.stats()).toMatchObject({ queuedLines: 100, droppedLines: 1900 });
    expect(await s.flush(10_000)).toBe(true);
    s.push('after\n');
    expect(await s.flush(10_000)).toBe(true);
    s.close();
    const lines = read(f).trimEnd().split('\n');
    expect(lines.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => `line ${i}`));
    expect(lines.slice(100)).toEqual([
      `NOTE 1900 log lines dropped: ${f}: writes are slower than logging (queue full)`,
      'after',
    ]);
  });

  it('bounds bytes as well as lines', async () => {
    const f = fresh('bytes.log');
    const s = new FileSink({ path: f, noteLine: note, limits: { maxQueueBytes: 1000 } });
    const line = `${'x'.repeat(99)}\n`;
    let accepted = 0;
    for (let i = 0; i < 50; i++) if (s.push(line)) accepted++;
    expect(accepted).toBe(10);
    expect(s.stats()).toMatchObject({ queuedBytes: 1000, droppedLines: 40 });
    await s.flush(10_000);
    s.close();
  });

  it('writes at most one drop note per 10 s, and the next one carries what was dropped in between', async () => {
    const f = fresh('rate.log');
    let now = 1_000_000;
    const s = new FileSink({ path: f, noteLine: note, limits: { maxQueueLines: 2 }, now: () => now });
    // Not flush(): flush writes a pending note at once (shutdown must not lose the count).
    const burst = async (tag: string, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) s.push(`${tag} ${i}\n`);
      await until(() => s.stats().queuedLines === 0, 10_000, 'the queue to drain');
    };
    await burst('a', 5); // 3 dropped
    await burst('b', 1); // accepted: note for 3 goes before it
    now += 1000;
    await burst('c', 4); // 2 dropped, c 0 and c 1 kept
    await burst('d', 1); // within 10 s of the last note: no note yet
    now += 10_000;
    await burst('e', 1); // note for 2
    s.close();
    expect(read(f)).toBe(
      [
        'a 0',
        'a 1',
        `NOTE 3 log lines dropped: ${f}: writes are slower than logging (queue full)`,
        'b 0',
        'c 0',
        'c 1',
        'd 0',
        `NOTE 2 log lines dropped: ${f}: writes are slower than logging (queue full)`,
        'e 0',
        '',
      ].join('\n'),
    );
    expect(s.stats().droppedLines).toBe(5);
  });

  it('a FIFO nobody reads: queues, counts, says ENXIO; writes everything once a reader comes', async () => {
    const fifo = mkfifo('noreader.fifo');
    const s = new FileSink({ path: fifo, noteLine: note, limits: { maxQueueLines: 100 } });
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) s.push(`line ${i}\n`);
    expect(performance.now() - t0).toBeLessThan(LAG_MS);
    await until(() => s.stats().lastError, 20_000, 'the first open to fail');
    expect(s.stats()).toMatchObject({
      queuedLines: 100,
      droppedLines: 900,
      writtenLines: 0,
      ok: false,
      lastError: 'no process has the FIFO open for reading (ENXIO)',
    });
    const t1 = performance.now();
    expect(await s.flush(200)).toBe(false);
    expect(performance.now() - t1).toBeLessThan(EXIT_GAP_MS);

    const out = fresh('noreader.out');
    const reader = drain(fifo, out);
    // Back-off is at most 1 s: the sink finds the reader by itself.
    await until(() => s.stats().writtenLines === 100, 10_000, 'the queued lines to be written');
    s.push('after\n');
    expect(await s.flush(10_000)).toBe(true);
    s.close();
    await reader.ended;
    const lines = read(out).trimEnd().split('\n');
    expect(lines).toHaveLength(102);
    expect(lines[99]).toBe('line 99');
    expect(lines[100]).toBe(
      `NOTE 900 log lines dropped: ${fifo}: no process has the FIFO open for reading (ENXIO)`,
    );
    expect(lines[101]).toBe('after');
    expect(s.stats().ok).toBe(true);
  });

  it('a FIFO whose reader stopped reading: fills the pipe, then drops with EAGAIN, and resumes in order', async () => {
    const fifo = mkfifo('stalled.fifo');
    const reader = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      const s = new FileSink({ path: fifo, noteLine: note, limits: { maxQueueLines: 1000 } });
      const accepted: number[] = [];
      let pushed = 0;
      const push = (n: number): void => {
        for (let i = 0; i < n; i++, pushed++) if (s.push(numberedLine(pushed))) accepted.push(pushed);
      };
      // Fill the pipe without ever filling the queue: how many lines the sink writes between two
      // bursts depends on the machine's load, and a queue that overflows before the pipe is full
      // drops lines for "queue full", not EAGAIN (the next test pins that case down).
      while (!s.stats().lastError && pushed < 5000) {
        push(100);
        await until(
          () => s.stats().queuedLines === 0 || s.stats().lastError,
          20_000,
          'a chunk written or EAGAIN',
        );
      }
      expect(s.stats()).toMatchObject({ lastError: 'the reader does not keep up (EAGAIN)', droppedLines: 0 });
      // Nobody reads, so nothing more is written: the queue fills, then the newest lines are dropped.
      while (pushed < 10_000) {
        push(500);
        await sleep(5);
      }
      const st = s.stats();
      expect(st.ok).toBe(false);
      // A pipe holds 64 KiB: about 700 of these 92-byte lines, then nothing more goes in.
      expect(st.writtenLines).toBeGreaterThan(0);
      expect(st.writtenLines).toBeLessThan(1000);
      expect(st.queuedLines).toBe(1000);
      expect(st.writtenLines + st.queuedLines + st.droppedLines).toBe(pushed);
      expect(accepted).toEqual(Array.from({ length: st.writtenLines + 1000 }, (_, i) => i));

      // The reader reads again.
      let text = '';
      await until(
        () => {
          text += readNow(reader);
          return s.stats().queuedLines === 0;
        },
        20_000,
        'the queue to drain',
      );
      s.push('after\n');
      expect(await s.flush(20_000)).toBe(true);
      s.close();
      text += readNow(reader);
      const lines = text.trimEnd().split('\n');
      const numbered = lines.filter((l) => l.startsWith('line ')).map((l) => Number(l.slice(5, 10)));
      // Every accepted line, in order, without holes: what was written plus what was queued.
      expect(numbered).toEqual(accepted);
      expect(lines.slice(numbered.length)).toEqual([
        `NOTE ${st.droppedLines} log lines dropped: ${fifo}: the reader does not keep up (EAGAIN)`,
        'after',
      ]);
      expect(s.stats()).toMatchObject({
        ok: true,
        writtenLines: accepted.length + 1,
        droppedLines: st.droppedLines,
      });
    } finally {
      closeSync(reader);
    }
  });

  it('a FIFO whose reader falls behind and catches up: drops the newest while full, takes lines again, in order, a note at each gap', async () => {
    const fifo = mkfifo('behind.fifo');
    const reader = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      // The pipe starts full of the reader's own bytes: the sink can write nothing until the test
      // reads them, so what the sink can write when is the test's choice, whatever the load.
      const junk = fillPipe(reader);
      let now = 1_000_000;
      const s = new FileSink({ path: fifo, noteLine: note, limits: { maxQueueLines: 1000 }, now: () => now });
      const accepted: number[] = [];
      let pushed = 0;
      const push = (n: number): void => {
        for (let i = 0; i < n; i++, pushed++) if (s.push(numberedLine(pushed))) accepted.push(pushed);
      };
      push(1000);
      await until(() => s.stats().lastError, 20_000, 'EAGAIN');
      push(500);
      expect(s.stats()).toMatchObject({ writtenLines: 0, queuedLines: 1000, droppedLines: 500, ok: false });

      // The reader takes its own bytes: the sink fills the pipe again, and stops at EAGAIN.
      expect(readExactly(reader, junk)).toBe('j'.repeat(junk));
      await until(() => s.stats().writtenLines > 0 && !s.stats().ok, 20_000, 'the pipe to fill again');
      const w = s.stats().writtenLines;
      expect(w).toBeLessThan(1000);
      push(1000);
      expect(s.stats()).toMatchObject({ writtenLines: w, queuedLines: 1000, droppedLines: 500 + 1000 - w });

      now += DROP_NOTE_INTERVAL_MS;
      let text = '';
      await until(
        () => {
          text += readNow(reader);
          return s.stats().queuedLines === 0;
        },
        20_000,
        'the queue to drain',
      );
      s.push('after\n');
      expect(await s.flush(20_000)).toBe(true);
      s.close();
      text += readNow(reader);
      const range = (from: number, n: number): string[] =>
        Array.from({ length: n }, (_, i) => numberedLine(from + i).trimEnd());
      const why = `${fifo}: the reader does not keep up (EAGAIN)`;
      expect(text.trimEnd().split('\n')).toEqual([
        ...range(0, 1000),
        `NOTE 500 log lines dropped: ${why}`,
        ...range(1500, w),
        `NOTE ${1000 - w} log lines dropped: ${why}`,
        'after',
      ]);
      expect(s.stats()).toMatchObject({ ok: true, writtenLines: 1000 + w + 1, droppedLines: 1500 - w });
    } finally {
      closeSync(reader);
    }
  });

  it('a FIFO whose reader went away (EPIPE): what is already in the pipe reaches the next reader', async () => {
    const fifo = mkfifo('epipe.fifo');
    const first = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const s = new FileSink({ path: fifo, noteLine: note, limits: { maxQueueLines: 1000 } });
    for (let i = 0; i < 1000; i++) s.push(numberedLine(i));
    await until(() => s.stats().lastError, 20_000, 'EAGAIN');
    const inPipe = s.stats().writtenLines;
    expect(inPipe).toBeGreaterThan(0);
    // The reader dies without reading what the pipe holds.
    closeSync(first);
    const epipe = await until(
      () => s.stats().lastError === 'the reader went away (EPIPE)' && s.stats().lastErrorAtMs,
      20_000,
      'EPIPE',
    );
    // Let the sink try again with nobody reading (if it closed its end now, the kernel would
    // throw away the lines in the pipe, already counted as written).
    await until(() => s.stats().lastErrorAtMs! > epipe, 20_000, 'a second attempt');
    const next = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      let text = '';
      await until(
        () => {
          text += readNow(next);
          return s.stats().queuedLines === 0;
        },
        20_000,
        'the queue to drain',
      );
      expect(await s.flush(20_000)).toBe(true);
      s.close();
      text += readNow(next);
      expect(text).toBe(Array.from({ length: 1000 }, (_, i) => numberedLine(i)).join(''));
      expect(s.stats()).toMatchObject({ ok: true, writtenLines: 1000, droppedLines: 0 });
    } finally {
      closeSync(next);
    }
  });

  it('reopens the path when logrotate moved the file away', async () => {
    const f = fresh('rot.log');
    let rotated = 0;
    const s = new FileSink({ path: f, noteLine: note, onRotated: () => rotated++ });
    s.push('before\n');
    await s.flush(10_000);
    renameSync(f, `${f}.1`);
    s.checkRotation();
    await until(() => rotated === 1, 20_000, 'the rotation to be noticed');
    s.push('after\n');
    await s.flush(10_000);
    s.close();
    expect(read(`${f}.1`)).toBe('before\n');
    expect(read(f)).toBe('after\n');
  });

  it('reopen() closes and opens the file again at once', async () => {
    const f = fresh('hup.log');
    const s = new FileSink({ path: f, noteLine: note });
    s.push('one\n');
    await s.flush(10_000);
    renameSync(f, `${f}.old`);
    s.reopen();
    s.push('two\n');
    await s.flush(10_000);
    s.close();
    expect(read(`${f}.old`)).toBe('one\n');
    expect(read(f)).toBe('two\n');
  });

  it('creates a missing directory, and close() drops what it cannot write at once', async () => {
    const f = join(fresh('newdir'), 'sub', 'x.log');
    const s = new FileSink({ path: f, noteLine: note });
    s.push('hello\n');
    expect(await s.flush(10_000)).toBe(true);
    s.close();
    expect(read(f)).toBe('hello\n');
    expect(s.push('late\n')).toBe(false);

    const fifo = mkfifo('close.fifo');
    const t = new FileSink({ path: fifo, noteLine: note });
    for (let i = 0; i < 10; i++) t.push(`x ${i}\n`);
    await until(() => t.stats().lastError, 20_000, 'ENXIO');
    t.close();
    expect(t.stats()).toMatchObject({ queuedLines: 0, droppedLines: 10 });
  });
});

describe('no destination can hold the process (child processes, dist/)', () => {
  it('logfile and debugfile on a FIFO nobody reads: no event-loop delay, exact drop counts, exits at once', async () => {
    const fifo = mkfifo('child-noreader.fifo');
    const dfifo = mkfifo('child-noreader-debug.fifo');
    const run = runNode(
      loggingChild(
        `{ logfile: ${JSON.stringify(fifo)}, debugfile: ${JSON.stringify(dfifo)}, limits: { maxQueueLines: 1000 } }`,
      ),
    );
    const r = await run.done;
    expect(r.killed).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    const rep = lastJson<ChildReport>(r.stdout);
    expect(rep.maxLagMs).toBeLessThan(LAG_MS);
    for (const st of rep.stats) {
      expect(st).toMatchObject({ queuedLines: 1000, droppedLines: 9000, writtenLines: 0, ok: false });
      expect(st.lastError).toContain('ENXIO');
    }
    expect(r.exitedAt - r.lastOutputAt).toBeLessThan(EXIT_GAP_MS);
  });

  it('logfile on a FIFO whose reader never reads: no event-loop delay, every line written or counted, exits at once', async () => {
    const fifo = mkfifo('child-stalled.fifo');
    const holder = openSync(fifo, constants.O_RDWR);
    try {
      const run = runNode(
        loggingChild(`{ logfile: ${JSON.stringify(fifo)}, limits: { maxQueueLines: 1000 } }`),
      );
      const r = await run.done;
      expect(r.killed).toBe(false);
      expect(r.code, r.stderr).toBe(0);
      const rep = lastJson<ChildReport>(r.stdout);
      expect(rep.maxLagMs).toBeLessThan(LAG_MS);
      const st = rep.stats[0]!;
      expect(st.lastError).toContain('EAGAIN');
      expect(st.writtenLines).toBeGreaterThan(0);
      expect(st.writtenLines + st.queuedLines + st.droppedLines).toBe(10_000);
      expect(r.exitedAt - r.lastOutputAt).toBeLessThan(EXIT_GAP_MS);
    } finally {
      closeSync(holder);
    }
  });

  it('stderr on a pipe nobody reads: bounded (FIFO path), exits at once', async () => {
    const fifo = mkfifo('stderr.fifo');
    const holder = openSync(fifo, constants.O_RDWR);
    const w = openSync(fifo, constants.O_WRONLY);
    try {
      const run = runNode(loggingChild(`{ stderr: 'text', limits: { maxQueueBytes: 65536 } }`), {
        stdio: ['ignore', 'pipe', w],
      });
      closeSync(w);
      const r = await run.done;
      expect(r.killed).toBe(false);
      const rep = lastJson<ChildReport>(r.stdout);
      expect(rep.maxLagMs).toBeLessThan(LAG_MS);
      const st = rep.stats[0]!;
      expect(st.file).toBe('stderr');
      expect(st.queuedBytes).toBeLessThanOrEqual(65536);
      expect(st.droppedLines).toBeGreaterThan(0);
      expect(st.writtenLines + st.queuedLines + st.droppedLines).toBe(10_000);
      expect(r.exitedAt - r.lastOutputAt).toBeLessThan(EXIT_GAP_MS);
    } finally {
      closeSync(holder);
    }
  });

  it('stderr on a socket nobody reads (Node child pipes are sockets): bounded by writableLength; lines come in order once read', async () => {
    const code = `
import { createLog } from ${JSON.stringify(DIST_LOG)};
const log = createLog({ stderr: 'text', limits: { maxQueueBytes: 65536 } });
for (let i = 0; i < 10000; i++) {
  log.info('line ' + i + ' ' + 'z'.repeat(80));
  if (i % 500 === 499) await new Promise((r) => setImmediate(r));
}
process.stdout.write(JSON.stringify({ stats: log.stats() }) + '\\n');
await new Promise((r) => process.stdin.once('data', r));
process.stdin.destroy();
const flushed = await log.flush(10000);
process.stdout.write(JSON.stringify({ flushed, stats: log.stats() }) + '\\n');
log.close();
`;
    const run = runNode(code, { stdio: ['pipe', 'pipe', 'pipe'] });
    const err = run.child.stderr!;
    err.pause();
    await until(() => run.stdout().includes('\n'), 20_000, 'the first report');
    const first = JSON.parse(run.stdout().split('\n')[0]!) as { stats: SinkStats[] };
    const st = first.stats[0]!;
    expect(st.file).toBe('stderr');
    expect(st.queuedBytes).toBeLessThanOrEqual(65536);
    expect(st.droppedLines).toBeGreaterThan(0);
    let text = '';
    err.setEncoding('utf8').on('data', (d: string) => {
      text += d;
    });
    err.resume();
    run.child.stdin!.write('go\n');
    const r = await run.done;
    expect(r.killed).toBe(false);
    const last = lastJson<{ flushed: boolean; stats: SinkStats[] }>(r.stdout);
    expect(last.flushed).toBe(true);
    const lines = text.trimEnd().split('\n');
    const numbers = lines.filter((l) => / info: line /.test(l)).map((l) => Number(/line (\d+)/.exec(l)![1]));
    // In order (with gaps where lines were dropped), and every line either read here or counted.
    expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)).toBe(true);
    const dropped = last.stats[0]!.droppedLines;
    expect(numbers.length + dropped).toBe(10_000);
    const noted = lines
      .map((l) => /WARN: (\d+) log lines? dropped: stderr: the reader does not keep up/.exec(l))
      .reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0);
    expect(noted).toBe(dropped);
  });

  it('a full filesystem (tmpfs in a private mount namespace): ENOSPC, exact drop count, never throws; writes again once space is back', async () => {
    const dir = fresh('full');
    spawnSync('mkdir', ['-p', dir]);
    const file = join(dir, 'ha-log');
    const code = `
import { createLog } from ${JSON.stringify(DIST_LOG)};
import { readFileSync, rmSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
const log = createLog({ logfile: ${JSON.stringify(file)}, limits: { maxQueueLines: 500 } });
for (let i = 0; i < 2000; i++) log.info('line ' + i);
const until = async (f) => { for (let i = 0; i < 500 && !f(); i++) await new Promise((r) => setTimeout(r, 20)); };
await until(() => log.stats()[0].lastError);
await new Promise((r) => setTimeout(r, 300));
const full = log.stats()[0];
rmSync(${JSON.stringify(join(dir, 'fill'))});
await until(() => log.stats()[0].writtenLines === 500);
log.info('after');
const flushed = await log.flush(5000);
h.disable();
process.stdout.write(JSON.stringify({ full, flushed, maxLagMs: h.max / 1e6, stats: log.stats(), text: readFileSync(${JSON.stringify(file)}, 'utf8') }) + '\\n');
log.close();
`;
    const mountAndFill = `mount -t tmpfs -o size=64k tsbeat-logtest "$0" && { dd if=/dev/zero of="$0/fill" bs=4k 2>/dev/null; true; } && exec "$@"`;
    const run = runNode(code, {
      prefix: ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', mountAndFill, dir],
    });
    const r = await run.done;
    expect(r.killed).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    const rep = lastJson<{
      full: SinkStats;
      flushed: boolean;
      maxLagMs: number;
      stats: SinkStats[];
      text: string;
    }>(r.stdout);
    expect(rep.full).toMatchObject({
      queuedLines: 500,
      droppedLines: 1500,
      writtenLines: 0,
      ok: false,
      lastError: 'no space left on device (ENOSPC)',
    });
    expect(rep.flushed).toBe(true);
    expect(rep.maxLagMs).toBeLessThan(LAG_MS);
    const lines = rep.text.trimEnd().split('\n');
    expect(lines).toHaveLength(502);
    expect(lines[499]).toMatch(/ info: line 499$/);
    expect(lines[500]).toMatch(
      new RegExp(`WARN: 1500 log lines dropped: ${file}: no space left on device \\(ENOSPC\\)$`),
    );
    expect(lines[501]).toMatch(/ info: after$/);
    // The tmpfs lived only in the child's mount namespace.
    expect(existsSync(join(dir, 'fill'))).toBe(false);
  });
});

describe('SyslogSink (logger(1) stand-ins)', () => {
  it('a logger that never reads: its pipe is bounded, drops are counted, close() lets go at once', async () => {
    const s = new SyslogSink({
      file: 'syslog (test)',
      command: ['sleep', '3'],
      noteLine: note,
      limits: { maxQueueBytes: 32 * 1024 },
    });
    const line = `<30>[1]: info: ${'s'.repeat(100)}\n`;
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      if (s.push(line)) accepted++;
      if (i % 1000 === 999) await sleep(5);
    }
    const st = s.stats();
    expect(st.queuedBytes).toBeLessThanOrEqual(32 * 1024);
    expect(st.droppedLines).toBe(10_000 - accepted);
    expect(st.droppedLines).toBeGreaterThan(0);
    const t = performance.now();
    expect(await s.flush(200)).toBe(false);
    expect(performance.now() - t).toBeLessThan(EXIT_GAP_MS);
    s.close();
  });

  it('a logger that dies: lines are dropped with its exit status, and it is started again after respawnMs', async () => {
    const count = fresh('spawns');
    const s = new SyslogSink({
      file: 'syslog (test)',
      command: ['sh', '-c', `echo x >> ${count}; exit 3`],
      noteLine: note,
      respawnMs: 200,
    });
    await until(() => s.stats().lastError, 20_000, 'the stand-in to exit');
    expect(s.stats().lastError).toBe('sh exited (status 3)');
    expect(s.push('lost\n')).toBe(false);
    await sleep(300);
    s.push('again\n');
    await until(() => read(count).split('\n').length >= 3, 20_000, 'a second start');
    s.close();
    expect(s.stats().droppedLines).toBeGreaterThanOrEqual(1);
  });
});
