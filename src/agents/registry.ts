// Part: the agents tsbeat implements itself, by name (the heartbeat script name, which is also
// the OCF type), and where tsbeat's resource manager may run each of them: inside the daemon,
// or as its own executable in a child process.

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

/** One built-in agent and where the daemon may run it. */
export interface RegisteredAgent {
  readonly agent: Agent;
  /**
   * True: the daemon runs it in its own process (no fork, a few ms for an IP takeover). Only for
   * agents that cannot block the event loop: they talk to the kernel through the idle `ip -batch`
   * and GARP helper processes, read procfs/sysfs, wait on timers and async child processes, and
   * touch at most small files in HA_RSCTMP (a tmpfs, /run/resource-agents). False: a synchronous
   * call of the agent can wait on a disk or a mount (a hung NFS/CIFS server, a stuck disk), which
   * in-process would stop the daemon's heartbeats while this node still holds the resources; so
   * the daemon runs its executable (`dist/cli/agent.js hb NAME ...`, what resource.d/NAME runs)
   * in a process group of its own, under the same deadline and kill as any script.
   */
  readonly inProcess: boolean;
}

/** Name → agent. Names are case-sensitive, as file names in resource.d are. */
const REGISTRY: Readonly<Record<string, RegisteredAgent>> = {
  // netlink through the idle `ip -batch`, GARP runner, LVS loopback state file in HA_RSCTMP.
  IPaddr2: { agent: ipaddr2, inProcess: true },
  // as IPaddr2, plus alias reservation by hard links in HA_RSCTMP.
  IPaddr: { agent: ipaddr, inProcess: true },
  // netlink through `ip`, DAD from the kernel, `send_ua` and `ping` as async children.
  IPv6addr: { agent: ipv6addr, inProcess: true },
  // GARP runner and pid/pseudo-resource files in HA_RSCTMP; arp_config is read asynchronously.
  SendArp: { agent: sendArp, inProcess: true },
  // a state file in HA_RSCTMP (its `state` path cannot be set from haresources).
  Dummy: { agent: dummy, inProcess: true },
  // stat/realpath/mkdir on the mount point and a /proc/*/fd scan that stats every open file: all
  // synchronous, and all of them hang on a dead NFS/CIFS server or a stuck disk.
  Filesystem: { agent: filesystem, inProcess: false },
  // storage stack: reads /etc/default/drbd synchronously and drives a device that may hang; the
  // 0.1-0.2 s of a process start is nothing next to promotions retried 1 s apart.
  drbddisk: { agent: drbddisk, inProcess: false },
  // reads util-vserver's tree under /etc/vservers synchronously (readdir, stat and a read per
  // guest interface), for guests that live on the group's shared storage.
  vserver: { agent: vserver, inProcess: false },
  // checks the container's config under lxcpath synchronously, usually on the shared storage a
  // Filesystem resource before it mounted.
  lxc: { agent: lxc, inProcess: false },
  // the mailer is an async child with a deadline; a state file in HA_RSCTMP.
  MailTo: { agent: mailTo, inProcess: true },
  // timers and a state file in HA_RSCTMP.
  Delay: { agent: delay, inProcess: true },
  // reads ldirectord.cf and the director's pid file synchronously; its director is a daemon of
  // its own anyway.
  ldirectord: { agent: ldirectord, inProcess: false },
  // only `ipvsadm` as async children.
  LVSSyncDaemonSwap: { agent: lvsSyncDaemonSwap, inProcess: true },
};

/** Name → agent, for the executables, installers and meta-data. */
export const AGENTS: Readonly<Record<string, Agent>> = Object.fromEntries(
  Object.entries(REGISTRY).map(([name, r]) => [name, r.agent]),
);

/** The agent with this name, if tsbeat has one. */
export function findAgent(name: string): Agent | undefined {
  return Object.hasOwn(REGISTRY, name) ? REGISTRY[name]?.agent : undefined;
}

/**
 * Whether tsbeat's resource manager may run this built-in agent inside the daemon (see
 * RegisteredAgent.inProcess). False for a name that is not built in.
 */
export function runsInProcess(name: string): boolean {
  return Object.hasOwn(REGISTRY, name) && REGISTRY[name]?.inProcess === true;
}

/** All agent names, for installers and help texts. */
export function agentNames(): string[] {
  return Object.keys(REGISTRY);
}
