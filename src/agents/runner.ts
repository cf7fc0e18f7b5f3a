// Part: runs one resource action the way heartbeat's ResourceManager does: finds the script
// (tsbeat's built-in agents, then resource.d/, then /etc/init.d/), runs `SCRIPT ARGS... ACTION`
// in its own process group, and judges `status` by its stdout text only; unlike heartbeat, every
// action has a hard deadline that does not depend on the agent cooperating. A built-in agent runs
// inside the daemon only when the registry says it cannot block the event loop; the others run
// as their own executable, exactly like a script.

import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import type { ResourceConfig } from '../config/model.js';
import { EarlyStart, type StartPlan } from './early-start.js';
import type { IpOutcome } from './ip.js';
import { heartbeatSaysRunning } from './ocf.js';
import type { AgentRuntime } from './runtime.js';

export type ResourceAction = 'start' | 'stop' | 'status';

export interface RunResult {
  readonly rc: number;
  readonly stdout: string;
  readonly stderr: string;
  /** For status: heartbeat's "is it running" verdict on stdout. */
  readonly running?: boolean;
  /** For status: no verdict could be had (timed out, or refused, see `refused`); `running` is false. */
  readonly unknown?: boolean;
  /**
   * Where the work was done: `builtin` (a built-in agent inside the daemon), `builtin-process` (a
   * built-in agent's own executable in a child process), or the script path.
   */
  readonly via: string;
  /** Not finished within its deadline (or abandoned because the caller aborted): a failure. */
  readonly timedOut?: boolean;
  /** Still running after the deadline and the grace: left behind, the resource's state is unknown. */
  readonly abandoned?: boolean;
  /** Not run at all: an earlier action of the same resource was abandoned and has not finished. */
  readonly refused?: boolean;
}

export type RunnerLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

/** A command line without a shell; the runner appends `ARGS... ACTION`. */
export interface AgentCommandLine {
  readonly file: string;
  readonly args: readonly string[];
  /** The child's whole environment. */
  readonly env: Readonly<Record<string, string>>;
}

/** The built-in agents (src/agents/builtin.ts), injected to keep this file standalone. */
export interface BuiltinAgents {
  isBuiltinAgent(script: string): boolean;
  /**
   * Whether the agent may run inside the daemon. False: its action can block on a disk or a
   * mount, so it runs as `agentCommand` in a child process (src/agents/registry.ts).
   */
  isInProcessAgent(script: string): boolean;
  /** The agent's own executable (what resource.d/NAME runs), given the script environment. */
  agentCommand(script: string, env: Readonly<Record<string, string>>): AgentCommandLine;
  runHeartbeatStyle(
    script: string,
    args: readonly string[],
    action: ResourceAction,
    ctx: {
      env: Readonly<Record<string, string>>;
      signal: AbortSignal;
      log: RunnerLog;
      /** The runtime the agent uses instead of the shared in-process one. */
      runtime?: AgentRuntime;
    },
  ): Promise<{ rc: number; stdout: string; stderr: string }>;
  /** The shared in-process runtime (its `ip` pool), for starting virtual IPs ahead (early-start.ts). */
  inProcessRuntime?(): AgentRuntime;
}

export interface RunnerOptions {
  /** Searched in order: heartbeat uses DIR/resource.d, then /etc/init.d. */
  readonly scriptDirs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly log: RunnerLog;
  readonly builtin?: BuiltinAgents;
  /** Scripts to run from disk even though tsbeat has a built-in agent of that name (TSBEAT_SCRIPT_AGENTS). */
  readonly external?: ReadonlySet<string>;
  /** Per action, in ms (defaults: start and stop 120 s, status 30 s). */
  readonly timeoutMs?: Partial<Record<ResourceAction, number>>;
  /**
   * Grace after a deadline: a script's process group gets SIGTERM, then SIGKILL after this long;
   * a built-in agent gets its abort signal and is abandoned if it has not returned after this long.
   */
  readonly killGraceMs?: number;
  readonly cwd?: string;
}

const MAX_OUTPUT_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS: Record<ResourceAction, number> = { start: 120_000, stop: 120_000, status: 30_000 };
const DEFAULT_GRACE_MS = 5000;
/**
 * After a script exited, how long its output may still trickle out of the pipes. A daemon it
 * started may keep them open for ever; what it writes later is not the script's output.
 */
const PIPE_DRAIN_MS = 200;
/** After SIGKILL, how long to wait for the script to exit (it may be stuck in the kernel). */
const EXIT_WAIT_MS = 1000;

/**
 * Where a resource's work is done: a built-in agent inside the daemon (`inProcess`) or as its own
 * executable, or a script found on disk.
 */
export type Where = { kind: 'builtin'; inProcess: boolean } | { kind: 'script'; path: string };

/** An action left running after its deadline: the resource is not touched until it ends. */
interface Abandoned {
  readonly action: ResourceAction;
  readonly sinceMs: number;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function exitStatus(code: number | null, sig: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return sig ? 128 + (osConstants.signals[sig] ?? 15) : 1;
}

/**
 * Runs resource actions with a deadline each that holds whatever the agent does: a script's
 * process group is killed, and an in-process agent that ignores its abort is left behind. A
 * resource with an action left behind is refused every further action (each refusal a failure
 * with an unknown state, see group-machine.ts) until that action ends, so two actions of one
 * resource never run at the same time.
 */
/** How long a share of a batch sent ahead waits for its start before it is taken back. */
const EARLY_START_LIFETIME_MS = 60_000;

export class ResourceRunner {
  private readonly opts: RunnerOptions;
  /** By resource spec. */
  private readonly abandoned = new Map<string, Abandoned>();
  /** By resource spec: what its start asks and changes, as its agent last noted (early-start.ts). */
  private readonly plans = new Map<string, StartPlan>();
  /** By resource spec: its share of a batch sent ahead, until its start takes it or it is undone. */
  private readonly early = new Map<string, EarlyStart>();
  constructor(opts: RunnerOptions) {
    this.opts = opts;
  }

  /**
   * A group is about to be started: send, in one exchange, what the starts of its leading
   * built-in IPaddr2 resources will do (early-start.ts). Only resources with a plan, up to the
   * first one without; nothing when the in-process runtime is not there. Synchronous up to the
   * write to `ip`, so a takeover's addresses are configured within a round trip.
   */
  prepareStart(resources: readonly ResourceConfig[]): void {
    const lead: { spec: string; plan: StartPlan }[] = [];
    for (const r of resources) {
      const plan = this.plans.get(r.spec);
      const where = this.builtinWhere(r.script);
      if (
        !plan ||
        where?.kind !== 'builtin' ||
        !where.inProcess ||
        this.early.has(r.spec) ||
        this.abandoned.has(r.spec)
      )
        break;
      lead.push({ spec: r.spec, plan });
    }
    // Plans exist only where an in-process agent ran, so the runtime is there already.
    const runtime = lead.length > 0 ? this.opts.builtin?.inProcessRuntime?.() : undefined;
    if (!runtime) return;
    this.opts.log('debug', `starting ahead: ${lead.map((l) => l.spec).join(' ')}`);
    const session = runtime.openIp({});
    const batch = session.run(lead.flatMap(({ plan }) => [...plan.queries, ...plan.changes]));
    void batch.finally(() => session.close());
    let at = 0;
    for (const { spec, plan } of lead) {
      const q = at;
      const c = q + plan.queries.length;
      at = c + plan.changes.length;
      const share = batch.then((o: IpOutcome[]) => ({ queries: o.slice(q, c), changes: o.slice(c, at) }));
      const e = new EarlyStart(
        plan,
        share,
        () => runtime.openIp({}),
        (removed) =>
          this.opts.log(
            'info',
            `${spec}: address configured ahead of its start taken back (${removed.join(', ')}): its own status or start decided otherwise, or never came`,
          ),
      );
      this.early.set(spec, e);
      // Never left behind: a share nobody took within a while is taken back.
      setTimeout(() => this.dropEarly(spec, e), EARLY_START_LIFETIME_MS).unref();
    }
  }

  /** The group's start is over: whatever was sent ahead for it and not taken is undone. */
  endStart(resources: readonly ResourceConfig[]): void {
    for (const r of resources) {
      const e = this.early.get(r.spec);
      if (e) this.dropEarly(r.spec, e);
    }
  }

  private dropEarly(spec: string, e: EarlyStart): Promise<void> {
    if (this.early.get(spec) === e) this.early.delete(spec);
    return e.undo();
  }

  /**
   * The runtime of one in-process action: the agent notes its start plan here, and during a
   * status or start with a share sent ahead its `ip` session replays that share.
   */
  private actionRuntime(
    resource: ResourceConfig,
    action: ResourceAction,
    early: EarlyStart | undefined,
  ): AgentRuntime | undefined {
    const base = this.opts.builtin?.inProcessRuntime?.();
    if (!base) return undefined;
    return {
      ...base,
      notePlan: (plan) => (plan ? this.plans.set(resource.spec, plan) : this.plans.delete(resource.spec)),
      openIp: (options) =>
        early && options.family === undefined && options.netns === undefined
          ? early.session(options, action === 'start')
          : base.openIp(options),
    };
  }

  /** A built-in agent the operator did not send to its script: where it runs. */
  private builtinWhere(script: string): Where | undefined {
    const b = this.opts.builtin;
    if (!b?.isBuiltinAgent(script) || this.opts.external?.has(script)) return undefined;
    return { kind: 'builtin', inProcess: b.isInProcessAgent(script) };
  }

  /** Where a resource's script would come from (for logs and `tsbeat status`). */
  locate(script: string): Where | undefined {
    const builtin = this.builtinWhere(script);
    if (builtin) return builtin;
    for (const dir of this.opts.scriptDirs) {
      const path = join(dir, script);
      if (isExecutableFile(path)) return { kind: 'script', path };
    }
    return undefined;
  }

  /** Resources with an action left running after its deadline (for status views and tests). */
  abandonedActions(): { resource: string; action: ResourceAction; sinceMs: number }[] {
    return [...this.abandoned].map(([resource, a]) => ({ resource, ...a }));
  }

  /** locate() without blocking the event loop on the file system (every action uses this). */
  private async find(script: string): Promise<Where | undefined> {
    const builtin = this.builtinWhere(script);
    if (builtin) return builtin;
    for (const dir of this.opts.scriptDirs) {
      const path = join(dir, script);
      try {
        if (!(await stat(path)).isFile()) continue;
        await access(path, constants.X_OK);
        return { kind: 'script', path };
      } catch {
        // not here
      }
    }
    return undefined;
  }

  async run(resource: ResourceConfig, action: ResourceAction, signal: AbortSignal): Promise<RunResult> {
    const { log } = this.opts;
    const where = await this.find(resource.script);
    if (!where) {
      log('error', `Cannot locate resource script ${resource.script}`);
      return {
        rc: 1,
        stdout: '',
        stderr: '',
        via: 'none',
        ...(action === 'status' ? { running: false } : {}),
      };
    }
    const timeoutMs = this.opts.timeoutMs?.[action] ?? DEFAULT_TIMEOUT_MS[action];
    const label =
      where.kind === 'script'
        ? where.path
        : where.inProcess
          ? `${resource.script} (tsbeat built-in)`
          : `${resource.script} (tsbeat built-in, own process)`;
    const via = where.kind === 'script' ? where.path : where.inProcess ? 'builtin' : 'builtin-process';
    const inProcess = where.kind === 'builtin' && where.inProcess;
    const earlier = this.abandoned.get(resource.spec);
    if (earlier) {
      const ago = Math.round((Date.now() - earlier.sinceMs) / 1000);
      log(
        'error',
        `${label} ${[...resource.args, action].join(' ')} not run: its ${earlier.action}, abandoned ${ago} s ago after its deadline, has not finished; the state of ${resource.spec} is unknown`,
      );
      return {
        rc: 1,
        stdout: '',
        stderr: '',
        via,
        timedOut: true,
        refused: true,
        ...(action === 'status' ? { running: false, unknown: true } : {}),
      };
    }
    let early = this.early.get(resource.spec);
    if (early && !(inProcess && (action === 'status' || action === 'start'))) {
      await this.dropEarly(resource.spec, early);
      early = undefined;
    }
    if (action !== 'status') log('info', `Running ${label} ${[...resource.args, action].join(' ')}`);
    const result = inProcess
      ? await this.runBuiltin(resource, action, signal, timeoutMs, label, early)
      : await this.runProcess(
          this.commandFor(where, resource.script),
          via,
          resource,
          action,
          signal,
          timeoutMs,
          label,
        );
    for (const line of `${result.stdout}${result.stderr}`.split('\n'))
      if (line.trim()) log('debug', `${resource.script}: ${line}`);
    if (result.timedOut) {
      const what = signal.aborted
        ? 'was abandoned (the resource manager stopped)'
        : `timed out after ${timeoutMs} ms`;
      const how = !inProcess
        ? result.abandoned
          ? `its process group was killed, but it did not exit: further actions on ${resource.spec} are refused until it does`
          : 'its process group was killed'
        : result.abandoned
          ? `it ignored its abort and still runs: further actions on ${resource.spec} are refused until it finishes`
          : 'it was aborted';
      log('error', `${label} ${[...resource.args, action].join(' ')} ${what}; ${how}`);
    } else if (result.rc !== 0 && action !== 'status') log('error', `Return code ${result.rc} from ${label}`);
    // An in-process action whose `ip` answers were at hand (replayed, or quick) runs start to end
    // in microtasks; a group of many such resources would then hold the event loop — and the
    // heartbeats behind it — for its whole start. One turn of the loop per action prevents that.
    if (inProcess) await new Promise<void>((resolve) => setImmediate(resolve));
    if (early && (action === 'start' || result.timedOut || heartbeatSaysRunning(result.stdout)))
      // Taken by this start, or not to be taken: it runs already (no start follows), or its
      // status could not be had (heartbeat's machine then stops, it does not start).
      await this.dropEarly(resource.spec, early);
    if (action === 'status')
      return result.timedOut
        ? { ...result, running: false, unknown: true }
        : { ...result, running: heartbeatSaysRunning(result.stdout) };
    return result;
  }

  /** Refuse the resource until `done` settles; says so in the log when it does. */
  private leaveBehind(
    resource: ResourceConfig,
    action: ResourceAction,
    done: Promise<unknown>,
    label: string,
  ): void {
    const entry: Abandoned = { action, sinceMs: Date.now() };
    this.abandoned.set(resource.spec, entry);
    const release = (how: string): void => {
      if (this.abandoned.get(resource.spec) !== entry) return;
      this.abandoned.delete(resource.spec);
      this.opts.log(
        'warn',
        `${label} ${[...resource.args, action].join(' ')}, abandoned after its deadline, ${how}; ${resource.spec} can be acted on again`,
      );
    };
    done.then(
      (r) => release(`finished after all${typeof r === 'number' ? ` (exit status ${r})` : ''}`),
      () => release('failed after all'),
    );
  }

  private async runBuiltin(
    resource: ResourceConfig,
    action: ResourceAction,
    signal: AbortSignal,
    timeoutMs: number,
    label: string,
    early: EarlyStart | undefined,
  ): Promise<RunResult> {
    const builtin = this.opts.builtin!;
    const runtime = this.actionRuntime(resource, action, early);
    const graceMs = this.opts.killGraceMs ?? DEFAULT_GRACE_MS;
    const ac = new AbortController();
    type Outcome = { rc: number; stdout: string; stderr: string };
    let work: Promise<Outcome>;
    try {
      work = builtin.runHeartbeatStyle(resource.script, resource.args, action, {
        env: this.opts.env,
        signal: ac.signal,
        log: this.opts.log,
        ...(runtime ? { runtime } : {}),
      });
    } catch (e) {
      work = Promise.reject(e);
    }
    const settled = work.then(
      (r): Outcome => r,
      (e: unknown): Outcome => ({ rc: 1, stdout: '', stderr: e instanceof Error ? e.message : String(e) }),
    );
    // The deadline is a race, not a request: the agent's promise is never awaited past it.
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), timeoutMs);
      onAbort = () => resolve('deadline');
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const first = await Promise.race([settled, deadline]);
      if (first !== 'deadline') return { ...first, via: 'builtin' };
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
    // Ask the agent to give up (it kills its helpers), and give it the grace to do so.
    ac.abort();
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<'grace'>((resolve) => {
      graceTimer = setTimeout(() => resolve('grace'), graceMs);
    });
    const second = await Promise.race([settled, grace]);
    clearTimeout(graceTimer);
    if (second !== 'grace')
      return { ...second, rc: second.rc === 0 ? 1 : second.rc, via: 'builtin', timedOut: true };
    this.leaveBehind(
      resource,
      action,
      settled.then((r) => r.rc),
      label,
    );
    return { rc: 1, stdout: '', stderr: '', via: 'builtin', timedOut: true, abandoned: true };
  }

  /** A script, or a built-in agent's own executable, as a command line. */
  private commandFor(where: Where, script: string): AgentCommandLine {
    if (where.kind === 'script') return { file: where.path, args: [], env: this.opts.env };
    return this.opts.builtin!.agentCommand(script, this.opts.env);
  }

  /**
   * `COMMAND ARGS... ACTION` in a process group of its own: a script, or a built-in agent that
   * must not run inside the daemon. Nothing here waits on the child synchronously.
   */
  private runProcess(
    command: AgentCommandLine,
    via: string,
    resource: ResourceConfig,
    action: ResourceAction,
    signal: AbortSignal,
    timeoutMs: number,
    label: string,
  ): Promise<RunResult> {
    return new Promise<RunResult>((resolve) => {
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      let settled = false;
      let exited = false;
      const graceMs = this.opts.killGraceMs ?? DEFAULT_GRACE_MS;
      const child = spawn(command.file, [...command.args, ...resource.args, action], {
        // Its own process group, so a timeout or an abort ends the script and its children.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: command.env,
        cwd: this.opts.cwd ?? '/',
      });
      const exit = new Promise<number>((res) => {
        child.once('exit', (code, sig) => res(exitStatus(code, sig)));
        child.once('error', () => res(127));
      });
      const killGroup = (sig: NodeJS.Signals): void => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, sig);
        } catch {
          // already gone
        }
      };
      // Every wait below has its own timer: none depends on the script or its pipes.
      const timers = new Set<NodeJS.Timeout>();
      const after = (ms: number, fn: () => void): void => {
        const t = setTimeout(() => {
          timers.delete(t);
          fn();
        }, ms);
        timers.add(t);
      };
      let killTimer: NodeJS.Timeout | undefined;
      const giveUp = (): void => {
        // A script that already exited is done: whatever it left running is not ours to kill.
        if (timedOut || settled || exited) return;
        timedOut = true;
        killGroup('SIGTERM');
        // Kept after the result is in: children that ignore SIGTERM get SIGKILL too.
        killTimer = setTimeout(() => {
          killGroup('SIGKILL');
          if (settled) return;
          after(EXIT_WAIT_MS, () => {
            if (exited) return;
            // Not even SIGKILL ended it (stuck in the kernel): stop waiting, keep the resource unknown.
            this.leaveBehind(resource, action, exit, label);
            finish(1, true);
          });
        }, graceMs);
      };
      after(timeoutMs, giveUp);
      signal.addEventListener('abort', giveUp, { once: true });
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (stdout.length < MAX_OUTPUT_BYTES) stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < MAX_OUTPUT_BYTES) stderr += d;
      });
      const finish = (rc: number, abandoned = false): void => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        if (killTimer && !timedOut) clearTimeout(killTimer);
        signal.removeEventListener('abort', giveUp);
        // Whoever still holds the pipes (a daemon the script started) writes into the void now.
        child.stdout.destroy();
        child.stderr.destroy();
        // Leftover children of a finished script (daemons it forked) are not ours to kill.
        resolve({
          rc,
          stdout,
          stderr,
          via,
          ...(timedOut ? { timedOut: true } : {}),
          ...(abandoned ? { abandoned: true } : {}),
        });
      };
      child.on('error', (e: NodeJS.ErrnoException) => {
        stderr += e.message;
        finish(e.code === 'ENOENT' ? 127 : 126);
      });
      child.on('exit', (code, sig) => {
        exited = true;
        const rc = timedOut ? 1 : exitStatus(code, sig);
        child.once('close', () => finish(rc));
        // setImmediate: let output already in the pipes be read before giving up on them.
        after(PIPE_DRAIN_MS, () => setImmediate(() => finish(rc)));
      });
    });
  }
}

/** The environment heartbeat gives resource scripts (heartbeat-rm-cli.md §4.8). */
export function scriptEnvironment(opts: {
  readonly localNode: string;
  readonly dir: string;
  readonly params: Readonly<Record<string, string>>;
  readonly env: readonly (readonly [string, string])[];
  readonly logfile?: string;
  readonly debugfile?: string;
  readonly logfacility?: string;
  readonly niceFailback: boolean;
  readonly base?: NodeJS.ProcessEnv;
}): Record<string, string> {
  const base = opts.base ?? process.env;
  const out: Record<string, string> = {};
  for (const k of ['HOME', 'TZ', 'LANG']) {
    const v = base[k];
    if (v !== undefined) out[k] = v;
  }
  out['PATH'] =
    `/usr/libexec/heartbeat:/usr/sbin:/usr/share/heartbeat:${base['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'}`;
  out['LC_ALL'] = 'C';
  out['OCF_ROOT'] = '/usr/lib/ocf';
  out['OCF_AGENTS'] = '/usr/lib/ocf/resource.d/heartbeat/';
  out['HA_CURHOST'] = opts.localNode;
  out['HA_DIR'] = opts.dir;
  out['HA_RESOURCEDIR'] = join(opts.dir, 'resource.d');
  out['HA_FUNCS'] = join(opts.dir, 'shellfuncs');
  out['HA_DATEFMT'] = '%Y/%m/%d_%T\t';
  out['HA_LOGD'] = 'no';
  out['HA_RSCTMP'] = base['HA_RSCTMP'] ?? '/run/resource-agents';
  if (opts.logfile) out['HA_LOGFILE'] = opts.logfile;
  if (opts.debugfile) out['HA_DEBUGLOG'] = opts.debugfile;
  if (opts.logfacility && opts.logfacility !== 'none') out['HA_LOGFACILITY'] = opts.logfacility;
  if (opts.niceFailback) out['HA_NICEFAILBACK'] = 'yes';
  for (const [k, v] of Object.entries(opts.params)) out[`HA_${k}`] = v;
  for (const [k, v] of opts.env) out[`HA_${k}`] = v;
  return out;
}
