// Part: when built-in ipfail runs: heartbeat configs start ipfail with
// `respawn hacluster /usr/lib/heartbeat/ipfail`; tsbeat runs its own (./ipfail.ts) for any
// respawn or failfast line whose program is named ipfail, under ipfail's own preconditions.

import type { Config } from '../config/model.js';
import type { IpfailConfig } from './ipfail.js';

/** Whether a respawn/failfast program is heartbeat's ipfail (any directory). */
export function isIpfailCommand(command: string): boolean {
  return /(^|\/)ipfail$/.test(command);
}

/**
 * Built-in ipfail's settings, or why it does not run (ipfail.c's own refusals), or undefined
 * when ha.cf does not ask for ipfail.
 */
export function ipfailSetup(config: Config): { cfg: IpfailConfig } | { problem: string } | undefined {
  const h = config.haCf;
  const line = h.clientChildren.find((c) => isIpfailCommand(c.command));
  if (!line) return undefined;
  const what = `${line.failfast ? 'failfast' : 'respawn'} ${line.user} ${line.command}`;
  if (config.groups.length === 0)
    return {
      problem: `${what}: no managed resources (haresources is empty), so ipfail has nothing to give up`,
    };
  if (h.autoFailback === 'legacy')
    return {
      problem: `${what}: auto_failback legacy is incompatible with ipfail (as in heartbeat); set auto_failback on or off`,
    };
  const others = h.nodes.filter((n) => n !== config.localNode);
  if (others.length !== 1)
    return { problem: `${what}: ipfail works in pairs, and ha.cf has ${h.nodes.length} nodes` };
  return {
    cfg: {
      localNode: config.localNode,
      peer: others[0]!,
      autoFailback: h.autoFailback === 'on',
      giveupDelayMs: 2 * h.keepaliveMs,
      givebackDelayMs: Math.max(2 * h.keepaliveMs, h.deadpingMs),
      retryMs: Math.max(1000, h.keepaliveMs),
    },
  };
}
