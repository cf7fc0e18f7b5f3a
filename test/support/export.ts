// Shared by the export tests: fixtures with auto_failback rewritten, and tsbeat's own placement
// decision for start / node failure / node return, from the deterministic simulator that runs
// the production HaNode (membership and ownership cores, the real group machines).

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInput } from '../../src/cli/export.js';
import type { AutoFailback } from '../../src/config/model.js';
import type { ExportInput } from '../../src/export/model.js';
import type { Placement, PlacementEvent } from '../../src/export/placement.js';
import { SimCluster } from '../../src/sim/cluster.js';
import { REPO } from './cli.js';

export const FIXTURES = {
  'lvs-dr': join(REPO, 'etc/ha.d/lvs-dr'),
  'drbd-fs': join(REPO, 'etc/ha.d/drbd-fs'),
  'every-agent': join(REPO, 'test/fixtures/export/every-agent'),
  'no-stonith': join(REPO, 'test/fixtures/export/no-stonith'),
} as const;
export type FixtureName = keyof typeof FIXTURES;

/** A copy of a fixture directory with `auto_failback MODE` (the caller removes it). */
export function fixtureCopy(name: FixtureName, mode: AutoFailback): string {
  const dir = mkdtempSync(join(tmpdir(), `tsbeat-export-${name}-`));
  cpSync(FIXTURES[name], dir, { recursive: true });
  const hacf = join(dir, 'ha.cf');
  const text = readFileSync(hacf, 'utf8');
  writeFileSync(hacf, text.replace(/^auto_failback\s+\S+/m, `auto_failback ${mode}`));
  return dir;
}

export function removeCopy(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function loadFixture(dir: string): Promise<ExportInput> {
  const r = await loadInput(dir);
  if (!r.input)
    throw new Error(`fixture ${dir} does not load: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.input;
}

/**
 * tsbeat's decision, from its real cores: both daemons start (half a second apart, as in the
 * ownership tests), then each event; after each, where every group's resources run. A failed
 * node is a dead machine (its resources die with it); a returning node starts its daemon.
 */
export async function simPlacement(
  input: ExportInput,
  events: readonly PlacementEvent[],
): Promise<Placement[]> {
  const nodes = input.haCf.nodes;
  const sim = new SimCluster({
    seed: 18,
    nodes,
    media: ['eth0'],
    mode: input.haCf.autoFailback,
    groups: input.groups,
    stonith: input.stonith.length > 0,
  });
  const out: Placement[] = [];
  const snapshot = (): Placement =>
    Object.fromEntries(
      input.groups.map((g) => {
        const on = sim.whereGroup(g.key);
        if (on.length > 1) throw new Error(`group ${g.key} runs on ${on.join(' and ')}`);
        return [g.key, on[0] ?? null];
      }),
    );
  try {
    for (const e of events) {
      if (e.kind === 'start') {
        for (const n of nodes) {
          await sim.start(n);
          await sim.runFor(500);
        }
      } else if (e.kind === 'fail') {
        sim.kill(e.node, { machine: true });
      } else {
        await sim.start(e.node);
      }
      // Long enough for initdead, deadtime, a fence, RQSTDELAY and every agent action.
      await sim.runFor(60_000);
      out.push(snapshot());
    }
  } finally {
    sim.close();
  }
  return out;
}
