// The `ip -j -force -batch -` session protocol against the real iproute2, with read-only
// commands only (nothing here changes an address): one outcome per line in order, JSON of
// successful show/list lines, the error text of failing lines, several exchanges on one process,
// queued callers, unsafe words refused before anything is sent, and a dead `ip` reported per line
// instead of hanging. Also the GARP runner with the real findutils xargs: the lines it is fed
// (request/reply pairs, half the pair interval per frame), that a spawned idle runner is
// recognised by its command line (so `stop` never signals a recycled pid), and that closing it
// without lines runs nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { GarpRunner, garpLines, isGarpRunner, isSafeGarpWord } from '../../../src/agents/garp.js';
import {
  IpSession,
  ipSessionArgs,
  isSafeIpWord,
  parseAddresses,
  parseLinkNames,
} from '../../../src/agents/ip.js';

const sessions: IpSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});

function session(): IpSession {
  const s = IpSession.spawn({});
  sessions.push(s);
  return s;
}

describe('ip batch session', () => {
  it('answers each line in order: JSON for queries, errors for failures', async () => {
    const s = session();
    const out = await s.run([
      { args: ['addr', 'show', 'dev', 'lo'], json: true },
      { args: ['addr', 'show', 'dev', 'tsbeat-nosuch0'], json: true },
      { args: ['addr', 'show', 'dev', 'lo'], json: true },
      { args: ['route', 'list', 'match', '192.0.2.1', 'scope', 'link', 'table', '250'], json: true },
    ]);
    expect(out).toHaveLength(4);
    expect(out[0]?.ok).toBe(true);
    expect(parseLinkNames(out[0]?.json)).toEqual(new Set(['lo']));
    expect(out[1]).toEqual({ ok: false, error: 'Device "tsbeat-nosuch0" does not exist.', json: undefined });
    expect(parseAddresses(out[2]?.json).map((a) => a.local)).toContain('127.0.0.1');
    expect(parseLinkNames(out[2]?.json).has('lo')).toBe(true);
    expect(out[3]).toEqual({ ok: true, error: '', json: [] });
  });

  it('serves several exchanges, and queues concurrent callers', async () => {
    const s = session();
    const a = s.run([{ args: ['addr', 'show', 'dev', 'lo'], json: true }]);
    const b = s.run([{ args: ['nosuchobject'], json: false }]);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra[0]?.ok).toBe(true);
    expect(rb[0]?.ok).toBe(false);
    expect(rb[0]?.error).toMatch(/nosuchobject/);
    const again = await s.run([{ args: ['addr', 'show', 'dev', 'lo'], json: true }]);
    expect(again[0]?.ok).toBe(true);
  });

  it('refuses words the batch parser would misread, without sending anything', async () => {
    expect(isSafeIpWord('eth0:0')).toBe(true);
    expect(isSafeIpWord('10.0.0.1/24')).toBe(true);
    for (const w of ['a b', 'x#y', 'q"', "q'", 'a\\b', '']) expect(isSafeIpWord(w)).toBe(false);
    const s = session();
    const out = await s.run([{ args: ['addr', 'show', 'dev', 'lo # comment'], json: true }]);
    expect(out[0]?.ok).toBe(false);
    expect(out[0]?.error).toMatch(/unsafe/);
  });

  it('reports every line as failed when ip is gone', async () => {
    const s = session();
    s.kill();
    const out = await s.run([
      { args: ['addr', 'show'], json: true },
      { args: ['route', 'list'], json: true },
    ]);
    expect(out.map((o) => o.ok)).toEqual([false, false]);
  });

  it('an argument ip cannot parse ends the process; its words become the reason', async () => {
    const s = session();
    const out = await s.run([
      { args: ['route', 'list', 'match', '10.0.0.1/33'], json: true },
      { args: ['addr', 'show', 'dev', 'lo'], json: true },
    ]);
    expect(out[0]).toEqual({
      ok: false,
      error: 'Error: any valid prefix is expected rather than "10.0.0.1/33".',
      json: undefined,
    });
    expect(out[1]?.ok).toBe(false);
    expect(s.alive).toBe(false);
  });

  it('puts family and namespace options before -batch', () => {
    expect(ipSessionArgs({})).toEqual(['-j', '-force', '-batch', '-']);
    expect(ipSessionArgs({ family: 'inet6', netns: 'ns1' })).toEqual([
      '-6',
      '-n',
      'ns1',
      '-j',
      '-force',
      '-batch',
      '-',
    ]);
  });
});

describe('GARP runner', () => {
  it('feeds request/reply pairs, one arping per frame, half the pair interval each', () => {
    const lines = garpLines({ nic: 'eth0', ip: '10.0.0.10', pairs: 2, intervalMs: 200 });
    expect(lines).toEqual([
      '0.1 arping -q -U -c 1 -I eth0 10.0.0.10',
      '0.1 arping -q -A -c 1 -I eth0 10.0.0.10',
      '0.1 arping -q -U -c 1 -I eth0 10.0.0.10',
      '0.1 arping -q -A -c 1 -I eth0 10.0.0.10',
    ]);
    expect(garpLines({ nic: 'eth0', ip: '10.0.0.10', pairs: 1, intervalMs: 500, netns: 'blue' })[0]).toBe(
      '0.25 ip netns exec blue arping -q -U -c 1 -I eth0 10.0.0.10',
    );
    // Below 50 ms per frame arping could be stopped before its frame leaves.
    expect(garpLines({ nic: 'eth0', ip: '10.0.0.10', pairs: 1, intervalMs: 20 })[0]).toMatch(/^0\.05 /);
    expect(isSafeGarpWord('eth0')).toBe(true);
    expect(isSafeGarpWord('a"b')).toBe(false);
  });

  it('is recognisable by its command line, and runs nothing when closed empty', async () => {
    const r = GarpRunner.spawn();
    const pid = r.pid;
    expect(pid).toBeDefined();
    await new Promise((res) => setTimeout(res, 100));
    expect(isGarpRunner(pid ?? 0)).toBe(true);
    expect(isGarpRunner(process.pid)).toBe(false);
    const run = await r.feed([]);
    expect(run?.pid).toBe(pid);
    expect(await r.done).toBe(0);
    expect(isGarpRunner(pid ?? 0)).toBe(false);
  });
});
