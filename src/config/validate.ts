// Part: checks that need more than one file (node names across ha.cf and haresources)
// or facts about the host (interfaces, devices, users, STONITH plugins, resource scripts).

import type { Diagnostic } from '../lib/diagnostic.js';
import { closest } from '../lib/suggest.js';
import type { HaCfSource, Pos } from './hacf.js';
import type { HaresourcesSource } from './haresources.js';
import type { HostEnv } from './host.js';
import type { HaCf, ResourceGroupConfig } from './model.js';

export interface ValidateInput {
  readonly haCf: HaCf;
  readonly haCfSource: HaCfSource;
  readonly haCfFile: string;
  readonly groups: readonly ResourceGroupConfig[];
  readonly groupsSource: HaresourcesSource;
  readonly haresourcesFile: string;
  readonly localNode: string;
  /** Where the local node name came from, for the hint when it is not listed. */
  readonly localNodeOrigin: string;
  /** Directories searched for resource scripts, in order (heartbeat: DIR/resource.d, /etc/init.d). */
  readonly scriptDirs: readonly string[];
  /** Resource scripts the daemon runs itself (no file needed); injected, config knows no agents. */
  readonly isBuiltinAgent?: (script: string) => boolean;
}

/** Checks that need no host facts. */
export function validateCrossFile(input: ValidateInput): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { haCf, haCfFile, haresourcesFile } = input;
  const at = (file: string, p: Pos | undefined): { file: string; line?: number; col?: number } =>
    p ? { file, line: p.line, col: p.col } : { file };

  if (haCf.nodes.length > 0 && !haCf.nodes.includes(input.localNode)) {
    out.push({
      severity: 'error',
      file: haCfFile,
      message: `this node "${input.localNode}" (${input.localNodeOrigin}) is not a "node" in ha.cf (nodes: ${haCf.nodes.join(', ')})`,
      hint: 'cluster nodes are named by `uname -n` and must be listed with "node NAME"; or check another node\'s config with --node NAME',
    });
  }
  if (haCf.nodes.length > 2 && input.groups.length > 0) {
    out.push({
      severity: 'warning',
      ...at(haCfFile, input.haCfSource.nodes[2]),
      message: `${haCf.nodes.length} nodes: heartbeat's haresources manager (local/foreign groups, hb_standby) is designed for two nodes`,
    });
  }
  input.groups.forEach((g, i) => {
    if (!haCf.nodes.includes(g.node)) {
      const guess = closest(g.node, haCf.nodes);
      out.push({
        severity: 'error',
        ...at(haresourcesFile, input.groupsSource.groups[i]?.at),
        message: `unknown node "${g.node}" (ha.cf lists: ${haCf.nodes.join(', ') || 'none'})`,
        hint: guess
          ? `did you mean "${guess}"?`
          : 'the first word of a line is the node that prefers the group; it must be a "node" in ha.cf',
      });
    }
  });
  return out;
}

/** Checks against the running host. Heartbeat makes most of these at start-up and refuses to run. */
export function validateHost(input: ValidateInput, host: HostEnv): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { haCf, haCfFile, haCfSource } = input;
  const err = (file: string, p: Pos | undefined, message: string, hint?: string): void => {
    out.push({
      severity: 'error',
      file,
      ...(p ? { line: p.line, col: p.col } : {}),
      message,
      ...(hint ? { hint } : {}),
    });
  };
  const warn = (file: string, p: Pos | undefined, message: string, hint?: string): void => {
    out.push({
      severity: 'warning',
      file,
      ...(p ? { line: p.line, col: p.col } : {}),
      message,
      ...(hint ? { hint } : {}),
    });
  };

  haCf.media.forEach((m, i) => {
    const p = haCfSource.media[i];
    if (m.kind === 'serial') {
      const kind = host.pathKind(m.device);
      if (kind === 'missing')
        err(
          haCfFile,
          p,
          `serial port ${m.device} does not exist`,
          'check the device name (ls /dev/ttyS* /dev/ttyUSB*)',
        );
      else if (kind !== 'char-device') err(haCfFile, p, `serial port ${m.device} is not a character device`);
      return;
    }
    const dev = host.interface(m.dev);
    if (!dev) {
      err(haCfFile, p, `${m.kind} ${m.dev}: no such network interface`, 'list interfaces with "ip -br link"');
      return;
    }
    if (m.kind === 'mcast6' || m.kind === 'ucast6') return;
    if (dev.ipv4.length === 0) {
      err(
        haCfFile,
        p,
        `${m.kind} ${m.dev}: the interface has no IPv4 address`,
        `give it one, e.g. "ip addr add 10.0.0.1/24 brd + dev ${m.dev}"`,
      );
      return;
    }
    if (m.kind === 'bcast' && !dev.ipv4.some((a) => a.broadcast)) {
      err(
        haCfFile,
        p,
        `bcast ${m.dev}: the interface has no broadcast address, so broadcasts go nowhere`,
        `add the address with "brd +" (ip addr add ADDR/LEN brd + dev ${m.dev})`,
      );
    }
    if (m.kind === 'ucast' && host.resolveIpv4(m.peer) === undefined) {
      err(
        haCfFile,
        p,
        `ucast ${m.dev}: cannot resolve "${m.peer}"`,
        'use an IP address, or add the name to /etc/hosts',
      );
    }
  });

  haCf.pingNodes.forEach((n, i) => {
    const hosts = n.kind === 'ping_group' ? n.hosts : [n.host];
    for (const h of hosts) {
      if (n.kind !== 'ping6' && host.resolveIpv4(h) === undefined) {
        err(haCfFile, haCfSource.pingNodes[i], `${n.kind}: cannot resolve "${h}"`);
      }
    }
  });

  const udpportAt = haCfSource.directives['udpport'];
  if (udpportAt) {
    const svc = host.udpServiceName(haCf.udpPort);
    if (svc && svc !== 'ha-cluster') {
      warn(
        haCfFile,
        udpportAt,
        `udp port ${haCf.udpPort} is registered for service "${svc}" in /etc/services`,
      );
    }
  }

  haCf.clientChildren.forEach((c, i) => {
    const p = haCfSource.clientChildren[i];
    const what = c.failfast ? 'failfast' : 'respawn';
    if (!host.userExists(c.user)) err(haCfFile, p, `${what}: no such user "${c.user}"`);
    if (!host.isExecutable(c.command)) err(haCfFile, p, `${what}: ${c.command} is not an executable file`);
  });

  for (const a of haCf.apiauth) {
    const p = haCfSource.directives['apiauth'];
    for (const u of a.uids)
      if (!host.userExists(u)) err(haCfFile, p, `apiauth ${a.client}: no such user "${u}"`);
    for (const g of a.gids)
      if (!host.groupExists(g)) err(haCfFile, p, `apiauth ${a.client}: no such group "${g}"`);
  }

  const types = host.stonithTypes();
  haCf.stonith.forEach((s, i) => {
    const p = haCfSource.stonith[i];
    if (types === undefined) {
      warn(
        haCfFile,
        p,
        `cannot check STONITH type "${s.type}": cluster-glue's "stonith" command is not installed`,
        'apt-get install cluster-glue',
      );
    } else if (!types.includes(s.type)) {
      const guess = closest(s.type, types);
      err(
        haCfFile,
        p,
        `unknown STONITH device type "${s.type}"`,
        guess
          ? `did you mean "${guess}"? ("stonith -L" lists them)`
          : '"stonith -L" lists the installed types',
      );
    }
    if (s.kind === 'stonith_host' && types?.includes(s.type)) {
      const names = host.stonithParamNames?.(s.type);
      const given = s.params.split(/\s+/).filter(Boolean).length;
      if (names && names.length > 0 && given < names.length) {
        err(
          haCfFile,
          p,
          `stonith_host: device ${s.type} takes ${names.length} parameters (${names.join(' ')}), ${given} given`,
          `"stonith -t ${s.type} -h" explains them`,
        );
      }
    }
    if (s.kind === 'stonith' && host.pathKind(s.configFile) !== 'file') {
      err(haCfFile, p, `stonith ${s.type}: cannot read configuration file ${s.configFile}`);
    }
  });

  if (
    haCf.stonith.length === 0 &&
    input.groups.some((g) => g.resources.some((r) => SHARED_STORAGE.has(r.script)))
  ) {
    warn(
      haCfFile,
      undefined,
      'no STONITH device: shared storage (drbddisk/Filesystem) is not protected if both nodes ever think the other is dead',
      'configure "stonith_host" (see ha.cf(5))',
    );
  }

  for (const name of ['logfile', 'debugfile'] as const) {
    const path = haCf[name];
    if (path === undefined || path === '/dev/null') continue;
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) || '/' : '.';
    if (host.pathKind(dir) !== 'directory') {
      warn(haCfFile, haCfSource.directives[name], `${name} ${path}: directory ${dir} does not exist`);
    }
  }

  // What `tsbeat start` will do of realtime and coredumps (daemon/os-tuning.ts) on this machine.
  if (haCf.realtime && host.findProgram && host.findProgram('chrt') === undefined) {
    warn(
      haCfFile,
      haCfSource.directives['realtime'],
      'realtime: chrt (util-linux) is not installed, so tsbeat will run at nice -10 instead of SCHED_RR',
      'apt-get install util-linux',
    );
  }
  if (haCf.realtime && host.readText?.('/proc/sys/kernel/sched_rt_runtime_us')?.trim() === '-1') {
    warn(
      haCfFile,
      haCfSource.directives['realtime'],
      'realtime: the kernel does not throttle real-time tasks (kernel.sched_rt_runtime_us = -1), so tsbeat will not run SCHED_RR (a runaway process could starve the machine); it runs at nice -10',
      'sysctl -w kernel.sched_rt_runtime_us=950000 (the kernel default)',
    );
  }
  if (haCf.coredumps && host.findProgram && host.findProgram('prlimit') === undefined) {
    warn(
      haCfFile,
      haCfSource.directives['coredumps'],
      'coredumps: prlimit (util-linux) is not installed, so tsbeat cannot raise its core file size limit',
      'apt-get install util-linux, or run "ulimit -c unlimited" before tsbeat start',
    );
  }

  input.groups.forEach((g, gi) => {
    g.resources.forEach((r, ri) => {
      const found =
        input.isBuiltinAgent?.(r.script) === true ||
        input.scriptDirs.some((d) => host.isExecutable(`${d}/${r.script}`));
      if (!found) {
        warn(
          input.haresourcesFile,
          input.groupsSource.groups[gi]?.resources[ri],
          `resource script "${r.script}" not found in ${input.scriptDirs.join(' or ')}`,
          'the group will fail to start until an executable script of that name is installed there',
        );
      }
    });
  });
  return out;
}

/** Resource scripts that guard data on shared storage: taking them over without fencing risks it. */
export const SHARED_STORAGE = new Set(['drbddisk', 'Filesystem', 'LVM', 'Raid1']);
