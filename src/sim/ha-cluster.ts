// Part: a deterministic simulator of whole tsbeat nodes: membership cores (SimCluster) with
// the resource ownership core on top and a fake executor whose group starts/stops take
// virtual time and can be made to fail. Used to replay heartbeat's protocol traces and to
// check safety (no group on two nodes) under faults.

import { getString, type Message, stringField } from '../codec/model.js';
import type { AutoFailback } from '../config/model.js';
import type { Delivered, MembershipEvent } from '../membership/model.js';
import { holdWord, type WorkItem } from '../resources/model.js';
import {
  createOwnership,
  type OwnershipInput,
  type OwnershipState,
  ownershipStep,
  rscStatus,
} from '../resources/ownership.js';
import { SimCluster, type SimOptions, type SimUpper } from './cluster.js';

export interface HaSimOptions extends SimOptions {
  readonly mode: AutoFailback;
  /** haresources: [preferred node, group key]. */
  readonly groups: readonly (readonly [string, string])[];
  readonly stonith?: boolean;
  /** Groups (keys) that guard shared storage. */
  readonly sharedStorage?: readonly string[];
  readonly takeoverWithoutFencing?: boolean;
  /** Virtual time one group start or stop takes. */
  readonly opMs?: number;
}

export interface RmLogLine {
  readonly atMs: number;
  readonly node: string;
  readonly level: string;
  readonly msg: string;
}

/** Where each group runs: the machines' real state, independent of what nodes believe. */
export class Machines {
  private readonly running = new Map<string, Set<string>>();
  on(node: string): Set<string> {
    let s = this.running.get(node);
    if (!s) {
      s = new Set();
      this.running.set(node, s);
    }
    return s;
  }
  where(key: string): string[] {
    return [...this.running.entries()].filter(([, s]) => s.has(key)).map(([n]) => n);
  }
}

class RmNode implements SimUpper {
  readonly name: string;
  readonly core: OwnershipState;
  private readonly sim: HaSim;
  private readonly inputs: OwnershipInput[] = [];
  private draining = false;
  private wakeAt = Number.POSITIVE_INFINITY;
  private readonly queue: WorkItem[] = [];
  private current: { item: WorkItem; doneAtMs: number } | undefined;
  readonly requests: { accepted: boolean; message: string }[] = [];
  shutdownComplete = false;

  constructor(sim: HaSim, name: string) {
    this.sim = sim;
    this.name = name;
    this.core = createOwnership({
      localNode: name,
      nodes: sim.opts.nodes,
      mode: sim.opts.mode,
      groups: sim.opts.groups.map(([node, key]) => ({
        node,
        key,
        sharedStorage: sim.opts.sharedStorage?.includes(key) ?? false,
      })),
      stonith: sim.opts.stonith ?? false,
      ...(sim.opts.takeoverWithoutFencing ? { takeoverWithoutFencing: true } : {}),
    });
  }

  onOutput(events: readonly MembershipEvent[], deliveries: readonly Delivered[]): void {
    for (const e of events) {
      if (e.kind === 'nodeStatus') this.push({ kind: 'peerStatus', node: e.node, status: e.to });
      if (e.kind === 'commUp') this.push({ kind: 'commUp' });
      else if (e.kind === 'nodeDead')
        this.push({
          kind: 'peerDead',
          node: e.node,
          everHeard: this.sim.cluster.state(this.name).peers.get(e.node)?.heard ?? false,
        });
      else if (e.kind === 'restart' || (e.kind === 'nodeStatus' && e.from === 'dead' && e.to !== 'dead'))
        this.push({ kind: 'peerRestart', node: e.node });
      else if (e.kind === 'partitionHealed') this.push({ kind: 'partitionHealed', node: e.node });
    }
    for (const d of deliveries) {
      const fields: Record<string, string> = {};
      for (const f of d.msg.fields)
        if (f.kind === 'string' && !(f.name in fields)) fields[f.name] = getString(d.msg, f.name) ?? '';
      this.push({ kind: 'message', from: d.from, fields });
    }
  }

  push(input: OwnershipInput): void {
    this.inputs.push(input);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let i = this.inputs.shift(); i !== undefined; i = this.inputs.shift()) {
        const out = ownershipStep(this.core, i, this.sim.cluster.nowMs);
        for (const l of out.log)
          this.sim.log.push({ atMs: this.sim.cluster.nowMs, node: this.name, level: l.level, msg: l.msg });
        if (out.requestAccepted) this.requests.push(out.requestAccepted);
        if (out.shutdownComplete) this.shutdownComplete = true;
        for (const m of out.send) {
          const msg: Message = { fields: m.fields.map(([n, v]) => stringField(n, v)) };
          this.sim.cluster.send(this.name, msg);
        }
        this.queue.push(...out.work);
        this.wakeAt = out.wakeAtMs;
        this.startNext();
      }
    } finally {
      this.draining = false;
    }
  }

  private startNext(): void {
    if (this.current) return;
    const item = this.queue.shift();
    if (!item) return;
    const ms = item.kind === 'fence' ? 1000 : (this.sim.opts.opMs ?? 50) * Math.max(1, item.keys.length);
    this.current = { item, doneAtMs: this.sim.cluster.nowMs + ms };
  }

  wakeAtMs(): number {
    return Math.min(this.wakeAt, this.current?.doneAtMs ?? Number.POSITIVE_INFINITY);
  }

  tick(): void {
    const now = this.sim.cluster.nowMs;
    if (this.current && now >= this.current.doneAtMs) {
      const { item } = this.current;
      this.current = undefined;
      this.push({ kind: 'workDone', result: this.sim.perform(this.name, item) });
    }
    if (this.wakeAt <= now) this.push({ kind: 'tick' });
  }
}

export class HaSim {
  readonly opts: HaSimOptions;
  readonly cluster: SimCluster;
  readonly machines = new Machines();
  readonly log: RmLogLine[] = [];
  readonly rm = new Map<string, RmNode>();
  /** Groups whose start fails on a node: `${node}:${key}`. */
  readonly failStart = new Set<string>();
  readonly failStop = new Set<string>();
  fenceWorks = true;
  readonly fenced: { atMs: number; by: string; node: string }[] = [];

  constructor(opts: HaSimOptions) {
    this.opts = opts;
    this.cluster = new SimCluster(opts);
  }

  /** Start a node's daemon (a fresh resource layer, a new generation). */
  start(name: string): void {
    const rm = new RmNode(this, name);
    this.rm.set(name, rm);
    this.cluster.attach(name, rm);
    this.cluster.start(name);
  }

  /** SIGKILL of the daemon; with `machine`, the whole machine dies and its resources with it. */
  kill(name: string, opts: { machine?: boolean } = {}): void {
    this.cluster.kill(name);
    this.cluster.attach(name, undefined);
    if (opts.machine) this.machines.on(name).clear();
  }

  standby(name: string, set: 'all' | 'local' | 'foreign' | 'failback'): void {
    this.rm.get(name)!.push({ kind: 'standby', set });
  }

  takeover(name: string, set: 'all' | 'local' | 'foreign' | 'failback'): void {
    this.rm.get(name)!.push({ kind: 'takeover', set });
  }

  shutdown(name: string): void {
    this.rm.get(name)!.push({ kind: 'shutdown' });
  }

  runFor(ms: number): void {
    this.cluster.runFor(ms);
  }

  /** The executor: what a group start/stop/fence does on the simulated machine. */
  perform(
    node: string,
    item: WorkItem,
  ): { id: number; startFailed: string[]; stopFailed: string[]; fenced?: boolean } {
    const here = this.machines.on(node);
    if (item.kind === 'fence') {
      if (this.fenceWorks) {
        this.fenced.push({ atMs: this.cluster.nowMs, by: node, node: item.node });
        // A reset machine runs nothing, and its daemon is gone.
        this.machines.on(item.node).clear();
        if (this.cluster.isUp(item.node)) this.kill(item.node, { machine: true });
      }
      return { id: item.id, startFailed: [], stopFailed: [], fenced: this.fenceWorks };
    }
    const startFailed: string[] = [];
    const stopFailed: string[] = [];
    for (const key of item.keys) {
      if (item.kind === 'acquire') {
        if (this.failStart.has(`${node}:${key}`)) startFailed.push(key);
        else here.add(key);
      } else if (this.failStop.has(`${node}:${key}`) && here.has(key)) {
        stopFailed.push(key);
      } else {
        here.delete(key);
      }
    }
    return { id: item.id, startFailed, stopFailed };
  }

  holds(name: string): string {
    return holdWord(this.rm.get(name)!.core.iHold);
  }

  rscstatus(name: string): string {
    return rscStatus(this.rm.get(name)!.core);
  }

  /** Groups running on each node, sorted: what an operator would see with ip addr / ps. */
  where(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const n of this.opts.nodes) out[n] = [...this.machines.on(n)].sort();
    return out;
  }

  logOf(node: string): string[] {
    return this.log.filter((l) => l.node === node).map((l) => l.msg);
  }

  /** Message types a node put on the wire, with their resource fields, for protocol traces. */
  trace(node?: string): string[] {
    return this.cluster.wire
      .filter((w) => node === undefined || w.from === node)
      .map((w) => {
        const t = getString(w.msg, 't') ?? '';
        if (t === 'status' || t.startsWith('NS_') || t === 'reqnodes' || t === 'repnodes') return '';
        const extra = ['rsc_hold', 'isstable', 'info', 'ipaddr', 'dest', 'result']
          .map((k) => [k, getString(w.msg, k)] as const)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${v}`);
        return `${w.from} ${t}${extra.length ? ` ${extra.join(' ')}` : ''}`;
      })
      .filter(Boolean);
  }
}
