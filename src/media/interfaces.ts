// Part: the IPv4 facts of a network interface (address, broadcast address), read from the
// system when a UDP medium opens, as heartbeat does with SIOCGIFADDR / SIOCGIFBRDADDR.

import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';

/** What a UDP medium needs to know about its device. */
export interface InterfaceFacts {
  readonly dev: string;
  /** The primary IPv4 address (heartbeat's SIOCGIFADDR). */
  readonly address: string;
  readonly prefixLength: number;
  /** The configured broadcast address (SIOCGIFBRDADDR); absent when none is configured. */
  readonly broadcast?: string;
}

/** Why an interface cannot carry a UDP medium. */
export type InterfaceProblem = 'no such interface' | 'no IPv4 address';

/** Looks an interface up; a port so tests and other platforms can supply their own. */
export type InterfaceLookup = (
  dev: string,
  signal?: AbortSignal,
) => Promise<InterfaceFacts | InterfaceProblem>;

interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  broadcast?: string;
  label?: string;
  secondary?: boolean;
}
interface IpLink {
  ifname?: string;
  addr_info?: IpAddrInfo[];
}

/**
 * Reads `ip -j -4 addr show dev DEV`, which reports the broadcast address exactly as configured
 * (or its absence, which matters: heartbeat's bcast sends nothing useful without one). An alias
 * such as `eth0:1` is looked up on `eth0` by its label. Without iproute2 it falls back to
 * `os.networkInterfaces()`, which cannot tell a missing interface from one without IPv4 and
 * derives the broadcast address from the netmask.
 */
export const systemInterfaceLookup: InterfaceLookup = async (dev, signal) => {
  const base = dev.split(':', 1)[0] ?? dev;
  let stdout: string;
  try {
    stdout = await runIp(['-j', '-4', 'addr', 'show', 'dev', base], signal);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    // iproute2 exits 1 with 'Device "X" does not exist.'; anything else (no `ip`, an iproute2
    // too old for -j) falls back to what Node knows.
    if (err instanceof Error && /does not exist/.test(err.message)) return 'no such interface';
    return fromNodeInterfaces(dev);
  }
  const links = JSON.parse(stdout) as IpLink[];
  const link = links.find((l) => l.ifname === base) ?? links[0];
  // An existing interface without IPv4 gives [] or a link without addr_info.
  const infos = (link?.addr_info ?? []).filter(
    (a) => a.family === 'inet' && a.local !== undefined && (base === dev || a.label === dev),
  );
  const info = infos.find((a) => !a.secondary) ?? infos[0];
  if (!info?.local) return 'no IPv4 address';
  return {
    dev,
    address: info.local,
    prefixLength: info.prefixlen ?? 32,
    ...(info.broadcast ? { broadcast: info.broadcast } : {}),
  };
};

function runIp(args: string[], signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'ip',
      args,
      { timeout: 10_000, encoding: 'utf8', ...(signal ? { signal } : {}) },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}: ${stderr}`, { cause: err })) : resolve(stdout),
    );
  });
}

function fromNodeInterfaces(dev: string): InterfaceFacts | InterfaceProblem {
  const entries = networkInterfaces()[dev];
  if (!entries) return 'no such interface';
  const v4 = entries.find((e) => e.family === 'IPv4');
  if (!v4) return 'no IPv4 address';
  const prefixLength = v4.cidr ? Number(v4.cidr.split('/')[1]) : 32;
  const broadcast = broadcastOf(v4.address, prefixLength);
  return { dev, address: v4.address, prefixLength, ...(broadcast ? { broadcast } : {}) };
}

/** The all-ones host part; none for /31 and /32, which have no broadcast address. */
export function broadcastOf(address: string, prefixLength: number): string | undefined {
  if (prefixLength >= 31) return undefined;
  const octets = address.split('.').map(Number);
  const value =
    ((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0);
  const hostMask = prefixLength === 0 ? 0xffffffff : (1 << (32 - prefixLength)) - 1;
  const b = (value | hostMask) >>> 0;
  return [b >>> 24, (b >>> 16) & 0xff, (b >>> 8) & 0xff, b & 0xff].join('.');
}
