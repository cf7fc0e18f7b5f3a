/**
 * The daemon's Log (src/daemon/log.ts) over its writers: heartbeat's line formats byte for byte,
 * where each priority goes (logfile: above debug; debugfile and syslog: everything; stderr:
 * debug only while the debug level is above 0, which setDebugLevel changes at run time and
 * clamps to heartbeat's 0..255), JSON records with fields for --log-json, the syslog line
 * logger(1) is fed (through a stand-in command that records its stdin), logrotate detection and
 * reopen() with real renames, and the shutdown contract: flush(timeout) resolves within its
 * timeout on a destination that cannot be written, close() returns at once. stderr cases run in
 * a child process (built dist/) whose stderr this test reads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLog, heartbeatLine, memoryLog, syslogLine } from '../../../src/daemon/log.js';
import { DIST_LOG } from './child.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-log-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const fresh = (name: string): string => join(tmp, `${++seq}-${name}`);
const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(f: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('line formats', () => {
  it("heartbeat's log file lines, syslogmsgfmt true and false", () => {
    const t = new Date(2026, 10, 2, 20, 31, 8);
    expect(heartbeatLine(t, 'ra1', 'heartbeat', 22, 'info', 'Configuration validated.')).toBe(
      'Nov 02 20:31:08 ra1 heartbeat: [22]: info: Configuration validated.\n',
    );
    expect(heartbeatLine(t, 'ra1', 'heartbeat', 22, 'warn', 'node ra2: is dead', false)).toBe(
      'heartbeat[22]: 2026/11/02_20:31:08 WARN: node ra2: is dead\n',
    );
    expect(heartbeatLine(t, 'ra1', 'heartbeat', 22, 'crit', 'x')).toContain(' CRIT: x');
    expect(heartbeatLine(t, 'ra1', 'heartbeat', 22, 'error', 'x')).toContain(' ERROR: x');
    expect(heartbeatLine(t, 'ra1', 'heartbeat', 22, 'debug', 'x')).toContain(' debug: x');
  });

  it('the line logger(1) reads with --prio-prefix: facility*8+severity, newlines flattened', () => {
    expect(syslogLine(16, 7, 'info', 'Pacemaker support: off')).toBe(
      '<134>[7]: info: Pacemaker support: off\n',
    );
    expect(syslogLine(3, 7, 'warn', 'a\nb')).toBe('<28>[7]: WARN: a b\n');
  });
});

describe('routing and the debug level', () => {
  it('logfile takes info and above, debugfile everything (debug lines even at level 0)', async () => {
    const lf = fresh('ha-log');
    const df = fresh('ha-debug');
    const log = createLog({ logfile: lf, debugfile: df });
    expect(log.debugLevel()).toBe(0);
    log.debug('d0');
    log.info('i1');
    log.warn('w2');
    log.error('e3');
    log.crit('c4');
    expect(await log.flush(10_000)).toBe(true);
    log.close();
    const words = (p: string) =>
      read(p)
        .trimEnd()
        .split('\n')
        .map((l) => /: \[\d+\]: (\w+): (\w+)$/.exec(l)!.slice(1).join(' '));
    expect(words(lf)).toEqual(['info i1', 'WARN w2', 'ERROR e3', 'CRIT c4']);
    expect(words(df)).toEqual(['debug d0', 'info i1', 'WARN w2', 'ERROR e3', 'CRIT c4']);
    expect(read(lf)).toMatch(
      new RegExp(
        `^\\w{3} \\d\\d \\d\\d:\\d\\d:\\d\\d ${hostname()} heartbeat: \\[${process.pid}\\]: info: i1\\n`,
      ),
    );
  });

  it('setDebugLevel clamps to 0..255, returns the level, and children share it', () => {
    const log = createLog({ debugLevel: 3 });
    expect(log.debugLevel()).toBe(3);
    const child = log.child({ subsystem: 'x' });
    expect(child.setDebugLevel(300)).toBe(255);
    expect(log.debugLevel()).toBe(255);
    expect(log.setDebugLevel(log.debugLevel() + 1)).toBe(255);
    expect(log.setDebugLevel(-1)).toBe(0);
    expect(child.debugLevel()).toBe(0);
    expect(createLog({ debug: true }).debugLevel()).toBe(1);
    log.close();
    const mem = memoryLog();
    expect(mem.setDebugLevel(2)).toBe(2);
    expect(mem.debugLevel()).toBe(2);
    expect(mem.stats()).toEqual([]);
  });

  it('stderr (text) mirrors debug lines only while the level is above 0', async () => {
    const code = `
import { createLog } from ${JSON.stringify(DIST_LOG)};
const log = createLog({ stderr: 'text', syslogmsgfmt: false });
log.debug('hidden at level 0');
log.info('info one');
log.setDebugLevel(1);
log.debug('shown at level 1');
log.setDebugLevel(0);
log.debug('hidden again');
await log.flush(5000);
log.close();
`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^heartbeat\[\d+\]: \d{4}\/\d\d\/\d\d_\d\d:\d\d:\d\d info: info one$/);
    expect(lines[1]).toMatch(/ debug: shown at level 1$/);
  });

  it('stderr (json) writes pino records with fields and bindings, debug only above level 0', async () => {
    const code = `
import { createLog } from ${JSON.stringify(DIST_LOG)};
const log = createLog({ stderr: 'json' });
log.debug('hidden');
log.warn('node node2: is dead', { node: 'node2', silentMs: 1004 });
log.child({ group: 'g1' }).crit('boom');
log.setDebugLevel(2);
log.debug('shown');
await log.flush(5000);
log.close();
`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const recs = r.stderr
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.map((x) => [x['level'], x['msg']])).toEqual([
      [40, 'node node2: is dead'],
      [55, 'boom'],
      [20, 'shown'],
    ]);
    expect(recs[0]).toMatchObject({ node: 'node2', silentMs: 1004 });
    expect(typeof recs[0]!['pid']).toBe('number');
    expect(typeof recs[0]!['time']).toBe('number');
    expect(recs[1]).toMatchObject({ group: 'g1' });
  });

  it('syslog: every priority, as logger(1) reads it (stand-in command records stdin)', async () => {
    const out = fresh('syslog.out');
    const log = createLog({
      logfacility: 'local0',
      syslogCommand: ['sh', '-c', 'exec cat > "$0"', out],
    });
    log.debug('dbg');
    log.info('hello');
    log.error('bad');
    expect(await log.flush(10_000)).toBe(true);
    expect(log.stats().map((s) => s.file)).toEqual(['syslog (logger, facility local0)']);
    log.close();
    await until(() => read(out).split('\n').length >= 4, 10_000, 'the stand-in to write its file');
    expect(read(out)).toBe(
      `<135>[${process.pid}]: debug: dbg\n<134>[${process.pid}]: info: hello\n<131>[${process.pid}]: ERROR: bad\n`,
    );
  });
});

describe('files: rotation, reopen, shutdown', () => {
  it('notices within the check interval that logrotate moved the file, says so in the new file', async () => {
    const lf = fresh('rot-log');
    const log = createLog({ logfile: lf, rotationCheckMs: 50 });
    log.info('before');
    await log.flush(10_000);
    renameSync(lf, `${lf}.1`);
    await until(() => read(lf).includes('log-rotate detected'), 10_000, 'the new file');
    log.info('after');
    await log.flush(10_000);
    log.close();
    expect(read(`${lf}.1`)).toMatch(/info: before\n$/);
    const lines = read(lf).trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`info: log-rotate detected on logfile ${lf}$`));
    expect(lines[1]).toMatch(/info: after$/);
  });

  it('reopen() (SIGHUP) reopens logfile and debugfile at once', async () => {
    const lf = fresh('hup-log');
    const df = fresh('hup-debug');
    const log = createLog({ logfile: lf, debugfile: df, rotationCheckMs: 3_600_000 });
    log.info('one');
    await log.flush(10_000);
    renameSync(lf, `${lf}.old`);
    renameSync(df, `${df}.old`);
    log.reopen();
    log.info('two');
    await log.flush(10_000);
    log.close();
    for (const f of [lf, df]) {
      expect(read(`${f}.old`)).toMatch(/info: one\n$/);
      expect(read(f)).toMatch(/^[^\n]*info: two\n$/);
    }
  });

  it('flush(timeout) on a FIFO nobody reads resolves false within its timeout; close() returns at once; stats say why', async () => {
    const fifo = fresh('stuck.fifo');
    spawnSync('mkfifo', [fifo]);
    const lf = fresh('ok-log');
    const log = createLog({ logfile: lf, debugfile: fifo });
    for (let i = 0; i < 100; i++) log.info(`line ${i}`);
    await sleep(100);
    const t = performance.now();
    expect(await log.flush(300)).toBe(false);
    expect(performance.now() - t).toBeLessThan(3000);
    const [a, b] = log.stats();
    expect(a).toMatchObject({ file: lf, queuedLines: 0, writtenLines: 100, droppedLines: 0, ok: true });
    expect(b).toMatchObject({ file: fifo, queuedLines: 100, writtenLines: 0, ok: false });
    expect(b!.lastError).toContain('ENXIO');
    const c = performance.now();
    log.close();
    expect(performance.now() - c).toBeLessThan(100);
    expect(log.stats()[1]).toMatchObject({ queuedLines: 0, droppedLines: 100 });
    log.info('after close');
    expect(log.stats()[0]!.droppedLines).toBe(1);
  });

  it('/dev/null and absent destinations take nothing and report nothing', () => {
    const log = createLog({ logfile: '/dev/null', debugfile: '/dev/null' });
    log.info('x');
    expect(log.stats()).toEqual([]);
    log.close();
  });
});
