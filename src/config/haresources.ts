// Part: /etc/ha.d/haresources -> resource groups, with the grammar heartbeat's
// ResourceManager applies (comments, backslash continuation, blank runs, IP shorthand,
// `Script::arg::arg`), and the checks heartbeat leaves to run time.

import { isIPv6 } from 'node:net';
import type { Diagnostic } from '../lib/diagnostic.js';
import type { Pos } from './hacf.js';
import type { ResourceConfig, ResourceGroupConfig } from './model.js';

export interface HaresourcesSource {
  /** Aligned with the groups: where each line starts, and each resource token. */
  readonly groups: readonly { readonly at: Pos; readonly resources: readonly Pos[] }[];
}

export interface HaresourcesResult {
  readonly groups: readonly ResourceGroupConfig[];
  readonly source: HaresourcesSource;
  readonly diagnostics: readonly Diagnostic[];
}

/** ResourceManager's isip(): the shell pattern `[0-9]*.[0-9]*.[0-9]*.[0-9]*`. */
export function isIpShorthand(token: string): boolean {
  return /^[0-9].*\.[0-9].*\.[0-9].*\.[0-9].*$/s.test(token);
}

/** The parts of an IPaddr/IPaddr2 address argument `IP[/BITS[/IFACE[:LABEL]][/BROADCAST]]`. */
export interface IpSpec {
  readonly ip: string;
  readonly cidrNetmask?: number;
  readonly nic?: string;
  readonly label?: string;
  readonly broadcast?: string;
}

export function isIpv4Address(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** Netmask as bits, from `24` or `255.255.255.0`; undefined if it is neither. */
export function netmaskBits(s: string): number | undefined {
  if (/^\d{1,2}$/.test(s)) {
    const n = Number(s);
    return n <= 32 ? n : undefined;
  }
  if (!isIpv4Address(s)) return undefined;
  const v = s.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  const bits = v.toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : undefined;
}

/**
 * Parse an IPaddr/IPaddr2 address argument the way heartbeat's wrappers split it: the
 * third field is the broadcast address when it starts with a digit, else the interface.
 */
export function parseIpSpec(
  spec: string,
  opts: { readonly ipv6?: boolean } = {},
): { ok: true; value: IpSpec } | { ok: false; reason: string } {
  const parts = spec.split('/');
  const ip = parts[0]!;
  // IPaddr2 manages IPv6 addresses too (written without "::", which haresources splits on).
  const six = opts.ipv6 === true && isIPv6(ip);
  if (!six && !isIpv4Address(ip))
    return { ok: false, reason: `"${ip}" is not an IPv4${opts.ipv6 ? ' or IPv6' : ''} address` };
  const out: { ip: string; cidrNetmask?: number; nic?: string; label?: string; broadcast?: string } = { ip };
  if (parts.length > 4) return { ok: false, reason: `too many "/" fields in "${spec}"` };
  if (six && parts[1] !== undefined && parts[1] !== '') {
    const bits = /^\d{1,3}$/.test(parts[1]) ? Number(parts[1]) : 129;
    if (bits > 128) return { ok: false, reason: `"${parts[1]}" is not an IPv6 prefix length (0..128)` };
    out.cidrNetmask = bits;
  } else if (parts[1] !== undefined && parts[1] !== '') {
    const bits = netmaskBits(parts[1]);
    if (bits === undefined)
      return { ok: false, reason: `"${parts[1]}" is not a netmask (use 0..32 or a dotted mask)` };
    out.cidrNetmask = bits;
  }
  const third = parts[2];
  const fourth = parts[3];
  if (third !== undefined && third !== '') {
    if (/^[0-9]/.test(third)) {
      if (!isIpv4Address(third)) return { ok: false, reason: `"${third}" is not a broadcast address` };
      out.broadcast = third;
    } else {
      const [nic, label] = third.split(':', 2);
      out.nic = nic!;
      if (label !== undefined) out.label = label;
    }
  }
  if (fourth !== undefined && fourth !== '') {
    if (!isIpv4Address(fourth)) return { ok: false, reason: `"${fourth}" is not a broadcast address` };
    out.broadcast = fourth;
  }
  return { ok: true, value: out };
}

/** Turn one haresources token into the script and arguments heartbeat would run. */
export function parseResource(spec: string): ResourceConfig {
  if (isIpShorthand(spec)) return { spec, script: 'IPaddr', args: [spec] };
  const sep = spec.indexOf('::');
  if (sep < 0) return { spec, script: spec, args: [] };
  // The shell word-splits the arguments, so an empty one (a::::b) disappears.
  const args = spec
    .slice(sep + 2)
    .split('::')
    .filter((a) => a !== '');
  return { spec, script: spec.slice(0, sep), args };
}

/** Agents that take an IPv6 address as their one argument. */
const IPV6_AGENTS = new Set(['IPaddr2', 'IPv6addr']);

/**
 * An IPv6 address written with "::" in an IPaddr2/IPv6addr argument: ResourceManager replaces
 * every "::" after the script name by a blank, so the agent gets the pieces. Returns the argument
 * with the address written out in full, or undefined when the resource is not such a case.
 */
export function splitIpv6Argument(r: ResourceConfig): string | undefined {
  if (!IPV6_AGENTS.has(r.script) || r.args.length < 2) return undefined;
  const joined = r.spec.slice(r.script.length + 2);
  const [ip = '', ...rest] = joined.split('/');
  if (!isIPv6(ip) || ip.includes('.')) return undefined;
  return [expandIpv6(ip), ...rest].join('/');
}

/** What IPv6addr would refuse (exit 2) in its one argument `ADDRESS[/PREFIX[/NIC]]`. */
function ipv6addrArgumentProblem(arg: string | undefined): string | undefined {
  if (arg === undefined) return 'IPv6addr needs an address: IPv6addr::ADDRESS[/PREFIX[/NIC]]';
  const [ip = '', prefix] = arg.split('/');
  if (!isIPv6(ip)) return `"${ip}" is not an IPv6 address`;
  if (prefix !== undefined && prefix !== '' && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= 128))
    return `"${prefix}" is not an IPv6 prefix length (0..128)`;
  return undefined;
}

/** An IPv6 address with every group written (no "::"), lower case. */
function expandIpv6(ip: string): string {
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const zeros = Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

/** Agents whose first argument is an IP spec, checked at config time. */
const IP_AGENTS = new Set(['IPaddr', 'IPaddr2']);

/** Parse haresources text. Node names are checked against ha.cf by validate.ts. */
export function parseHaresources(text: string, file: string): HaresourcesResult {
  const diagnostics: Diagnostic[] = [];
  const err = (at: Pos, message: string, hint?: string): void => {
    diagnostics.push({
      severity: 'error',
      file,
      line: at.line,
      col: at.col,
      message,
      ...(hint ? { hint } : {}),
    });
  };
  const warn = (at: Pos, message: string, hint?: string): void => {
    diagnostics.push({
      severity: 'warning',
      file,
      line: at.line,
      col: at.col,
      message,
      ...(hint ? { hint } : {}),
    });
  };

  // Build logical lines: strip comments per physical line, then join `\`-continued lines.
  interface Piece {
    readonly text: string;
    readonly line: number;
    /** Column (1-based) in the physical line of text[0]. */
    readonly col: number;
  }
  const logical: Piece[][] = [];
  let current: Piece[] = [];
  const physical = text.split('\n');
  for (let i = 0; i < physical.length; i++) {
    let line = physical[i]!;
    const lineNo = i + 1;
    const cr = line.indexOf('\r');
    if (cr >= 0) {
      err(
        { line: lineNo, col: cr + 1 },
        'carriage return (CRLF line ending)',
        "heartbeat's ResourceManager would pass it to the last resource of the line; convert the file with dos2unix",
      );
      line = line.replace(/\r/g, '');
    }
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const continued = line.endsWith('\\');
    if (continued) line = line.slice(0, -1);
    current.push({ text: line, line: lineNo, col: 1 });
    if (!continued) {
      logical.push(current);
      current = [];
    }
  }
  if (current.length > 0) logical.push(current);

  const groups: ResourceGroupConfig[] = [];
  const sourceGroups: { at: Pos; resources: Pos[] }[] = [];
  const keyLine = new Map<string, number>();
  const specLine = new Map<string, number>();

  for (const pieces of logical) {
    const toks: { text: string; at: Pos }[] = [];
    for (const piece of pieces) {
      const re = /[^ \t]+/g;
      for (let m = re.exec(piece.text); m !== null; m = re.exec(piece.text)) {
        toks.push({ text: m[0], at: { line: piece.line, col: piece.col + m.index } });
      }
    }
    if (toks.length === 0) continue;
    const [nodeTok, ...rscToks] = toks;
    if (rscToks.length === 0) {
      err(
        nodeTok!.at,
        `"${nodeTok!.text}" has no resources`,
        'a line is "NODE RESOURCE [RESOURCE...]", e.g. "node1 IPaddr2::10.0.0.10/24 apache"',
      );
      continue;
    }
    const resources: ResourceConfig[] = [];
    const resourcesPos: Pos[] = [];
    for (const t of rscToks) {
      const r = parseResource(t.text);
      if (/::::|::$/.test(t.text)) {
        warn(
          t.at,
          `empty argument in "${t.text}" is dropped`,
          "heartbeat's scripts word-split the arguments, so later arguments move up one place",
        );
      }
      if (r.script === '') {
        err(t.at, `resource "${t.text}" has no script name before "::"`);
        continue;
      }
      if (!/^[A-Za-z0-9_.+-]+$/.test(r.script) && !isIpShorthand(t.text)) {
        err(
          t.at,
          `resource script name "${r.script}" contains characters heartbeat cannot look up`,
          'script names are file names in resource.d/ or /etc/init.d/',
        );
        continue;
      }
      const split = splitIpv6Argument(r);
      if (split !== undefined) {
        err(
          t.at,
          `${t.text}: haresources splits arguments on "::", so ${r.script} would get ${r.args.map((a) => `"${a}"`).join(' and ')} instead of one address`,
          `write the IPv6 address without "::": ${r.script}::${split}`,
        );
        continue;
      }
      if (r.script === 'IPaddr' && r.args[0] !== undefined && isIPv6(r.args[0].split('/')[0]!)) {
        err(
          t.at,
          `${t.text}: IPaddr manages IPv4 addresses only (heartbeat's IPaddr refuses IPv6 as "not an IP address")`,
          `for an IPv6 address use IPv6addr::${r.args[0]} or IPaddr2::${r.args[0]}`,
        );
        continue;
      }
      if (r.script === 'IPv6addr') {
        const bad = ipv6addrArgumentProblem(r.args[0]);
        if (bad !== undefined) {
          err(t.at, `${t.text}: ${bad}`, 'write e.g. IPv6addr::2001:db8:0:0:0:0:0:10/64/eth0');
          continue;
        }
      }
      if (IP_AGENTS.has(r.script)) {
        const arg = r.args[0];
        if (arg === undefined) {
          err(t.at, `${r.script} needs an address: ${r.script}::IP[/BITS[/IFACE][/BROADCAST]]`);
          continue;
        }
        const ip = parseIpSpec(arg, { ipv6: r.script === 'IPaddr2' });
        if (!ip.ok) {
          err(
            t.at,
            `${t.text}: ${ip.reason}`,
            `write e.g. ${r.script === 'IPaddr' && r.spec === arg ? '' : `${r.script}::`}10.0.0.10/24/eth0`,
          );
          continue;
        }
      }
      const first = specLine.get(t.text);
      if (first !== undefined) {
        warn(
          t.at,
          `resource "${t.text}" is also in the group on line ${first}`,
          'two groups managing one resource fight over it',
        );
      } else {
        specLine.set(t.text, t.at.line);
      }
      resources.push(r);
      resourcesPos.push(t.at);
    }
    if (resources.length === 0) continue;
    const key = rscToks[0]!.text;
    const prior = keyLine.get(key);
    if (prior !== undefined) {
      err(
        rscToks[0]!.at,
        `group key "${key}" is already the first resource of the group on line ${prior}`,
        'the first resource names the group on the wire and must be unique',
      );
      continue;
    }
    keyLine.set(key, rscToks[0]!.at.line);
    groups.push({ node: nodeTok!.text.toLowerCase(), key, resources });
    sourceGroups.push({ at: nodeTok!.at, resources: resourcesPos });
  }
  return { groups, source: { groups: sourceGroups }, diagnostics };
}
