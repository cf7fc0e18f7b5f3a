// Part: the imperative shell of the resource layer: feeds the ownership core with membership
// events, cluster messages and operator requests; runs the work it asks for through one XState
// actor per group, in one lane per group (and one per fenced node), so that a stuck group never
// holds up another group's takeover or a fence; keeps the core's timer.

import { type Actor, createActor, fromPromise } from 'xstate';
import type { Message } from '../codec/model.js';
import { getString, stringField } from '../codec/model.js';
import type { Config, ResourceConfig } from '../config/model.js';
import { SHARED_STORAGE } from '../config/validate.js';
import type { GroupInfo, ResourceSet, RscStatusWord, StandbyResult } from '../ipc/view.js';
import type { Clock } from '../lib/clock.js';
import type { Delivered, MembershipEvent } from '../membership/model.js';
import {
  type GroupLogLevel,
  groupMachine,
  type ResourceOpResult,
  SETTLED_STATES,
  type SettledState,
} from './group-machine.js';
import { FOREIGN, LOCAL, mirror, type WorkItem, type WorkResult } from './model.js';
import {
  createOwnership,
  type OwnershipInput,
  type OwnershipOutput,
  type OwnershipState,
  ownershipStep,
  rscStatus,
} from './ownership.js';

export interface ResourceLog {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  crit(msg: string): void;
}

export interface ResourceRunnerPort {
  run(
    resource: ResourceConfig,
    action: 'start' | 'stop' | 'status',
    signal: AbortSignal,
  ): Promise<ResourceOpResult>;
}

/** The STONITH hook (issue 8 plugs real devices in): reset `node`, resolve true on success. */
export interface Fencer {
  readonly configured: boolean;
  fence(node: string): Promise<boolean>;
}

export interface ResourceManagerOptions {
  readonly config: Config;
  readonly runner: ResourceRunnerPort;
  readonly fencer?: Fencer;
  /** Hand a message (user fields) to the membership layer. */
  readonly send: (msg: Message) => void;
  readonly log: ResourceLog;
  readonly clock: Clock;
  /** Did we ever hear from this node (comm-up bookkeeping of the membership layer)? */
  readonly everHeard: (node: string) => boolean;
  readonly stopRetryMax?: number;
  readonly stopRetryDelayMs?: number;
  /** Take over shared-storage groups of a dead peer that could not be fenced (heartbeat does). */
  readonly takeoverWithoutFencing?: boolean;
  /**
   * A fence that has not answered after this long counts as failed (and is retried by the core);
   * the fencer's own timeouts normally end it much sooner. Default 300 s.
   */
  readonly fenceDeadlineMs?: number;
  /** Protocol timers, shortened in tests. */
  readonly timers?: Partial<
    Pick<
      OwnershipState['cfg'],
      'rqstDelayMs' | 'standbyReplyMs' | 'failbackRetryMs' | 'startFailureHandoverMs' | 'fenceRetryMs'
    >
  >;
}

type GroupActor = Actor<typeof groupMachine>;

export class ResourceManager {
  readonly core: OwnershipState;
  private readonly opts: ResourceManagerOptions;
  private readonly actors = new Map<string, GroupActor>();
  private readonly inputs: OwnershipInput[] = [];
  private draining = false;
  /** The last job of each lane ("group KEY", "fence NODE"); a lane runs one job at a time. */
  private readonly lanes = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private shutdownWaiters: ((done: boolean) => void)[] = [];
  private lastRequest: { accepted: boolean; message: string } | undefined;
  private closed = false;

  constructor(opts: ResourceManagerOptions) {
    this.opts = opts;
    const { config } = opts;
    this.core = createOwnership({
      localNode: config.localNode,
      nodes: config.haCf.nodes,
      mode: config.haCf.autoFailback,
      groups: config.groups.map((g) => ({
        key: g.key,
        node: g.node,
        sharedStorage: g.resources.some((r) => SHARED_STORAGE.has(r.script)),
      })),
      stonith: opts.fencer?.configured ?? false,
      ...(opts.takeoverWithoutFencing ? { takeoverWithoutFencing: true } : {}),
      pid: process.pid,
      ...opts.timers,
    });
    for (const g of config.groups) {
      const machine = groupMachine.provide({
        actors: {
          op: fromPromise<
            ResourceOpResult,
            { resource: ResourceConfig; action: 'start' | 'stop' | 'status' }
          >(({ input, signal }) => opts.runner.run(input.resource, input.action, signal)),
        },
        actions: {
          log: (_args, params: { level: GroupLogLevel; message: string }) =>
            opts.log[params.level](params.message),
        },
        delays: { stopRetryDelay: opts.stopRetryDelayMs ?? 1000 },
      });
      const actor = createActor(machine, {
        input: { node: g.node, key: g.key, resources: g.resources, stopRetryMax: opts.stopRetryMax ?? 10 },
      });
      actor.subscribe({ error: (e) => opts.log.crit(`group ${g.key}: internal error: ${String(e)}`) });
      actor.start();
      this.actors.set(g.key, actor);
    }
  }

  // ---- inputs from the membership layer and operators

  onMembershipEvent(e: MembershipEvent): void {
    switch (e.kind) {
      case 'commUp':
        this.apply({ kind: 'commUp' });
        return;
      case 'nodeDead':
        this.apply({ kind: 'peerDead', node: e.node, everHeard: this.opts.everHeard(e.node) });
        return;
      case 'restart':
        this.apply({ kind: 'peerRestart', node: e.node });
        return;
      case 'nodeStatus':
        this.apply({ kind: 'peerStatus', node: e.node, status: e.to });
        // A node first heard after it was declared dead (initdead) is back too.
        if (e.from === 'dead' && e.to !== 'dead') this.apply({ kind: 'peerRestart', node: e.node });
        return;
      case 'partitionHealed':
        this.apply({ kind: 'partitionHealed', node: e.node });
        return;
      default:
        return;
    }
  }

  onDelivered(d: Delivered): void {
    const fields: Record<string, string> = {};
    for (const f of d.msg.fields) {
      if (f.kind === 'string' && !(f.name in fields)) fields[f.name] = getString(d.msg, f.name) ?? '';
    }
    this.apply({ kind: 'message', from: d.from, fields });
  }

  standby(set: ResourceSet): StandbyResult {
    this.lastRequest = undefined;
    this.apply({ kind: 'standby', set });
    return this.lastRequest ?? { accepted: false, message: 'not handled' };
  }

  takeover(set: ResourceSet): StandbyResult {
    this.lastRequest = undefined;
    this.apply({ kind: 'takeover', set });
    return this.lastRequest ?? { accepted: false, message: 'not handled' };
  }

  /** Release everything (file order) and send shutdone; resolves false if that was refused. */
  shutdown(): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.shutdownWaiters.push(resolve);
      this.apply({ kind: 'shutdown' });
    });
  }

  rscStatus(): RscStatusWord {
    return rscStatus(this.core);
  }

  groups(): GroupInfo[] {
    const me = this.opts.config.localNode;
    const peerHolds = mirror(this.core.otherHolds);
    const alivePeer = this.opts.config.haCf.nodes.find(
      (n) => n !== me && !this.core.deadPeers.has(n) && !this.core.departedPeers.has(n),
    );
    return this.opts.config.groups.map((g) => {
      const actor = this.actors.get(g.key)!;
      const value = actor.getSnapshot().value;
      const state =
        typeof value === 'string' ? value : Object.entries(value).map(([k, v]) => `${k}.${String(v)}`)[0]!;
      const cls = g.node === me ? LOCAL : FOREIGN;
      const runningOn =
        state === 'running' || state === 'stopFailed'
          ? me
          : alivePeer && (peerHolds & cls) !== 0
            ? alivePeer
            : undefined;
      return {
        key: g.key,
        preferredNode: g.node,
        resources: g.resources.map((r) => r.spec),
        runningOn,
        state,
      };
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const a of this.actors.values()) a.stop();
  }

  // ---- the core loop

  private apply(input: OwnershipInput): void {
    if (this.closed) return;
    this.inputs.push(input);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.inputs.shift(); next !== undefined; next = this.inputs.shift()) {
        const out = ownershipStep(this.core, next, this.opts.clock.monotonicMs());
        this.execute(out);
      }
    } finally {
      this.draining = false;
    }
  }

  private execute(out: OwnershipOutput): void {
    const { log } = this.opts;
    for (const l of out.log) log[l.level](l.msg);
    if (out.requestAccepted) this.lastRequest = out.requestAccepted;
    for (const m of out.send) this.opts.send({ fields: m.fields.map(([n, v]) => stringField(n, v)) });
    // Queued now, in the core's order: that order is what keeps one group's work in sequence.
    for (const w of out.work) this.dispatch(w);
    if (out.shutdownComplete) for (const w of this.shutdownWaiters.splice(0)) w(true);
    if (!this.core.shuttingDown && this.shutdownWaiters.length > 0 && !this.core.shutdownQueued) {
      // The shutdown was refused (a resource would not stop): tell whoever waits.
      for (const w of this.shutdownWaiters.splice(0)) w(false);
    }
    this.schedule(out.wakeAtMs);
  }

  private schedule(wakeAtMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!Number.isFinite(wakeAtMs) || this.closed) return;
    const delay = Math.max(0, wakeAtMs - this.opts.clock.monotonicMs());
    this.timer = setTimeout(() => this.apply({ kind: 'tick' }), Math.ceil(delay));
  }

  /**
   * Work runs in lanes. Each group has its own: its releases and acquisitions never overlap and
   * keep the core's order, and each runs left to right / right to left in the group's machine.
   * Different groups run at the same time, also the groups of one work item, where heartbeat runs
   * one group after the other in haresources order: in v1 every haresources line is a group of
   * its own — heartbeat moves, fails and hands over groups one by one (ip-request per key, a
   * start failure gives up only its group) and even releases them in file order, not in reverse,
   * so no configuration can rely on one line running before another; resources that depend on
   * each other belong on one line. Each fence has a lane of its own and starts at once. A work
   * item is done (workDone to the core, which tracks it by id) when all its groups are settled;
   * items may therefore finish out of order.
   */
  private dispatch(item: WorkItem): void {
    const done: Promise<WorkResult> =
      item.kind === 'fence'
        ? this.inLane(`fence ${item.node}`, () => this.fence(item))
        : Promise.all(
            item.keys.map((key) =>
              this.inLane(`group ${key}`, async () => {
                const actor = this.actors.get(key);
                return {
                  key,
                  end: actor
                    ? await this.drive(actor, item.kind === 'acquire' ? 'START' : 'STOP')
                    : undefined,
                };
              }),
            ),
          ).then((ends) => ({
            id: item.id,
            startFailed: ends.filter((e) => item.kind === 'acquire' && e.end === 'failed').map((e) => e.key),
            stopFailed: ends.filter((e) => e.end === 'stopFailed').map((e) => e.key),
          }));
    void done.then(
      (result) => this.apply({ kind: 'workDone', result }),
      (e: unknown) => {
        // Not expected (drive and fence do not throw); never leave the core waiting for ever.
        this.opts.log.crit(`resource work ${item.id} (${item.purpose}): internal error: ${String(e)}`);
        this.apply({ kind: 'workDone', result: { id: item.id, startFailed: [], stopFailed: [] } });
      },
    );
  }

  /** Run `job` after every earlier job of `lane`. */
  private inLane<T>(lane: string, job: () => Promise<T>): Promise<T> {
    const before = this.lanes.get(lane) ?? Promise.resolve();
    const run = before.then(job);
    const tail = run.catch(() => undefined);
    this.lanes.set(lane, tail);
    void tail.then(() => {
      if (this.lanes.get(lane) === tail) this.lanes.delete(lane);
    });
    return run;
  }

  private async fence(item: Extract<WorkItem, { kind: 'fence' }>): Promise<WorkResult> {
    const fencer = this.opts.fencer;
    const deadlineMs = this.opts.fenceDeadlineMs ?? 300_000;
    let fenced = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      fenced = fencer
        ? await Promise.race([
            fencer.fence(item.node),
            new Promise<boolean>((resolve) => {
              timer = setTimeout(() => {
                this.opts.log.error(
                  `STONITH of ${item.node}: no answer after ${deadlineMs} ms; counted as failed`,
                );
                resolve(false);
              }, deadlineMs);
            }),
          ])
        : false;
    } catch (e) {
      this.opts.log.error(`STONITH of ${item.node}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    return { id: item.id, startFailed: [], stopFailed: [], fenced };
  }

  private drive(actor: GroupActor, type: 'START' | 'STOP'): Promise<SettledState> {
    const settled = (v: unknown): v is SettledState =>
      typeof v === 'string' && (SETTLED_STATES as readonly string[]).includes(v);
    // A machine that died of an internal error (logged at crit) may have left anything
    // running: the group counts as stuck here, and its lane does not wait for ever.
    if (actor.getSnapshot().status === 'error') return Promise.resolve('stopFailed');
    actor.send({ type });
    const now = actor.getSnapshot();
    if (now.status === 'error') return Promise.resolve('stopFailed');
    if (settled(now.value)) return Promise.resolve(now.value);
    return new Promise<SettledState>((resolve) => {
      const sub = actor.subscribe({
        next: (snap) => {
          if (settled(snap.value)) {
            sub.unsubscribe();
            resolve(snap.value);
          }
        },
        error: () => resolve('stopFailed'),
      });
    });
  }
}
