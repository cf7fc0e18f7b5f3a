// Meta-data of every tsbeat agent, checked with the real tools: it must be valid against the
// ra-api-1.dtd that ocf-tester 4.12 uses (`xmllint --noout --valid` run in
// /usr/share/resource-agents, exactly as ocf-tester does), and each agent must offer the
// parameters, defaults and required flags of the stock resource-agents 4.12 agent of the same
// name (read from the stock agent's own meta-data output), so configurations written for the
// stock agents work unchanged.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderMetadata } from '../../../src/agents/metadata.js';
import { AGENTS } from '../../../src/agents/registry.js';

const DTD_DIR = '/usr/share/resource-agents';
const STOCK = '/usr/lib/ocf/resource.d/heartbeat';

function xmllintValid(xml: string): { ok: boolean; output: string } {
  const r = spawnSync('xmllint', ['--noout', '--valid', '-'], { cwd: DTD_DIR, input: xml, encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

interface Param {
  name: string;
  required: boolean;
  type: string;
  default: string | undefined;
}

/** The parameters in a meta-data document (enough XML reading for the agents' flat layout). */
function params(xml: string): Map<string, Param> {
  const out = new Map<string, Param>();
  for (const m of xml.matchAll(/<parameter\s([^>]*)>([\s\S]*?)<\/parameter>/g)) {
    const attrs = m[1] ?? '';
    const body = m[2] ?? '';
    const name = /name="([^"]*)"/.exec(attrs)?.[1] ?? '';
    const content = /<content\s([^>]*)\/?>/.exec(body)?.[1] ?? '';
    out.set(name, {
      name,
      required: /required="1"/.test(attrs),
      type: /type="([^"]*)"/.exec(content)?.[1] ?? '',
      default: /default="([^"]*)"/.exec(content)?.[1],
    });
  }
  return out;
}

function stockMetadata(name: string): string | undefined {
  const path = `${STOCK}/${name}`;
  if (!existsSync(path)) return undefined;
  const r = spawnSync(path, ['meta-data'], {
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      OCF_ROOT: '/usr/lib/ocf',
      HA_RSCTMP: '/run/resource-agents',
    },
  });
  return r.status === 0 ? r.stdout : undefined;
}

/** Parameters tsbeat adds to a stock agent's (documented in src/agents/README.md). */
const TSBEAT_ONLY: Readonly<Record<string, readonly string[]>> = {
  Filesystem: ['create_directory'],
  lxc: ['lxcpath', 'stop_timeout'],
};

const haveXmllint = spawnSync('xmllint', ['--version']).status === 0 && existsSync(`${DTD_DIR}/ra-api-1.dtd`);

describe.each(Object.entries(AGENTS))('%s meta-data', (name, agent) => {
  const xml = renderMetadata(agent.metadata, {
    HA_RSCTMP: '/run/resource-agents',
    OCF_RESOURCE_INSTANCE: 'RESOURCE_ID',
  });

  it.skipIf(!haveXmllint)('is valid against ra-api-1.dtd (as ocf-tester checks it)', () => {
    const r = xmllintValid(xml);
    expect(r.output).toBe('');
    expect(r.ok).toBe(true);
  });

  it('advertises start, stop, monitor, meta-data and validate-all', () => {
    for (const a of ['start', 'stop', 'monitor', 'meta-data', 'validate-all']) {
      expect(xml).toContain(`<action name="${a}"`);
    }
  });

  const stock = stockMetadata(name);
  it.skipIf(stock === undefined)(
    'has the parameters, defaults and required flags of the stock 4.12 agent',
    () => {
      const ours = params(xml);
      for (const extra of TSBEAT_ONLY[name] ?? []) ours.delete(extra);
      const theirs = params(stock ?? '');
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const p of theirs.values()) {
        const o = ours.get(p.name);
        expect(o, p.name).toBeDefined();
        expect({ name: p.name, required: o?.required, type: o?.type }).toEqual({
          name: p.name,
          required: p.required,
          type: p.type,
        });
        // An absent default and an empty one mean the same to every caller.
        expect(o?.default ?? '', `${name}.${p.name} default`).toBe(p.default ?? '');
      }
    },
  );
});
