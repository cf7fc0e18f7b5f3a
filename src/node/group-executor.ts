// Part: the resource layer's executor: runs the work the ownership core asks for through one
// XState actor per group, in one lane per group (and one per fenced node), so that a stuck
// group never holds up another group's takeover or a fence; gives a fence a hard deadline.
// Timers are injected: the daemon passes real ones, the simulator its virtual clock.

import type { ResourceConfig, ResourceGroupConfig } from '../config/model.js';
import type { Timers } from '../lib/clock.js';
import { type Actor, createActor, fromPromise } from '../lib/xstate.js';
import {
  type GroupLogLevel,
  groupMachine,
  type ResourceOpResult,
  SETTLED_STATES,
  type SettledState,
} from '../resources/group-machine.js';
import type { WorkItem, WorkResult } from '../resources/model.js';

/** Where the resource layer's log lines go (a subset of the daemon's Log). */
export interface ResourceLog {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  crit(msg: string): void;
}

/** The agent executor: one action of one resource (src/agents/runner.ts in the daemon). */
export interface ResourceRunnerPort {
  run(
    resource: ResourceConfig,
    action: 'start' | 'stop' | 'status',
    signal: AbortSignal,
  ): Promise<ResourceOpResult>;
  /**
   * A group's start is about to run (its lane is free): the runner may do the first resources'
   * work ahead, provided their own status and start then behave exactly as without it
   * (src/agents/early-start.ts). Synchronous; must not throw.
   */
  prepareStart?(resources: readonly ResourceConfig[]): void;
  /** That start is over (done, failed or abandoned): work done ahead and not used is undone. */
  endStart?(resources: readonly ResourceConfig[]): void;
}

/** The STONITH hook: reset `node`, resolve true on success. */
export interface Fencer {
  readonly configured: boolean;
  fence(node: string): Promise<boolean>;
}

export interface GroupExecutorOptions {
  readonly groups: readonly ResourceGroupConfig[];
  readonly runner: ResourceRunnerPort;
  readonly fencer?: Fencer;
  readonly log: ResourceLog;
  readonly timers: Timers;
  readonly stopRetryMax?: number;
  readonly stopRetryDelayMs?: number;
  /**
   * A fence that has not answered after this long counts as failed (and is retried by the core);
   * the fencer's own timeouts normally end it much sooner. Default 300 s.
   */
  readonly fenceDeadlineMs?: number;
}

type GroupActor = Actor<typeof groupMachine>;

export class GroupExecutor {
  private readonly opts: GroupExecutorOptions;
  private readonly actors = new Map<string, GroupActor>();
  /** The last job of each lane ("group KEY", "fence NODE"); a lane runs one job at a time. */
  private readonly lanes = new Map<string, Promise<unknown>>();
  private readonly groups = new Map<string, ResourceGroupConfig>();

  constructor(opts: GroupExecutorOptions) {
    this.opts = opts;
    for (const g of opts.groups) this.groups.set(g.key, g);
    for (const g of opts.groups) {
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
        clock: {
          setTimeout: (fn: (...args: unknown[]) => void, ms: number) => opts.timers.setTimeout(fn, ms),
          clearTimeout: (h: unknown) => opts.timers.clearTimeout(h),
        },
      });
      actor.subscribe({ error: (e) => opts.log.crit(`group ${g.key}: internal error: ${String(e)}`) });
      actor.start();
      this.actors.set(g.key, actor);
    }
  }

  /** The state word of a group's machine (`running`, `starting.launching`...). */
  stateOf(key: string): string | undefined {
    const actor = this.actors.get(key);
    if (!actor) return undefined;
    const value = actor.getSnapshot().value;
    return typeof value === 'string' ? value : Object.entries(value).map(([k, v]) => `${k}.${String(v)}`)[0]!;
  }

  close(): void {
    for (const a of this.actors.values()) a.stop();
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
   * item is done (`done`, which the core tracks by id) when all its groups are settled; items
   * may therefore finish out of order. Call in the core's order: that order is what keeps one
   * group's work in sequence.
   */
  dispatch(item: WorkItem, done: (result: WorkResult) => void): void {
    const result: Promise<WorkResult> =
      item.kind === 'fence'
        ? this.inLane(`fence ${item.node}`, () => this.fence(item))
        : Promise.all(
            item.keys.map((key) => {
              const group = item.kind === 'acquire' ? this.groups.get(key) : undefined;
              // Work ahead only when the start runs now, not after an earlier job of the group.
              if (group && !this.lanes.has(`group ${key}`)) this.prepareStart(group.resources);
              return this.inLane(`group ${key}`, async () => {
                const actor = this.actors.get(key);
                const end = actor
                  ? await this.drive(actor, item.kind === 'acquire' ? 'START' : 'STOP')
                  : undefined;
                if (group) this.endStart(group.resources);
                return { key, end };
              });
            }),
          ).then((ends) => ({
            id: item.id,
            startFailed: ends.filter((e) => item.kind === 'acquire' && e.end === 'failed').map((e) => e.key),
            stopFailed: ends.filter((e) => e.end === 'stopFailed').map((e) => e.key),
          }));
    void result.then(done, (e: unknown) => {
      // Not expected (drive and fence do not throw); never leave the core waiting for ever.
      this.opts.log.crit(`resource work ${item.id} (${item.purpose}): internal error: ${String(e)}`);
      done({ id: item.id, startFailed: [], stopFailed: [] });
    });
  }

  private prepareStart(resources: readonly ResourceConfig[]): void {
    try {
      this.opts.runner.prepareStart?.(resources);
    } catch (e) {
      this.opts.log.error(`starting ahead: internal error: ${String(e)}`);
    }
  }

  private endStart(resources: readonly ResourceConfig[]): void {
    try {
      this.opts.runner.endStart?.(resources);
    } catch (e) {
      this.opts.log.error(`starting ahead: internal error: ${String(e)}`);
    }
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
    const { fencer, timers } = this.opts;
    const deadlineMs = this.opts.fenceDeadlineMs ?? 300_000;
    let fenced = false;
    let timer: unknown;
    try {
      fenced = fencer
        ? await Promise.race([
            fencer.fence(item.node),
            new Promise<boolean>((resolve) => {
              timer = timers.setTimeout(() => {
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
      if (timer !== undefined) timers.clearTimeout(timer);
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
