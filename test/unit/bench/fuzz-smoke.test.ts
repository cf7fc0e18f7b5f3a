/**
 * A small smoke of the fuzzer behind `npm run fuzz` (src/bench/fuzz.ts): 1,000 generated or
 * mutated inputs for each parser of untrusted input (frames, the membership receive path,
 * IPC request lines, ha.cf, haresources, authkeys), seeded from test/fixtures. Proves the
 * harness still builds every target and that none of these inputs makes a parser throw or
 * print a JS artefact ("undefined", "NaN") in a diagnostic. The full run (10^6 inputs) is a
 * benchmark-style job, not part of this suite.
 */
import { describe, expect, it } from 'vitest';
import { fuzzTargets, runFuzz } from '../../../src/bench/fuzz.js';

describe('fuzz smoke', () => {
  it('every target: 1,000 inputs, no crash, no oracle failure', () => {
    const { reports, findings } = runFuzz({ seed: 7, inputs: 1000 });
    expect(reports.map((r) => r.target)).toEqual(fuzzTargets().map((t) => t.name));
    expect(findings.map((f) => `${f.target} #${f.index}: ${f.error.split('\n')[0]}`)).toEqual([]);
    for (const r of reports) {
      expect(r.crashes + r.oracleFailures).toBe(0);
      // The generator reaches more than one outcome class per target (it is not stuck on one).
      expect(Object.keys(r.outcomes).length, r.target).toBeGreaterThan(1);
    }
  });

  it('a parser that throws is counted as a crash, with a replayable input', () => {
    const ipc = fuzzTargets().find((x) => x.name === 'ipc')!;
    // The real IPC target, broken on purpose: it throws on every input of even length.
    const broken = {
      ...ipc,
      name: 'broken-ipc',
      run: (i: Uint8Array) => {
        if (i.length % 2 === 0) throw new TypeError('boom');
        return ipc.run(i);
      },
    };
    const { reports, findings } = runFuzz({ seed: 7, inputs: 200, targetList: [broken] });
    expect(reports[0]!.crashes).toBeGreaterThan(0);
    const f = findings[0]!;
    expect(f).toMatchObject({ target: 'broken-ipc', kind: 'crash' });
    expect(f.error).toMatch(/TypeError: boom/);
    expect(Buffer.from(f.inputBase64, 'base64').length % 2).toBe(0);
  });
});
