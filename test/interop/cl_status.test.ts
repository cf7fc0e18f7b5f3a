/**
 * cl_status, compared live: the same list of cl_status invocations runs on node1 of a two-node
 * REAL heartbeat 3.0.6 cluster and on node1 of a two-node tsbeat cluster with the equivalent
 * configuration (same node names, bcast eth0, keepalive 1, deadtime 3, warntime 2, initdead 10,
 * auto_failback on, crm off, empty haresources), first with both daemons running and then with
 * node1's daemon stopped. For every invocation stdout, stderr and the exit code must be equal,
 * after normalising only what must differ: log time stamps and pids, the run's temporary
 * directory (in logfile/debugfile) and the version string (hbversion). The list covers every
 * sub-command and option, invalid options and operands, unknown nodes and links, other-case
 * names, every hbparameter name heartbeat records, clientstatus answers and time-outs (incl.
 * the 5 s alarm, exit 12), rscstatus and `test` once the resource managers have settled, and
 * `tsbeat cl_status` as an alias. On the live tsbeat node it also checks that `tsbeat status`
 * and `--json` report what cl_status does, and exit 3 once the daemon is stopped. The real heartbeat runs only in the harness's machines (own
 * PID/mount/UTS namespaces, reboot stubbed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/ipc/schema.js';
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
  waitFor,
} from '../harness/index.js';
import { normaliseLog } from '../unit/ipc/transcripts.js';

/** Every parameter name of the lab transcript, plus some heartbeat never records. */
const PARAMETERS = [
  'hbversion',
  'cluster',
  'quorum_server',
  'node',
  'hopfudge',
  'keepalive',
  'deadtime',
  'deadping',
  'warntime',
  'initdead',
  'watchdog',
  'baud',
  'udpport',
  'logfacility',
  'logfile',
  'debugfile',
  'nice_failback',
  'auto_failback',
  'stonith',
  'stonith_host',
  'respawn',
  'rtprio',
  'hbgenmethod',
  'realtime',
  'debug',
  'normalpoll',
  'msgfmt',
  'use_logd',
  'conn_logd_time',
  'log_badpack',
  'use_apphbd',
  'syslogmsgfmt',
  'coredumps',
  'coreroot',
  'crm',
  'pacemaker',
  'crm_daemon_dir',
  'crmd_spawns_pengine',
  'autojoin',
  'uuidfrom',
  'compression',
  'compression_threshold',
  'traditional_compression',
  'env',
  'max_rexmit_delay',
  'record_config_changes',
  'record_pengine_inputs',
  'enable_config_writes',
  'memreserve',
  'apiauth',
  'bcast',
  'ping',
  'mcast',
  'ucast',
  'serial',
  'failfast',
  'ping_group',
  'debugusr',
  'CRM',
  'Keepalive',
  '',
];

const RUNNING: readonly (readonly string[])[] = [
  [],
  ['-h'],
  ['-h', 'x'],
  ['bogus'],
  [''],
  ['HBSTATUS'],
  ['hbstatus'],
  ['hbstatus', '-v'],
  ['hbstatus', '-m'],
  ['hbstatus', '-m', '-v'],
  ['hbstatus', '-mv'],
  ['hbstatus', '-x', '-y'],
  ['hbstatus', '--verbose'],
  ['hbstatus', 'extra'],
  ['listnodes'],
  ['listnodes', '-v'],
  ['listnodes', '-p'],
  ['listnodes', '-n'],
  ['listnodes', '-pn'],
  ['listnodes', '-m'],
  ['listnodes', '-m', '-v'],
  ['listnodes', '-vp'],
  ['listnodes', '-x'],
  ['listnodes', 'extra'],
  ['nodestatus', 'node1'],
  ['nodestatus', 'node2'],
  ['nodestatus', '-m', 'node2'],
  ['nodestatus', 'node2', '-m'],
  ['nodestatus', 'NODE2'],
  ['nodestatus', '-m', 'Node2'],
  ['nodestatus', 'node2', 'node1'],
  ['nodestatus', 'nosuch'],
  ['nodestatus'],
  ['nodestatus', '-x', 'node1'],
  ['nodestatus', '--', '-m'],
  ['nodestatus', '--foo', 'node2'],
  ['nodestatus', '-', 'node1'],
  ['nodestatus', '-m'],
  ['nodeweight', 'node2'],
  ['nodeweight', '-m', 'node2'],
  ['nodeweight', '-m', '-m', 'node1'],
  ['nodeweight', 'nosuch'],
  ['nodeweight'],
  ['nodeweight', '-v', 'node2'],
  ['nodesite', 'node2'],
  ['nodesite', '-m', 'node2'],
  ['nodesite', 'nosuch'],
  ['nodesite'],
  ['nodetype', 'node2'],
  ['nodetype', '-m', 'node1'],
  ['nodetype', 'nosuch'],
  ['nodetype'],
  ['nodetype', '-:', 'node1'],
  ['listhblinks', 'node2'],
  ['listhblinks', '-v', 'node2'],
  ['listhblinks', '-m', 'node2'],
  ['listhblinks', '-m', '-v', 'node1'],
  ['listhblinks', 'NODE2'],
  ['listhblinks'],
  ['listhblinks', 'nosuch'],
  ['listhblinks', '-x', 'node2'],
  ['hblinkstatus', 'node2', 'eth0'],
  ['hblinkstatus', '-m', 'node2', 'eth0'],
  ['hblinkstatus', 'node1', 'eth0'],
  ['hblinkstatus', 'Node2', 'eth0'],
  ['hblinkstatus', 'node2', 'ETH0'],
  ['hblinkstatus', 'node2', 'eth9'],
  ['hblinkstatus', 'nosuch', 'eth0'],
  ['hblinkstatus', 'node2'],
  ['hblinkstatus', '-m'],
  ['hblinkstatus', '-x', 'a', 'b'],
  // heartbeat needs some tens of ms to answer even for itself: generous timeouts where an answer is expected.
  ['clientstatus', 'node1', 'ipfail', '2000'],
  ['clientstatus', 'node2', 'ipfail', '3000'],
  ['clientstatus', 'node2', 'ipfail', '--', '-5'],
  ['clientstatus', 'nosuch', 'ipfail'],
  ['clientstatus', 'NODE2', 'ipfail', '300'],
  ['clientstatus', 'node2'],
  ['clientstatus'],
  ['clientstatus', '-x', 'a', 'b'],
  ['clientstatus', 'nosuch', 'ipfail', '--', '-1'],
  ['rscstatus'],
  ['rscstatus', '-m'],
  ['rscstatus', '-x'],
  ['test'],
  ['test', '-x'],
  ['hbparameter'],
  ['hbparameter', '-p'],
  ['hbparameter', '-m', '-p', 'keepalive'],
  ['hbparameter', '-pkeepalive', '-m'],
  ['hbparameter', '-p', 'keepalive', '-p', 'deadtime'],
  ['hbparameter', '-x', '-p', 'deadtime'],
  ['hbparameter', '-p', 'deadtime', '-x'],
  ['hbparameter', 'deadtime'],
  ...PARAMETERS.map((p) => ['hbparameter', '-p', p]),
];

const STOPPED: readonly (readonly string[])[] = [
  [],
  ['bogus'],
  ['hbstatus'],
  ['hbstatus', '-v'],
  ['hbstatus', '-m'],
  ['hbstatus', '-m', '-v'],
  ['hbstatus', '-x'],
  ['listnodes'],
  ['listnodes', '-x'],
  ['nodestatus', 'node1'],
  ['nodestatus', '-x', 'node1'],
  ['nodestatus'],
  ['nodeweight', 'node1'],
  ['nodesite', 'node1'],
  ['nodetype', 'node1'],
  ['listhblinks', 'node1'],
  ['listhblinks'],
  ['hblinkstatus', 'node1', 'eth0'],
  ['clientstatus', 'node1', 'ipfail'],
  ['rscstatus'],
  ['hbparameter', '-p', 'deadtime'],
  ['hbparameter'],
  ['test'],
];

/** Also run through `tsbeat cl_status`: the alias must answer as the program does. */
const ALIAS = RUNNING.slice(0, 30);

interface Answer {
  stdout: string;
  stderr: string;
  code: number | null;
}

interface Side {
  running: Answer[];
  stopped: Answer[];
  alias: Answer[];
  /** tsbeat only: `tsbeat status`, `tsbeat status --json` running, and `tsbeat status` stopped. */
  status: Answer[];
}

const tsbeatEnv = (n: HarnessNode) => ({
  TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`,
  TSBEAT_RUNDIR: '/run/tsbeat',
});
const CL_STATUS_JS = TSBEAT_JS.replace(/tsbeat\.js$/, 'cl_status.js');

const clusters: Cluster[] = [];
afterAll(async () => {
  for (const c of clusters) await c.destroy();
});

/** Run one implementation's cluster and collect node1's answers. */
async function collect(kind: 'heartbeat' | 'tsbeat'): Promise<Side> {
  const cluster = await createCluster({ nodes: 2 });
  clusters.push(cluster);
  try {
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    for (const n of cluster.nodes) {
      n.writeHaD({
        'ha.cf': haCf(n, { nodes: cluster.nodes, media: ['bcast eth0'] }),
        authkeys: authkeys('sha1', 'cl-status-compare'),
        haresources: '',
      });
    }
    const start = (n: HarnessNode) =>
      kind === 'heartbeat'
        ? startHeartbeat(n)
        : startTsbeat(n, { args: ['--foreground'], env: tsbeatEnv(n) });
    const cl = async (args: readonly string[], alias = false): Promise<Answer> => {
      const argv =
        kind === 'heartbeat'
          ? ['cl_status', ...args]
          : alias
            ? [process.execPath, TSBEAT_JS, 'cl_status', ...args]
            : [process.execPath, CL_STATUS_JS, ...args];
      const r = await a.exec(argv, {
        timeoutMs: 30_000,
        ...(kind === 'tsbeat' ? { env: tsbeatEnv(a) } : {}),
      });
      return { stdout: normalise(r.stdout, cluster), stderr: normalise(r.stderr, cluster), code: r.code };
    };

    const [daemon] = await Promise.all([start(a), start(b)]);
    // Stable: each sees the other active, and node1 hears both nodes on eth0.
    await waitFor(
      async () =>
        (await cl(['nodestatus', 'node2'])).stdout === 'active\n' &&
        (await cl(['hblinkstatus', 'node2', 'eth0'])).stdout === 'up\n' &&
        (await cl(['hblinkstatus', 'node1', 'eth0'])).stdout === 'up\n',
      90_000,
      { description: `${kind}: node1 sees node2 active on eth0`, intervalMs: 500 },
    );
    // rscstatus says `transition` while the resource manager is settling: compare after that.
    await waitFor(async () => !['transition\n', ''].includes((await cl(['rscstatus'])).stdout), 60_000, {
      description: `${kind}: node1's resources settled`,
      intervalMs: 500,
    });
    const side: Side = { running: [], stopped: [], alias: [], status: [] };
    for (const args of RUNNING) side.running.push(await cl(args));
    const status = async (...args: string[]): Promise<Answer> => {
      const r = await a.exec([process.execPath, TSBEAT_JS, 'status', ...args], { env: tsbeatEnv(a) });
      return { stdout: r.stdout, stderr: r.stderr, code: r.code };
    };
    if (kind === 'tsbeat') {
      for (const args of ALIAS) side.alias.push(await cl(args, true));
      side.status.push(await status(), await status('--json'));
    }

    await kill(daemon, 'SIGTERM');
    // heartbeat's shutdown runs its resource scripts and waits for the peer: on a loaded 2-core
    // machine it has taken over a minute. Only the answers afterwards are compared.
    await waitFor(() => !daemon.running(), 180_000, { description: `${kind} on node1 stopped` });
    for (const args of STOPPED) side.stopped.push(await cl(args));
    if (kind === 'tsbeat') side.status.push(await status());
    return side;
  } finally {
    await cluster.destroy();
  }
}

/** Only what must differ: time stamps and pids (normaliseLog), the run's directory, the version. */
function normalise(text: string, cluster: Cluster): string {
  return normaliseLog(text.split(cluster.tmpDir).join('<TMPDIR>'))
    .replace(/3\.0\.6 \(node: [0-9a-f]+\)/g, '<HBVERSION>')
    .replace(/\d+\.\d+\.\d+ \(tsbeat\)/g, '<HBVERSION>');
}

describe('cl_status: real heartbeat 3.0.6 and tsbeat answer alike', () => {
  let real: Side;
  let ours: Side;
  beforeAll(async () => {
    real = await collect('heartbeat');
    ours = await collect('tsbeat');
  }, 900_000);

  const show = (args: readonly string[]) =>
    args.length === 0 ? '(no arguments)' : args.map((a) => JSON.stringify(a)).join(' ');

  it.each(RUNNING.map((args, i) => [show(args), i] as const))('running: cl_status %s', (_, i) => {
    expect(ours.running[i]).toEqual(real.running[i]);
  });

  it.each(STOPPED.map((args, i) => [show(args), i] as const))('stopped: cl_status %s', (_, i) => {
    expect(ours.stopped[i]).toEqual(real.stopped[i]);
  });

  it.each(ALIAS.map((args, i) => [show(args), i] as const))('tsbeat cl_status %s', (_, i) => {
    expect(ours.alias[i]).toEqual(real.running[i]);
  });

  it('tsbeat status --json on the live node agrees with cl_status', () => {
    const [human, json, stopped] = ours.status as [Answer, Answer, Answer];
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout) as StatusReport;
    expect(r).toMatchObject({
      format: 'tsbeat-status/1',
      node: 'node1',
      ready: true,
      managedBy: 'haresources',
    });
    expect(`${r.rscstatus}\n`).toBe(
      ours.running[RUNNING.findIndex((x) => x.join(' ') === 'rscstatus')]!.stdout,
    );
    expect(
      r.nodes.map((n) => [n.name, n.local, n.status, n.links.map((l) => `${l.name} ${l.status}`)]),
    ).toEqual([
      ['node1', true, 'active', ['eth0 up']],
      ['node2', false, 'active', ['eth0 up']],
    ]);
    expect(r.timing).toMatchObject({
      keepaliveMs: 1000,
      deadtimeMs: 3000,
      detectionMs: 3000,
      heartbeatDetectionMs: 4000,
    });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(`^tsbeat \\S+ on node1: cluster linux-ha, generation ${r.generation}, pid `),
    );
    expect(human.stdout).toMatch(/^ {2}node2 +normal +active +\d+ +100 +\d+(ms|\.\ds|s) ago$/m);
    expect(stopped).toMatchObject({ code: 3, stdout: '' });
  });

  it('covers every sub-command, the alarm (12), and both answers and errors', () => {
    const codes = new Set(real.running.map((r) => r.code));
    expect([...codes].sort((x, y) => (x ?? -1) - (y ?? -1))).toEqual([0, 1, 11, 12, 13]);
    for (const sub of [
      'hbstatus',
      'listnodes',
      'nodestatus',
      'nodeweight',
      'nodesite',
      'nodetype',
      'listhblinks',
      'hblinkstatus',
      'clientstatus',
      'rscstatus',
      'hbparameter',
    ]) {
      expect(RUNNING.some((args) => args[0] === sub)).toBe(true);
    }
  });
});
