/**
 * `tsbeat status` for people and for scripts. Proves: the human view shows every node with
 * type, status, generation, weight and last-heard age (this node marked), every link with its
 * state and age, every resource group with preferred node, owner, state and resources, the
 * timing parameters with the worst-case takeover time they imply, and the latest events,
 * aligned in columns, with sensible words for what is missing; `--json` prints the daemon's
 * report unchanged (format tsbeat-status/1, nulls rather than missing keys); tsbeat(8)
 * documents every key of that JSON; rejected input shows as one line only when some was
 * counted; the built command exits 0 with a daemon, 3 without one, 4 when the daemon does not
 * answer or (alive by its pid file) is too busy or has no socket, 2 for a bad option, 0 for
 * --help; as root it asks control.sock, so a full api.sock does not keep it out.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDuration, renderStatus } from '../../../src/cli/status.js';
import { type ApiServers, startApiServers, statusReport } from '../../../src/ipc/api.js';
import type { StatusReport } from '../../../src/ipc/schema.js';
import { REPO } from '../../support/cli.js';
import { FakeView, labNode, pingNode } from '../ipc/fake-view.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-status-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const at = (h: number, m: number, s: number) => new Date(2026, 10, 22, h, m, s).toISOString();

function labView(): FakeView {
  return new FakeView({
    local: 'node1',
    nodes: [
      labNode('node1', {
        generation: 7,
        lastHeardAgoMs: 0,
        links: [{ name: 'eth0', status: 'up', lastHeardAgoMs: 310 }],
      }),
      labNode('node2', {
        generation: 12,
        lastHeardAgoMs: 640,
        links: [
          { name: 'eth0', status: 'up', lastHeardAgoMs: 640 },
          { name: '/dev/ttyS0', status: 'dead', lastHeardAgoMs: undefined },
        ],
      }),
      pingNode('10.0.0.254'),
    ],
    groups: [
      {
        key: 'IPaddr2::10.0.0.10/24/eth0',
        preferredNode: 'node1',
        resources: ['IPaddr2::10.0.0.10/24/eth0', 'Filesystem::/dev/drbd0::/srv::ext4'],
        runningOn: 'node1',
        state: 'running',
      },
      {
        key: 'Dummy::b',
        preferredNode: 'node2',
        resources: ['Dummy::b'],
        runningOn: 'node2',
        state: 'stopped',
      },
    ],
    events: [
      { at: at(20, 31, 18), level: 'info', message: 'node node2: init -> active' },
      { at: at(20, 35, 2), level: 'warn', message: 'link node2:/dev/ttyS0 dead' },
    ],
  });
}

describe('the human view', () => {
  it('shows nodes, links, groups, timing, events', () => {
    const report = { ...statusReport(labView()), pid: 4242, startedAt: at(20, 31, 0) };
    expect(renderStatus(report)).toBe(
      `tsbeat 0.1.0 on node1: cluster linux-ha, generation 7, pid 4242, started 2026-11-22 20:31:00
communication up; resources managed by haresources, this node holds its local resources

Nodes:
  NODE               TYPE    STATUS  GENERATION  WEIGHT  LAST HEARD
  node1 (this node)  normal  active  7           100     -
  node2              normal  active  12          100     640ms ago
  10.0.0.254         ping    ping    -           100     800ms ago

Links:
  NODE        LINK        STATE  LAST HEARD
  node1       eth0        up     310ms ago
  node2       eth0        up     640ms ago
  node2       /dev/ttyS0  dead   never
  10.0.0.254  10.0.0.254  up     800ms ago

Resource groups:
  GROUP                       PREFERRED  RUNS ON  STATE HERE  RESOURCES
  IPaddr2::10.0.0.10/24/eth0  node1      node1    running     IPaddr2::10.0.0.10/24/eth0 Filesystem::/dev/drbd0::/srv::ext4
  Dummy::b                    node2      node2    stopped     Dummy::b

Fencing:
  not configured; groups on shared storage (drbddisk, Filesystem, LVM, Raid1) are not taken over
  from a dead peer

Timing:
  keepalive 1s, warntime 2s, deadtime 3s, initdead 10s
  worst-case takeover: a failed peer is declared dead 3s after its last heartbeat (10s while the
  cluster starts), then its groups start here; heartbeat 3.0.6 may take up to 4s to notice

Recent events:
  2026-11-22 20:31:18  info   node node2: init -> active
  2026-11-22 20:35:02  warn   link node2:/dev/ttyS0 dead
`,
    );
  });

  it('says what is missing or not yet there', () => {
    const v = new FakeView({
      local: 'node1',
      nodes: [labNode('node1', { status: 'up', links: [] })],
      commUp: false,
    });
    v.managed = false;
    const text = renderStatus({ ...statusReport(v), generation: null });
    expect(text).toContain('tsbeat 0.1.0 on node1: cluster linux-ha, pid');
    expect(text).toContain(
      'communication not up yet (waiting for initdead); resources managed by haresources, this node holds nothing (resource management off)\n',
    );
    expect(text).toContain('Links:\n  none\n');
    expect(text).toContain('Resource groups:\n  none (haresources has no groups)\n');
    expect(text).toContain('Recent events:\n  none\n');
    v.params['pacemaker'] = 'on';
    expect(renderStatus(statusReport(v))).toContain('; resources managed by Pacemaker\n');
  });

  it('shows the fencing device, the race policy and the last results', () => {
    const v = labView();
    const report = statusReport(v);
    const fenced = renderStatus({
      ...report,
      fencing: {
        configured: true,
        device: 'external/ipmi (via cluster-glue stonith)',
        preferredSurvivor: 'node2',
        delayMs: 5000,
        takeoverWithoutFencing: false,
        lastCheck: { at: at(20, 31, 5), ok: true, detail: '' },
        lastFence: {
          at: at(20, 40, 0),
          node: 'node2',
          ok: false,
          detail: 'exit 1: power switch unreachable',
        },
      },
    });
    expect(fenced).toContain(
      'Fencing:\n  device external/ipmi (via cluster-glue stonith)\n' +
        '  preferred survivor node2; this node waits 5s before fencing\n' +
        '  device check 2026-11-22 20:31:05: operational\n' +
        '  last reset 2026-11-22 20:40:00: node2 NOT reset (exit 1: power switch unreachable)\n',
    );
    const allowed = renderStatus({
      ...report,
      fencing: { ...report.fencing, takeoverWithoutFencing: true },
    });
    expect(allowed.replace(/\n {2}/g, ' ')).toContain(
      'taken over without fencing (takeover_without_fencing is on)',
    );
  });

  it('shows rejected input in one line, only when some was counted', () => {
    const report = statusReport(labView());
    expect(renderStatus(report)).not.toContain('rejected');
    const text = renderStatus({
      ...report,
      rejected: { ...report.rejected, ipcTimeout: 64, replay: 3, ipcBusy: 12 },
    });
    expect(text).toContain(
      'communication up; resources managed by haresources, this node holds its local resources\n' +
        'rejected input since start: replay 3, ipcBusy 12, ipcTimeout 64 (details in the log)\n\nNodes:\n',
    );
  });

  it('shows at most the last 10 events', () => {
    const v = labView();
    v.events = Array.from({ length: 15 }, (_, i) => ({
      at: at(21, 0, i),
      level: 'info' as const,
      message: `e${i}`,
    }));
    const lines = renderStatus(statusReport(v)).split('Recent events:\n')[1]!.trimEnd().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/ e5$/);
    expect(lines[9]).toMatch(/ e14$/);
  });

  it('formats durations for people', () => {
    expect([0, 999, 1000, 2500, 9999, 10_000, 119_000, 125_000, 7_300_000].map(formatDuration)).toEqual([
      '0ms',
      '999ms',
      '1s',
      '2.5s',
      '10s',
      '10s',
      '119s',
      '2m05s',
      '2h01m',
    ]);
  });
});

describe('the JSON shape', () => {
  it('is documented key by key in tsbeat(8)', () => {
    const page = readFileSync(join(REPO, 'man/tsbeat.8'), 'utf8');
    const section = page.slice(
      page.indexOf('.SH TSBEAT STATUS'),
      page.indexOf('.SH', page.indexOf('.SH TSBEAT STATUS') + 5),
    );
    const r = statusReport(labView());
    const keys = new Set<string>([
      ...Object.keys(r),
      ...Object.keys(r.timing),
      ...Object.keys(r.nodes[0]!),
      ...Object.keys(r.nodes[0]!.links[0]!),
      ...Object.keys(r.groups[0]!),
      ...Object.keys(r.events[0]!),
      ...Object.keys(r.fencing),
      ...Object.keys(r.rejected),
      'at',
      'node',
      'ok',
      'detail',
    ]);
    const documented = [...section.matchAll(/^\.BR? (\w+)\b/gm)].map((m) => m[1]);
    expect([...keys].filter((k) => !documented.includes(k))).toEqual([]);
    expect(section).toContain('tsbeat\\-status/1');
  });
});

describe('the built command', () => {
  let view: FakeView;
  let servers: ApiServers;
  beforeAll(async () => {
    view = labView();
    servers = await startApiServers(view, join(tmp, 'run'));
  });
  afterAll(() => servers.close());

  const tsbeat = (args: string[], runDir = join(tmp, 'run')) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['dist/cli/tsbeat.js', ...args],
        { cwd: REPO, encoding: 'utf8', timeout: 20_000, env: { ...process.env, TSBEAT_RUNDIR: runDir } },
        (err, stdout, stderr) =>
          resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
      );
    });

  it('status and status --json', async () => {
    const human = await tsbeat(['status']);
    expect(human.status).toBe(0);
    expect(human.stdout).toBe(renderStatus(statusReport(view)));
    const json = await tsbeat(['status', '--json']);
    expect(json.status).toBe(0);
    const parsed = JSON.parse(json.stdout) as StatusReport;
    expect(parsed).toEqual(statusReport(view));
    expect(json.stdout).toContain('"lastHeardAgoMs": null');
  });

  it('exit statuses: 3 not running, 4 no answer, 2 usage, 0 help', async () => {
    const none = await tsbeat(['status'], join(tmp, 'nothing'));
    expect(none).toEqual({
      status: 3,
      stdout: '',
      stderr: `tsbeat: not running (nothing answers on ${join(tmp, 'nothing', 'api.sock')})\n`,
    });
    const silentDir = join(tmp, 'silent');
    const server = createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((resolve) => {
      import('node:fs').then((fs) => {
        fs.mkdirSync(silentDir, { recursive: true });
        server.listen(join(silentDir, 'api.sock'), resolve);
      });
    });
    try {
      const silent = await tsbeat(['status'], silentDir);
      expect(silent.status).toBe(4);
      expect(silent.stderr).toMatch(/did not answer within 5 s/);
    } finally {
      server.close();
    }
    expect((await tsbeat(['status', '--bogus'])).status).toBe(2);
  });

  it('alive by its pid file: 4 with a clear message when busy or without a socket, never "not running"', async () => {
    const dir = join(tmp, 'busy');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tsbeat.pid'), `${process.pid}\n`);
    const none = await tsbeat(['status'], dir);
    expect(none).toEqual({
      status: 4,
      stdout: '',
      stderr: `tsbeat: the daemon (pid ${process.pid}) runs, but nothing answers on ${join(dir, 'api.sock')}: it may still be starting, or its socket was removed (restart it)\n`,
    });
    const server = createServer((s) => {
      s.on('error', () => undefined);
      s.on('data', (d) =>
        s.write(
          `${JSON.stringify({ v: 1, id: JSON.parse(d.toString().split('\n')[0]!).id, ok: false, error: { code: 'busy', message: 'too many clients (64); try again' } })}\n`,
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(join(dir, 'api.sock'), resolve));
    try {
      const busy = await tsbeat(['status'], dir);
      expect(busy).toEqual({
        status: 4,
        stdout: '',
        stderr: `tsbeat: the daemon (pid ${process.pid}) is too busy to answer (too many clients (64); try again); try again\n`,
      });
    } finally {
      server.close();
    }
  });

  it('asks the control socket first: a full api.sock is not even touched', async () => {
    const v = labView();
    const dir = join(tmp, 'full');
    const s = await startApiServers(v, dir, { limits: { maxClients: 1, requestMs: 30_000 } });
    try {
      // api.sock's only slot is held by a client that sends nothing. A client of api.sock would
      // evict it (and count ipcBusy); root's tsbeat status goes to control.sock instead.
      const hog = await import('node:net').then(({ connect }) => connect(s.readSocket));
      let evicted = false;
      hog.on('error', () => undefined);
      hog.on('close', () => {
        evicted = true;
      });
      await new Promise((r) => hog.once('connect', r));
      const json = await tsbeat(['status', '--json'], dir);
      expect(json.status).toBe(0);
      expect((JSON.parse(json.stdout) as StatusReport).node).toBe('node1');
      expect(evicted).toBe(false);
      expect(s.rejected.snapshot().ipcBusy).toBe(0);
      hog.destroy();
    } finally {
      await s.close();
    }
    const help = await tsbeat(['status', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: tsbeat status \[--json\]/);
  });
});
