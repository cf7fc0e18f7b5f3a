/**
 * README's first command: `tsbeat demo` runs a two-node cluster in network namespaces, shows
 * the cluster come up, a failover after SIGKILL and the failback (a virtual IP, run by the
 * built-in IPaddr2, moving with the service), exits 0, and leaves no namespace behind.
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
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  const tag = /network namespaces (tsd\d+)-1/.exec(r.stdout)?.[1];
  expect(tag).toBeDefined();
  expect(left).not.toContain(tag!);
}, 150_000);
