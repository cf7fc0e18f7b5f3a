/**
 * Built-in ipfail (src/ping/ipfail.ts): first the pure decision, input by input, against
 * heartbeat's ipfail.c (fewer ping nodes than the peer → delayed give-up of everything; more
 * → `you_are_dead`; equal → `abort_giveup`, cancel, or give foreign groups back under
 * auto_failback on) and tsbeat's hysteresis (re-check at fire time; give-back waits deadping).
 * Then whole pairs in the simulator (production HaNode, ownership core and group machines on
 * a virtual clock, the stand-in pinger): cutting one node's path to the ping node moves its
 * groups to the peer within deadping + 2 x keepalive + the takeover; cutting both moves
 * nothing; restoring brings them back under auto_failback on and leaves them under off; a
 * ping node that flaps faster than deadping moves nothing.
 */
import { describe, expect, it } from 'vitest';
import { createIpfail, type IpfailEnv, ipfailStep } from '../../../src/ping/ipfail.js';
import { SimCluster } from '../../../src/sim/cluster.js';

const cfg = {
  localNode: 'alpha',
  peer: 'bravo',
  autoFailback: true,
  giveupDelayMs: 2000,
  givebackDelayMs: 4000,
  retryMs: 1000,
};
const env = (nowMs: number, count: number, over: Partial<IpfailEnv> = {}): IpfailEnv => ({
  nowMs,
  count,
  stable: true,
  holdsForeign: false,
  ...over,
});
const types = (out: ReturnType<typeof ipfailStep>) => out.send.map((m) => m.find(([k]) => k === 't')?.[1]);

describe('the ipfail decision', () => {
  it('asks the peer when a ping node changes or the peer joins', () => {
    const st = createIpfail(cfg);
    const out = ipfailStep(st, { kind: 'pingChanged' }, env(0, 1));
    expect(out.send).toEqual([
      [
        ['t', 'num_ping_nodes'],
        ['num_ping', '1'],
      ],
    ]);
    expect(types(ipfailStep(st, { kind: 'peerJoined' }, env(0, 1)))).toEqual(['num_ping_nodes']);
  });

  it('tells a peer that sees fewer to give up, and gives up itself when it sees fewer', () => {
    const st = createIpfail(cfg);
    expect(
      types(ipfailStep(st, { kind: 'message', type: 'num_ping_nodes', numPing: '0' }, env(0, 1))),
    ).toEqual(['you_are_dead']);
    expect(st.giveup).toBeUndefined();
    const out = ipfailStep(st, { kind: 'message', type: 'num_ping_nodes', numPing: '2' }, env(0, 1));
    expect(out.send).toEqual([]);
    expect(out.wakeAtMs).toBe(2000);
    expect(ipfailStep(st, { kind: 'tick' }, env(1999, 1)).standby).toBeUndefined();
    expect(ipfailStep(st, { kind: 'tick' }, env(2000, 1)).standby).toBe('all');
  });

  it('gives up when told you_are_dead, unless abort_giveup comes first', () => {
    const st = createIpfail(cfg);
    ipfailStep(st, { kind: 'message', type: 'you_are_dead', numPing: undefined }, env(0, 0));
    ipfailStep(st, { kind: 'message', type: 'abort_giveup', numPing: undefined }, env(1000, 0));
    expect(st.giveup).toBeUndefined();
    ipfailStep(st, { kind: 'message', type: 'you_are_dead', numPing: undefined }, env(5000, 0));
    expect(ipfailStep(st, { kind: 'tick' }, env(7000, 0)).standby).toBe('all');
  });

  it('on a balanced count: aborts, cancels a pending give-up, or gives foreign groups back after deadping', () => {
    const st = createIpfail(cfg);
    ipfailStep(st, { kind: 'message', type: 'you_are_dead', numPing: undefined }, env(0, 0));
    const bal = ipfailStep(st, { kind: 'message', type: 'num_ping_nodes', numPing: '0' }, env(500, 0));
    expect(types(bal)).toEqual(['abort_giveup']);
    expect(st.giveup).toBeUndefined();
    const fb = ipfailStep(
      st,
      { kind: 'message', type: 'num_ping_nodes', numPing: '1' },
      env(10_000, 1, { holdsForeign: true }),
    );
    expect(fb.wakeAtMs).toBe(14_000);
    expect(ipfailStep(st, { kind: 'tick' }, env(14_000, 1, { holdsForeign: true })).standby).toBe('foreign');
    const off = createIpfail({ ...cfg, autoFailback: false });
    ipfailStep(
      off,
      { kind: 'message', type: 'num_ping_nodes', numPing: '1' },
      env(0, 1, { holdsForeign: true }),
    );
    expect(off.giveup).toBeUndefined();
  });

  it('does not give up if this node sees as many again when the delay ends (it asks again)', () => {
    const st = createIpfail(cfg);
    ipfailStep(st, { kind: 'message', type: 'num_ping_nodes', numPing: '1' }, env(0, 0));
    const out = ipfailStep(st, { kind: 'tick' }, env(2000, 1));
    expect(out.standby).toBeUndefined();
    expect(types(out)).toEqual(['num_ping_nodes']);
  });

  it('waits while resources are in transition, then gives up', () => {
    const st = createIpfail(cfg);
    ipfailStep(st, { kind: 'message', type: 'num_ping_nodes', numPing: '1' }, env(0, 0));
    const busy = ipfailStep(st, { kind: 'tick' }, env(2000, 0, { stable: false }));
    expect(busy.standby).toBeUndefined();
    expect(busy.wakeAtMs).toBe(3000);
    expect(ipfailStep(st, { kind: 'tick' }, env(3000, 0)).standby).toBe('all');
  });

  it('forgets everything when the peer dies, and reads num_ping like atoi', () => {
    const st = createIpfail(cfg);
    ipfailStep(st, { kind: 'message', type: 'num_ping_nodes', numPing: '3x' }, env(0, 1));
    expect(st.peerCount).toBe(3);
    ipfailStep(st, { kind: 'peerGone' }, env(1, 1));
    expect(st.giveup).toBeUndefined();
    ipfailStep(st, { kind: 'message', type: 'num_ping_nodes', numPing: 'junk' }, env(2, 1));
    expect(st.peerCount).toBe(0);
  });
});

describe('ipfail in a simulated pair (stand-in pinger)', () => {
  const KEEPALIVE = 1000;
  const DEADPING = 4000;
  async function pair(mode: 'on' | 'off', seed = 11): Promise<SimCluster> {
    const sim = new SimCluster({
      seed,
      nodes: ['alpha', 'bravo'],
      media: ['eth0'],
      keepaliveMs: KEEPALIVE,
      deadtimeMs: 5000,
      warntimeMs: 3000,
      initdeadMs: 10000,
      mode,
      groups: [
        ['alpha', 'ga'],
        ['bravo', 'gb'],
      ],
      pingNodes: ['10.0.0.254'],
      deadpingMs: DEADPING,
      ipfail: true,
    });
    await sim.start('alpha');
    await sim.start('bravo');
    await sim.runFor(20_000);
    return sim;
  }
  const where = (sim: SimCluster) => [sim.whereGroup('ga'), sim.whereGroup('gb')];

  async function runUntilMoved(sim: SimCluster, want: string[][], limitMs: number): Promise<number> {
    const start = sim.nowMs;
    while (sim.nowMs - start < limitMs) {
      await sim.runFor(100);
      if (JSON.stringify(where(sim)) === JSON.stringify(want)) return sim.nowMs - start;
    }
    return Number.POSITIVE_INFINITY;
  }

  it.each([1, 2, 3, 4, 5])(
    'seed %i: one node cut from the ping node → its groups move within the grace; restore → back (auto_failback on)',
    async (seed) => {
      const sim = await pair('on', seed);
      expect(where(sim)).toEqual([['alpha'], ['bravo']]);
      sim.cutPing('bravo', '10.0.0.254');
      // deadping + the 2 x keepalive give-up delay + a keepalive of skew + stop/start of a group.
      const moved = await runUntilMoved(sim, [['alpha'], ['alpha']], DEADPING + 2 * KEEPALIVE + 6000);
      expect(moved).toBeLessThanOrEqual(DEADPING + 2 * KEEPALIVE + 6000);
      expect(
        sim
          .logOf('bravo')
          .some(
            (l) =>
              l.includes('giving up because we have less visible ping nodes') ||
              l.includes('sees more ping nodes than we do'),
          ),
      ).toBe(true);
      sim.cutPing('bravo', '10.0.0.254', false);
      const back = await runUntilMoved(sim, [['alpha'], ['bravo']], DEADPING + 10_000);
      expect(back).toBeLessThan(Number.POSITIVE_INFINITY);
      // It stays put once balanced.
      await sim.runFor(20_000);
      expect(where(sim)).toEqual([['alpha'], ['bravo']]);
    },
  );

  it('both nodes cut from the ping node: nothing moves', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const sim = await pair('on', seed);
      sim.cutPing('alpha', '10.0.0.254');
      sim.cutPing('bravo', '10.0.0.254');
      await sim.runFor(30_000);
      expect(where(sim), `seed ${seed}`).toEqual([['alpha'], ['bravo']]);
      expect(sim.node('alpha').ipfail!.giveups, `seed ${seed}`).toEqual([]);
      expect(sim.node('bravo').ipfail!.giveups, `seed ${seed}`).toEqual([]);
    }
  });

  it('restore under auto_failback off leaves the groups on the survivor', async () => {
    const sim = await pair('off');
    sim.cutPing('alpha', '10.0.0.254');
    expect(await runUntilMoved(sim, [['bravo'], ['bravo']], 15_000)).toBeLessThan(Number.POSITIVE_INFINITY);
    sim.cutPing('alpha', '10.0.0.254', false);
    await sim.runFor(30_000);
    expect(where(sim)).toEqual([['bravo'], ['bravo']]);
  });

  it('a ping node that comes back within deadping moves nothing', async () => {
    const sim = await pair('on');
    for (let i = 0; i < 10; i++) {
      sim.cutPing('bravo', '10.0.0.254');
      // Silence is at most a keepalive before the cut + the cut + a keepalive after: < deadping.
      await sim.runFor(DEADPING - 2 * KEEPALIVE - 500);
      sim.cutPing('bravo', '10.0.0.254', false);
      await sim.runFor(1500);
    }
    expect(where(sim)).toEqual([['alpha'], ['bravo']]);
    expect(sim.node('bravo').ipfail!.giveups).toEqual([]);
  });
});
