/**
 * The campaign catches bugs: each test switches on one deliberate bug in the production code
 * (HaNodeMutations: a flag the cores and the node shell read only for this test) and runs the
 * CI seed list until a seed violates an invariant; it must find one, name the expected
 * invariant, and the same seed must pass without the bug. The bugs: taking a dead peer's
 * groups over without waiting for its fence; accepting frames of an older generation (replayed
 * frames of a previous run); and the send-ordering class, where the resource layer runs before
 * the frames of the step that caused it are sent and its own frames overtake them.
 */
import { describe, expect, it } from 'vitest';
import type { HaNodeMutations } from '../../src/node/ha-node.js';
import { CI_EXCLUDE, ciSeeds, type InvariantName, runSeed } from '../../src/sim/campaign.js';

async function firstViolation(mutations: HaNodeMutations) {
  for (const seed of ciSeeds(1000)) {
    const r = await runSeed(seed, { exclude: CI_EXCLUDE, mutations });
    if (!r.ok) return r;
  }
  return undefined;
}

describe.each<[string, HaNodeMutations, readonly InvariantName[]]>([
  ['takeover without waiting for the fence', { takeoverBeforeFence: true }, ['safety']],
  [
    'frames of an older generation accepted',
    { acceptOldGeneration: true },
    ['falseDeath', 'phantomPeer', 'safety', 'liveness'],
  ],
  ['resource layer before the sends of its step', { listenersBeforeSends: true }, ['sendOrder']],
])('mutation: %s', (_name, mutations, invariants) => {
  it('is caught within the CI seed list, and the seed passes without it', async () => {
    const r = await firstViolation(mutations);
    expect(r, 'no seed of the CI list caught the bug').toBeDefined();
    expect(invariants).toContain(r!.violation!.invariant);
    const clean = await runSeed(r!.seed, { exclude: CI_EXCLUDE });
    expect(clean.violation).toBeUndefined();
  }, 600_000);
});

describe('replay', () => {
  it('a seed replays exactly: same trace, same outcome', async () => {
    const a = await runSeed(18, { exclude: CI_EXCLUDE, fullTrace: true });
    const b = await runSeed(18, { exclude: CI_EXCLUDE, fullTrace: true });
    expect(a.trace.length).toBeGreaterThan(20);
    expect(b.trace).toEqual(a.trace);
    expect(b.ok).toBe(a.ok);
  });
});
