// Runs the built tsbeat CLI (dist/) the way an operator would, capturing output and status.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const TSBEAT = `${REPO}dist/cli/tsbeat.js`;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runTsbeat(args: string[], opts: { input?: string | Buffer; cwd?: string } = {}): RunResult {
  if (!existsSync(TSBEAT)) throw new Error(`${TSBEAT} is missing: run "npm run build" first (npm test does)`);
  const r = spawnSync(process.execPath, [TSBEAT, ...args], {
    cwd: opts.cwd ?? REPO,
    input: opts.input,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
