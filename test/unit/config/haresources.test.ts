/**
 * haresources grammar as heartbeat's ResourceManager reads it: node then resources,
 * comments, backslash continuation, blank runs, the bare-IP shorthand meaning IPaddr,
 * `Script::arg::arg`, several groups per node, unique group keys, and the checks
 * heartbeat leaves to run time (bad addresses, CRLF) reported with file:line:col.
 */
import { describe, expect, it } from 'vitest';
import {
  isIpShorthand,
  parseHaresources,
  parseIpSpec,
  parseResource,
} from '../../../src/config/haresources.js';
import { formatDiagnostic } from '../../../src/lib/diagnostic.js';

const parse = (t: string) => parseHaresources(t, 'haresources');
const errors = (t: string) =>
  parse(t)
    .diagnostics.filter((d) => d.severity === 'error')
    .map(formatDiagnostic);

describe('resources', () => {
  it.each([
    ['10.0.0.1', 'IPaddr', ['10.0.0.1']],
    ['10.0.0.1/24/eth0/10.0.0.255', 'IPaddr', ['10.0.0.1/24/eth0/10.0.0.255']],
    ['IPaddr2::10.0.0.10/24', 'IPaddr2', ['10.0.0.10/24']],
    ['Filesystem::/dev/drbd0::/srv::ext4', 'Filesystem', ['/dev/drbd0', '/srv', 'ext4']],
    ['drbddisk::r0', 'drbddisk', ['r0']],
    ['ldirectord', 'ldirectord', []],
    ['MailTo::root@example.com::a:b', 'MailTo', ['root@example.com', 'a:b']],
    ['Filesystem::/dev/sda1::::ext3', 'Filesystem', ['/dev/sda1', 'ext3']],
  ])('%s -> %s %j', (spec, script, args) => {
    expect(parseResource(spec)).toEqual({ spec, script, args });
  });

  it('recognises the IP shorthand with the shell pattern heartbeat uses', () => {
    expect(isIpShorthand('1.2.3.4')).toBe(true);
    expect(isIpShorthand('IPaddr::1.2.3.4')).toBe(false);
    expect(isIpShorthand('apache')).toBe(false);
  });

  it('splits IPaddr address arguments like the wrappers', () => {
    expect(parseIpSpec('10.0.0.1/24/eth0:0/10.0.0.255')).toEqual({
      ok: true,
      value: { ip: '10.0.0.1', cidrNetmask: 24, nic: 'eth0', label: '0', broadcast: '10.0.0.255' },
    });
    expect(parseIpSpec('10.0.0.1/255.255.255.128/10.0.0.127')).toEqual({
      ok: true,
      value: { ip: '10.0.0.1', cidrNetmask: 25, broadcast: '10.0.0.127' },
    });
    expect(parseIpSpec('10.0.0.300').ok).toBe(false);
    expect(parseIpSpec('10.0.0.1/33').ok).toBe(false);
    expect(parseIpSpec('10.0.0.1/255.0.255.0').ok).toBe(false);
  });
});

describe('groups', () => {
  it('reads the lab file shapes', () => {
    const r = parse(
      '   ra1 TestRes::svc1\n  # indented comment\nRA2 \\\n  TestRes::svc2   IPaddr2::10.0.0.2/24 # trailing\n\nra1\t10.0.0.9\n',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.groups.map((g) => [g.node, g.key, g.resources.map((x) => x.script)])).toEqual([
      ['ra1', 'TestRes::svc1', ['TestRes']],
      ['ra2', 'TestRes::svc2', ['TestRes', 'IPaddr2']],
      ['ra1', '10.0.0.9', ['IPaddr']],
    ]);
    expect(r.source.groups[1]?.resources[1]).toEqual({ line: 4, col: 19 });
  });

  it('accepts an empty or comment-only file', () => {
    expect(parse('')).toMatchObject({ groups: [], diagnostics: [] });
    expect(parse('# only comment\n')).toMatchObject({ groups: [], diagnostics: [] });
  });

  it.each([
    [
      'ra1 A\nra2 A\n',
      /haresources:2:5: error: group key "A" is already the first resource of the group on line 1/,
    ],
    ['ra1\n', /haresources:1:1: error: "ra1" has no resources/],
    [
      'ra1 IPaddr2::10.0.0.300/24\n',
      /haresources:1:5: error: IPaddr2::10\.0\.0\.300\/24: "10\.0\.0\.300" is not an IPv4 or IPv6 address/,
    ],
    [
      'ra1 IPaddr2::fd77:0:0:0:0:0:0:200/129/eth0\n',
      /haresources:1:5: error: IPaddr2::fd77:0:0:0:0:0:0:200\/129\/eth0: "129" is not an IPv6 prefix length \(0\.\.128\)/,
    ],
    [
      'ra1 IPaddr::fd77:0:0:0:0:0:0:200/64\n',
      /haresources:1:5: error: IPaddr::fd77:0:0:0:0:0:0:200\/64: IPaddr manages IPv4 addresses only .*\(for an IPv6 address use IPv6addr::fd77:0:0:0:0:0:0:200\/64 or IPaddr2::fd77:0:0:0:0:0:0:200\/64\)/,
    ],
    [
      'ra1 IPv6addr::2001:DB8::10/64/eth0\n',
      /haresources:1:5: error: IPv6addr::2001:DB8::10\/64\/eth0: haresources splits arguments on "::", so IPv6addr would get "2001:DB8" and "10\/64\/eth0" instead of one address \(write the IPv6 address without "::": IPv6addr::2001:db8:0:0:0:0:0:10\/64\/eth0\)/,
    ],
    [
      'ra1 IPv6addr::fd77:0:0:0:0:0:0:zz/64\n',
      /haresources:1:5: error: .*"fd77:0:0:0:0:0:0:zz" is not an IPv6 address/,
    ],
    [
      'ra1 IPv6addr::fd77:0:0:0:0:0:0:1/200\n',
      /haresources:1:5: error: .*"200" is not an IPv6 prefix length/,
    ],
    ['ra1 IPv6addr\n', /haresources:1:5: error: .*IPv6addr needs an address/],
    [
      'ra1 IPaddr2::fd77::200/64\n',
      /haresources:1:5: error: .*write the IPv6 address without "::": IPaddr2::fd77:0:0:0:0:0:0:200\/64/,
    ],
    ['ra1 IPaddr2\n', /haresources:1:5: error: IPaddr2 needs an address/],
    ['ra1 10.0.0.1/40\n', /haresources:1:5: error: 10\.0\.0\.1\/40: "40" is not a netmask/],
    ['ra1 ::x\n', /haresources:1:5: error: resource "::x" has no script name/],
    ['ra1 A\r\n', /haresources:1:6: error: carriage return \(CRLF line ending\)/],
  ])('%j', (text, re) => {
    expect(errors(text).join('\n')).toMatch(re);
  });

  it('warns about a resource managed by two groups', () => {
    const d = parse('ra1 A shared\nra2 B shared\n').diagnostics.map(formatDiagnostic);
    expect(d).toEqual([
      'haresources:2:7: warning: resource "shared" is also in the group on line 1 (two groups managing one resource fight over it)',
    ]);
  });
});
