/**
 * The pure part of `npm run bench -- load` (src/bench/load.ts): reading a scheduling level from
 * /proc/PID/stat, counting false failovers from kernel address events, gaps between captured
 * packets, and a counter from a metrics page. The namespace run itself is
 * test/integ/bench-load.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  countVipEvents,
  describeLevel,
  gapStats,
  parseSchedLevel,
  sumMetric,
} from '../../../src/bench/load.js';

/** A /proc/PID/stat line with the given nice (field 19), rt_priority (40) and policy (41). */
function stat(nice: number, rtPriority: number, policy: number): string {
  const f = Array.from({ length: 52 }, () => '0');
  f[0] = '42';
  f[1] = '(node) x)'; // the comm "node) x": a space and a parenthesis in it
  f[2] = 'S';
  f[18] = String(nice);
  f[39] = String(rtPriority);
  f[40] = String(policy);
  return f.join(' ');
}

describe('parseSchedLevel', () => {
  it('reads SCHED_RR with its priority, and nice for normal tasks', () => {
    expect(describeLevel(parseSchedLevel(stat(0, 1, 2))!)).toBe('SCHED_RR 1');
    expect(describeLevel(parseSchedLevel(stat(-10, 0, 0))!)).toBe('SCHED_OTHER nice -10');
    expect(parseSchedLevel('42 (x) S 1')).toBeUndefined();
  });
});

describe('countVipEvents', () => {
  const vip = '10.0.0.100';
  const e = (tUs: number, added: boolean, addr = vip) => ({ tUs, added, addr });
  it('counts adds on the backup and deletes on the active node after the start, nothing else', () => {
    const active = [e(5, true), e(20, false), e(30, true), e(40, false, '10.0.0.1')];
    const backup = [e(6, false), e(15, true), e(25, false), e(35, true, '10.0.0.2')];
    expect(countVipEvents(active, backup, [vip], 10)).toEqual({
      falseFailovers: 2,
      backupAdds: 1,
      activeDeletes: 1,
      moves: 2,
    });
    expect(countVipEvents(active, backup, [vip], 50).falseFailovers).toBe(0);
  });
});

describe('gapStats', () => {
  it('counts packets in the window and the gaps above warntime and deadtime', () => {
    const us = [0, 50_000, 100_000, 220_000, 400_000, 450_000, 900_000];
    expect(gapStats(us, 0, 500_000, 100, 150)).toEqual({
      packets: 6,
      maxGapMs: 180,
      gapsOverWarnMs: 2,
      gapsOverDeadMs: 1,
    });
    expect(gapStats([], 0, 1, 100, 150)).toEqual({
      packets: 0,
      maxGapMs: 0,
      gapsOverWarnMs: 0,
      gapsOverDeadMs: 0,
    });
  });
});

describe('sumMetric', () => {
  it('adds up the samples of one metric, labelled or not, and only that one', () => {
    const page = [
      '# TYPE tsbeat_late_heartbeats_total counter',
      'tsbeat_late_heartbeats_total{node="node2"} 3',
      'tsbeat_late_heartbeats_total{node="node3"} 4',
      'tsbeat_late_heartbeats_total_x 100',
    ].join('\n');
    expect(sumMetric(page, 'tsbeat_late_heartbeats_total')).toBe(7);
    expect(sumMetric(page, 'tsbeat_takeovers_total')).toBeUndefined();
  });
});
