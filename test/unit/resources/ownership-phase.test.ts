/**
 * The ownership core's explicit state (src/resources/ownership.ts): heartbeat's resourcestate
 * as a phase union carrying the data valid only in it, and the invariants asserted after every
 * step. Driven through the pure step function alone, no shell: the phases a start-up, a legacy
 * start and a shutdown go through, with their data (the settle deadline is a wake-up only while
 * `rscrcvd`; what a shutdown would take back lives in its phase), and proof that the
 * invariant checks are on: a state the core cannot reach, forced by hand, fails the next step
 * with the invariant's message.
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../../src/lib/assert.js';
import {
  createOwnership,
  type OwnershipConfig,
  type OwnershipInput,
  ownershipStep,
  shutdownStatus,
  standbyOf,
} from '../../../src/resources/ownership.js';

const CFG: OwnershipConfig = {
  localNode: 'n1',
  nodes: ['n1', 'n2'],
  mode: 'on',
  groups: [
    { key: 'A', node: 'n1' },
    { key: 'B', node: 'n2' },
  ],
  stonith: false,
  rqstDelayMs: 10_000,
};

const from = (fields: Record<string, string>): OwnershipInput => ({ kind: 'message', from: 'n2', fields });

describe('phases', () => {
  it('a common start: init, starting, bothstarting, rscrcvd (the settle is the wake-up), stable', () => {
    const st = createOwnership(CFG);
    expect(st.phase.kind).toBe('init');
    ownershipStep(st, { kind: 'commUp', heard: ['n2'] }, 0);
    expect(st.phase.kind).toBe('starting');
    ownershipStep(st, from({ t: 'starting' }), 100);
    expect(st.phase.kind).toBe('bothstarting');
    const out = ownershipStep(
      st,
      from({ t: 'resource', rsc_hold: 'none', rtype: 'full', isstable: '0' }),
      200,
    );
    expect(st.phase).toEqual({ kind: 'rscrcvd', settleAtMs: 10_200, shutdownQueued: false });
    expect(out.wakeAtMs).toBe(10_200);
    const settled = ownershipStep(st, { kind: 'tick' }, 10_200);
    expect(st.phase).toMatchObject({ kind: 'stable', commUp: true, standby: undefined });
    expect(settled.events).toEqual([{ kind: 'localTransitionCompleted' }]);
    expect(settled.work).toMatchObject([{ kind: 'acquire', purpose: 'reqOurResources', keys: ['A'] }]);
    // No settle deadline outlives its phase.
    expect(settled.wakeAtMs).toBe(Number.POSITIVE_INFINITY);
  });

  it('joining a stable peer ends the negotiation at once, and its settle deadline with it', () => {
    const st = createOwnership(CFG);
    ownershipStep(st, { kind: 'commUp', heard: ['n2'] }, 0);
    const out = ownershipStep(st, from({ t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1' }), 50);
    expect(st.phase.kind).toBe('stable');
    expect(out.wakeAtMs).toBe(Number.POSITIVE_INFINITY);
    expect(out.events).toContainEqual({ kind: 'localAcquisitionCompleted', none: true });
  });

  it('legacy mode negotiates nothing: comm-up brings it straight to stable', () => {
    const st = createOwnership({ ...CFG, mode: 'legacy' });
    ownershipStep(st, { kind: 'commUp' }, 0);
    expect(st.phase).toEqual({ kind: 'stable', commUp: true, standby: undefined, shutdownQueued: false });
    expect(st.iHold).toBe(0);
  });

  it('a standby exchange lives in the stable phase, and a shutdown ends it', () => {
    const st = createOwnership(CFG);
    ownershipStep(st, { kind: 'commUp', heard: ['n2'] }, 0);
    ownershipStep(st, from({ t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' }), 10);
    ownershipStep(st, { kind: 'workDone', result: { id: 1, startFailed: [], stopFailed: [] } }, 20);
    ownershipStep(st, from({ t: 'ask_resources', rsc_hold: 'local', info: 'me' }), 30);
    expect(standbyOf(st)).toEqual({ step: 'other', set: 1, requester: 'n2', deadlineMs: 30 + 3_600_000 });
    ownershipStep(st, { kind: 'shutdown' }, 40);
    expect(st.phase).toEqual({ kind: 'shutdown', commUp: true, heldBefore: 1, runningBefore: ['A'] });
    expect(standbyOf(st)).toBeUndefined();
  });

  it('a shutdown asked while work runs waits in the phase it interrupts, then carries what it would take back', () => {
    const st = createOwnership(CFG);
    ownershipStep(st, { kind: 'commUp', heard: ['n2'] }, 0);
    const out = ownershipStep(
      st,
      from({ t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' }),
      10,
    );
    const acquire = out.work[0]!;
    const queued = ownershipStep(st, { kind: 'shutdown' }, 20);
    expect(queued.events).toEqual([{ kind: 'shutdownDelayed' }]);
    expect(st.phase).toMatchObject({ kind: 'stable', shutdownQueued: true });
    expect(shutdownStatus(st)).toBe('queued');
    const started = ownershipStep(
      st,
      { kind: 'workDone', result: { id: acquire.id, startFailed: [], stopFailed: [] } },
      30,
    );
    expect(st.phase).toEqual({ kind: 'shutdown', commUp: true, heldBefore: 1, runningBefore: ['A'] });
    expect(shutdownStatus(st)).toBe('running');
    expect(started.events.map((e) => e.kind)).toContain('givingUpAll');
    // The release fails: the node holds again what it held, in the stable phase.
    const release = started.work.find((w) => w.purpose === 'shutdownRelease')!;
    ownershipStep(
      st,
      { kind: 'workDone', result: { id: release.id, startFailed: [], stopFailed: ['A'] } },
      40,
    );
    expect(st.phase).toMatchObject({ kind: 'stable', commUp: true, shutdownQueued: false });
    expect(st.iHold).toBe(1);
  });
});

describe('invariants are asserted after every step', () => {
  it('legacy mode holding a class fails the next step', () => {
    const st = createOwnership({ ...CFG, mode: 'legacy' });
    ownershipStep(st, { kind: 'commUp' }, 0);
    st.iHold = 1;
    expect(() => ownershipStep(st, { kind: 'tick' }, 10)).toThrow(AssertionError);
    expect(() => ownershipStep(st, { kind: 'tick' }, 10)).toThrow('ownership: legacy mode holds local');
  });

  it('a standby exchange with a peer counted dead fails the next step', () => {
    const st = createOwnership(CFG);
    ownershipStep(st, { kind: 'commUp', heard: ['n2'] }, 0);
    ownershipStep(st, from({ t: 'resource', rsc_hold: 'none', rtype: 'full', isstable: '1' }), 10);
    expect(st.phase.kind).toBe('stable');
    st.phase = {
      kind: 'stable',
      commUp: true,
      standby: { step: 'other', set: 1, requester: 'n2', deadlineMs: 1e9 },
      shutdownQueued: false,
    };
    st.deadPeers.add('n2');
    expect(() => ownershipStep(st, { kind: 'tick' }, 20)).toThrow('standby exchange with n2, gone');
  });

  it('a queued shutdown with nothing in flight fails the next step', () => {
    const st = createOwnership(CFG);
    st.phase = { kind: 'init', shutdownQueued: true };
    expect(() => ownershipStep(st, { kind: 'tick' }, 0)).toThrow(
      'ownership: a shutdown queued behind no work',
    );
  });
});
