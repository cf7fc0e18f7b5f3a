// Part: runs one resource action the way heartbeat's ResourceManager does: finds the script
// (tsbeat's built-in agents, then resource.d/, then /etc/init.d/), runs `SCRIPT ARGS... ACTION`
// in its own process group with a timeout, and judges `status` by its stdout text only.

import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ResourceConfig } from '../config/model.js';
import { heartbeatSaysRunning } from './ocf.js';

export type ResourceAction = 'start' | 'stop' | 'status';

export interface RunResult {
  readonly rc: number;
  readonly stdout: string;
  readonly stderr: string;
  /** For status: heartbeat's "is it running" verdict on stdout. */
  readonly running?: boolean;
  /** Where the work was done: a built-in agent, or the script path. */
  readonly via: string;
  readonly timedOut?: boolean;
}

export type RunnerLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

/** The built-in agents' in-process entry (src/agents/builtin.ts), injected to keep this file standalone. */
export interface BuiltinAgents {
  isBuiltinAgent(script: string): boolean;
  runHeartbeatStyle(
    script: string,
    args: readonly string[],
    action: ResourceAction,
    ctx: { env: Readonly<Record<string, string>>; signal: AbortSignal; log: RunnerLog },
  ): Promise<{ rc: number; stdout: string; stderr: string }>;
}

export interface RunnerOptions {
  /** Searched in order: heartbeat uses DIR/resource.d, then /etc/init.d. */
  readonly scriptDirs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly log: RunnerLog;
  readonly builtin?: BuiltinAgents;
  /** Scripts to run from disk even though tsbeat has a built-in agent of that name. */
  readonly external?: ReadonlySet<string>;
  /** Per action, in ms. */
  readonly timeoutMs?: Partial<Record<ResourceAction, number>>;
  /** Grace between SIGTERM and SIGKILL for a timed-out script's process group. */
  readonly killGraceMs?: number;
  readonly cwd?: string;
}

const MAX_OUTPUT_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS: Record<ResourceAction, number> = { start: 120_000, stop: 120_000, status: 30_000 };

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export class ResourceRunner {
  private readonly opts: RunnerOptions;
  constructor(opts: RunnerOptions) {
    this.opts = opts;
  }

  /** Where a resource's script would come from (for logs and `tsbeat status`). */
  locate(script: string): { kind: 'builtin' } | { kind: 'script'; path: string } | undefined {
    if (this.opts.builtin?.isBuiltinAgent(script) && !this.opts.external?.has(script))
      return { kind: 'builtin' };
    for (const dir of this.opts.scriptDirs) {
      const path = join(dir, script);
      if (isExecutableFile(path)) return { kind: 'script', path };
    }
    return undefined;
  }

  async run(resource: ResourceConfig, action: ResourceAction, signal: AbortSignal): Promise<RunResult> {
    const { log } = this.opts;
    const where = this.locate(resource.script);
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
    const label = where.kind === 'builtin' ? `${resource.script} (tsbeat built-in)` : where.path;
    if (action !== 'status') log('info', `Running ${label} ${[...resource.args, action].join(' ')}`);
    const result =
      where.kind === 'builtin'
        ? await this.runBuiltin(resource, action, signal, timeoutMs)
        : await this.runScript(where.path, resource, action, signal, timeoutMs);
    for (const line of `${result.stdout}${result.stderr}`.split('\n'))
      if (line.trim()) log('debug', `${resource.script}: ${line}`);
    if (result.timedOut)
      log('error', `${label} ${action} timed out after ${timeoutMs} ms; its process group was killed`);
    else if (result.rc !== 0 && action !== 'status') log('error', `Return code ${result.rc} from ${label}`);
    if (action === 'status')
      return { ...result, running: !result.timedOut && heartbeatSaysRunning(result.stdout) };
    return result;
  }

  private async runBuiltin(
    resource: ResourceConfig,
    action: ResourceAction,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<RunResult> {
    const builtin = this.opts.builtin!;
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      const r = await builtin.runHeartbeatStyle(resource.script, resource.args, action, {
        env: this.opts.env,
        signal: ac.signal,
        log: this.opts.log,
      });
      return { ...r, via: 'builtin', ...(ac.signal.aborted ? { timedOut: true } : {}) };
    } catch (e) {
      return {
        rc: 1,
        stdout: '',
        stderr: (e as Error).message,
        via: 'builtin',
        ...(ac.signal.aborted ? { timedOut: true } : {}),
      };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  private runScript(
    path: string,
    resource: ResourceConfig,
    action: ResourceAction,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<RunResult> {
    return new Promise<RunResult>((resolve) => {
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      let settled = false;
      const child = spawn(path, [...resource.args, action], {
        // Its own process group, so a timeout or an abort ends the script and its children.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: this.opts.env,
        cwd: this.opts.cwd ?? '/',
      });
      const killGroup = (sig: NodeJS.Signals): void => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, sig);
        } catch {
          // already gone
        }
      };
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (): void => {
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), this.opts.killGraceMs ?? 5000);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, timeoutMs);
      const onAbort = (): void => {
        timedOut = true;
        stop();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (stdout.length < MAX_OUTPUT_BYTES) stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < MAX_OUTPUT_BYTES) stderr += d;
      });
      const finish = (rc: number): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (killTimer && !timedOut) clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        // Leftover children of a finished script (daemons it forked) are not ours to kill.
        resolve({ rc, stdout, stderr, via: path, ...(timedOut ? { timedOut: true } : {}) });
      };
      child.on('error', (e: NodeJS.ErrnoException) => {
        stderr += e.message;
        finish(e.code === 'ENOENT' ? 127 : 126);
      });
      child.on('close', (code, sig) => finish(timedOut ? 1 : (code ?? (sig ? 128 + 15 : 1))));
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
