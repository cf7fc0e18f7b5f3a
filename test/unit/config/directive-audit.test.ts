/**
 * The audit of issue 11 item 8: every ha.cf directive tsbeat accepts is either honoured or
 * warned about, with its file:line. The table below classifies each directive of
 * KNOWN_DIRECTIVES (a new directive fails the completeness test until it is classified):
 * - honoured: tsbeat acts on it; the test proves there is no diagnostic on its line, and
 *   that the module named as doing it really reads the value (the token is in that file);
 * - warning / error: the test proves the exact diagnostic on the directive's line.
 * Directives honoured by modules the daemon must still call (compression, uuidfrom,
 * realtime, coredumps: see the comment above AUDIT) name those modules; until the daemon calls them the
 * directive is accepted silently, which the report of this change says.
 * Each case runs through parseHaCf and validate (no host) with a base configuration that is
 * itself free of diagnostics on lines 1..5; a second part checks what start will do of
 * realtime and coredumps on a host without chrt, prlimit or RT throttling.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KNOWN_DIRECTIVES, parseHaCf } from '../../../src/config/hacf.js';
import { validateHost } from '../../../src/config/validate.js';
import { type Diagnostic, formatDiagnostic } from '../../../src/lib/diagnostic.js';
import { REPO } from '../../support/cli.js';
import { fakeHost } from '../../support/fake-host.js';

const BASE = 'bcast eth0\nnode ra1 ra2\nlogfile /var/log/ha-log\nauto_failback on\ndeadtime 10\n';
const LINE = 6;

type Verdict =
  | { readonly honoured: readonly [file: string, token: string] }
  | { readonly warning: RegExp }
  | { readonly error: RegExp };

// Honoured by functions the daemon must call (until it does, these are accepted silently):
// compression, compression_threshold, traditional_compression: encodeNetstringFrame(...,
// { compression: compressionPolicy(haCf) }) in ClusterNode.transmit; uuidfrom: nodeUuid(file,
// { uuidfrom, nodename }); realtime, rtprio, coredumps: applyOsTuning() at start.

const AUDIT: readonly (readonly [directive: string, line: string, verdict: Verdict])[] = [
  ['cluster', 'cluster prod', { honoured: ['src/daemon/view.ts', 'params'] }],
  ['node', 'node ra3', { honoured: ['src/daemon/daemon.ts', 'h.nodes'] }],
  ['hopfudge', 'hopfudge 2', { honoured: ['src/daemon/daemon.ts', 'h.hopfudge'] }],
  ['keepalive', 'keepalive 2', { honoured: ['src/daemon/daemon.ts', 'h.keepaliveMs'] }],
  ['deadtime', 'deadtime 12', { honoured: ['src/daemon/daemon.ts', 'h.deadtimeMs'] }],
  ['initdead', 'initdead 30', { honoured: ['src/daemon/daemon.ts', 'h.initdeadMs'] }],
  ['warntime', 'warntime 5', { honoured: ['src/daemon/daemon.ts', 'h.warntimeMs'] }],
  [
    'deadping',
    'deadping 20',
    { warning: /^ha\.cf:6:10: warning: deadping has no effect: there are no ping nodes$/ },
  ],
  ['watchdog', 'watchdog /dev/watchdog', { honoured: ['src/daemon/daemon.ts', 'Watchdog.open'] }],
  ['baud', 'baud 38400', { honoured: ['src/daemon/media-factory.ts', 'm.baud'] }],
  ['udpport', 'udpport 694', { honoured: ['src/daemon/media-factory.ts', 'm.port'] }],
  ['logfacility', 'logfacility daemon', { honoured: ['src/daemon/daemon.ts', 'h.logfacility'] }],
  ['logfile', 'logfile /var/log/other', { honoured: ['src/daemon/daemon.ts', 'h.logfile'] }],
  ['debugfile', 'debugfile /var/log/ha-debug', { honoured: ['src/daemon/daemon.ts', 'h.debugfile'] }],
  ['nice_failback', 'nice_failback on', { warning: /^ha\.cf:6:15: warning: nice_failback is obsolete/ }],
  ['auto_failback', 'auto_failback off', { honoured: ['src/daemon/daemon.ts', 'h.autoFailback'] }],
  [
    'rtprio',
    'rtprio 5',
    {
      warning:
        /^ha\.cf:6:8: warning: realtime: tsbeat runs at SCHED_RR priority 5 as heartbeat does, but cannot lock its memory \(Node has no mlockall\)/,
    },
  ],
  ['hbgenmethod', 'hbgenmethod time', { honoured: ['src/daemon/daemon.ts', 'h.hbgenmethod'] }],
  [
    'realtime',
    'realtime on',
    {
      warning:
        /^ha\.cf:6:10: warning: realtime: tsbeat runs at SCHED_RR priority 1 as heartbeat does, but cannot lock its memory \(Node has no mlockall\) \(see ha\.cf\(5\)/,
    },
  ],
  ['debug', 'debug 1', { honoured: ['src/daemon/daemon.ts', 'h.debugLevel'] }],
  ['msgfmt', 'msgfmt netstring', { honoured: ['src/daemon/daemon.ts', 'h.msgfmt'] }],
  ['use_logd', 'use_logd on', { warning: /^ha\.cf:6:1: warning: use_logd is on: tsbeat has no ha_logd/ }],
  [
    'conn_logd_time',
    'conn_logd_time 30',
    {
      warning:
        /^ha\.cf:6:16: warning: conn_logd_time: tsbeat has no ha_logd to reconnect to; this line has no effect$/,
    },
  ],
  [
    'use_apphbd',
    'use_apphbd yes',
    {
      warning:
        /^ha\.cf:6:12: warning: use_apphbd: tsbeat does not register with apphbd; this line is ignored$/,
    },
  ],
  [
    'log_badpack',
    'log_badpack off',
    { warning: /^ha\.cf:6:13: warning: log_badpack off: tsbeat logs rejected packets anyway, rate-limited/ },
  ],
  ['syslogmsgfmt', 'syslogmsgfmt off', { honoured: ['src/daemon/daemon.ts', "'syslogmsgfmt'"] }],
  ['coredumps', 'coredumps on', { honoured: ['src/daemon/os-tuning.ts', 'prlimit'] }],
  [
    'coreroot',
    'coreroot /var/lib/heartbeat/cores',
    {
      warning:
        /^ha\.cf:6:10: warning: coreroot: tsbeat does not change directory for core files; kernel\.core_pattern decides/,
    },
  ],
  [
    'crm_daemon_dir',
    'crm_daemon_dir /usr/lib/pacemaker',
    { warning: /^ha\.cf:6:16: warning: crm_daemon_dir only matters to Pacemaker/ },
  ],
  [
    'crmd_spawns_pengine',
    'crmd_spawns_pengine yes',
    { warning: /^ha\.cf:6:21: warning: crmd_spawns_pengine only matters to Pacemaker/ },
  ],
  ['crm', 'crm off', { honoured: ['src/daemon/view.ts', 'pacemaker'] }],
  ['pacemaker', 'pacemaker off', { honoured: ['src/daemon/view.ts', 'pacemaker'] }],
  ['autojoin', 'autojoin none', { honoured: ['src/membership/core.ts', "kind: 'badNode'"] }],
  ['uuidfrom', 'uuidfrom nodename', { honoured: ['src/daemon/state-files.ts', "uuidfrom === 'nodename'"] }],
  ['compression', 'compression zlib', { honoured: ['src/codec/compression.ts', 'deflateSync'] }],
  [
    'compression_threshold',
    'compression_threshold 4',
    { honoured: ['src/codec/compression.ts', 'compressionThresholdKb * 1024'] },
  ],
  [
    'traditional_compression',
    'traditional_compression yes',
    { honoured: ['src/codec/compression.ts', 'traditionalCompression'] },
  ],
  ['env', 'env STOPRETRYMAX=2', { honoured: ['src/daemon/daemon.ts', 'h.env'] }],
  ['max_rexmit_delay', 'max_rexmit_delay 100', { honoured: ['src/daemon/daemon.ts', 'h.maxRexmitDelayMs'] }],
  [
    'record_config_changes',
    'record_config_changes off',
    { warning: /^ha\.cf:6:23: warning: record_config_changes only matters to Pacemaker/ },
  ],
  [
    'record_pengine_inputs',
    'record_pengine_inputs off',
    { warning: /^ha\.cf:6:23: warning: record_pengine_inputs only matters to Pacemaker/ },
  ],
  [
    'enable_config_writes',
    'enable_config_writes off',
    { warning: /^ha\.cf:6:22: warning: enable_config_writes only matters to Pacemaker/ },
  ],
  [
    'memreserve',
    'memreserve 8000',
    {
      warning:
        /^ha\.cf:6:12: warning: memreserve: tsbeat does not preallocate or lock memory; this line is ignored$/,
    },
  ],
  [
    'quorum_server',
    'quorum_server q.example',
    {
      warning:
        /^ha\.cf:6:15: warning: quorum_server is not used by heartbeat in haresources mode; tsbeat ignores it$/,
    },
  ],
  ['bcast', 'bcast eth1', { honoured: ['src/daemon/media-factory.ts', 'udpBcast'] }],
  ['serial', 'serial /dev/ttyS0', { honoured: ['src/daemon/media-factory.ts', 'serialMedium'] }],
  ['mcast', 'mcast eth1 239.0.0.9 694 1 0', { honoured: ['src/daemon/media-factory.ts', 'udpMcast'] }],
  ['ucast', 'ucast eth1 10.0.0.2', { honoured: ['src/daemon/media-factory.ts', 'udpUcast'] }],
  ['ping', 'ping 10.0.0.254', { honoured: ['src/daemon/daemon.ts', 'pingNodeSpecs'] }],
  ['ping6', 'ping6 fe80::1', { honoured: ['src/ping/nodes.ts', "'ping6'"] }],
  [
    'ping_group',
    'ping_group routers 10.0.0.253 10.0.0.254',
    { honoured: ['src/ping/nodes.ts', "'ping_group'"] },
  ],
  ['mcast6', 'mcast6 eth0 ff02::1:2 694 1 0', { honoured: ['src/daemon/media-factory.ts', 'udpMcast6'] }],
  [
    'ucast6',
    'ucast6 eth0 node2',
    {
      error: /^ha\.cf:6:1: error: ucast6 eth0: tsbeat needs the peer as an IPv6 address, not "node2"/,
    },
  ],
  ['stonith', 'stonith null /etc/ha.d/stonith.cfg', { honoured: ['src/daemon/daemon.ts', 'h.stonith'] }],
  ['stonith_host', 'stonith_host * null ra1 ra2', { honoured: ['src/daemon/daemon.ts', 'h.stonith'] }],
  [
    'apiauth',
    'apiauth ipfail uid=hacluster',
    {
      warning:
        /^ha\.cf:6:1: warning: apiauth ipfail: ipfail is built into tsbeat and uses no client API; this line has no effect$/,
    },
  ],
  [
    'respawn',
    'respawn hacluster /usr/lib/heartbeat/ipfail',
    { honoured: ['src/ping/ipfail-setup.ts', 'isIpfailCommand'] },
  ],
  [
    'failfast',
    'failfast hacluster /usr/lib/heartbeat/ccm',
    { warning: /^ha\.cf:6:1: warning: failfast: tsbeat does not run failfast clients/ },
  ],
];

function diagnosticsOn(line: string): Diagnostic[] {
  const r = parseHaCf(`${BASE}${line}\n`, { file: 'ha.cf', localNode: 'ra1' });
  return r.diagnostics.filter((d) => d.line === LINE || (d.line === undefined && d.severity === 'error'));
}

describe('ha.cf directive audit', () => {
  it('classifies every directive tsbeat accepts', () => {
    expect(AUDIT.map(([d]) => d).sort()).toEqual([...KNOWN_DIRECTIVES].sort());
  });

  it('the base configuration has no diagnostic on its own lines', () => {
    const r = parseHaCf(BASE, { file: 'ha.cf', localNode: 'ra1' });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  });

  it.each(AUDIT.map(([d, l, v]) => [d, l, v] as const))('%s ("%s")', (_directive, line, verdict) => {
    const shown = diagnosticsOn(line).map(formatDiagnostic);
    if ('honoured' in verdict) {
      expect(shown).toEqual([]);
      const [file, token] = verdict.honoured;
      expect(readFileSync(`${REPO}${file}`, 'utf8'), `${file} should act on it`).toContain(token);
    } else if ('warning' in verdict) {
      expect(shown.filter((s) => s.includes(': error: '))).toEqual([]);
      expect(
        shown.some((s) => verdict.warning.test(s)),
        shown.join('\n'),
      ).toBe(true);
    } else {
      expect(
        shown.some((s) => verdict.error.test(s)),
        shown.join('\n'),
      ).toBe(true);
    }
  });
});

describe('directive values that change the verdict', () => {
  it.each([
    ['realtime off', []],
    ['realtime off\nrtprio 10', [/^ha\.cf:7:8: warning: rtprio 10 has no effect: realtime is off$/]],
    ['use_apphbd no', []],
    ['log_badpack on', []],
    [
      'compression bz2',
      [
        /^ha\.cf:6:1: warning: compression bz2: Node has no bzip2, so tsbeat sends zlib \(heartbeat reads it\) and cannot read bz2-compressed messages from heartbeat nodes \(write "compression zlib" on every node\)$/,
      ],
    ],
    [
      'traditional_compression yes\ncompression_threshold 8\ncompression bz2',
      [
        /^ha\.cf:8:1: warning: compression bz2: .*from heartbeat nodes, which they send for every message above 8 KB/,
      ],
    ],
    ['ping 10.0.0.1 10.0.0.2\ndeadping 20', []],
    ['apiauth anon gid=haclient', []],
    [
      'apiauth anon uid=alice,bob gid=ops,dba',
      [
        /^ha\.cf:6:1: warning: apiauth anon: tsbeat opens its control socket to root and group ops only; not honoured: uid=alice, uid=bob, gid=dba/,
      ],
    ],
    ['uuidfrom nodename\nnode node1 node2', []],
  ] as const)('%j', (lines, expected) => {
    const r = parseHaCf(`${BASE}${lines}\n`, { file: 'ha.cf', localNode: 'ra1' });
    const shown = r.diagnostics.filter((d) => (d.line ?? 0) > 5).map(formatDiagnostic);
    expect(shown).toHaveLength(expected.length);
    for (const re of expected)
      expect(
        shown.some((s) => re.test(s)),
        shown.join('\n'),
      ).toBe(true);
  });
});

describe('what start will do on this machine (host checks)', () => {
  const haCfText = (extra: string) => `${BASE}${extra}`;
  const host = (programs: Record<string, string>, throttle: string) =>
    fakeHost({
      hostname: 'ra1',
      interfaces: [{ name: 'eth0', ipv4: [{ address: '10.0.0.1', prefixLen: 24, broadcast: '10.0.0.255' }] }],
      paths: { '/var/log': 'directory' },
      executables: [],
      users: ['root'],
      groups: ['root'],
      hosts: {},
      udpServices: {},
      programs,
      texts: { '/proc/sys/kernel/sched_rt_runtime_us': `${throttle}\n` },
    });
  const run = (extra: string, h: ReturnType<typeof host>) => {
    const parsed = parseHaCf(haCfText(extra), { file: 'ha.cf', localNode: 'ra1' });
    return validateHost(
      {
        haCf: parsed.haCf,
        haCfSource: parsed.source,
        haCfFile: 'ha.cf',
        groups: [],
        groupsSource: { groups: [] },
        haresourcesFile: 'haresources',
        localNode: 'ra1',
        localNodeOrigin: '--node',
        scriptDirs: [],
      },
      h,
    ).map(formatDiagnostic);
  };
  const ALL = { chrt: '/usr/bin/chrt', prlimit: '/usr/bin/prlimit' };

  it.each([
    ['defaults, tools present, throttling on', '', ALL, '950000', []],
    [
      'no chrt',
      '',
      { prlimit: '/usr/bin/prlimit' },
      '950000',
      [
        /^ha\.cf: warning: realtime: chrt \(util-linux\) is not installed, so tsbeat will run at nice -10 instead of SCHED_RR \(apt-get install util-linux\)$/,
      ],
    ],
    ['no chrt, realtime off', 'realtime off\n', { prlimit: '/usr/bin/prlimit' }, '950000', []],
    [
      'RT throttling off',
      'realtime yes\n',
      ALL,
      '-1',
      [
        /^ha\.cf:6:10: warning: realtime: tsbeat runs at SCHED_RR/,
        /^ha\.cf:6:1: warning: realtime: the kernel does not throttle real-time tasks \(kernel\.sched_rt_runtime_us = -1\), so tsbeat will not run SCHED_RR/,
      ],
    ],
    [
      'no prlimit',
      'coredumps yes\n',
      { chrt: '/usr/bin/chrt' },
      '950000',
      [
        /^ha\.cf:6:1: warning: coredumps: prlimit \(util-linux\) is not installed, so tsbeat cannot raise its core file size limit/,
      ],
    ],
    ['no prlimit, coredumps off', 'coredumps off\n', { chrt: '/usr/bin/chrt' }, '950000', []],
  ] as const)('%s', (_name, extra, programs, throttle, expected) => {
    const parsedWarnings = parseHaCf(haCfText(extra), { file: 'ha.cf', localNode: 'ra1' }).diagnostics.map(
      formatDiagnostic,
    );
    const shown = [...parsedWarnings, ...run(extra, host(programs, throttle))];
    expect(shown).toHaveLength(expected.length);
    for (const re of expected)
      expect(
        shown.some((s) => re.test(s)),
        shown.join('\n'),
      ).toBe(true);
  });
});
