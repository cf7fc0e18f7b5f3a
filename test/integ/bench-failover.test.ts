/**
 * A smoke of `npm run bench -- failover` (src/bench/failover.ts), not a timing test: one crash
 * run of a tsbeat pair and one of a keepalived pair at 100 ms / VRRPv3 0.1 s, with a 2 s idle
 * window. Proves that the harness brings both pairs up in their namespace machines, times the
 * takeover from the kernel's address event, splits it with the capture and tsbeat's journal,
 * measures CPU and memory of every process of a node next to the bare Node floor, writes all of
 * it as JSON, and leaves no namespace behind. The values themselves are not checked: this
 * machine is shared and loaded; the figures belong to the benchmark.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbeat-bench-failover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('one crash run each of tsbeat and keepalived gives figures for every column', () => {
  const json = join(dir, 'out.json');
  const r = spawnSync(
    process.execPath,
    [
      join(REPO, 'dist', 'bench', 'main.js'),
      'failover',
      ...['--runs', '1', '--idle', '2', '--profile', '100ms', '--kinds', 'crash'],
      ...['--only', 'tsbeat', '--only', 'keepalived', '--json', json],
    ],
    { cwd: REPO, encoding: 'utf8', timeout: 170_000 },
  );
  expect(r.stderr).toBe('');
  expect(r.status, r.stdout).toBe(0);
  const out = JSON.parse(readFileSync(json, 'utf8')) as {
    samples: Record<string, Record<string, Record<string, number[]>>>;
    notes: Record<string, Record<string, string[]>>;
  };
  // Notes are failed runs, or what a daemon logged about its timing ("said: ..."): only the latter.
  const failures = Object.values(out.notes['100ms'] ?? {})
    .flat()
    .filter((n) => !n.startsWith('said: '));
  expect(failures).toEqual([]);
  const s = out.samples['100ms']!;
  const positive = (xs: number[] | undefined): boolean =>
    xs !== undefined && xs.length > 0 && xs.every((x) => Number.isFinite(x) && x > 0);
  for (const impl of ['tsbeat', 'keepalived']) {
    expect(positive(s['crash']?.[impl]), `crash ${impl}`).toBe(true);
    expect(positive(s['silence']?.[impl]), `silence ${impl}`).toBe(true);
  }
  expect(positive(s['verdict']?.['tsbeat']), 'verdict tsbeat').toBe(true);
  for (const impl of ['tsbeat', 'keepalived', 'floor']) {
    for (const m of ['cpu', 'rss', 'pss', 'procs']) {
      expect(s[m]?.[impl]?.length, `${m} ${impl}`).toBe(2); // one figure per node
      expect(s[m]![impl]!.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
    }
  }
  expect(r.stdout).toMatch(/crash: SIGKILL of active node -> VIP on peer \(ms\) n=1/);
  const prefix = /failover: namespaces (tsf\w+)-\*/.exec(r.stdout)?.[1];
  expect(prefix).toBeDefined();
  expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(prefix!);
}, 180_000);
