// Part: the kernel's IPVS table as data — reading ipvsadm 1.31's listings (`-Ln`, `--thresholds`,
// `--rate`, `--stats`, `-Lnc`, `-L --daemon`), the command lines the director sends, and what a
// command does to a table (so the core can keep its view in step between reads). Pure.

import type { Forward, Protocol, VirtualService } from './model.js';
import { FORWARD_FLAG } from './model.js';

/** One real server (destination) as the kernel has it. */
export interface IpvsDest {
  /** `ip:port` as ipvsadm prints it. */
  readonly addr: string;
  forward: Forward;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  activeConn: number;
  inactConn: number;
}

/** One virtual service as the kernel has it. */
export interface IpvsService {
  /** `TCP 10.0.0.1:80`, `UDP 10.0.0.1:53`, `FWM 7`. */
  readonly key: string;
  scheduler: string;
  persistent?: number;
  netmask?: string;
  ops: boolean;
  /** In kernel order. */
  readonly dests: Map<string, IpvsDest>;
}

/** The kernel table: services in kernel order. */
export type IpvsTable = Map<string, IpvsService>;

const FORWARD_WORD: Readonly<Record<string, Forward>> = {
  Route: 'gate',
  Local: 'gate',
  Masq: 'masq',
  Tunnel: 'ipip',
};

/** The table key of a configured virtual service. */
export function serviceKey(v: Pick<VirtualService, 'protocol' | 'address' | 'port' | 'fwmark'>): string {
  return v.protocol === 'fwm' ? `FWM ${v.fwmark}` : `${v.protocol.toUpperCase()} ${v.address}:${v.port}`;
}

/** `-t VIP:PORT`, `-u VIP:PORT`, `-f MARK`. */
export function serviceOption(v: Pick<VirtualService, 'protocol' | 'address' | 'port' | 'fwmark'>): string[] {
  const flag: Record<Protocol, string> = { tcp: '-t', udp: '-u', fwm: '-f' };
  return [flag[v.protocol], v.protocol === 'fwm' ? String(v.fwmark) : `${v.address}:${v.port}`];
}

/** Parse `ipvsadm -L -n` (optionally merged with `-L -n --thresholds` output). */
export function parseIpvsList(text: string, thresholds?: string): IpvsTable {
  const table: IpvsTable = new Map();
  let current: IpvsService | undefined;
  for (const line of text.split('\n')) {
    const sm = /^(TCP|UDP|FWM)\s+(\S+)\s+(\w+)(.*)$/.exec(line);
    if (sm) {
      const rest = sm[4] ?? '';
      const pm = /persistent\s+(\d+)/.exec(rest);
      const mm = /mask\s+(\S+)/.exec(rest);
      current = {
        key: `${sm[1]} ${sm[2]}`,
        scheduler: sm[3] ?? '',
        ops: /\bops\b/.test(rest),
        dests: new Map(),
        ...(pm ? { persistent: Number(pm[1]) } : {}),
        ...(mm ? { netmask: mm[1] ?? '' } : {}),
      };
      table.set(current.key, current);
      continue;
    }
    const dm = /^\s+->\s+(\S+:\d+)\s+(Route|Local|Masq|Tunnel)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (dm && current) {
      current.dests.set(dm[1] ?? '', {
        addr: dm[1] ?? '',
        forward: FORWARD_WORD[dm[2] ?? 'Route'] ?? 'gate',
        weight: Number(dm[3]),
        upperThreshold: 0,
        lowerThreshold: 0,
        activeConn: Number(dm[4]),
        inactConn: Number(dm[5]),
      });
    }
  }
  if (thresholds !== undefined) {
    let svc: IpvsService | undefined;
    for (const line of thresholds.split('\n')) {
      const sm = /^(TCP|UDP|FWM)\s+(\S+)/.exec(line);
      if (sm) {
        svc = table.get(`${sm[1]} ${sm[2]}`);
        continue;
      }
      const dm = /^\s+->\s+(\S+:\d+)\s+(\d+)\s+(\d+)/.exec(line);
      const d = dm && svc?.dests.get(dm[1] ?? '');
      if (dm && d) {
        d.upperThreshold = Number(dm[2]);
        d.lowerThreshold = Number(dm[3]);
      }
    }
  }
  return table;
}

/** Per-service or per-destination figures from `--rate` or `--stats` (five numbers each). */
export type IpvsFigures = Map<string, readonly number[]>;

/** Parse `ipvsadm -Ln --rate` or `--stats`: keys `TCP 1.2.3.4:80` and `TCP 1.2.3.4:80 -> 10.0.0.1:80`. */
export function parseIpvsFigures(text: string): IpvsFigures {
  const out: IpvsFigures = new Map();
  let svc: string | undefined;
  const num = (s: string): number => {
    const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(s);
    if (!m) return Number.NaN;
    const mult = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? 1;
    return Number(m[1]) * mult;
  };
  for (const line of text.split('\n')) {
    const sm = /^(TCP|UDP|FWM)\s+(\S+)\s+(.*)$/.exec(line);
    if (sm) {
      svc = `${sm[1]} ${sm[2]}`;
      const f = (sm[3] ?? '').trim().split(/\s+/).map(num);
      if (f.length === 5 && f.every(Number.isFinite)) out.set(svc, f);
      continue;
    }
    const dm = /^\s+->\s+(\S+:\d+)\s+(.*)$/.exec(line);
    const f = dm ? (dm[2] ?? '').trim().split(/\s+/).map(num) : [];
    if (dm && svc && f.length === 5 && f.every(Number.isFinite)) out.set(`${svc} -> ${dm[1]}`, f);
  }
  return out;
}

/** Connection entries of `ipvsadm -Lnc` counted per `virtual -> destination`, by state. */
export function parseIpvsConnections(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const line of text.split('\n')) {
    // pro expire state source virtual destination
    const m = /^(TCP|UDP)\s+\S+\s+(\S+)\s+\S+\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const key = `${m[1]} ${m[3]} -> ${m[4]}`;
    const counts = out.get(key) ?? {};
    const state = m[2] ?? '?';
    counts[state] = (counts[state] ?? 0) + 1;
    out.set(key, counts);
  }
  return out;
}

/** One sync daemon from `ipvsadm -L --daemon`. */
export interface SyncDaemon {
  readonly role: 'master' | 'backup';
  readonly mcastInterface: string;
  readonly syncid: number;
}

/** Parse `ipvsadm -L --daemon`: lines "master sync daemon (mcast=eth0, syncid=1)". */
export function parseSyncDaemons(text: string): SyncDaemon[] {
  const out: SyncDaemon[] = [];
  for (const line of text.split('\n')) {
    const m = /^(master|backup) sync daemon \(mcast=([^,]+), syncid=(\d+)/.exec(line.trim());
    if (m) out.push({ role: m[1] as 'master' | 'backup', mcastInterface: m[2] ?? '', syncid: Number(m[3]) });
  }
  return out;
}

/** The `-A`/`-E` arguments after the command letter, as ldirectord's ld_setup builds them. */
export function serviceArgs(v: VirtualService): string[] {
  const args = serviceOption(v);
  if (v.protocol === 'udp' && v.ops) args.push('-o');
  args.push('-s', v.scheduler);
  if (v.persistent !== undefined) {
    args.push('-p', String(v.persistent));
    if (v.netmask !== undefined) args.push('-M', v.netmask);
  }
  if (v.schedflags !== undefined) args.push('-b', v.schedflags);
  return args;
}

/** A destination the core wants: address, forwarding, weight and thresholds. */
export interface DestSpec {
  readonly addr: string;
  readonly forward: Forward;
  readonly weight: number;
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
}

/** `-a`/`-e` as ldirectord's _restore_service: `<svc> -x U -y L -r ADDR FWD -w W`. */
export function destArgs(v: VirtualService, d: DestSpec): string[] {
  return [
    ...serviceOption(v),
    '-x',
    String(d.upperThreshold),
    '-y',
    String(d.lowerThreshold),
    '-r',
    d.addr,
    FORWARD_FLAG[d.forward],
    '-w',
    String(d.weight),
  ];
}

/** What a command does to the table (the kernel's rules, as far as the director uses them). */
export function applyCommand(table: IpvsTable, args: readonly string[]): void {
  const [cmd, ...rest] = args;
  const opt = (flag: string): string | undefined => {
    const i = rest.indexOf(flag);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const svcKey = (): string | undefined => {
    for (const [flag, proto] of [
      ['-t', 'TCP'],
      ['-u', 'UDP'],
      ['-f', 'FWM'],
    ] as const) {
      const v = opt(flag);
      if (v !== undefined) return `${proto} ${v}`;
    }
    return undefined;
  };
  const key = svcKey();
  if (key === undefined) return;
  const svc = table.get(key);
  switch (cmd) {
    case '-A':
    case '-E': {
      const s: IpvsService = svc ?? { key, scheduler: 'wlc', ops: false, dests: new Map() };
      s.scheduler = opt('-s') ?? s.scheduler;
      const p = opt('-p');
      if (p !== undefined) s.persistent = Number(p);
      else delete s.persistent;
      const m = opt('-M');
      if (m !== undefined) s.netmask = m;
      else delete s.netmask;
      s.ops = rest.includes('-o');
      table.set(key, s);
      return;
    }
    case '-D':
      table.delete(key);
      return;
    case '-a':
    case '-e':
    case '-d': {
      if (!svc) return;
      const addr = opt('-r');
      if (addr === undefined) return;
      if (cmd === '-d') {
        svc.dests.delete(addr);
        return;
      }
      const forward: Forward = rest.includes('-m') ? 'masq' : rest.includes('-i') ? 'ipip' : 'gate';
      const old = svc.dests.get(addr);
      svc.dests.set(addr, {
        addr,
        forward,
        weight: Number(opt('-w') ?? old?.weight ?? 1),
        upperThreshold: Number(opt('-x') ?? old?.upperThreshold ?? 0),
        lowerThreshold: Number(opt('-y') ?? old?.lowerThreshold ?? 0),
        activeConn: old?.activeConn ?? 0,
        inactConn: old?.inactConn ?? 0,
      });
      return;
    }
    default:
      return;
  }
}

/** A deep copy (the core keeps its own). */
export function cloneTable(table: IpvsTable): IpvsTable {
  const out: IpvsTable = new Map();
  for (const [k, s] of table) {
    out.set(k, { ...s, dests: new Map([...s.dests].map(([a, d]) => [a, { ...d }])) });
  }
  return out;
}
