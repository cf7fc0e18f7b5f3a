// `tsbeat export pacemaker` checked by Pacemaker's and Corosync's own tools (Debian 12:
// pacemaker-cli-utils 2.1.5, corosync 3.1.7; no daemon is started). For the two example
// clusters in etc/ha.d, a fixture using every agent and option tsbeat knows, and one without
// STONITH, each under auto_failback on, off and legacy, it proves that:
//  - crm_verify --xml-file reports no error for the exported CIB, and none at all (exit 0) once
//    both nodes are online in its status (without a status, a CIB with fencing enabled draws
//    the "unclean node" start-up fencing warnings for every node, which are about state);
//  - crm_simulate --simulate places every group where tsbeat places it, after --node-fail of
//    each node moves them where tsbeat moves them, and after --node-up of that node puts them
//    where tsbeat puts them (auto_failback); tsbeat's decision comes from the simulator running
//    its production cores (test/support/export.ts). The one known difference, a shared-storage
//    group without STONITH, is checked to be reported as a decision;
//  - `corosync -t` accepts the generated corosync.conf, in a private network and mount
//    namespace that gives the first node its link-0 address and /etc/corosync an authkey; a
//    broken copy is refused, so the check can fail.
//  - every parameter given to a resource-agents (ocf:heartbeat) or LINBIT (ocf:linbit) agent is
//    one the installed agent declares in its meta-data;
//  - crmsh 4.4 (`crm configure load update`, on a file CIB) takes the crmsh rendering, refusing
//    nothing but agents that are not installed on this machine, and builds the same resources and
//    constraints as the XML rendering. The pcs rendering is not run: pcs needs pcsd and Ruby.
// Stand-ins, named: crm_simulate's -q 1 (quorum) stands for corosync's two_node, and the
// promotion score the linbit DRBD agent sets for an UpToDate disk (master-<rsc> = 10000) is
// written into the simulated status, since no DRBD runs; and a returning node's old resource
// history is erased, as the DC does when a node joins (see eraseHistory).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AutoFailback } from '../../src/config/model.js';
import { exportPacemaker } from '../../src/export/pacemaker.js';
import type { PlacementEvent } from '../../src/export/placement.js';
import { runTsbeat } from '../support/cli.js';
import {
  FIXTURES,
  type FixtureName,
  fixtureCopy,
  loadFixture,
  removeCopy,
  simPlacement,
} from '../support/export.js';

const work = mkdtempSync(join(tmpdir(), 'tsbeat-export-integ-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function simulate(args: string[]): void {
  const r = run('crm_simulate', [...args, '-q', '1']);
  expect(r.code, `crm_simulate ${args.join(' ')}\n${r.out}`).toBe(0);
}

/** The promotion score DRBD's agent gives an UpToDate disk, on the given nodes (stand-in). */
function injectPromotion(file: string, primitives: readonly string[], nodes: readonly string[]): void {
  if (primitives.length === 0) return;
  let xml = readFileSync(file, 'utf8');
  for (const node of nodes) {
    const re = new RegExp(`<node_state ([^>]*uname="${node}"[^>]*?)(/?)>`);
    const m = re.exec(xml);
    expect(m, `node_state of ${node}`).not.toBeNull();
    const id = /\bid="([^"]+)"/.exec(m![1]!)![1]!;
    const attrs = primitives
      .map((p) => `<nvpair id="status-${id}-master-${p}" name="master-${p}" value="10000"/>`)
      .join('');
    const block = `<transient_attributes id="${id}"><instance_attributes id="status-${id}">${attrs}</instance_attributes></transient_attributes>`;
    // Replace any earlier transient attributes of the node (a returning node sets them anew).
    xml =
      m![2] === '/'
        ? xml.replace(m![0], `<node_state ${m![1]}>${block}</node_state>`)
        : xml.replace(m![0], `${m![0]}${block}`);
  }
  writeFileSync(file, xml);
}

/**
 * A failed machine that boots again joins with no resource history: the DC erases a joining
 * node's history and probes it afresh. crm_simulate's --node-up keeps the old history of a node
 * that failed without being fenced (fencing clears it), which would claim every resource that
 * ran there is still running; so drop it, as the join does.
 */
function eraseHistory(file: string, node: string): void {
  const xml = readFileSync(file, 'utf8');
  // Within this node's node_state only: never run on into the next node's.
  const inside = '(?:(?!</node_state>|<node_state )[\\s\\S])*?';
  const re = new RegExp(`(<node_state [^>]*uname="${node}"[^>]*>${inside})<lrm [\\s\\S]*?</lrm>`);
  writeFileSync(file, xml.replace(re, '$1'));
}

/** Group id -> the node all its members are Started on (null: none started), from crm_mon. */
function placement(file: string): Record<string, string | null> {
  const r = run('crm_mon', ['-1', '--output-as=xml'], { CIB_file: file });
  expect(r.code, r.out).toBe(0);
  const out: Record<string, string | null> = {};
  for (const g of r.out.matchAll(/<group id="([^"]+)"[^>]*>([\s\S]*?)<\/group>/g)) {
    const nodes = new Set<string>();
    let started = 0;
    let members = 0;
    for (const res of g[2]!.matchAll(/<resource [^>]*role="([^"]+)"[^>]*?(?:\/>|>([\s\S]*?)<\/resource>)/g)) {
      members++;
      if (res[1] !== 'Started') continue;
      started++;
      for (const n of (res[2] ?? '').matchAll(/<node name="([^"]+)"/g)) nodes.add(n[1]!);
    }
    out[g[1]!] =
      started === 0
        ? null
        : started === members && nodes.size === 1
          ? [...nodes][0]!
          : `split:${[...nodes].join(',')}`;
  }
  return out;
}

const MODES: AutoFailback[] = ['on', 'off', 'legacy'];

describe('crm_verify and crm_simulate agree with tsbeat', () => {
  for (const name of Object.keys(FIXTURES) as FixtureName[]) {
    for (const mode of MODES) {
      it(`${name}, auto_failback ${mode}`, async () => {
        const dir = fixtureCopy(name, mode);
        const out = join(work, `${name}-${mode}`);
        try {
          const r = runTsbeat(['export', 'pacemaker', '-c', dir, '--out', out]);
          expect(r.code, r.stderr).toBe(0);
          const cib = join(out, 'cib.xml');

          const verify = run('crm_verify', ['--xml-file', cib, '-V']);
          expect(verify.out).not.toMatch(/\berror\b/i);

          const input = await loadFixture(dir);
          const result = exportPacemaker(input, { provider: 'heartbeat', service: 'lsb' });
          const nodes = input.haCf.nodes;
          const drbd = result.pacemaker.resources.flatMap((x) =>
            x.kind === 'clone' ? [x.primitive.id] : [],
          );
          const stonith = input.stonith.length > 0;
          // Groups tsbeat keeps down and Pacemaker (stonith-enabled=false) takes over: reported.
          const differs = new Set(
            result.placements.filter((p) => p.sharedStorage && !stonith).map((p) => p.id),
          );
          for (const id of differs)
            expect(result.report).toContainEqual(
              expect.objectContaining({
                status: 'decide',
                item: `group ${id}: shared storage without STONITH`,
              }),
            );
          const keyOf = new Map(result.placements.map((p) => [p.id, p.key]));

          const online = join(out, 'online.xml');
          simulate(['--xml-file', cib, ...nodes.flatMap((n) => ['-u', n]), '-O', online]);
          injectPromotion(online, drbd, nodes);
          const clean = run('crm_verify', ['--xml-file', online]);
          expect(clean, clean.out).toEqual({ code: 0, out: '' });

          for (const failed of nodes) {
            const s1 = join(out, `${failed}-1.xml`);
            const s2 = join(out, `${failed}-2.xml`);
            const s3a = join(out, `${failed}-3a.xml`);
            const s3 = join(out, `${failed}-3.xml`);
            simulate(['--xml-file', online, '--simulate', '-O', s1]);
            simulate(['--xml-file', s1, '--simulate', '--node-fail', failed, '-O', s2]);
            simulate(['--xml-file', s2, '--node-up', failed, '-O', s3a]);
            eraseHistory(s3a, failed);
            injectPromotion(s3a, drbd, [failed]);
            simulate(['--xml-file', s3a, '--simulate', '-O', s3]);
            const pacemaker = [s1, s2, s3].map((f) => {
              const p = placement(f);
              return Object.fromEntries(result.placements.map((g) => [g.key, p[g.id] ?? null]));
            });
            const events: PlacementEvent[] = [
              { kind: 'start' },
              { kind: 'fail', node: failed },
              { kind: 'return', node: failed },
            ];
            const tsbeat = await simPlacement(input, events);
            const without = (ps: typeof tsbeat) =>
              ps.map((p) =>
                Object.fromEntries(
                  Object.entries(p).filter(([k]) => ![...differs].some((id) => keyOf.get(id) === k)),
                ),
              );
            expect(without(pacemaker), `node ${failed} fails and returns`).toEqual(without(tsbeat));
            // Every group is placed somewhere at the start (no group silently unrunnable).
            expect(Object.values(pacemaker[0]!).every((n) => n !== null)).toBe(true);
            for (const id of differs) {
              // The documented difference: Pacemaker without fencing takes the group over.
              const key = keyOf.get(id)!;
              if (tsbeat[0]![key] === failed) {
                expect(tsbeat[1]![key]).toBeNull();
                expect(pacemaker[1]![key]).toBe(nodes.find((n) => n !== failed));
              }
            }
          }
        } finally {
          removeCopy(dir);
        }
      });
    }
  }
});

describe('agents and crmsh', () => {
  it('every parameter of an ocf:heartbeat or ocf:linbit primitive is declared by the installed agent', async () => {
    const checked: string[] = [];
    for (const name of Object.keys(FIXTURES) as FixtureName[]) {
      const { pacemaker } = exportPacemaker(await loadFixture(FIXTURES[name]), {
        provider: 'heartbeat',
        service: 'lsb',
      });
      const prims = pacemaker.resources.flatMap((r) =>
        r.kind === 'primitive' ? [r] : r.kind === 'group' ? [...r.members] : [r.primitive],
      );
      for (const p of prims) {
        if (p.class !== 'ocf' || (p.provider !== 'heartbeat' && p.provider !== 'linbit')) continue;
        const agent = `/usr/lib/ocf/resource.d/${p.provider}/${p.type}`;
        const meta = run(agent, ['meta-data'], { OCF_ROOT: '/usr/lib/ocf' });
        expect(meta.code, `${agent} meta-data`).toBe(0);
        const declared = [...meta.out.matchAll(/<parameter name="([^"]+)"/g)].map((m) => m[1]);
        for (const nv of p.params)
          expect(declared, `${p.id}: ${agent} has no parameter ${nv.name}`).toContain(nv.name);
        checked.push(`${p.provider}:${p.type}`);
      }
    }
    expect(new Set(checked).size).toBe(13);
  });

  it('crmsh loads the crmsh rendering into the same configuration as the XML one', () => {
    const out = join(work, 'crmsh');
    expect(
      runTsbeat(['export', 'pacemaker', '-c', FIXTURES['every-agent'], '-o', out, '-f', 'crmsh']).code,
    ).toBe(0);
    expect(
      runTsbeat(['export', 'pacemaker', '-c', FIXTURES['every-agent'], '-o', out, '-f', 'xml']).code,
    ).toBe(0);
    const cib = join(out, 'loaded.xml');
    writeFileSync(
      cib,
      '<cib validate-with="pacemaker-3.7" admin_epoch="0" epoch="0" num_updates="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>',
    );
    // -F: crmsh refuses agents it cannot find here (this machine is no cluster node); the
    // check below allows exactly those refusals.
    const r = run('crm', ['-F', 'configure', 'load', 'update', join(out, 'cib.crm')], { CIB_file: cib });
    expect(r.code, r.out).toBe(0);
    const missing = ['lsb:postfix', 'lsb:portblock', 'ocf:tsbeat:vserver'];
    for (const line of r.out.split('\n').filter((l) => /ERROR/.test(l)))
      expect(
        missing.some((m) => line.includes(m)),
        line,
      ).toBe(true);
    const ids = (xml: string, tag: string) =>
      [...xml.matchAll(new RegExp(`<${tag} [^>]*?\\bid="([^"]+)"`, 'g'))].map((m) => m[1]).sort();
    const fromCrm = readFileSync(cib, 'utf8');
    const fromXml = readFileSync(join(out, 'cib.xml'), 'utf8');
    for (const tag of ['primitive', 'group', 'clone', 'rsc_location', 'rsc_colocation', 'rsc_order'])
      expect(ids(fromCrm, tag), tag).toEqual(ids(fromXml, tag));
    expect(ids(fromXml, 'primitive').length).toBe(23);
    const verify = run('crm_verify', ['--xml-file', cib, '-V']);
    expect(verify.out).not.toMatch(/\berror\b/i);
  });
});

/** corosync -t in a private network and mount namespace (nothing on the host changes). */
function corosyncCheck(conf: string, localAddr: string, hosts: string | undefined) {
  const dir = mkdtempSync(join(work, 'corosync-'));
  writeFileSync(join(dir, 'authkey'), Buffer.alloc(256, 7), { mode: 0o400 });
  const script = [
    'set -e',
    'ip link set lo up',
    `ip addr add ${localAddr}/32 dev lo`,
    `mount --bind ${dir} /etc/corosync`,
    ...(hosts !== undefined
      ? [`printf '%s' '${hosts}' > ${dir}/hosts`, `mount --bind ${dir}/hosts /etc/hosts`]
      : []),
    `exec corosync -t -c ${conf}`,
  ].join('\n');
  return run('unshare', ['--net', '--mount', 'sh', '-c', script]);
}

describe('corosync -t accepts the generated corosync.conf', () => {
  for (const name of Object.keys(FIXTURES) as FixtureName[]) {
    it(name, async () => {
      const out = join(work, `corosync-${name}`);
      expect(runTsbeat(['export', 'pacemaker', '-c', FIXTURES[name], '--out', out]).code).toBe(0);
      const conf = join(out, 'corosync.conf');
      const { corosync, pacemaker } = exportPacemaker(await loadFixture(FIXTURES[name]), {
        provider: 'heartbeat',
        service: 'lsb',
      });
      const first = corosync.links[0]!.addrs[0]!;
      const byName = !/^[0-9.]+$/.test(first);
      // Node names as addresses (bcast/mcast media): they resolve through /etc/hosts.
      const hosts = byName ? pacemaker.nodes.map((n, i) => `10.99.0.${i + 1} ${n}\n`).join('') : undefined;
      const local = byName ? '10.99.0.1' : first;
      const ok = corosyncCheck(conf, local, hosts);
      expect(ok.code, ok.out).toBe(0);

      const broken = join(out, 'broken.conf');
      writeFileSync(
        broken,
        readFileSync(conf, 'utf8').replace('transport: knet', 'transport: knet\n    token: soon'),
      );
      const bad = corosyncCheck(broken, local, hosts);
      expect(bad.code).not.toBe(0);
      expect(bad.out).toMatch(/token/);
      // And a node list without this machine in it is refused too: the check looks at addresses.
      const elsewhere = corosyncCheck(conf, '10.98.0.9', hosts);
      expect(elsewhere.out).toMatch(/No valid name found for local host/);
    });
  }
});
