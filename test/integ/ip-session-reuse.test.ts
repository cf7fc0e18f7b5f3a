// The daemon reuses `ip -batch` processes from one agent action to the next (src/agents/ip.ts
// IpLease), which is only right while `ip`'s interface-name cache still matches the kernel. In a
// namespace of its own this checks, against the real iproute2: a process handed back is served to
// the next action without a fork; a link renamed between two actions makes the next action's
// discovery run again on a fresh process (whose answer has the new name), and the stale one ends;
// a first exchange that changes something on a reused process is checked before it is sent; a
// killed or closed lease never hands its process back.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IpCommand,
  IpProcess,
  leaseIpProcess,
  parseAddresses,
  parseLinkNames,
} from '../../src/agents/ip.js';
import { requireRoot, requireTools } from '../harness/index.js';

const NS = `tsipr${process.pid % 100000}`;
const ip = (...args: string[]): string => execFileSync('ip', ['-n', NS, ...args], { encoding: 'utf8' });
const DISCOVER: IpCommand[] = [
  { args: ['addr', 'show'], json: true },
  { args: ['route', 'list', 'match', '10.66.0.10/24', 'scope', 'link'], json: true },
];
const procs: IpProcess[] = [];

beforeAll(() => {
  requireRoot();
  requireTools(['ip']);
  execFileSync('ip', ['netns', 'add', NS]);
  ip('link', 'add', 'ra0', 'type', 'veth', 'peer', 'name', 'rb0');
  ip('addr', 'add', '10.66.0.1/24', 'dev', 'ra0');
  ip('link', 'set', 'ra0', 'up');
  ip('link', 'set', 'rb0', 'up');
});

afterAll(() => {
  for (const p of procs) p.kill();
  try {
    execFileSync('ip', ['netns', 'del', NS]);
  } catch {
    // not created
  }
});

function pooled(): { take: () => IpProcess | undefined; back: IpProcess[]; proc: IpProcess } {
  const proc = IpProcess.spawn({ netns: NS });
  procs.push(proc);
  const back: IpProcess[] = [];
  return { proc, back, take: () => back.shift() };
}

describe('ip process reuse across agent actions', () => {
  it('hands a healthy process back and serves the next action with it', async () => {
    const pool = pooled();
    const first = leaseIpProcess(pool.proc, (p) => pool.back.push(p));
    const a = await first.run(DISCOVER);
    expect(parseLinkNames(a[0]?.json)).toEqual(new Set(['lo', 'ra0', 'rb0']));
    first.close();
    first.close(); // idempotent: handed back once
    expect(pool.back).toEqual([pool.proc]);
    const again = pool.take()!;
    const second = leaseIpProcess(again, (p) => pool.back.push(p));
    const b = await second.run(DISCOVER);
    expect(b.map((o) => o.ok)).toEqual([true, true]);
    expect(again.pid).toBe(pool.proc.pid);
    expect(again.alive).toBe(true);
    second.close();
    expect(pool.back).toHaveLength(1);
  });

  it('runs the discovery again on a fresh process when a link was renamed in between', async () => {
    const pool = pooled();
    const first = leaseIpProcess(pool.proc, (p) => pool.back.push(p));
    await first.run(DISCOVER);
    first.close();
    ip('link', 'set', 'rb0', 'down');
    ip('link', 'set', 'rb0', 'name', 'rc0');
    ip('link', 'set', 'rc0', 'up');
    const reused = pool.take()!;
    const second = leaseIpProcess(reused, (p) => pool.back.push(p));
    const out = await second.run(DISCOVER);
    expect(parseLinkNames(out[0]?.json)).toEqual(new Set(['lo', 'ra0', 'rc0']));
    // The stale process was ended; the fresh one serves the rest of the action and goes back.
    expect(reused.alive).toBe(false);
    const add = await second.run([{ args: ['addr', 'add', '10.66.0.10/24', 'dev', 'rc0'], json: false }]);
    expect(add[0]?.ok).toBe(true);
    second.close();
    expect(pool.back).toHaveLength(1);
    expect(pool.back[0]?.pid).not.toBe(reused.pid);
    procs.push(pool.back[0]!);
    expect(parseAddresses(JSON.parse(ip('-j', 'addr', 'show', 'dev', 'rc0'))).map((a) => a.local)).toContain(
      '10.66.0.10',
    );
    ip('addr', 'del', '10.66.0.10/24', 'dev', 'rc0');
  });

  it('checks the links before a first exchange that changes something on a reused process', async () => {
    const pool = pooled();
    const first = leaseIpProcess(pool.proc, (p) => pool.back.push(p));
    await first.run(DISCOVER);
    first.close();
    ip('link', 'set', 'rc0', 'down');
    ip('link', 'set', 'rc0', 'name', 'rd0');
    const reused = pool.take()!;
    const second = leaseIpProcess(reused, (p) => pool.back.push(p));
    const out = await second.run([{ args: ['link', 'set', 'rd0', 'up'], json: false }]);
    expect(out[0]?.ok).toBe(true);
    expect(reused.alive).toBe(false);
    expect(ip('-o', 'link', 'show', 'dev', 'rd0')).toMatch(/state (UP|LOWERLAYERDOWN|UNKNOWN)|,UP/);
    second.close();
    procs.push(...pool.back);
  });

  it('never hands back a killed lease, or one left with an exchange running', async () => {
    const pool = pooled();
    const killed = leaseIpProcess(pool.proc, (p) => pool.back.push(p));
    await killed.run(DISCOVER);
    killed.kill();
    killed.close();
    expect(pool.back).toEqual([]);
    const other = IpProcess.spawn({ netns: NS });
    procs.push(other);
    const busy = leaseIpProcess(other, (p) => pool.back.push(p));
    const pending = busy.run(DISCOVER);
    busy.close();
    expect(pool.back).toEqual([]);
    expect((await pending).every((o) => o.ok)).toBe(true);
  });
});
