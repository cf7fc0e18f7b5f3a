// Part: heartbeat's client children (`respawn USER PROGRAM [ARGS]`): started with the daemon
// as USER in their own process group, with the environment heartbeat's scripts get, started
// again when they exit (not after exit status 100, heartbeat's "do not respawn me"), with a
// back-off when they keep dying young, and stopped (SIGTERM, then SIGKILL) at shutdown.
// ipfail is not run here: it is built in (src/ping/ipfail.ts).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { basename } from 'node:path';
import type { ClientChildConfig } from '../config/model.js';

/** heartbeat's exit status that means "do not start me again". */
export const NO_RESPAWN_EXIT = 100;
/** A child that ran less than this died young: the next start waits (back-off). */
const YOUNG_MS = 10_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** How long a child gets between SIGTERM and SIGKILL at shutdown. */
const STOP_GRACE_MS = 5000;

export type ClientLog = (level: 'info' | 'warn' | 'error', msg: string) => void;

interface Child {
  readonly cfg: ClientChildConfig;
  /** heartbeat's client id for `cl_status clientstatus`: the program's name. */
  readonly id: string;
  readonly uid: number;
  readonly gid: number;
  proc: ChildProcess | undefined;
  startedAtMs: number;
  youngExits: number;
  restarts: number;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

/** uid and gid of a user (getent, so NSS users count too); undefined when unknown. */
export function lookupUser(user: string): { uid: number; gid: number } | undefined {
  try {
    const line = execFileSync('getent', ['passwd', user], { encoding: 'utf8', timeout: 5000 }).trim();
    const f = line.split(':');
    const uid = Number.parseInt(f[2] ?? '', 10);
    const gid = Number.parseInt(f[3] ?? '', 10);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

export class ClientChildren {
  private readonly children: Child[] = [];
  private readonly env: Record<string, string>;
  private readonly log: ClientLog;
  private stopping = false;

  /** Children whose user is unknown are reported and left out (config checks catch it first). */
  constructor(opts: {
    children: readonly ClientChildConfig[];
    env: Record<string, string>;
    log: ClientLog;
    lookup?: typeof lookupUser;
  }) {
    this.env = opts.env;
    this.log = opts.log;
    const lookup = opts.lookup ?? lookupUser;
    for (const cfg of opts.children) {
      const ids = lookup(cfg.user);
      if (!ids) {
        this.log('error', `Invalid uid [${cfg.user}] specified for client child ${cfg.command}: not started`);
        continue;
      }
      this.children.push({
        cfg,
        id: basename(cfg.command),
        ...ids,
        proc: undefined,
        startedAtMs: 0,
        youngExits: 0,
        restarts: 0,
        timer: undefined,
        done: false,
      });
    }
  }

  start(): void {
    for (const c of this.children) this.spawn(c);
  }

  /** `online` while a child of that name runs, else `offline`. */
  status(id: string): 'online' | 'offline' {
    return this.children.some((c) => c.id === id && c.proc !== undefined) ? 'online' : 'offline';
  }

  /** For tests and `tsbeat status`. */
  info(): { id: string; command: string; pid: number | undefined; restarts: number }[] {
    return this.children.map((c) => ({
      id: c.id,
      command: c.cfg.command,
      pid: c.proc?.pid,
      restarts: c.restarts,
    }));
  }

  private spawn(c: Child): void {
    if (this.stopping || c.done) return;
    c.timer = undefined;
    this.log('info', `Starting child client "${c.cfg.command}" (${c.uid},${c.gid})`);
    let proc: ChildProcess;
    try {
      proc = spawn(c.cfg.command, [...c.cfg.args], {
        uid: c.uid,
        gid: c.gid,
        env: this.env,
        cwd: '/',
        detached: true, // its own process group: stopped as a whole
        stdio: 'ignore',
      });
    } catch (e) {
      this.log(
        'error',
        `Client child command [${c.cfg.command}] could not be started: ${(e as Error).message}`,
      );
      this.retry(c);
      return;
    }
    c.proc = proc;
    c.startedAtMs = Date.now();
    proc.on('error', (e: NodeJS.ErrnoException) => {
      this.log(
        'error',
        `Client child command [${c.cfg.command}] could not be started: ${e.code ?? e.message}`,
      );
    });
    proc.on('spawn', () => {
      this.log('info', `Starting "${c.cfg.command}" as uid ${c.uid}  gid ${c.gid} (pid ${proc.pid})`);
    });
    proc.on('exit', (code, signal) => this.exited(c, proc, code, signal));
  }

  private exited(c: Child, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (c.proc !== proc) return;
    c.proc = undefined;
    const how = signal ? `killed by signal ${signal}` : `exited with return code ${code}`;
    if (this.stopping) {
      this.log('info', `client child "${c.cfg.command}" (pid ${proc.pid}) ${how} at shutdown`);
      return;
    }
    this.log('warn', `Managed ${c.cfg.command} process ${proc.pid} ${how}.`);
    if (code === NO_RESPAWN_EXIT) {
      c.done = true;
      this.log('info', `Client "${c.cfg.command}" exited with status ${NO_RESPAWN_EXIT}: not respawned`);
      return;
    }
    this.retry(c);
  }

  private retry(c: Child): void {
    const ranMs = Date.now() - c.startedAtMs;
    c.youngExits = ranMs < YOUNG_MS ? c.youngExits + 1 : 0;
    const delayMs =
      c.youngExits === 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (c.youngExits - 1));
    if (delayMs >= BACKOFF_MAX_MS)
      this.log('error', `Client "${c.cfg.command}" respawning too fast: next start in ${delayMs / 1000} s`);
    this.log('info', `Respawning client "${c.cfg.command}"${delayMs > 0 ? ` in ${delayMs} ms` : ''}`);
    c.restarts++;
    c.timer = setTimeout(() => this.spawn(c), delayMs);
    c.timer.unref();
  }

  /** After a refused shutdown: start again what stop() ended. */
  resume(): void {
    if (!this.stopping) return;
    this.stopping = false;
    for (const c of this.children) if (!c.proc && !c.done) this.spawn(c);
  }

  /** SIGTERM every child's process group; SIGKILL what is left after a grace. */
  async stop(): Promise<void> {
    this.stopping = true;
    const waits: Promise<void>[] = [];
    for (const c of this.children) {
      if (c.timer) clearTimeout(c.timer);
      const p = c.proc;
      if (!p || p.pid === undefined) continue;
      const pid = p.pid;
      this.log('info', `killing ${c.cfg.command} process group ${pid} with signal 15`);
      waits.push(
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => {
            signalGroup(pid, 'SIGKILL');
            resolve();
          }, STOP_GRACE_MS);
          p.once('exit', () => {
            clearTimeout(kill);
            // Its own children may linger in the group.
            signalGroup(pid, 'SIGKILL');
            resolve();
          });
          signalGroup(pid, 'SIGTERM');
        }),
      );
    }
    await Promise.all(waits);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
