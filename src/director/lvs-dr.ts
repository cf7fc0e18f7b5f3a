// Part: `tsbeat lvs-dr` — the Linux-HA tutorial's `lvsdr` boot script as a built-in. On a
// director that is also a real server (LVS direct routing), each VIP of a haresources group
// with an IPaddr/IPaddr2 address and an ldirectord resource is put on `lo` as a /32 after
// arp_ignore=1 / arp_announce=2 are set, so the node accepts the VIP's packets without answering
// ARP for it; IPaddr2's LVS support moves it from lo to the NIC on takeover and back on release.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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

/** Where each VIP is now: on lo as /32, on another interface (this node owns it), or nowhere. */
export interface VipPlace {
  readonly ip: string;
  readonly where: 'lo' | 'nic' | 'absent';
  readonly dev?: string;
}

function ipJson(
  args: string[],
): { ifname: string; addr_info: { family: string; local: string; prefixlen: number }[] }[] {
  const r = spawnSync('ip', ['-j', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return JSON.parse(r.stdout || '[]');
}

export function vipPlaces(vips: readonly string[]): VipPlace[] {
  const links = ipJson(['-4', 'addr', 'show']);
  return vips.map((ip) => {
    for (const l of links) {
      const a = l.addr_info.find((x) => x.local === ip);
      if (!a) continue;
      if (l.ifname === 'lo' || l.ifname.startsWith('lo:')) return { ip, where: 'lo', dev: l.ifname };
      return { ip, where: 'nic', dev: l.ifname };
    }
    return { ip, where: 'absent' };
  });
}

function readSysctl(name: string): string {
  try {
    return readFileSync(`/proc/sys/${name}`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** `setup`: ARP sysctls, then each VIP not held elsewhere onto lo as /32. Returns lines to print. */
export function lvsDrSetup(vips: readonly string[]): string[] {
  const out: string[] = [];
  for (const [k, v] of ARP_SYSCTLS) {
    writeFileSync(`/proc/sys/${k}`, v);
    out.push(`${k.replaceAll('/', '.')} = ${v}`);
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
    const r = spawnSync('ip', ['addr', 'add', `${p.ip}/32`, 'dev', 'lo', 'scope', 'host'], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`ip addr add ${p.ip}/32 dev lo: ${r.stderr.trim()}`);
    out.push(`${p.ip}: added to lo as /32`);
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
    const r = spawnSync('ip', ['addr', 'del', `${p.ip}/32`, 'dev', 'lo'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip addr del ${p.ip}/32 dev lo: ${r.stderr.trim()}`);
    out.push(`${p.ip}: removed from lo`);
  }
  return out;
}

/** `status`: sysctls and VIP places; ok when every VIP is on lo or owned, and ARP is set. */
export function lvsDrStatus(vips: readonly string[]): { ok: boolean; lines: string[] } {
  const lines: string[] = [];
  let ok = true;
  for (const [k, want] of ARP_SYSCTLS) {
    const have = readSysctl(k);
    if (have !== want) ok = false;
    lines.push(`${k.replaceAll('/', '.')} = ${have}${have === want ? '' : ` (want ${want})`}`);
  }
  for (const p of vipPlaces(vips)) {
    if (p.where === 'absent') ok = false;
    lines.push(
      `${p.ip}: ${p.where === 'lo' ? 'on lo (hidden, real-server role)' : p.where === 'nic' ? `on ${p.dev} (director role)` : 'absent'}`,
    );
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
