// Part: ha.cf's ping lines (`ping`, `ping6`, `ping_group`) as the membership core's ping nodes.

import type { PingNodeConfig } from '../config/model.js';
import type { PingNodeSpec } from '../membership/model.js';

/**
 * One ping node per `ping`/`ping6` host (named after the host) and one per `ping_group`
 * (named after the group), in ha.cf order, as heartbeat's add_node makes them. A name given
 * twice keeps its first definition (config validation reports the duplicate).
 */
export function pingNodeSpecs(
  lines: readonly PingNodeConfig[],
  normalNodes: readonly string[],
): PingNodeSpec[] {
  const out: PingNodeSpec[] = [];
  const taken = new Set(normalNodes);
  for (const l of lines) {
    const spec: PingNodeSpec =
      l.kind === 'ping_group'
        ? { name: l.name, hosts: l.hosts }
        : { name: l.host, hosts: [l.host], ...(l.kind === 'ping6' ? { ipv6: true } : {}) };
    if (taken.has(spec.name)) continue;
    taken.add(spec.name);
    out.push(spec);
  }
  return out;
}

/** Hosts to be pinged over ICMPv6. */
export function ipv6Hosts(specs: readonly PingNodeSpec[]): Set<string> {
  return new Set(specs.filter((s) => s.ipv6).flatMap((s) => s.hosts));
}
