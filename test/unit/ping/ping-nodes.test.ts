/**
 * Ping nodes in the membership core (heartbeat's ping/ping_group media), driven by the
 * simulator on a virtual clock with a stand-in pinger (an echo answered 1 ms later unless the
 * path is cut). It proves heartbeat's timing and words: one echo per host with every status
 * sent (every keepalive), `Link H:H up.` then `Status update for node H: status ping` on the
 * first answer, `node H: is dead` then `Link H:H dead.` after deadping without one, back to
 * `ping` on the next answer; a ping node never delays comm-up and its death takes nothing
 * over; a ping_group is alive while any host answers; a frozen daemon (its own echoes not
 * sent) gives its ping nodes a fresh chance. The raw core is also stepped directly to check
 * the exact deadline and that a reply from a host nobody asked for changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/lib/random.js';
import { createMembership, pingNodeViews, step } from '../../../src/membership/core.js';
import type { MembershipConfig, MembershipEvent } from '../../../src/membership/model.js';
import { SimCluster } from '../../../src/sim/cluster.js';

const base = {
  nodes: ['alpha', 'bravo'],
  media: ['eth0'],
  keepaliveMs: 1000,
  deadtimeMs: 5000,
  warntimeMs: 3000,
  initdeadMs: 10000,
};

function coreConfig(over: Partial<MembershipConfig> = {}): MembershipConfig {
  return {
    localNode: 'alpha',
    nodes: ['alpha', 'bravo'],
    links: ['eth0'],
    keepaliveMs: 1000,
    deadtimeMs: 5000,
    warntimeMs: 3000,
    initdeadMs: 10000,
    maxRexmitDelayMs: 250,
    hopfudge: 1,
    generation: 7,
    uuid: new Uint8Array(16),
    pingNodes: [
      { name: '10.0.0.254', hosts: ['10.0.0.254'] },
      { name: 'routers', hosts: ['10.0.1.1', '10.0.1.2'] },
    ],
    deadpingMs: 4000,
    ...over,
  };
}

const env = (monoMs: number) => ({ monoMs, wallMs: 1_700_000_000_000 + monoMs, loadavg: 'n/a' });

/** Tick the core every 250 ms from `fromMs` (exclusive) to `toMs`, as the shell would. */
function advance(st: ReturnType<typeof createMembership>, fromMs: number, toMs: number): MembershipEvent[] {
  const events: MembershipEvent[] = [];
  for (let t = fromMs + 250; t <= toMs; t += 250) events.push(...step(st, { kind: 'tick' }, env(t)).events);
  return events;
}

describe('the membership core with ping nodes', () => {
  it('asks for one echo per host with every status it sends', () => {
    const st = createMembership(coreConfig(), seededRandom(1));
    const out = step(st, { kind: 'start' }, env(0));
    // start sends two statuses (init, up): two rounds of echoes.
    expect(out.probes).toEqual(['10.0.0.254', '10.0.1.1', '10.0.1.2', '10.0.0.254', '10.0.1.1', '10.0.1.2']);
    const between = step(st, { kind: 'tick' }, env(500));
    expect(between.probes).toEqual([]);
    const later = step(st, { kind: 'tick' }, env(1000));
    expect(later.probes).toEqual(['10.0.0.254', '10.0.1.1', '10.0.1.2']);
  });

  it('declares a silent ping node dead exactly at deadping, and wakes for it', () => {
    const st = createMembership(coreConfig(), seededRandom(1));
    step(st, { kind: 'start' }, env(0));
    const r = step(st, { kind: 'pingReply', host: '10.0.0.254' }, env(500));
    expect(r.events).toEqual([
      { kind: 'linkStatus', node: '10.0.0.254', link: '10.0.0.254', status: 'up' },
      { kind: 'pingNodeStatus', node: '10.0.0.254', from: 'init', to: 'ping', silentMs: 500 },
    ]);
    // The group's deadline (never answered: start + deadping) comes first.
    expect(r.wakeAtMs).toBe(1000);
    const g = advance(st, 500, 4000);
    expect(g).toContainEqual({
      kind: 'pingNodeStatus',
      node: 'routers',
      from: 'init',
      to: 'dead',
      silentMs: 4000,
    });
    expect(advance(st, 4000, 4250).filter((e) => e.kind === 'pingNodeStatus')).toEqual([]);
    expect(step(st, { kind: 'tick' }, env(4499)).events.filter((e) => e.kind === 'pingNodeStatus')).toEqual(
      [],
    );
    const dead = step(st, { kind: 'tick' }, env(4500));
    expect(dead.events.filter((e) => 'node' in e && e.node === '10.0.0.254')).toEqual([
      { kind: 'pingNodeStatus', node: '10.0.0.254', from: 'ping', to: 'dead', silentMs: 4000 },
      { kind: 'linkStatus', node: '10.0.0.254', link: '10.0.0.254', status: 'dead' },
    ]);
    expect(pingNodeViews(st, 4500).map((v) => [v.name, v.status, v.link])).toEqual([
      ['10.0.0.254', 'dead', 'dead'],
      ['routers', 'dead', 'dead'],
    ]);
  });

  it('keeps a ping_group alive while any of its hosts answers', () => {
    const st = createMembership(coreConfig(), seededRandom(1));
    step(st, { kind: 'start' }, env(0));
    for (let t = 1000; t <= 20_000; t += 1000) {
      // The two hosts take turns answering.
      advance(st, t - 1000, t);
      step(st, { kind: 'pingReply', host: t % 2000 === 0 ? '10.0.1.1' : '10.0.1.2' }, env(t));
    }
    expect(pingNodeViews(st, 20_000).find((v) => v.name === 'routers')?.status).toBe('ping');
  });

  it('ignores an echo reply from a host that is no ping node', () => {
    const st = createMembership(coreConfig(), seededRandom(1));
    step(st, { kind: 'start' }, env(0));
    const r = step(st, { kind: 'pingReply', host: '192.0.2.9' }, env(10));
    expect(r.events).toEqual([]);
    expect(pingNodeViews(st, 10).every((v) => v.status === 'init')).toBe(true);
  });
});

describe('ping nodes in a simulated pair', () => {
  async function pair(extra: Partial<ConstructorParameters<typeof SimCluster>[0]> = {}) {
    const sim = new SimCluster({ seed: 3, ...base, pingNodes: ['10.0.0.254'], deadpingMs: 4000, ...extra });
    await sim.start('alpha');
    await sim.start('bravo');
    await sim.runFor(3000);
    return sim;
  }

  it('shows the ping node as heartbeat does, dies after deadping when cut, and comes back', async () => {
    const sim = await pair();
    const view = () => sim.ha('alpha').pingViews()[0]!;
    expect(view().status).toBe('ping');
    const lines = sim.logOf('alpha');
    const up = lines.findIndex((l) => l.endsWith('Link 10.0.0.254:10.0.0.254 up.'));
    expect(up).toBeGreaterThanOrEqual(0);
    expect(lines[up + 1]).toMatch(/Status update for node 10\.0\.0\.254: status ping$/);

    sim.cutPing('alpha', '10.0.0.254');
    const cutAt = sim.nowMs;
    await sim.runFor(2900);
    expect(view().status).toBe('ping');
    await sim.runFor(1200);
    expect(view().status).toBe('dead');
    const deadAt = sim.events.find(
      (e) => e.node === 'alpha' && e.event.kind === 'pingNodeStatus' && e.event.to === 'dead',
    )!.atMs;
    // The last answer came at most one keepalive before the cut; dead deadping after it.
    expect(deadAt - cutAt).toBeGreaterThan(4000 - 1000 - 1);
    expect(deadAt - cutAt).toBeLessThanOrEqual(4000 + 1);
    const after = sim.logOf('alpha');
    const dead = after.findIndex((l) => l.endsWith('node 10.0.0.254: is dead'));
    expect(after[dead + 2]).toMatch(/Link 10\.0\.0\.254:10\.0\.0\.254 dead\.$/);
    // bravo's path is intact; the peer stays active and nothing moved.
    expect(sim.ha('bravo').pingViews()[0]!.status).toBe('ping');
    expect(sim.statusOf('alpha', 'bravo')).toBe('active');

    sim.cutPing('alpha', '10.0.0.254', false);
    await sim.runFor(1100);
    expect(view().status).toBe('ping');
  });

  it('does not wait for an unreachable ping node to reach comm-up', async () => {
    const sim = new SimCluster({ seed: 5, ...base, pingNodes: ['10.0.0.254'], deadpingMs: 4000 });
    sim.cutPing('alpha', '10.0.0.254');
    sim.cutPing('bravo', '10.0.0.254');
    await sim.start('alpha');
    await sim.start('bravo');
    await sim.runFor(2000);
    expect(sim.statusOf('alpha', 'bravo')).toBe('active');
    expect(sim.ha('alpha').pingViews()[0]!.status).toBe('init');
    await sim.runFor(3000);
    expect(sim.ha('alpha').pingViews()[0]!.status).toBe('dead');
  });

  it('takes nothing over when a ping node dies', async () => {
    const sim = await pair({
      groups: [
        ['alpha', 'ga'],
        ['bravo', 'gb'],
      ],
      mode: 'on',
    });
    await sim.runFor(20_000);
    const where = () => [sim.whereGroup('ga'), sim.whereGroup('gb')];
    expect(where()).toEqual([['alpha'], ['bravo']]);
    sim.cutPing('alpha', '10.0.0.254');
    sim.cutPing('bravo', '10.0.0.254');
    await sim.runFor(10_000);
    expect(sim.ha('alpha').pingViews()[0]!.status).toBe('dead');
    expect(where()).toEqual([['alpha'], ['bravo']]);
  });

  it('gives its ping nodes a fresh chance after the daemon was frozen', async () => {
    const sim = await pair();
    sim.freeze('alpha');
    await sim.runFor(8000);
    sim.thaw('alpha');
    await sim.runFor(50);
    expect(sim.ha('alpha').pingViews()[0]!.status).toBe('ping');
    expect(
      sim.events.some(
        (e) => e.node === 'alpha' && e.event.kind === 'pingNodeStatus' && e.event.to === 'dead',
      ),
    ).toBe(false);
  });
});
