// Cluster daemons on harness nodes: the real heartbeat 3.0.6 and (once built) tsbeat, behind one
// Daemon shape so an interop test can pick per node which implementation runs there.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../src/daemon/os-tuning.js';
import type { ExitInfo, HarnessNode, SpawnedProcess } from './cluster.js';
import { requireTools, TOOLS } from './guard.js';
import { hostPidOf, isTrackedAlive, pidNamespaceOf, sleep, type TrackedPid, track } from './proc.js';

export const HEARTBEAT_BIN = TOOLS.heartbeat.path;
/** Repository root (test/harness/../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TSBEAT_JS = join(REPO_ROOT, 'dist', 'cli', 'tsbeat.js');

export type DaemonKind = 'heartbeat' | 'tsbeat';

export interface Daemon {
  /** 'heartbeat', 'tsbeat' or whatever startDaemon was given. */
  readonly kind: string;
  readonly node: HarnessNode;
  readonly argv: readonly string[];
  /** Host pid of the daemon's main process (for heartbeat: the master control process). */
  readonly pid: number;
  readonly tracked: TrackedPid;
  /** The spawned process with captured output; undefined for a self-daemonizing start. */
  readonly process: SpawnedProcess | undefined;
  /** Log file that waitForLog() tails for this daemon. */
  readonly logFile: string;
  /** Resolves when the main process has exited (code -1 when it was not our child). */
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  /** Captured stdout + stderr ('' for a self-daemonizing start). */
  output(): string;
}

export interface DaemonStartOptions {
  readonly kind?: string;
  /** Default: node.logFile. */
  readonly logFile?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly label?: string;
}

/** Starts any long-running daemon inside the node (foreground: it must not fork away). */
export async function startDaemon(
  node: HarnessNode,
  argv: readonly string[],
  opts: DaemonStartOptions = {},
): Promise<Daemon> {
  const proc = await node.spawn(argv, {
    ...(opts.env === undefined ? {} : { env: opts.env }),
    label: opts.label ?? opts.kind ?? 'daemon',
  });
  const d: Daemon = {
    kind: opts.kind ?? 'daemon',
    node,
    argv: [...argv],
    pid: proc.pid,
    tracked: proc.tracked,
    process: proc,
    logFile: opts.logFile ?? node.logFile,
    exited: proc.exited,
    running: () => isTrackedAlive(proc.tracked),
    output: () => proc.stdout() + proc.stderr(),
  };
  node.daemons.push(d);
  return d;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readFrom(path: string, offset: number): string {
  try {
    return readFileSync(path).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

export interface HeartbeatOptions {
  /** Extra command-line flags (e.g. ['-d'] or ['-l']). */
  readonly args?: readonly string[];
  /**
   * false (default): run `heartbeat -f` as our child with captured output.
   * true: run `heartbeat` as the lab does (it forks and writes /run/heartbeat.pid), then find the
   * master control process through the pid file.
   */
  readonly daemonize?: boolean;
  /** Wait until the log says "Configuration validated" (default true); throws if heartbeat exits. */
  readonly waitStarted?: boolean;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts the real heartbeat 3.0.6 in the node. ha.cf must already be written (see haCf()) and
 * should send `logfile` to node.logFile, which is where waitForLog() looks.
 */
export async function startHeartbeat(node: HarnessNode, opts: HeartbeatOptions = {}): Promise<Daemon> {
  requireTools(['heartbeat', 'cl_status']);
  const logFile = node.logFile;
  const mark = fileSize(logFile);
  const args = opts.args ?? [];
  let d: Daemon;
  if (opts.daemonize === true) {
    const r = await node.exec([HEARTBEAT_BIN, ...args]);
    if (r.code !== 0) throw new Error(`node ${node.name}: heartbeat exited ${r.code}: ${r.stderr.trim()}`);
    const pidText = (await node.execOk(['cat', '/run/heartbeat.pid'])).stdout.trim();
    const nsPid = Number(pidText);
    const ns = pidNamespaceOf(node.initPid);
    const hostPid = ns === undefined ? undefined : hostPidOf(ns, nsPid);
    const tracked = hostPid === undefined ? undefined : track(hostPid, `${node.name}: heartbeat`);
    if (tracked === undefined) throw new Error(`node ${node.name}: heartbeat pid ${pidText} not found`);
    const exited = new Promise<ExitInfo>((resolveExit) => {
      const timer = setInterval(() => {
        if (!isTrackedAlive(tracked)) {
          clearInterval(timer);
          resolveExit({ code: -1, signal: null });
        }
      }, 200);
      timer.unref();
    });
    d = {
      kind: 'heartbeat',
      node,
      argv: [HEARTBEAT_BIN, ...args],
      pid: tracked.pid,
      tracked,
      process: undefined,
      logFile,
      exited,
      running: () => isTrackedAlive(tracked),
      output: () => '',
    };
    node.daemons.push(d);
  } else {
    d = await startDaemon(node, [HEARTBEAT_BIN, '-f', ...args], {
      kind: 'heartbeat',
      logFile,
      label: 'heartbeat',
      ...(opts.env === undefined ? {} : { env: opts.env }),
    });
  }
  if (opts.waitStarted !== false) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const text = readFrom(logFile, mark) + d.output();
      if (/Configuration validated\. Starting heartbeat/.test(text) && d.running()) break;
      if (!d.running() || Date.now() > deadline) {
        const why = d.running() ? 'no "Configuration validated" within 30 s' : 'heartbeat exited';
        throw new Error(`node ${node.name}: ${why}:\n${text.split('\n').slice(-30).join('\n')}`);
      }
      await sleep(100);
    }
  }
  return d;
}

export interface TsbeatOptions {
  /** Arguments after `tsbeat start`. */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts tsbeat (`node dist/cli/tsbeat.js start ...`) in the node; needs `npm run build` first. */
export async function startTsbeat(node: HarnessNode, opts: TsbeatOptions = {}): Promise<Daemon> {
  if (!existsSync(TSBEAT_JS)) {
    throw new Error(`tsbeat is not built: ${TSBEAT_JS} missing (run \`npm run build\` first)`);
  }
  return startDaemon(
    node,
    [process.execPath, ...DAEMON_NODE_FLAGS, TSBEAT_JS, 'start', ...(opts.args ?? [])],
    {
      kind: 'tsbeat',
      label: 'tsbeat',
      ...(opts.env === undefined ? {} : { env: opts.env }),
    },
  );
}

export interface FactoryOptions {
  readonly args?: readonly string[];
}

export type DaemonFactory = (node: HarnessNode, opts?: FactoryOptions) => Promise<Daemon>;

/** One factory per implementation, so a test can run e.g. heartbeat on node1 and tsbeat on node2. */
export const daemonFactories: Readonly<Record<DaemonKind, DaemonFactory>> = {
  heartbeat: (node, opts) => startHeartbeat(node, opts?.args === undefined ? {} : { args: opts.args }),
  tsbeat: (node, opts) => startTsbeat(node, opts?.args === undefined ? {} : { args: opts.args }),
};

export function startNodeDaemon(node: HarnessNode, kind: DaemonKind, opts?: FactoryOptions): Promise<Daemon> {
  return daemonFactories[kind](node, opts);
}
