/**
 * The watchdog driver (src/watchdog/watchdog.ts) against stand-ins for a watchdog device
 * (no softdog is loaded on this machine): a regular file records every write; a FIFO whose
 * reader went away makes a write fail without blocking; a missing device and a FIFO nobody
 * reads give a clear error naming the device and the fix. Proves: one NUL byte per tickle,
 * the magic 'V' on a clean close and none on an unclean one, nothing written after close.
 * The daemon-level behaviour (a write every keepalive, none while SIGSTOPped, the magic close
 * on `tsbeat stop`) is proved in test/integ/watchdog.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Watchdog, WatchdogOpenError } from '../../../src/watchdog/watchdog.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbeat-watchdog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lines: string[] = [];
const log = (level: string, msg: string) => lines.push(`${level}: ${msg}`);

describe('watchdog (file and FIFO stand-ins)', () => {
  it('file stand-in: one NUL byte per tickle, the magic V on a clean close, nothing after', () => {
    const f = join(dir, 'clean');
    writeFileSync(f, '');
    const w = Watchdog.open(f, log);
    w.tickle();
    w.tickle();
    w.tickle();
    w.close(true);
    w.tickle();
    expect(readFileSync(f)).toEqual(Buffer.from([0, 0, 0, 0x56]));
    expect(w.tickles).toBe(3);
  });

  it('file stand-in: no magic close when the shutdown was not clean', () => {
    const f = join(dir, 'unclean');
    writeFileSync(f, '');
    const w = Watchdog.open(f, log);
    w.tickle();
    w.close(false);
    expect(readFileSync(f)).toEqual(Buffer.from([0]));
    expect(lines.at(-1)).toMatch(/without the magic close: the machine reboots/);
  });

  it('a missing device is a clear error naming it and the fix', () => {
    expect(() => Watchdog.open(join(dir, 'no-such-watchdog'), log)).toThrow(WatchdogOpenError);
    expect(() => Watchdog.open(join(dir, 'no-such-watchdog'), log)).toThrow(
      /watchdog .*no-such-watchdog: cannot open it \(ENOENT\): load a watchdog driver \(modprobe softdog\) or remove the watchdog line from ha\.cf/,
    );
  });

  it('FIFO stand-in without a reader: a clear error, never a hang', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => Watchdog.open(fifo, log)).toThrow(/cannot open it \(ENXIO\): nothing reads this FIFO/);
  });
});
