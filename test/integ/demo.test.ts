/**
 * README's first command: `tsbeat demo` runs a two-node cluster in network namespaces, shows
 * the cluster come up, a failover after SIGKILL and the failback (a virtual IP, run by the
 * built-in IPaddr2, moving with the service), ends with the survivor's `tsbeat explain` (the
 * takeover and the failback with their reasons), exits 0, and leaves no namespace behind.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { REPO, TSBEAT } from '../support/cli.js';

it('tsbeat demo shows start-up, failover and failback, and cleans up', () => {
  const r = spawnSync(process.execPath, [TSBEAT, 'demo'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(
    /starting tsbeat on both nodes[\s\S]*node1: \[10\.99\.0\.10 web\] {3}node2: \[db\]/,
  );
  expect(r.stdout).toMatch(/killing node1[\s\S]*node1: \[\] {3}node2: \[10\.99\.0\.10 web db\]/);
  expect(r.stdout).toMatch(/node2 \| WARN: node node1: is dead/);
  expect(r.stdout).toMatch(/restarting node1[\s\S]*node1: \[10\.99\.0\.10 web\] {3}node2: \[db\]/);
  // It ends with tsbeat explain on the survivor: the takeover and the failback, with reasons.
  expect(r.stdout).toMatch(
    /tsbeat explain on node2:\n.*\[peer-dead\] node1 silent \d+ ms on 1\/1 links [>≥] deadtime 2000 ms → took over group IPaddr2::10\.99\.0\.10\/24\/eth0 \(IPaddr2 \d+ ms, DemoService \d+ ms\) → total \d+\.\d\d s\n.*\[peer-request\] node1 asked for the groups/s,
  );
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  const tag = /network namespaces (tsd\d+)-1/.exec(r.stdout)?.[1];
  expect(tag).toBeDefined();
  expect(left).not.toContain(tag!);
}, 150_000);
