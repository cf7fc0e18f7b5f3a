// Part: the memory medium and network: the compliance suite, then the fault hooks the simulator
// relies on (loss, duplication, delay, jitter, cuts, unicast, loopback), driven by a
// ManualClock and deliverDue() so nothing here waits on real time; plus the lifecycle and
// bounds every medium inherits from MediumBase, which are easiest to pin down in memory.

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.js';
import { seededRandom } from '../../src/lib/random.js';
import {
  type MediumEvent,
  memoryMedium,
  memoryNetwork,
  type ReceivedFrame,
  SendErrorTracker,
} from '../../src/media/index.js';
import { describeMediumCompliance, type MediumPair } from './medium-suite.js';

function memoryPair(frameFormat: 'netstring' | 'classic'): MediumPair {
  const network = memoryNetwork();
  const a = memoryMedium(network, { node: 'alpha', segment: 'lan', link: 'eth0', frameFormat });
  const b = memoryMedium(network, { node: 'bravo', segment: 'lan', link: 'eth1', frameFormat });
  const intruder = memoryMedium(network, { node: 'intruder', segment: 'lan', frameFormat: 'netstring' });
  return {
    a,
    b,
    fromA: /^alpha$/,
    fromB: /^bravo$/,
    garbageSurfaces: true,
    ordered: true,
    largeFrameBytes: 100_000,
    async injectGarbage() {
      // A memory wire carries whatever a medium sends: the intruder's frames are not ours.
      await intruder.open();
      await intruder.send(new Uint8Array([0, 1, 2, 255]));
      await intruder.send(new Uint8Array(0));
    },
    async dispose() {
      await Promise.all([a.close(), b.close(), intruder.close()]);
    },
  };
}

describeMediumCompliance('memory (netstring)', async () => memoryPair('netstring'));
describeMediumCompliance('memory (classic)', async () => memoryPair('classic'));

const frame = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (f: ReceivedFrame): string => new TextDecoder().decode(f.bytes);

/**
 * Pulls whatever is queued right now without waiting (a memory medium delivers synchronously).
 * A next() still pending when the queue ran dry is kept for the following call, so no frame is
 * swallowed by an abandoned promise.
 */
const pending = new WeakMap<AsyncIterator<ReceivedFrame>, Promise<IteratorResult<ReceivedFrame>>>();
async function drain(iterator: AsyncIterator<ReceivedFrame>): Promise<ReceivedFrame[]> {
  const out: ReceivedFrame[] = [];
  for (;;) {
    const next = pending.get(iterator) ?? iterator.next();
    pending.set(iterator, next);
    const result = await Promise.race([next, new Promise<'empty'>((r) => setImmediate(() => r('empty')))]);
    if (result === 'empty') return out;
    pending.delete(iterator);
    if (result.done) return out;
    out.push(result.value);
  }
}

async function manualLan(options: { seed?: number } = {}) {
  const clock = new ManualClock();
  const network = memoryNetwork({ clock, delivery: 'manual', random: seededRandom(options.seed ?? 7) });
  const events: MediumEvent[] = [];
  const onEvent = (e: MediumEvent): void => void events.push(e);
  const a = memoryMedium(network, { node: 'alpha', segment: 'lan' }, { onEvent });
  const b = memoryMedium(network, { node: 'bravo', segment: 'lan' }, { onEvent });
  await Promise.all([a.open(), b.open()]);
  const atA = a.frames()[Symbol.asyncIterator]();
  const atB = b.frames()[Symbol.asyncIterator]();
  return { clock, network, a, b, atA, atB, events };
}

describe('memory network: delivery and faults (virtual clock)', () => {
  it('delivers nothing until deliverDue(), then stamps the virtual time', async () => {
    const { clock, network, a, atB } = await manualLan();
    network.setFaults({ segment: 'lan' }, { delayMs: 100 });
    await a.send(frame('one'));
    expect(network.inFlight).toBe(1);
    expect(network.nextDueAtMs()).toBe(100);
    clock.advance(99);
    expect(network.deliverDue()).toBe(0);
    expect(await drain(atB)).toEqual([]);
    clock.advance(1);
    expect(network.deliverDue()).toBe(1);
    const got = await drain(atB);
    expect(got.map(text)).toEqual(['one']);
    expect(got[0]?.receivedAtMs).toBe(100);
    expect(got[0]?.from).toBe('alpha');
  });

  it('a sender does not hear itself unless loopback is on', async () => {
    const clock = new ManualClock();
    const network = memoryNetwork({ clock, delivery: 'manual' });
    const quiet = memoryMedium(network, { node: 'alpha', segment: 'lan' });
    const loud = memoryMedium(network, { node: 'bravo', segment: 'lan', loopback: true });
    await Promise.all([quiet.open(), loud.open()]);
    const atQuiet = quiet.frames()[Symbol.asyncIterator]();
    const atLoud = loud.frames()[Symbol.asyncIterator]();
    await quiet.send(frame('from-alpha'));
    await loud.send(frame('from-bravo'));
    network.deliverDue();
    expect((await drain(atQuiet)).map(text)).toEqual(['from-bravo']);
    expect((await drain(atLoud)).map(text)).toEqual(['from-alpha', 'from-bravo']);
  });

  it('loss 1 loses everything, duplicate 1 doubles everything', async () => {
    const { network, a, atB } = await manualLan();
    const heal = network.setFaults({ from: 'alpha' }, { loss: 1 });
    await a.send(frame('lost'));
    network.deliverDue();
    expect(await drain(atB)).toEqual([]);
    expect(network.stats.lost).toBe(1);
    heal();
    network.setFaults({ to: 'bravo' }, { duplicate: 1 });
    await a.send(frame('twice'));
    network.deliverDue();
    expect((await drain(atB)).map(text)).toEqual(['twice', 'twice']);
    expect(network.stats.duplicated).toBe(1);
  });

  it('a one-way cut stops one direction only, and heals', async () => {
    const { network, a, b, atA, atB } = await manualLan();
    const heal = network.cut('lan', 'alpha', 'bravo', true);
    await a.send(frame('a->b'));
    await b.send(frame('b->a'));
    network.deliverDue();
    expect(await drain(atB)).toEqual([]);
    expect((await drain(atA)).map(text)).toEqual(['b->a']);
    expect(network.stats.cut).toBe(1);
    heal();
    await a.send(frame('a->b again'));
    network.deliverDue();
    expect((await drain(atB)).map(text)).toEqual(['a->b again']);
  });

  it('a later rule overrides an earlier one on the fields it sets', async () => {
    const { network } = await manualLan();
    network.setFaults({ segment: 'lan' }, { cut: true, delayMs: 5 });
    network.setFaults({ segment: 'lan', from: 'alpha' }, { cut: false });
    expect(network.faultsFor('lan', 'alpha', 'bravo')).toEqual({ cut: false, delayMs: 5 });
    expect(network.faultsFor('lan', 'bravo', 'alpha')).toEqual({ cut: true, delayMs: 5 });
    expect(network.faultsFor('serial', 'alpha', 'bravo')).toEqual({});
  });

  it('jitter reorders frames, the same way for the same seed', async () => {
    const run = async (seed: number): Promise<string[]> => {
      const { clock, network, a, atB } = await manualLan({ seed });
      network.setFaults({}, { delayMs: 10, jitterMs: 50 });
      for (let i = 0; i < 20; i++) await a.send(frame(`f${i}`));
      clock.advance(60);
      expect(network.deliverDue()).toBe(20);
      return (await drain(atB)).map(text);
    };
    const first = await run(42);
    expect(first).toHaveLength(20);
    expect(first).not.toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`));
    expect(await run(42)).toEqual(first);
  });

  it('peers restricts a medium to unicast', async () => {
    const clock = new ManualClock();
    const network = memoryNetwork({ clock, delivery: 'manual' });
    const a = memoryMedium(network, { node: 'alpha', segment: 'lan', peers: ['charlie'] });
    const b = memoryMedium(network, { node: 'bravo', segment: 'lan' });
    const c = memoryMedium(network, { node: 'charlie', segment: 'lan' });
    await Promise.all([a.open(), b.open(), c.open()]);
    const atB = b.frames()[Symbol.asyncIterator]();
    const atC = c.frames()[Symbol.asyncIterator]();
    await a.send(frame('only-charlie'));
    network.deliverDue();
    expect(await drain(atB)).toEqual([]);
    expect((await drain(atC)).map(text)).toEqual(['only-charlie']);
  });

  it('segments are separate wires', async () => {
    const clock = new ManualClock();
    const network = memoryNetwork({ clock, delivery: 'manual' });
    const a = memoryMedium(network, { node: 'alpha', segment: 'lan' });
    const b = memoryMedium(network, { node: 'bravo', segment: 'serial-cable' });
    await Promise.all([a.open(), b.open()]);
    const atB = b.frames()[Symbol.asyncIterator]();
    await a.send(frame('lan-only'));
    network.deliverDue();
    expect(await drain(atB)).toEqual([]);
  });

  it('copies in flight to a medium that closed are dropped and counted', async () => {
    const { clock, network, a, b } = await manualLan();
    network.setFaults({}, { delayMs: 10 });
    await a.send(frame('too-late'));
    await b.close();
    clock.advance(10);
    expect(network.deliverDue()).toBe(0);
    expect(network.stats.dropped).toBe(1);
  });

  it('the in-flight bound drops sends and reports them', async () => {
    const clock = new ManualClock();
    const network = memoryNetwork({ clock, delivery: 'manual', maxInFlight: 2 });
    const events: MediumEvent[] = [];
    const a = memoryMedium(
      network,
      { node: 'alpha', segment: 'lan' },
      { onEvent: (e) => void events.push(e) },
    );
    const b = memoryMedium(network, { node: 'bravo', segment: 'lan' });
    await Promise.all([a.open(), b.open()]);
    for (let i = 0; i < 3; i++) await a.send(frame(`f${i}`));
    expect(network.inFlight).toBe(2);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'send-dropped', reason: 'queue-full' }));
  });

  it('a classic memory medium refuses frames that are not classic', async () => {
    const network = memoryNetwork({ delivery: 'manual' });
    const a = memoryMedium(network, { node: 'alpha', segment: 'cable', frameFormat: 'classic' });
    await a.open();
    await expect(a.send(frame('###\n%%%\n'))).rejects.toMatchObject({ name: 'FrameFormatError' });
    await expect(a.send(frame('>>>\nt=x\n<<<\n'))).resolves.toBeUndefined();
  });

  it('frames over MAXMSG are dropped with an event', async () => {
    const { a, events } = await manualLan();
    await a.send(new Uint8Array(262_144));
    expect(events).toContainEqual(expect.objectContaining({ kind: 'send-dropped', reason: 'too-large' }));
  });
});

describe('MediumBase lifecycle and bounds (through the memory medium)', () => {
  it('open with an aborted signal rejects with its reason and leaves the medium closed', async () => {
    const network = memoryNetwork({ delivery: 'manual' });
    const m = memoryMedium(network, { node: 'alpha', segment: 'lan' });
    const reason = new Error('stop');
    await expect(m.open(AbortSignal.abort(reason))).rejects.toBe(reason);
    await expect(m.send(frame('x'))).rejects.toMatchObject({ name: 'MediumClosedError' });
    const it = m.frames()[Symbol.asyncIterator]();
    await expect(it.next()).resolves.toMatchObject({ done: true });
  });

  it('close during open wins: open rejects with MediumClosedError', async () => {
    const network = memoryNetwork({ delivery: 'manual' });
    const m = memoryMedium(network, { node: 'alpha', segment: 'lan' });
    const opening = m.open();
    const closing = m.close();
    await expect(opening).rejects.toMatchObject({ name: 'MediumClosedError' });
    await closing;
  });

  it('a second concurrent consumer of frames() is a programmer error', async () => {
    const network = memoryNetwork({ delivery: 'manual' });
    const m = memoryMedium(network, { node: 'alpha', segment: 'lan' });
    const first = m.frames()[Symbol.asyncIterator]();
    expect(() => m.frames()[Symbol.asyncIterator]()).toThrow(/already has a consumer/);
    await first.return?.();
    expect(() => m.frames()[Symbol.asyncIterator]()).not.toThrow();
  });

  it('a full receive queue drops new frames and reports them', async () => {
    const clock = new ManualClock();
    const network = memoryNetwork({ clock, delivery: 'manual' });
    const events: MediumEvent[] = [];
    const a = memoryMedium(network, { node: 'alpha', segment: 'lan' });
    const b = memoryMedium(
      network,
      { node: 'bravo', segment: 'lan' },
      { onEvent: (e) => void events.push(e), receiveQueueLimits: { frames: 2, bytes: 1000 } },
    );
    await Promise.all([a.open(), b.open()]);
    for (let i = 0; i < 3; i++) await a.send(frame(`f${i}`));
    network.deliverDue();
    const got = await drain(b.frames()[Symbol.asyncIterator]());
    expect(got.map(text)).toEqual(['f0', 'f1']);
    expect(events).toEqual([
      { kind: 'receive-dropped', medium: 'memory lan', reason: 'queue-full', bytes: 2 },
    ]);
  });

  it('a throwing event sink does not break the medium', async () => {
    const network = memoryNetwork({ delivery: 'manual' });
    const m = memoryMedium(
      network,
      { node: 'alpha', segment: 'lan' },
      {
        onEvent: () => {
          throw new Error('bad sink');
        },
      },
    );
    await m.open();
    await expect(m.send(new Uint8Array(300_000))).resolves.toBeUndefined();
  });
});

describe('SendErrorTracker (heartbeat write_child suppression)', () => {
  it('reports ten failures, goes quiet, reports every 1000th, and announces recovery', () => {
    const events: MediumEvent[] = [];
    const tracker = new SendErrorTracker('bcast eth0', (e) => void events.push(e));
    for (let i = 0; i < 10; i++) tracker.failed('ENETUNREACH', 'Network is unreachable', 100);
    expect(events.filter((e) => e.kind === 'send-failed')).toHaveLength(10);
    expect(events.at(-1)).toEqual({ kind: 'send-errors-suppressed', medium: 'bcast eth0', consecutive: 10 });
    events.length = 0;
    for (let i = 10; i < 999; i++) tracker.failed('ENETUNREACH', 'Network is unreachable', 100);
    expect(events).toEqual([]);
    tracker.failed('ENETUNREACH', 'Network is unreachable', 100);
    expect(events).toHaveLength(1);
    tracker.succeeded();
    expect(events.at(-1)).toEqual({ kind: 'send-recovered', medium: 'bcast eth0', failed: 1000 });
    events.length = 0;
    tracker.failed('EPERM', 'Operation not permitted', 10);
    tracker.succeeded();
    expect(events.map((e) => e.kind)).toEqual(['send-failed']);
  });
});
