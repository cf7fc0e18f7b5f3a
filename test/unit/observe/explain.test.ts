/**
 * tsbeat explain's words (src/observe/explain.ts) over hand-written journals: the issue's
 * example failover (two links silent, fenced through external/ipmi, a group of two
 * resources) comes out as one line with reason code, per-step durations and the total from
 * the peer's last heartbeat; a failed fence is said; the other reason codes (comm-up,
 * operator standby, a peer's request, shutdown) are told; unfinished work is "still in
 * progress"; a start failure is FAILED. Pure: no daemon.
 */
import { describe, expect, it } from 'vitest';
import { explain, formatExplain } from '../../../src/observe/explain.js';
import { Journal, type JournalBody } from '../../../src/observe/journal.js';

const T0 = Date.UTC(2026, 11, 5, 8, 40, 0);

function journal(entries: [number, JournalBody][]): Journal {
  const j = new Journal();
  for (const [ms, body] of entries) j.record(T0 + ms, 1_000_000 + ms, body);
  return j;
}

const failover = (fenceOk: boolean): [number, JournalBody][] => [
  [3012, { kind: 'linkStatus', node: 'node2', link: 'eth0', status: 'dead' }],
  [3012, { kind: 'linkStatus', node: 'node2', link: 'eth1', status: 'dead' }],
  [3012, { kind: 'nodeDead', node: 'node2', silentMs: 3012, limitMs: 3000, linksDead: 2, linksTotal: 2 }],
  [3012, { kind: 'work', id: 7, action: 'fence', purpose: 'fence', keys: [], peer: 'node2' }],
  [3192, { kind: 'fence', node: 'node2', device: 'external/ipmi', ok: fenceOk, durationMs: 180 }],
  [3192, { kind: 'workDone', id: 7, startFailed: [], stopFailed: [], fenced: fenceOk }],
  [3200, { kind: 'work', id: 8, action: 'acquire', purpose: 'machDown', keys: ['IPaddr2::10.0.0.10'] }],
  [
    3204,
    {
      kind: 'agent',
      resource: 'IPaddr2::10.0.0.10',
      group: 'IPaddr2::10.0.0.10',
      agent: 'IPaddr2',
      action: 'start',
      rc: 0,
      durationMs: 4,
      timedOut: false,
    },
  ],
  [
    3514,
    {
      kind: 'agent',
      resource: 'ldirectord',
      group: 'IPaddr2::10.0.0.10',
      agent: 'ldirectord',
      action: 'start',
      rc: 0,
      durationMs: 310,
      timedOut: false,
    },
  ],
  [3520, { kind: 'workDone', id: 8, startFailed: [], stopFailed: [] }],
];

describe('tsbeat explain', () => {
  it("the issue's example: silent links, fence, takeover with per-agent times, total from the last heartbeat", () => {
    const eps = explain(journal(failover(true)).since());
    expect(formatExplain(eps)).toBe(
      '2026-12-05T08:40:00.000Z [peer-dead] node2 silent 3012 ms on 2/2 links > deadtime 3000 ms → fenced node2 via external/ipmi (180 ms) → took over group IPaddr2::10.0.0.10 (IPaddr2 4 ms, ldirectord 310 ms) → total 3.52 s\n',
    );
    expect(eps[0]).toMatchObject({ reason: 'peer-dead', peer: 'node2', outcome: 'done', totalMs: 3520 });
  });

  it('several nodes dead at once: a takeover names its own dead node, and a mach_down that moved nothing is no change', () => {
    const entries: [number, JournalBody][] = [
      [3012, { kind: 'nodeDead', node: 'node2', silentMs: 3012, limitMs: 3000, linksDead: 1, linksTotal: 1 }],
      [3013, { kind: 'nodeDead', node: 'node3', silentMs: 3013, limitMs: 3000, linksDead: 1, linksTotal: 1 }],
      [3100, { kind: 'work', id: 1, action: 'acquire', purpose: 'machDown', keys: ['a'], peer: 'node2' }],
      [3110, { kind: 'workDone', id: 1, startFailed: [], stopFailed: [] }],
      [3120, { kind: 'work', id: 2, action: 'acquire', purpose: 'machDown', keys: [], peer: 'node3' }],
      [3121, { kind: 'workDone', id: 2, startFailed: [], stopFailed: [] }],
    ];
    const eps = explain(journal(entries).since());
    expect(eps).toHaveLength(1);
    expect(eps[0]).toMatchObject({ reason: 'peer-dead', peer: 'node2' });
    expect(formatExplain(eps)).toContain('[peer-dead] node2 silent 3012 ms');
  });

  it('a failed fence attempt before the one that worked is told too', () => {
    const entries = failover(true);
    entries.splice(4, 0, [
      3100,
      { kind: 'fence', node: 'node2', device: 'external/ipmi', ok: false, durationMs: 88 },
    ]);
    expect(formatExplain(explain(journal(entries).since()))).toContain(
      '→ failed to fence node2 via external/ipmi (88 ms) → fenced node2 via external/ipmi (180 ms) →',
    );
  });

  it('other reasons: comm-up start, operator standby, a peer asking, shutdown; failed and unfinished work', () => {
    const j = journal([
      [0, { kind: 'commUp' }],
      [1, { kind: 'work', id: 1, action: 'acquire', purpose: 'reqOurResources', keys: ['a'] }],
      [
        5,
        {
          kind: 'agent',
          resource: 'a',
          group: 'a',
          agent: 'Dummy',
          action: 'start',
          rc: 0,
          durationMs: 4,
          timedOut: false,
        },
      ],
      [6, { kind: 'workDone', id: 1, startFailed: [], stopFailed: [] }],
      [1000, { kind: 'operator', request: 'standby', set: 'all' }],
      [1001, { kind: 'work', id: 2, action: 'release', purpose: 'standbyRelease', keys: ['a'] }],
      [1050, { kind: 'workDone', id: 2, startFailed: [], stopFailed: [] }],
      [200_000, { kind: 'nodeStatus', node: 'node2', from: 'active', to: 'active' }],
      [200_001, { kind: 'work', id: 3, action: 'acquire', purpose: 'standbyAcquire', keys: ['b'] }],
      [200_101, { kind: 'workDone', id: 3, startFailed: ['b'], stopFailed: [] }],
      [300_000, { kind: 'work', id: 4, action: 'release', purpose: 'shutdownRelease', keys: ['a', 'b'] }],
    ]);
    expect(formatExplain(explain(j.since()))).toBe(
      [
        '2026-12-05T08:40:00.001Z [comm-up] communication up: this node takes the groups it should hold → started group a (Dummy 4 ms) → total 0.01 s',
        '2026-12-05T08:40:01.000Z [operator-standby] hb_standby all on this node → released group a → total 0.05 s',
        '2026-12-05T08:43:20.001Z [peer-request] node2 asked for the groups (auto_failback, or hb_takeover/hb_standby there) → took over group b; start failed: b → FAILED, total 0.10 s',
        '2026-12-05T08:45:00.000Z [shutdown] this node shuts down → released groups a, b → still in progress',
        '',
      ].join('\n'),
    );
  });

  it('--since filters by the time a change began; an empty period says so', () => {
    const eps = explain(journal(failover(true)).since()).filter((e) => Date.parse(e.at) >= T0 + 10_000);
    expect(formatExplain(eps)).toBe('no ownership change recorded in this period\n');
  });

  it('the journal is bounded: the oldest entries go first and are counted', () => {
    const j = new Journal(3);
    for (let i = 0; i < 5; i++) j.record(T0 + i, i, { kind: 'commUp' });
    expect(j.since().map((e) => e.monoMs)).toEqual([2, 3, 4]);
    expect(j.dropped).toBe(2);
    expect(j.since(T0 + 4)).toHaveLength(1);
  });
});
