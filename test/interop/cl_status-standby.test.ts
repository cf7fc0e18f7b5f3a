/**
 * hb_standby and hb_takeover, compared live: the same sequence runs on node1 of a two-node
 * REAL heartbeat 3.0.6 cluster (heartbeat's own scripts) and of a two-node tsbeat cluster
 * (tsbeat's programs), each node preferring one group of harmless test resources
 * (auto_failback on). After every step, once both nodes have settled, where the groups run
 * and each node's `cl_status rscstatus` must be the same in both clusters, and so must each
 * command's output (time stamps normalised) and exit code. The steps cover every argument:
 * standby all, takeover all, standby foreign, takeover foreign, standby failback, takeover
 * local, takeover failback. Finally, where heartbeat's scripts would block for ever, tsbeat's
 * exit 7 at once when the daemon is stopped. The real heartbeat runs only in the harness's
 * machines (own PID/mount/UTS namespaces, reboot stubbed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  kill,
  startHeartbeat,
  startTsbeat,
  TSBEAT_JS,
  testResourceScript,
  waitFor,
} from '../harness/index.js';
import { normaliseLog } from '../unit/ipc/transcripts.js';

const STEPS: readonly (readonly string[])[] = [
  ['hb_standby'],
  ['hb_takeover'],
  ['hb_standby', 'foreign'],
  ['hb_takeover', 'foreign'],
  ['hb_standby', 'failback'],
  ['hb_takeover', 'local'],
  ['hb_takeover', 'failback'],
];

interface Step {
  readonly command: { stdout: string; stderr: string; code: number | null };
  /** Groups per node and each node's rscstatus, once settled. */
  readonly state: string;
}

interface Side {
  readonly start: string;
  readonly steps: Step[];
  /** tsbeat only: hb_standby and hb_takeover with node1's daemon stopped. */
  readonly stopped: { code: number | null; stderr: string }[];
}

const tsbeatEnv = (n: HarnessNode) => ({
  TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`,
  TSBEAT_RUNDIR: '/run/tsbeat',
});
const cliJs = (name: string) => TSBEAT_JS.replace(/tsbeat\.js$/, `${name}.js`);

const clusters: Cluster[] = [];
afterAll(async () => {
  for (const c of clusters) await c.destroy();
});

async function collect(kind: 'heartbeat' | 'tsbeat'): Promise<Side> {
  const cluster = await createCluster({ nodes: 2 });
  clusters.push(cluster);
  try {
    const nodes = cluster.nodes as [HarnessNode, HarnessNode];
    const [a, b] = nodes;
    for (const n of nodes) {
      n.writeHaD({
        'ha.cf': haCf(n, { nodes, media: ['bcast eth0'], autoFailback: 'on' }),
        authkeys: authkeys('sha1', 'standby-compare'),
        haresources: 'node1 HarnessRes::A\nnode2 HarnessRes::B\n',
        'resource.d/HarnessRes': testResourceScript('HarnessRes'),
      });
    }
    const env = (n: HarnessNode) => (kind === 'tsbeat' ? { env: tsbeatEnv(n) } : {});
    const clStatus = (n: HarnessNode, args: string[]) =>
      n.exec(
        kind === 'heartbeat' ? ['cl_status', ...args] : [process.execPath, cliJs('cl_status'), ...args],
        env(n),
      );
    const state = async (): Promise<string> => {
      const parts: string[] = [];
      for (const n of nodes) {
        const groups = await n.exec([
          'sh',
          '-c',
          'ls /run | grep "^HarnessRes-" | sed "s/HarnessRes-//" | sort',
        ]);
        const rsc = await clStatus(n, ['rscstatus']);
        parts.push(
          `${n.name}: [${groups.stdout.trim().split('\n').join(' ')}] rscstatus ${rsc.stdout.trim()}`,
        );
      }
      return parts.join('; ');
    };
    /** Settled: nothing in transition and the same state twice, a second apart. */
    const settled = async (): Promise<string> => {
      let last = '';
      let result = '';
      await waitFor(
        async () => {
          const now = await state();
          const same = now === last && !now.includes('transition');
          last = now;
          if (same) result = now;
          return same;
        },
        60_000,
        { description: `${kind}: the cluster settles (now ${last})`, intervalMs: 1000 },
      );
      return result;
    };

    const start = (n: HarnessNode) =>
      kind === 'heartbeat'
        ? startHeartbeat(n)
        : startTsbeat(n, { args: ['--foreground'], env: tsbeatEnv(n) });
    const [daemon] = await Promise.all([start(a), start(b)]);
    await waitFor(
      async () => (await state()).includes('node1: [A] rscstatus local; node2: [B] rscstatus local'),
      90_000,
      {
        description: `${kind}: each group at home`,
        intervalMs: 1000,
      },
    );
    const side: Side = { start: await settled(), steps: [], stopped: [] };

    for (const [name, ...args] of STEPS) {
      const argv =
        kind === 'heartbeat'
          ? [`/usr/share/heartbeat/${name}`, ...args]
          : [process.execPath, cliJs(name!), ...args];
      const r = await a.exec(argv, { timeoutMs: 20_000, ...env(a) });
      // Give the request time to start moving resources before waiting for calm.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      side.steps.push({
        command: { stdout: r.stdout, stderr: normaliseLog(r.stderr), code: r.code },
        state: await settled(),
      });
    }

    if (kind === 'tsbeat') {
      await kill(daemon, 'SIGTERM');
      await waitFor(() => !daemon.running(), 60_000, { description: 'tsbeat on node1 stopped' });
      for (const name of ['hb_standby', 'hb_takeover']) {
        const r = await a.exec([process.execPath, cliJs(name)], { timeoutMs: 20_000, ...env(a) });
        side.stopped.push({ code: r.code, stderr: r.stderr });
      }
    }
    return side;
  } finally {
    await cluster.destroy();
  }
}

describe('hb_standby and hb_takeover: real heartbeat 3.0.6 and tsbeat move the same groups', () => {
  let real: Side;
  let ours: Side;
  beforeAll(async () => {
    real = await collect('heartbeat');
    ours = await collect('tsbeat');
  }, 900_000);

  it('start from the same state', () => {
    expect(ours.start).toBe(real.start);
    expect(real.start).toBe('node1: [A] rscstatus local; node2: [B] rscstatus local');
  });

  it.each(STEPS.map((s, i) => [s.join(' '), i] as const))('%s on node1', (_, i) => {
    expect(ours.steps[i]).toEqual(real.steps[i]);
  });

  it('the steps moved groups (the comparison is not of a cluster that ignores them)', () => {
    expect(new Set(real.steps.map((s) => s.state)).size).toBeGreaterThan(1);
  });

  it('with the daemon stopped, tsbeat exits 7 at once where heartbeat would block', () => {
    expect(ours.stopped.map((s) => s.code)).toEqual([7, 7]);
    expect(ours.stopped[0]!.stderr).toMatch(
      /Going standby \[all\]\.\n.*hb_standby\.js: tsbeat is not running/,
    );
    expect(ours.stopped[1]!.stderr).toMatch(/hb_takeover\.js: tsbeat is not running/);
  });
});
