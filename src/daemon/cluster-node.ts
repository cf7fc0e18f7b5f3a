// Part: the imperative shell around the membership core: reads frames from every medium,
// authenticates them, feeds the core, signs and sends what it returns, keeps its one timer,
// and turns its events into heartbeat's operator log lines.
//
// Failure policy at this edge: a frame that fails to decode or authenticate is counted and
// reported (rate limited) and dropped; an exception anywhere in handling an input (the core,
// a listener) is an internal error: it is handed to `onInternalError`, which fails the node
// over cleanly (see Daemon.failOver), and this node takes no further input.

import { readFile } from 'node:fs/promises';
import type { Keyring } from '../codec/auth/keyring.js';
import type { CompressionPolicy } from '../codec/compression.js';
import { type DecodeResult, decodeFrame, encodeClassicFrame, encodeNetstringFrame } from '../codec/frame.js';
import { getString, type Message } from '../codec/model.js';
import type { Clock } from '../lib/clock.js';
import { printable } from '../lib/printable.js';
import type { Random } from '../lib/random.js';
import { RejectedInput } from '../lib/rejected.js';
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
  /** ha.cf compression directives: which messages go out compressed (heartbeat's rules). */
  readonly compression?: CompressionPolicy;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Log;
  /** Counts and reports rejected frames; the daemon shares one with the local API. */
  readonly rejected?: RejectedInput;
  /**
   * An exception escaped the handling of an input (`where`: 'timer', 'receive', 'send': the
   * node is broken and takes no more input) or a listener threw (`where`: 'listener': the
   * node goes on). Default: rethrow (tests); the daemon fails over.
   */
  readonly onInternalError?: (where: string, err: unknown) => void;
  /** Test-only fault injection (TSBEAT_TEST_FAULT): throw inside a timer or receive handler. */
  readonly faults?: { throwIn(where: 'timer' | 'receive'): boolean };
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

export class ClusterNode {
  readonly state: MembershipState;
  private readonly opts: ClusterNodeOptions;
  private readonly loadavg: () => string;
  private timer: NodeJS.Timeout | undefined;
  private readonly deliverListeners: DeliverListener[] = [];
  private readonly eventListeners: EventListener[] = [];
  readonly rejected: RejectedInput;
  /** The keys in force; SIGHUP may replace them (heartbeat re-reads a changed authkeys). */
  private keyring: Keyring;
  private closed = false;
  /** Inputs not yet stepped: a listener's send() during execute() waits its turn here. */
  private readonly inputs: Input[] = [];
  private stepping = false;

  constructor(opts: ClusterNodeOptions) {
    this.opts = opts;
    this.state = createMembership(opts.membership, opts.random);
    this.loadavg = loadavgReader(opts.clock);
    this.keyring = opts.keyring;
    this.rejected =
      opts.rejected ??
      new RejectedInput({
        nowMs: () => opts.clock.monotonicMs(),
        log: (level, line) => opts.log[level](line),
      });
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
      this.readLoop(m, i).catch((e: unknown) => this.internalError('receive', e));
    });
    this.guarded('send', () => this.apply({ kind: 'start' }));
  }

  /** A message from the layer above (resource management, standby requests). */
  send(msg: Message): void {
    this.apply({ kind: 'send', msg });
  }

  /** New authkeys (SIGHUP): frames from now on are signed and checked with them. */
  setKeyring(keyring: Keyring): void {
    this.keyring = keyring;
  }

  views(): NodeView[] {
    return nodeViews(this.state, this.opts.clock.monotonicMs());
  }

  /** Whether the node stopped taking input (stopped, or broken by an internal error). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Stop timers and reading; media are closed by their owner. */
  stop(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inputs.length = 0;
  }

  private async readLoop(medium: Medium, link: number): Promise<void> {
    for await (const f of medium.frames()) {
      if (this.closed) return;
      let r: DecodeResult;
      try {
        r = decodeFrame(f.bytes, this.keyring);
      } catch (e) {
        // The codec returns values for bad input; a throw is a codec bug. The frame is
        // dropped like a malformed one: a peer must not be able to kill us with bytes.
        r = {
          outcome: 'malformed',
          reason: `decoder error: ${(e as Error).message}`,
          offsetBytes: 0,
          frame: undefined,
        };
      }
      if (r.outcome !== 'ok') {
        this.rejectFrame(r, f.from, medium.name);
        continue;
      }
      const msg = r.message;
      this.guarded('receive', () => {
        if (this.opts.faults?.throwIn('receive'))
          throw new Error('test fault: exception in the receive path');
        this.apply({ kind: 'frame', link, msg });
      });
    }
  }

  private rejectFrame(r: Exclude<DecodeResult, { outcome: 'ok' }>, from: string, on: string): void {
    const where = `bad frame from ${from} on ${on}`;
    switch (r.outcome) {
      case 'badDigest':
        this.rejected.reject(
          'badAuth',
          from,
          `${where}: authentication failed (key ${r.authIndex}, ${r.method}): wrong key in authkeys?; dropped`,
        );
        return;
      case 'unknownKeyIndex':
        this.rejected.reject(
          'unknownKey',
          from,
          `${where}: signed with key ${r.authIndex}, which authkeys does not list; dropped`,
        );
        return;
      case 'noAuth':
        this.rejected.reject('noAuth', from, `${where}: no authentication; dropped`);
        return;
      default:
        this.rejected.reject('malformed', from, `${where}: malformed: ${printable(r.reason)}; dropped`);
    }
  }

  /** Run one input handler; an exception is an internal error of this node. */
  private guarded(where: 'timer' | 'receive' | 'send', fn: () => void): void {
    if (this.closed) return;
    try {
      fn();
    } catch (e) {
      this.internalError(where, e);
    }
  }

  private internalError(where: string, e: unknown): void {
    // Nothing more goes in: the state may be half-updated.
    this.stop();
    if (this.opts.onInternalError) this.opts.onInternalError(where, e);
    else throw e;
  }

  /**
   * Step the core with `input`, then with whatever the step's listeners asked for. Inputs
   * that arrive while a step's output is being executed (a listener calling send()) wait,
   * so every frame of a step leaves before the frames of the steps it caused: sequence
   * numbers go out in order.
   */
  private apply(input: Input): void {
    if (this.closed) return;
    this.inputs.push(input);
    if (this.stepping) return;
    this.stepping = true;
    try {
      for (let next = this.inputs.shift(); next !== undefined; next = this.inputs.shift()) {
        if (this.closed) return;
        const env = {
          monoMs: this.opts.clock.monotonicMs(),
          wallMs: this.opts.clock.wallMs(),
          loadavg: this.loadavg(),
        };
        this.execute(step(this.state, next, env));
      }
    } finally {
      this.stepping = false;
    }
  }

  private execute(out: Output): void {
    // Frames first: they carry the seqs this step assigned.
    for (const o of out.send) this.transmit(o.msg);
    this.schedule(out.wakeAtMs);
    for (const e of out.events) {
      this.logEvent(e);
      for (const l of this.eventListeners) this.callListener(() => l(e));
    }
    for (const d of out.deliver) for (const l of this.deliverListeners) this.callListener(() => l(d));
  }

  /**
   * A listener (the resource layer) that throws is broken, not this node: membership goes on
   * (it is needed to hand the resources over), and the owner decides what the failure means.
   */
  private callListener(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (this.opts.onInternalError) this.opts.onInternalError('listener', e);
      else throw e;
    }
  }

  /**
   * Send one last message (shutdone) through a node that stopped after an internal error: the
   * core may still be able to build it, and a peer told at once takes over at once instead
   * of after deadtime. Best effort: false if the core cannot.
   */
  sendLastWords(msg: Message): boolean {
    try {
      const out = step(
        this.state,
        { kind: 'send', msg },
        {
          monoMs: this.opts.clock.monotonicMs(),
          wallMs: this.opts.clock.wallMs(),
          loadavg: 'n/a',
        },
      );
      for (const o of out.send) this.transmit(o.msg);
      return out.send.length > 0;
    } catch {
      return false;
    }
  }

  private transmit(msg: Message): void {
    const { innerAuth, compression, media, log } = this.opts;
    const keyring = this.keyring;
    let netstring: Uint8Array | undefined;
    let classic: Uint8Array | undefined;
    for (const m of media) {
      let bytes: Uint8Array | undefined;
      if (m.frameFormat === 'netstring') {
        if (!netstring) {
          const r = encodeNetstringFrame(msg, keyring, {
            innerAuth,
            ...(compression ? { compression } : {}),
          });
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
    this.timer = setTimeout(
      () =>
        this.guarded('timer', () => {
          if (this.opts.faults?.throwIn('timer')) throw new Error('test fault: exception in a timer handler');
          this.apply({ kind: 'tick' });
        }),
      Math.ceil(delay),
    );
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
      case 'oldGeneration':
        this.rejected.reject(
          'oldGeneration',
          e.node,
          `should_drop_message: attempted replay attack [${e.node}]? [gen = ${e.generation}, curgen = ${e.known}]`,
        );
        return;
      case 'replay':
        this.rejected.reject(
          'replay',
          e.node,
          `frame seq ${e.seq} of ${e.node} seen before on ${e.link}: replayed or duplicated; dropped, it refreshes nothing`,
          'warn',
        );
        return;
      case 'badNode':
        this.rejected.reject('badNode', e.src, `bad node [${printable(e.src, 100)}] in message`);
        return;
      case 'badMessage':
        this.rejected.reject('badMessage', e.node, `bad message from ${printable(e.node, 100)}: ${e.reason}`);
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
