// Part: ha.cf (and authkeys) -> a Corosync 3 corosync.conf (knet): nodes, links from the
// heartbeat media, two_node, a token timeout with heartbeat's failover time, crypto; and the
// report line of every ha.cf directive, with the replacement of what has none.

import type { MediumConfig } from '../config/model.js';
import { mediumLine } from '../config/print.js';
import type { ExportInput, ReportEntry, ReportStatus } from './model.js';

/** Corosync's consensus timeout defaults to 1.2 x token; a node is gone after token + consensus. */
export const CONSENSUS_FACTOR = 1.2;

export interface CorosyncLink {
  readonly number: number;
  /** The heartbeat media it replaces, as written. */
  readonly from: string;
  /** ringN_addr of each node, in node order. */
  readonly addrs: readonly string[];
}

export interface CorosyncExport {
  readonly text: string;
  readonly tokenMs: number;
  readonly links: readonly CorosyncLink[];
  readonly crypto: boolean;
  readonly report: readonly ReportEntry[];
}

/** Directives that tune heartbeat's own machinery: nothing to carry over. */
const INTERNALS = new Set([
  'hopfudge',
  'hbgenmethod',
  'realtime',
  'rtprio',
  'msgfmt',
  'use_logd',
  'conn_logd_time',
  'use_apphbd',
  'log_badpack',
  'syslogmsgfmt',
  'coredumps',
  'coreroot',
  'compression',
  'compression_threshold',
  'traditional_compression',
  'max_rexmit_delay',
  'memreserve',
  'uuidfrom',
  'record_config_changes',
  'record_pengine_inputs',
  'enable_config_writes',
  'crm_daemon_dir',
  'crmd_spawns_pengine',
  'debugfile',
]);

/** Directives reported by list (media, nodes, ...) or by the Pacemaker side. */
const REPORTED_ELSEWHERE = new Set([
  'node',
  'bcast',
  'mcast',
  'mcast6',
  'ucast',
  'ucast6',
  'serial',
  'ping',
  'ping6',
  'ping_group',
  'stonith',
  'stonith_host',
  'respawn',
  'failfast',
  'auto_failback',
]);

/** What a directive without a Pacemaker/Corosync counterpart of its own becomes. */
export function directiveEntry(
  name: string,
  item: string,
  input: ExportInput,
): { item: string; status: ReportStatus; became: string } {
  const { haCf } = input;
  const e = (status: ReportStatus, became: string) => ({ item, status, became });
  if (INTERNALS.has(name)) return e('none', 'tunes heartbeat itself: no equivalent needed');
  switch (name) {
    case 'cluster':
      return e('mapped', `totem cluster_name ${haCf.cluster}`);
    case 'udpport':
      return e('changed', 'knet uses UDP port 5405 (and 5404): open it in the firewall instead of 694');
    case 'baud':
      return e('none', 'serial links have no Corosync equivalent');
    case 'logfacility':
      return e('mapped', `logging to_syslog yes, syslog_facility ${haCf.logfacility ?? 'daemon'}`);
    case 'logfile':
      return e(
        'changed',
        'Corosync logs to /var/log/corosync/corosync.log and Pacemaker to /var/log/pacemaker/pacemaker.log',
      );
    case 'debug':
      return e('mapped', `logging debug ${haCf.debugLevel > 0 ? 'on' : 'off'}`);
    case 'nice_failback':
      return e('none', `read as auto_failback ${haCf.autoFailback} (see that line)`);
    case 'crm':
    case 'pacemaker':
      return e('none', 'Pacemaker is the resource manager now: nothing to switch on');
    case 'autojoin':
      return e(
        'decide',
        'the Corosync nodelist is static: to add a node, add it to corosync.conf on every node and run corosync-cfgtool -R',
      );
    case 'watchdog':
      return e(
        'decide',
        'use sbd (watchdog fencing) with fence_watchdog, or keep the hardware watchdog under systemd',
      );
    case 'quorum_server':
      return e('decide', 'use a Corosync quorum device: corosync-qdevice / corosync-qnetd');
    case 'env':
      return /^env\s+TSBEAT_(PREFERRED_SURVIVOR|FENCE_DELAY)=/.test(item)
        ? e(
            'mapped',
            "tsbeat's fence-race policy: the preferred survivor's fencing device gets pcmk_delay_base",
          )
        : e(
            'decide',
            'resource scripts no longer run under heartbeat: pass the values as agent parameters instead',
          );
    case 'apiauth':
      return e('none', "heartbeat's API permissions: Pacemaker's tools are allowed to the haclient group");
    default:
      return e('none', 'no equivalent needed');
  }
}

export function exportCorosync(input: ExportInput): CorosyncExport {
  const { haCf } = input;
  const report: ReportEntry[] = [];
  const at = (name: string) => {
    const p = input.haCfSource.directives[name];
    return p ? { file: input.haCfFile, line: p.line } : { file: input.haCfFile };
  };
  const add = (name: string, item: string, status: ReportStatus, became: string) =>
    report.push({ ...at(name), item, status, became });

  const nodes = haCf.nodes;
  input.haCfSource.nodes.forEach((p, i) => {
    const n = nodes[i];
    if (n !== undefined)
      report.push({
        file: input.haCfFile,
        line: p.line,
        item: `node ${n}`,
        status: 'mapped',
        became: `CIB node ${n}; corosync.conf node ${n}, nodeid ${i + 1}`,
      });
  });

  // Links: one per network device, in ha.cf order. knet is unicast: a node's address on each
  // link is needed, which only ucast lines give (bcast and mcast name just the device).
  const devices: { dev: string; media: { m: MediumConfig; line: number }[] }[] = [];
  haCf.media.forEach((m, i) => {
    const line = input.haCfSource.media[i]?.line ?? 0;
    if (m.kind === 'serial') {
      report.push({
        file: input.haCfFile,
        line,
        item: mediumLine(m),
        status: 'decide',
        became:
          'no equivalent: Corosync runs over IP only; add a second network link on its own cable or switch (knet uses up to 8), or a quorum device (corosync-qdevice)',
      });
      return;
    }
    let d = devices.find((x) => x.dev === m.dev);
    if (!d) {
      d = { dev: m.dev, media: [] };
      devices.push(d);
    }
    d.media.push({ m, line });
  });
  const candidates = devices.map((d) => {
    const peers = [
      ...new Set(d.media.flatMap(({ m }) => (m.kind === 'ucast' || m.kind === 'ucast6' ? [m.peer] : []))),
    ];
    // A shared ha.cf lists every node's address; with one per node, ha.cf order = node order is
    // the only reading (heartbeat itself never needed to know whose address is whose).
    const addrs = peers.length === nodes.length && nodes.length > 0 ? peers : undefined;
    return { ...d, addrs, peers };
  });
  const withAddrs = candidates.filter((c) => c.addrs !== undefined);
  const links: CorosyncLink[] = [];
  const linkOf = new Map<string, number>();
  if (withAddrs.length > 0) {
    for (const c of withAddrs.slice(0, 8)) {
      linkOf.set(c.dev, links.length);
      links.push({
        number: links.length,
        from: c.media.map(({ m }) => mediumLine(m)).join(', '),
        addrs: c.addrs!,
      });
    }
  } else if (candidates.length > 0 && nodes.length > 0) {
    const c = candidates[0]!;
    linkOf.set(c.dev, 0);
    links.push({ number: 0, from: c.media.map(({ m }) => mediumLine(m)).join(', '), addrs: nodes });
  }
  for (const c of candidates) {
    const n = linkOf.get(c.dev);
    for (const { m, line } of c.media) {
      const where = { file: input.haCfFile, line, item: mediumLine(m) };
      if (n === undefined) {
        report.push({
          ...where,
          status: 'decide',
          became: `no link: ha.cf does not say each node's address on ${c.dev}; add "ring${links.length}_addr: ADDRESS" to every node in corosync.conf (and an interface { linknumber: ${links.length} } block)`,
        });
      } else if (c.addrs === undefined) {
        report.push({
          ...where,
          status: 'decide',
          became: `knet link ${n} with each node's name as its address (ring${n}_addr: ${nodes.join(', ')}): the names must resolve (/etc/hosts) to the addresses on ${c.dev}, or replace them`,
        });
      } else {
        report.push({
          ...where,
          status: 'changed',
          became: `knet link ${n} (unicast): ${nodes.map((node, i) => `${node}=${c.addrs![i]}`).join(', ')}, assuming ha.cf lists the addresses in node order; check it`,
        });
      }
    }
  }
  if (links.length === 0 && nodes.length > 0) {
    report.push({
      file: input.haCfFile,
      item: 'heartbeat media',
      status: 'decide',
      became:
        "no network medium: corosync.conf gets a link over the node names (ring0_addr: NAME); they must resolve to the nodes' addresses",
    });
    links.push({ number: 0, from: 'no network medium in ha.cf', addrs: nodes });
  }

  // heartbeat takes over after `deadtime` of silence; Corosync declares a node lost after the
  // token timeout plus the consensus timeout (1.2 x token). Same failover time: token = deadtime / 2.2.
  const tokenMs = Math.max(1, Math.round(haCf.deadtimeMs / (1 + CONSENSUS_FACTOR)));
  add(
    'deadtime',
    `deadtime ${haCf.deadtimeMs / 1000}`,
    'mapped',
    `totem token ${tokenMs}: a node is declared lost after token + consensus (1.2 x token) = ${haCf.deadtimeMs} ms, heartbeat's deadtime`,
  );
  add(
    'keepalive',
    `keepalive ${haCf.keepaliveMs / 1000}`,
    'none',
    'no equivalent needed: the Corosync token circulates continuously and is retransmitted within the token timeout',
  );
  add(
    'warntime',
    `warntime ${haCf.warntimeMs / 1000}`,
    'none',
    'no equivalent: Corosync logs token retransmits and a "Token has not been received" warning at 75% of the token timeout',
  );
  add(
    'initdead',
    `initdead ${haCf.initdeadMs / 1000}`,
    'changed',
    nodes.length === 2
      ? 'two_node implies wait_for_all: after a cold start a node runs nothing until it has seen its peer once (heartbeat waited initdead, then took over)'
      : 'no equivalent: after a cold start Pacemaker waits for quorum',
  );

  const active = input.keyring.active;
  const crypto = active.method !== 'crc';
  report.push({
    file: input.authkeysFile,
    item: `auth ${active.index} (${active.method})`,
    status: crypto ? 'changed' : 'decide',
    became: crypto
      ? `crypto_cipher aes256, crypto_hash sha256 (heartbeat signed with HMAC-${active.method.toUpperCase()} and did not encrypt); heartbeat's key cannot be reused: run corosync-keygen on one node and copy /etc/corosync/authkey to the others (mode 400)`
      : 'crc is a checksum, not authentication: crypto_cipher none, crypto_hash none as before; strongly consider aes256/sha256 with a key from corosync-keygen',
  });

  for (const [name, pos] of Object.entries(input.haCfSource.directives)) {
    if (REPORTED_ELSEWHERE.has(name) || ['deadtime', 'keepalive', 'warntime', 'initdead'].includes(name))
      continue;
    const text = input.haCfLines.find((l) => l.line === pos.line)?.text ?? name;
    report.push({ file: input.haCfFile, line: pos.line, ...directiveEntry(name, text, input) });
  }

  haCf.pingNodes.forEach((p, i) => {
    const line = input.haCfSource.pingNodes[i]?.line;
    report.push({
      file: input.haCfFile,
      ...(line !== undefined ? { line } : {}),
      item: p.kind === 'ping_group' ? `ping_group ${p.name} ${p.hosts.join(' ')}` : `${p.kind} ${p.host}`,
      status: 'decide',
      became:
        'no Corosync equivalent: in Pacemaker, a cloned ocf:pacemaker:ping resource (host_list) and a location rule on "pingd" per group',
    });
  });
  haCf.clientChildren.forEach((c, i) => {
    const line = input.haCfSource.clientChildren[i]?.line;
    const ipfail = /(^|\/)ipfail$/.test(c.command);
    report.push({
      file: input.haCfFile,
      ...(line !== undefined ? { line } : {}),
      item: `${c.failfast ? 'failfast' : 'respawn'} ${c.user} ${[c.command, ...c.args].join(' ')}`,
      status: 'decide',
      became: ipfail
        ? 'ipfail: in Pacemaker, a cloned ocf:pacemaker:ping resource and a location rule preferring the node with more reachable ping nodes (score-attribute=pingd)'
        : 'run it as a systemd service (or a cloned Pacemaker resource) instead',
    });
  });

  const text = renderCorosync(input, links, tokenMs, crypto);
  return { text, tokenMs, links, crypto, report };
}

function renderCorosync(
  input: ExportInput,
  links: readonly CorosyncLink[],
  tokenMs: number,
  crypto: boolean,
): string {
  const { haCf } = input;
  const l: string[] = [];
  l.push(`# corosync.conf written by "tsbeat export pacemaker" from ${input.haCfFile}.`);
  l.push('# Copy it to /etc/corosync/corosync.conf on every node; see the migration report.');
  l.push('totem {');
  l.push('    version: 2');
  l.push(`    cluster_name: ${haCf.cluster}`);
  l.push('    transport: knet');
  l.push(`    # heartbeat deadtime ${haCf.deadtimeMs} ms = token + consensus (1.2 x token)`);
  l.push(`    token: ${tokenMs}`);
  if (crypto) {
    l.push(
      `    # authkeys used ${input.keyring.active.method}; the key is /etc/corosync/authkey (corosync-keygen)`,
    );
    l.push('    crypto_cipher: aes256');
    l.push('    crypto_hash: sha256');
  } else {
    l.push('    # authkeys used crc: no authentication, as before');
    l.push('    crypto_cipher: none');
    l.push('    crypto_hash: none');
  }
  for (const link of links) {
    l.push('    interface {');
    l.push(`        # replaces: ${link.from}`);
    l.push(`        linknumber: ${link.number}`);
    l.push('    }');
  }
  l.push('}');
  l.push('');
  l.push('nodelist {');
  haCf.nodes.forEach((n, i) => {
    l.push('    node {');
    l.push(`        name: ${n}`);
    l.push(`        nodeid: ${i + 1}`);
    for (const link of links) l.push(`        ring${link.number}_addr: ${link.addrs[i]}`);
    l.push('    }');
  });
  l.push('}');
  l.push('');
  l.push('quorum {');
  l.push('    provider: corosync_votequorum');
  if (haCf.nodes.length === 2) {
    l.push('    # two nodes, as heartbeat: the survivor keeps quorum; implies wait_for_all at start-up');
    l.push('    two_node: 1');
  }
  l.push('}');
  l.push('');
  l.push('logging {');
  l.push('    to_logfile: yes');
  l.push('    logfile: /var/log/corosync/corosync.log');
  l.push(`    to_syslog: ${haCf.logfacility !== undefined && haCf.logfacility !== 'none' ? 'yes' : 'no'}`);
  if (haCf.logfacility !== undefined && haCf.logfacility !== 'none')
    l.push(`    syslog_facility: ${haCf.logfacility}`);
  l.push('    timestamp: on');
  if (haCf.debugLevel > 0) l.push('    debug: on');
  l.push('}');
  return `${l.join('\n')}\n`;
}
