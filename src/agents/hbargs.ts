// Part: the positional-argument grammars of heartbeat 3.0.6's resource.d wrappers, reproduced
// so `IPaddr2::10.0.0.10/24/eth0/10.0.0.255` in haresources means what it meant to heartbeat.

/** `ip-address[/netmaskbits[/interface[:label][/broadcast]]]` split as the IPaddr/IPaddr2 wrappers do. */
export interface IpSpec {
  readonly ip: string;
  /** Present when the argument had a second field (exported even when empty). */
  readonly cidrNetmask?: string;
  readonly nic?: string;
  readonly broadcast?: string;
}

function dropLeadingSlashes(s: string): string {
  return s.replace(/^\/*/, '');
}

/**
 * The wrappers' sed pipeline: BASEIP is everything before the first "/"; the next field is the
 * netmask; the next is the interface (with an optional ":label") unless it starts with a digit,
 * in which case it is the broadcast; after an interface the next field is the broadcast.
 */
export function parseIpSpec(arg: string): IpSpec {
  const ip = arg.split('/')[0] ?? '';
  let rest = dropLeadingSlashes(arg.slice(ip.length));
  if (rest === '') return { ip };
  const cidrNetmask = rest.split('/')[0] ?? '';
  rest = dropLeadingSlashes(rest.slice(cidrNetmask.length));
  const nic = rest.split('/')[0] ?? '';
  if (/^[0-9]/.test(nic)) return { ip, cidrNetmask, broadcast: nic };
  if (nic === '') return { ip, cidrNetmask };
  const broadcast = dropLeadingSlashes(rest.slice(nic.length)).split('/')[0] ?? '';
  return { ip, cidrNetmask, nic, broadcast };
}

/** The `OCF_RESKEY_*` values the IPaddr/IPaddr2 wrappers export for an ip spec. */
export function ipSpecReskeys(spec: IpSpec): Record<string, string> {
  const keys: Record<string, string> = { ip: spec.ip };
  if (spec.cidrNetmask !== undefined) keys['cidr_netmask'] = spec.cidrNetmask;
  if (spec.nic !== undefined) keys['nic'] = spec.nic;
  if (spec.broadcast !== undefined) keys['broadcast'] = spec.broadcast;
  return keys;
}

/**
 * The SendArp wrapper: `ip-address/interface`; BASEIP is before the first "/", the interface is
 * the argument with the first "<BASEIP>/" removed (so an argument without "/" names itself).
 */
export function parseSendArpSpec(arg: string): { ip: string; nic: string } {
  const ip = arg.split('/')[0] ?? '';
  const marker = `${ip}/`;
  const at = arg.indexOf(marker);
  const nic = at === -1 ? arg : arg.slice(0, at) + arg.slice(at + marker.length);
  return { ip, nic };
}
