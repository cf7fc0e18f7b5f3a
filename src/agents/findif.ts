// Part: interface discovery as resource-agents' findif.sh does it for IPaddr2 (parameter checks,
// longest-prefix link route, broadcast of the route's source address), and the older C `findif`
// that legacy IPaddr uses. Pure: the caller supplies what `ip` reported.

import { broadcastOf, dottedQuadToPrefix, isIpv4, isIpv6, isValidPrefix, prefixToDotted } from './inet.js';
import type { IpAddress, IpRoute } from './ip.js';
import type { LogFn } from './log.js';
import { OCF } from './ocf.js';

/** The parameters findif reads (`OCF_RESKEY_ip`, `nic`, `cidr_netmask`, `broadcast`). */
export interface FindifParams {
  readonly ip: string;
  readonly nic: string;
  readonly netmask: string;
  readonly broadcast: string;
}

/** findif's answer. */
export type FindifResult =
  | { readonly ok: true; readonly nic: string; readonly netmask: string; readonly broadcast: string }
  | { readonly ok: false; readonly rc: number };

/** IPv4 or IPv6, decided as the agents do: a colon means IPv6. */
export function familyOf(ip: string): 'inet' | 'inet6' {
  return ip.includes(':') ? 'inet6' : 'inet';
}

/**
 * `maybe_convert_dotted_quad_to_cidr`, run for every action: a dotted-quad netmask becomes a prefix
 * length with a warning; a dotted quad that is no valid mask is logged as bogus and kept.
 */
export function convertNetmask(netmask: string, log: LogFn): string {
  const r = dottedQuadToPrefix(netmask);
  if (r.bogus) log('error', `Bogus netmask: ${netmask}`);
  if (r.converted) log('warn', `Please convert dotted quad netmask ${netmask} to CIDR notation ${r.prefix}!`);
  return r.prefix;
}

/**
 * `findif_check_params`: only for start and validate-all (a monitor must not say "not
 * configured"). `nicError` is what `ip link show dev <nic>` said when the nic does not exist.
 * Returns OCF_ERR_CONFIGURED after logging the reason, or undefined when all is well.
 */
export function checkFindifParams(
  p: FindifParams,
  nicError: string | undefined,
  log: LogFn,
): number | undefined {
  if (p.nic !== '' && nicError !== undefined) {
    log('error', `Invalid interface name [${p.nic}]: ${nicError}`);
    return OCF.ERR_CONFIGURED;
  }
  if (familyOf(p.ip) === 'inet6') {
    if (!/^[0-9a-fA-F:]+$/.test(p.ip) || !isIpv6(p.ip)) {
      log('error', `IP address [${p.ip}] not valid.`);
      return OCF.ERR_CONFIGURED;
    }
    if (p.nic === '' && /^fe80::/i.test(p.ip)) {
      log('error', `'nic' parameter is mandatory for a link local address [${p.ip}].`);
      return OCF.ERR_CONFIGURED;
    }
    if (p.netmask !== '' && !isValidPrefix(p.netmask, 128)) {
      log('error', `Invalid netmask specification [${p.netmask}].`);
      return OCF.ERR_CONFIGURED;
    }
    return undefined;
  }
  if (!isIpv4(p.ip)) {
    log('error', `IP address [${p.ip}] not valid.`);
    return OCF.ERR_CONFIGURED;
  }
  if (p.netmask !== '' && !isValidPrefix(p.netmask, 32)) {
    log('error', `Invalid netmask specification [${p.netmask}].`);
    return OCF.ERR_CONFIGURED;
  }
  if (p.broadcast !== '' && !isIpv4(p.broadcast) && p.broadcast !== '+' && p.broadcast !== '-') {
    log('error', `Invalid broadcast address [${p.broadcast}].`);
    return OCF.ERR_CONFIGURED;
  }
  return undefined;
}

/** The `route list match` argument findif uses: the ip, with "/<mask>" when a mask is given. */
export function routeMatchArg(p: FindifParams): string {
  return p.netmask !== '' ? `${p.ip}/${p.netmask}` : p.ip;
}

/**
 * The lookup half of findif.sh. `routes` answers `ip route list match <ip>[/<mask>] scope link`
 * (IPv6: without the scope), `localRoutes` answers `... table local scope host` (used for 127.x
 * only), `addresses` is `ip addr show`. Picks the longest matching prefix (the last of equals),
 * restricted to the given nic; fills in nic and netmask from it; for IPv4 without an explicit
 * broadcast takes the `brd` of the address that is the route's source (findif.sh greps the
 * address listing for the route's 7th word, which is that source on kernel routes; we compare
 * exactly instead of as a substring).
 */
export function findifSelect(
  p: FindifParams,
  routes: readonly IpRoute[],
  localRoutes: readonly IpRoute[],
  addresses: readonly IpAddress[],
  log: LogFn,
): FindifResult {
  const family = familyOf(p.ip);
  let best: IpRoute | undefined;
  let bestLen = 0;
  for (const r of routes) {
    if (p.nic !== '' && r.dev !== p.nic) continue;
    if (!r.dst.includes('/')) continue;
    const len = Number(r.dst.slice(r.dst.indexOf('/') + 1));
    if (Number.isFinite(len) && len >= bestLen) {
      bestLen = len;
      best = r;
    }
  }
  if (best === undefined && p.ip.startsWith('127.')) {
    best = localRoutes.find((r) => r.dst.includes('/'));
  }
  let nic = p.nic;
  let netmask = p.netmask;
  let broadcast = p.broadcast;
  if (nic === '' || netmask === '') {
    if (best === undefined) {
      log('error', 'Unable to find nic or netmask.');
      return { ok: false, rc: OCF.ERR_GENERIC };
    }
    if (!best.dst.includes('/') && family === 'inet') {
      log('error', 'Unable to find cidr_netmask.');
      return { ok: false, rc: OCF.ERR_GENERIC };
    }
  }
  if (best !== undefined) {
    if (nic === '') nic = best.dev;
    if (netmask === '') netmask = best.dst.includes('/') ? best.dst.slice(best.dst.indexOf('/') + 1) : '128';
    if (family === 'inet' && broadcast === '' && best.prefsrc !== undefined) {
      const owner = addresses.find((a) => a.family === 'inet' && a.local === best.prefsrc);
      broadcast = owner?.broadcast ?? '';
    }
  }
  return { ok: true, nic, netmask, broadcast };
}

/** The legacy C findif's answer: netmask dotted, broadcast always filled in. */
export type LegacyFindifResult =
  | { readonly ok: true; readonly nic: string; readonly netmask: string; readonly broadcast: string }
  | { readonly ok: false; readonly rc: number; readonly message: string };

/**
 * The C `findif` of heartbeat (used by legacy IPaddr): with a nic it looks at no route (netmask
 * defaults to /32); without one it takes the longest matching route's interface and prefix;
 * the broadcast defaults to the directed broadcast of ip/netmask. Accepts a prefix length or a
 * dotted-quad netmask. `nicExists` tells whether the nic (base name) is a real interface.
 */
export function legacyFindif(
  p: FindifParams,
  routes: readonly IpRoute[],
  nicExists: boolean,
): LegacyFindifResult {
  if (!isIpv4(p.ip)) return { ok: false, rc: OCF.ERR_CONFIGURED, message: `IP address [${p.ip}] not valid.` };
  let bits: number | undefined;
  if (p.netmask !== '') {
    const conv = dottedQuadToPrefix(p.netmask);
    if (!isValidPrefix(conv.prefix, 32)) {
      return { ok: false, rc: OCF.ERR_CONFIGURED, message: `Invalid netmask specification [${p.netmask}]` };
    }
    bits = Number(conv.prefix);
  }
  let nic = p.nic;
  if (nic !== '') {
    if (!nicExists) {
      return { ok: false, rc: OCF.ERR_CONFIGURED, message: `${nic}: unknown interface: No such device` };
    }
    bits ??= 32;
  } else {
    let best: IpRoute | undefined;
    let bestLen = -1;
    for (const r of routes) {
      const len =
        r.dst === 'default' ? 0 : Number(r.dst.includes('/') ? r.dst.slice(r.dst.indexOf('/') + 1) : 32);
      if (Number.isFinite(len) && len > bestLen) {
        bestLen = len;
        best = r;
      }
    }
    if (best === undefined) return { ok: false, rc: OCF.ERR_GENERIC, message: 'No interface found.' };
    nic = best.dev;
    bits ??= bestLen;
  }
  if (p.broadcast !== '' && !isIpv4(p.broadcast)) {
    return { ok: false, rc: OCF.ERR_CONFIGURED, message: `Invalid broadcast address [${p.broadcast}]` };
  }
  const broadcast = p.broadcast !== '' ? p.broadcast : broadcastOf(p.ip, bits);
  return { ok: true, nic, netmask: prefixToDotted(bits), broadcast };
}
