/**
 * The director's pure core, driven by hand: the start sequence and command lines are
 * ldirectord's (checked against the stock daemon in test/integ/director-ldirectord.test.ts), a
 * real server leaves service only after failurecount failures, quiescent keeps it at weight 0,
 * the fallback is in exactly while no real server is up (or, with the quorum extension, while
 * quorum is lost, with hysteresis), successcount delays re-adding, reconcile repairs only what
 * this configuration owns, and cleanstop removes it all.
 */
import { describe, expect, it } from 'vitest';
import { DirectorCore, type DirectorEffect } from '../../../src/director/core.js';
import { applyCommand, type IpvsTable, parseIpvsList } from '../../../src/director/ipvs.js';
import { parseDirectorConfig } from '../../../src/director/parse.js';

function core(text: string): DirectorCore {
  const r = parseDirectorConfig(text, 'ld.cf');
  if (!r.config) throw new Error(JSON.stringify(r.diagnostics));
  return new DirectorCore(r.config);
}

const cmds = (fx: readonly DirectorEffect[]): string[] =>
  fx.flatMap((e) =>
    e.kind === 'ipvsadm'
      ? [e.args.join(' ')]
      : e.kind === 'exec'
        ? [`exec ${e.command} ${e.args.join(' ')}`.trim()]
        : [],
  );

const ok = { ok: true, reason: 'ok', latencyMs: 1 };
const bad = { ok: false, reason: 'refused', latencyMs: 1 };

const TWO = `quiescent=yes
virtual=10.0.0.100:80
\treal=10.0.0.1:80 gate
\treal=10.0.0.2:80 gate 2
\tscheduler=rr
\tfailurecount=2
`;

describe('director core', () => {
  it('starts as ldirectord: virtual added, every real added then quiesced until checked', () => {
    const c = core(TWO);
    expect(cmds(c.start(new Map(), 0))).toEqual([
      '-A -t 10.0.0.100:80 -s rr',
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.1:80 -g -w 1',
      '-e -t 10.0.0.100:80 -r 10.0.0.1:80 -g -w 0',
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.2:80 -g -w 2',
      '-e -t 10.0.0.100:80 -r 10.0.0.2:80 -g -w 0',
    ]);
    expect(cmds(c.checkResult('tcp:10.0.0.100:80', '10.0.0.1:80', ok, 1))).toEqual([
      '-e -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.1:80 -g -w 1',
    ]);
    // Already up: a success changes nothing.
    expect(cmds(c.checkResult('tcp:10.0.0.100:80', '10.0.0.1:80', ok, 2))).toEqual([]);
  });

  it('removes a real server only after failurecount consecutive failures; one success resets', () => {
    const c = core(TWO);
    c.start(new Map(), 0);
    c.checkResult('tcp:10.0.0.100:80', '10.0.0.1:80', ok, 1);
    const first = c.checkResult('tcp:10.0.0.100:80', '10.0.0.1:80', bad, 2);
    expect(cmds(first)).toEqual([]);
    expect(first).toContainEqual({
      kind: 'log',
      message: 'Soft failure real server: 10.0.0.1:80 (tcp:10.0.0.100:80) failure 1/2',
    });
    const reset = c.checkResult('tcp:10.0.0.100:80', '10.0.0.1:80', ok, 3);
    expect(reset).toContainEqual({
      kind: 'log',
      message: 'Resetting soft failure count: 10.0.0.1:80 (tcp:10.0.0.100:80)',
    });
    c.checkResult('tcp:10.0.0.100:80', '10.0.0.1:80', bad, 4);
    expect(cmds(c.checkResult('tcp:10.0.0.100:80', '10.0.0.1:80', bad, 5))).toEqual([
      '-e -t 10.0.0.100:80 -r 10.0.0.1:80 -g -w 0',
    ]);
  });

  it('deletes instead of quiescing when quiescent=no, and puts the fallback in while nothing is up', () => {
    const c = core(
      'virtual=10.0.0.100:80\n\treal=10.0.0.1:80 masq\n\tfallback=127.0.0.1:80\n\tfallbackcommand="/bin/fb"\n',
    );
    expect(cmds(c.start(new Map(), 0))).toEqual([
      '-A -t 10.0.0.100:80 -s wrr',
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 127.0.0.1:80 -g -w 1',
      'exec /bin/fb start 10.0.0.100:80 tcp',
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.1:80 -m -w 1',
      '-d -t 10.0.0.100:80 -r 127.0.0.1:80',
      'exec /bin/fb stop 10.0.0.100:80 tcp',
      '-d -t 10.0.0.100:80 -r 10.0.0.1:80',
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 127.0.0.1:80 -g -w 1',
      'exec /bin/fb start 10.0.0.100:80 tcp',
    ]);
    expect(cmds(c.checkResult('tcp:10.0.0.100:80', '10.0.0.1:80', ok, 1))).toEqual([
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.1:80 -m -w 1',
      '-d -t 10.0.0.100:80 -r 127.0.0.1:80',
      'exec /bin/fb stop 10.0.0.100:80 tcp',
    ]);
    expect(cmds(c.checkResult('tcp:10.0.0.100:80', '10.0.0.1:80', bad, 2))).toEqual([
      '-d -t 10.0.0.100:80 -r 10.0.0.1:80',
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 127.0.0.1:80 -g -w 1',
      'exec /bin/fb start 10.0.0.100:80 tcp',
    ]);
  });

  it('keeps reals the kernel already serves, purges unconfigured ones, leaves other services alone', () => {
    const observed = parseIpvsList(`IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.100:80 rr
  -> 10.0.0.1:80                  Route   1      3          4
  -> 10.0.0.9:80                  Route   1      0          0
TCP  10.9.9.9:443 wlc
  -> 10.9.9.1:443                 Masq    1      0          0
`);
    const c = core(TWO);
    expect(cmds(c.start(observed, 0))).toEqual([
      '-E -t 10.0.0.100:80 -s rr',
      '-d -t 10.0.0.100:80 -r 10.0.0.9:80',
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.2:80 -g -w 2',
      '-e -t 10.0.0.100:80 -r 10.0.0.2:80 -g -w 0',
    ]);
    expect(c.view().get('TCP 10.9.9.9:443')?.dests.has('10.9.9.1:443')).toBe(true);
    expect(cmds(c.stop())).toEqual(['-d -t 10.0.0.100:80 -r 10.0.0.1:80', '-D -t 10.0.0.100:80']);
  });

  it('reconcile repairs a flushed or edited table, touching only its own services', () => {
    const c = core(TWO);
    c.start(new Map(), 0);
    c.checkResult('tcp:10.0.0.100:80', '10.0.0.1:80', ok, 1);
    const edited: IpvsTable = c.view();
    applyCommand(edited, ['-e', '-t', '10.0.0.100:80', '-r', '10.0.0.1:80', '-g', '-w', '5']);
    applyCommand(edited, ['-d', '-t', '10.0.0.100:80', '-r', '10.0.0.2:80']);
    applyCommand(edited, ['-A', '-t', '10.8.8.8:25', '-s', 'rr']);
    expect(cmds(c.reconcile(edited))).toEqual([
      '-e -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.1:80 -g -w 1',
      '-a -t 10.0.0.100:80 -r 10.0.0.2:80 -g -w 0',
    ]);
    expect(cmds(c.reconcile(c.view()))).toEqual([]);
    expect(cmds(c.reconcile(new Map()))).toEqual([
      '-A -t 10.0.0.100:80 -s rr',
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.1:80 -g -w 1',
      '-a -t 10.0.0.100:80 -r 10.0.0.2:80 -g -w 0',
    ]);
  });

  it('quorum with hysteresis: fallback and quorum_down below quorum-hysteresis, quorum_up at quorum+hysteresis', () => {
    const c = core(`quiescent=yes
virtual=10.0.0.100:80
\treal=10.0.0.1:80 gate 1
\treal=10.0.0.2:80 gate 1
\treal=10.0.0.3:80 gate 1
\tfallback=127.0.0.1:80
\t#tsbeat: quorum = 2
\t#tsbeat: hysteresis = 1
\t#tsbeat: quorum_up = /bin/up
\t#tsbeat: quorum_down = /bin/down
`);
    c.start(new Map(), 0);
    const id = 'tcp:10.0.0.100:80';
    expect(cmds(c.checkResult(id, '10.0.0.1:80', ok, 1))).toEqual([
      '-e -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.1:80 -g -w 1',
    ]);
    expect(cmds(c.checkResult(id, '10.0.0.2:80', ok, 1))).toEqual([
      '-e -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.2:80 -g -w 1',
    ]);
    // Weight 3 >= quorum 2 + hysteresis 1: quorum gained, the fallback leaves.
    expect(cmds(c.checkResult(id, '10.0.0.3:80', ok, 1))).toEqual([
      '-e -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.3:80 -g -w 1',
      'exec /bin/up',
      '-d -t 10.0.0.100:80 -r 127.0.0.1:80',
    ]);
    // Weight 2, then 1: not below 2-1 yet.
    expect(cmds(c.checkResult(id, '10.0.0.3:80', bad, 2))).toEqual([
      '-e -t 10.0.0.100:80 -r 10.0.0.3:80 -g -w 0',
    ]);
    expect(cmds(c.checkResult(id, '10.0.0.2:80', bad, 2))).toEqual([
      '-e -t 10.0.0.100:80 -r 10.0.0.2:80 -g -w 0',
    ]);
    // Weight 0 < 1: lost.
    expect(cmds(c.checkResult(id, '10.0.0.1:80', bad, 3))).toEqual([
      '-e -t 10.0.0.100:80 -r 10.0.0.1:80 -g -w 0',
      'exec /bin/down',
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 127.0.0.1:80 -g -w 1',
    ]);
  });

  it('successcount: a down real server needs that many consecutive successes', () => {
    const c = core('virtual=10.0.0.100:80\n\treal=10.0.0.1:80 gate\n\tsuccesscount=3\n');
    c.start(new Map(), 0);
    const id = 'tcp:10.0.0.100:80';
    expect(cmds(c.checkResult(id, '10.0.0.1:80', ok, 1))).toEqual([]);
    expect(cmds(c.checkResult(id, '10.0.0.1:80', bad, 2))).toEqual([]);
    expect(cmds(c.checkResult(id, '10.0.0.1:80', ok, 3))).toEqual([]);
    expect(cmds(c.checkResult(id, '10.0.0.1:80', ok, 4))).toEqual([]);
    expect(cmds(c.checkResult(id, '10.0.0.1:80', ok, 5))).toEqual([
      '-a -t 10.0.0.100:80 -x 0 -y 0 -r 10.0.0.1:80 -g -w 1',
    ]);
  });
});
