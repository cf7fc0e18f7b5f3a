// A null-modem cable between two nodes: `socat -d -d pty,raw,echo=0 pty,raw,echo=0` on the host
// creates two ptys (/dev/pts/N, /dev/pts/M). The nodes' mount namespaces share the host's devpts,
// so each pty is bind-mounted inside its node onto the same stable path (default /run/ttyHB0).
// The path lives on the node's private /run tmpfs because creating /dev/ttyHB0 would write into
// the host's devtmpfs (shared by every node and the host itself). Heartbeat's serial medium wants
// an absolute path to a character device; the bind mount is exactly that, and its UUCP lock file
// (/var/lock = /run/lock) is private to the node too. The binds are re-applied after node.reboot().
import { spawn } from 'node:child_process';
import type { Cluster, HarnessNode } from './cluster.js';
import { requireTools } from './guard.js';
import { signalTracked, sleep, type TrackedPid, track } from './proc.js';

export interface SerialPair {
  /** Host pty paths: [0] is bind-mounted in node a, [1] in node b. */
  readonly ptys: readonly [string, string];
  /** The device path inside both nodes. */
  readonly path: string;
  readonly socat: TrackedPid;
  /** socat's diagnostics so far. */
  log(): string;
  /** Kills socat (the cable is cut for good; both ends get EIO/hang-up). */
  cut(): void;
}

export interface SerialOptions {
  /** Device path inside the nodes; must be under /run (or an existing file). Default /run/ttyHB0. */
  readonly path?: string;
}

export async function createSerialPair(
  cluster: Cluster,
  a: HarnessNode,
  b: HarnessNode,
  opts: SerialOptions = {},
): Promise<SerialPair> {
  requireTools(['socat']);
  if (a === b) throw new Error('createSerialPair: need two different nodes');
  const path = opts.path ?? '/run/ttyHB0';
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  let exited = false;
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    log += d;
  });
  child.on('exit', () => {
    exited = true;
  });
  if (child.pid === undefined) throw new Error('createSerialPair: cannot start socat');
  const socat = track(child.pid, 'socat pty pair');
  if (socat === undefined) throw new Error(`createSerialPair: socat exited at once: ${log}`);
  cluster.trackProcess(socat);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ptys = [...log.matchAll(/PTY is (\/dev\/pts\/\d+)/g)].map((m) => m[1]!);
    if (ptys.length >= 2 && /starting data transfer loop/.test(log)) {
      const pair: readonly [string, string] = [ptys[0]!, ptys[1]!];
      await a.bindInside(pair[0], path);
      await b.bindInside(pair[1], path);
      return {
        ptys: pair,
        path,
        socat,
        log: () => log,
        cut: () => {
          signalTracked(socat, 'SIGKILL');
        },
      };
    }
    if (exited || Date.now() > deadline) {
      signalTracked(socat, 'SIGKILL');
      throw new Error(`createSerialPair: socat did not report two ptys: ${log}`);
    }
    await sleep(20);
  }
}
