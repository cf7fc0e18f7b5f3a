// Part: ha.cf `stonith` / `stonith_host` -> Pacemaker fencing devices, one per node they fence,
// each kept off its own target, and a delay on the preferred survivor's device so that in a
// fence race (both nodes lose each other) the survivor shoots first, as tsbeat's own policy.

import type { StonithConfig } from '../config/model.js';
import type { Constraint, ExportInput, Nv, Primitive, ReportEntry } from './model.js';
import type { IdSet } from './resources.js';

/**
 * heartbeat passes `stonith_host` parameters to the plugin as one string the plugin splits
 * in the order of its parameter names (`stonith -t TYPE -n` lists them); the last name takes
 * the rest. Names as cluster-glue 1.0.12's plugins print them.
 */
const PLUGIN_PARAMS: Readonly<Record<string, readonly string[]>> = {
  null: ['hostlist'],
  meatware: ['hostlist'],
  ssh: ['hostlist'],
  'external/ssh': ['hostlist'],
  'external/ipmi': ['hostname', 'ipaddr', 'userid', 'passwd', 'interface'],
  'external/libvirt': ['hostlist', 'hypervisor_uri', 'reboot_method'],
  ipmilan: ['hostname', 'ipaddr', 'port', 'auth', 'priv', 'login', 'password', 'reset_method'],
  apcsmart: ['ttydev', 'hostlist'],
  baytech: ['ipaddr', 'login', 'password'],
  rcd_serial: ['hostlist', 'ttydev', 'dtr_rts', 'msduration'],
};

function splitParams(type: string, params: string): Nv[] | undefined {
  const names = PLUGIN_PARAMS[type];
  if (!names) return undefined;
  const words = params.split(/\s+/).filter((w) => w !== '');
  const out: Nv[] = [];
  names.forEach((name, i) => {
    const value = i === names.length - 1 ? words.slice(i).join(' ') : words[i];
    if (value !== undefined && value !== '') out.push({ name, value });
  });
  return out;
}

/** The cluster nodes a device can fence: its host list or host name, else every node. */
function targetsOf(params: readonly Nv[], nodes: readonly string[]): string[] {
  const named = params.find((p) => p.name === 'hostlist' || p.name === 'hostname');
  if (!named) return [...nodes];
  const hosts = named.value
    .toLowerCase()
    .split(/[\s,]+/)
    .filter((h) => h !== '');
  return nodes.filter((n) => hosts.includes(n));
}

export function mapStonith(
  input: ExportInput,
  ids: IdSet,
  survivor: { readonly node: string; readonly delay: string } | undefined,
): { resources: Primitive[]; constraints: Constraint[]; report: ReportEntry[] } {
  const resources: Primitive[] = [];
  const constraints: Constraint[] = [];
  const report: ReportEntry[] = [];
  const nodes = input.haCf.nodes;
  for (const { entry, at } of input.stonith) {
    const where = { file: input.haCfFile, line: at.line };
    const text = stonithText(entry);
    const params =
      entry.kind === 'stonith_host' ? splitParams(entry.type, entry.params) : ([] as Nv[] | undefined);
    const known = params !== undefined;
    const targets = targetsOf(params ?? [], nodes);
    if (targets.length === 0) {
      report.push({
        ...where,
        item: text,
        status: 'decide',
        became: `fences none of the cluster nodes (${nodes.join(', ')}): not exported; check its host list`,
      });
      continue;
    }
    const made: string[] = [];
    for (const target of targets) {
      const id = ids.take(`fence-${target}`);
      const delay = survivor !== undefined && target === survivor.node && nodes.length === 2;
      resources.push({
        kind: 'primitive',
        id,
        class: 'stonith',
        type: entry.type,
        params: [
          // Each device fences one node: its host list is that node (plugins declare hostlist unique).
          ...(params ?? []).map((p) => (p.name === 'hostlist' ? { ...p, value: target } : p)),
          { name: 'pcmk_host_list', value: target },
          ...(delay
            ? [
                {
                  name: 'pcmk_delay_base',
                  value: survivor.delay,
                  why: `${target} is tsbeat's preferred survivor (env TSBEAT_PREFERRED_SURVIVOR, else the first node): a request to fence it waits ${survivor.delay} (env TSBEAT_FENCE_DELAY), so it wins a fence race`,
                },
              ]
            : []),
        ],
        ops: [{ name: 'monitor', interval: '3600s', timeout: '60s' }],
        why: `ha.cf line ${at.line}: ${text}`,
      });
      constraints.push({
        kind: 'location',
        id: ids.take(`loc-${id}-not-on-${target}`),
        rsc: id,
        node: target,
        score: '-INFINITY',
        why: `a node never runs the device that fences it`,
      });
      if (entry.kind === 'stonith_host' && entry.from !== '*') {
        for (const n of nodes) {
          if (n === entry.from || n === target) continue;
          constraints.push({
            kind: 'location',
            id: ids.take(`loc-${id}-not-on-${n}`),
            rsc: id,
            node: n,
            score: '-INFINITY',
            why: `stonith_host ${entry.from}: only ${entry.from} reaches this device`,
          });
        }
      }
      made.push(`${id} (fences ${target}${delay ? `, delayed ${survivor.delay}: preferred survivor` : ''})`);
    }
    const lha =
      "a Linux-HA (cluster-glue) plugin: Pacemaker runs it where built with cluster-glue, as Debian's is; elsewhere use the fence-agents equivalent (e.g. fence_ipmilan for external/ipmi)";
    if (entry.kind === 'stonith') {
      report.push({
        ...where,
        item: text,
        status: 'decide',
        became: `stonith:${entry.type} ${made.join(', ')}; its parameters are in ${entry.configFile}: copy them into each device as instance attributes (${lha})`,
      });
    } else if (!known) {
      report.push({
        ...where,
        item: text,
        status: 'decide',
        became: `stonith:${entry.type} ${made.join(', ')}; the parameter names of ${entry.type} are not known to tsbeat: list them with "stonith -t ${entry.type} -n" and set "${entry.params}" under those names (${lha})`,
      });
    } else {
      report.push({
        ...where,
        item: text,
        status: 'changed',
        became: `stonith:${entry.type} ${made.join(', ')} (${lha})`,
      });
    }
  }
  return { resources, constraints, report };
}

function stonithText(s: StonithConfig): string {
  return s.kind === 'stonith'
    ? `stonith ${s.type} ${s.configFile}`
    : `stonith_host ${s.from} ${s.type} ${s.params}`;
}
