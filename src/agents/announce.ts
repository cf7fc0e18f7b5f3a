// Part: sending gratuitous ARP for an agent and ending it again: the sender choice
// (tsbeat's arping pairs, or the stock senders by name), the pid file
// `$HA_RSCTMP/send_arp-<ip>`, foreground vs background, and the kill on `stop`.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { AgentRequest } from './agent.js';
import { readPids, removeFile, writePidFile } from './files.js';
import { type GarpPlan, garpLines, isGarpRunner, isSafeGarpWord, killGarpRunner } from './garp.js';
import { haveBinary, spawnDetached } from './runtime.js';

/** How ARP is sent: tsbeat's default, or one of the stock agent's `arp_sender` values. */
export type ArpSender = 'tsbeat' | 'send_arp' | 'iputils_arping' | 'libnet_arping' | 'ipoibarping';

/** Where heartbeat's helpers live (`$HA_BIN`). */
export function haBin(req: AgentRequest): string {
  return req.env['HA_BIN'] ?? '/usr/libexec/heartbeat';
}

/** The pid file of the announcement for an address (same name as the stock agents use). */
export function garpPidFile(req: AgentRequest, ip: string): string {
  return `${req.rscTmp}/send_arp-${ip}`;
}

/** The program a sender needs, for `check_binary`. */
export function senderBinary(req: AgentRequest, sender: ArpSender): string {
  switch (sender) {
    case 'tsbeat':
    case 'iputils_arping':
    case 'libnet_arping':
      return 'arping';
    case 'send_arp':
      return `${haBin(req)}/send_arp`;
    case 'ipoibarping':
      return 'ipoibarping';
  }
}

/** Whether the programs of a sender are installed (the default one also needs xargs and timeout). */
export function senderInstalled(req: AgentRequest, sender: ArpSender): string | undefined {
  const needed = sender === 'tsbeat' ? ['arping', 'xargs', 'timeout'] : [senderBinary(req, sender)];
  return needed.find((b) => !haveBinary(b, req.env));
}

/** Options of one announcement. */
export interface AnnounceOptions {
  readonly plan: GarpPlan;
  readonly sender: ArpSender;
  readonly background: boolean;
  /** `info` on start, `debug` for the refresh on monitor (as the stock agent logs them). */
  readonly level: 'info' | 'debug';
}

function commandFor(
  req: AgentRequest,
  o: AnnounceOptions,
  pidFile: string,
): { file: string; args: string[] } {
  const p = o.plan;
  const extra = [...(p.extraOptions ?? [])];
  switch (o.sender) {
    case 'send_arp':
      return {
        file: `${haBin(req)}/send_arp`,
        args: [
          ...extra,
          '-i',
          String(p.intervalMs),
          '-r',
          String(p.pairs),
          '-p',
          pidFile,
          p.nic,
          p.ip,
          'auto',
          'not_used',
          'not_used',
        ],
      };
    case 'iputils_arping':
      return { file: 'arping', args: [...extra, '-U', '-c', String(p.pairs), '-I', p.nic, p.ip] };
    case 'libnet_arping':
      return { file: 'arping', args: [...extra, '-U', '-c', String(p.pairs), '-i', p.nic, '-S', p.ip, p.ip] };
    case 'ipoibarping':
      return { file: 'ipoibarping', args: ['-q', '-c', String(p.pairs), '-U', '-I', p.nic, p.ip] };
    case 'tsbeat':
      return { file: 'xargs', args: [] };
  }
}

/**
 * Announce `plan.ip` on `plan.nic`. Failures are logged, never returned: like the stock agents,
 * a start does not fail because its announcement could not be sent.
 */
export async function announce(req: AgentRequest, o: AnnounceOptions): Promise<void> {
  const { io } = req;
  const pidFile = garpPidFile(req, o.plan.ip);
  if (o.sender !== 'tsbeat') {
    const { file, args } = commandFor(req, o, pidFile);
    io.log(o.level, [file, ...args].join(' '));
    const run = await spawnDetached(file, args);
    if (!run) {
      io.log('error', `Could not send gratuitous arps: cannot run ${file}`);
      return;
    }
    // send_arp writes its own pid file (-p); for the others we keep it, as run_with_pidfile does.
    if (o.sender !== 'send_arp') writePidFile(pidFile, run.pid);
    await finish(
      req,
      o,
      pidFile,
      run.pid,
      run.done,
      () => run.unref(),
      () => killPid(run.pid),
    );
    return;
  }
  const lines = garpLines(o.plan);
  if (!lines.every((l) => l.split(' ').every(isSafeGarpWord))) {
    io.log('error', `Could not send gratuitous arps: unusable interface or options for ${o.plan.ip}`);
    return;
  }
  const frames = lines.length;
  io.log(
    o.level,
    `Sending ${frames / 2} gratuitous ARP request/reply pair(s) for ${o.plan.ip} on ${o.plan.nic}, ` +
      `${o.plan.intervalMs} ms apart (iputils arping, one frame per run)`,
  );
  const runner = req.runtime.garpRunner();
  const run = await runner.feed(lines, req.runtime.kind === 'executable');
  if (!run) {
    io.log('error', 'Could not send gratuitous arps: cannot start xargs');
    return;
  }
  writePidFile(pidFile, run.pid);
  await finish(
    req,
    o,
    pidFile,
    run.pid,
    run.done,
    () => runner.unref(),
    () => runner.kill(),
  );
}

async function finish(
  req: AgentRequest,
  o: AnnounceOptions,
  pidFile: string,
  pid: number,
  done: Promise<number>,
  unref: () => void,
  kill: () => void,
): Promise<void> {
  const forget = (): void => {
    // Only our own pid: a later start may have written a newer one meanwhile.
    if (readPids(pidFile)[0] === pid) removeFile(pidFile);
  };
  if (o.background) {
    if (req.runtime.kind === 'in-process') {
      unref();
      void done.then(forget);
    } else {
      // The executable exits now; the runner goes on. Its pid file stays until `stop` (which
      // checks that the pid is still one of ours before signalling it).
      unref();
    }
    return;
  }
  const onAbort = (): void => kill();
  req.signal.addEventListener('abort', onAbort, { once: true });
  const code = await done;
  req.signal.removeEventListener('abort', onAbort);
  forget();
  // The default runner reports 123 because each `timeout` ends its arping on purpose (124).
  if (code !== 0 && !(o.sender === 'tsbeat' && code === 123)) {
    req.io.log('error', `Could not send gratuitous arps: rc=${code}`);
  }
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // gone
  }
}

/**
 * Whether a pid runs one of the stock senders (for pid files written by other senders). A
 * synchronous procfs read (kernel memory, no disk): fine inside the daemon.
 */
function isStockSender(pid: number): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    const exe = basename(argv0);
    return exe === 'send_arp' || exe === 'arping' || exe === 'ipoibarping';
  } catch {
    return false;
  }
}

/** What `stop` found in the pid file. */
export type StopOutcome = 'none' | 'killed' | 'finished' | 'failed';

/**
 * End a running announcement for `ip` (pid file `send_arp-<ip>`) and remove the pid file. A pid
 * that no longer runs a sender is "finished" (executables leave their pid file behind).
 */
export function stopAnnouncement(req: AgentRequest, ip: string): StopOutcome {
  const pidFile = garpPidFile(req, ip);
  const pids = readPids(pidFile);
  if (pids.length === 0) {
    removeFile(pidFile);
    return 'none';
  }
  let outcome: StopOutcome = 'finished';
  for (const pid of pids) {
    if (isGarpRunner(pid)) {
      outcome = killGarpRunner(pid) ? 'killed' : 'failed';
    } else if (isStockSender(pid)) {
      try {
        process.kill(pid, 'SIGTERM');
        outcome = 'killed';
      } catch {
        outcome = 'failed';
      }
    }
  }
  removeFile(pidFile);
  return outcome;
}
