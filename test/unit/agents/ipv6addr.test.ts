// IPv6addr's pure parts, table-driven against what resource-agents 4.12's IPv6addr.c does: how
// it reads ipv6addr/cidr_netmask/nic (a prefix in ipv6addr, overridden by cidr_netmask; 0..128;
// exit 2 with the C program's messages otherwise), which interface it picks (scan_if: global
// scope, link scope only with nic, same prefix length and nic when given, first covering
// address; find_if's fallback to nic + prefix), heartbeat's wrapper grammar, and the IPv6
// prefix arithmetic under them. The namespace test (test/integ/agents-ipv6addr.test.ts) runs
// the real program next to ours.
import { describe, expect, it } from 'vitest';
import { ipv6Groups, sameIpv6Prefix } from '../../../src/agents/inet.js';
import type { IpAddress } from '../../../src/agents/ip.js';
import { findIf, ipv6addr, ipv6addrParams, scanIf } from '../../../src/agents/ipv6addr.js';

function addr(ifname: string, local: string, prefixlen: number, scope = 'global'): IpAddress {
  return {
    ifname,
    family: 'inet6',
    local,
    prefixlen,
    broadcast: undefined,
    label: ifname,
    tentative: false,
    dadfailed: false,
    scope,
  };
}

describe('ipv6addrParams', () => {
  it.each([
    [{ OCF_RESKEY_ipv6addr: '2001:db8::10' }, { ip: '2001:db8::10', prefix: 0, nic: '' }],
    [{ OCF_RESKEY_ipv6addr: '2001:DB8:0::10/64' }, { ip: '2001:db8::10', prefix: 64, nic: '' }],
    [
      { OCF_RESKEY_ipv6addr: '2001:db8::10/64', OCF_RESKEY_cidr_netmask: '48', OCF_RESKEY_nic: 'eth1' },
      { ip: '2001:db8::10', prefix: 48, nic: 'eth1' },
    ],
    // The heartbeat wrapper exports an empty cidr_netmask for "ADDR//NIC": atol("") is 0.
    [
      { OCF_RESKEY_ipv6addr: '2001:db8::10/64', OCF_RESKEY_cidr_netmask: '' },
      { ip: '2001:db8::10', prefix: 0, nic: '' },
    ],
    [{}, 'Please set OCF_RESKEY_ipv6addr to the IPv6 address you want to manage.'],
    [{ OCF_RESKEY_ipv6addr: '' }, 'Invalid IPv6 address []'],
    [{ OCF_RESKEY_ipv6addr: '10.0.0.1' }, 'Invalid IPv6 address [10.0.0.1]'],
    [
      { OCF_RESKEY_ipv6addr: '2001:db8::10/129' },
      'Invalid prefix_len [129], should be an integer in [0, 128]',
    ],
    [{ OCF_RESKEY_ipv6addr: '2001:db8::10/x' }, 'Invalid prefix_len [x], should be an integer in [0, 128]'],
    [
      { OCF_RESKEY_ipv6addr: '2001:db8::10', OCF_RESKEY_cidr_netmask: '-1' },
      'Invalid prefix_len [-1], should be an integer in [0, 128]',
    ],
    [{ OCF_RESKEY_ipv6addr: '2001:db8::10', OCF_RESKEY_nic: 'eth0 x' }, 'Invalid nic [eth0 x]'],
  ])('%j', (env, want) => {
    expect(ipv6addrParams(env)).toEqual(want);
  });
});

describe('scanIf / findIf (IPv6addr.c scan_if, find_if)', () => {
  const table: IpAddress[] = [
    addr('lo', '::1', 128, 'host'),
    addr('eth0', 'fe80::1', 64, 'link'),
    addr('eth0', '2001:db8:1::1', 64),
    addr('eth1', '2001:db8:2::1', 48),
    addr('eth1', '2001:db8:2::10', 48),
  ];
  const p = (ip: string, prefix = 0, nic = '') => ({ ip, prefix, nic });

  it('status (exact match): the address and the prefix length it has', () => {
    expect(scanIf(table, p('2001:db8:2::10'), false)).toEqual({ nic: 'eth1', prefix: 48 });
    expect(scanIf(table, p('2001:db8:2::10', 64), false)).toBeUndefined();
    expect(scanIf(table, p('2001:db8:2::10', 0, 'eth0'), false)).toBeUndefined();
    expect(scanIf(table, p('2001:db8:2::11'), false)).toBeUndefined();
  });

  it('link-local and host scope count only when nic is given (and link only)', () => {
    expect(scanIf(table, p('fe80::1'), false)).toBeUndefined();
    expect(scanIf(table, p('fe80::1', 0, 'eth0'), false)).toEqual({ nic: 'eth0', prefix: 64 });
    expect(scanIf(table, p('::1', 0, 'lo'), false)).toBeUndefined();
  });

  it('start (masked match): the first interface whose address covers the new one', () => {
    expect(findIf(table, p('2001:db8:1::99'))).toEqual({ nic: 'eth0', prefix: 64, fallback: false });
    expect(findIf(table, p('2001:db8:2:ffff::1'))).toEqual({ nic: 'eth1', prefix: 48, fallback: false });
    // A given prefix length must be the covering address's own.
    expect(findIf(table, p('2001:db8:2::99', 64))).toBeUndefined();
  });

  it('start falls back to nic + prefix only when both are given', () => {
    expect(findIf(table, p('fd00::1'))).toBeUndefined();
    expect(findIf(table, p('fd00::1', 0, 'eth0'))).toBeUndefined();
    expect(findIf(table, p('fd00::1', 0, 'eth0'))).toBeUndefined();
    expect(findIf(table, p('fd00::1', 64, 'eth0'))).toEqual({ nic: 'eth0', prefix: 64, fallback: true });
  });
});

describe("heartbeat's resource.d/IPv6addr grammar", () => {
  it.each([
    [['2001:db8::10'], { ipv6addr: '2001:db8::10' }],
    [['2001:db8::10/64'], { ipv6addr: '2001:db8::10', cidr_netmask: '64' }],
    [['2001:db8::10/64/eth0'], { ipv6addr: '2001:db8::10', cidr_netmask: '64', nic: 'eth0' }],
    [['2001:db8::10//eth0'], { ipv6addr: '2001:db8::10', cidr_netmask: '', nic: 'eth0' }],
  ])('%j', (args, reskeys) => {
    expect(ipv6addr.heartbeat.parse(args)).toEqual({ instance: `IPv6addr_${args[0]}`, reskeys });
  });
  it('takes exactly one argument (the wrapper checks $# = 2 with the action)', () => {
    expect(ipv6addr.heartbeat.parse([])).toBeUndefined();
    expect(ipv6addr.heartbeat.parse(['2001:db8', '10/64/eth0'])).toBeUndefined();
  });
});

describe('IPv6 prefix arithmetic', () => {
  it('ipv6Groups', () => {
    expect(ipv6Groups('2001:db8::10')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10]);
    expect(ipv6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('fe80::')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('nope')).toBeUndefined();
  });
  it.each([
    ['2001:db8::1', '2001:db8::ffff', 64, true],
    ['2001:db8::1', '2001:db8:0:1::1', 64, false],
    ['2001:db8::1', '2001:db8:0:1::1', 63, true],
    ['2001:db8::1', '2001:db9::1', 31, true],
    ['2001:db8::1', '2001:db9::1', 32, false],
    ['2001:db8::1', 'fe80::1', 0, true],
    ['2001:db8::1', '2001:db8::1', 128, true],
    ['2001:db8::1', '2001:db8::2', 127, false],
    ['2001:db8::2', '2001:db8::3', 127, true],
  ])('%s and %s share /%i: %s', (a, b, bits, want) => {
    expect(sameIpv6Prefix(a, b, bits)).toBe(want);
  });
});

describe("IPaddr2's heartbeat-style face with an IPv6 address", () => {
  it("turns lvs_support on for IPv6 too, as heartbeat's wrapper does for every address", async () => {
    const { ipaddr2 } = await import('../../../src/agents/ipaddr2.js');
    expect(ipaddr2.heartbeat.parse(['fd00:78:0:0:0:0:0:80/64/eth0'])).toEqual({
      instance: 'IPaddr2_fd00:78:0:0:0:0:0:80',
      reskeys: {
        ip: 'fd00:78:0:0:0:0:0:80',
        cidr_netmask: '64',
        nic: 'eth0',
        broadcast: '',
        lvs_support: '1',
      },
    });
  });
});
