// Part: one haresources resource -> one Pacemaker primitive (or a DRBD promotable clone), with
// the parameters heartbeat's positional arguments meant, and what the operator must know.
// Pure: tsbeat's agents are consulted only for their argument grammar and meta-data.

import { findAgent } from '../agents/registry.js';
import type { ResourceConfig } from '../config/model.js';
import type { ExportOptions, Nv, Op, Primitive, ReportStatus } from './model.js';

/** XML IDs: a letter or `_` first, then letters, digits, `.`, `-`, `_`. */
export function toId(text: string): string {
  let id = text.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  if (id === '') id = 'rsc';
  if (!/^[A-Za-z_]/.test(id)) id = `r${id}`;
  return id;
}

/** Hands out IDs that are unique in one CIB (`ip-10.0.0.1`, then `ip-10.0.0.1-2`). */
export class IdSet {
  private readonly used = new Set<string>();
  take(wanted: string): string {
    const base = toId(wanted);
    let id = base;
    for (let n = 2; this.used.has(id); n++) id = `${base}-${n}`;
    this.used.add(id);
    return id;
  }
}

/** Agents of resource-agents' `heartbeat` provider that tsbeat also implements (same parameters). */
const IN_RESOURCE_AGENTS = new Set([
  'IPaddr2',
  'IPaddr',
  'IPv6addr',
  'SendArp',
  'Dummy',
  'Filesystem',
  'Delay',
  'MailTo',
  'lxc',
]);

/**
 * Parameters of tsbeat's agents that resource-agents 4.12's agents of the same name do not
 * declare (crm configure refuses them): left out for `--provider heartbeat`. lxc's lxcpath is
 * already part of its `config` path.
 */
const TSBEAT_ONLY_PARAMS: Readonly<Record<string, readonly string[]>> = {
  lxc: ['lxcpath', 'stop_timeout'],
  Filesystem: ['create_directory'],
};

/**
 * heartbeat resource.d wrappers whose arguments are known: the stock OCF agent (resource-agents',
 * or ldirectord's own package) and its parameters, in the wrapper's argument order.
 */
const KNOWN_WRAPPERS: Readonly<Record<string, { type: string; params: readonly string[] }>> = {
  ldirectord: { type: 'ldirectord', params: ['configfile'] },
  apache: { type: 'apache', params: ['configfile'] },
  IPsrcaddr: { type: 'IPsrcaddr', params: ['ipaddress'] },
  Xinetd: { type: 'Xinetd', params: ['service'] },
};

export type MappedResource =
  | {
      readonly kind: 'primitive';
      readonly primitive: Primitive;
      readonly status: ReportStatus;
      readonly became: string;
    }
  /** drbddisk: the group is colocated with (and ordered after) the promoted DRBD instance. */
  | {
      readonly kind: 'drbd';
      readonly drbdResource: string;
      readonly status: ReportStatus;
      readonly became: string;
    };

function opsFromMetadata(script: string): Op[] {
  const agent = findAgent(script);
  const actions = agent?.metadata.actions ?? [];
  const find = (n: string) => actions.find((a) => a.name === n);
  const monitor = find('monitor');
  const start = find('start');
  const stop = find('stop');
  return [
    { name: 'monitor', interval: monitor?.interval ?? '30s', timeout: monitor?.timeout ?? '30s' },
    { name: 'start', interval: '0s', timeout: start?.timeout ?? '30s' },
    { name: 'stop', interval: '0s', timeout: stop?.timeout ?? '30s' },
  ];
}

const SERVICE_OPS: Op[] = [
  { name: 'monitor', interval: '30s', timeout: '30s' },
  { name: 'start', interval: '0s', timeout: '100s' },
  { name: 'stop', interval: '0s', timeout: '100s' },
];

function describe(p: Primitive): string {
  const agent = p.class === 'ocf' ? `ocf:${p.provider}:${p.type}` : `${p.class}:${p.type}`;
  const params = p.params.map((x) => `${x.name}=${x.value}`).join(' ');
  return `primitive ${p.id} ${agent}${params ? ` ${params}` : ''}`;
}

function nvs(reskeys: Readonly<Record<string, string>>): Nv[] {
  // Empty values are what the wrappers export for absent fields; Pacemaker needs none of them.
  return Object.entries(reskeys)
    .filter(([, v]) => v !== '')
    .map(([name, value]) => ({ name, value }));
}

function idFor(r: ResourceConfig, reskeys: Readonly<Record<string, string>>): string {
  switch (r.script) {
    case 'IPaddr':
    case 'IPaddr2':
      return `ip-${reskeys['ip'] ?? r.args[0] ?? ''}`;
    case 'IPv6addr':
      return `ip-${reskeys['ipv6addr'] ?? ''}`;
    case 'SendArp':
      return `arp-${reskeys['ip'] ?? ''}`;
    case 'Filesystem':
      return `fs-${(reskeys['directory'] ?? '').replace(/^\/+/, '') || 'root'}`;
    default:
      // A path argument names the resource by its last component (apache-apache2.conf).
      return r.args.length > 0
        ? `${r.script}-${r.args[0]!.split('/').filter(Boolean).pop() ?? ''}`
        : r.script;
  }
}

/**
 * Map one resource. `ids` makes the primitive's id unique. Returns undefined only for input
 * the parsers let through but no agent accepts (an argument count the wrapper refuses).
 */
export function mapResource(
  r: ResourceConfig,
  ids: IdSet,
  opts: ExportOptions,
): MappedResource | { readonly kind: 'error'; readonly message: string; readonly hint: string } {
  if (r.script === 'drbddisk') {
    const res = r.args[0] ?? 'all';
    if (r.args.length > 1 || res === 'all') {
      return {
        kind: 'error',
        message: `${r.spec}: ocf:linbit:drbd manages one DRBD resource, and drbddisk here names ${res === 'all' ? 'all of them' : 'several'}`,
        hint: 'write one drbddisk::NAME per DRBD resource in haresources',
      };
    }
    return {
      kind: 'drbd',
      drbdResource: res,
      status: 'changed',
      became: `promotable clone drbd-${res}-clone of ocf:linbit:drbd drbd_resource=${res}; the group runs where it is Promoted and starts after the promotion`,
    };
  }
  // A wrapper whose stock OCF agent Debian ships (ldirectord's, from the ldirectord package) maps
  // to it unless tsbeat's own agents are asked for, even where tsbeat also has the agent.
  const stock = opts.provider !== 'tsbeat' && KNOWN_WRAPPERS[r.script] !== undefined;
  const agent = stock ? undefined : findAgent(r.script);
  if (agent) {
    const parsed = agent.heartbeat.parse(r.args);
    if (!parsed) {
      return {
        kind: 'error',
        message: `${r.spec}: ${r.script} does not take ${r.args.length} argument${r.args.length === 1 ? '' : 's'}`,
        hint: `${r.script}'s arguments are ${agent.heartbeat.grammar}`,
      };
    }
    // heartbeat's IPaddr (ifconfig aliases) has the same parameters as IPaddr2 (ip addr), which
    // both Pacemaker stacks recommend; the bare-IP shorthand is IPaddr.
    const type = r.script === 'IPaddr' ? 'IPaddr2' : r.script;
    const provider = opts.provider === 'tsbeat' || !IN_RESOURCE_AGENTS.has(type) ? 'tsbeat' : 'heartbeat';
    // resource-agents' IPaddr2 refuses lvs_support for IPv6 (tsbeat's handles it).
    const dropV6Lvs = type === 'IPaddr2' && (parsed.reskeys['ip'] ?? '').includes(':');
    const primitive: Primitive = {
      kind: 'primitive',
      id: ids.take(idFor(r, parsed.reskeys)),
      class: 'ocf',
      provider,
      type,
      params: nvs(parsed.reskeys).filter(
        (p) =>
          provider === 'tsbeat' ||
          (!(TSBEAT_ONLY_PARAMS[type] ?? []).includes(p.name) && !(dropV6Lvs && p.name === 'lvs_support')),
      ),
      ops: opsFromMetadata(type),
    };
    const notes: string[] = [];
    if (r.script === 'IPaddr')
      notes.push('IPaddr (ifconfig alias) became IPaddr2 (ip addr) with the same parameters');
    if (provider === 'tsbeat' && opts.provider !== 'tsbeat')
      notes.push(
        'resource-agents has no such agent: install tsbeat\'s with "tsbeat install-agents" on every node',
      );
    return {
      kind: 'primitive',
      primitive,
      status: notes.length > 0 ? 'changed' : 'mapped',
      became: `${describe(primitive)}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`,
    };
  }
  const wrapper = KNOWN_WRAPPERS[r.script];
  if (wrapper && r.args.length === wrapper.params.length) {
    const params = wrapper.params.map((name, i) => {
      let value = r.args[i]!;
      // heartbeat's ldirectord wrapper reads a relative config file name under /etc/ha.d.
      if (r.script === 'ldirectord' && !value.startsWith('/')) value = `/etc/ha.d/${value}`;
      return { name, value };
    });
    const primitive: Primitive = {
      kind: 'primitive',
      id: ids.take(idFor(r, {})),
      class: 'ocf',
      provider: 'heartbeat',
      type: wrapper.type,
      params,
      ops: SERVICE_OPS,
    };
    return { kind: 'primitive', primitive, status: 'mapped', became: describe(primitive) };
  }
  const primitive: Primitive = {
    kind: 'primitive',
    id: ids.take(idFor(r, {})),
    class: opts.service,
    type: r.script,
    params: [],
    ops: SERVICE_OPS,
  };
  if (r.args.length > 0) {
    return {
      kind: 'primitive',
      primitive,
      status: 'decide',
      became: `${describe(primitive)}, but ${opts.service}: services take no arguments and heartbeat passed "${r.args.join(' ')}": make them part of the service (a unit or a wrapper script), or write an OCF agent`,
    };
  }
  return {
    kind: 'primitive',
    primitive,
    status: 'changed',
    became: `${describe(primitive)} (heartbeat ran /etc/ha.d/resource.d/${r.script} or /etc/init.d/${r.script}; ${opts.service === 'lsb' ? `Pacemaker runs /etc/init.d/${r.script}, whose "status" must follow the LSB exit codes` : `Pacemaker runs the systemd unit ${r.script}.service, which must not be enabled at boot`})`,
  };
}
