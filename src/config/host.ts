// Part: facts about the machine a configuration must run on (interfaces, devices, users,
// host names, installed STONITH plugins), behind an interface so checks stay testable.

import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

export interface Ipv4Facts {
  readonly address: string;
  readonly prefixLen: number;
  /** The configured broadcast address (`brd`), if any. */
  readonly broadcast?: string;
}

export interface InterfaceFacts {
  readonly name: string;
  readonly ipv4: readonly Ipv4Facts[];
}

export type PathKind = 'missing' | 'file' | 'directory' | 'char-device' | 'other';

/** Everything validate.ts may ask about the host. Implementations must not throw. */
export interface HostEnv {
  /** `uname -n`. */
  hostname(): string;
  interface(name: string): InterfaceFacts | undefined;
  pathKind(path: string): PathKind;
  isExecutable(path: string): boolean;
  userExists(name: string): boolean;
  groupExists(name: string): boolean;
  /** An IPv4 address for a host name or literal, as gethostbyname() would find it. */
  resolveIpv4(host: string): string | undefined;
  /** The /etc/services name registered for a UDP port, if any. */
  udpServiceName(port: number): string | undefined;
  /** The UDP port of service `ha-cluster` in /etc/services, if listed. */
  haClusterUdpPort(): number | undefined;
  /** STONITH device types cluster-glue provides, or undefined when it is not installed. */
  stonithTypes(): readonly string[] | undefined;
  /** The parameter names a STONITH type takes, in order (`stonith -t TYPE -n`). */
  stonithParamNames?(type: string): readonly string[] | undefined;
  /** Where a program is found on PATH (and /usr/sbin, /sbin), if anywhere. */
  findProgram?(name: string): string | undefined;
  /** A small text file's content (e.g. under /proc/sys), or undefined when unreadable. */
  readText?(path: string): string | undefined;
  /** The user name of a uid (/etc/passwd), if it has one. */
  userName?(uid: number): string | undefined;
}

function run(cmd: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
  } catch {
    return undefined;
  }
}

interface IpAddrJson {
  ifname?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number; broadcast?: string }[];
}

function parseServices(text: string): { byPort: Map<number, string>; haCluster?: number } {
  const byPort = new Map<number, string>();
  let haCluster: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^(\S+)\s+(\d+)\/udp\b(.*)$/.exec(line);
    if (!m) continue;
    const port = Number(m[2]);
    if (!byPort.has(port)) byPort.set(port, m[1]!);
    const names = [m[1]!, ...m[3]!.trim().split(/\s+/)];
    if (names.includes('ha-cluster') && haCluster === undefined) haCluster = port;
  }
  return haCluster === undefined ? { byPort } : { byPort, haCluster };
}

/** The real machine. Results are cached: one `tsbeat check` asks each question once. */
export function systemHost(): HostEnv {
  let interfaces: Map<string, InterfaceFacts> | undefined;
  let services: ReturnType<typeof parseServices> | undefined;
  let stonith: readonly string[] | undefined | null = null;

  const loadInterfaces = (): Map<string, InterfaceFacts> => {
    if (interfaces) return interfaces;
    interfaces = new Map();
    const json = run('ip', ['-j', '-4', 'addr', 'show']);
    let parsed: IpAddrJson[] | undefined;
    try {
      parsed = json ? (JSON.parse(json) as IpAddrJson[]) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed) {
      for (const i of parsed) {
        if (!i.ifname) continue;
        const ipv4 = (i.addr_info ?? [])
          .filter((a) => a.family === 'inet' && a.local)
          .map((a) => ({
            address: a.local!,
            prefixLen: a.prefixlen ?? 32,
            ...(a.broadcast ? { broadcast: a.broadcast } : {}),
          }));
        interfaces.set(i.ifname, { name: i.ifname, ipv4 });
      }
    } else {
      for (const [name, addrs] of Object.entries(networkInterfaces())) {
        const ipv4 = (addrs ?? [])
          .filter((a) => a.family === 'IPv4')
          .map((a) => ({ address: a.address, prefixLen: Number(a.cidr?.split('/')[1] ?? 32) }));
        interfaces.set(name, { name, ipv4 });
      }
    }
    // Interfaces without IPv4 addresses still exist.
    try {
      for (const name of readdirSync('/sys/class/net')) {
        if (!interfaces.has(name)) interfaces.set(name, { name, ipv4: [] });
      }
    } catch {
      // no sysfs: keep what ip(8) said
    }
    return interfaces;
  };

  const loadServices = (): ReturnType<typeof parseServices> => {
    if (services) return services;
    try {
      services = parseServices(readFileSync('/etc/services', 'utf8'));
    } catch {
      services = { byPort: new Map() };
    }
    return services;
  };

  const getent = (db: string, key: string): boolean => run('getent', [db, key]) !== undefined;

  const isExecutable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  };

  return {
    hostname: () => hostname(),
    interface: (name) => loadInterfaces().get(name),
    pathKind: (path) => {
      try {
        const st = statSync(path);
        if (st.isFile()) return 'file';
        if (st.isDirectory()) return 'directory';
        if (st.isCharacterDevice()) return 'char-device';
        return 'other';
      } catch {
        return 'missing';
      }
    },
    isExecutable,
    findProgram: (name) => {
      const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
      return dirs
        .filter((d) => d.startsWith('/'))
        .map((d) => `${d}/${name}`)
        .find(isExecutable);
    },
    readText: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    userName: (uid) => run('getent', ['passwd', String(uid)])?.split(':')[0] || undefined,
    userExists: (name) => getent('passwd', name),
    groupExists: (name) => getent('group', name),
    resolveIpv4: (host) => {
      // A literal needs no resolver (and a minimal root may have no getent at all).
      if (isIPv4(host)) return host;
      const out = run('getent', ['ahostsv4', host]);
      const first = out?.split('\n')[0]?.split(/\s+/)[0];
      return first && first.length > 0 ? first : undefined;
    },
    udpServiceName: (port) => loadServices().byPort.get(port),
    haClusterUdpPort: () => loadServices().haCluster,
    stonithParamNames: (type) => {
      const out = run('stonith', ['-t', type, '-n']);
      return out === undefined ? undefined : out.split(/\s+/).filter(Boolean);
    },
    stonithTypes: () => {
      if (stonith !== null) return stonith;
      const out = run('stonith', ['-L']);
      stonith =
        out === undefined
          ? undefined
          : out
              .split('\n')
              .map((s) => s.trim())
              .filter(Boolean);
      return stonith;
    },
  };
}
