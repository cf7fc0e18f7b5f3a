/**
 * The JSON log file (tsbeat.cf `logjson`) beside heartbeat's logfile, and reopening both after
 * logrotate. Proves: every line goes to both, the JSON record has pino's level and time, the
 * base fields (localNode) and the line's structured fields (node, link, group, reason,
 * durationMs); debug lines stay out of the JSON file at debug level 0; rotation by rename is
 * noticed without a signal (within the check interval) for both files; after copytruncate
 * the next lines start at offset 0 (O_APPEND: no hole of NUL bytes); reopen() (SIGHUP) after a
 * rename writes to the new files at once. Real files in a temp dir.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLog } from '../../../src/daemon/log.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-logjson-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const fresh = (name: string): string => join(tmp, `${++seq}-${name}`);
const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');
const records = (p: string) =>
  read(p)
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
async function until(f: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the JSON log file', () => {
  it('carries pino records with the structured fields; the logfile gets the same lines in heartbeat form', async () => {
    const lf = fresh('ha-log');
    const jf = fresh('tsbeat.json');
    const log = createLog({ logfile: lf, jsonFile: jf, jsonBase: { localNode: 'node1' } });
    log.warn('node node2: is dead', { node: 'node2', silentMs: 3012, limitMs: 3000 });
    log.info('Link node2:eth0 dead.', { node: 'node2', link: 'eth0', status: 'dead' });
    log.info('ownership change: ...', {
      reason: 'peer-dead',
      group: 'IPaddr2::10.0.0.10',
      node: 'node2',
      durationMs: 3520,
    });
    log.debug('not at level 0');
    expect(await log.flush(5000)).toBe(true);
    const r = records(jf);
    expect(r).toHaveLength(3);
    expect(r[0]).toMatchObject({
      level: 40,
      localNode: 'node1',
      msg: 'node node2: is dead',
      node: 'node2',
      silentMs: 3012,
    });
    expect(typeof r[0]!['time']).toBe('number');
    expect(r[1]).toMatchObject({ node: 'node2', link: 'eth0' });
    expect(r[2]).toMatchObject({ reason: 'peer-dead', group: 'IPaddr2::10.0.0.10', durationMs: 3520 });
    expect(read(lf)).toMatch(/heartbeat: \[\d+\]: WARN: node node2: is dead\n/);
    expect(log.stats().map((s) => s.file)).toEqual([lf, jf]);
    log.close();
  });

  it('logrotate by rename: both files are reopened without a signal', async () => {
    const lf = fresh('ha-log');
    const jf = fresh('tsbeat.json');
    const log = createLog({ logfile: lf, jsonFile: jf, rotationCheckMs: 50 });
    log.info('before');
    await log.flush(5000);
    renameSync(lf, `${lf}.1`);
    renameSync(jf, `${jf}.1`);
    await until(
      () => read(jf).includes('log-rotate detected') && read(lf).includes('log-rotate detected'),
      10_000,
      'reopen',
    );
    log.info('after');
    await log.flush(5000);
    expect(read(`${jf}.1`)).toContain('"msg":"before"');
    expect(read(jf)).toContain('"msg":"after"');
    expect(read(jf)).not.toContain('"msg":"before"');
    expect(read(lf)).toContain('info: after');
    log.close();
  });

  it('copytruncate: the next lines start at offset 0, no NUL hole', async () => {
    const lf = fresh('ha-log');
    const jf = fresh('tsbeat.json');
    const log = createLog({ logfile: lf, jsonFile: jf, rotationCheckMs: 3_600_000 });
    for (let i = 0; i < 50; i++) log.info(`line ${i} ${'x'.repeat(100)}`);
    await log.flush(5000);
    truncateSync(lf, 0);
    truncateSync(jf, 0);
    log.info('after truncate');
    await log.flush(5000);
    expect(read(lf)).toMatch(/^\w{3} \d\d [\d:]+ .* info: after truncate\n$/);
    expect(records(jf).map((r) => r['msg'])).toEqual(['after truncate']);
    expect(read(jf).includes('\0')).toBe(false);
    log.close();
  });

  it('reopen() (SIGHUP) after a rename writes to the new files at once', async () => {
    const lf = fresh('ha-log');
    const jf = fresh('tsbeat.json');
    const log = createLog({ logfile: lf, jsonFile: jf, rotationCheckMs: 3_600_000 });
    log.info('one');
    await log.flush(5000);
    renameSync(lf, `${lf}.old`);
    renameSync(jf, `${jf}.old`);
    log.reopen();
    log.info('two');
    await log.flush(5000);
    expect(records(jf).map((r) => r['msg'])).toEqual(['two']);
    expect(read(lf)).toContain('info: two');
    expect(read(`${lf}.old`)).not.toContain('two');
    log.close();
  });
});
