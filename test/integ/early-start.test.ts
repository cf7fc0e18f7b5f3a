// Virtual IPs started ahead of their agent at a takeover (src/agents/early-start.ts), with the
// real iproute2 and tsbeat's in-process IPaddr2, in a namespace of its own. The resource runner
// is driven as the group executor drives it (status, prepareStart, status, start, endStart):
//  - the address is configured by prepareStart itself, before the agent runs; the agent's status
//    still answers "stopped" (the state before), its start logs what it always logs and adds
//    nothing twice; stop removes it;
//  - a plan gone stale (the subnet moved to another interface since the start-up check): the
//    address sent ahead is taken back and the agent adds it where its own discovery says;
//  - an address that is already there: nothing changes and nothing is removed;
//  - a group start that ends before a resource's turn: that resource's address is taken back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot, requireTools } from '../harness/index.js';

const REPO = join(import.meta.dirname, '..', '..');
const DRIVER = join(REPO, 'test', 'fixtures', 'agents', 'early-start-driver.mjs');
const NS = `tsear${process.pid % 100000}`;
let rscTmp = '';
const ip = (...args: string[]): void => {
  execFileSync('ip', ['-n', NS, ...args]);
};

beforeAll(() => {
  requireRoot();
  requireTools(['ip']);
  rscTmp = mkdtempSync(join(tmpdir(), 'tsbeat-early-'));
  execFileSync('ip', ['netns', 'add', NS]);
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0');
  ip('link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'peer1');
  ip('link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'peer2');
  for (const l of ['eth0', 'peer0', 'eth1', 'peer1', 'eth2', 'peer2']) ip('link', 'set', l, 'up');
  ip('addr', 'add', '10.66.1.1/24', 'dev', 'eth0');
  ip('addr', 'add', '10.66.2.1/24', 'dev', 'eth1');
});

afterAll(() => {
  try {
    execFileSync('ip', ['netns', 'del', NS]);
  } catch {
    // not created
  }
  if (rscTmp) rmSync(rscTmp, { recursive: true, force: true });
});

interface Step {
  name: string;
  rc?: number;
  running?: boolean;
  on?: string[];
  a?: string[];
  b?: string[];
}

function drive(scenario: string): { steps: Step[]; logs: string[]; at: (n: string) => Step } {
  const text = execFileSync(
    'ip',
    ['netns', 'exec', NS, process.execPath, DRIVER, join(REPO, 'dist'), scenario],
    { encoding: 'utf8', env: { ...process.env, HA_RSCTMP: rscTmp }, timeout: 60_000 },
  );
  const r = JSON.parse(text) as { steps: Step[]; logs: string[] };
  return { ...r, at: (n) => r.steps.find((s) => s.name === n)! };
}

describe('virtual IPs started ahead of IPaddr2', () => {
  it('configures the address before the agent runs, and the agent behaves as without it', () => {
    const r = drive('plain');
    expect(r.at('probe')).toMatchObject({ rc: 7, running: false });
    expect(r.at('ahead').on).toEqual(['eth0']);
    expect(r.at('status')).toMatchObject({ rc: 7, running: false });
    expect(r.at('start').rc).toBe(0);
    expect(r.at('started').on).toEqual(['eth0']);
    expect(r.logs).toContain('debug: starting ahead: IPaddr2::10.66.1.10/24/eth0');
    expect(
      r.logs.filter((l) => /^info: Adding inet address 10\.66\.1\.10\/24 .*device eth0$/.test(l)),
    ).toHaveLength(1);
    // The agent's own change was the one sent ahead: nothing taken back, nothing failed.
    expect(r.logs.some((l) => l.includes('taken back') || l.startsWith('error'))).toBe(false);
    expect(r.at('stop').rc).toBe(0);
    expect(r.at('stopped').on).toEqual([]);
  });

  it('takes a stale plan back and adds the address where the agent finds it belongs', () => {
    const r = drive('moved');
    expect(r.at('ahead').on).toEqual(['eth1']);
    expect(r.at('status')).toMatchObject({ rc: 7, running: false });
    expect(r.at('start').rc).toBe(0);
    expect(r.at('started').on).toEqual(['eth2']);
    expect(
      r.logs.filter((l) => /^info: Adding inet address 10\.66\.2\.10\/24 .*device eth2$/.test(l)),
    ).toHaveLength(1);
    expect(r.logs).toContain(
      'info: IPaddr2::10.66.2.10/24: address configured ahead of its start taken back (10.66.2.10/24 on eth1): its own status or start decided otherwise, or never came',
    );
    expect(r.at('stop').rc).toBe(0);
  });

  it('leaves an address that was already there alone', () => {
    const r = drive('running');
    expect(r.at('status')).toMatchObject({ rc: 0, running: true });
    expect(r.at('after').on).toEqual(['eth0']);
    expect(r.logs.some((l) => l.includes('taken back'))).toBe(false);
    expect(r.at('stop').rc).toBe(0);
  });

  it('takes back the address of a resource the group start never reached', () => {
    const r = drive('abandoned');
    expect(r.at('ahead')).toMatchObject({ a: ['eth0'], b: ['eth0'] });
    expect(r.at('start-a').rc).toBe(0);
    expect(r.at('after')).toMatchObject({ a: ['eth0'], b: [] });
    expect(r.logs.filter((l) => l.includes('taken back'))).toEqual([
      'info: IPaddr2::10.66.1.13/24/eth0: address configured ahead of its start taken back (10.66.1.13/24 on eth0): its own status or start decided otherwise, or never came',
    ]);
    expect(r.at('stop-a').rc).toBe(0);
  });
});
