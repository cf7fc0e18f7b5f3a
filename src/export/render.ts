// Part: one Pacemaker configuration written three ways: a CIB (XML, checked by crm_verify),
// a crmsh script (`crm configure load update FILE`) and a pcs script (`sh FILE`).

import type { Constraint, Nv, Op, PacemakerConfig, Primitive, Resource } from './model.js';

/**
 * pacemaker-3.7 is the first schema with the Promoted/Unpromoted role names; Pacemaker 2.1
 * (Debian 12) validates it, and Pacemaker 3 upgrades any 3.x CIB when it loads it.
 */
export const CIB_SCHEMA = 'pacemaker-3.7';

function x(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** XML comments may not contain "--". */
function comment(s: string): string {
  return `<!-- ${s.replace(/--+/g, '-')} -->`;
}

function nvXml(prefix: string, list: readonly Nv[], indent: string): string[] {
  const out: string[] = [];
  for (const nv of list) {
    if (nv.why) out.push(`${indent}${comment(nv.why)}`);
    out.push(
      `${indent}<nvpair id="${x(`${prefix}-${nv.name}`)}" name="${x(nv.name)}" value="${x(nv.value)}"/>`,
    );
  }
  return out;
}

function opId(id: string, o: Op): string {
  return `${id}-${o.name}-${o.interval}${o.role ? `-${o.role}` : ''}`;
}

function primitiveXml(p: Primitive, indent: string): string[] {
  const out: string[] = [];
  if (p.why) out.push(`${indent}${comment(p.why)}`);
  const provider = p.provider !== undefined ? ` provider="${x(p.provider)}"` : '';
  out.push(`${indent}<primitive id="${x(p.id)}" class="${p.class}"${provider} type="${x(p.type)}">`);
  if (p.params.length > 0) {
    out.push(`${indent}  <instance_attributes id="${x(p.id)}-instance_attributes">`);
    out.push(...nvXml(`${p.id}-instance_attributes`, p.params, `${indent}    `));
    out.push(`${indent}  </instance_attributes>`);
  }
  out.push(`${indent}  <operations>`);
  for (const o of p.ops) {
    const role = o.role ? ` role="${o.role}"` : '';
    out.push(
      `${indent}    <op id="${x(opId(p.id, o))}" name="${o.name}" interval="${o.interval}" timeout="${o.timeout}"${role}/>`,
    );
  }
  out.push(`${indent}  </operations>`);
  out.push(`${indent}</primitive>`);
  return out;
}

function resourceXml(r: Resource, indent: string): string[] {
  switch (r.kind) {
    case 'primitive':
      return primitiveXml(r, indent);
    case 'group': {
      const out = r.why ? [`${indent}${comment(r.why)}`] : [];
      out.push(`${indent}<group id="${x(r.id)}">`);
      for (const m of r.members) out.push(...primitiveXml(m, `${indent}  `));
      out.push(`${indent}</group>`);
      return out;
    }
    case 'clone': {
      const out = r.why ? [`${indent}${comment(r.why)}`] : [];
      out.push(`${indent}<clone id="${x(r.id)}">`);
      out.push(`${indent}  <meta_attributes id="${x(r.id)}-meta_attributes">`);
      out.push(...nvXml(`${r.id}-meta_attributes`, r.meta, `${indent}    `));
      out.push(`${indent}  </meta_attributes>`);
      out.push(...primitiveXml(r.primitive, `${indent}  `));
      out.push(`${indent}</clone>`);
      return out;
    }
  }
}

function constraintXml(c: Constraint, indent: string): string[] {
  const out = c.why ? [`${indent}${comment(c.why)}`] : [];
  switch (c.kind) {
    case 'location':
      out.push(
        `${indent}<rsc_location id="${x(c.id)}" rsc="${x(c.rsc)}"${c.role ? ` role="${c.role}"` : ''} node="${x(c.node)}" score="${c.score}"/>`,
      );
      break;
    case 'colocation':
      out.push(
        `${indent}<rsc_colocation id="${x(c.id)}" rsc="${x(c.rsc)}" with-rsc="${x(c.withRsc)}"${c.withRole ? ` with-rsc-role="${c.withRole}"` : ''} score="${c.score}"/>`,
      );
      break;
    case 'order':
      out.push(
        `${indent}<rsc_order id="${x(c.id)}" first="${x(c.first)}" first-action="${c.firstAction}" then="${x(c.thenRsc)}" then-action="${c.thenAction}" kind="Mandatory"/>`,
      );
      break;
  }
  return out;
}

/**
 * The whole CIB. admin_epoch 1 outranks the empty CIB of a freshly started cluster, so
 * `cibadmin --replace --xml-file` accepts it there; the status section is the cluster's own.
 */
export function renderCib(cfg: PacemakerConfig, source: string): string {
  const out: string[] = [
    '<?xml version="1.0"?>',
    comment(`written by "tsbeat export pacemaker" from ${source}`),
  ];
  out.push(`<cib validate-with="${CIB_SCHEMA}" admin_epoch="1" epoch="1" num_updates="0">`);
  out.push('  <configuration>');
  out.push('    <crm_config>');
  out.push('      <cluster_property_set id="cib-bootstrap-options">');
  out.push(...nvXml('cib-bootstrap-options', cfg.properties, '        '));
  out.push('      </cluster_property_set>');
  out.push('    </crm_config>');
  out.push('    <nodes>');
  cfg.nodes.forEach((n, i) => {
    out.push(`      <node id="${i + 1}" uname="${x(n)}"/>`);
  });
  out.push('    </nodes>');
  out.push('    <resources>');
  for (const r of cfg.resources) out.push(...resourceXml(r, '      '));
  out.push('    </resources>');
  out.push('    <constraints>');
  for (const c of cfg.constraints) out.push(...constraintXml(c, '      '));
  out.push('    </constraints>');
  out.push('    <rsc_defaults>');
  out.push('      <meta_attributes id="rsc-options">');
  out.push(...nvXml('rsc-options', cfg.rscDefaults, '        '));
  out.push('      </meta_attributes>');
  out.push('    </rsc_defaults>');
  out.push('  </configuration>');
  out.push('  <status/>');
  out.push('</cib>');
  return `${out.join('\n')}\n`;
}

/** A shell word: quoted unless plainly safe. */
function sh(s: string): string {
  return /^[A-Za-z0-9_.,:/=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function agentName(p: Primitive): string {
  return p.class === 'ocf' ? `ocf:${p.provider}:${p.type}` : `${p.class}:${p.type}`;
}

function opsCrm(p: Primitive): string[] {
  return p.ops.map(
    (o) => `op ${o.name} interval=${o.interval} timeout=${o.timeout}${o.role ? ` role=${o.role}` : ''}`,
  );
}

function crmPrimitive(p: Primitive): string[] {
  const out: string[] = [];
  if (p.why) out.push(`# ${p.why}`);
  for (const nv of p.params) if (nv.why) out.push(`# ${nv.name}: ${nv.why}`);
  const params = p.params.map((nv) => `${nv.name}=${sh(nv.value)}`);
  const parts = [`primitive ${p.id} ${agentName(p)}`];
  if (params.length > 0) parts.push(`params ${params.join(' ')}`);
  parts.push(...opsCrm(p));
  out.push(parts.join(' \\\n    '));
  return out;
}

/** crmsh's configuration language, for `crm configure load update FILE`. */
export function renderCrmsh(cfg: PacemakerConfig, source: string): string {
  const out: string[] = [`# written by "tsbeat export pacemaker" from ${source}`];
  out.push('# load with: crm configure load update THIS_FILE');
  cfg.nodes.forEach((n, i) => {
    out.push(`node ${i + 1}: ${n}`);
  });
  for (const r of cfg.resources) {
    if (r.kind === 'primitive') out.push(...crmPrimitive(r));
    else if (r.kind === 'group') {
      for (const m of r.members) out.push(...crmPrimitive(m));
      if (r.why) out.push(`# ${r.why}`);
      out.push(`group ${r.id} ${r.members.map((m) => m.id).join(' ')}`);
    } else {
      out.push(...crmPrimitive(r.primitive));
      if (r.why) out.push(`# ${r.why}`);
      out.push(
        `clone ${r.id} ${r.primitive.id} \\\n    meta ${r.meta.map((m) => `${m.name}=${m.value}`).join(' ')}`,
      );
    }
  }
  for (const c of cfg.constraints) {
    if (c.why) out.push(`# ${c.why}`);
    switch (c.kind) {
      case 'location':
        out.push(`location ${c.id} ${c.rsc}${c.role ? ` role=${c.role}` : ''} ${c.score}: ${c.node}`);
        break;
      case 'colocation':
        out.push(
          `colocation ${c.id} ${c.score === 'INFINITY' ? 'inf' : c.score}: ${c.rsc} ${c.withRsc}${c.withRole ? `:${c.withRole}` : ''}`,
        );
        break;
      case 'order':
        out.push(`order ${c.id} Mandatory: ${c.first}:${c.firstAction} ${c.thenRsc}:${c.thenAction}`);
        break;
    }
  }
  for (const p of cfg.properties) if (p.why) out.push(`# ${p.name}: ${p.why}`);
  out.push(`property cib-bootstrap-options: ${cfg.properties.map((p) => `${p.name}=${p.value}`).join(' ')}`);
  for (const p of cfg.rscDefaults) if (p.why) out.push(`# ${p.name}: ${p.why}`);
  out.push(`rsc_defaults rsc-options: ${cfg.rscDefaults.map((p) => `${p.name}=${p.value}`).join(' ')}`);
  return `${out.join('\n')}\n`;
}

function pcsOps(p: Primitive): string {
  return `op ${p.ops.map((o) => `${o.name} interval=${o.interval} timeout=${o.timeout}${o.role ? ` role=${o.role}` : ''}`).join(' ')}`;
}

/**
 * pcs (0.11) commands, applied to a file copy of the CIB and pushed in one step. pcs refuses
 * agents it cannot find on the machine it runs on, hence run it on a cluster node.
 */
export function renderPcs(cfg: PacemakerConfig, source: string): string {
  const out: string[] = ['#!/bin/sh', `# written by "tsbeat export pacemaker" from ${source}`];
  out.push('# run on one cluster node after "pcs cluster setup": sh THIS_FILE');
  out.push('set -eu');
  out.push('CIB=$(mktemp)');
  out.push('pcs cluster cib "$CIB"');
  const params = (p: Primitive) => p.params.map((nv) => `${nv.name}=${sh(nv.value)}`).join(' ');
  for (const p of cfg.properties) {
    if (p.why) out.push(`# ${p.why}`);
    out.push(`pcs -f "$CIB" property set ${p.name}=${sh(p.value)}`);
  }
  const create = (p: Primitive, extra: string) => {
    if (p.why) out.push(`# ${p.why}`);
    const cmd =
      p.class === 'stonith' ? `stonith create ${p.id} ${p.type}` : `resource create ${p.id} ${agentName(p)}`;
    const ps = params(p);
    out.push(`pcs -f "$CIB" ${cmd}${ps ? ` ${ps}` : ''} ${pcsOps(p)}${extra}`);
  };
  for (const r of cfg.resources) {
    if (r.kind === 'primitive') create(r, '');
    else if (r.kind === 'group') {
      if (r.why) out.push(`# ${r.why}`);
      for (const m of r.members) create(m, ` --group ${r.id}`);
    } else {
      // pcs names the clone RESOURCE-clone; the export uses the same name.
      create(
        r.primitive,
        ` promotable ${r.meta
          .filter((m) => m.name !== 'promotable')
          .map((m) => `${m.name}=${m.value}`)
          .join(' ')}`,
      );
    }
  }
  for (const c of cfg.constraints) {
    if (c.why) out.push(`# ${c.why}`);
    switch (c.kind) {
      case 'location':
        if (c.role)
          out.push(
            `pcs -f "$CIB" constraint location ${c.rsc} rule role=${c.role} score=${c.score} '#uname' eq ${c.node}`,
          );
        else if (c.score === '-INFINITY')
          out.push(`pcs -f "$CIB" constraint location ${c.rsc} avoids ${c.node}`);
        else out.push(`pcs -f "$CIB" constraint location ${c.rsc} prefers ${c.node}=${c.score}`);
        break;
      case 'colocation':
        out.push(
          `pcs -f "$CIB" constraint colocation add ${c.rsc} with ${c.withRole ? `${c.withRole} ` : ''}${c.withRsc} ${c.score}`,
        );
        break;
      case 'order':
        out.push(
          `pcs -f "$CIB" constraint order ${c.firstAction} ${c.first} then ${c.thenAction} ${c.thenRsc}`,
        );
        break;
    }
  }
  for (const p of cfg.rscDefaults) {
    if (p.why) out.push(`# ${p.why}`);
    out.push(`pcs -f "$CIB" resource defaults update ${p.name}=${sh(p.value)}`);
  }
  out.push('pcs cluster cib-push "$CIB" --config');
  out.push('rm -f "$CIB"');
  return `${out.join('\n')}\n`;
}
