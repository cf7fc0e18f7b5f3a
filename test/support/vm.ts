// The project's qemu VM (scripts/vm-run) for tests that need kernel features this host lacks:
// IPVS, DRBD 8.4, netem. The guest runs the host's node on the same checkout (virtio-9p).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { REPO } from './cli.js';

export const VM_RUN = `${REPO}scripts/vm-run`;

export interface VmResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface VmOptions {
  /** Host folder mounted read-write at the same path in the guest (default: the checkout). */
  share?: string;
  /** qemu is killed after this many seconds; the result's code is then 124. */
  timeoutS?: number;
  memMb?: number;
}

/** Why the VM cannot run here, or undefined when it can (root, qemu installed or installable). */
export async function vmUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return 'the VM runner boots an amd64 Debian kernel';
  if (process.getuid?.() !== 0) return 'the VM runner needs root';
  if (process.env['TSBEAT_NO_VM'] === '1') return 'TSBEAT_NO_VM=1 is set';
  if (!existsSync(VM_RUN)) return `${VM_RUN} is missing`;
  const q = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
  if (q.status !== 0) return 'qemu-system-x86_64 is not installed (scripts/install-deps.sh installs it)';
  return undefined;
}

/** Runs `command` under bash as root in a fresh guest; resolves with its exit code and output. */
export function runInVm(command: string, opts: VmOptions = {}): Promise<VmResult> {
  const args = ['--share', opts.share ?? REPO, '--timeout', String(opts.timeoutS ?? 240)];
  if (opts.memMb !== undefined) args.push('--mem', String(opts.memMb));
  return new Promise((resolve, reject) => {
    const child = spawn(VM_RUN, [...args, '--', command], {
      cwd: opts.share ?? REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}
