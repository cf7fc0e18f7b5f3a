// A HostEnv with fixed facts, so host checks are deterministic in unit tests.

import type { HostEnv, InterfaceFacts, PathKind } from '../../src/config/host.js';

export interface FakeHostFacts {
  hostname: string;
  interfaces: InterfaceFacts[];
  paths: Record<string, PathKind>;
  executables: string[];
  users: string[];
  groups: string[];
  hosts: Record<string, string>;
  udpServices: Record<number, string>;
  haClusterPort?: number;
  stonithTypes?: string[];
  /** Programs on PATH (name -> path); absent: the host cannot say (findProgram undefined). */
  programs?: Record<string, string>;
  /** Text files such as /proc/sys/kernel/sched_rt_runtime_us. */
  texts?: Record<string, string>;
  userNames?: Record<number, string>;
}

export function fakeHost(f: FakeHostFacts): HostEnv {
  return {
    hostname: () => f.hostname,
    interface: (name) => f.interfaces.find((i) => i.name === name),
    pathKind: (p) => f.paths[p] ?? (f.executables.includes(p) ? 'file' : 'missing'),
    isExecutable: (p) => f.executables.includes(p),
    userExists: (u) => f.users.includes(u),
    groupExists: (g) => f.groups.includes(g),
    resolveIpv4: (h) => (/^\d+\.\d+\.\d+\.\d+$/.test(h) ? h : f.hosts[h]),
    udpServiceName: (port) => f.udpServices[port],
    haClusterUdpPort: () => f.haClusterPort,
    stonithTypes: () => f.stonithTypes,
    ...(f.programs ? { findProgram: (name: string) => f.programs?.[name] } : {}),
    ...(f.texts ? { readText: (path: string) => f.texts?.[path] } : {}),
    ...(f.userNames ? { userName: (uid: number) => f.userNames?.[uid] } : {}),
  };
}

/** The lab machine "ra1" of heartbeat-rm-cli.md §10, where the config transcript was recorded. */
export function labHost(dir: string): HostEnv {
  return fakeHost({
    hostname: 'ra1',
    interfaces: [
      { name: 'lo', ipv4: [{ address: '127.0.0.1', prefixLen: 8 }] },
      { name: 'eth0', ipv4: [{ address: '10.82.0.1', prefixLen: 25, broadcast: '10.82.0.127' }] },
      { name: 'eth1', ipv4: [{ address: '10.82.0.129', prefixLen: 25, broadcast: '10.82.0.255' }] },
    ],
    paths: { '/dev/watchdog': 'char-device', '/etc/x': 'missing' },
    executables: ['/bin/true', '/bin/sleep', `${dir}/resource.d/IPaddr2`, `${dir}/resource.d/TestRes`],
    users: ['root', 'hacluster', 'nobody'],
    groups: ['root', 'haclient'],
    hosts: {},
    udpServices: { 22: 'ssh', 694: 'ha-cluster' },
    haClusterPort: 694,
    stonithTypes: ['apcmaster', 'external/ipmi', 'external/ssh', 'meatware', 'null', 'ssh'],
  });
}
