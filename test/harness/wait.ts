// Waiting for conditions. Tests wait for states, never for elapsed time: every wait has a
// generous deadline and its failure message says what was awaited and what was last seen.
import { readFileSync, statSync } from 'node:fs';
import { HarnessNode } from './cluster.js';
import type { Daemon } from './daemon.js';
import { sleep } from './proc.js';

export interface WaitOptions {
  /** Poll interval, default 250 ms. */
  readonly intervalMs?: number;
  /** What is being awaited, for the timeout message. */
  readonly description?: string;
}

/**
 * Polls `predicate` until it returns a truthy value (which is returned). Exceptions thrown by the
 * predicate count as "not yet"; the last one is reported on timeout.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs: number,
  opts: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
      last = v;
      lastErr = undefined;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      const why =
        lastErr !== undefined ? `last error: ${String(lastErr)}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(
        `waitFor timed out after ${timeoutMs} ms: ${opts.description ?? predicate.toString()} (${why})`,
      );
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

export type LogTarget = HarnessNode | Daemon | string;

function logFileOf(target: LogTarget): string {
  if (typeof target === 'string') return target;
  if (target instanceof HarnessNode) return target.daemon?.logFile ?? target.logFile;
  return target.logFile;
}

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Current end of the target's log file: pass it as `since` to only look at lines written later. */
export function logMark(target: LogTarget): number {
  return size(logFileOf(target));
}

/** The target's log text (from byte offset `since`, default the beginning). */
export function readLog(target: LogTarget, since = 0): string {
  try {
    return readFileSync(logFileOf(target)).subarray(since).toString('utf8');
  } catch {
    return '';
  }
}

export interface WaitForLogOptions {
  /** Byte offset to start from (see logMark); default 0, i.e. the whole file. */
  readonly since?: number;
  readonly intervalMs?: number;
}

/**
 * Tails the log file of a node (its current daemon's log, else node.logFile), a daemon, or a path,
 * until a line matches. Returns the matching line; on timeout throws with the last lines read.
 */
export async function waitForLog(
  target: LogTarget,
  regex: RegExp,
  timeoutMs: number,
  opts: WaitForLogOptions = {},
): Promise<string> {
  const file = logFileOf(target);
  const deadline = Date.now() + timeoutMs;
  let offset = opts.since ?? 0;
  let partial = '';
  const seen: string[] = [];
  const re = new RegExp(regex.source, regex.flags.replace(/[gy]/g, ''));
  for (;;) {
    const end = size(file);
    if (end < offset) {
      offset = 0; // truncated or replaced
      partial = '';
    }
    if (end > offset) {
      const chunk = readFileSync(file).subarray(offset, end).toString('utf8');
      offset = end;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (re.test(line)) return line;
        seen.push(line);
        if (seen.length > 40) seen.shift();
      }
    }
    if (partial !== '' && re.test(partial)) return partial;
    if (Date.now() >= deadline) {
      const tail = [...seen, partial].filter((l) => l !== '').slice(-25);
      throw new Error(
        `waitForLog ${regex} in ${file}: timed out after ${timeoutMs} ms; last lines:\n${tail.join('\n')}`,
      );
    }
    await sleep(opts.intervalMs ?? 200);
  }
}
