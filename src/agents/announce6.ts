// Part: an IPv6 address's announcement after it was added — wait out duplicate address
// detection, then unsolicited neighbour advertisements through resource-agents' `send_ua`
// (Node has no raw ICMPv6 socket). Shared by IPaddr2's IPv6 path and IPv6addr.

import type { AgentRequest, AgentResult } from './agent.js';
import { type IpCommand, type IpSession, parseAddresses } from './ip.js';
import { OCF } from './ocf.js';
import { haveBinary, spawnDetached } from './runtime.js';
import { sleepMs } from './sleep.js';

/** What to announce, where, and how (the `send_ua` arguments). */
export interface Ipv6Announcement {
  readonly ip: string;
  readonly prefix: string;
  readonly nic: string;
  readonly intervalMs: string;
  readonly count: string;
  /** Return before `send_ua` is done (IPaddr2's arp_bg). */
  readonly background: boolean;
}

/** Seconds DAD may take before we stop waiting (IPaddr2's loop: 10 checks, 1 s apart). */
const DAD_CHECKS = 10;

function cmd(json: boolean, ...args: string[]): IpCommand {
  return { args, json };
}

/** `$HA_BIN/send_ua`, where resource-agents installs it. */
export function sendUaPath(env: Readonly<Record<string, string | undefined>>): string {
  return `${env['HA_BIN'] ?? '/usr/libexec/heartbeat'}/send_ua`;
}

/**
 * Wait for DAD (a duplicate removes the address again and fails the start), then send the
 * unsolicited NAs. Undefined means success; a result means "exit with this".
 */
export async function announceIpv6(
  req: AgentRequest,
  session: IpSession,
  a: Ipv6Announcement,
): Promise<AgentResult | undefined> {
  const { io } = req;
  for (let i = 1; i <= DAD_CHECKS; i++) {
    const [o] = await session.run(
      [cmd(true, 'addr', 'show', 'dev', a.nic, 'to', `${a.ip}/${a.prefix}`)],
      req.signal,
    );
    const addr = parseAddresses(o?.json).find((x) => x.local === a.ip);
    if (addr?.dadfailed) {
      io.log('error', `IPv6 address collision ${a.ip} [DAD]`);
      const [d] = await session.run(
        [cmd(false, 'addr', 'del', 'dev', a.nic, `${a.ip}/${a.prefix}`)],
        req.signal,
      );
      if (!d?.ok) io.log('error', 'Could not delete IPv6 address');
      return { rc: OCF.ERR_GENERIC, reason: 'run_send_ua failed.' };
    }
    if (!addr?.tentative) break;
    if (i === DAD_CHECKS) io.log('warn', 'IPv6 address : DAD is still in tentative');
    if (await sleepMs(1000, req.signal)) break;
  }
  // DAD is waited for even without send_ua: a tentative address cannot be used yet.
  const sendUa = sendUaPath(req.env);
  if (!haveBinary(sendUa, req.env)) {
    io.log('debug', `${sendUa} not installed: no unsolicited neighbour advertisement for ${a.ip}`);
    return undefined;
  }
  const args = ['-i', a.intervalMs, '-c', a.count, a.ip, a.prefix, a.nic];
  io.log('info', `${sendUa} ${args.join(' ')}`);
  if (a.background) {
    const run = await spawnDetached(sendUa, args);
    run?.unref();
    return undefined;
  }
  const r = await req.runtime.runTool(sendUa, args, { signal: req.signal });
  if (r.code !== 0) {
    io.log('error', `Could not send ICMPv6 Unsolicited Neighbor Advertisements: rc=${r.code}`);
    return { rc: OCF.ERR_GENERIC, reason: 'run_send_ua failed.' };
  }
  return undefined;
}
