// Part: the typed, immutable cluster configuration built from /etc/ha.d.
// Field names follow heartbeat's words; units come last (keepaliveMs).

import type { Keyring } from '../codec/auth/keyring.js';
import type { TsbeatSettings } from './tsbeat-cf.js';

export const AUTO_FAILBACK = ['on', 'off', 'legacy'] as const;
export type AutoFailback = (typeof AUTO_FAILBACK)[number];

/** One heartbeat medium, as one ha.cf media directive (one per device for `bcast`/`serial`). */
export type MediumConfig =
  | { readonly kind: 'bcast'; readonly dev: string; readonly port: number }
  | {
      readonly kind: 'mcast';
      readonly dev: string;
      readonly group: string;
      readonly port: number;
      readonly ttl: number;
      readonly loop: boolean;
    }
  | { readonly kind: 'ucast'; readonly dev: string; readonly peer: string; readonly port: number }
  | {
      readonly kind: 'mcast6';
      readonly dev: string;
      readonly group: string;
      readonly port: number;
      readonly hops: number;
      readonly loop: boolean;
    }
  | { readonly kind: 'ucast6'; readonly dev: string; readonly peer: string; readonly port: number }
  | { readonly kind: 'serial'; readonly device: string; readonly baud: number };

/** Ping nodes: pseudo-members whose liveness is an ICMP echo (ha.cf `ping`, `ping6`, `ping_group`). */
export type PingNodeConfig =
  | { readonly kind: 'ping' | 'ping6'; readonly host: string }
  | { readonly kind: 'ping_group'; readonly name: string; readonly hosts: readonly string[] };

/** `stonith TYPE FILE` or `stonith_host FROM TYPE PARAMS...` (only lines that apply to this node). */
export type StonithConfig =
  | { readonly kind: 'stonith'; readonly type: string; readonly configFile: string }
  | { readonly kind: 'stonith_host'; readonly from: string; readonly type: string; readonly params: string };

/** `respawn USER /path args` and `failfast USER /path args`. */
export interface ClientChildConfig {
  readonly failfast: boolean;
  readonly user: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** `apiauth CLIENT uid=a,b gid=c`. */
export interface ApiAuthConfig {
  readonly client: string;
  readonly uids: readonly string[];
  readonly gids: readonly string[];
}

/** Everything ha.cf says, with heartbeat 3.0.6's defaults applied. */
export interface HaCf {
  /** Normal cluster members, lowercased, in ha.cf order, without duplicates. */
  readonly nodes: readonly string[];
  readonly media: readonly MediumConfig[];
  readonly pingNodes: readonly PingNodeConfig[];
  readonly keepaliveMs: number;
  readonly deadtimeMs: number;
  readonly warntimeMs: number;
  readonly initdeadMs: number;
  readonly deadpingMs: number;
  /** The final `udpport`; each bcast/ucast medium carries the port it actually uses. */
  readonly udpPort: number;
  readonly baud: number;
  readonly autoFailback: AutoFailback;
  readonly msgfmt: 'classic' | 'netstring';
  readonly hopfudge: number;
  readonly hbgenmethod: 'file' | 'time';
  readonly maxRexmitDelayMs: number;
  readonly compression: string;
  readonly compressionThresholdKb: number;
  readonly traditionalCompression: boolean;
  readonly autojoin: 'none' | 'other' | 'any';
  readonly uuidfrom: 'file' | 'nodename';
  readonly logfile?: string;
  readonly debugfile?: string;
  readonly logfacility?: string;
  readonly useLogd: boolean;
  readonly realtime: boolean;
  readonly rtprio?: number;
  readonly debugLevel: number;
  readonly coredumps: boolean;
  readonly cluster: string;
  readonly watchdog?: string;
  readonly stonith: readonly StonithConfig[];
  readonly clientChildren: readonly ClientChildConfig[];
  readonly apiauth: readonly ApiAuthConfig[];
  /** `env NAME=VALUE` lines, exported to scripts as HA_NAME=VALUE. */
  readonly env: readonly (readonly [string, string])[];
  /**
   * What `cl_status hbparameter -p NAME` prints: values as written in ha.cf, defaults and
   * derived values as heartbeat stores them (`1000ms`, `deadping` = `3000ms`).
   */
  readonly params: Readonly<Record<string, string>>;
}

/** One resource of a haresources line, e.g. `Filesystem::/dev/drbd0::/srv::ext4`. */
export interface ResourceConfig {
  /** Exactly as written in haresources. */
  readonly spec: string;
  /** The script to run: `IPaddr` for the bare-IP shorthand, else the part before the first `::`. */
  readonly script: string;
  /** The `::`-separated arguments, in order. */
  readonly args: readonly string[];
}

/** One haresources line: a resource group, started left to right on its preferred node. */
export interface ResourceGroupConfig {
  /** Preferred node, lowercased. The group is "local" to it and "foreign" to the others. */
  readonly node: string;
  /** The group's key on the wire: its first resource as written. */
  readonly key: string;
  readonly resources: readonly ResourceConfig[];
}

export interface Config {
  /** The configuration directory (`-c DIR`, default /etc/ha.d). */
  readonly dir: string;
  /** This node's name, lowercased (`--node`, `DIR/nodeinfo`, or `uname -n`). */
  readonly localNode: string;
  readonly haCf: HaCf;
  readonly keyring: Keyring;
  readonly groups: readonly ResourceGroupConfig[];
  /** tsbeat's own settings (tsbeat.cf merged with deprecated env lines); absent: defaults. */
  readonly tsbeat?: TsbeatSettings;
}
