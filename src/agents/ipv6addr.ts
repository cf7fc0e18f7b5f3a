// Part: IPv6addr — an IPv6 alias address, parameters, exit codes and address choice as
// resource-agents 4.12's IPv6addr (a C program: heartbeat/IPv6addr.c), and heartbeat 3.0.6's
// resource.d wrapper grammar `IPv6addr::ADDRESS[/PREFIX[/NIC]]`.
//
// What the C program does, and so what this does:
//  - ipv6addr may carry "/prefix"; cidr_netmask overrides it; both 0..128, else exit 2 (usage).
//  - status: the address is on an interface with global scope (link scope too when nic is
//    given), with the given prefix and on the given nic when those are set; 0 or 7.
//  - start: running already → 0. Else the interface is the first one holding a global address
//    whose prefix covers the new address (same prefix length and nic when given); when none
//    does but nic and a prefix were given, that nic. Add the address, then announce it: five
//    unsolicited neighbour advertisements one second apart (send_ua, announce6.ts).
//  - stop: not running → 0; else remove it.
//  - monitor: the C program sends one ICMPv6 echo to the address and reads the reply without
//    waiting, which in practice passes only for an address of this node. tsbeat asks for that
//    explicitly: the address is here, out of DAD, and answers one echo (system ping).
//  - an unknown action prints the usage and exits 2.
// Differences: where the C program checks that the new address answers an echo before the
// advertisements (5 tries, 1 s apart), tsbeat waits for DAD to end and removes an address whose
// DAD failed (exit 1), as IPaddr2 does; a prefix that is not a number is refused (the C program
// reads it with atol, so "64x" was 64 and "x" was 0).

import type { Agent, AgentRequest, AgentResult } from './agent.js';
import { announceIpv6 } from './announce6.js';
import { canonicalIpv6, isIpv6, sameIpv6Prefix } from './inet.js';
import { type IpAddress, type IpCommand, type IpSession, isSafeIpWord, parseAddresses } from './ip.js';
import type { AgentMetadata } from './metadata.js';
import { OCF } from './ocf.js';
import { haveBinary } from './runtime.js';

const metadata: AgentMetadata = {
  name: 'IPv6addr',
  version: '1.0',
  shortdesc: 'Manages IPv6 aliases (tsbeat)',
  longdesc: `
Adds an IPv6 alias address on start and removes it on stop. The interface is the one that holds
a global address of the same prefix (or nic, when no interface does). After adding the address
it waits for duplicate address detection and sends five unsolicited neighbour advertisements one
second apart. This is tsbeat's implementation of the resource-agents IPv6addr agent: same
parameters and exit codes.
`,
  parameters: [
    {
      name: 'ipv6addr',
      type: 'string',
      required: true,
      unique: false,
      default: '',
      shortdesc: 'IPv6 address',
      longdesc: 'The IPv6 address to manage, optionally with "/prefix" (2001:db8::10/64).',
    },
    {
      name: 'cidr_netmask',
      type: 'string',
      unique: false,
      default: '',
      shortdesc: 'Netmask',
      longdesc: 'The prefix length (0..128, e.g. 64); it overrides a prefix given in ipv6addr.',
    },
    {
      name: 'nic',
      type: 'string',
      unique: false,
      default: '',
      shortdesc: 'Network interface',
      longdesc: `The interface for the address. Only addresses of this interface are considered (its
link-local ones too); when none covers the new address, it is added here with cidr_netmask.`,
    },
  ],
  actions: [
    { name: 'start', timeout: '15s' },
    { name: 'stop', timeout: '15s' },
    { name: 'status', timeout: '15s', interval: '15s' },
    { name: 'monitor', timeout: '15s', interval: '15s' },
    { name: 'validate-all', timeout: '5s' },
    { name: 'meta-data', timeout: '5s' },
  ],
};

/** The C program's fixed announcement: UA_REPEAT_COUNT 5, one second apart. */
const UA_COUNT = '5';
const UA_INTERVAL_MS = '1000';

/** ipv6addr, cidr_netmask and nic, checked; a string is the reason for exit 2. */
export interface Ipv6addrParams {
  readonly ip: string;
  /** 0 means "not given" (the C program's convention). */
  readonly prefix: number;
  readonly nic: string;
}

function prefixOf(text: string): number | undefined {
  if (!/^[0-9]{1,3}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 128 ? n : undefined;
}

/** Read the parameters as the C program's main() does. */
export function ipv6addrParams(env: Readonly<Record<string, string | undefined>>): Ipv6addrParams | string {
  const given = env['OCF_RESKEY_ipv6addr'];
  if (given === undefined) return 'Please set OCF_RESKEY_ipv6addr to the IPv6 address you want to manage.';
  let text = given;
  let prefix = 0;
  const slash = text.indexOf('/');
  if (slash !== -1) {
    const p = prefixOf(text.slice(slash + 1));
    if (p === undefined)
      return `Invalid prefix_len [${text.slice(slash + 1)}], should be an integer in [0, 128]`;
    prefix = p;
    text = text.slice(0, slash);
  }
  const mask = env['OCF_RESKEY_cidr_netmask'];
  // Set but empty (the heartbeat wrapper exports it so for "ADDR//NIC") reads as 0: "not given".
  if (mask === '') prefix = 0;
  else if (mask !== undefined) {
    const p = prefixOf(mask);
    if (p === undefined) return `Invalid prefix_len [${mask}], should be an integer in [0, 128]`;
    prefix = p;
  }
  if (!isIpv6(text)) return `Invalid IPv6 address [${text}]`;
  const nic = env['OCF_RESKEY_nic'] ?? '';
  if (nic !== '' && !isSafeIpWord(nic)) return `Invalid nic [${nic}]`;
  return { ip: canonicalIpv6(text) ?? text, prefix, nic };
}

/**
 * scan_if of IPv6addr.c over `ip -6 addr` records: the first address with global scope (or link
 * scope when nic is given), of the given prefix length and nic when those are set, that equals
 * the target (`useMask` false) or covers it with its own prefix (`useMask` true).
 */
export function scanIf(
  addresses: readonly IpAddress[],
  p: Ipv6addrParams,
  useMask: boolean,
): { nic: string; prefix: number } | undefined {
  for (const a of addresses) {
    if (a.family !== 'inet6') continue;
    const scope = a.scope ?? 'global';
    if (scope !== 'global' && !(scope === 'link' && p.nic !== '')) continue;
    if (p.prefix !== 0 && a.prefixlen !== p.prefix) continue;
    if (p.nic !== '' && a.ifname !== p.nic) continue;
    if (sameIpv6Prefix(a.local, p.ip, useMask ? a.prefixlen : 128))
      return { nic: a.ifname, prefix: a.prefixlen };
  }
  return undefined;
}

/** find_if: scanIf with masks, else the given nic and prefix when both are set. */
export function findIf(
  addresses: readonly IpAddress[],
  p: Ipv6addrParams,
): { nic: string; prefix: number; fallback: boolean } | undefined {
  const found = scanIf(addresses, p, true);
  if (found) return { ...found, fallback: false };
  if (p.nic !== '' && p.prefix !== 0) return { nic: p.nic, prefix: p.prefix, fallback: true };
  return undefined;
}

function cmd(json: boolean, ...args: string[]): IpCommand {
  return { args, json };
}

async function addresses(req: AgentRequest, session: IpSession): Promise<IpAddress[] | AgentResult> {
  const [o] = await session.run([cmd(true, 'addr', 'show')], req.signal);
  if (!o?.ok)
    return { rc: OCF.ERR_GENERIC, reason: req.signal.aborted ? 'timed out' : `ip failed: ${o?.error ?? ''}` };
  return parseAddresses(o.json);
}

async function start(req: AgentRequest, p: Ipv6addrParams, session: IpSession): Promise<AgentResult> {
  const { io } = req;
  const addrs = await addresses(req, session);
  if (!Array.isArray(addrs)) return addrs;
  if (scanIf(addrs, p, false)) return { rc: OCF.SUCCESS };
  const where = findIf(addrs, p);
  if (where === undefined) {
    io.log('error', 'no valid mechanisms');
    return {
      rc: OCF.ERR_GENERIC,
      reason: `no interface holds an address of ${p.ip}'s prefix: set nic and cidr_netmask`,
    };
  }
  if (where.fallback) {
    io.log(
      'info',
      `Could not find a proper interface by the ipv6addr. Using the specified nic:'${where.nic}' and cidr_netmask:'${where.prefix}'`,
    );
  }
  io.log('info', `Adding inet6 address ${p.ip}/${where.prefix} to device ${where.nic}`);
  const [added] = await session.run(
    [cmd(false, 'addr', 'add', `${p.ip}/${where.prefix}`, 'dev', where.nic)],
    req.signal,
  );
  if (!added?.ok) {
    if (added?.error) io.log('error', added.error);
    io.log('error', `failed to assign the address to ${where.nic}`);
    return { rc: OCF.ERR_GENERIC, reason: `failed to assign the address to ${where.nic}` };
  }
  const r = await announceIpv6(req, session, {
    ip: p.ip,
    prefix: String(where.prefix),
    nic: where.nic,
    intervalMs: UA_INTERVAL_MS,
    count: UA_COUNT,
    background: false,
  });
  return r ?? { rc: OCF.SUCCESS };
}

async function stop(req: AgentRequest, p: Ipv6addrParams, session: IpSession): Promise<AgentResult> {
  const addrs = await addresses(req, session);
  if (!Array.isArray(addrs)) return addrs;
  const here = scanIf(addrs, p, false);
  if (here === undefined) return { rc: OCF.SUCCESS };
  req.io.log('info', `Removing inet6 address ${p.ip}/${here.prefix} from device ${here.nic}`);
  const [o] = await session.run(
    [cmd(false, 'addr', 'del', `${p.ip}/${here.prefix}`, 'dev', here.nic)],
    req.signal,
  );
  if (!o?.ok) {
    if (o?.error) req.io.log('error', o.error);
    return { rc: OCF.ERR_GENERIC, reason: `failed to remove the address from ${here.nic}` };
  }
  return { rc: OCF.SUCCESS };
}

async function monitor(req: AgentRequest, p: Ipv6addrParams, session: IpSession): Promise<AgentResult> {
  const addrs = await addresses(req, session);
  if (!Array.isArray(addrs)) return addrs;
  const usable = addrs.some((a) => a.family === 'inet6' && a.local === p.ip && !a.tentative && !a.dadfailed);
  if (!usable) return { rc: OCF.NOT_RUNNING };
  if (!haveBinary('ping', req.env)) {
    return { rc: OCF.ERR_INSTALLED, reason: "Setup problem: couldn't find command: ping" };
  }
  const r = await req.runtime.runTool('ping', ['-6', '-n', '-q', '-c', '1', '-W', '1', p.ip], {
    signal: req.signal,
  });
  return { rc: r.code === 0 ? OCF.SUCCESS : OCF.NOT_RUNNING };
}

async function run(req: AgentRequest): Promise<AgentResult> {
  const p = ipv6addrParams(req.env);
  if (typeof p === 'string') {
    req.io.log('error', p);
    req.io.stdout(
      `usage: ${req.env['TSBEAT_ARGV0'] ?? 'IPv6addr'} {start|stop|status|monitor|validate-all|meta-data}\n`,
    );
    return { rc: OCF.ERR_ARGS, reason: p };
  }
  if (req.action === 'validate-all') return { rc: OCF.SUCCESS };
  if (!haveBinary('ip', req.env)) {
    if (req.action === 'stop') return { rc: OCF.SUCCESS };
    if (req.probe) return { rc: OCF.NOT_RUNNING };
    return { rc: OCF.ERR_INSTALLED, reason: "Setup problem: couldn't find command: ip" };
  }
  if ((req.action === 'start' || req.action === 'stop') && !req.runtime.isRoot()) {
    return { rc: OCF.ERR_PERM, reason: `You must be root for ${req.action} operation.` };
  }
  const session = req.runtime.openIp({ family: 'inet6' });
  try {
    switch (req.action) {
      case 'start':
        return await start(req, p, session);
      case 'stop':
        return await stop(req, p, session);
      case 'status': {
        const addrs = await addresses(req, session);
        if (!Array.isArray(addrs)) return addrs;
        return { rc: scanIf(addrs, p, false) ? OCF.SUCCESS : OCF.NOT_RUNNING };
      }
      case 'monitor':
        return await monitor(req, p, session);
      default:
        return { rc: OCF.SUCCESS };
    }
  } finally {
    session.close();
  }
}

/**
 * heartbeat 3.0.6's resource.d/IPv6addr: exactly one argument; BASEIP before the first "/", then
 * cidr_netmask, then nic (each exported only when present).
 */
function parseHeartbeatArgs(args: readonly string[]) {
  const [arg] = args;
  if (args.length !== 1 || arg === undefined) return undefined;
  const [ip = '', mask, nic] = arg.split('/');
  const reskeys: Record<string, string> = { ipv6addr: ip };
  if (mask !== undefined) reskeys['cidr_netmask'] = mask;
  if (nic !== undefined && nic !== '') reskeys['nic'] = nic;
  return { instance: `IPv6addr_${arg}`, reskeys };
}

/** The IPv6addr agent. */
export const ipv6addr: Agent = {
  metadata,
  actions: ['start', 'stop', 'status', 'monitor', 'validate-all'],
  unknownActionRc: OCF.ERR_ARGS,
  run,
  heartbeat: {
    grammar: 'ipv6-address[/prefix[/interface]]',
    parse: parseHeartbeatArgs,
  },
};
