// Part: `npm run bench [-- NAME...]`: runs the named benchmarks (all by default) and prints figures.

const BENCHES: Record<string, () => Promise<{ run: (argv?: readonly string[]) => Promise<void> }>> = {
  codec: () => import('./codec.js'),
  cluster: () => import('./cluster.js'),
  ipaddr2: () => import('./ipaddr2.js'),
  director: () => import('./director.js'),
  log: () => import('./log.js'),
  fuzz: () => import('./fuzz.js'),
  failover: () => import('./failover.js'),
  load: () => import('./load.js'),
};
/** Long or robustness-only benchmarks: run only when named. */
const ONLY_WHEN_NAMED = new Set(['fuzz', 'failover', 'load']);

async function main(): Promise<void> {
  // Benchmark names come first; from the first option on, the arguments belong to the benchmarks
  // (e.g. `failover --runs 3 --json out.json`).
  const all = process.argv.slice(2);
  const firstOption = all.findIndex((a) => a.startsWith('-'));
  const names = firstOption < 0 ? all : all.slice(0, firstOption);
  const options = firstOption < 0 ? [] : all.slice(firstOption);
  // fuzz is long (10^6 inputs) and checks robustness, failover and load take minutes: only when named.
  const selected = names.length > 0 ? names : Object.keys(BENCHES).filter((n) => !ONLY_WHEN_NAMED.has(n));
  for (const name of selected) {
    if (/^\d+$/.test(name)) continue; // a benchmark's own argument (director sizes)
    const load = BENCHES[name];
    if (!load) {
      process.stderr.write(`bench: unknown benchmark "${name}" (have: ${Object.keys(BENCHES).join(', ')})\n`);
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`== ${name}\n`);
    const bench = await load();
    // Without options a benchmark keeps its own defaults (director reads its sizes itself).
    await (options.length > 0 ? bench.run(options) : bench.run());
  }
}

await main();
