// Part: `tsbeat lvs-dr` — the Linux-HA tutorial's `lvsdr` boot script as a built-in. On a
// director that is also a real server (LVS direct routing), each VIP of a haresources group
// with an IPaddr/IPaddr2 address and an ldirectord resource is put on `lo` as a /32 after
// arp_ignore=1 / arp_announce=2 are set, so the node accepts the VIP's packets without answering
// ARP for it; IPaddr2's LVS support moves it from lo to the NIC on takeover and back on release.
// An IPv6 VIP (IPaddr2 only) goes on lo as a /128 and needs no sysctl: Linux answers neighbour
// solicitations only for addresses of the receiving interface (net/ipv6/ndisc.c, ndisc_recv_ns),
// and there is no IPv6 arp_ignore/arp_announce; IPaddr2 moves the /128 as it moves a /32.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { canonicalIpv6 } from '../agents/inet.js';
import type { Config, ResourceGroupConfig } from '../config/model.js';
import { type TsbeatSettings, tsbeatSettingsOf } from '../config/tsbeat-cf.js';

/** The VIPs lvs-dr manages: first field of IPaddr/IPaddr2 args in groups that run ldirectord. */
export function lvsDrVips(groups: readonly ResourceGroupConfig[]): string[] {
  const out: string[] = [];
  for (const g of groups) {
    if (!g.resources.some((r) => r.script === 'ldirectord')) continue;
    for (const r of g.resources) {
      if (r.script !== 'IPaddr2' && r.script !== 'IPaddr') continue;
      const ip = (r.args[0] ?? '').split('/')[0] ?? '';
      if (ip !== '' && !out.includes(ip)) out.push(ip);
    }
  }
  return out;
}

/** The sysctls set before any VIP goes on lo (order matters: ARP first, then the address). */
export const ARP_SYSCTLS: readonly (readonly [string, string])[] = [
  ['net/ipv4/conf/all/arp_ignore', '1'],
  ['net/ipv4/conf/all/arp_announce', '2'],
  ['net/ipv4/conf/lo/arp_ignore', '1'],
  ['net/ipv4/conf/lo/arp_announce', '2'],
];

/** A VIP's address family, as `ip` names it (haresources has already refused anything else). */
export function vipFamily(ip: string): 'inet' | 'inet6' {
  return isIPv6(ip) ? 'inet6' : 'inet';
}

/** The prefix length of a hidden loopback VIP: a host address, /32 or /128. */
export function hostPrefixOf(ip: string): 32 | 128 {
  return vipFamily(ip) === 'inet6' ? 128 : 32;
}

/** The ARP sysctls matter only for IPv4 VIPs (and are set when there is no VIP at all, as before). */
function needsArpSysctls(vips: readonly string[]): boolean {
  return vips.length === 0 || vips.some((ip) => vipFamily(ip) === 'inet');
}

const IPV6_NO_SYSCTL =
  'IPv6 VIPs only: no ARP sysctls needed (Linux answers neighbour solicitations only for addresses of the receiving interface)';

/** Where each VIP is now: on lo, on another interface (this node owns it), or nowhere. */
export interface VipPlace {
  readonly ip: string;
  readonly where: 'lo' | 'nic' | 'absent';
  readonly dev?: string;
  /** The prefix length it has there (absent: none). */
  readonly prefixlen?: number;
}

function ipJson(
  args: string[],
): { ifname: string; addr_info: { family: string; local: string; prefixlen: number }[] }[] {
  const r = spawnSync('ip', ['-j', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return JSON.parse(r.stdout || '[]');
}

export function vipPlaces(vips: readonly string[]): VipPlace[] {
  const links = ipJson(['addr', 'show']);
  return vips.map((ip) => {
    const family = vipFamily(ip);
    // `ip` prints IPv6 addresses in RFC 5952 form; haresources has them written out in full.
    const local = family === 'inet6' ? (canonicalIpv6(ip) ?? ip) : ip;
    for (const l of links) {
      const a = l.addr_info.find((x) => x.family === family && x.local === local);
      if (!a) continue;
      const where = l.ifname === 'lo' || l.ifname.startsWith('lo:') ? 'lo' : 'nic';
      return { ip, where, dev: l.ifname, prefixlen: a.prefixlen };
    }
    return { ip, where: 'absent' };
  });
}

/** IPv6 switched off on lo makes `ip addr add` fail with a bare "Permission denied". */
function ipv6DisabledOnLo(): boolean {
  return readSysctl('net/ipv6/conf/lo/disable_ipv6') !== '0';
}

function readSysctl(name: string): string {
  try {
    return readFileSync(`/proc/sys/${name}`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * `setup`: the ARP sysctls (when there is an IPv4 VIP), then each VIP not held elsewhere onto lo
 * as /32 or /128. Returns lines to print.
 */
export function lvsDrSetup(vips: readonly string[]): string[] {
  const out: string[] = [];
  if (needsArpSysctls(vips)) {
    for (const [k, v] of ARP_SYSCTLS) {
      writeFileSync(`/proc/sys/${k}`, v);
      out.push(`${k.replaceAll('/', '.')} = ${v}`);
    }
  } else {
    out.push(IPV6_NO_SYSCTL);
  }
  for (const p of vipPlaces(vips)) {
    if (p.where === 'nic') {
      out.push(`${p.ip}: on ${p.dev} (this node owns it now; IPaddr2 puts it back on lo at release)`);
      continue;
    }
    if (p.where === 'lo') {
      out.push(`${p.ip}: already on lo`);
      continue;
    }
    const prefix = hostPrefixOf(p.ip);
    if (prefix === 128 && ipv6DisabledOnLo()) {
      throw new Error(
        `cannot put ${p.ip}/128 on lo: IPv6 is disabled there (net.ipv6.conf.lo.disable_ipv6 is not 0); enable it with "sysctl -w net.ipv6.conf.lo.disable_ipv6=0", or take the IPv6 address out of the ldirectord group`,
      );
    }
    // IPv4 keeps the tutorial's "scope host"; IPaddr2 restores an IPv6 VIP to lo without a scope.
    const args =
      prefix === 32
        ? ['addr', 'add', `${p.ip}/32`, 'dev', 'lo', 'scope', 'host']
        : ['-6', 'addr', 'add', `${p.ip}/128`, 'dev', 'lo'];
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
    out.push(`${p.ip}: added to lo as /${prefix}`);
  }
  return out;
}

/** `teardown`: the VIPs off lo (the sysctls stay; other addresses are not touched). */
export function lvsDrTeardown(vips: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of vipPlaces(vips)) {
    if (p.where !== 'lo') {
      out.push(`${p.ip}: not on lo${p.where === 'nic' ? ` (on ${p.dev}, left alone)` : ''}`);
      continue;
    }
    const addr = `${p.ip}/${p.prefixlen ?? hostPrefixOf(p.ip)}`;
    const r = spawnSync('ip', ['addr', 'del', addr, 'dev', p.dev ?? 'lo'], { encoding: 'utf8' });
    if (r.status !== 0)
      throw new Error(`ip addr del ${addr} dev ${p.dev ?? 'lo'}: ${r.stderr.trim() || `exit ${r.status}`}`);
    out.push(`${p.ip}: removed from lo`);
  }
  return out;
}

/**
 * `status`: sysctls and VIP places; ok when every VIP is on lo or owned, and ARP is set (when
 * there is an IPv4 VIP).
 */
export function lvsDrStatus(vips: readonly string[]): { ok: boolean; lines: string[] } {
  const lines: string[] = [];
  let ok = true;
  if (needsArpSysctls(vips)) {
    for (const [k, want] of ARP_SYSCTLS) {
      const have = readSysctl(k);
      if (have !== want) ok = false;
      lines.push(`${k.replaceAll('/', '.')} = ${have}${have === want ? '' : ` (want ${want})`}`);
    }
  } else {
    lines.push(IPV6_NO_SYSCTL);
  }
  for (const p of vipPlaces(vips)) {
    if (p.where === 'absent') {
      ok = false;
      lines.push(`${p.ip}: absent`);
    } else if (p.where === 'nic') {
      lines.push(`${p.ip}: on ${p.dev} (director role)`);
    } else {
      // A wider prefix on lo would make the whole subnet local to this node.
      const want = hostPrefixOf(p.ip);
      if (p.prefixlen !== want) ok = false;
      lines.push(
        `${p.ip}: on lo as /${p.prefixlen} (hidden, real-server role)${p.prefixlen === want ? '' : ` (want /${want})`}`,
      );
    }
  }
  if (vips.length === 0) lines.push('no IPaddr/IPaddr2 + ldirectord group in haresources');
  return { ok, lines };
}

export type LvsDrLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * The daemon's start hook, after its start-up check and before it joins the cluster: this node
 * owns no group yet, so every VIP of an IPaddr/IPaddr2 + ldirectord group goes on lo (a VIP
 * still on a NIC is left alone). Never throws: a node that cannot hide the VIPs can still be a
 * director, so the failure is logged with the fix and the daemon goes on.
 */
export function lvsDrAtStart(
  config: Pick<Config, 'dir' | 'haCf' | 'groups'> & { readonly tsbeat?: TsbeatSettings },
  log: LvsDrLog,
): void {
  if (!tsbeatSettingsOf(config).lvsDr) return;
  const vips = lvsDrVips(config.groups);
  if (vips.length === 0) {
    log(
      'warn',
      `lvs-dr: lvs_dr is yes, but no haresources group has an IPaddr/IPaddr2 address and an ldirectord resource; nothing to put on lo`,
    );
    return;
  }
  try {
    for (const line of lvsDrSetup(vips)) log('info', `lvs-dr: ${line}`);
  } catch (e) {
    log(
      'error',
      `lvs-dr: ${e instanceof Error ? e.message : String(e)}; this node will not accept the VIPs' traffic as a real server (fix it, then run "tsbeat lvs-dr setup")`,
    );
  }
}
