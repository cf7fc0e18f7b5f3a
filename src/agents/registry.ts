// Part: the agents tsbeat implements itself, by name (the heartbeat script name, which is also
// the OCF type).

import type { Agent } from './agent.js';
import { delay } from './delay.js';
import { drbddisk } from './drbddisk.js';
import { dummy } from './dummy.js';
import { filesystem } from './filesystem.js';
import { ipaddr } from './ipaddr.js';
import { ipaddr2 } from './ipaddr2.js';
import { ipv6addr } from './ipv6addr.js';
import { ldirectord } from './ldirectord.js';
import { lvsSyncDaemonSwap } from './lvssyncdaemonswap.js';
import { lxc } from './lxc.js';
import { mailTo } from './mailto.js';
import { sendArp } from './sendarp.js';
import { vserver } from './vserver.js';

/** Name → agent. Names are case-sensitive, as file names in resource.d are. */
export const AGENTS: Readonly<Record<string, Agent>> = {
  IPaddr2: ipaddr2,
  IPaddr: ipaddr,
  IPv6addr: ipv6addr,
  SendArp: sendArp,
  Dummy: dummy,
  Filesystem: filesystem,
  drbddisk,
  vserver,
  lxc,
  MailTo: mailTo,
  Delay: delay,
  ldirectord,
  LVSSyncDaemonSwap: lvsSyncDaemonSwap,
};

/** The agent with this name, if tsbeat has one. */
export function findAgent(name: string): Agent | undefined {
  return Object.hasOwn(AGENTS, name) ? AGENTS[name] : undefined;
}

/** All agent names, for installers and help texts. */
export function agentNames(): string[] {
  return Object.keys(AGENTS);
}
