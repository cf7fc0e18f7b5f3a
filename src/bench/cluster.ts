// Part: `npm run bench -- cluster` (root): a real two-node tsbeat pair in namespaces. Prints
// the time from SIGKILL of the node holding a service to the service running on the survivor,
// how late the survivor's "is dead" verdict came relative to deadtime, the daemon's memory
// (RSS) and its idle CPU per minute. The comparison with heartbeat 3.0.6 and keepalived, all
// measured in the same run, is `npm run bench -- failover` (failover.ts).

import { readFileSync } from 'node:fs';
import { LocalPair } from '../lab/pair.js';

const ROUNDS = 5;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export async function run(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write('cluster: skipped (needs root for network namespaces)\n');
    return;
  }
  const pair = new LocalPair({ keepalive: '1', deadtime: '3', warntime: '2', initdead: '10' });
  try {
    const [n1, n2] = pair.nodes;
    pair.start(n1);
    pair.start(n2);
    if (!(await pair.waitUntil(() => pair.where() === 'node1: [web]   node2: [db]', 40_000)))
      throw new Error('pair did not come up');

    // Footprint and idle CPU, steady state.
    await new Promise((r) => setTimeout(r, 3000));
    const pid = pair.daemonPid(n2)!;
    const t0 = cpuTicks(pid);
    await new Promise((r) => setTimeout(r, 30_000));
    const cpuSPerMin = ((cpuTicks(pid) - t0) / 100) * 2;
    const rss = rssKb(pid);

    const failover: number[] = [];
    const lateness: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // A node advertises deadtime + 2 s in its first 5 s (as heartbeat does): let it age past
      // that, then kill at a random point of the keepalive cycle.
      await new Promise((r) => setTimeout(r, 6000 + Math.random() * 1000));
      const logBefore = pair.log(n2).length;
      const t = performance.now();
      pair.crash(n1);
      await pair.waitUntil(() => pair.runs(n2, 'web'), 20_000, 5);
      failover.push(performance.now() - t);
      const m = /node node1: last heartbeat (\d+) ms ago \(limit (\d+) ms\)/.exec(
        pair.log(n2).slice(logBefore),
      );
      if (m) lateness.push(Number(m[1]) - Number(m[2]));
      pair.start(n1);
      await pair.waitUntil(() => pair.where() === 'node1: [web]   node2: [db]', 40_000);
    }
    const row = (name: string, ours: string): string => `  ${name.padEnd(44)} ${ours.padStart(14)}\n`;
    process.stdout.write(
      `  (tsbeat alone, keepalive 1 s, deadtime 3 s; ${ROUNDS} failovers; side by side with heartbeat and keepalived: npm run bench -- failover)\n`,
    );
    process.stdout.write(
      row('SIGKILL -> service on survivor, median', `${(median(failover) / 1000).toFixed(3)} s`),
    );
    process.stdout.write(
      row(
        '  min..max',
        `${(Math.min(...failover) / 1000).toFixed(3)}..${(Math.max(...failover) / 1000).toFixed(3)} s`,
      ),
    );
    process.stdout.write(
      row('"is dead" after deadtime, max', `${lateness.length ? Math.max(...lateness) : Number.NaN} ms`),
    );
    process.stdout.write(row('daemon RSS (main process only)', `${(rss / 1024).toFixed(1)} MB`));
    process.stdout.write(row('idle CPU (main process only)', `${cpuSPerMin.toFixed(2)} s/min`));
  } finally {
    pair.destroy();
  }
}
