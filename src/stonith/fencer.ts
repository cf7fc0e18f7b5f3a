// Part: STONITH: resets a dead peer before its resources are taken over, through cluster-glue's
// `stonith` command (every plugin it has, including external/*), or through tsbeat's own runner
// for external-style plugin scripts when cluster-glue is not installed. Also the two-node
// "preferred survivor" delay, so that two nodes cut apart do not shoot each other at once.

import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StonithConfig } from '../config/model.js';

export type FenceLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export interface FenceResult {
  readonly ok: boolean;
  readonly atMs: number;
  readonly node: string;
  readonly detail: string;
}

export interface StonithFencerOptions {
  readonly device: StonithConfig;
  readonly localNode: string;
  /** The node that fences at once; every other node waits `delayMs` first. */
  readonly preferredSurvivor?: string;
  readonly delayMs?: number;
  readonly timeoutMs?: number;
  readonly log: FenceLog;
  /** cluster-glue's `stonith` command; undefined = use the in-tree external runner. */
  readonly stonithCommand?: string;
  /** Where external/* plugin scripts live (cluster-glue's directory, then tsbeat's). */
  readonly externalDirs?: readonly string[];
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_EXTERNAL_DIRS = ['/usr/lib/stonith/plugins/external', '/etc/ha.d/stonith.d'];

interface Exec {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** How long output may still arrive after the plugin exited. */
const PIPE_DRAIN_MS = 200;

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Exec> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(cmd, args, { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 65536) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 65536) stderr += d;
    });
    child.on('error', (e) => {
      stderr += e.message;
      finish(127);
    });
    // Settle when the plugin exits, not when its pipes close: a process it left behind holding
    // stdout must not hold up the fence (output already in the pipes gets a moment to arrive).
    let settled = false;
    const finish = (code: number | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr, timedOut });
    };
    child.on('exit', (code) => {
      child.once('close', () => finish(code));
      setTimeout(() => setImmediate(() => finish(code)), PIPE_DRAIN_MS);
    });
  });
}

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The device as the operator named it: "null", "external/ipmi". */
export function deviceType(device: StonithConfig): string {
  return device.type;
}

export class StonithFencer {
  readonly configured = true;
  private readonly opts: StonithFencerOptions;
  lastResult: FenceResult | undefined;
  /** The last device check (`status`), for `tsbeat status`. */
  lastStatus: { readonly ok: boolean; readonly atMs: number; readonly detail: string } | undefined;

  constructor(opts: StonithFencerOptions) {
    this.opts = opts;
  }

  /** A one-line description for logs and status. */
  describe(): string {
    const d = this.opts.device;
    const via = this.opts.stonithCommand ? 'cluster-glue stonith' : 'tsbeat external runner';
    return d.kind === 'stonith'
      ? `${d.type} (config file ${d.configFile}, via ${via})`
      : `${d.type} (via ${via})`;
  }

  private baseArgs(): string[] {
    const d = this.opts.device;
    return d.kind === 'stonith' ? ['-t', d.type, '-F', d.configFile] : ['-t', d.type, '-p', d.params];
  }

  /** heartbeat checks the device at comm-up and hourly: `stonith ... -S`. */
  async status(): Promise<{ ok: boolean; detail: string }> {
    const r = await this.checkStatus();
    this.lastStatus = { ...r, atMs: Date.now() };
    return r;
  }

  private async checkStatus(): Promise<{ ok: boolean; detail: string }> {
    const timeout = this.opts.timeoutMs ?? 60_000;
    if (this.opts.stonithCommand) {
      const r = await run(this.opts.stonithCommand, [...this.baseArgs(), '-S'], process.env, timeout);
      return {
        ok: r.code === 0,
        detail: (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] || `exit ${r.code}`,
      };
    }
    const r = await this.runExternal('status', undefined, timeout);
    return { ok: r.code === 0, detail: r.detail };
  }

  /** What this node does before fencing: the preferred survivor and the wait of everyone else. */
  policy(): { readonly preferredSurvivor: string; readonly delayMs: number } {
    const preferred = this.opts.preferredSurvivor ?? '';
    const delay = this.opts.delayMs ?? 0;
    return {
      preferredSurvivor: preferred,
      delayMs: preferred && preferred !== this.opts.localNode ? delay : 0,
    };
  }

  /** The hosts the device says it can reset (`stonith ... -l` / external gethosts). */
  async hosts(): Promise<string[]> {
    const timeout = this.opts.timeoutMs ?? 60_000;
    if (this.opts.stonithCommand) {
      const r = await run(this.opts.stonithCommand, [...this.baseArgs(), '-l'], process.env, timeout);
      return r.stdout.split(/\s+/).filter(Boolean);
    }
    const r = await this.runExternal('gethosts', undefined, timeout);
    return r.stdout.split(/\s+/).filter(Boolean);
  }

  /** Reset `node`. Waits first unless this node is the preferred survivor. Never throws. */
  async fence(node: string): Promise<boolean> {
    const { log, preferredSurvivor, localNode } = this.opts;
    const delay = this.opts.delayMs ?? 0;
    if (preferredSurvivor && preferredSurvivor !== localNode && delay > 0) {
      log(
        'info',
        `waiting ${delay} ms before fencing ${node}: ${preferredSurvivor} is the preferred survivor and fences first`,
      );
      await (this.opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(delay);
    }
    log('info', `Resetting node ${node} with [${this.opts.device.type}]`);
    const timeout = this.opts.timeoutMs ?? 60_000;
    let ok: boolean;
    let detail: string;
    if (this.opts.stonithCommand) {
      const r = await run(
        this.opts.stonithCommand,
        [...this.baseArgs(), '-T', 'reset', node],
        process.env,
        timeout,
      );
      ok = r.code === 0;
      detail = r.timedOut
        ? `timed out after ${timeout} ms`
        : `exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-1)[0]}` : ''}`;
    } else {
      const r = await this.runExternal('reset', node, timeout);
      ok = r.code === 0;
      detail = r.detail;
    }
    this.lastResult = { ok, atMs: Date.now(), node, detail };
    if (ok) log('info', `node ${node} now reset.`);
    else log('error', `Host ${node} not reset! (${detail})`);
    return ok;
  }

  /**
   * cluster-glue's external plugin protocol: `PLUGIN ACTION [HOST]` with each parameter in the
   * environment, named as `PLUGIN getconfignames` lists them; the last takes the rest of the line.
   */
  private async runExternal(
    action: string,
    host: string | undefined,
    timeoutMs: number,
  ): Promise<Exec & { detail: string }> {
    const d = this.opts.device;
    const name = d.type.startsWith('external/') ? d.type.slice('external/'.length) : undefined;
    if (!name || d.kind !== 'stonith_host') {
      return {
        code: 1,
        stdout: '',
        stderr: '',
        timedOut: false,
        detail: `device ${d.type} needs cluster-glue's stonith command`,
      };
    }
    const dirs = this.opts.externalDirs ?? DEFAULT_EXTERNAL_DIRS;
    const path = dirs.map((dir) => join(dir, name)).find(executable);
    if (!path)
      return {
        code: 1,
        stdout: '',
        stderr: '',
        timedOut: false,
        detail: `plugin ${name} not found in ${dirs.join(', ')}`,
      };
    const names = (await run(path, ['getconfignames'], process.env, timeoutMs)).stdout
      .split(/\s+/)
      .filter(Boolean);
    const env: NodeJS.ProcessEnv = { ...process.env };
    const words = d.params.split(/\s+/).filter(Boolean);
    names.forEach((n, i) => {
      env[n] = i === names.length - 1 ? words.slice(i).join(' ') : (words[i] ?? '');
    });
    const r = await run(path, host === undefined ? [action] : [action, host], env, timeoutMs);
    const detail = r.timedOut ? `timed out after ${timeoutMs} ms` : `exit ${r.code}`;
    return { ...r, detail };
  }
}

/** cluster-glue's `stonith` command, if installed. */
export function findStonithCommand(): string | undefined {
  for (const p of ['/usr/sbin/stonith', '/usr/bin/stonith', '/sbin/stonith']) if (executable(p)) return p;
  return undefined;
}
