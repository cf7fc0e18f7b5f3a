// Part: one resource group as an XState v5 machine, with heartbeat's ResourceManager
// semantics (takegroup / givegroup): start left to right, skipping what already runs; on a
// failed start stop the whole group right to left; stop right to left, retrying a failed stop
// every second up to STOPRETRYMAX times, then ask `status`: still running means the group is
// stuck (never silently ignored); not running means the script is not LSB-compliant.
//
// Effects are injected through setup(): `op` runs one resource action (an actor whose abort
// signal kills the script's process group), `log` writes heartbeat's lines, and the delay
// between stop retries is a named delay, so tests drive the machine with a simulated clock.
//
// Every action has a deadline (src/agents/runner.ts); heartbeat has none. What a timed-out
// action counts as — chosen so that a group is never handed over while it may still run:
//
//   action timed out              counts as         then
//   ----------------------------  ----------------  ----------------------------------------------
//   status before a start         not running       start it (a start of a running resource must
//                                                   succeed); if that fails, as a failed start
//   start                         failed start      whole group stopped right to left; `failed`,
//                                                   handed over 30 s later as heartbeat does
//   stop                          failed stop       retried every 1 s up to STOPRETRYMAX, then status
//   status after failed stops     may still run     `stopFailed`: the group stays here, never
//                                                   handed over (heartbeat would reboot); the
//                                                   ownership core tries it again every 30 s
//   any action of a resource      same as timed     (rows above)
//   whose earlier action is       out: refused at
//   still running past its        once
//   deadline (left behind)

import type { ResourceConfig } from '../config/model.js';
import { assign, fromPromise, setup } from '../lib/xstate.js';

export interface ResourceOpInput {
  readonly resource: ResourceConfig;
  readonly action: 'start' | 'stop' | 'status';
}

export interface ResourceOpResult {
  readonly rc: number;
  /** For `status`: heartbeat's rule on the stdout text ("running"/"OK", not "not running"). */
  readonly running?: boolean;
  /** For `status`: no answer (timed out, or refused while an earlier action still runs). */
  readonly unknown?: boolean;
}

export interface GroupContext {
  readonly node: string;
  readonly key: string;
  readonly resources: readonly ResourceConfig[];
  /** Current resource while starting (ascending) or stopping (descending). */
  index: number;
  retries: number;
  readonly stopRetryMax: number;
  /** Set when a start failed: the resource that failed. */
  failedResource: string | undefined;
  /** Set when a stop could not be completed. */
  stuckResource: string | undefined;
  /** The stuck resource's status could not be had (timed out): it may run. */
  stuckUnknown: boolean;
  /** Why the machine stops: an operator/cluster request, or a failed start. */
  stopReason: 'request' | 'startFailure';
}

export type GroupEvent = { type: 'START' } | { type: 'STOP' };

export interface GroupInput {
  readonly node: string;
  readonly key: string;
  readonly resources: readonly ResourceConfig[];
  /** heartbeat's HA_STOPRETRYMAX (default 10; 0 or less = retry forever). */
  readonly stopRetryMax?: number;
}

export type GroupLogLevel = 'info' | 'warn' | 'error' | 'crit';

const describe = (ctx: GroupContext): string => `${ctx.node} ${ctx.resources.map((r) => r.spec).join(' ')}`;

export const groupMachine = setup({
  types: {
    context: {} as GroupContext,
    events: {} as GroupEvent,
    input: {} as GroupInput,
  },
  actors: {
    op: fromPromise<ResourceOpResult, ResourceOpInput>(async () => {
      throw new Error('no resource runner provided');
    }),
  },
  actions: {
    log: (_args, _params: { level: GroupLogLevel; message: string }) => {
      // Provided by the manager.
    },
  },
  delays: {
    stopRetryDelay: 1000,
  },
  guards: {
    moreToStart: ({ context }) => context.index + 1 < context.resources.length,
    moreToStop: ({ context }) => context.index > 0,
    canRetryStop: ({ context }) => context.stopRetryMax <= 0 || context.retries < context.stopRetryMax,
    stoppingAfterFailure: ({ context }) => context.stopReason === 'startFailure',
  },
}).createMachine({
  id: 'group',
  context: ({ input }) => ({
    node: input.node,
    key: input.key,
    resources: input.resources,
    index: 0,
    retries: 0,
    stopRetryMax: input.stopRetryMax ?? 10,
    failedResource: undefined,
    stuckResource: undefined,
    stuckUnknown: false,
    stopReason: 'request',
  }),
  initial: 'stopped',
  states: {
    stopped: {
      on: { START: 'starting', STOP: 'stopped' },
    },
    starting: {
      entry: [
        assign({ index: 0, failedResource: undefined }),
        {
          type: 'log',
          params: ({ context }) => ({
            level: 'info' as const,
            message: `Acquiring resource group: ${describe(context)}`,
          }),
        },
      ],
      initial: 'checking',
      on: { STOP: { target: 'stopping', actions: assign({ stopReason: 'request' as const }) } },
      states: {
        checking: {
          invoke: {
            src: 'op',
            input: ({ context }) => ({
              resource: context.resources[context.index]!,
              action: 'status' as const,
            }),
            onDone: [
              { guard: ({ event }) => event.output.running === true, target: 'next' },
              { target: 'launching' },
            ],
            onError: { target: 'launching' },
          },
        },
        launching: {
          invoke: {
            src: 'op',
            input: ({ context }) => ({
              resource: context.resources[context.index]!,
              action: 'start' as const,
            }),
            onDone: [
              { guard: ({ event }) => event.output.rc === 0, target: 'next' },
              { target: '#group.startFailed' },
            ],
            onError: { target: '#group.startFailed' },
          },
        },
        next: {
          always: [
            {
              guard: 'moreToStart',
              target: 'checking',
              actions: assign({ index: ({ context }) => context.index + 1 }),
            },
            { target: '#group.running' },
          ],
        },
      },
    },
    startFailed: {
      entry: [
        assign({
          failedResource: ({ context }) => context.resources[context.index]?.spec,
          stopReason: 'startFailure' as const,
        }),
        {
          type: 'log',
          params: ({ context }) => ({
            level: 'crit' as const,
            message: `Giving up resources due to failure of ${context.resources[context.index]?.spec ?? '?'}`,
          }),
        },
      ],
      always: 'stopping',
    },
    running: {
      on: {
        START: 'running',
        STOP: { target: 'stopping', actions: assign({ stopReason: 'request' as const }) },
      },
    },
    stopping: {
      entry: [
        assign({
          index: ({ context }) => context.resources.length - 1,
          retries: 0,
          stuckResource: undefined,
          stuckUnknown: false,
        }),
        {
          type: 'log',
          params: ({ context }) => ({
            level: 'info' as const,
            message: `Releasing resource group: ${describe(context)}`,
          }),
        },
      ],
      initial: 'stoppingOne',
      states: {
        stoppingOne: {
          invoke: {
            src: 'op',
            input: ({ context }) => ({
              resource: context.resources[context.index]!,
              action: 'stop' as const,
            }),
            onDone: [
              { guard: ({ event }) => event.output.rc === 0, target: 'next' },
              { target: 'failedOnce' },
            ],
            onError: { target: 'failedOnce' },
          },
        },
        failedOnce: {
          always: [
            {
              guard: 'canRetryStop',
              target: 'waitRetry',
              actions: assign({ retries: ({ context }) => context.retries + 1 }),
            },
            { target: 'verifying' },
          ],
        },
        waitRetry: {
          after: {
            stopRetryDelay: {
              target: 'stoppingOne',
              actions: {
                type: 'log',
                params: ({ context }) => ({
                  level: 'info' as const,
                  message: `Retrying failed stop operation [${context.resources[context.index]?.spec ?? '?'}]`,
                }),
              },
            },
          },
        },
        verifying: {
          invoke: {
            src: 'op',
            input: ({ context }) => ({
              resource: context.resources[context.index]!,
              action: 'status' as const,
            }),
            onDone: [
              { guard: ({ event }) => event.output.running === true, target: '#group.stopFailed' },
              {
                // No answer: it may still run, so it must not be handed over.
                guard: ({ event }) => event.output.unknown === true,
                target: '#group.stopFailed',
                actions: assign({ stuckUnknown: true }),
              },
              {
                target: 'next',
                actions: [
                  {
                    type: 'log',
                    params: ({ context }) => ({
                      level: 'error' as const,
                      message: `Resource script for ${context.resources[context.index]?.spec ?? '?'} probably not LSB-compliant.`,
                    }),
                  },
                  {
                    type: 'log',
                    params: ({ context }) => ({
                      level: 'warn' as const,
                      message: `it (${context.resources[context.index]?.spec ?? '?'}) MUST succeed on a stop when already stopped`,
                    }),
                  },
                ],
              },
            ],
            onError: { target: '#group.stopFailed', actions: assign({ stuckUnknown: true }) },
          },
        },
        next: {
          always: [
            {
              guard: 'moreToStop',
              target: 'stoppingOne',
              actions: assign({ index: ({ context }) => context.index - 1, retries: 0 }),
            },
            { guard: 'stoppingAfterFailure', target: '#group.failed' },
            { target: '#group.stopped' },
          ],
        },
      },
    },
    /** A start failed and the group was stopped again; it stays down here until asked again. */
    failed: {
      on: {
        START: 'starting',
        STOP: { target: 'stopping', actions: assign({ stopReason: 'request' as const }) },
      },
    },
    /** A resource would not stop: the group is kept here, never handed over while it may run. */
    stopFailed: {
      entry: [
        assign({ stuckResource: ({ context }) => context.resources[context.index]?.spec }),
        {
          type: 'log',
          params: ({ context }) => ({
            level: 'crit' as const,
            message: `Resource STOP failure: ${context.resources[context.index]?.spec ?? '?'} ${context.stuckUnknown ? 'may still be running (its status could not be determined)' : 'is still running'}; group ${context.key} stays on this node (heartbeat would reboot the machine; tsbeat tries again later)`,
          }),
        },
      ],
      on: {
        STOP: { target: 'stopping', actions: assign({ stopReason: 'request' as const }) },
        START: 'starting',
      },
    },
  },
});

/** The machine's settled states: a command is finished when one of these is reached. */
export const SETTLED_STATES = ['stopped', 'running', 'failed', 'stopFailed'] as const;
export type SettledState = (typeof SETTLED_STATES)[number];
