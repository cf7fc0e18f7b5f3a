/**
 * Model-based test of a resource group's state machine (src/resources/group-machine.ts).
 * An abstract lifecycle model (stopped, running, failed, stopFailed, with the outcomes of
 * each start/stop attempt as events) is walked by xstate/graph over every simple path; at
 * each step the real machine is driven with a scripted fake runner and must reach the model's
 * state. Along the way every step checks heartbeat's ordering rules: status before start,
 * start left to right, stop right to left (whole group, also after a failed start), stop
 * retries, and the final status check that tells "still running" from "not LSB-compliant".
 * A second part walks the table of what a timed-out action counts as (group-machine.ts): a
 * status with no answer before a start is "not running", a timed-out start is a failed start,
 * a timed-out stop is a failed stop, and no answer to the final status keeps the group here
 * (stopFailed), never "not LSB-compliant, carry on".
 */

import { describe, expect, it } from 'vitest';
import { createActor, createMachine, fromPromise } from 'xstate';
import { createTestModel } from 'xstate/graph';
import type { ResourceConfig } from '../../../src/config/model.js';
import { groupMachine, type ResourceOpResult, SETTLED_STATES } from '../../../src/resources/group-machine.js';

const R1: ResourceConfig = { spec: 'IPaddr2::10.0.0.1/24', script: 'IPaddr2', args: ['10.0.0.1/24'] };
const R2: ResourceConfig = { spec: 'Dummy::svc', script: 'Dummy', args: ['svc'] };

/** What each resource answers; the test sets it before each step. */
interface Script {
  running: Set<string>;
  failStart: Set<string>;
  /** stop fails; `stillRunning` decides what status says afterwards */
  failStop: Map<string, { stillRunning: boolean }>;
}

function harness() {
  const script: Script = { running: new Set(), failStart: new Set(), failStop: new Map() };
  const calls: string[] = [];
  const logs: string[] = [];
  const machine = groupMachine.provide({
    actors: {
      op: fromPromise<ResourceOpResult, { resource: ResourceConfig; action: 'start' | 'stop' | 'status' }>(
        async ({ input }) => {
          const name = input.resource.script;
          calls.push(`${name} ${input.action}`);
          if (input.action === 'status') return { rc: 0, running: script.running.has(name) };
          if (input.action === 'start') {
            if (script.failStart.has(name)) return { rc: 1 };
            script.running.add(name);
            return { rc: 0 };
          }
          const f = script.failStop.get(name);
          if (f) {
            if (!f.stillRunning) script.running.delete(name);
            return { rc: 1 };
          }
          script.running.delete(name);
          return { rc: 0 };
        },
      ),
    },
    actions: {
      log: (_a, p: { level: string; message: string }) => void logs.push(`${p.level}: ${p.message}`),
    },
    delays: { stopRetryDelay: 1 },
  });
  const actor = createActor(machine, {
    input: { node: 'node1', key: R1.spec, resources: [R1, R2], stopRetryMax: 2 },
  });
  actor.start();
  const settle = (type: 'START' | 'STOP') =>
    new Promise<string>((resolve) => {
      calls.length = 0;
      logs.length = 0;
      actor.send({ type });
      const check = (v: unknown) =>
        typeof v === 'string' && (SETTLED_STATES as readonly string[]).includes(v);
      if (check(actor.getSnapshot().value)) return resolve(actor.getSnapshot().value as string);
      const sub = actor.subscribe((s) => {
        if (check(s.value)) {
          sub.unsubscribe();
          resolve(s.value as string);
        }
      });
    });
  return { script, calls, logs, actor, settle };
}

/** The lifecycle as an operator sees it; events are the outcomes of one request. */
const model = createMachine({
  id: 'lifecycle',
  initial: 'stopped',
  states: {
    stopped: { on: { START_OK: 'running', START_FAILS: 'failed', START_ALREADY_RUNNING: 'running' } },
    running: { on: { STOP_OK: 'stopped', STOP_STUCK: 'stopFailed', STOP_NOT_LSB: 'stopped' } },
    failed: { on: { START_OK: 'running', STOP_OK: 'stopped' } },
    stopFailed: { on: { STOP_OK: 'stopped', START_OK: 'running' } },
  },
});

describe('group machine, model-based', () => {
  it('every simple path of the lifecycle model is followed by the real machine', async () => {
    const testModel = createTestModel(model);
    const paths = testModel.getSimplePaths();
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) {
      const h = harness();
      await path.test({
        states: {
          stopped: () => expect(h.actor.getSnapshot().value).toBe('stopped'),
          running: () => {
            expect(h.actor.getSnapshot().value).toBe('running');
            expect([...h.script.running].sort()).toEqual(['Dummy', 'IPaddr2']);
          },
          failed: () => {
            expect(h.actor.getSnapshot().value).toBe('failed');
            expect(h.script.running.size).toBe(0);
          },
          stopFailed: () => expect(h.actor.getSnapshot().value).toBe('stopFailed'),
        },
        events: {
          START_OK: async () => {
            h.script.failStart.clear();
            h.script.failStop.clear();
            await h.settle('START');
            // Status before each start, left to right; what already runs is not started again.
            const starts = h.calls.filter((c) => c.endsWith(' start'));
            for (const c of starts)
              expect(h.calls.indexOf(c.replace(' start', ' status'))).toBeLessThan(h.calls.indexOf(c));
            expect(starts).toEqual(['IPaddr2 start', 'Dummy start'].filter((c) => starts.includes(c)));
          },
          START_ALREADY_RUNNING: async () => {
            h.script.failStart.clear();
            h.script.failStop.clear();
            h.script.running.add('IPaddr2');
            h.script.running.add('Dummy');
            await h.settle('START');
            expect(h.calls).toEqual(['IPaddr2 status', 'Dummy status']);
          },
          START_FAILS: async () => {
            h.script.failStart.clear();
            h.script.failStop.clear();
            h.script.failStart.add('Dummy');
            await h.settle('START');
            // IPaddr2 started, Dummy failed, then the whole group is stopped right to left.
            expect(h.calls).toEqual([
              'IPaddr2 status',
              'IPaddr2 start',
              'Dummy status',
              'Dummy start',
              'Dummy stop',
              'IPaddr2 stop',
            ]);
            expect(h.logs).toContain('crit: Giving up resources due to failure of Dummy::svc');
          },
          STOP_OK: async () => {
            h.script.failStart.clear();
            h.script.failStop.clear();
            h.script.failStop.clear();
            await h.settle('STOP');
            expect(h.calls).toEqual(['Dummy stop', 'IPaddr2 stop']);
          },
          STOP_STUCK: async () => {
            h.script.failStart.clear();
            h.script.failStop.clear();
            h.script.failStop.set('Dummy', { stillRunning: true });
            await h.settle('STOP');
            // 1 attempt + 2 retries, then status says still running: stuck, IPaddr2 untouched.
            expect(h.calls).toEqual(['Dummy stop', 'Dummy stop', 'Dummy stop', 'Dummy status']);
            expect(
              h.logs.filter((l) => l === 'info: Retrying failed stop operation [Dummy::svc]'),
            ).toHaveLength(2);
            expect(
              h.logs.some((l) => l.startsWith('crit: Resource STOP failure: Dummy::svc is still running')),
            ).toBe(true);
          },
          STOP_NOT_LSB: async () => {
            h.script.failStart.clear();
            h.script.failStop.clear();
            h.script.failStop.set('Dummy', { stillRunning: false });
            await h.settle('STOP');
            expect(h.calls).toEqual([
              'Dummy stop',
              'Dummy stop',
              'Dummy stop',
              'Dummy status',
              'IPaddr2 stop',
            ]);
            expect(h.logs).toContain('error: Resource script for Dummy::svc probably not LSB-compliant.');
            expect(h.script.running.has('IPaddr2')).toBe(false);
          },
        },
      });
      h.actor.stop();
    }
  });

  it('STOP on a stopped group and START on a running one change nothing', async () => {
    const h = harness();
    expect(await h.settle('STOP')).toBe('stopped');
    expect(h.calls).toEqual([]);
    await h.settle('START');
    expect(await h.settle('START')).toBe('running');
    expect(h.calls).toEqual([]);
  });
});

/** A runner whose answers per "Script action" the test chooses; default success. */
function timeoutHarness(answers: Record<string, ResourceOpResult>) {
  const calls: string[] = [];
  const logs: string[] = [];
  const machine = groupMachine.provide({
    actors: {
      op: fromPromise<ResourceOpResult, { resource: ResourceConfig; action: 'start' | 'stop' | 'status' }>(
        async ({ input }) => {
          const call = `${input.resource.script} ${input.action}`;
          calls.push(call);
          return answers[call] ?? (input.action === 'status' ? { rc: 0, running: false } : { rc: 0 });
        },
      ),
    },
    actions: {
      log: (_a, p: { level: string; message: string }) => void logs.push(`${p.level}: ${p.message}`),
    },
    delays: { stopRetryDelay: 1 },
  });
  const actor = createActor(machine, {
    input: { node: 'node1', key: R1.spec, resources: [R1, R2], stopRetryMax: 1 },
  });
  actor.start();
  const settle = (type: 'START' | 'STOP') =>
    new Promise<string>((resolve) => {
      actor.send({ type });
      const sub = actor.subscribe((snap) => {
        if (typeof snap.value === 'string' && (SETTLED_STATES as readonly string[]).includes(snap.value)) {
          sub.unsubscribe();
          resolve(snap.value);
        }
      });
    });
  return { calls, logs, actor, settle };
}

const TIMED_OUT = { rc: 1 } as const;
const NO_ANSWER = { rc: 1, running: false, unknown: true } as const;

describe('group machine, timed-out actions', () => {
  it('a status with no answer before a start counts as not running: the resource is started', async () => {
    const h = timeoutHarness({ 'IPaddr2 status': NO_ANSWER });
    expect(await h.settle('START')).toBe('running');
    expect(h.calls).toEqual(['IPaddr2 status', 'IPaddr2 start', 'Dummy status', 'Dummy start']);
  });

  it('a timed-out start is a failed start: the whole group is stopped right to left', async () => {
    const h = timeoutHarness({ 'Dummy start': TIMED_OUT });
    expect(await h.settle('START')).toBe('failed');
    expect(h.calls.slice(-2)).toEqual(['Dummy stop', 'IPaddr2 stop']);
    expect(h.logs).toContain('crit: Giving up resources due to failure of Dummy::svc');
  });

  it('timed-out stops are retried, and no answer to the final status keeps the group here', async () => {
    const h = timeoutHarness({ 'Dummy stop': TIMED_OUT, 'Dummy status': NO_ANSWER });
    await h.settle('START');
    h.calls.length = 0;
    expect(await h.settle('STOP')).toBe('stopFailed');
    // IPaddr2 (left of Dummy) is never stopped: the group stays whole on this node.
    expect(h.calls).toEqual(['Dummy stop', 'Dummy stop', 'Dummy status']);
    expect(h.logs).not.toContain('error: Resource script for Dummy::svc probably not LSB-compliant.');
    expect(h.logs).toContain(
      'crit: Resource STOP failure: Dummy::svc may still be running (its status could not be determined); group IPaddr2::10.0.0.1/24 stays on this node (heartbeat would reboot the machine; tsbeat tries again later)',
    );
    expect(h.actor.getSnapshot().context.stuckResource).toBe('Dummy::svc');
  });

  it('a start that timed out and whose stops time out too leaves the group stuck here, not failed', async () => {
    const h = timeoutHarness({
      'Dummy start': TIMED_OUT,
      'Dummy stop': TIMED_OUT,
      'Dummy status': NO_ANSWER,
    });
    expect(await h.settle('START')).toBe('stopFailed');
  });
});
