// Part: log benchmark: event-loop time per log line (logfile + debugfile) for the writer the
// daemon uses — heartbeat lines formatted once, queued, written asynchronously — against the
// pipeline it replaced (pino serialises a JSON record, each sink JSON.parses it back, formats
// it and writeSyncs it), and the cost of a line dropped because its queue is full.

import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createLog, heartbeatLine, type Level } from '../daemon/log.js';

const LINES = 50_000;
const BATCH = 5_000;
const MSG = 'Status update for node node2: status active';

function levelOf(n: number): Level {
  if (n >= 50) return 'error';
  if (n >= 40) return 'warn';
  if (n >= 30) return 'info';
  return 'debug';
}

/** The replaced pipeline, rebuilt here so that the comparison runs on the same machine and data. */
function oldPipeline(dir: string): { info: (msg: string) => void; close: () => void } {
  const host = hostname();
  const fds: number[] = [];
  const sink = (file: string): Writable => {
    const fd = openSync(file, 'a');
    fds.push(fd);
    return new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          const r = JSON.parse(line) as { level: number; time: number; pid: number; msg: string };
          writeSync(fd, heartbeatLine(new Date(r.time), host, 'heartbeat', r.pid, levelOf(r.level), r.msg));
        }
        cb();
      },
    });
  };
  const logger = pino(
    { level: 'debug', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime },
    pino.multistream([
      { level: 'info', stream: sink(join(dir, 'old-log')) },
      { level: 'debug', stream: sink(join(dir, 'old-debug')) },
    ]),
  );
  return {
    info: (msg) => logger.info(msg),
    close: () => {
      for (const fd of fds) closeSync(fd);
    },
  };
}

const perLineUs = (ms: number, n: number): string => ((ms * 1000) / n).toFixed(2);

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbeat-bench-log-'));
  try {
    const old = oldPipeline(dir);
    // Writable streams call _write on later ticks once one is pending: let each batch finish.
    const settle = () => new Promise((r) => setImmediate(r));
    for (let i = 0; i < BATCH; i++) old.info(MSG);
    await settle();
    let t = performance.now();
    for (let done = 0; done < LINES; done += BATCH) {
      for (let i = 0; i < BATCH; i++) old.info(`${MSG} ${i}`);
      await settle();
    }
    const oldMs = performance.now() - t;
    old.close();

    const log = createLog({ logfile: join(dir, 'new-log'), debugfile: join(dir, 'new-debug') });
    for (let i = 0; i < BATCH; i++) log.info(MSG);
    await log.flush(10_000);
    let callsMs = 0;
    t = performance.now();
    for (let done = 0; done < LINES; done += BATCH) {
      const c = performance.now();
      for (let i = 0; i < BATCH; i++) log.info(`${MSG} ${i}`);
      callsMs += performance.now() - c;
      await log.flush(10_000);
    }
    const newMs = performance.now() - t;
    const written = log.stats().reduce((n, s) => n + s.writtenLines, 0);

    // A stuck destination: queues full, every further line is counted and dropped unformatted.
    const stuck = createLog({
      logfile: join(dir, 'new-log'),
      debugfile: join(dir, 'new-debug'),
      limits: { maxQueueLines: 1 },
    });
    for (let i = 0; i < BATCH; i++) stuck.info(MSG);
    t = performance.now();
    for (let i = 0; i < LINES; i++) stuck.info(`${MSG} ${i}`);
    const dropMs = performance.now() - t;
    stuck.close();
    log.close();

    process.stdout.write(
      `log lines to logfile + debugfile, ${LINES} lines in batches of ${BATCH}:\n` +
        `  replaced pipeline (pino JSON -> parse -> writeSync): ${perLineUs(oldMs, LINES)} us/line on the event loop\n` +
        `  async writer, logging calls:                        ${perLineUs(callsMs, LINES)} us/line on the event loop\n` +
        `  async writer, calls + writes until flushed:         ${perLineUs(newMs, LINES)} us/line wall (${written} lines written)\n` +
        `  queue full, line dropped and counted:               ${perLineUs(dropMs, LINES)} us/line\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
