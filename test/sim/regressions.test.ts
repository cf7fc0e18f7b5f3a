/**
 * Campaign seeds beyond the CI list (1..1000) that once violated an invariant with every
 * fault kind on, each run again here with the fix it led to: a regression of any of those
 * fixes shows up as the seed failing again, with the invariant, trace and replay command.
 * The seeds inside the CI list need no entry: the campaign files run them.
 */
import { describe, expect, it } from 'vitest';
import { runSeed } from '../../src/sim/campaign.js';
import { report } from './campaign-support.js';

const SEEDS: readonly (readonly [number, string])[] = [
  [1352, 'an aborted shutdown starts again only what it held'],
  [1675, "an ignored standby 'other' is answered with our stable word"],
  [1983, 'legacy: a healed partition asks for our own groups'],
  [2008, 'legacy: ask for our groups whenever a peer was heard by comm-up'],
  [3082, 'legacy: ask for our groups whenever a peer was heard by comm-up'],
  [5186, 'stuck groups are released too on a heal'],
  [5575, 'a node stopped before its comm-up asks for nothing'],
  [5856, 'a node stopped before its comm-up asks for nothing (nice mode)'],
  [5996, 'legacy: an ip-request-resp answered NO is not acquired'],
  [6363, 'legacy: after an aborted shutdown a stuck group of a live peer is not claimed'],
  [6385, 'a start-up negotiation cut off is said again when the peer comes back'],
  [7407, 'legacy: ask for our groups whenever a peer was heard by comm-up'],
  [6838, "an aborted shutdown claims a stuck group's class only if the peer does not"],
  [7153, 'a cut-off start-up negotiation says `starting` again, without an unstable announcement'],
  [7688, "an aborted shutdown claims a stuck group's class only if the peer does not"],
  [7951, 'an aborted shutdown does not take back what the peer took'],
  [8012, "an aborted shutdown claims a stuck group's class only if the peer does not"],
];

describe('campaign seeds beyond the CI list that once failed', () => {
  it.each(SEEDS)('seed %i (%s) passes', async (seed) => {
    const r = await runSeed(seed);
    expect(r.ok, r.ok ? '' : report(r)).toBe(true);
  });
});
