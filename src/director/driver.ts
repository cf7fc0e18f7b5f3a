// Part: the director process (imperative shell) — reads ldirectord.cf, programs IPVS through
// ipvsadm, schedules the checks, executes the core's effects in order, writes the pid and state
// files, handles TERM (clean stop) and HUP (reload), autoreload and the maintenance directory.
//
// Why ipvsadm and not netlink: Node has no generic-netlink socket without a native add-on (the
// project allows none but serialport), ipvsadm 1.31 is the stable user interface every LVS
// operator reads, and the director only sends commands when a real server changes state — a fork
// per change costs ~2 ms, far below a check interval. Reads (`-L -n`) happen once per
// checkinterval for reconciliation, not before every change as ldirectord does.

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { formatDiagnostic } from '../lib/diagnostic.js';
import { type CheckKind, CheckPool, runCheck } from './checks.js';
import { DirectorCore, type DirectorEffect, type RealState, type VirtualState } from './core.js';
import { type IpvsTable, parseIpvsList } from './ipvs.js';
import type { DirectorConfig } from './model.js';
import { parseDirectorConfig } from './parse.js';

/** Where the director keeps its pid and state files (tests point this elsewhere). */
export function runDirOf(env: NodeJS.ProcessEnv = process.env): string {
  return env['TSBEAT_DIRECTOR_RUNDIR'] || '/run/tsbeat';
}

/** The ipvsadm binary (tests use the lab's fake through this variable). */
export function ipvsadmOf(env: NodeJS.ProcessEnv = process.env): string {
  return env['TSBEAT_IPVSADM'] || 'ipvsadm';
}

export function pidFileOf(runDir: string, name: string): string {
  return join(runDir, `director.${name}.pid`);
}

export function stateFileOf(runDir: string, name: string): string {
  return join(runDir, `director.${name}.json`);
}

/**
 * ldirectord's config lookup: a relative name is tried as /etc/ha.d/<cfg>, then
 * /etc/ha.d/conf/<cfg>, then as given.
 */
export function resolveConfigPath(cfg: string, haDir = '/etc/ha.d'): string {
  if (cfg.startsWith('/')) return cfg;
  for (const c of [join(haDir, cfg), join(haDir, 'conf', cfg)]) if (existsSync(c)) return c;
  return cfg;
}

/** Read and parse; errors come back as printable lines. */
export function loadDirectorConfig(path: string): {
  config?: DirectorConfig;
  errors: string[];
  warnings: string[];
} {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return {
      errors: [`${path}: error: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`],
      warnings: [],
    };
  }
  const r = parseDirectorConfig(text, path, process.env['HOSTNAME'] ?? 'localhost');
  const errors = r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  const warnings = r.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);
  return { ...(r.config ? { config: r.config } : {}), errors, warnings };
}

/** Run ipvsadm; resolves with its exit code and output (127 when it cannot be started). */
export function ipvsadm(
  bin: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, [...args], { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}

/** `ipvsadm -L -n` merged with `--thresholds`. */
export async function readTable(bin: string): Promise<IpvsTable | string> {
  const list = await ipvsadm(bin, ['-L', '-n']);
  if (list.code !== 0) return `${bin} -L -n failed (exit ${list.code}): ${list.stderr.trim()}`;
  const thr = await ipvsadm(bin, ['-L', '-n', '--thresholds']);
  return parseIpvsList(list.stdout, thr.code === 0 ? thr.stdout : undefined);
}

/** Perl's scalar localtime(): "Thu Dec  5 02:23:00 2024" (ldirectord's log timestamp). */
function perlLocaltime(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

export interface DirectorOptions {
  readonly configPath: string;
  readonly ipvsadm: string;
  readonly runDir: string;
  /** Log to stderr instead of the logfile (`-d`, as ldirectord). */
  readonly debug: boolean;
}

/** The JSON state file `tsbeat director status` reads. */
export interface DirectorStateFile {
  readonly pid: number;
  readonly config: string;
  readonly startedAtMs: number;
  readonly updatedAtMs: number;
  readonly ready: boolean;
  readonly checksTotal: number;
  readonly virtuals: readonly {
    readonly id: string;
    readonly service: string;
    readonly checktype: string;
    readonly scheduler: string;
    readonly quiescent: boolean;
    readonly quorum?: number;
    readonly quorumUp: boolean;
    readonly fallback?: string;
    readonly fallbackUp: boolean;
    readonly reals: readonly {
      readonly addr: string;
      readonly weight: number;
      readonly forward: string;
      readonly up: boolean;
      readonly failcount: number;
      readonly checks: number;
      readonly lastCheckAtMs?: number;
      readonly lastLatencyMs?: number;
      readonly lastOk?: boolean;
      readonly lastReason?: string;
      readonly sinceMs?: number;
    }[];
  }[];
}

function snapshot(vs: readonly VirtualState[]): DirectorStateFile['virtuals'] {
  return vs.map((x) => {
    const v = x.virtual;
    return {
      id: v.id,
      service: v.service,
      checktype: v.checktype === 'combined' ? `${v.connectCount}` : v.checktype,
      scheduler: v.scheduler,
      quiescent: v.quiescent,
      ...(v.quorum !== undefined ? { quorum: v.quorum } : {}),
      quorumUp: x.quorumUp,
      ...(v.fallback ? { fallback: `${v.fallback.ip}:${v.fallback.port ?? v.port}` } : {}),
      fallbackUp: x.fallbackUp,
      reals: x.reals.map((r: RealState) => ({
        addr: r.addr,
        weight: r.real.weight,
        forward: r.real.forward,
        up: r.up,
        failcount: r.failcount,
        checks: r.checks,
        ...(r.lastCheckAtMs !== undefined ? { lastCheckAtMs: r.lastCheckAtMs } : {}),
        ...(r.lastLatencyMs !== undefined ? { lastLatencyMs: Math.round(r.lastLatencyMs * 10) / 10 } : {}),
        ...(r.lastOk !== undefined ? { lastOk: r.lastOk } : {}),
        ...(r.lastReason !== undefined ? { lastReason: r.lastReason } : {}),
        ...(r.sinceMs !== undefined ? { sinceMs: r.sinceMs } : {}),
      })),
    };
  });
}

/** Run the director in this process until TERM/INT. Resolves with the exit code. */
export async function runDirector(opts: DirectorOptions, initial: DirectorConfig): Promise<number> {
  let config = initial;
  const pidFile = pidFileOf(opts.runDir, config.name);
  const stateFile = stateFileOf(opts.runDir, config.name);
  const startedAtMs = Date.now();
  let checksTotal = 0;
  let stopping = false;
  let ready = false;

  const log = (message: string): void => {
    if (opts.debug) {
      process.stderr.write(`${message}\n`);
      return;
    }
    const target = config.logfile;
    if (target.startsWith('/')) {
      try {
        appendFileSync(target, `[${perlLocaltime(new Date())}|${config.name}|${process.pid}] ${message}\n`);
      } catch {
        // An unwritable log must not stop the director; stderr is the last resort.
        process.stderr.write(`${message}\n`);
      }
    } else {
      // A syslog facility name, as ldirectord accepts: hand the line to logger(1).
      const c = spawn('logger', ['-p', `${target}.info`, '-t', 'ldirectord'], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      c.on('error', () => process.stderr.write(`${message}\n`));
      c.stdin.end(`${message}\n`);
    }
  };

  let core = new DirectorCore(config);
  const runEffects = async (effects: readonly DirectorEffect[]): Promise<void> => {
    for (const e of effects) {
      if (e.kind === 'log') log(e.message);
      else if (e.kind === 'ipvsadm') {
        const r = await ipvsadm(opts.ipvsadm, e.args);
        if (r.code !== 0) log(`ipvsadm ${e.args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
      } else {
        const [file, ...pre] = e.command.split(/\s+/).filter(Boolean);
        if (file === undefined) continue;
        await new Promise<void>((resolve) => {
          const c = spawn(file, [...pre, ...e.args], { stdio: 'ignore' });
          c.on('error', (err) => {
            log(`${e.command}: ${err.message}`);
            resolve();
          });
          c.on('exit', (code) => {
            if (code !== 0) log(`${[e.command, ...e.args].join(' ')} exited ${code}`);
            resolve();
          });
        });
      }
    }
  };
  // Every core step runs inside one queue, after the commands of the step before have been
  // executed: the core's view of the kernel and a fresh read can then never disagree because a
  // command was still on its way. A failed ipvsadm is logged and repaired by the next reconcile.
  let queue: Promise<void> = Promise.resolve();
  const step = (decide: () => readonly DirectorEffect[]): Promise<void> => {
    queue = queue.then(() => runEffects(decide()));
    return queue;
  };
  const execute = (effects: readonly DirectorEffect[]): Promise<void> => step(() => effects);

  let stateDirty = true;
  const writeState = (): void => {
    const s: DirectorStateFile = {
      pid: process.pid,
      config: config.path,
      startedAtMs,
      updatedAtMs: Date.now(),
      ready,
      checksTotal,
      virtuals: snapshot(core.virtuals),
    };
    const tmp = `${stateFile}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(s)}\n`);
      renameSync(tmp, stateFile);
      stateDirty = false;
    } catch (e) {
      log(`cannot write ${stateFile}: ${(e as Error).message}`);
    }
  };
  const stateTimer = setInterval(() => {
    if (stateDirty) writeState();
  }, 250);

  mkdirSync(opts.runDir, { recursive: true });
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(pidFile, `${process.pid}\n`);
  log(`Starting tsbeat director (ldirectord-compatible) with pid: ${process.pid}`);

  const timers = new Set<NodeJS.Timeout>();
  const pool = new CheckPool(config.maxChecks);
  let generation = 0;

  const maintained = (rs: RealState): boolean => {
    const dir = config.maintenancedir;
    if (dir === undefined) return false;
    return existsSync(join(dir, rs.addr)) || existsSync(join(dir, rs.real.ip));
  };

  // A real's next check is timed from the end of its last check, not from when that result
  // went through the queue (behind a table read, say): a slow ipvsadm must not slow the checks
  // down. At most one result per real waits in the queue (`applied`).
  const scheduleReal = (
    vs: VirtualState,
    rs: RealState,
    delayMs: number,
    gen: number,
    connects: number,
    applied: Promise<void> = Promise.resolve(),
  ): void => {
    const t = setTimeout(async () => {
      timers.delete(t);
      await applied;
      if (stopping || gen !== generation) return;
      const v = vs.virtual;
      let next = connects;
      let result: Promise<void> = Promise.resolve();
      if (maintained(rs)) {
        result = step(() => core.maintenance(v.id, rs.addr, Date.now()));
      } else if (v.checktype === 'on') {
        result = step(() => core.forceUp(v.id, rs.addr, Date.now()));
      } else if (v.checktype !== 'off') {
        let kind: CheckKind;
        if (v.checktype === 'combined') kind = connects >= v.connectCount ? 'negotiate' : 'connect';
        else if (v.checktype === 'external-perl') kind = 'external';
        else kind = v.checktype;
        const outcome = await pool.run(() => runCheck(v, rs.real, kind));
        if (stopping || gen !== generation) return;
        checksTotal++;
        // ldirectord: a good negotiate restarts the connect count; a failed connect forces a negotiate.
        if (v.checktype === 'combined') {
          if (kind === 'negotiate') next = outcome.ok ? 0 : connects;
          else next = outcome.ok ? connects + 1 : v.connectCount;
        }
        result = step(() => core.checkResult(v.id, rs.addr, outcome, Date.now()));
      }
      const shown = result.then(() => {
        stateDirty = true;
      });
      scheduleReal(vs, rs, v.checkintervalS * 1000, gen, next, shown);
    }, delayMs);
    timers.add(t);
  };

  const scheduleAll = (): void => {
    generation++;
    for (const vs of core.virtuals) {
      for (const rs of vs.reals) {
        // combined: the first check is a negotiate, as ldirectord's num_connects=999999.
        scheduleReal(vs, rs, 0, generation, vs.virtual.connectCount);
      }
    }
  };

  const startWith = async (cfg: DirectorConfig, previous?: DirectorConfig): Promise<boolean> => {
    let ok = false;
    queue = queue.then(async () => {
      const observed = await readTable(opts.ipvsadm);
      if (typeof observed === 'string') {
        log(observed);
        return;
      }
      const next = new DirectorCore(cfg, previous ? core.virtuals : undefined);
      const effects = next.start(observed, Date.now(), previous);
      core = next;
      config = cfg;
      ok = true;
      await runEffects(effects);
    });
    await queue;
    return ok;
  };

  if (!(await startWith(config))) {
    clearInterval(stateTimer);
    rmSync(pidFile, { force: true });
    return 1;
  }
  ready = true;
  writeState();
  scheduleAll();

  // Once per checkinterval: repair the kernel table, and watch the configuration file.
  let cfgStamp = (() => {
    try {
      const st = statSync(config.path);
      return { mtimeMs: st.mtimeMs, md5: createHash('md5').update(readFileSync(config.path)).digest('hex') };
    } catch {
      return undefined;
    }
  })();
  const reload = async (why: string): Promise<void> => {
    const r = loadDirectorConfig(config.path);
    for (const w of r.warnings) log(w);
    if (!r.config) {
      for (const e of r.errors) log(e);
      log(`${why}: configuration has errors; keeping the running one`);
      return;
    }
    log(`${why}: reread configuration ${config.path}`);
    const old = config;
    if (await startWith(r.config, old)) scheduleAll();
    stateDirty = true;
  };
  // At most one repair read waits in the queue: when reading the table takes longer than
  // checkinterval (a slow or loaded ipvsadm, a big table), queueing one per tick would grow
  // the queue without bound and hold every check result, so removals, behind it.
  let reconcileQueued = false;
  const housekeeping = setInterval(() => {
    if (stopping) return;
    if (!reconcileQueued) {
      reconcileQueued = true;
      queue = queue.then(async () => {
        reconcileQueued = false;
        const t = await readTable(opts.ipvsadm);
        if (typeof t === 'string') log(t);
        else if (!stopping) await runEffects(core.reconcile(t));
      });
    }
    try {
      const st = statSync(config.path);
      if (cfgStamp && st.mtimeMs !== cfgStamp.mtimeMs) {
        const md5 = createHash('md5').update(readFileSync(config.path)).digest('hex');
        const changed = md5 !== cfgStamp.md5;
        cfgStamp = { mtimeMs: st.mtimeMs, md5 };
        if (changed) {
          log(
            `Configuration file '${config.path}' has changed on disk${config.autoreload ? ' - reread new configuration' : ' - ignore new configuration'}`,
          );
          if (config.callback !== undefined)
            void execute([{ kind: 'exec', command: config.callback, args: [config.path] }]);
          if (config.autoreload) void reload('autoreload');
        }
      }
    } catch {
      // The file may be being replaced; the next round looks again.
    }
  }, config.checkintervalS * 1000);

  return await new Promise<number>((resolve) => {
    const finish = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      clearInterval(housekeeping);
      for (const t of timers) clearTimeout(t);
      await step(() => core.stop());
      log(`Linux Director Daemon terminated on signal: ${signal}`);
      clearInterval(stateTimer);
      rmSync(stateFile, { force: true });
      rmSync(pidFile, { force: true });
      resolve(0);
    };
    process.on('SIGTERM', () => void finish('TERM'));
    process.on('SIGINT', () => void finish('INT'));
    process.on('SIGQUIT', () => void finish('QUIT'));
    process.on('SIGHUP', () => void reload('SIGHUP'));
  });
}
