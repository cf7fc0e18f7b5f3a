/**
 * ha.cf parsing: heartbeat 3.0.6's defaults, units, token splitting (blanks and commas),
 * order rules (udpport/baud latched by the first medium that uses them), repeated
 * directives, lowercased node names, derived values as `cl_status hbparameter` reports
 * them, and a precise file:line:col diagnostic with a hint for every kind of mistake.
 */
import { describe, expect, it } from 'vitest';
import { parseHaCf } from '../../../src/config/hacf.js';
import { formatDiagnostic } from '../../../src/lib/diagnostic.js';

const BASE = 'bcast eth0\nnode ra1 ra2\nlogfile /var/log/ha-log\nauto_failback on\n';
const parse = (text: string, localNode = 'ra1') => parseHaCf(text, { file: 'ha.cf', localNode });
const shown = (text: string) => parse(text).diagnostics.map(formatDiagnostic);
const errorsOf = (text: string) => shown(text).filter((l) => l.includes(': error: '));

describe('ha.cf defaults and derived values', () => {
  it('applies heartbeat 3.0.6 defaults', () => {
    const { haCf, diagnostics } = parse(BASE);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(haCf).toMatchObject({
      keepaliveMs: 1000,
      deadtimeMs: 30000,
      warntimeMs: 15000,
      initdeadMs: 30000,
      deadpingMs: 30000,
      udpPort: 694,
      baud: 19200,
      msgfmt: 'classic',
      hopfudge: 1,
      hbgenmethod: 'file',
      maxRexmitDelayMs: 250,
      autoFailback: 'on',
      cluster: 'linux-ha',
      nodes: ['ra1', 'ra2'],
    });
    expect(haCf.media).toEqual([{ kind: 'bcast', dev: 'eth0', port: 694 }]);
  });

  it('stores parameters as written and derived ones with ms, like cl_status hbparameter', () => {
    const { haCf } = parse(`${BASE}keepalive 1\ndeadtime 3\n`);
    expect(haCf.params).toMatchObject({
      keepalive: '1',
      deadtime: '3',
      warntime: '1500ms',
      initdead: '12000ms',
      deadping: '3000ms',
      udpport: '694',
      baud: '19200',
      auto_failback: 'on',
      debug: '0',
    });
  });

  it.each([
    [3000, 12000],
    [8000, 16000],
    [20000, 20000],
  ])('derives initdead from deadtime %d ms as %d ms', (deadtime, initdead) => {
    expect(parse(`${BASE}deadtime ${deadtime}ms\n`).haCf.initdeadMs).toBe(initdead);
  });

  it('reads units and fractions', () => {
    const { haCf } = parse(`${BASE}keepalive 500ms\ndeadtime 2.5\nwarntime 1500ms\ninitdead 10000ms\n`);
    expect(haCf).toMatchObject({ keepaliveMs: 500, deadtimeMs: 2500, warntimeMs: 1500, initdeadMs: 10000 });
  });
});

describe('ha.cf lexical rules', () => {
  it('splits option values on blanks and commas and applies each in turn', () => {
    expect(parse('bcast eth0,eth1\nnode a,B c\n').haCf.nodes).toEqual(['a', 'b', 'c']);
    expect(parse('bcast eth0 eth1\nnode a b\n').haCf.media.map((m) => 'dev' in m && m.dev)).toEqual([
      'eth0',
      'eth1',
    ]);
    const twice = parse(`${BASE}keepalive 1 2\ndeadtime 10\n`);
    expect(twice.haCf.keepaliveMs).toBe(2000);
    expect(twice.diagnostics.map(formatDiagnostic).join('\n')).toMatch(
      /ha\.cf:5:1: warning: keepalive is given 2 values/,
    );
  });

  it('strips comments anywhere and CR at the end of a line', () => {
    const { haCf, diagnostics } = parse(
      '  logfile /x   # trailing\r\n\t keepalive\t1\r\n#deadtime 1\ndeadtime 3 # c\nbcast eth0\nnode ra1\n',
    );
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(haCf).toMatchObject({ logfile: '/x', keepaliveMs: 1000, deadtimeMs: 3000 });
  });

  it('latches udpport and baud at the first medium that uses them, as heartbeat does', () => {
    const late = parse('bcast eth0\nudpport 695\nucast eth1 10.0.0.2\nnode ra1\nlogfile /x\n');
    expect(late.haCf.media).toEqual([
      { kind: 'bcast', dev: 'eth0', port: 694 },
      { kind: 'ucast', dev: 'eth1', peer: '10.0.0.2', port: 695 },
    ]);
    expect(late.diagnostics.map(formatDiagnostic).join('\n')).toMatch(
      /ha\.cf:2:9: warning: udpport 695 comes after the bcast line on line 1: heartbeat keeps port 694/,
    );
    const baud = parse('serial /dev/ttyS0\nbaud 38400\nnode ra1\nlogfile /x\n');
    expect(baud.haCf.media[0]).toEqual({ kind: 'serial', device: '/dev/ttyS0', baud: 19200 });
    expect(baud.diagnostics.map(formatDiagnostic).join('\n')).toMatch(
      /ha\.cf:2:6: warning: baud 38400 comes after the serial line/,
    );
  });

  it('treats udp as bcast, with a warning', () => {
    const r = parse('udp eth0\nnode ra1\nlogfile /x\n');
    expect(r.haCf.media).toEqual([{ kind: 'bcast', dev: 'eth0', port: 694 }]);
    expect(r.diagnostics.map(formatDiagnostic)[0]).toMatch(
      /ha\.cf:1:1: warning: directive "udp" is an old name for "bcast"/,
    );
  });

  it('parses every media and whole-line directive', () => {
    const { haCf, diagnostics } = parse(
      [
        'mcast eth0 239.0.0.1 694 1 0',
        'mcast6 eth0 ff02::1:694 694 1 1',
        'ucast eth1 node2.example',
        'ucast6 eth1 fe80::2',
        'serial /dev/ttyS0 /dev/ttyS1',
        'ping 10.0.0.254',
        'ping_group routers 10.0.0.253 10.0.0.254',
        'stonith_host * external/ipmi node2 10.0.0.9 admin secret lan',
        'stonith_host ra2 bogus type',
        'apiauth ipfail uid=hacluster,root gid=haclient',
        'respawn hacluster /usr/lib/heartbeat/ipfail -v',
        'env STOPRETRYMAX=2',
        'node ra1 ra2',
        'logfile /x',
      ].join('\n'),
    );
    // IPv6 media parse like heartbeat's and are run (src/media/udp6.ts).
    expect(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
    expect(haCf.media).toEqual([
      { kind: 'mcast', dev: 'eth0', group: '239.0.0.1', port: 694, ttl: 1, loop: false },
      { kind: 'mcast6', dev: 'eth0', group: 'ff02::1:694', port: 694, hops: 1, loop: true },
      { kind: 'ucast', dev: 'eth1', peer: 'node2.example', port: 694 },
      { kind: 'ucast6', dev: 'eth1', peer: 'fe80::2', port: 694 },
      { kind: 'serial', device: '/dev/ttyS0', baud: 19200 },
      { kind: 'serial', device: '/dev/ttyS1', baud: 19200 },
    ]);
    expect(haCf.pingNodes).toEqual([
      { kind: 'ping', host: '10.0.0.254' },
      { kind: 'ping_group', name: 'routers', hosts: ['10.0.0.253', '10.0.0.254'] },
    ]);
    // The stonith_host line for ra2 does not apply to ra1 and is ignored, even though invalid.
    expect(haCf.stonith).toEqual([
      { kind: 'stonith_host', from: '*', type: 'external/ipmi', params: 'node2 10.0.0.9 admin secret lan' },
    ]);
    expect(haCf.apiauth).toEqual([{ client: 'ipfail', uids: ['hacluster', 'root'], gids: ['haclient'] }]);
    expect(haCf.clientChildren).toEqual([
      { failfast: false, user: 'hacluster', command: '/usr/lib/heartbeat/ipfail', args: ['-v'] },
    ]);
    expect(haCf.env).toEqual([['STOPRETRYMAX', '2']]);
  });

  it('reads nice_failback as heartbeat does', () => {
    expect(parse(`${BASE}nice_failback on\n`).haCf.autoFailback).toBe('off'); // after auto_failback on
    expect(parse('bcast eth0\nnode ra1\nlogfile /x\nnice_failback on\n').haCf.autoFailback).toBe('legacy');
    expect(parse('bcast eth0\nnode ra1\nlogfile /x\nauto_failback YES\n').haCf.autoFailback).toBe('on');
  });
});

describe('ha.cf mistakes', () => {
  it.each([
    ['deadtiem 10', /ha\.cf:5:1: error: unknown directive "deadtiem" \(did you mean "deadtime"\?\)/],
    [
      'KeepAlive 1',
      /ha\.cf:5:1: error: unknown directive "KeepAlive" \(did you mean "keepalive"\? \(directives are case-sensitive\)\)/,
    ],
    ['normalpoll true', /ha\.cf:5:1: error: directive "normalpoll" is not supported/],
    ['keepalive abc', /ha\.cf:5:11: error: keepalive: "abc" is not a time/],
    ['keepalive 0', /ha\.cf:5:11: error: keepalive must be greater than 0/],
    ['deadtime 10s', /ha\.cf:5:10: error: deadtime: unknown time unit "s"/],
    ['deadtime 10 ms', /ha\.cf:5:13: error: deadtime: "ms" is not a time/],
    [
      'deadtime 2\nkeepalive 1',
      /ha\.cf:5:1: error: deadtime 2000 ms is too small compared to keepalive 1000 ms/,
    ],
    ['deadtime 3\ninitdead 2', /ha\.cf:6:1: error: initdead 2000 ms is smaller than deadtime 3000 ms/],
    ['deadping 1', /ha\.cf:5:1: error: deadping 1000 ms is too small compared to keepalive/],
    ['warntime 0', /ha\.cf:5:10: error: warntime must be greater than 0/],
    ['udpport 0', /ha\.cf:5:9: error: invalid udpport "0"/],
    ['udpport 70000', /ha\.cf:5:9: error: udpport 70000 is out of range/],
    ['baud 1234', /ha\.cf:5:6: error: invalid baud rate "1234"/],
    ['baud 19200\nbaud 38400', /ha\.cf:6:6: error: baud given twice/],
    ['auto_failback maybe', /ha\.cf:5:15: error: auto_failback: "maybe" is not on, off or legacy/],
    ['hopfudge 300', /ha\.cf:5:10: error: hopfudge 300 is out of range \(use 0\.\.255\)/],
    ['hbgenmethod bogus', /error: hbgenmethod "bogus" is not file or time/],
    ['msgfmt bogus', /error: msgfmt "bogus" is not classic or netstring/],
    ['logfacility bogus', /error: unknown log facility "bogus"/],
    ['logfacility locl0', /error: unknown log facility "locl0" \(did you mean "local0"\?\)/],
    ['realtime maybe', /error: realtime: "maybe" is not a boolean/],
    ['rtprio 200', /error: rtprio 200 is out of range/],
    ['compression bogus', /error: unknown compression module "bogus"/],
    ['compression_threshold 0', /error: compression_threshold 0 is out of range/],
    ['max_rexmit_delay 0', /error: max_rexmit_delay 0 is out of range/],
    ['env =bar', /error: env "=bar" is not NAME=VALUE/],
    ['autojoin any', /error: autojoin any conflicts with haresources resource management/],
    ['autojoin bogus', /error: autojoin "bogus" is not none, other or any/],
    [
      'crm on',
      /ha\.cf:5:5: error: crm on: tsbeat runs heartbeat's own resource manager \(haresources\), not Pacemaker/,
    ],
    ['crm off\ncrm off', /ha\.cf:6:5: error: pacemaker\/crm given twice \(first on line 5\)/],
    [
      'crm off\ncrmd_spawns_pengine yes',
      /ha\.cf:6:21: error: crmd_spawns_pengine must come before the pacemaker\/crm line \(line 5\)/,
    ],
    ['mcast eth0 225.0.0.7', /ha\.cf:5:1: error: mcast eth0: missing port/],
    [
      'mcast eth0 10.0.0.7 694 1 0',
      /ha\.cf:5:12: error: mcast eth0: "10\.0\.0\.7" is not a multicast address/,
    ],
    [
      'mcast eth0 239.0.0.7 694 5 0',
      /ha\.cf:5:26: error: mcast eth0: bad ttl "5" \(heartbeat accepts 0\.\.4\)/,
    ],
    ['mcast eth0 239.0.0.7 694 1 2', /ha\.cf:5:28: error: mcast eth0: bad loop "2"/],
    [
      'mcast6 eth0 ff02::1 694 5 0',
      /ha\.cf:5:25: error: mcast6 eth0: bad hops "5" \(heartbeat accepts 0\.\.4\)/,
    ],
    ['mcast6', /ha\.cf:5:1: error: mcast6 needs a device/],
    ['ucast eth0', /ha\.cf:5:1: error: ucast eth0: missing peer address or host name/],
    ['serial ttyS0', /ha\.cf:5:8: error: serial device "ttyS0" is not an absolute path/],
    ['stonith_host', /ha\.cf:5:1: error: stonith_host needs a node/],
    ['stonith_host * null', /ha\.cf:5:16: error: stonith_host: device null has no parameters/],
    ['apiauth myclient', /ha\.cf:5:1: error: apiauth: myclient: give uid= or gid=/],
    ['apiauth myclient foo=bar', /error: apiauth: myclient: "foo=bar" is neither uid= nor gid=/],
    [
      'respawn hacluster relative/path',
      /ha\.cf:5:19: error: respawn: command "relative\/path" is not an absolute path/,
    ],
    ['use_logd no\nlogfile /x', /.^/], // a log target is present: fine
  ])('%j', (line, re) => {
    const text = `${BASE}${line}\n`;
    if (re.source === '.^') {
      expect(errorsOf(text)).toEqual([]);
      return;
    }
    expect(errorsOf(text).join('\n')).toMatch(re);
  });

  it('reports file-level omissions without a line', () => {
    const errs = errorsOf('logfile /x\n');
    expect(errs).toContain(
      'ha.cf: error: no heartbeat media defined (add a media line, e.g. "mcast eth0 239.0.0.1 694 1 0", "bcast eth0" or "ucast eth0 PEER-IP")',
    );
    expect(errs.join('\n')).toMatch(/ha\.cf: error: no nodes defined/);
  });

  it('refuses to log nowhere', () => {
    expect(errorsOf('bcast eth0\nnode ra1\nuse_logd no\n').join('\n')).toMatch(
      /ha\.cf:3:1: error: no logfile, debugfile or logfacility, and use_logd is off/,
    );
  });

  it('escapes control characters in names it quotes', () => {
    expect(errorsOf(`${BASE}dead\u0001time 3\n`).join('\n')).toContain('unknown directive "dead\\x01time"');
  });

  it('collects every error instead of stopping at the first', () => {
    expect(errorsOf(`${BASE}foo 1\nbar 2\nkeepalive x\n`)).toHaveLength(3);
  });

  it('never throws on arbitrary input', () => {
    const junk = [
      '\u0000\u0000',
      'node',
      'mcast',
      'ucast \t,',
      '#',
      '\\',
      'stonith_host *',
      'x'.repeat(6000),
      'apiauth uid=',
    ];
    for (const j of junk) expect(() => parse(`${j}\n${j}`)).not.toThrow();
  });
});
