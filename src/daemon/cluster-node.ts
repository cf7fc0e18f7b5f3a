// Part: the imperative shell around the membership core: reads frames from every medium,
// authenticates them, feeds the core, signs and sends what it returns, keeps its one timer,
// and turns its events into heartbeat's operator log lines.

import { readFile } from 'node:fs/promises';
import type { Keyring } from '../codec/auth/keyring.js';
import { decodeFrame, encodeClassicFrame, encodeNetstringFrame } from '../codec/frame.js';
import { getString, type Message } from '../codec/model.js';
import type { Clock } from '../lib/clock.js';
import type { Random } from '../lib/random.js';
import type { Medium, MediumEvent } from '../media/index.js';
import { createMembership, type NodeView, nodeViews, step } from '../membership/core.js';
import type {
  Delivered,
  Input,
  MembershipConfig,
  MembershipEvent,
  MembershipState,
  Output,
} from '../membership/model.js';
import type { Log } from './log.js';

export interface ClusterNodeOptions {
  readonly membership: MembershipConfig;
  readonly media: readonly Medium[];
  readonly keyring: Keyring;
  /** ha.cf msgfmt classic: UDP frames carry the inner `auth` field too. */
  readonly innerAuth: boolean;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Log;
}

export type DeliverListener = (d: Delivered) => void;
export type EventListener = (e: MembershipEvent) => void;

/**
 * The `ld` field (informational): /proc/loadavg, refreshed asynchronously at most once a
 * second, so building a heartbeat never waits for a file read.
 */
function loadavgReader(clock: Clock): () => string {
  let cached = 'n/a';
  let at = Number.NEGATIVE_INFINITY;
  let reading = false;
  return () => {
    const now = clock.monotonicMs();
    if (!reading && now - at >= 1000) {
      at = now;
      reading = true;
      readFile('/proc/loadavg', 'latin1').then(
        (text) => {
          cached = text.trim();
          reading = false;
        },
        () => {
          cached = 'n/a';
          reading = false;
        },
      );
    }
    return cached;
  };
}

/** Rate limit for bad-frame log lines: one per source and reason per 10 s, with a count. */
class BadFrameLog {
  private readonly seen = new Map<string, { atMs: number; suppressed: number }>();
  private readonly log: Log;
  constructor(log: Log) {
    this.log = log;
  }
  report(nowMs: number, key: string, line: string): void {
    const e = this.seen.get(key);
    if (e && nowMs - e.atMs < 10_000) {
      e.suppressed++;
      return;
    }
    const extra = e && e.suppressed > 0 ? ` (${e.suppressed} more like it suppressed)` : '';
    this.log.error(`${line}${extra}`);
    this.seen.set(key, { atMs: nowMs, suppressed: 0 });
    if (this.seen.size > 1000) this.seen.clear();
  }
}

export class ClusterNode {
  readonly state: MembershipState;
  private readonly opts: ClusterNodeOptions;
  private readonly loadavg: () => string;
  private timer: NodeJS.Timeout | undefined;
  private readonly deliverListeners: DeliverListener[] = [];
  private readonly eventListeners: EventListener[] = [];
  private readonly badFrames: BadFrameLog;
  private closed = false;

  constructor(opts: ClusterNodeOptions) {
    this.opts = opts;
    this.state = createMembership(opts.membership, opts.random);
    this.loadavg = loadavgReader(opts.clock);
    this.badFrames = new BadFrameLog(opts.log);
  }

  onDeliver(l: DeliverListener): void {
    this.deliverListeners.push(l);
  }

  onEvent(l: EventListener): void {
    this.eventListeners.push(l);
  }

  /** Begin reading every medium and announce ourselves. Media must already be open. */
  start(): void {
    this.opts.media.forEach((m, i) => {
      void this.readLoop(m, i);
    });
    this.apply({ kind: 'start' });
  }

  /** A message from the layer above (resource management, standby requests). */
  send(msg: Message): void {
    this.apply({ kind: 'send', msg });
  }

  views(): NodeView[] {
    return nodeViews(this.state, this.opts.clock.monotonicMs());
  }

  /** Stop timers and reading; media are closed by their owner. */
  stop(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async readLoop(medium: Medium, link: number): Promise<void> {
    for await (const f of medium.frames()) {
      if (this.closed) return;
      const r = decodeFrame(f.bytes, this.opts.keyring);
      if (r.outcome !== 'ok') {
        const why =
          r.outcome === 'badDigest'
            ? `authentication failed (key ${r.authIndex}, ${r.method}): wrong key in authkeys?`
            : r.outcome === 'unknownKeyIndex'
              ? `signed with key ${r.authIndex}, which authkeys does not list`
              : r.outcome === 'noAuth'
                ? 'no authentication'
                : `malformed: ${r.reason}`;
        this.badFrames.report(
          this.opts.clock.monotonicMs(),
          `${f.from}|${r.outcome}`,
          `bad frame from ${f.from} on ${medium.name}: ${why}; dropped`,
        );
        continue;
      }
      try {
        this.apply({ kind: 'frame', link, msg: r.message });
      } catch (e) {
        // A bug in the core must not be mistaken for a bad frame: crash, and the peer takes over.
        this.opts.log.crit(`internal error handling a frame from ${f.from}: ${(e as Error).message}`);
        throw e;
      }
    }
  }

  private apply(input: Input): void {
    if (this.closed) return;
    const env = {
      monoMs: this.opts.clock.monotonicMs(),
      wallMs: this.opts.clock.wallMs(),
      loadavg: this.loadavg(),
    };
    const out = step(this.state, input, env);
    this.execute(out);
  }

  private execute(out: Output): void {
    for (const e of out.events) {
      this.logEvent(e);
      for (const l of this.eventListeners) l(e);
    }
    for (const o of out.send) this.transmit(o.msg);
    for (const d of out.deliver) for (const l of this.deliverListeners) l(d);
    this.schedule(out.wakeAtMs);
  }

  private transmit(msg: Message): void {
    const { keyring, innerAuth, media, log } = this.opts;
    let netstring: Uint8Array | undefined;
    let classic: Uint8Array | undefined;
    for (const m of media) {
      let bytes: Uint8Array | undefined;
      if (m.frameFormat === 'netstring') {
        if (!netstring) {
          const r = encodeNetstringFrame(msg, keyring, { innerAuth });
          if (!r.ok) {
            log.error(`cannot encode ${getString(msg, 't') ?? 'message'}: ${r.reason}`);
            return;
          }
          netstring = r.bytes;
        }
        bytes = netstring;
      } else {
        if (!classic) {
          const r = encodeClassicFrame(msg, keyring);
          if (!r.ok) {
            log.error(`cannot encode ${getString(msg, 't') ?? 'message'} for a serial line: ${r.reason}`);
            continue;
          }
          classic = r.bytes;
        }
        bytes = classic;
      }
      m.send(bytes).catch((e: unknown) => log.error(`${m.name}: ${(e as Error).message}`));
    }
  }

  private schedule(wakeAtMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || !Number.isFinite(wakeAtMs)) return;
    const delay = Math.max(0, wakeAtMs - this.opts.clock.monotonicMs());
    this.timer = setTimeout(() => this.apply({ kind: 'tick' }), Math.ceil(delay));
  }

  /** heartbeat's operator lines (heartbeat-rm-cli.md §7.3), plus tsbeat's measured figures. */
  private logEvent(e: MembershipEvent): void {
    const { log } = this.opts;
    switch (e.kind) {
      case 'localStatus':
        log.info(`Local status now set to: '${e.status}'`);
        return;
      case 'nodeStatus':
        if (e.to !== 'dead')
          log.info(`Status update for node ${e.node}: status ${e.to}`, {
            node: e.node,
            from: e.from,
            to: e.to,
          });
        return;
      case 'nodeDead':
        log.warn(`node ${e.node}: is dead`, { node: e.node, silentMs: e.silentMs, limitMs: e.limitMs });
        log.info(`node ${e.node}: last heartbeat ${e.silentMs} ms ago (limit ${e.limitMs} ms)`);
        return;
      case 'linkStatus':
        log.info(`Link ${e.node}:${e.link} ${e.status}.`, { node: e.node, link: e.link, status: e.status });
        return;
      case 'lateHeartbeat':
        if (e.beyondDeadtime)
          log.crit(`Late heartbeat: Node ${e.node}: interval ${e.intervalMs} ms (> deadtime)`);
        else log.warn(`Late heartbeat: Node ${e.node}: interval ${e.intervalMs} ms`);
        return;
      case 'restart':
        log.info(`Heartbeat restart on node ${e.node}`, { node: e.node, generation: e.generation });
        return;
      case 'partitionHealed':
        log.crit(`Cluster node ${e.node} returning after partition.`);
        log.info('For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain');
        log.warn('Deadtime value may be too small.');
        return;
      case 'commUp':
        log.info('Comm_now_up(): updating status to active');
        return;
      case 'lostPackets':
        log.warn(`${e.count} lost packet(s) for [${e.node}] [${e.lastSeq}:${e.seq}]`);
        return;
      case 'tooManyLost':
        log.error(`lost a lot of packets (${e.count}) from ${e.node}: sequence tracking reset`);
        return;
      case 'noPacketsMissing':
        log.info(`No pkts missing from ${e.node}!`);
        return;
      case 'irretrievable':
        log.error(`Irretrievably lost packet: node ${e.node} seq ${e.seq} (${e.info})`);
        return;
      case 'replay':
        log.error(
          `should_drop_message: attempted replay attack [${e.node}]? [gen = ${e.generation}, curgen = ${e.known}]`,
        );
        return;
      case 'badNode':
        log.error(`bad node [${e.src}] in message`);
        return;
      case 'badMessage':
        log.error(`bad message from ${e.node}: ${e.reason}`);
        return;
      case 'uuidChanged':
        log.info(`node ${e.node} changed its uuid`);
        return;
      case 'flowControlDisabled':
        log.info(`flow control disabled due to different version heartbeat (node ${e.node})`);
        return;
      case 'rexmitBeyondMax':
        log.warn(`Rexmit of seq ${e.seq} requested by ${e.node}. ${e.maxSeq} is max.`);
        return;
      case 'stall':
        log.warn(
          `tsbeat did not run for ${e.frozenMs} ms (stopped or starved): giving every peer a fresh chance before judging it`,
        );
        return;
      case 'nodeListDiffers':
        log.warn(`node ${e.node} reports nodes [${e.nodelist.join(' ')}], which differ from ha.cf`);
        return;
    }
  }
}

/** heartbeat-style log lines for medium trouble. */
export function logMediumEvent(log: Log, e: MediumEvent): void {
  switch (e.kind) {
    case 'send-failed':
      log.error(`write failure on ${e.medium}: ${e.message}`);
      return;
    case 'send-errors-suppressed':
      log.warn(`Temporarily Suppressing write error messages on ${e.medium}`);
      log.warn(`Is a cable unplugged on ${e.medium}?`);
      return;
    case 'send-recovered':
      log.info(`${e.medium}: writes work again after ${e.failed} failures`);
      return;
    case 'send-dropped':
      log.warn(`${e.medium}: ${e.frames} frame(s) dropped (${e.reason})`);
      return;
    case 'receive-error':
      log.error(`read failure on ${e.medium}: ${e.message}`);
      return;
    case 'receive-dropped':
      log.warn(`${e.medium}: ${e.bytes} received bytes dropped (${e.reason})`);
      return;
    case 'notice':
      log.info(`${e.medium}: ${e.message}`);
      return;
  }
}
