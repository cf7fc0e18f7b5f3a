/**
 * Observability of a real two-node tsbeat cluster in namespaces (issue 16 items 2-4 and 6).
 * One cluster, two media (mcast on eth0 and eth1), cluster-glue's `null` STONITH plugin (never
 * a real device), tsbeat.cf on node1 with the metrics listener and a JSON log. Node2's
 * haresources carries one group more than node1's (configuration drift). The steps, in order:
 * - the config digest: node1 warns in its log, in `tsbeat status` (text and JSON
 *   `configMismatch`) and in the metrics that node2's haresources differs, naming the file;
 * - the metrics endpoint: its text passes the real `promtool check metrics`, and a real
 *   Prometheus server (Debian's binary, run by this test inside node1 on loopback with its
 *   own config and data dir, stopped by pid) scrapes it as OpenMetrics and answers queries;
 * - a crash failover with fencing: node2 is SIGKILLed; `tsbeat explain` on node1 tells
 *   "node2 silent N ms on 2/2 links > deadtime 3000 ms → fenced node2 via null (N ms) →
 *   took over group HarnessRes::b (HarnessRes N ms) → total N s", and the same as JSON;
 *   Prometheus then sees the takeover and the fence;
 * - the JSON log has node, link, group, reason and duration fields.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/ipc/schema.js';
import {
  authkeys,
  type Cluster,
  createCluster,
  type Daemon,
  type HarnessNode,
  haCf,
  kill,
  logMark,
  readLog,
  type SpawnedProcess,
  startTsbeat,
  testResourceScript,
  waitFor,
  waitForLog,
} from '../harness/index.js';

const TSBEAT = `${process.cwd()}/dist/cli/tsbeat.js`;
const METRICS_PORT = 9694;
const PROM_PORT = 19090;

let cluster: Cluster | undefined;
let prometheus: SpawnedProcess | undefined;
let a: HarnessNode;
let b: HarnessNode;
let daemonA: Daemon;

const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const runs = async (n: HarnessNode, r: string) =>
  (await n.exec(['test', '-f', `/run/HarnessRes-${r}`])).code === 0;

/** GET a URL from inside a node (its loopback is its own); body, or throws with the status. */
async function get(n: HarnessNode, url: string, accept = 'text/plain'): Promise<string> {
  const script = `fetch(${JSON.stringify(url)},{headers:{accept:${JSON.stringify(accept)}}}).then(async r=>{process.stdout.write(await r.text());process.exit(r.ok?0:1)},e=>{console.error(String(e));process.exit(2)})`;
  const r = await n.exec([process.execPath, '-e', script], { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`GET ${url}: ${r.code} ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A PromQL instant query through the test's Prometheus: each sample's labels and value. */
async function query(q: string): Promise<{ metric: Record<string, string>; value: number }[]> {
  const body = await get(a, `http://127.0.0.1:${PROM_PORT}/api/v1/query?query=${encodeURIComponent(q)}`);
  const r = JSON.parse(body) as {
    status: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  expect(r.status).toBe('success');
  return r.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
}

async function tsbeat(n: HarnessNode, args: string[]) {
  return n.exec([process.execPath, TSBEAT, ...args], { env: env(n), timeoutMs: 20_000 });
}

beforeAll(async () => {
  cluster = await createCluster({ nodes: 2, networks: 2 });
  [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
  for (const n of cluster.nodes) {
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes: cluster.nodes,
        media: ['mcast eth0 239.77.6.1 694 1 0', 'mcast eth1 239.77.6.2 694 1 0'],
        keepalive: 1,
        deadtime: 3,
        warntime: 2,
        initdead: 10,
        extra: ['stonith_host * null node1 node2'],
      }),
      authkeys: authkeys('sha1', 'tsbeat-observe'),
      // The drift: node2 knows a group node1 does not.
      haresources: `node1 HarnessRes::a\nnode2 HarnessRes::b\n${n === b ? 'node2 HarnessRes::c\n' : ''}`,
      'resource.d/HarnessRes': testResourceScript('HarnessRes'),
      ...(n === a
        ? {
            'tsbeat.cf': `# tsbeat only\nmetrics 127.0.0.1:${METRICS_PORT}\nlogjson ${join(n.dir, 'tsbeat.json')}\n`,
          }
        : {}),
    });
  }
  [daemonA] = await Promise.all([
    startTsbeat(a, { args: ['--foreground'], env: env(a) }),
    startTsbeat(b, { args: ['--foreground'], env: env(b) }),
  ]);
  for (const [n, r] of [
    [a, 'a'],
    [b, 'b'],
  ] as const)
    await waitFor(() => runs(n, r), 40_000, { description: `${r} runs on ${n.name}` });
}, 120_000);

afterAll(async () => {
  if (prometheus?.exitInfo() === undefined && prometheus?.pid) {
    try {
      process.kill(prometheus.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await cluster?.destroy();
});

describe('observability of a two-node tsbeat cluster', { timeout: 180_000 }, () => {
  it("config digest: node2's different haresources is named in node1's log, status and metrics", async () => {
    const line = await waitForLog(a, /configuration differs from node node2's/, 30_000);
    expect(line).toContain("WARN: configuration differs from node node2's: /etc/ha.d/haresources (");
    expect(/differs from node node2's: (.*?) \(/.exec(line)?.[1]).toBe('/etc/ha.d/haresources');
    const json = await tsbeat(a, ['status', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as StatusReport).configMismatch).toEqual([
      { node: 'node2', files: ['haresources'] },
    ]);
    const text = await tsbeat(a, ['status']);
    expect(text.stdout).toContain('WARNING: configuration differs from node node2: haresources');
    const metrics = await get(a, `http://127.0.0.1:${METRICS_PORT}/metrics`);
    expect(metrics).toContain('tsbeat_config_mismatch{node="node2",file="haresources"} 1');
    // Node2 hears node1's digest too.
    await waitForLog(b, /configuration differs from node node1's: .*haresources/, 30_000);
  });

  it('metrics: promtool check metrics passes; a real Prometheus scrapes the endpoint as OpenMetrics', async () => {
    const text = await get(a, `http://127.0.0.1:${METRICS_PORT}/metrics`);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(
      lint.error,
      'promtool missing: apt-get install prometheus (scripts/install-deps.sh)',
    ).toBeUndefined();
    expect(`${lint.stdout}${lint.stderr}`).toBe('');
    expect(lint.status).toBe(0);
    for (const family of [
      'tsbeat_node_up',
      'tsbeat_link_up',
      'tsbeat_link_last_heard_seconds',
      'tsbeat_late_heartbeats_total',
      'tsbeat_generation',
      'tsbeat_group_owned',
      'tsbeat_takeovers_total',
      'tsbeat_failbacks_total',
      'tsbeat_agent_action_duration_seconds',
      'tsbeat_fence_attempts_total',
      'tsbeat_rejected_input_total',
    ])
      expect(text).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
    const om = await get(
      a,
      `http://127.0.0.1:${METRICS_PORT}/metrics`,
      'application/openmetrics-text;version=1.0.0',
    );
    expect(om.endsWith('# EOF\n')).toBe(true);
    expect(om).toMatch(/^# TYPE tsbeat_takeovers counter$/m);

    const dir = join(a.dir, 'prometheus');
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: tsbeat\n    static_configs:\n      - targets: ['127.0.0.1:${METRICS_PORT}']\n`,
    );
    prometheus = await a.spawn(
      [
        '/usr/bin/prometheus',
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${PROM_PORT}`,
        '--web.console.templates=/nonexistent',
        '--web.console.libraries=/nonexistent',
      ],
      { label: 'prometheus' },
    );
    await waitFor(
      async () => {
        try {
          return (await query('up{job="tsbeat"}')).some((s) => s.value === 1);
        } catch {
          return false;
        }
      },
      60_000,
      { description: 'Prometheus scraped tsbeat (up == 1)', intervalMs: 1000 },
    );
    const targets = JSON.parse(await get(a, `http://127.0.0.1:${PROM_PORT}/api/v1/targets`)) as {
      data: { activeTargets: { health: string; lastError: string }[] };
    };
    expect(targets.data.activeTargets).toEqual([expect.objectContaining({ health: 'up', lastError: '' })]);
    await waitFor(
      async () => (await query('tsbeat_node_up{node="node2"}')).some((s) => s.value === 1),
      30_000,
      {
        description: 'node2 up in Prometheus',
      },
    );
    const links = await query('tsbeat_link_up{node="node2"}');
    expect(links.map((s) => [s.metric['link'], s.value]).sort()).toEqual([
      ['eth0', 1],
      ['eth1', 1],
    ]);
  });

  it('crash failover with fencing: tsbeat explain tells why, step by step', async () => {
    const mark = logMark(a);
    await kill(b, 'SIGKILL'); // its group keeps running on the machine: fencing is needed
    await waitForLog(a, /node node2 now reset\./, 30_000, { since: mark });
    await waitFor(() => runs(a, 'b'), 30_000, { description: 'b taken over by node1' });
    await waitForLog(a, /ownership change: \[peer-dead\]/, 30_000, { since: mark });
    const text = await tsbeat(a, ['explain']);
    expect(text.code, text.stderr).toBe(0);
    // Kept with the node's logs (TSBEAT_HARNESS_KEEP=1) for whoever reads a failure.
    writeFileSync(join(a.dir, 'explain.txt'), text.stdout);
    const line = text.stdout.split('\n').find((l) => l.includes('[peer-dead]'));
    expect(line).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z \[peer-dead\] node2 silent (\d+) ms on 2\/2 links [>≥] deadtime 3000 ms → fenced node2 via null \(\d+ ms\) → took over group HarnessRes::b \(HarnessRes \d+ ms\) → total \d+\.\d\d s$/,
    );
    const silent = Number(/silent (\d+) ms/.exec(line ?? '')![1]);
    expect(silent).toBeGreaterThanOrEqual(3000);
    // The comm-up start of node1's own group is there too.
    expect(text.stdout).toMatch(/\[comm-up\] .* → started group HarnessRes::a \(HarnessRes \d+ ms\)/);

    const json = await tsbeat(a, ['explain', '--json']);
    const episodes = (JSON.parse(json.stdout) as { episodes: Record<string, unknown>[] }).episodes;
    const ep = episodes.find((e) => e['reason'] === 'peer-dead')!;
    expect(ep).toMatchObject({
      action: 'acquire',
      groups: ['HarnessRes::b'],
      peer: 'node2',
      outcome: 'done',
    });
    expect((ep['steps'] as { kind: string }[]).map((s) => s.kind)).toEqual(['silent', 'fence', 'resources']);
    expect(ep['totalMs'] as number).toBeGreaterThanOrEqual(silent);

    // --since after the failover: nothing; a bad --since: usage error.
    expect((await tsbeat(a, ['explain', '--since', '2099-01-01T00:00'])).stdout).toBe(
      'no ownership change recorded in this period\n',
    );
    expect((await tsbeat(a, ['explain', '--since', 'yesterday'])).code).toBe(2);
  });

  it('Prometheus sees the takeover and the fence', async () => {
    await waitFor(async () => (await query('tsbeat_takeovers_total')).some((s) => s.value >= 1), 30_000, {
      description: 'tsbeat_takeovers_total >= 1 in Prometheus',
    });
    expect(await query('tsbeat_fence_attempts_total{node="node2"}')).toEqual([
      expect.objectContaining({ value: 1 }),
    ]);
    expect(await query('tsbeat_node_up{node="node2"}')).toEqual([expect.objectContaining({ value: 0 })]);
    expect((await query('tsbeat_group_owned{group="HarnessRes::b"}'))[0]?.value).toBe(1);
    const durations = await query('tsbeat_takeover_duration_seconds_sum');
    expect(durations[0]?.value).toBeGreaterThanOrEqual(3);
  });

  it('the JSON log carries node, link, group, reason and duration fields', () => {
    const records = readFileSync(join(a.dir, 'tsbeat.json'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.every((r) => typeof r['time'] === 'number' && r['localNode'] === 'node1')).toBe(true);
    expect(records.find((r) => r['msg'] === 'node node2: is dead')).toMatchObject({
      node: 'node2',
      silentMs: expect.any(Number),
    });
    expect(records.find((r) => r['msg'] === 'Link node2:eth1 dead.')).toMatchObject({
      node: 'node2',
      link: 'eth1',
      status: 'dead',
    });
    expect(records.find((r) => r['reason'] === 'peer-dead')).toMatchObject({
      group: 'HarnessRes::b',
      node: 'node2',
      durationMs: expect.any(Number),
    });
    // The heartbeat-format logfile has the same event in heartbeat's words.
    expect(readLog(a)).toMatch(/heartbeat: \[\d+\]: WARN: node node2: is dead/);
  });

  it('logrotate (rename, then SIGHUP as its postrotate does): both logs go on in new files', async () => {
    const json = join(a.dir, 'tsbeat.json');
    renameSync(a.logFile, `${a.logFile}.1`);
    renameSync(json, `${json}.1`);
    await kill(daemonA, 'SIGHUP');
    await waitForLog(a.logFile, /info: Configuration unchanged\./, 20_000);
    await waitFor(
      () => existsSync(json) && readFileSync(json, 'utf8').includes('"msg":"Configuration unchanged."'),
      20_000,
      {
        description: 'the JSON log reopened',
      },
    );
    expect(readFileSync(`${json}.1`, 'utf8')).not.toContain('Configuration unchanged.');
  });
});
