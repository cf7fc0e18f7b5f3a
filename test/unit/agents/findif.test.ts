// Interface discovery and argument grammars, table-driven. findifSelect/checkFindifParams must
// answer as resource-agents' findif.sh does for IPaddr2 (longest link route on the nic, broadcast
// of the route's source address, error texts and codes); legacyFindif as heartbeat's C findif
// does for IPaddr (cases recorded from /usr/libexec/heartbeat/findif on this machine: a nic
// without netmask gives /32, the broadcast is the directed broadcast, bad input is rc 6, no
// route is rc 1); and the positional grammars of heartbeat 3.0.6's IPaddr/IPaddr2/SendArp
// wrappers split arguments exactly as their sed pipelines do.
import { describe, expect, it } from 'vitest';
import { checkFindifParams, convertNetmask, findifSelect, legacyFindif } from '../../../src/agents/findif.js';
import { ipSpecReskeys, parseIpSpec, parseSendArpSpec } from '../../../src/agents/hbargs.js';
import type { IpAddress, IpRoute } from '../../../src/agents/ip.js';
import type { LogLevel } from '../../../src/agents/log.js';

function logger(): { lines: string[]; log: (l: LogLevel, m: string) => void } {
  const lines: string[] = [];
  return { lines, log: (l, m) => lines.push(`${l}: ${m}`) };
}

function addr(
  ifname: string,
  local: string,
  prefixlen: number,
  broadcast?: string,
  label = ifname,
): IpAddress {
  return { ifname, family: 'inet', local, prefixlen, broadcast, label, tentative: false, dadfailed: false };
}

function route(dst: string, dev: string, prefsrc?: string): IpRoute {
  return { type: undefined, dst, dev, prefsrc };
}

const addresses = [
  addr('lo', '127.0.0.1', 8),
  addr('eth0', '10.0.0.1', 24, '10.0.0.255'),
  addr('eth1', '10.0.1.1', 16),
];
const routes = [route('10.0.0.0/16', 'eth1', '10.0.1.1'), route('10.0.0.0/24', 'eth0', '10.0.0.1')];

describe('findif.sh (IPaddr2)', () => {
  it('takes nic and netmask from the longest matching link route, brd from its source address', () => {
    const { log } = logger();
    expect(
      findifSelect({ ip: '10.0.0.10', nic: '', netmask: '', broadcast: '' }, routes, [], addresses, log),
    ).toEqual({
      ok: true,
      nic: 'eth0',
      netmask: '24',
      broadcast: '10.0.0.255',
    });
  });

  it('restricts the routes to the given nic', () => {
    const { log } = logger();
    expect(
      findifSelect({ ip: '10.0.0.10', nic: 'eth1', netmask: '', broadcast: '' }, routes, [], addresses, log),
    ).toEqual({
      ok: true,
      nic: 'eth1',
      netmask: '16',
      broadcast: '',
    });
  });

  it('keeps what was given; an explicit broadcast wins', () => {
    const { log } = logger();
    expect(
      findifSelect(
        { ip: '10.0.0.10', nic: 'eth0', netmask: '25', broadcast: '10.0.0.127' },
        routes,
        [],
        addresses,
        log,
      ),
    ).toEqual({ ok: true, nic: 'eth0', netmask: '25', broadcast: '10.0.0.127' });
  });

  it('with nic and netmask given needs no route at all', () => {
    const { log } = logger();
    expect(
      findifSelect({ ip: '192.0.2.5', nic: 'eth0', netmask: '24', broadcast: '' }, [], [], addresses, log),
    ).toEqual({
      ok: true,
      nic: 'eth0',
      netmask: '24',
      broadcast: '',
    });
  });

  it('no route and something missing: "Unable to find nic or netmask." rc 1', () => {
    const { lines, log } = logger();
    expect(
      findifSelect({ ip: '192.0.2.5', nic: '', netmask: '24', broadcast: '' }, [], [], addresses, log),
    ).toEqual({
      ok: false,
      rc: 1,
    });
    expect(lines).toEqual(['error: Unable to find nic or netmask.']);
  });

  it('127.x falls back to the local table', () => {
    const { log } = logger();
    const local = [route('127.0.0.0/8', 'lo', '127.0.0.1')];
    expect(
      findifSelect({ ip: '127.0.0.5', nic: '', netmask: '', broadcast: '' }, [], local, addresses, log),
    ).toMatchObject({
      ok: true,
      nic: 'lo',
      netmask: '8',
    });
  });

  const bad: [string, Parameters<typeof checkFindifParams>[0], string | undefined, string][] = [
    [
      'unknown nic',
      { ip: '10.0.0.10', nic: 'nosuch0', netmask: '', broadcast: '' },
      'Device "nosuch0" does not exist.',
      'error: Invalid interface name [nosuch0]: Device "nosuch0" does not exist.',
    ],
    [
      'bad address',
      { ip: '10.0.0.300', nic: '', netmask: '', broadcast: '' },
      undefined,
      'error: IP address [10.0.0.300] not valid.',
    ],
    [
      'netmask 33',
      { ip: '10.0.0.10', nic: '', netmask: '33', broadcast: '' },
      undefined,
      'error: Invalid netmask specification [33].',
    ],
    [
      'netmask 0',
      { ip: '10.0.0.10', nic: '', netmask: '0', broadcast: '' },
      undefined,
      'error: Invalid netmask specification [0].',
    ],
    [
      'bad broadcast',
      { ip: '10.0.0.10', nic: '', netmask: '', broadcast: 'x' },
      undefined,
      'error: Invalid broadcast address [x].',
    ],
    [
      'IPv6 netmask 129',
      { ip: '2001:db8::1', nic: '', netmask: '129', broadcast: '' },
      undefined,
      'error: Invalid netmask specification [129].',
    ],
    [
      'link-local without nic',
      { ip: 'fe80::1', nic: '', netmask: '', broadcast: '' },
      undefined,
      "error: 'nic' parameter is mandatory for a link local address [fe80::1].",
    ],
  ];
  it.each(bad)('%s is OCF_ERR_CONFIGURED with the stock message', (_name, p, nicError, message) => {
    const { lines, log } = logger();
    expect(checkFindifParams(p, nicError, log)).toBe(6);
    expect(lines).toEqual([message]);
  });

  it('accepts good parameters, "+" and "-" broadcasts', () => {
    const { lines, log } = logger();
    for (const broadcast of ['', '+', '-', '10.0.0.255']) {
      expect(
        checkFindifParams({ ip: '10.0.0.10', nic: 'eth0', netmask: '24', broadcast }, undefined, log),
      ).toBeUndefined();
    }
    expect(lines).toEqual([]);
  });

  it('converts a dotted-quad netmask with the stock warning', () => {
    const { lines, log } = logger();
    expect(convertNetmask('255.255.255.0', log)).toBe('24');
    expect(lines).toEqual(['warn: Please convert dotted quad netmask 255.255.255.0 to CIDR notation 24!']);
  });
});

describe('the C findif (legacy IPaddr)', () => {
  const r = [route('10.91.0.0/24', 'eth0', '10.91.0.1'), route('default', 'eth0')];
  it.each([
    [
      'no nic: from the route',
      { nic: '', netmask: '' },
      { nic: 'eth0', netmask: '255.255.255.0', broadcast: '10.91.0.255' },
    ],
    [
      'nic without netmask: /32',
      { nic: 'lo', netmask: '' },
      { nic: 'lo', netmask: '255.255.255.255', broadcast: '10.91.0.70' },
    ],
    [
      'dotted netmask',
      { nic: '', netmask: '255.255.0.0' },
      { nic: 'eth0', netmask: '255.255.0.0', broadcast: '10.91.255.255' },
    ],
    [
      'prefix netmask',
      { nic: '', netmask: '16' },
      { nic: 'eth0', netmask: '255.255.0.0', broadcast: '10.91.255.255' },
    ],
  ])('%s', (_name, p, want) => {
    expect(legacyFindif({ ip: '10.91.0.70', broadcast: '', ...p }, r, true)).toEqual({ ok: true, ...want });
  });

  it('an explicit broadcast is kept', () => {
    expect(
      legacyFindif({ ip: '10.91.0.70', nic: '', netmask: '', broadcast: '10.91.0.127' }, r, true),
    ).toMatchObject({
      broadcast: '10.91.0.127',
    });
  });

  it('bad input is rc 6, no route rc 1', () => {
    expect(legacyFindif({ ip: 'bogus', nic: '', netmask: '', broadcast: '' }, r, true)).toMatchObject({
      ok: false,
      rc: 6,
    });
    expect(legacyFindif({ ip: '10.91.0.70', nic: '', netmask: '0', broadcast: '' }, r, true)).toMatchObject({
      ok: false,
      rc: 6,
    });
    expect(
      legacyFindif({ ip: '10.91.0.70', nic: 'nosuch', netmask: '', broadcast: '' }, r, false),
    ).toMatchObject({
      ok: false,
      rc: 6,
    });
    expect(legacyFindif({ ip: '10.92.0.70', nic: '', netmask: '', broadcast: '' }, [], true)).toEqual({
      ok: false,
      rc: 1,
      message: 'No interface found.',
    });
  });
});

describe("heartbeat wrappers' argument grammars", () => {
  it.each([
    ['10.0.0.10', { ip: '10.0.0.10' }],
    ['10.0.0.10/24', { ip: '10.0.0.10', cidr_netmask: '24' }],
    ['10.0.0.10/24/eth0', { ip: '10.0.0.10', cidr_netmask: '24', nic: 'eth0', broadcast: '' }],
    ['10.0.0.10/24/eth0:web', { ip: '10.0.0.10', cidr_netmask: '24', nic: 'eth0:web', broadcast: '' }],
    [
      '10.0.0.10/24/eth0/10.0.0.255',
      { ip: '10.0.0.10', cidr_netmask: '24', nic: 'eth0', broadcast: '10.0.0.255' },
    ],
    ['10.0.0.10/24/10.0.0.255', { ip: '10.0.0.10', cidr_netmask: '24', broadcast: '10.0.0.255' }],
    // The sed pipeline strips all slashes after the address, so the nic lands in the netmask.
    ['10.0.0.10//eth0', { ip: '10.0.0.10', cidr_netmask: 'eth0' }],
    ['10.0.0.10/24//eth0', { ip: '10.0.0.10', cidr_netmask: '24', nic: 'eth0', broadcast: '' }],
  ])('IPaddr2::%s', (arg, want) => {
    expect(ipSpecReskeys(parseIpSpec(arg))).toEqual(want);
  });

  it('SendArp::ip/nic, and an argument without "/" names itself as nic (as the sed does)', () => {
    expect(parseSendArpSpec('10.0.0.1/eth0')).toEqual({ ip: '10.0.0.1', nic: 'eth0' });
    expect(parseSendArpSpec('10.0.0.1')).toEqual({ ip: '10.0.0.1', nic: '10.0.0.1' });
  });
});
