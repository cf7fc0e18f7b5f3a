/**
 * The package's logrotate file (scripts/package/tsbeat.logrotate) against a real daemon: it
 * uses neither copytruncate nor a signal, relying on the daemon to notice within a second
 * that its log file was renamed and to open a new one. Runs one tsbeat node in a namespace with
 * logfile and debugfile, rotates both with the real logrotate and the package's file (only the
 * paths changed to the node's), then makes the daemon log (SIGUSR1: "debug level now 1") and
 * proves: the renamed files keep the old lines and are not compressed yet (delaycompress); the
 * new line lands in a new ha-log, created 0640; a second rotation compresses the first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  startTsbeat,
  waitFor,
  waitForLog,
} from '../harness/index.js';
import { REPO } from '../support/cli.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

it("the package's logrotate file rotates a running daemon's logs without losing a line", async () => {
  cluster = await createCluster({ nodes: 1 });
  const n = cluster.nodes[0] as HarnessNode;
  n.writeHaD({
    'ha.cf': haCf(n, { nodes: [n], media: ['mcast eth0 239.77.16.9 694 1 0'], initdead: 4 }),
    authkeys: authkeys('sha1', 'tsbeat-logrotate'),
    haresources: '',
  });
  const d = await startTsbeat(n, {
    args: ['--foreground'],
    env: { TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' },
  });
  await waitForLog(n, /debug level|Comm_now_up|started/i, 30_000);
  await waitFor(() => existsSync(n.debugFile), 30_000, { description: 'debugfile written' });

  const conf = join(cluster.tmpDir, 'logrotate.conf');
  const packaged = readFileSync(join(REPO, 'scripts/package/tsbeat.logrotate'), 'utf8');
  expect(packaged).toMatch(/^\/var\/log\/ha-log \/var\/log\/ha-debug \{$/m);
  expect(packaged.replace(/^#.*\n/gm, '')).not.toMatch(/copytruncate|postrotate/);
  writeFileSync(conf, packaged.replace('/var/log/ha-log /var/log/ha-debug', `${n.logFile} ${n.debugFile}`));
  const rotate = () =>
    execFileSync('logrotate', ['-f', '-s', join(cluster!.tmpDir, 'logrotate.state'), conf], {
      encoding: 'utf8',
    });

  const before = readFileSync(n.logFile, 'utf8');
  rotate();
  expect(readFileSync(`${n.logFile}.1`, 'utf8').startsWith(before)).toBe(true);
  expect(existsSync(`${n.debugFile}.1`)).toBe(true);
  expect(statSync(n.logFile).mode & 0o777).toBe(0o640);

  // Past the daemon's one-second check, a new line must go to the new file.
  await new Promise((r) => setTimeout(r, 2500));
  process.kill(d.pid, 'SIGUSR1');
  await waitFor(() => /debug level now 1 \(signal SIGUSR1\)/.test(readFileSync(n.logFile, 'utf8')), 20_000, {
    description: 'the SIGUSR1 line in the new ha-log',
  });
  expect(readFileSync(`${n.logFile}.1`, 'utf8')).not.toMatch(/signal SIGUSR1/);

  rotate();
  expect(existsSync(`${n.logFile}.2.gz`)).toBe(true);
  expect(readFileSync(`${n.logFile}.1`, 'utf8')).toMatch(/debug level now 1 \(signal SIGUSR1\)/);
}, 120_000);
