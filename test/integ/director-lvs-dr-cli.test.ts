/**
 * `tsbeat lvs-dr setup|teardown|status -c DIR` run as an operator runs it, inside a fresh network
 * namespace per test (made and deleted here; `ip netns exec` gives the command that namespace's
 * `lo` and /proc/sys/net, so the host's sysctls and addresses are never touched). The
 * haresources has an ldirectord group with an IPv4 and an IPv6 IPaddr2 VIP, and a group without
 * ldirectord. Proves: setup sets arp_ignore/arp_announce and puts the IPv4 VIP on lo as /32 and
 * the IPv6 VIP as /128 (not /32), a second setup changes nothing, status reports it (exit 0) and
 * reports what is missing (exit 1), teardown removes exactly those addresses and is idempotent;
 * a VIP held on a NIC is left alone by both; an IPv6-only group needs and sets no sysctl; IPv6
 * switched off on lo and an IPv6 address written with "::" are refused naming the address (or
 * file:line) and the fix; a VIP on lo with a wider prefix is reported and torn down. Needs root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { TSBEAT } from '../support/cli.js';

const PREFIX = `tsblvs${process.pid}${randomBytes(2).toString('hex')}`;
let count = 0;
let ns = '';
const dir = mkdtempSync(join(tmpdir(), 'tsbeat-lvsdr-'));

const V4 = '10.88.0.150';
const V6 = 'fd00:88:0:0:0:0:0:150';
const V6_SHOWN = 'fd00:88::150';
const PLAIN = '10.88.0.151';
const BOTH = `node1 IPaddr2::${V4}/24/eth0 IPaddr2::${V6}/64/eth0 ldirectord::ld.cf\nnode1 IPaddr2::${PLAIN}/24/eth0\n`;

function sh(args: string[]): string {
  return execFileSync(args[0] as string, args.slice(1), { encoding: 'utf8', timeout: 30_000 });
}

function inNs(...args: string[]): string {
  return sh(['ip', 'netns', 'exec', ns, ...args]);
}

beforeAll(() => {
  expect(process.getuid?.(), 'this test creates network namespaces: run it as root').toBe(0);
});
beforeEach(() => {
  ns = `${PREFIX}-${++count}`;
  sh(['ip', 'netns', 'add', ns]);
  sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
});
afterEach(() => {
  spawnSync('ip', ['netns', 'del', ns]);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  const left = sh(['ip', 'netns', 'list'])
    .split('\n')
    .filter((l) => l.startsWith(PREFIX));
  expect(left).toEqual([]);
});

function haresources(text: string): string {
  const d = mkdtempSync(join(dir, 'ha.d-'));
  writeFileSync(join(d, 'haresources'), text);
  return d;
}

function lvsDr(cmd: string, haDir: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, TSBEAT, 'lvs-dr', cmd, '-c', haDir], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The addresses on lo, as "addr/prefix" (without the loopback ones). */
function onLo(): string[] {
  const links = JSON.parse(inNs('ip', '-j', 'addr', 'show', 'dev', 'lo')) as {
    addr_info: { local: string; prefixlen: number }[];
  }[];
  return links
    .flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`))
    .filter((a) => a !== '127.0.0.1/8' && a !== '::1/128')
    .sort();
}

function sysctl(name: string): string {
  return inNs('cat', `/proc/sys/net/${name}`).trim();
}

it('setup puts the IPv4 VIP on lo as /32 after the ARP sysctls and the IPv6 VIP as /128; again, nothing changes', () => {
  const d = haresources(BOTH);
  const r = lvsDr('setup', d);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout.split('\n')).toEqual([
    'net.ipv4.conf.all.arp_ignore = 1',
    'net.ipv4.conf.all.arp_announce = 2',
    'net.ipv4.conf.lo.arp_ignore = 1',
    'net.ipv4.conf.lo.arp_announce = 2',
    `${V4}: added to lo as /32`,
    `${V6}: added to lo as /128`,
    '',
  ]);
  expect(onLo()).toEqual([`${V4}/32`, `${V6_SHOWN}/128`]);
  for (const dev of ['all', 'lo']) {
    expect(sysctl(`ipv4/conf/${dev}/arp_ignore`)).toBe('1');
    expect(sysctl(`ipv4/conf/${dev}/arp_announce`)).toBe('2');
  }
  const again = lvsDr('setup', d);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain(`${V4}: already on lo\n${V6}: already on lo\n`);
  expect(onLo()).toEqual([`${V4}/32`, `${V6_SHOWN}/128`]);
});

it('status is 1 with what is missing before setup, 0 after it', () => {
  const d = haresources(BOTH);
  const before = lvsDr('status', d);
  expect(before.code).toBe(1);
  expect(before.stdout).toContain('net.ipv4.conf.all.arp_ignore = 0 (want 1)\n');
  expect(before.stdout).toContain(`${V4}: absent\n${V6}: absent\n`);
  expect(lvsDr('setup', d).code).toBe(0);
  const after = lvsDr('status', d);
  expect(after.code).toBe(0);
  expect(after.stdout.split('\n')).toEqual([
    'net.ipv4.conf.all.arp_ignore = 1',
    'net.ipv4.conf.all.arp_announce = 2',
    'net.ipv4.conf.lo.arp_ignore = 1',
    'net.ipv4.conf.lo.arp_announce = 2',
    `${V4}: on lo as /32 (hidden, real-server role)`,
    `${V6}: on lo as /128 (hidden, real-server role)`,
    '',
  ]);
});

it('teardown removes exactly the VIPs from lo (sysctls stay), and a second teardown finds nothing', () => {
  const d = haresources(BOTH);
  inNs('ip', 'addr', 'add', '10.88.9.9/32', 'dev', 'lo');
  expect(lvsDr('setup', d).code).toBe(0);
  const r = lvsDr('teardown', d);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`${V4}: removed from lo\n${V6}: removed from lo\n`);
  expect(onLo()).toEqual(['10.88.9.9/32']);
  expect(sysctl('ipv4/conf/all/arp_ignore')).toBe('1');
  const again = lvsDr('teardown', d);
  expect(again.code).toBe(0);
  expect(again.stdout).toBe(`${V4}: not on lo\n${V6}: not on lo\n`);
  expect(lvsDr('status', d).code).toBe(1);
});

it('a VIP this node holds on a NIC is left alone by setup and teardown, and status calls it the director role', () => {
  const d = haresources(BOTH);
  inNs('ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  inNs('ip', 'addr', 'add', `${V4}/24`, 'dev', 'eth0');
  inNs('ip', '-6', 'addr', 'add', `${V6}/64`, 'dev', 'eth0', 'nodad');
  expect(lvsDr('setup', d).stdout).toContain(
    `${V4}: on eth0 (this node owns it now; IPaddr2 puts it back on lo at release)\n${V6}: on eth0 (this node owns it now; IPaddr2 puts it back on lo at release)\n`,
  );
  expect(onLo()).toEqual([]);
  const s = lvsDr('status', d);
  expect(s.code).toBe(0);
  expect(s.stdout).toContain(`${V4}: on eth0 (director role)\n${V6}: on eth0 (director role)\n`);
  expect(lvsDr('teardown', d).stdout).toBe(
    `${V4}: not on lo (on eth0, left alone)\n${V6}: not on lo (on eth0, left alone)\n`,
  );
  expect(inNs('ip', '-o', 'addr', 'show', 'dev', 'eth0')).toContain(V4);
});

it('an IPv6-only ldirectord group sets no sysctl (there is no IPv6 arp_ignore) and status does not ask for one', () => {
  const d = haresources(`node1 IPaddr2::${V6}/64/eth0 ldirectord::ld.cf\n`);
  const r = lvsDr('setup', d);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^IPv6 VIPs only: no ARP sysctls needed/);
  expect(r.stdout).toContain(`${V6}: added to lo as /128\n`);
  expect(sysctl('ipv4/conf/all/arp_ignore')).toBe('0');
  expect(onLo()).toEqual([`${V6_SHOWN}/128`]);
  const s = lvsDr('status', d);
  expect(s.code).toBe(0);
  expect(s.stdout).not.toContain('arp_ignore');
});

it('IPv6 switched off on lo: setup fails naming the address and the fix', () => {
  const d = haresources(BOTH);
  inNs('sysctl', '-q', '-w', 'net.ipv6.conf.lo.disable_ipv6=1');
  const r = lvsDr('setup', d);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    `tsbeat lvs-dr setup: cannot put ${V6}/128 on lo: IPv6 is disabled there (net.ipv6.conf.lo.disable_ipv6 is not 0); enable it with "sysctl -w net.ipv6.conf.lo.disable_ipv6=0", or take the IPv6 address out of the ldirectord group\n`,
  );
});

it('an IPv6 VIP written with "::" is refused with file, line and the address written out', () => {
  const d = haresources(`node1 IPaddr2::fd00:88::150/64/eth0 ldirectord::ld.cf\n`);
  const r = lvsDr('setup', d);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${d}/haresources:1:`);
  expect(r.stderr).toContain('IPaddr2::fd00:88:0:0:0:0:0:150/64/eth0');
  expect(onLo()).toEqual([]);
});

it('a VIP on lo with a wider prefix is reported by status (exit 1) and removed by teardown', () => {
  const d = haresources(BOTH);
  expect(lvsDr('setup', d).code).toBe(0);
  inNs('ip', 'addr', 'del', `${V4}/32`, 'dev', 'lo');
  inNs('ip', 'addr', 'add', `${V4}/24`, 'dev', 'lo');
  const s = lvsDr('status', d);
  expect(s.code).toBe(1);
  expect(s.stdout).toContain(`${V4}: on lo as /24 (hidden, real-server role) (want /32)\n`);
  expect(lvsDr('teardown', d).code).toBe(0);
  expect(onLo()).toEqual([]);
});
