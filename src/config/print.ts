// Part: configuration -> text: canonical ha.cf/haresources (printing then parsing gives the
// same values), the operator summary of `tsbeat check`, and the JSON view.

import type { Keyring } from '../codec/auth/keyring.js';
import type { Config, HaCf, MediumConfig, ResourceGroupConfig } from './model.js';
import { formatMs, parseBoolean } from './values.js';

/** Directives that must precede `pacemaker`/`crm` to be accepted. */
const BEFORE_PACEMAKER = ['crm_daemon_dir', 'crmd_spawns_pengine'];

/** A medium as its ha.cf line. */
export function mediumLine(m: MediumConfig): string {
  switch (m.kind) {
    case 'bcast':
      return `bcast ${m.dev}`;
    case 'mcast':
      return `mcast ${m.dev} ${m.group} ${m.port} ${m.ttl} ${m.loop ? 1 : 0}`;
    case 'mcast6':
      return `mcast6 ${m.dev} ${m.group} ${m.port} ${m.hops} ${m.loop ? 1 : 0}`;
    case 'ucast':
    case 'ucast6':
      return `${m.kind} ${m.dev} ${m.peer}`;
    case 'serial':
      return `serial ${m.device}`;
  }
}

/**
 * Canonical ha.cf text for `haCf`. Heartbeat latches `udpport` and `baud` when it meets the
 * first medium that uses them, so those lines are placed where they give each medium the
 * port and speed it has.
 */
export function printHaCf(haCf: HaCf): string {
  const out: string[] = [];
  const params = haCf.params;
  for (const k of BEFORE_PACEMAKER) if (params[k] !== undefined) out.push(`${k} ${params[k]}`);
  for (const [k, v] of Object.entries(params)) {
    if (BEFORE_PACEMAKER.includes(k) || k === 'udpport' || k === 'baud') continue;
    out.push(`${k} ${v}`);
  }
  // heartbeat quirk kept by the parser: "auto_failback on" then "nice_failback X" records
  // "on" but runs with off. Reproduce that pair so the printed file means the same.
  if (parseBoolean(params['auto_failback'] ?? '') === true && haCf.autoFailback === 'off')
    out.push('nice_failback on');
  if (haCf.nodes.length > 0) out.push(`node ${haCf.nodes.join(' ')}`);
  for (const [name, value] of haCf.env) out.push(`env ${name}=${value}`);
  for (const a of haCf.apiauth) {
    const parts = [`apiauth ${a.client}`];
    if (a.uids.length > 0) parts.push(`uid=${a.uids.join(',')}`);
    if (a.gids.length > 0) parts.push(`gid=${a.gids.join(',')}`);
    out.push(parts.join(' '));
  }
  for (const c of haCf.clientChildren) {
    out.push([c.failfast ? 'failfast' : 'respawn', c.user, c.command, ...c.args].join(' '));
  }
  for (const s of haCf.stonith) {
    out.push(
      s.kind === 'stonith'
        ? `stonith ${s.type} ${s.configFile}`
        : `stonith_host ${s.from} ${s.type} ${s.params}`,
    );
  }
  for (const p of haCf.pingNodes) {
    out.push(p.kind === 'ping_group' ? `ping_group ${p.name} ${p.hosts.join(' ')}` : `${p.kind} ${p.host}`);
  }

  const firstSerial = haCf.media.find((m) => m.kind === 'serial');
  const baudParam = params['baud'];
  const baudFirst = !firstSerial || firstSerial.baud === haCf.baud;
  if (baudParam !== undefined && baudFirst) out.push(`baud ${baudParam}`);
  let currentPort: number | undefined;
  const latched = new Set<string>();
  for (const m of haCf.media) {
    if ((m.kind === 'bcast' || m.kind === 'ucast' || m.kind === 'ucast6') && !latched.has(m.kind)) {
      latched.add(m.kind);
      if (currentPort !== m.port) {
        out.push(`udpport ${m.port}`);
        currentPort = m.port;
      }
    }
    out.push(mediumLine(m));
  }
  if (baudParam !== undefined && !baudFirst) out.push(`baud ${baudParam}`);
  const udpParam = params['udpport'];
  if (udpParam !== undefined && (currentPort === undefined || String(currentPort) !== udpParam)) {
    out.push(`udpport ${udpParam}`);
  }
  return `${out.join('\n')}\n`;
}

/** Canonical haresources text: one group per line. */
export function printHaresources(groups: readonly ResourceGroupConfig[]): string {
  return groups.map((g) => `${g.node} ${g.resources.map((r) => r.spec).join(' ')}\n`).join('');
}

function describeMedium(m: MediumConfig): string {
  switch (m.kind) {
    case 'bcast':
      return `broadcast on ${m.dev} (port ${m.port})`;
    case 'mcast':
      return `multicast ${m.group}:${m.port} on ${m.dev}`;
    case 'mcast6':
      return `IPv6 multicast [${m.group}]:${m.port} on ${m.dev}`;
    case 'ucast':
    case 'ucast6':
      return `unicast to ${m.peer}:${m.port} on ${m.dev}`;
    case 'serial':
      return `serial line ${m.device} at ${m.baud} baud`;
  }
}

function joinWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** One paragraph saying what the cluster would do, for humans at 3 a.m. */
export function summarize(config: Config): string {
  const h = config.haCf;
  const k = config.keyring.active;
  const s: string[] = [];
  s.push(
    `Cluster "${h.cluster}" of ${h.nodes.length} node${h.nodes.length === 1 ? '' : 's'} (${h.nodes.join(', ')}); this node is ${config.localNode}.`,
  );
  s.push(
    `Heartbeats every ${formatMs(h.keepaliveMs)} over ${joinWords(h.media.map(describeMedium))}, signed with ${k.method}${k.method === 'crc' ? ' (no secret: not authentication)' : ''} (key ${k.index}, ${h.msgfmt} format).`,
  );
  s.push(
    `A silent peer is declared dead ${formatMs(h.deadtimeMs)} after its last heartbeat (${formatMs(h.initdeadMs)} at start-up), with a late-heartbeat warning after ${formatMs(h.warntimeMs)}; real heartbeat 3.0.6 may take up to ${formatMs(h.deadtimeMs + h.keepaliveMs)}.`,
  );
  if (config.groups.length === 0) {
    s.push('No resource groups (haresources is empty).');
  } else {
    const byNode = config.groups.map(
      (g) =>
        `${g.node} runs [${g.resources.map((r) => r.spec).join(' ')}] (started left to right, stopped right to left)`,
    );
    s.push(`Resource groups: ${byNode.join('; ')}.`);
    const failback = {
      on: 'auto_failback on: a group moves back to its preferred node when that node returns.',
      off: 'auto_failback off: a group stays where it runs until an operator moves it (hb_standby, hb_takeover).',
      legacy:
        'auto_failback legacy: each node asks for its groups back when it starts; hb_standby is not available.',
    } as const;
    s.push(failback[h.autoFailback]);
  }
  if (h.pingNodes.length > 0) {
    const names = h.pingNodes.map((p) =>
      p.kind === 'ping_group' ? `${p.name} (any of ${p.hosts.join(', ')})` : p.host,
    );
    s.push(
      `Ping nodes ${joinWords(names)}: one ICMP echo per heartbeat, dead after ${formatMs(h.deadpingMs)} without an answer.`,
    );
  }
  const ipfail = h.clientChildren.find((c) => /(^|\/)ipfail$/.test(c.command));
  if (ipfail) {
    const why =
      config.groups.length === 0
        ? 'no resource groups'
        : h.autoFailback === 'legacy'
          ? 'auto_failback legacy'
          : h.nodes.length !== 2
            ? `${h.nodes.length} nodes, not a pair`
            : undefined;
    s.push(
      why
        ? `ipfail is configured but will not run (${why}).`
        : `ipfail (built in): when this node sees fewer ping nodes than its peer it gives its groups up (hb_standby all), about ${formatMs(h.deadpingMs + 2 * h.keepaliveMs)} after losing them; equal counts move nothing.`,
    );
  }
  const programs = h.clientChildren.filter((c) => !c.failfast && !/(^|\/)ipfail$/.test(c.command));
  if (programs.length > 0)
    s.push(
      `Client programs ${joinWords(programs.map((c) => `${c.command} (as ${c.user})`))} run with tsbeat and are restarted when they exit.`,
    );
  if (h.watchdog !== undefined)
    s.push(`Watchdog ${h.watchdog}: written with every heartbeat; if tsbeat hangs, the machine reboots.`);
  if (h.stonith.length === 0) {
    s.push('No STONITH device: a dead peer is not fenced before takeover.');
  } else {
    const last = h.stonith.at(-1)!;
    s.push(`A dead peer is reset with STONITH device "${last.type}" before its groups are taken over.`);
  }
  // tsbeat.cf (tsbeat only): what it turns on.
  const t = config.tsbeat;
  if (t?.metrics)
    s.push(
      `Metrics are served at http://${t.metrics.host.includes(':') ? `[${t.metrics.host}]` : t.metrics.host}:${t.metrics.port}/metrics.`,
    );
  if (t?.logjson) s.push(`JSON log records also go to ${t.logjson}.`);
  if (t?.lvsDr)
    s.push("At start, the VIPs of this node's ldirectord groups go on lo for LVS-DR (tsbeat lvs-dr setup).");
  return s.join(' ');
}

function keyringJson(k: Keyring): unknown {
  const one = (key: Keyring['active']): unknown => ({
    index: key.index,
    method: key.method,
    // Never print the secret itself.
    keyBytes: key.key.length,
  });
  return { active: one(k.active), keys: [...k.keys.values()].map(one) };
}

/** The parsed configuration as plain JSON (secrets redacted). */
export function configToJson(config: Config): unknown {
  return {
    dir: config.dir,
    localNode: config.localNode,
    haCf: config.haCf,
    keyring: keyringJson(config.keyring),
    groups: config.groups,
    ...(config.tsbeat ? { tsbeat: config.tsbeat } : {}),
  };
}
