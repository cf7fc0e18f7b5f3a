// Part: a small network-namespace lab for the UDP compliance tests: uniquely named namespaces
// joined by veth pairs, addresses only inside them, deleted afterwards even when tests fail.
// Private to test/compliance (the general harness in test/harness is someone else's).

import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** True when we can create namespaces: root with iproute2. */
export function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Namespaces and links for one test file. Names start with `tsm` plus the pid and random
 * characters, short enough for interface names (15 characters at most).
 */
export class NetnsLab {
  /** e.g. `tsm4f2ab`: 8 characters, leaving 7 for suffixes. */
  readonly prefix =
    `tsm${(process.pid % 1296).toString(36).padStart(2, '0')}${randomBytes(2).toString('hex').slice(0, 3)}`;
  readonly #namespaces: string[] = [];
  readonly #onExit = (): void => this.#destroySync();

  constructor() {
    // If the worker dies before afterAll, still try not to leave namespaces behind.
    process.once('exit', this.#onExit);
  }

  /** Creates namespace `<prefix><suffix>` with its loopback up. */
  async namespace(suffix: string): Promise<string> {
    const name = `${this.prefix}${suffix}`;
    await run(['netns', 'add', name]);
    this.#namespaces.push(name);
    await run(['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A veth pair created directly inside the two namespaces (nothing in ours), both ends up. */
  async veth(nsA: string, devA: string, nsB: string, devB: string): Promise<void> {
    await run(['link', 'add', devA, 'netns', nsA, 'type', 'veth', 'peer', 'name', devB, 'netns', nsB]);
    await run(['-n', nsA, 'link', 'set', devA, 'up']);
    await run(['-n', nsB, 'link', 'set', devB, 'up']);
  }

  /** Adds `cidr` to a device; with `brd +` unless told otherwise. */
  async address(ns: string, dev: string, cidr: string, broadcast = true): Promise<void> {
    await run(['-n', ns, 'addr', 'add', cidr, ...(broadcast ? ['brd', '+'] : []), 'dev', dev]);
  }

  /** Deletes every namespace we made (which removes their veths). Never throws. */
  async destroy(): Promise<void> {
    for (const name of this.#namespaces.splice(0)) {
      await run(['netns', 'del', name]).catch(() => undefined);
    }
    process.off('exit', this.#onExit);
  }

  #destroySync(): void {
    for (const name of this.#namespaces.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // Nothing more we can do while exiting.
      }
    }
  }
}
