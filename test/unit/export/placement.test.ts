// The export's placement model (src/export/placement.ts) against tsbeat itself. For every
// fixture (the two example clusters in etc/ha.d and one using every agent and option), every
// auto_failback mode and each node in turn: start both nodes, fail the node, bring it back, and
// compare where each group runs with what the deterministic simulator says — the production
// HaNode with its real membership and ownership cores. This is the check that the model the
// integration test compares with crm_simulate is tsbeat's behaviour, not a belief about it.
import { describe, expect, it } from 'vitest';
import type { AutoFailback } from '../../../src/config/model.js';
import { exportPacemaker } from '../../../src/export/pacemaker.js';
import { type Placement, type PlacementEvent, predictPlacement } from '../../../src/export/placement.js';
import {
  FIXTURES,
  type FixtureName,
  fixtureCopy,
  loadFixture,
  removeCopy,
  simPlacement,
} from '../../support/export.js';

const MODES: AutoFailback[] = ['on', 'off', 'legacy'];
const OPTS = { provider: 'heartbeat', service: 'lsb' } as const;

describe('the placement model is what tsbeat does', () => {
  for (const name of Object.keys(FIXTURES) as FixtureName[]) {
    for (const mode of MODES) {
      it(`${name}, auto_failback ${mode}`, async () => {
        const dir = fixtureCopy(name, mode);
        try {
          const input = await loadFixture(dir);
          expect(input.haCf.autoFailback).toBe(mode);
          const result = exportPacemaker(input, OPTS);
          const keyOf = new Map(result.placements.map((p) => [p.id, p.key]));
          const byKey = (p: Placement) =>
            Object.fromEntries(Object.entries(p).map(([id, node]) => [keyOf.get(id)!, node]));
          for (const node of input.haCf.nodes) {
            const events: PlacementEvent[] = [
              { kind: 'start' },
              { kind: 'fail', node },
              { kind: 'return', node },
            ];
            const model = predictPlacement(
              {
                nodes: input.haCf.nodes,
                groups: result.placements,
                autoFailback: mode,
                stonith: input.stonith.length > 0,
              },
              events,
            ).map(byKey);
            const real = await simPlacement(input, events);
            expect(model, `fail and return ${node}`).toEqual(real);
          }
        } finally {
          removeCopy(dir);
        }
      });
    }
  }
});
