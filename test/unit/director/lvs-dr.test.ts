/**
 * The pure part of `tsbeat lvs-dr`: which haresources addresses it manages (the first field of
 * IPaddr/IPaddr2 in groups that run ldirectord, IPv4 and IPv6, each once) and the host prefix
 * each gets on lo (/32, /128: an IPv6 VIP must never go on lo as /32). The commands themselves
 * run in namespaces in test/integ/director-lvs-dr-cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseHaresources } from '../../../src/config/haresources.js';
import { hostPrefixOf, lvsDrVips, vipFamily } from '../../../src/director/lvs-dr.js';
import { formatDiagnostic } from '../../../src/lib/diagnostic.js';

function groups(text: string) {
  const r = parseHaresources(text, 'haresources');
  expect(r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
  return r.groups;
}

describe('lvsDrVips', () => {
  it('takes IPv4 and IPv6 addresses of IPaddr/IPaddr2 in ldirectord groups only, each once', () => {
    const g = groups(
      [
        'node1 IPaddr2::10.0.0.10/24/eth0 IPaddr2::2001:db8:0:0:0:0:0:10/64/eth0 ldirectord::ld.cf',
        'node1 10.0.0.11 ldirectord::other.cf',
        'node2 IPaddr2::10.0.0.12/24/eth0 Dummy',
        'node2 IPaddr::10.0.0.13/24/eth0 IPaddr2::2001:db8:0:0:0:0:0:10/64/eth1 ldirectord::third.cf',
        '',
      ].join('\n'),
    );
    expect(lvsDrVips(g)).toEqual(['10.0.0.10', '2001:db8:0:0:0:0:0:10', '10.0.0.11', '10.0.0.13']);
  });

  it('is empty without an ldirectord group', () => {
    expect(lvsDrVips(groups('node1 IPaddr2::10.0.0.10/24/eth0 Dummy\n'))).toEqual([]);
  });
});

describe('family and host prefix on lo', () => {
  it.each([
    ['10.0.0.10', 'inet', 32],
    ['2001:db8:0:0:0:0:0:10', 'inet6', 128],
    ['fd00::1', 'inet6', 128],
  ] as const)('%s is %s, /%i on lo', (ip, family, prefix) => {
    expect(vipFamily(ip)).toBe(family);
    expect(hostPrefixOf(ip)).toBe(prefix);
  });
});
