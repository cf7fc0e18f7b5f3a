// Part: the ICMP edge of ping nodes: one echo per probe, sent by the system `ping` program,
// the answer handed back as a reply event. The decisions (alive, dead after deadping) are the
// membership core's (src/membership/core.ts); this file only talks to the world.
//
// Why the system `ping` and not a socket: Node's dgram offers UDP only, and neither raw ICMP
// sockets nor Linux's unprivileged ICMP datagram sockets are reachable without a native addon
// (a new dependency the project avoids). `ping` is already installed on every heartbeat machine
// (iputils-ping or inetutils-ping), holds the privilege it needs itself, and `ping -n -c 1 -W S`
// means the same to both. heartbeat's ping medium sends one echo per status message it is
// handed; a probe here is exactly that echo, so the timing is heartbeat's: an answer refreshes
// the ping node, deadping without one kills it.

import { type ChildProcess, spawn } from 'node:child_process';

export interface PingerOptions {
  /** An echo reply came back from `host`. */
  readonly onReply: (host: string) => void;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** How long one echo waits for its reply (`ping -W`, whole seconds, at least 1). */
  readonly replyTimeoutMs: number;
  /** Hosts of `ping6` lines: pinged with `ping -6`. */
  readonly ipv6Hosts?: ReadonlySet<string>;
  /** The program; default `ping` from PATH. Tests put a stand-in here. */
  readonly command?: string;
}

/**
 * Sends ICMP echoes through the system `ping`. At most one echo per host is in flight: a
 * probe while the previous one still waits is dropped (the previous one answers for both),
 * so a black-holed host costs one process, never a growing pile.
 */
export class SystemPinger {
  private readonly opts: PingerOptions;
  private readonly inFlight = new Map<string, ChildProcess>();
  /** Hosts whose last probe could not run or failed oddly: reported once until they answer. */
  private readonly complained = new Set<string>();
  private closed = false;
  /** Probes sent and replies received, for `tsbeat status` and the tests. */
  readonly counts = { probes: 0, replies: 0, skipped: 0 };

  constructor(opts: PingerOptions) {
    this.opts = opts;
  }

  probe(host: string): void {
    if (this.closed) return;
    if (this.inFlight.has(host)) {
      this.counts.skipped++;
      return;
    }
    const seconds = Math.max(1, Math.ceil(this.opts.replyTimeoutMs / 1000));
    const args = ['-n', '-c', '1', '-W', String(seconds)];
    if (this.opts.ipv6Hosts?.has(host)) args.unshift('-6');
    args.push(host);
    let child: ChildProcess;
    try {
      child = spawn(this.opts.command ?? 'ping', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      this.complain(host, `cannot run ping: ${(e as Error).message}`);
      return;
    }
    this.counts.probes++;
    this.inFlight.set(host, child);
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (stderr.length < 400) stderr += d;
    });
    // `ping -W` bounds the wait for a reply, not name resolution or a stuck process.
    const killer = setTimeout(() => child.kill('SIGKILL'), seconds * 1000 + 3000);
    killer.unref();
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(killer);
      this.inFlight.delete(host);
      this.complain(
        host,
        e.code === 'ENOENT'
          ? 'cannot run ping: no "ping" program in PATH (apt-get install iputils-ping)'
          : `cannot run ping: ${e.message}`,
      );
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      this.inFlight.delete(host);
      if (this.closed) return;
      if (code === 0) {
        this.counts.replies++;
        if (this.complained.delete(host)) this.opts.log('info', `ping node host ${host}: ping works again`);
        this.opts.onReply(host);
      } else if (code !== 1 && code !== null) {
        // 1 is "no reply" (the normal failure); anything else is ping itself failing.
        this.complain(host, `ping ${host} failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`);
      }
    });
  }

  private complain(host: string, msg: string): void {
    if (this.complained.has(host)) return;
    this.complained.add(host);
    this.opts.log('error', `ping node host ${host}: ${msg}; it counts as not answering`);
  }

  /** Stop probing and kill echoes still waiting. */
  close(): void {
    this.closed = true;
    for (const c of this.inFlight.values()) c.kill('SIGKILL');
    this.inFlight.clear();
  }
}
