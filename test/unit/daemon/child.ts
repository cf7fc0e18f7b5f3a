// Runs a snippet of ES module code against the built log writer (dist/) in a child process, so
// that a test can watch a process exit (or fail to) and give it a stderr of its choosing.

import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const DIST_LOG = `${REPO}dist/daemon/log.js`;

export interface ChildRun {
  readonly child: ChildProcess;
  /** What the child printed on stdout so far. */
  stdout(): string;
  /** Resolves when the child has exited, with what it printed and when. */
  readonly done: Promise<ChildResult>;
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  /** What it printed on stderr, when runNode owned its stderr (default stdio): for failure messages. */
  readonly stderr: string;
  /** performance.now() when the last stdout chunk and the exit arrived. */
  readonly lastOutputAt: number;
  readonly exitedAt: number;
  /** True when the child had to be killed after timeoutMs. */
  readonly killed: boolean;
}

/**
 * `node --input-type=module -e CODE`, optionally behind a command prefix (e.g. unshare); the
 * child is SIGKILLed after timeoutMs so that a hang fails the test instead of the run.
 */
export function runNode(
  code: string,
  opts: {
    readonly stdio?: StdioOptions;
    readonly prefix?: readonly string[];
    readonly timeoutMs?: number;
    readonly env?: Record<string, string>;
  } = {},
): ChildRun {
  if (!existsSync(DIST_LOG))
    throw new Error(`${DIST_LOG} is missing: run "npm run build" first (npm test does)`);
  const argv = [...(opts.prefix ?? []), process.execPath, '--input-type=module', '-e', code];
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let stdout = '';
  let lastOutputAt = performance.now();
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    lastOutputAt = performance.now();
  });
  // Read only a stderr no test asked for: one left unread would stall a chatty child.
  let stderr = '';
  if (opts.stdio === undefined)
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 30_000);
  const done = new Promise<ChildResult>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const exitedAt = performance.now();
      // stdout may still hold the last bytes: wait for its end before resolving.
      const finish = () => resolve({ code, signal, stdout, stderr, lastOutputAt, exitedAt, killed });
      if (child.stdout && !child.stdout.readableEnded) child.stdout.once('end', finish);
      else finish();
    });
  });
  return { child, stdout: () => stdout, done };
}

/** The last JSON line a child printed. */
export function lastJson<T>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}
