/**
 * Property: printing a parsed configuration and parsing the printed text again gives the
 * same configuration. Inputs are random ha.cf and haresources files built from every kind
 * of directive, in random order (udpport and baud anywhere, so the "latched by the first
 * medium" rule is exercised), with comments, commas, tabs and CRLF line endings.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHaCf } from '../../../src/config/hacf.js';
import { parseHaresources } from '../../../src/config/haresources.js';
import { printHaCf, printHaresources } from '../../../src/config/print.js';

const name = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,8}$/);
const dev = fc.constantFrom('eth0', 'eth1', 'bond0', 'ens3');
const octet = fc.integer({ min: 0, max: 255 });
const ip = fc.tuple(fc.integer({ min: 1, max: 223 }), octet, octet, octet).map((p) => p.join('.'));
const group = fc.tuple(fc.integer({ min: 224, max: 239 }), octet, octet, octet).map((p) => p.join('.'));
const port = fc.integer({ min: 1, max: 65535 });
const time = fc.oneof(
  fc.integer({ min: 1, max: 120 }).map(String),
  fc.integer({ min: 1, max: 120000 }).map((n) => `${n}ms`),
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 9 })).map(([a, b]) => `${a}.${b}`),
);
const bool = fc.constantFrom('on', 'off', 'yes', 'no', 'true', 'false', '1', '0', 'YES');

const haCfLine = fc.oneof(
  fc
    .array(name, { minLength: 1, maxLength: 3 })
    .map((n) => `node ${n.join(fc.sample(fc.constantFrom(' ', ',', ', ', '\t'), 1)[0])}`),
  fc
    .tuple(
      fc.constantFrom('keepalive', 'deadtime', 'warntime', 'initdead', 'deadping', 'conn_logd_time'),
      time,
    )
    .map(([d, t]) => `${d} ${t}`),
  dev.map((d) => `bcast ${d}`),
  fc
    .tuple(dev, group, port, fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 1 }))
    .map((a) => `mcast ${a.join(' ')}`),
  fc.tuple(dev, ip).map(([d, i]) => `ucast ${d} ${i}`),
  fc.integer({ min: 0, max: 3 }).map((n) => `serial /dev/ttyS${n}`),
  port.map((p) => `udpport ${p}`),
  fc.constantFrom(9600, 19200, 38400, 115200).map((b) => `baud ${b}`),
  fc.constantFrom('on', 'off', 'legacy', 'YES').map((v) => `auto_failback ${v}`),
  bool.map((b) => `nice_failback ${b}`),
  fc
    .tuple(
      fc.constantFrom(
        'realtime',
        'coredumps',
        'log_badpack',
        'syslogmsgfmt',
        'traditional_compression',
        'use_logd',
      ),
      bool,
    )
    .map(([d, b]) => `${d} ${b}`),
  fc.constantFrom(
    'msgfmt classic',
    'msgfmt netstring',
    'hbgenmethod time',
    'uuidfrom nodename',
    'compression bz2',
    'autojoin none',
  ),
  fc.integer({ min: 0, max: 255 }).map((n) => `hopfudge ${n}`),
  fc.integer({ min: 1, max: 10000 }).map((n) => `max_rexmit_delay ${n}`),
  fc.constantFrom(
    'logfacility local0',
    'logfacility daemon',
    'logfile /var/log/ha-log',
    'debugfile /var/log/ha-debug',
    'cluster prod',
  ),
  fc.tuple(name, name).map(([a, b]) => `stonith_host * null ${a} ${b}`),
  fc.tuple(name, name).map(([a, b]) => `apiauth ${a} uid=${b}`),
  fc.tuple(name, name).map(([a, b]) => `env ${a.toUpperCase()}=${b}`),
  ip.map((h) => `ping ${h}`),
  fc.tuple(name, ip, ip).map(([n, a, b]) => `ping_group ${n} ${a} ${b}`),
  fc.constantFrom('crm off', 'pacemaker no', 'respawn hacluster /usr/lib/heartbeat/ipfail'),
  fc.constantFrom('# a comment', '', '   ', '\t# indented comment'),
);

const haCfText = fc
  .tuple(
    fc.array(haCfLine, { minLength: 1, maxLength: 25 }),
    fc.boolean(),
    fc.constantFrom('', ' # trailing'),
  )
  .map(([lines, crlf, trailer]) =>
    lines.map((l) => `${l}${l.startsWith('#') || l.trim() === '' ? '' : trailer}`).join(crlf ? '\r\n' : '\n'),
  );

describe('ha.cf round trip', () => {
  it('parse(print(parse(text))) equals parse(text)', () => {
    fc.assert(
      fc.property(haCfText, (text) => {
        const first = parseHaCf(text, { file: 'ha.cf', localNode: 'a' }).haCf;
        const printed = printHaCf(first);
        const second = parseHaCf(printed, { file: 'ha.cf', localNode: 'a' }).haCf;
        expect(second).toEqual(first);
      }),
      { numRuns: 1000 },
    );
  });
});

const resource = fc.oneof(
  ip,
  fc.tuple(ip, fc.integer({ min: 8, max: 32 }), dev).map(([i, b, d]) => `${i}/${b}/${d}`),
  fc.tuple(ip, fc.integer({ min: 8, max: 32 })).map(([i, b]) => `IPaddr2::${i}/${b}`),
  name.map((n) => `drbddisk::${n}`),
  fc.tuple(name, name).map(([a, b]) => `Filesystem::/dev/${a}::/srv/${b}::ext4`),
  name,
);

describe('haresources round trip', () => {
  it('parse(print(parse(text))) equals parse(text)', () => {
    const line = fc
      .tuple(name, fc.array(resource, { minLength: 1, maxLength: 5 }), fc.boolean())
      .map(([n, rs, cont]) =>
        cont ? `${n} ${rs[0]} \\\n   ${rs.slice(1).join('\t')}` : `${n}  ${rs.join(' ')}`,
      );
    fc.assert(
      fc.property(fc.array(fc.oneof(line, fc.constant('# comment')), { maxLength: 8 }), (lines) => {
        const first = parseHaresources(lines.join('\n'), 'haresources').groups;
        const second = parseHaresources(printHaresources(first), 'haresources').groups;
        expect(second).toEqual(first);
      }),
      { numRuns: 1000 },
    );
  });
});
