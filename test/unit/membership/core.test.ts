/**
 * The membership core, driven by the deterministic simulator on a virtual clock: start-up
 * and comm-up (reqnodes/repnodes), death exactly at deadtime, initdead for a node never
 * heard, restart with a new generation, per-link liveness, late-heartbeat warnings,
 * retransmission under loss, ACKs, healed partitions, and the two time hazards: a wall-clock
 * jump changes nothing, and a frozen daemon gives its peers a fresh chance.
 */
import { describe, expect, it } from 'vitest';
import { getString, messageFromPairs } from '../../../src/codec/model.js';
import { seededRandom } from '../../../src/lib/random.js';
import { createMembership, step } from '../../../src/membership/core.js';
import type { Env } from '../../../src/membership/model.js';
import { SimCluster } from '../../../src/sim/cluster.js';

const base = {
  nodes: ['alpha', 'bravo'],
  media: ['eth0'],
  keepaliveMs: 1000,
  deadtimeMs: 5000,
  warntimeMs: 3000,
  initdeadMs: 10000,
};

async function pair(
  seed = 1,
  extra: Partial<ConstructorParameters<typeof SimCluster>[0]> = {},
): Promise<SimCluster> {
  const sim = new SimCluster({ seed, ...base, ...extra });
  await sim.start('alpha');
  await sim.start('bravo');
  await sim.runFor(3000);
  return sim;
}

describe('start-up', () => {
  it('two nodes reach active for each other via reqnodes/repnodes', async () => {
    const sim = await pair();
    expect(sim.statusOf('alpha', 'bravo')).toBe('active');
    expect(sim.statusOf('bravo', 'alpha')).toBe('active');
    expect(sim.statusOf('alpha', 'alpha')).toBe('active');
    expect(sim.eventsOf('commUp')).toHaveLength(2);
    const types = sim.sentTypes('alpha');
    expect(types.slice(0, 2)).toEqual(['status', 'status']);
    expect(types).toContain('reqnodes');
    expect(types).toContain('repnodes');
    const first = sim.wire.find((w) => w.from === 'alpha')!.msg;
    expect(getString(first, 'st')).toBe('init');
    expect(getString(first, 'seq')).toBe('1');
    const rep = sim.wire.find((w) => getString(w.msg, 't') === 'repnodes')!.msg;
    expect(getString(rep, 'nodelist')).toBe('alpha bravo ');
    expect(getString(rep, 'delnodelist')).toBe(' ');
    expect(rep.fields[0]?.name).toBe('dest');
  });

  it('sends the control fields in heartbeat order, with dt in hex', async () => {
    const sim = await pair();
    const status = sim.wire.find((w) => w.from === 'alpha' && getString(w.msg, 't') === 'status')!.msg;
    expect(status.fields.map((f) => f.name)).toEqual([
      't',
      'st',
      'dt',
      'protocol',
      'src',
      'srcuuid',
      'seq',
      'hg',
      'ts',
      'ld',
      'ttl',
    ]);
    expect(getString(status, 'dt')).toBe((5000 + 2000).toString(16)); // deadtime + 2 s while young
    expect(getString(status, 'ttl')).toBe('3');
    const ack = sim.wire.find((w) => getString(w.msg, 't') === 'NS_ackmsg');
    if (ack)
      expect(ack.msg.fields.map((f) => f.name)).toEqual([
        't',
        'dest',
        'ackseq',
        'destuuid',
        'src',
        'srcuuid',
        'hg',
        'ts',
        'ttl',
      ]);
  });

  it('a node alone declares its never-heard peer dead after initdead, then comes up without reqnodes', async () => {
    const sim = new SimCluster({ seed: 2, ...base });
    await sim.start('alpha');
    await sim.runFor(9999);
    expect(sim.statusOf('alpha', 'bravo')).toBe('init');
    await sim.runFor(2);
    const dead = sim.eventsOf('nodeDead', 'alpha');
    expect(dead).toHaveLength(1);
    expect(dead[0]!.atMs).toBe(10000);
    expect(sim.statusOf('alpha', 'alpha')).toBe('active');
    expect(sim.sentTypes('alpha')).not.toContain('reqnodes');
  });
});

describe('death and return', () => {
  it('declares a killed peer dead exactly deadtime after its last heartbeat', async () => {
    const sim = await pair(3);
    await sim.runFor(7000); // past the young-dt window: bravo now advertises dt = deadtime
    sim.kill('bravo');
    const lastStatus = sim.state('alpha').peers.get('bravo')!.lastStatusAtMs!;
    await sim.runFor(10000);
    const dead = sim.eventsOf('nodeDead', 'alpha');
    expect(dead).toHaveLength(1);
    expect(dead[0]!.atMs - lastStatus).toBe(5000);
    expect(sim.statusOf('alpha', 'bravo')).toBe('dead');
    expect(sim.eventsOf('linkStatus', 'alpha').at(-1)?.event).toMatchObject({
      node: 'bravo',
      link: 'eth0',
      status: 'dead',
    });
  });

  it('a restarted peer comes back with a new generation and becomes active', async () => {
    const sim = await pair(4);
    await sim.runFor(7000);
    sim.kill('bravo');
    await sim.runFor(8000);
    const oldGen = sim.state('alpha').peers.get('bravo')!.generation!;
    await sim.start('bravo');
    await sim.runFor(4000);
    expect(sim.eventsOf('restart', 'alpha')).toHaveLength(1);
    expect(sim.state('alpha').peers.get('bravo')!.generation).toBe(oldGen + 1);
    expect(sim.statusOf('alpha', 'bravo')).toBe('active');
    expect(sim.statusOf('bravo', 'alpha')).toBe('active');
    expect(sim.eventsOf('partitionHealed')).toHaveLength(0);
  });

  it('cutting one of two media kills that link only', async () => {
    const sim = await pair(5, { media: ['eth0', '/dev/ttyS0'] });
    sim.cut('alpha', 'bravo', 0);
    await sim.runFor(20000);
    expect(sim.statusOf('alpha', 'bravo')).toBe('active');
    expect(sim.eventsOf('nodeDead')).toHaveLength(0);
    const links = sim.state('alpha').peers.get('bravo')!.links;
    expect(links.map((l) => l.status)).toEqual(['dead', 'up']);
    sim.cut('alpha', 'bravo', 0, false);
    await sim.runFor(3000);
    expect(
      sim
        .state('alpha')
        .peers.get('bravo')!
        .links.map((l) => l.status),
    ).toEqual(['up', 'up']);
  });

  it('a partition is healed: both sides see the peer return with the same generation', async () => {
    const sim = await pair(6);
    sim.cut('alpha', 'bravo', 0);
    await sim.runFor(12000);
    expect(sim.statusOf('alpha', 'bravo')).toBe('dead');
    expect(sim.statusOf('bravo', 'alpha')).toBe('dead');
    sim.cut('alpha', 'bravo', 0, false);
    await sim.runFor(3000);
    expect(
      sim
        .eventsOf('partitionHealed')
        .map((e) => e.node)
        .sort(),
    ).toEqual(['alpha', 'bravo']);
    expect(sim.statusOf('alpha', 'bravo')).toBe('active');
  });
});

describe('timing hazards', () => {
  it('logs a late heartbeat with the measured interval', async () => {
    const sim = await pair(7);
    await sim.runFor(7000);
    sim.freeze('bravo');
    await sim.runFor(3500);
    sim.thaw('bravo');
    await sim.runFor(2000);
    const late = sim.eventsOf('lateHeartbeat', 'alpha');
    expect(late.length).toBeGreaterThan(0);
    expect(late[0]!.event.intervalMs).toBeGreaterThan(3000);
    expect(late[0]!.event.beyondDeadtime).toBe(false);
    expect(sim.eventsOf('nodeDead')).toHaveLength(0);
  });

  it('a wall-clock jump of one hour either way changes nothing', async () => {
    for (const delta of [3_600_000, -3_600_000]) {
      const sim = await pair(8);
      await sim.runFor(5000);
      const before = sim.events.length;
      sim.jumpWallClock('alpha', delta);
      await sim.runFor(30000);
      const after = sim.events.slice(before).map((e) => e.event.kind);
      expect(
        after.filter(
          (k) => k === 'nodeDead' || k === 'nodeStatus' || k === 'restart' || k === 'lateHeartbeat',
        ),
      ).toEqual([]);
      expect(sim.statusOf('bravo', 'alpha')).toBe('active');
    }
  });

  it('a frozen daemon does not declare its peers dead on timers that expired while it was frozen', async () => {
    const sim = await pair(9);
    await sim.runFor(7000);
    sim.freeze('alpha');
    await sim.runFor(12000); // more than twice deadtime
    sim.thaw('alpha');
    await sim.runFor(3000);
    expect(sim.eventsOf('stall', 'alpha')).toHaveLength(1);
    expect(sim.eventsOf('nodeDead', 'alpha')).toHaveLength(0);
    expect(sim.statusOf('alpha', 'bravo')).toBe('active');
    // bravo, which kept running, rightly declared alpha dead and sees it return.
    expect(sim.eventsOf('nodeDead', 'bravo')).toHaveLength(1);
    expect(sim.eventsOf('partitionHealed', 'bravo')).toHaveLength(1);
  });

  it('after a freeze, a peer that really died is still declared dead after the grace period', async () => {
    const sim = await pair(10);
    await sim.runFor(7000);
    sim.freeze('alpha');
    sim.kill('bravo');
    await sim.runFor(12000);
    const thawAt = sim.nowMs;
    sim.thaw('alpha');
    await sim.runFor(5000);
    const dead = sim.eventsOf('nodeDead', 'alpha');
    expect(dead).toHaveLength(1);
    expect(dead[0]!.atMs - thawAt).toBe(2000); // 2 x keepalive
  });
});

describe('reliability', () => {
  it.each([11, 21, 31, 41, 51])(
    'retransmits under 30%% loss until every message arrives, and ACKs (seed %i)',
    async (seed) => {
      const sim = await pair(seed);
      sim.loss('alpha', 'bravo', 0, 0.3);
      for (let i = 0; i < 200; i++) {
        sim.send(
          'bravo',
          messageFromPairs([
            ['t', 'wa-test'],
            ['n', String(i)],
          ]),
        );
        await sim.runFor(50);
      }
      sim.loss('alpha', 'bravo', 0, 0);
      await sim.runFor(5000);
      const got = sim.deliveries
        .filter((d) => d.node === 'alpha' && d.type === 'wa-test')
        .map((d) => Number(getString(d.msg, 'n')));
      expect(new Set(got).size).toBe(200);
      expect(got).toHaveLength(200); // no duplicates delivered
      expect(sim.eventsOf('lostPackets', 'alpha').length).toBeGreaterThan(0);
      expect(sim.wire.some((w) => w.from === 'bravo' && w.rexmit)).toBe(true);
      expect(sim.sentTypes('alpha')).toContain('NS_rexmit');
      expect(sim.eventsOf('nodeDead')).toHaveLength(0);
      const acked = sim.state('bravo').peers.get('alpha')!.ackedSeq;
      expect(acked).toBeGreaterThan(sim.state('bravo').seq - 20);
    },
  );

  it('loops messages from the layer above back to the sender, like heartbeat', async () => {
    const sim = await pair(12);
    sim.send('alpha', messageFromPairs([['t', 'starting']]));
    await sim.runFor(100);
    expect(
      sim.deliveries
        .filter((d) => d.type === 'starting')
        .map((d) => d.node)
        .sort(),
    ).toEqual(['alpha', 'bravo']);
  });

  it('delivers messages addressed to another node to nobody else', async () => {
    const sim = new SimCluster({ seed: 13, ...base, nodes: ['alpha', 'bravo', 'charlie'] });
    for (const n of ['alpha', 'bravo', 'charlie']) await sim.start(n);
    await sim.runFor(3000);
    sim.send(
      'alpha',
      messageFromPairs([
        ['t', 'ip-request-resp'],
        ['dest', 'bravo'],
      ]),
    );
    await sim.runFor(100);
    expect(sim.deliveries.filter((d) => d.type === 'ip-request-resp').map((d) => d.node)).toEqual(['bravo']);
  });
});

/** A started core for node alpha of the pair alpha/bravo, driven by hand. */
const env = (monoMs: number): Env => ({ monoMs, wallMs: 1_700_000_000_000 + monoMs, loadavg: 'n/a' });
function core(links = ['eth0']) {
  const st = createMembership(
    {
      localNode: 'alpha',
      nodes: ['alpha', 'bravo'],
      links,
      keepaliveMs: 1000,
      deadtimeMs: 5000,
      warntimeMs: 3000,
      initdeadMs: 10000,
      maxRexmitDelayMs: 250,
      hopfudge: 1,
      generation: 7,
      uuid: new Uint8Array(16).fill(1),
    },
    seededRandom(1),
  );
  step(st, { kind: 'start' }, env(0));
  return st;
}

describe('receiver rules', () => {
  const status = (hg: string, seq: string, extra: [string, string][] = []) =>
    messageFromPairs([
      ['t', 'status'],
      ['st', 'up'],
      ['dt', '1388'],
      ['protocol', '1'],
      ['src', 'bravo'],
      ['seq', seq],
      ['hg', hg],
      ['ts', '6b0350de'],
      ...extra,
    ]);

  it('drops a message from an older generation as a replay', async () => {
    const st = core();
    step(st, { kind: 'frame', link: 0, msg: status('10', '1') }, env(10));
    const out = step(
      st,
      {
        kind: 'frame',
        link: 0,
        msg: messageFromPairs([
          ['t', 'x'],
          ['src', 'bravo'],
          ['seq', '2'],
          ['hg', 'f'],
          ['ts', '1'],
        ]),
      },
      env(20),
    );
    expect(out.events).toContainEqual({ kind: 'oldGeneration', node: 'bravo', generation: 15, known: 16 });
    expect(out.deliver).toEqual([]);
  });

  it('drops unknown nodes and malformed control fields, never throws', async () => {
    const st = core();
    const bad = [
      messageFromPairs([
        ['t', 'status'],
        ['src', 'mallory'],
        ['ts', '1'],
        ['seq', '1'],
        ['hg', '1'],
      ]),
      messageFromPairs([
        ['t', 'status'],
        ['src', 'bravo'],
        ['ts', '0'],
        ['seq', '1'],
        ['hg', '1'],
      ]),
      messageFromPairs([
        ['t', 'status'],
        ['src', 'bravo'],
        ['ts', '1'],
        ['seq', 'zz'],
        ['hg', '1'],
      ]),
      messageFromPairs([['src', 'bravo']]),
      messageFromPairs([
        ['t', 'NS_rexmit'],
        ['src', 'bravo'],
        ['ts', '1'],
        ['dest', 'alpha'],
        ['firstseq', '9'],
        ['lastseq', '1'],
      ]),
      messageFromPairs([
        ['t', 'NS_rexmit'],
        ['src', 'bravo'],
        ['ts', '1'],
        ['dest', 'alpha'],
        ['firstseq', '1'],
        ['lastseq', '99999999'],
      ]),
    ];
    for (const msg of bad) expect(() => step(st, { kind: 'frame', link: 0, msg }, env(10))).not.toThrow();
    expect(st.peers.get('bravo')!.status).toBe('init');
  });

  it('answers reqnodes addressed to it, and ignores one for another node', async () => {
    const st = core();
    step(st, { kind: 'frame', link: 0, msg: status('10', '1') }, env(10));
    const req = (dest: string, seq: string) =>
      messageFromPairs([
        ['t', 'reqnodes'],
        ['dest', dest],
        ['src', 'bravo'],
        ['seq', seq],
        ['hg', '10'],
        ['ts', '1'],
      ]);
    const mine = step(st, { kind: 'frame', link: 0, msg: req('alpha', '2') }, env(20));
    expect(mine.send.map((o) => getString(o.msg, 't'))).toContain('repnodes');
    const theirs = step(st, { kind: 'frame', link: 0, msg: req('charlie', '3') }, env(30));
    expect(theirs.send.map((o) => getString(o.msg, 't'))).not.toContain('repnodes');
  });

  it('disables flow control for good when a peer does not send protocol', async () => {
    const st = core();
    const out = step(
      st,
      {
        kind: 'frame',
        link: 0,
        msg: messageFromPairs([
          ['t', 'status'],
          ['st', 'up'],
          ['src', 'bravo'],
          ['seq', '1'],
          ['hg', 'a'],
          ['ts', '1'],
        ]),
      },
      env(10),
    );
    expect(out.events).toContainEqual({ kind: 'flowControlDisabled', node: 'bravo' });
    // Without flow control, comm-up needs no reqnodes: the next status already says active.
    expect(out.send.map((o) => getString(o.msg, 't'))).not.toContain('reqnodes');
    const later = step(st, { kind: 'tick' }, env(st.nextKeepaliveAtMs));
    const own = later.send.find((o) => getString(o.msg, 't') === 'status')!;
    expect(getString(own.msg, 'st')).toBe('active');
    expect(getString(own.msg, 'protocol')).toBeUndefined();
  });

  it('serves a retransmission request with the identical stored message, and NAKs unknown seqs', async () => {
    const st = core();
    step(st, { kind: 'frame', link: 0, msg: status('10', '1') }, env(10));
    const original = step(st, { kind: 'send', msg: messageFromPairs([['t', 'starting']]) }, env(20)).send[0]!
      .msg;
    const seq = Number.parseInt(getString(original, 'seq')!, 16);
    const rex = (first: number) =>
      messageFromPairs([
        ['t', 'NS_rexmit'],
        ['dest', 'alpha'],
        ['firstseq', String(first)],
        ['lastseq', String(first)],
        ['src', 'bravo'],
        ['hg', '10'],
        ['ts', '1'],
      ]);
    const out = step(st, { kind: 'frame', link: 0, msg: rex(seq) }, env(500));
    expect(out.send).toEqual([{ msg: original, rexmit: true }]);
    // rate-limited: asking again at once gives nothing
    expect(step(st, { kind: 'frame', link: 0, msg: rex(seq) }, env(510)).send).toEqual([]);
    const nak = step(st, { kind: 'frame', link: 0, msg: rex(seq + 100) }, env(600));
    expect(nak.events).toContainEqual({
      kind: 'rexmitBeyondMax',
      node: 'bravo',
      seq: seq + 100,
      maxSeq: st.seq,
    });
  });
});

describe('replay protection (tsbeat; heartbeat lacks it)', () => {
  // Frames of the current generation whose seq was already accepted refresh nothing: an
  // attacker who captured a node's signed frames cannot keep it alive after it died, nor
  // bring it back. Copies of one frame on two media are not replays.
  const status = (seq: number, st = 'active') =>
    messageFromPairs([
      ['t', 'status'],
      ['st', st],
      ['dt', '1388'],
      ['protocol', '1'],
      ['src', 'bravo'],
      ['seq', seq.toString(16)],
      ['hg', '10'],
      ['ts', '6b0350de'],
    ]);

  it('a dead node whose old frames are replayed stays dead, once', async () => {
    const st = core();
    const captured = [1, 2, 3, 4, 5].map((seq) => status(seq));
    for (const [i, m] of captured.entries())
      step(st, { kind: 'frame', link: 0, msg: m }, env(1000 * (i + 1)));
    expect(st.peers.get('bravo')!.status).toBe('active');
    // bravo dies at t=5 s; the attacker replays its frames every 100 ms from then on.
    const events: string[] = [];
    for (let t = 5100; t < 40_000; t += 100) {
      const out = step(st, { kind: 'frame', link: 0, msg: captured[(t / 100) % 5]! }, env(t));
      events.push(...out.events.map((e) => e.kind));
    }
    expect(events.filter((k) => k === 'nodeDead')).toHaveLength(1);
    expect(events).not.toContain('partitionHealed');
    expect(events.filter((k) => k === 'nodeStatus')).toHaveLength(1); // active -> dead
    expect(events.filter((k) => k === 'replay').length).toBeGreaterThan(300);
    expect(st.peers.get('bravo')!.status).toBe('dead');
    expect(st.peers.get('bravo')!.links[0]!.status).toBe('dead');
  });

  it('a replayed frame before the death refreshes neither node nor link', async () => {
    const st = core();
    step(st, { kind: 'frame', link: 0, msg: status(1) }, env(1000));
    const before = st.peers.get('bravo')!.lastStatusAtMs;
    const out = step(st, { kind: 'frame', link: 0, msg: status(1) }, env(2000));
    expect(out.events).toEqual([{ kind: 'replay', node: 'bravo', seq: 1, link: 'eth0' }]);
    expect(st.peers.get('bravo')!.lastStatusAtMs).toBe(before);
    expect(st.peers.get('bravo')!.links[0]!.lastHeardAtMs).toBe(1000);
  });

  it('the same frame on a second medium is proof that medium works, not a replay', async () => {
    const st = core(['eth0', 'eth1']);
    step(st, { kind: 'frame', link: 0, msg: status(1) }, env(1000));
    const out = step(st, { kind: 'frame', link: 1, msg: status(1) }, env(1001));
    expect(out.events.map((e) => e.kind)).toEqual(['linkStatus']);
    expect(st.peers.get('bravo')!.links[1]).toMatchObject({ status: 'up', lastHeardAtMs: 1001 });
    // ... but a second copy on that medium is.
    const again = step(st, { kind: 'frame', link: 1, msg: status(1) }, env(1500));
    expect(again.events.map((e) => e.kind)).toEqual(['replay']);
  });

  it('a node that really returns after a partition (new seqs, same generation) is back', async () => {
    const st = core();
    for (let seq = 1; seq <= 3; seq++)
      step(st, { kind: 'frame', link: 0, msg: status(seq) }, env(1000 * seq));
    for (let t = 4000; t <= 14_000; t += 1000) step(st, { kind: 'tick' }, env(t)); // no comm-up: initdead applies
    expect(st.peers.get('bravo')!.status).toBe('dead');
    const out = step(st, { kind: 'frame', link: 0, msg: status(12) }, env(14_100));
    expect(out.events.map((e) => e.kind)).toContain('partitionHealed');
    expect(st.peers.get('bravo')!.status).toBe('active');
  });

  it('a retransmission we asked for fills its gap although its seq is below the high-water mark', async () => {
    const st = core();
    step(st, { kind: 'frame', link: 0, msg: status(1) }, env(1000));
    const gap = step(st, { kind: 'frame', link: 0, msg: status(3) }, env(2000));
    expect(gap.events.map((e) => e.kind)).toContain('lostPackets');
    const fill = step(
      st,
      {
        kind: 'frame',
        link: 0,
        msg: messageFromPairs([
          ['t', 'x'],
          ['src', 'bravo'],
          ['seq', '2'],
          ['hg', '10'],
          ['ts', '6b0350de'],
        ]),
      },
      env(2100),
    );
    expect(fill.events.map((e) => e.kind)).toContain('noPacketsMissing');
    expect(fill.deliver.map((d) => d.type)).toEqual(['x']);
  });

  it('a restart (higher generation) starts the seqs again', async () => {
    const st = core();
    for (let seq = 1; seq <= 3; seq++)
      step(st, { kind: 'frame', link: 0, msg: status(seq) }, env(1000 * seq));
    const restarted = messageFromPairs([
      ['t', 'status'],
      ['st', 'init'],
      ['dt', '1388'],
      ['protocol', '1'],
      ['src', 'bravo'],
      ['seq', '1'],
      ['hg', '11'],
      ['ts', '6b0350df'],
    ]);
    const out = step(st, { kind: 'frame', link: 0, msg: restarted }, env(4000));
    expect(out.events.map((e) => e.kind)).toContain('restart');
    expect(out.events.map((e) => e.kind)).not.toContain('replay');
  });
});

describe('simulated fault schedules', () => {
  it('after random faults stop, every pair of nodes sees each other active (200 seeds)', async () => {
    for (let seed = 100; seed < 300; seed++) {
      const sim = new SimCluster({ seed, ...base, nodes: ['a', 'b', 'c'], media: ['eth0', 'eth1'] });
      for (const n of ['a', 'b', 'c']) await sim.start(n);
      for (let t = 0; t < 10; t++) {
        const [x, y] = [
          ['a', 'b'],
          ['b', 'c'],
          ['a', 'c'],
        ][sim.random.int(0, 2)]!;
        const link = sim.random.int(0, 1);
        switch (sim.random.int(0, 4)) {
          case 0:
            sim.cut(x!, y!, link, true);
            break;
          case 1:
            sim.cut(x!, y!, link, false);
            break;
          case 2:
            sim.loss(x!, y!, link, sim.random.next() * 0.5);
            break;
          case 3:
            sim.jumpWallClock(x!, sim.random.int(-3_600_000, 3_600_000));
            break;
          case 4:
            sim.send(x!, messageFromPairs([['t', 'noise']]));
            break;
        }
        await sim.runFor(sim.random.int(100, 4000));
      }
      for (const [x, y] of [
        ['a', 'b'],
        ['b', 'c'],
        ['a', 'c'],
      ]) {
        for (const link of [0, 1]) {
          sim.cut(x!, y!, link, false);
          sim.loss(x!, y!, link, 0);
        }
      }
      await sim.runFor(15000);
      for (const viewer of ['a', 'b', 'c']) {
        for (const other of ['a', 'b', 'c']) {
          expect(sim.statusOf(viewer, other), `seed ${seed}: ${viewer} sees ${other}`).toBe('active');
        }
      }
    }
  });
});
