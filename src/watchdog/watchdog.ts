// Part: the watchdog device of ha.cf (`watchdog /dev/watchdog`): opened at start, written
// once per heartbeat from the loop that sends heartbeats, closed with the magic 'V' on a clean
// shutdown. If tsbeat hangs (a stuck event loop, SIGSTOP), the writes stop and the kernel's
// watchdog (softdog or a hardware one) reboots the machine, as with heartbeat
// (heartbeat.c: hb_tickle_watchdog writes one byte per heartbeat, hb_close_watchdog writes 'V').
//
// Every write is synchronous and non-blocking: a watchdog device answers at once, and a
// stand-in that stops reading (a FIFO) makes a write fail with EAGAIN instead of stalling the
// heartbeat loop.

import { closeSync, constants, openSync, writeSync } from 'node:fs';

/** The device could not be opened; the message names the device and a fix. */
export class WatchdogOpenError extends Error {
  override readonly name = 'WatchdogOpenError';
}

const TICKLE = Buffer.from([0]);
/** The Linux watchdog API's "magic close": the driver stops the timer instead of rebooting. */
const MAGIC_CLOSE = Buffer.from('V');

export class Watchdog {
  readonly device: string;
  private fd: number | undefined;
  private readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  private failing = false;
  /** Writes done, for tests and `tsbeat status`. */
  tickles = 0;

  private constructor(device: string, fd: number, log: Watchdog['log']) {
    this.device = device;
    this.fd = fd;
    this.log = log;
  }

  /** Open the device (write-only, never blocking); throws WatchdogOpenError with a fix. */
  static open(device: string, log: (level: 'info' | 'warn' | 'error', msg: string) => void): Watchdog {
    let fd: number;
    try {
      fd = openSync(device, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      const fix =
        code === 'ENOENT'
          ? 'load a watchdog driver (modprobe softdog) or remove the watchdog line from ha.cf'
          : code === 'EBUSY'
            ? 'another program holds the watchdog open (only one may); stop it, or remove the watchdog line'
            : code === 'ENXIO'
              ? 'nothing reads this FIFO; start its reader first'
              : code === 'EACCES' || code === 'EPERM'
                ? 'tsbeat must run as root to use the watchdog'
                : 'check the device path in ha.cf';
      throw new WatchdogOpenError(`watchdog ${device}: cannot open it (${code}): ${fix}`);
    }
    log(
      'info',
      `watchdog ${device} opened: it is written every keepalive; a hung tsbeat reboots this machine`,
    );
    return new Watchdog(device, fd, log);
  }

  /** One write: the machine lives for another watchdog period. */
  tickle(): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, TICKLE);
      this.tickles++;
      if (this.failing) {
        this.failing = false;
        this.log('info', `watchdog ${this.device}: writes work again`);
      }
    } catch (e) {
      if (!this.failing) {
        this.failing = true;
        this.log(
          'error',
          `watchdog ${this.device}: write failed (${(e as NodeJS.ErrnoException).code ?? e})`,
        );
      }
    }
  }

  /**
   * Close. `clean`: write the magic 'V' first, so the driver stops its timer (a clean
   * shutdown). Not clean: close without it, and the driver reboots the machine when its
   * timer runs out (tsbeat could not release everything).
   */
  close(clean: boolean): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    try {
      if (clean) writeSync(fd, MAGIC_CLOSE);
    } catch (e) {
      this.log(
        'error',
        `watchdog ${this.device}: magic close failed (${(e as NodeJS.ErrnoException).code ?? e})`,
      );
    }
    try {
      closeSync(fd);
    } catch {
      // Nothing more to do: the descriptor is gone either way.
    }
    this.log(
      clean ? 'info' : 'warn',
      clean
        ? `watchdog ${this.device} closed (magic close)`
        : `watchdog ${this.device} closed without the magic close: the machine reboots when it runs out`,
    );
  }
}
