/**
 * The local API under attack by an unprivileged user, with the real daemon in network
 * namespaces (two tsbeat nodes). Inside node1, `nobody` holds 64 half-open connections on
 * api.sock (each sends part of a request and nothing more) and opens a new one whenever the
 * daemon closes one, for 14 s; it cannot open control.sock at all (EACCES). Meanwhile, for 10 s,
 * root's `cl_status hbstatus` must answer "Heartbeat is running on this machine." every time
 * (it goes through control.sock, whose pool nobody can reach), and nobody's own `cl_status
 * nodestatus node2` must get the daemon's answer "active" every time (api.sock: the daemon
 * evicts the connection that waited longest without a complete request; with the server
 * before this change it fails: refused busy); afterwards `tsbeat status --json` counts the timeouts and evictions
 * (`rejected.ipcTimeout`, `rejected.ipcBusy`), the daemon logged only a few rate-limited lines
 * about them, node2 still sees node1 active, and the attacker really held the pool full (its
 * own summary). Needs root and `npm run build`; about 20 s.
 */
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/ipc/schema.js';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  logMark,
  readLog,
  startTsbeat,
  TSBEAT_JS,
  waitFor,
} from '../harness/index.js';

let cluster: Cluster | undefined;
const copies: string[] = [];
afterAll(async () => {
  await cluster?.destroy();
  for (const c of copies) rmSync(c, { recursive: true, force: true });
});

const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const CL_STATUS_JS = TSBEAT_JS.replace(/tsbeat\.js$/, 'cl_status.js');
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

const ATTACK_MS = 14_000;
/** Runs as nobody in node1: 64 half-open connections, replaced as soon as the daemon closes one. */
const ATTACKER = `
const net = require('net');
const SOCK = '/run/tsbeat/api.sock';
const s = { opened: 0, closedByDaemon: 0, live: 0, maxLive: 0, errors: {}, control: '' };
let stopping = false;
function one() {
  if (stopping) return;
  const c = net.connect(SOCK);
  let up = false;
  c.on('connect', () => {
    up = true; s.opened++; s.live++; s.maxLive = Math.max(s.maxLive, s.live);
    c.write('{"v":1,"cmd":"hel');
  });
  c.on('data', () => undefined); // read, so that a close by the daemon is noticed at once
  c.on('error', (e) => { s.errors[e.code] = (s.errors[e.code] || 0) + 1; });
  c.on('close', () => {
    if (up) { s.live--; if (!stopping) s.closedByDaemon++; }
    setTimeout(one, 5);
  });
}
for (let i = 0; i < 64; i++) one();
const k = net.connect('/run/tsbeat/control.sock');
k.on('connect', () => { s.control = 'connected'; k.destroy(); });
k.on('error', (e) => { s.control = e.code; });
setTimeout(() => { stopping = true; console.log(JSON.stringify(s)); process.exit(0); }, ${ATTACK_MS});
`;

interface AttackSummary {
  opened: number;
  closedByDaemon: number;
  maxLive: number;
  errors: Record<string, number>;
  control: string;
}

describe('tsbeat local API against an unprivileged flood', () => {
  it("nobody's 64 half-open connections: root's cl_status hbstatus says running, nobody's queries are answered, counted, logged boundedly", async () => {
    // nobody must be able to load cl_status: a world-readable copy of dist.
    const copy = mkdtempSync(join(tmpdir(), 'tsbeat-abuse-dist-'));
    copies.push(copy);
    chmodSync(copy, 0o755);
    cpSync(join(TSBEAT_JS, '..', '..'), join(copy, 'dist'), { recursive: true });
    cpSync(join(TSBEAT_JS, '..', '..', '..', 'package.json'), join(copy, 'package.json'));
    const nobodyClStatus = join(copy, 'dist', 'cli', 'cl_status.js');

    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    for (const n of cluster.nodes) {
      n.writeHaD({
        'ha.cf': haCf(n, { nodes: cluster.nodes, media: ['bcast eth0'] }),
        authkeys: authkeys('sha1', 'api-abuse'),
        haresources: '',
      });
    }
    await Promise.all([
      startTsbeat(a, { args: ['--foreground'], env: env(a) }),
      startTsbeat(b, { args: ['--foreground'], env: env(b) }),
    ]);
    // root: hbstatus (through control.sock); nobody: a query that needs the daemon's answer
    // (api.sock: only eviction lets it in; a live daemon's pid file would not do).
    const hbstatus = async (asNobody: boolean) => {
      const argv = asNobody
        ? [...NOBODY, process.execPath, nobodyClStatus, 'nodestatus', 'node2']
        : [process.execPath, CL_STATUS_JS, 'hbstatus'];
      const r = await a.exec(argv, { env: env(a), timeoutMs: 30_000 });
      return { stdout: r.stdout, stderr: r.stderr, code: r.code };
    };
    const running = { stdout: 'Heartbeat is running on this machine.\n', stderr: '', code: 0 };
    await waitFor(async () => (await hbstatus(false)).code === 0, 90_000, {
      description: 'tsbeat on node1 answers cl_status hbstatus',
      intervalMs: 500,
    });
    const mark = logMark(a);

    const attacker = await a.spawn([...NOBODY, process.execPath, '-e', ATTACKER], { label: 'attacker' });
    await new Promise((r) => setTimeout(r, 1500));
    const answers: { who: string; stdout: string; stderr: string; code: number | null }[] = [];
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      answers.push({ who: 'root', ...(await hbstatus(false)) });
      answers.push({ who: 'nobody', ...(await hbstatus(true)) });
    }
    await attacker.exited;
    const summary = JSON.parse(attacker.stdout().trim().split('\n').at(-1) ?? '{}') as AttackSummary;

    // Every answer came from the daemon: root's "running", nobody's "active".
    expect(answers.length).toBeGreaterThanOrEqual(4);
    for (const x of answers) {
      const want = x.who === 'root' ? running : { stdout: 'active\n', stderr: '', code: 0 };
      expect({ who: x.who, stdout: x.stdout, stderr: x.stderr, code: x.code }).toEqual({
        who: x.who,
        ...want,
      });
    }

    // The attack was real: the pool was held full, the daemon kept closing and nobody kept reopening.
    expect(summary.maxLive).toBe(64);
    expect(summary.closedByDaemon).toBeGreaterThan(64);
    expect(summary.control).toBe('EACCES');

    // Counted, and reported by tsbeat status --json.
    const st = await a.exec([process.execPath, TSBEAT_JS, 'status', '--json'], { env: env(a) });
    expect(st.code).toBe(0);
    const report = JSON.parse(st.stdout) as StatusReport;
    expect(report.rejected.ipcTimeout).toBeGreaterThan(64);
    expect(report.rejected.ipcBusy).toBeGreaterThan(0);
    expect(report.rejected.ipcTimeout + report.rejected.ipcBusy).toBeGreaterThanOrEqual(
      summary.closedByDaemon,
    );

    // Logged, rate-limited: at most one line per class every 10 s (16 s of attack: 2 windows each).
    const lines = readLog(a, mark)
      .split('\n')
      .filter((l) => l.includes('local API api.sock'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(lines.join('\n')).toMatch(
      /WARN: local API api\.sock: closed a connection: no complete request within 2000 ms/,
    );
    expect(lines.join('\n')).toMatch(/more like it suppressed/);

    // The cluster did not notice: node2 still sees node1 active.
    const peer = await b.exec([process.execPath, CL_STATUS_JS, 'nodestatus', 'node1'], { env: env(b) });
    expect(peer.stdout).toBe('active\n');
  }, 240_000);
});
