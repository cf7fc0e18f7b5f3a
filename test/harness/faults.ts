// Fault injection: crash, stop and continue daemons; cut links; lose packets; query cl_status.
//
// Packet loss: the preferred tool is `tc qdisc ... netem`. Where the kernel has no sch_netem
// (this project's Firecracker CI kernel reports "Specified qdisc kind is unknown"), netem()
// falls back to an nftables rule on the interface's netdev egress hook that drops a random share
// of packets (`numgen random mod 100 < P drop`) — the same effect as netem `loss P%`. Other
// netem features (delay, duplicate, reorder, corrupt) have no fallback and throw.
import { HarnessNode } from './cluster.js';
import type { Daemon } from './daemon.js';
import { requireTools } from './guard.js';
import {
  isAlive,
  processTree,
  type RunResult,
  readStat,
  run,
  runOk,
  signalTracked,
  sleep,
  type TrackedPid,
} from './proc.js';
import { waitFor } from './wait.js';

export type FaultTarget = HarnessNode | Daemon;

/** The daemon addressed by a target: the daemon itself, or the node's most recent daemon. */
export function daemonOf(target: FaultTarget): Daemon {
  if (target instanceof HarnessNode) {
    const d = target.daemon;
    if (d === undefined) throw new Error(`node ${target.name} has no daemon started by the harness`);
    return d;
  }
  return target;
}

function send(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGSTOPs the daemon's main process and every descendant, repeating until no new process shows
 * up (a stopped process cannot fork). Returns the frozen pids, root first.
 */
async function freezeTree(root: TrackedPid): Promise<number[]> {
  const frozen: number[] = [];
  if (!signalTracked(root, 'SIGSTOP')) return frozen;
  frozen.push(root.pid);
  for (let round = 0; round < 100; round += 1) {
    // Signal delivery is asynchronous: wait until everything signalled so far has stopped.
    const deadline = Date.now() + 2_000;
    while (frozen.some((p) => isAlive(p) && readStat(p)?.state !== 'T') && Date.now() < deadline)
      await sleep(5);
    let fresh = false;
    for (const p of processTree(root.pid)) {
      if (!frozen.includes(p)) {
        send(p, 'SIGSTOP');
        frozen.push(p);
        fresh = true;
      }
    }
    if (!fresh) break;
  }
  return frozen;
}

export interface KillOptions {
  /**
   * Signal the whole process tree (the daemon's children too). Default: true for SIGKILL (a crash
   * of the daemon: heartbeat's read/write/FIFO children die with the master) and false otherwise
   * (SIGTERM, SIGHUP etc. go to the main process, which handles them itself).
   */
  readonly tree?: boolean;
  /** For SIGKILL: how long to wait until every killed process is gone (default 15 s). */
  readonly timeoutMs?: number;
}

/** Sends a signal to a daemon (default SIGKILL, i.e. crash it and wait until all of it is gone). */
export async function kill(
  target: FaultTarget,
  signal: NodeJS.Signals = 'SIGKILL',
  opts: KillOptions = {},
): Promise<void> {
  const d = daemonOf(target);
  const tree = opts.tree ?? signal === 'SIGKILL';
  if (!tree) {
    if (!signalTracked(d.tracked, signal))
      throw new Error(`${d.kind} on ${d.node.name} (pid ${d.pid}) is not running`);
    return;
  }
  const pids = await freezeTree(d.tracked);
  if (pids.length === 0) throw new Error(`${d.kind} on ${d.node.name} (pid ${d.pid}) is not running`);
  for (const p of pids) send(p, signal);
  for (const p of pids) send(p, 'SIGCONT');
  // nsenter stops itself when its child stops (util-linux continue_as_child); let it reap and exit.
  if (d.process) signalTracked(d.process.nsenter, 'SIGCONT');
  if (signal === 'SIGKILL') {
    await waitFor(() => pids.every((p) => !isAlive(p)), opts.timeoutMs ?? 15_000, {
      description: `${d.kind} on ${d.node.name}: processes ${pids.join(',')} gone after SIGKILL`,
      intervalMs: 50,
    });
  }
}

/** SIGSTOPs the daemon and all its descendants (a stalled machine: it falls silent). */
export async function pause(target: FaultTarget): Promise<number[]> {
  const d = daemonOf(target);
  const pids = await freezeTree(d.tracked);
  if (pids.length === 0) throw new Error(`${d.kind} on ${d.node.name} (pid ${d.pid}) is not running`);
  return pids;
}

/** SIGCONTs the daemon and all its descendants (and the nsenter that waits for it). */
export async function resume(target: FaultTarget): Promise<void> {
  const d = daemonOf(target);
  for (const p of processTree(d.pid)) send(p, 'SIGCONT');
  if (d.process) signalTracked(d.process.nsenter, 'SIGCONT');
  await sleep(0);
}

/** `ip link set IF down` inside the node (carrier drops on the bridge side too). */
export async function linkDown(node: HarnessNode, ifname = 'eth0'): Promise<void> {
  await runOk('ip', ['-n', node.netns, 'link', 'set', 'dev', ifname, 'down']);
}

export async function linkUp(node: HarnessNode, ifname = 'eth0'): Promise<void> {
  await runOk('ip', ['-n', node.netns, 'link', 'set', 'dev', ifname, 'up']);
}

export type NetemMethod = 'netem' | 'nft-loss';

function faultTable(ifname: string): string {
  return `tsbfault_${ifname.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * Applies a netem spec (e.g. 'loss 30%', 'delay 100ms') on the node's interface egress. Returns
 * which mechanism was used: real netem, or the nftables random-drop fallback (loss only).
 */
export async function netem(node: HarnessNode, ifname: string, spec: string): Promise<NetemMethod> {
  requireTools(['tc']);
  const words = spec.trim().split(/\s+/);
  const r = await run('tc', ['-n', node.netns, 'qdisc', 'replace', 'dev', ifname, 'root', 'netem', ...words]);
  if (r.code === 0) return 'netem';
  if (!/qdisc kind is unknown|unknown qdisc|No such file/i.test(r.stderr)) {
    throw new Error(`tc netem ${spec} on ${node.name}/${ifname} failed: ${r.stderr.trim()}`);
  }
  const m = /^loss\s+(?:random\s+)?(\d+(?:\.\d+)?)%$/.exec(words.join(' '));
  if (m === null) {
    throw new Error(
      `netem is unavailable in this kernel (${r.stderr.trim()}); the nftables fallback only supports ` +
        `'loss P%', not '${spec}'`,
    );
  }
  requireTools(['nft']);
  const basisPoints = Math.round(Number(m[1]) * 100);
  if (basisPoints > 10_000) throw new Error(`netem: loss over 100%: ${spec}`);
  const table = faultTable(ifname);
  await clearNetem(node, ifname);
  const verdict =
    basisPoints >= 10_000 ? 'counter drop' : `numgen random mod 10000 < ${basisPoints} counter drop`;
  const rules =
    `table netdev ${table} {\n` +
    `  chain egress {\n` +
    `    type filter hook egress device "${ifname}" priority 0; policy accept;\n` +
    `    ${verdict}\n` +
    `  }\n` +
    `}\n`;
  await runOk('ip', ['netns', 'exec', node.netns, 'nft', '-f', '-'], { input: rules });
  return 'nft-loss';
}

/** Removes whatever netem() installed on the interface (no error if nothing was there). */
export async function clearNetem(node: HarnessNode, ifname: string): Promise<void> {
  await run('tc', ['-n', node.netns, 'qdisc', 'del', 'dev', ifname, 'root']);
  const table = faultTable(ifname);
  const list = await run('ip', ['netns', 'exec', node.netns, 'nft', 'list', 'tables']);
  if (list.code === 0 && list.stdout.includes(`netdev ${table}`)) {
    await runOk('ip', ['netns', 'exec', node.netns, 'nft', 'delete', 'table', 'netdev', table]);
  }
}

/** Runs `cl_status ARGS...` inside the node; returns {code, stdout, stderr}. */
export function clStatus(node: HarnessNode, args: readonly string[]): Promise<RunResult> {
  return node.exec(['cl_status', ...args], { timeoutMs: 30_000 });
}

/** Trimmed stdout of `cl_status nodestatus PEER` ('' if cl_status failed to answer). */
export async function nodeStatus(node: HarnessNode, peer: string): Promise<string> {
  const r = await clStatus(node, ['nodestatus', peer]);
  return r.stdout.trim();
}

/** Trimmed stdout of `cl_status hblinkstatus PEER LINK`. */
export async function linkStatus(node: HarnessNode, peer: string, link: string): Promise<string> {
  const r = await clStatus(node, ['hblinkstatus', peer, link]);
  return r.stdout.trim();
}
