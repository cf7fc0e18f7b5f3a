// Part: the shell of built-in ipfail: feeds the pure ipfail core (./ipfail.ts) from one
// HaNode's events and deliveries, sends its messages through the node, runs its timer and
// turns a give-up into hb_standby. The daemon and the simulator attach it the same way.

import type { Message } from '../codec/model.js';
import { getString, stringField } from '../codec/model.js';
import type { TimerClock } from '../lib/clock.js';
import type { Delivered, MembershipEvent } from '../membership/model.js';
import type { HaNode } from '../node/ha-node.js';
import { createIpfail, type IpfailConfig, type IpfailInput, type IpfailState, ipfailStep } from './ipfail.js';

/** heartbeat's API client id of ipfail (`signon(hb, "ipfail")`). */
export const IPFAIL_CLIENT = 'ipfail';

export interface IpfailDriverOptions {
  readonly node: HaNode;
  readonly clock: TimerClock;
  readonly cfg: IpfailConfig;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/** The running ipfail of one node; `stop()` at shutdown. */
export class IpfailDriver {
  private readonly opts: IpfailDriverOptions;
  readonly state: IpfailState;
  private timer: unknown;
  private stopped = false;
  /** Give-ups done (hb_standby sent), for tests and `tsbeat status`. */
  readonly giveups: { atMs: number; set: string; accepted: boolean }[] = [];

  constructor(opts: IpfailDriverOptions) {
    this.opts = opts;
    this.state = createIpfail(opts.cfg);
    opts.node.onEvent((e) => this.event(e));
    opts.node.onDeliver((d) => this.delivered(d));
  }

  private event(e: MembershipEvent): void {
    const peer = this.opts.cfg.peer;
    switch (e.kind) {
      case 'pingNodeStatus':
        if (e.to === 'ping' || e.from === 'ping') this.step({ kind: 'pingChanged' });
        return;
      case 'commUp':
        this.join();
        return;
      case 'nodeStatus':
        if (e.node !== peer) return;
        if (e.to === 'dead') this.step({ kind: 'peerGone' });
        else if (e.to === 'active' && this.opts.node.state.commUp) this.join();
        return;
      case 'nodeDead':
        if (e.node === peer) this.step({ kind: 'peerGone' });
        return;
      default:
        return;
    }
  }

  /** Say our ipfail is here (heartbeat sends this when an API client signs on). */
  private join(): void {
    this.announce('join');
  }

  /** Say our ipfail is gone (a clean stop: heartbeat sends this when a client signs off). */
  leave(): void {
    if (!this.stopped) this.announce('leave');
  }

  private announce(st: 'join' | 'leave'): void {
    this.post({
      fields: [
        stringField('t', 'hbapi-clstat'),
        stringField('st', st),
        stringField('from_id', IPFAIL_CLIENT),
        stringField('info', 'tsbeat built-in ipfail'),
      ],
    });
  }

  private delivered(d: Delivered): void {
    if (d.from !== this.opts.cfg.peer) return;
    if (d.type === 'hbapi-clstat') {
      if (getString(d.msg, 'st') === 'join' && getString(d.msg, 'from_id') === IPFAIL_CLIENT)
        this.step({ kind: 'peerJoined' });
      return;
    }
    if (d.type === 'num_ping_nodes' || d.type === 'you_are_dead' || d.type === 'abort_giveup') {
      this.step({ kind: 'message', type: d.type, numPing: getString(d.msg, 'num_ping') });
    }
  }

  private post(msg: Message): void {
    // Sent from a listener: the node queues it behind the step that caused it.
    this.opts.node.send(msg);
  }

  private step(input: IpfailInput): void {
    if (this.stopped) return;
    const node = this.opts.node;
    const rsc = node.rscStatus();
    const out = ipfailStep(this.state, input, {
      nowMs: this.opts.clock.monotonicMs(),
      count: node.pingViews().filter((p) => p.status === 'ping').length,
      stable: rsc !== 'transition',
      holdsForeign: rsc === 'foreign' || rsc === 'all',
    });
    for (const l of out.log) this.opts.log(l.level, l.msg);
    for (const m of out.send) {
      this.post({
        fields: [
          stringField('dest', this.opts.cfg.peer),
          ...m.map(([k, v]) => stringField(k, v)),
          stringField('from_id', IPFAIL_CLIENT),
          stringField('to_id', IPFAIL_CLIENT),
        ],
      });
    }
    if (out.standby) {
      const r = node.standby(out.standby);
      this.giveups.push({ atMs: this.opts.clock.monotonicMs(), set: out.standby, accepted: r.accepted });
      this.opts.log(r.accepted ? 'info' : 'warn', `ipfail: hb_standby ${out.standby}: ${r.message}`);
    }
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (Number.isFinite(out.wakeAtMs)) {
      const delay = Math.max(0, out.wakeAtMs - this.opts.clock.monotonicMs());
      this.timer = this.opts.clock.setTimeout(() => this.step({ kind: 'tick' }), Math.ceil(delay));
    }
  }

  stop(): void {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
