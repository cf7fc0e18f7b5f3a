// Part: compiles medium-host.ts (and the media it imports) to JavaScript that a plain `node`
// inside a namespace can run. Each run builds into its own directory under .build/, so test
// files and concurrent runs never overwrite each other's output.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

export interface HostBuild {
  /** The compiled host program. */
  readonly hostJs: string;
  remove(): Promise<void>;
}

export async function buildHost(): Promise<HostBuild> {
  const outDir = join(here, '.build', `${process.pid}-${randomBytes(3).toString('hex')}`);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const output = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      [tsc, '-p', join(here, 'tsconfig.host.json'), '--outDir', outDir],
      { cwd: root, timeout: 120_000, encoding: 'utf8' },
      // tsc exits non-zero on type errors but still emits; a missing output is what matters.
      (_err, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
  });
  // Under .build/<id>/, so that node still finds the repository's node_modules and package.json.
  const hostJs = join(outDir, 'test', 'compliance', 'medium-host.js');
  try {
    await access(hostJs);
  } catch {
    throw new Error(`building the medium host failed:\n${output}`);
  }
  return { hostJs, remove: () => rm(outDir, { recursive: true, force: true }) };
}
