// Part: `npm run bench [-- NAME...]`: runs the named benchmarks (all by default) and prints figures.

const BENCHES: Record<string, () => Promise<{ run: (argv?: readonly string[]) => Promise<void> }>> = {
  codec: () => import('./codec.js'),
  cluster: () => import('./cluster.js'),
  ipaddr2: () => import('./ipaddr2.js'),
  director: () => import('./director.js'),
  log: () => import('./log.js'),
  fuzz: () => import('./fuzz.js'),
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  // fuzz is long (10^6 inputs) and checks robustness, not speed: only when named.
  const selected = names.length > 0 ? names : Object.keys(BENCHES).filter((n) => n !== 'fuzz');
  for (const name of selected) {
    if (/^\d+$/.test(name)) continue; // a benchmark's own argument (director sizes)
    const load = BENCHES[name];
    if (!load) {
      process.stderr.write(`bench: unknown benchmark "${name}" (have: ${Object.keys(BENCHES).join(', ')})\n`);
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`== ${name}\n`);
    await (await load()).run();
  }
}

await main();
