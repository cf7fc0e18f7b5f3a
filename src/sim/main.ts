// Part: `npm run sim -- --seeds N [--first F] [--seed S --trace]`: the fault campaign from the
// command line. Prints seeds/s; on a violation, the seed, the invariant, a compact trace and
// the one-line command that replays it. Exit status 1 on any violation, 2 on bad arguments.

import { FAULT_KINDS, type FaultKind, INVARIANTS, runSeed } from './campaign.js';

interface Args {
  seeds: number;
  first: number;
  seed: number | undefined;
  trace: boolean;
  exclude: FaultKind[];
}

function parseArgs(argv: readonly string[]): Args | string {
  const args: Args = { seeds: 100, first: 1, seed: undefined, trace: false, exclude: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): number | undefined => {
      const v = Number(argv[++i]);
      return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
    };
    switch (a) {
      case '--seeds': {
        const v = value();
        if (v === undefined || v < 1) return '--seeds takes a positive whole number (e.g. --seeds 1000)';
        args.seeds = v;
        break;
      }
      case '--first': {
        const v = value();
        if (v === undefined) return '--first takes a whole number (the first seed of the run)';
        args.first = v;
        break;
      }
      case '--seed': {
        const v = value();
        if (v === undefined) return '--seed takes a whole number (the seed to replay)';
        args.seed = v;
        break;
      }
      case '--trace':
        args.trace = true;
        break;
      case '--exclude': {
        for (const k of (argv[++i] ?? '').split(',').filter(Boolean)) {
          if (!(FAULT_KINDS as readonly string[]).includes(k))
            return `--exclude: unknown fault kind "${k}" (kinds: ${[...new Set(FAULT_KINDS)].join(', ')})`;
          args.exclude.push(k as FaultKind);
        }
        break;
      }
      case '-h':
      case '--help':
        return 'usage: npm run sim -- [--seeds N] [--first F] [--seed S] [--trace] [--exclude kind,...]';
      default:
        return `unknown argument "${a}" (usage: npm run sim -- [--seeds N] [--first F] [--seed S] [--trace])`;
    }
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    process.stderr.write(`tsbeat sim: ${args}\n`);
    return 2;
  }
  const seeds =
    args.seed !== undefined ? [args.seed] : Array.from({ length: args.seeds }, (_, i) => args.first + i);
  const started = performance.now();
  let splitBrains = 0;
  let splitBrainSeeds = 0;
  let virtualMs = 0;
  let failures = 0;
  for (const seed of seeds) {
    const r = await runSeed(seed, { fullTrace: args.trace, exclude: args.exclude });
    virtualMs += r.virtualMs;
    splitBrains += r.splitBrains;
    if (r.splitBrains > 0) splitBrainSeeds++;
    if (args.trace) {
      process.stdout.write(`${r.trace.join('\n')}\n`);
    }
    if (!r.ok) {
      failures++;
      const v = r.violation!;
      process.stdout.write(
        [
          `FAIL seed ${seed}: ${v.invariant} (${INVARIANTS[v.invariant]}) at ${(v.atMs / 1000).toFixed(3)} s`,
          `  ${v.detail}`,
          `  scenario: ${r.scenario}`,
          ...(args.trace ? [] : ['  trace (last lines):', ...r.trace.slice(-40).map((l) => `  ${l}`)]),
          `  replay: npm run sim -- --seed ${seed} --trace${args.exclude.length > 0 ? ` --exclude ${args.exclude.join(',')}` : ''}`,
          '',
        ].join('\n'),
      );
    }
  }
  const s = (performance.now() - started) / 1000;
  process.stdout.write(
    `${seeds.length} seeds in ${s.toFixed(1)} s (${(seeds.length / s).toFixed(1)} seeds/s, ${(virtualMs / 1000 / s).toFixed(0)} virtual s per s): ${failures} violation(s); heartbeat split brain (no STONITH, cut apart) in ${splitBrainSeeds} seed(s), ${splitBrains} episode(s)\n`,
  );
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(
      `tsbeat sim: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(70);
  },
);
