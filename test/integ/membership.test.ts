/**
 * Two tsbeat daemons in network namespaces, for each medium (mcast, bcast, ucast, serial,
 * and mcast + serial together): both reach `active` for each other; SIGKILL of one makes
 * the other declare it dead once deadtime has passed since the last heartbeat heard from it
 * and no more than 50 ms later, by the daemon's own monotonic clock (its log line states both
 * figures); started again, it returns with a new generation and is active again. With two
 * media, cutting one kills that link only, and warntime produces a late-heartbeat warning.
 * Needs root and scripts/install-deps.sh packages; always tears the namespaces down.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  createSerialPair,
  type HarnessNode,
  haCf,
  kill,
  linkDown,
  linkUp,
  logMark,
  pause,
  resume,
  startTsbeat,
  waitFor,
  waitForLog,
} from '../harness/index.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

function env(node: HarnessNode): Record<string, string> {
  return { TSBEAT_STATEDIR: `${node.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' };
}

function start(node: HarnessNode) {
  return startTsbeat(node, { args: ['--foreground'], env: env(node) });
}

interface StatusJson {
  generation: number;
  nodes: {
    name: string;
    status: string;
    generation?: number;
    deadtimeMs: number;
    links: { name: string; status: string }[];
  }[];
}

async function status(node: HarnessNode): Promise<StatusJson | undefined> {
  const r = await node.exec([process.execPath, `${process.cwd()}/dist/cli/tsbeat.js`, 'status', '--json'], {
    env: env(node),
  });
  return r.code === 0 ? (JSON.parse(r.stdout) as StatusJson) : undefined;
}

async function sees(viewer: HarnessNode, other: string, want: string): Promise<void> {
  await waitFor(
    async () => (await status(viewer))?.nodes.find((n) => n.name === other)?.status === want,
    60_000,
    {
      description: `${viewer.name} sees ${other} ${want}`,
      intervalMs: 300,
    },
  );
}

function configure(
  nodes: readonly HarnessNode[],
  media: (n: HarnessNode) => string[],
  extra: string[] = [],
): void {
  for (const node of nodes) {
    node.writeHaD({
      'ha.cf': haCf(node, {
        nodes,
        media: media(node),
        keepalive: 1,
        deadtime: 4,
        warntime: 2,
        initdead: 10,
        extra,
      }),
      authkeys: authkeys('sha1', 'tsbeat-membership'),
      haresources: '',
    });
  }
}

/** Kill node b, check a's verdict time, restart b, check it returns with a new generation. */
async function killAndReturn(a: HarnessNode, b: HarnessNode, deadtimeMs: number): Promise<void> {
  const before = (await status(b))!.generation;
  // In its first 5 s a node advertises deadtime + 2 s (as heartbeat does); wait until it is past that.
  await waitFor(
    async () => (await status(a))?.nodes.find((n) => n.name === b.name)?.deadtimeMs === deadtimeMs,
    20_000,
    {
      description: `${a.name} uses ${b.name}'s deadtime ${deadtimeMs} ms`,
    },
  );
  const mark = logMark(a);
  await kill(b, 'SIGKILL');
  const line = await waitForLog(
    a,
    new RegExp(`node ${b.name}: last heartbeat (\\d+) ms ago \\(limit (\\d+) ms\\)`),
    30_000,
    { since: mark },
  );
  const m = /last heartbeat (\d+) ms ago \(limit (\d+) ms\)/.exec(line)!;
  const silent = Number(m[1]);
  const limit = Number(m[2]);
  expect(limit).toBe(deadtimeMs);
  expect(silent).toBeGreaterThanOrEqual(limit);
  expect(silent - limit).toBeLessThanOrEqual(50);
  await waitForLog(a, new RegExp(`WARN: node ${b.name}: is dead`), 5_000, { since: mark });
  expect((await status(a))!.nodes.find((n) => n.name === b.name)!.status).toBe('dead');

  await start(b);
  await waitForLog(a, new RegExp(`Heartbeat restart on node ${b.name}`), 30_000, { since: mark });
  await sees(a, b.name, 'active');
  expect((await status(b))!.generation).toBe(before + 1);
  expect((await status(a))!.nodes.find((n) => n.name === b.name)!.generation).toBe(before + 1);
}

describe('tsbeat membership in namespaces', () => {
  it.each([
    ['mcast', (_n: HarnessNode) => ['mcast eth0 239.77.1.1 694 1 0']],
    ['bcast', (_n: HarnessNode) => ['bcast eth0']],
    ['ucast', (n: HarnessNode) => (n.name === 'node1' ? ['ucast eth0 10.77.0.2'] : ['ucast eth0 10.77.0.1'])],
  ])(
    '%s: active both ways, dead at deadtime after SIGKILL, back with a new generation',
    async (_medium, media) => {
      cluster = await createCluster({ nodes: 2 });
      const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
      configure(cluster.nodes, media);
      await Promise.all([start(a), start(b)]);
      await sees(a, 'node2', 'active');
      await sees(b, 'node1', 'active');
      await waitForLog(a, /Link node2:eth0 up\./, 10_000);
      await killAndReturn(a, b, 4000);
    },
  );

  it('serial only: active both ways, dead at deadtime after SIGKILL, back with a new generation', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    const pair = await createSerialPair(cluster, a, b);
    configure(cluster.nodes, () => [`serial ${pair.path}`]);
    await Promise.all([start(a), start(b)]);
    await sees(a, 'node2', 'active');
    await sees(b, 'node1', 'active');
    await waitForLog(a, new RegExp(`Link node2:${pair.path.replace(/\//g, '\\/')} up\\.`), 10_000);
    await killAndReturn(a, b, 4000);
  });

  it('mcast + serial: cutting one medium kills that link only; warntime warns; both media carry the node', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    const pair = await createSerialPair(cluster, a, b);
    configure(cluster.nodes, () => ['mcast eth0 239.77.1.2 694 1 0', `serial ${pair.path}`]);
    await Promise.all([start(a), start(b)]);
    await sees(a, 'node2', 'active');
    await sees(b, 'node1', 'active');
    await waitForLog(a, /Link node2:eth0 up\./, 10_000);

    let mark = logMark(a);
    await linkDown(b, 'eth0');
    await waitForLog(a, /Link node2:eth0 dead\./, 20_000, { since: mark });
    // Still alive over the serial line.
    await new Promise((r) => setTimeout(r, 5000));
    const s = (await status(a))!.nodes.find((n) => n.name === 'node2')!;
    expect(s.status).toBe('active');
    expect(s.links.map((l) => ({ name: l.name, status: l.status }))).toEqual([
      { name: 'eth0', status: 'dead' },
      { name: pair.path, status: 'up' },
    ]);
    await linkUp(b, 'eth0');
    await waitForLog(a, /Link node2:eth0 up\./, 20_000, { since: mark });

    // A late heartbeat: node2 stalls longer than warntime, shorter than deadtime.
    mark = logMark(a);
    await pause(b);
    await new Promise((r) => setTimeout(r, 2800));
    await resume(b);
    const late = await waitForLog(a, /WARN: Late heartbeat: Node node2: interval (\d+) ms/, 20_000, {
      since: mark,
    });
    expect(Number(/interval (\d+) ms/.exec(late)![1])).toBeGreaterThan(2000);
    expect((await status(a))!.nodes.find((n) => n.name === 'node2')!.status).toBe('active');
  });

  it('a daemon stopped longer than deadtime (SIGSTOP) gives its peer a fresh chance instead of declaring it dead', async () => {
    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    configure(cluster.nodes, () => ['mcast eth0 239.77.1.3 694 1 0']);
    await Promise.all([start(a), start(b)]);
    await sees(a, 'node2', 'active');
    await sees(b, 'node1', 'active');
    const markA = logMark(a);
    const markB = logMark(b);
    await pause(a);
    await new Promise((r) => setTimeout(r, 7000)); // deadtime is 4 s
    await resume(a);
    await waitForLog(a, /did not run for \d+ ms .*giving every peer a fresh chance/, 10_000, {
      since: markA,
    });
    // node2 kept running: it rightly declared node1 dead, and sees it come back.
    await waitForLog(b, /node node1: is dead/, 10_000, { since: markB });
    await waitForLog(b, /Cluster node node1 returning after partition\./, 10_000, { since: markB });
    await new Promise((r) => setTimeout(r, 3000));
    const { readLog } = await import('../harness/index.js');
    expect(readLog(a, markA)).not.toMatch(/node node2: is dead/);
    expect((await status(a))!.nodes.find((n) => n.name === 'node2')!.status).toBe('active');
  });
});
