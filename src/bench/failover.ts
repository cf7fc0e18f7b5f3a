// Part: `npm run bench -- failover` (root): tsbeat, the real heartbeat 3.0.6 and keepalived side
// by side, each as a two-node pair of namespace machines (src/lab/machine.ts) moving one virtual
// IP, at matching timing: keepalive 1 s / deadtime 3 s against VRRPv2 advert_int 1, and 100 ms /
// 300 ms against VRRPv3 advert_int 0.1. Runs are interleaved (tsbeat, heartbeat, keepalived,
// again) and every figure comes from this run: nothing is copied from a document.
//
// Times are taken from the kernel: `ip -ts monitor address` in each node's network namespace
// stamps the moment the VIP is added (RTM_NEWADDR as received, microseconds, CLOCK_REALTIME);
// the start of a run is stamped on the same clock just before the signal or command.
// Memory and CPU include every process of a node's PID namespace (the daemon and all its
// helpers), next to a "floor": a bare Node process with one UDP socket sending one datagram
// per keepalive interval to its peer.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DAEMON_NODE_FLAGS } from '../daemon/os-tuning.js';
import { apiSocketPaths } from '../ipc/api.js';
import { openFirst } from '../ipc/client.js';
import { Lab, type Machine, sleep, wallMicros } from '../lab/machine.js';
import type { JournalEvent } from '../observe/journal.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const TSBEAT_JS = join(DIST, 'cli', 'tsbeat.js');
const HB_STANDBY_JS = join(DIST, 'cli', 'hb_standby.js');
const HB_TAKEOVER_JS = join(DIST, 'cli', 'hb_takeover.js');
const HEARTBEAT_BIN = '/usr/libexec/heartbeat/heartbeat';
const HEARTBEAT_SHARE = '/usr/share/heartbeat';
const KEEPALIVED_BIN = '/usr/sbin/keepalived';
const TCPDUMP_BIN = '/usr/bin/tcpdump';

export const USAGE = `usage: npm run bench -- failover [--runs N] [--idle SECONDS] [--profile 1s|100ms]...
                                [--only tsbeat|heartbeat|keepalived]... [--kinds K]... [--vips N]...
                                [--json FILE]

  --runs N        runs of each kind per implementation and profile (default 5)
  --idle SECONDS  length of the idle CPU window (default 60)
  --profile P     timing profile(s) to run (default both: 1s, 100ms)
  --only IMPL     implementation(s) to run (default all three)
  --kinds K       kinds of run: crash, graceful, standby (default all three)
  --vips N        virtual IPs per pair, in one group / one VRRP instance (default 1; repeat
                  for a scale run, e.g. --vips 1 --vips 10 --vips 100)
  --json FILE     also write every sample as JSON
  --from-json F   print the table and targets of an earlier run's JSON, run nothing
Needs root, iproute2, util-linux, perl; heartbeat (apt heartbeat) and keepalived (apt
keepalived) for their columns: a missing one is reported and left out.
`;

export type ImplName = 'tsbeat' | 'heartbeat' | 'keepalived';
const IMPLS: readonly ImplName[] = ['tsbeat', 'heartbeat', 'keepalived'];
type Kind = 'crash' | 'graceful' | 'standby';
const KINDS: readonly Kind[] = ['crash', 'graceful', 'standby'];

export interface Profile {
  readonly name: '1s' | '100ms' | '50ms';
  /** ha.cf values, identical for tsbeat and heartbeat. */
  readonly keepalive: string;
  readonly deadtime: string;
  readonly warntime: string;
  readonly initdead: string;
  readonly keepaliveMs: number;
  /** keepalived's matching VRRP settings. */
  readonly vrrpVersion: 2 | 3;
  readonly advertInt: string;
}

export const PROFILES: Readonly<Record<Profile['name'], Profile>> = {
  '1s': {
    name: '1s',
    keepalive: '1',
    deadtime: '3',
    warntime: '2',
    initdead: '6',
    keepaliveMs: 1000,
    vrrpVersion: 2,
    advertInt: '1',
  },
  '100ms': {
    name: '100ms',
    keepalive: '100ms',
    deadtime: '300ms',
    warntime: '200ms',
    initdead: '600ms',
    keepaliveMs: 100,
    vrrpVersion: 3,
    advertInt: '0.1',
  },
  // Issue 15's load runs (src/bench/load.ts); VRRPv3 advert_int 0.05 is in keepalived's range (0.01-255).
  '50ms': {
    name: '50ms',
    keepalive: '50ms',
    deadtime: '150ms',
    warntime: '100ms',
    initdead: '300ms',
    keepaliveMs: 50,
    vrrpVersion: 3,
    advertInt: '0.05',
  },
};

/** The measured quantities; each is a list of samples in milliseconds (CPU: ms per minute). */
export const METRICS = {
  crash: 'crash: SIGKILL of active node -> VIP on peer (ms)',
  graceful: 'graceful: SIGTERM of active daemon -> VIP on peer (ms)',
  standby: 'hb_standby on active -> VIP on peer (ms)',
  silence: 'crash: last packet from active -> VIP on peer (ms)',
  action: 'crash: that minus the detection limit (ms)',
  verdict: 'crash: "node dead" verdict -> VIP (ms)',
  dispatch: '  of which verdict -> IPaddr2 start (ms)',
  cpu: 'idle CPU, daemon + helpers (ms per min)',
  rss: 'idle RSS, daemon + helpers (MB)',
  pss: 'idle PSS, daemon + helpers (MB)',
  procs: 'processes per node',
} as const;
export type Metric = keyof typeof METRICS;
export type Column = ImplName | 'floor';

export interface Results {
  readonly meta: Record<string, unknown>;
  /** profile -> metric -> column -> samples */
  readonly samples: Record<string, Partial<Record<Metric, Partial<Record<Column, number[]>>>>>;
  /** profile -> column -> why a column has no figures or a run failed */
  readonly notes: Record<string, Partial<Record<Column, string[]>>>;
}

// ---------------------------------------------------------------------------------------------
// Kernel address events

export interface AddrEvent {
  readonly tUs: number;
  readonly added: boolean;
  readonly addr: string;
}

/** `ip -ts monitor address` in one network namespace, parsed as it arrives. */
export class AddrMonitor {
  readonly events: AddrEvent[] = [];
  private readonly proc: ChildProcess;
  private partial = '';

  constructor(netns: string) {
    this.proc = spawn('ip', ['-n', netns, '-ts', 'monitor', 'address'], {
      env: { ...process.env, TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.proc.on('error', () => {});
    this.proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      const lines = (this.partial + d).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\] (Deleted )?\d+: \S+\s+inet (\S+?)\//.exec(
          line,
        );
        if (m) {
          this.events.push({
            tUs: Date.parse(`${m[1]}Z`) * 1000 + Number(m[2]),
            added: m[3] === undefined,
            addr: m[4]!,
          });
        }
      }
    });
  }

  /** The first event at or after sinceUs matching; waits up to timeoutMs. */
  async next(
    addr: string,
    added: boolean,
    sinceUs: number,
    timeoutMs: number,
  ): Promise<AddrEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.tUs >= sinceUs && x.addr === addr && x.added === added);
      if (e) return e;
      if (Date.now() > deadline) return undefined;
      await sleep(5);
    }
  }

  /**
   * Once every address of ADDRS has had such an event at or after sinceUs: the latest of those
   * first events (the last VIP configured); undefined after timeoutMs.
   */
  async all(
    addrs: readonly string[],
    added: boolean,
    sinceUs: number,
    timeoutMs: number,
  ): Promise<AddrEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const firsts = new Map<string, AddrEvent>();
      for (const e of this.events) {
        if (e.tUs >= sinceUs && e.added === added && !firsts.has(e.addr) && addrs.includes(e.addr))
          firsts.set(e.addr, e);
      }
      if (firsts.size === addrs.length) {
        return [...firsts.values()].reduce((a, b) => (b.tUs > a.tUs ? b : a));
      }
      if (Date.now() > deadline) return undefined;
      await sleep(5);
    }
  }

  lastUs(addrs: readonly string[]): number {
    return this.events.filter((e) => addrs.includes(e.addr)).at(-1)?.tUs ?? 0;
  }

  stop(): void {
    this.proc.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// The three implementations

export interface Pair {
  readonly impl: ImplName | 'floor';
  readonly nodes: [Machine, Machine];
  /** The pair's virtual IPs, all in one resource group / one VRRP instance. */
  readonly vips: readonly string[];
  readonly monitors: [AddrMonitor, AddrMonitor];
  /** Host pid of each node's main daemon process, and when it was started (ms). */
  readonly daemon: [{ pid: number; startedMs: number }, { pid: number; startedMs: number }];
}

/**
 * How long each implementation must hear nothing before it may act: deadtime for heartbeat and
 * tsbeat; for VRRP the Master_Down_Interval of the backup's configured priority (100):
 * 3 x advert + skew, skew = (256 - priority) / 256 s in VRRPv2 (RFC 3768 6.1) and
 * (256 - priority) x advert / 256 in VRRPv3 (RFC 5798 6.1).
 */
function detectionLimitMs(impl: ImplName, p: Profile): number {
  const advertMs = Number(p.advertInt) * 1000;
  if (impl === 'keepalived') {
    const skewMs = p.vrrpVersion === 2 ? (156 / 256) * 1000 : (156 * advertMs) / 256;
    return 3 * advertMs + skewMs;
  }
  const d = /^(\d+)(ms)?$/.exec(p.deadtime);
  return d?.[2] ? Number(d[1]) : Number(d?.[1]) * 1000;
}

/**
 * Heartbeats (UDP 694) and VRRP adverts (IP protocol 112) from ADDR received in a network
 * namespace, stamped by the kernel (tcpdump -tt). Only those: a crashed node's network namespace
 * lives on and its kernel still answers ARP.
 */
export class Capture {
  readonly stamps: number[] = [];
  private readonly proc: ChildProcess;
  private partial = '';

  constructor(netns: string, addr: string) {
    this.proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        netns,
        TCPDUMP_BIN,
        '-i',
        'eth0',
        '-n',
        '-tt',
        '-l',
        '-Q',
        'in',
        '--immediate-mode',
        'src',
        'host',
        addr,
        'and',
        '(udp',
        'port',
        '694',
        'or',
        'ip',
        'proto',
        '112)',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    this.proc.on('error', () => {});
    this.proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      const lines = (this.partial + d).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^(\d+)\.(\d{6}) /.exec(line);
        if (m) this.stamps.push(Number(m[1]) * 1e6 + Number(m[2]));
      }
    });
  }

  /** Waits until tcpdump reports packets (it is listening), up to timeoutMs. */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.stamps.length === 0 && Date.now() < deadline) await sleep(20);
    return this.stamps.length > 0;
  }

  lastBefore(us: number): number | undefined {
    return this.stamps.filter((t) => t < us).at(-1);
  }

  /** Stops tcpdump after letting it print what it has captured. */
  async stop(): Promise<void> {
    const closed = new Promise((r) => this.proc.stdout?.once('close', r));
    this.proc.kill('SIGINT');
    await Promise.race([closed, sleep(2000)]);
    this.proc.kill('SIGKILL');
  }
}

/** tsbeat's event journal, read over its API socket (TSBEAT_RUNDIR is on the host's file system). */
export async function tsbeatJournal(m: Machine): Promise<readonly JournalEvent[]> {
  const paths = apiSocketPaths(join(m.dir, 'run'));
  const session = await openFirst([paths.control, paths.read], 5000);
  try {
    return (await session.call('journal', {})).events;
  } finally {
    session.close();
  }
}

/**
 * The wall-clock time (µs) of a journal entry, sub-millisecond: the daemon stamps each entry with
 * Date.now() (whole ms, truncated) and performance.now(); the largest atMs - monoMs over all
 * entries is the offset between its two clocks to within the truncation of the best entry.
 */
function journalWallUs(events: readonly JournalEvent[], e: JournalEvent): number {
  let offset = Number.NEGATIVE_INFINITY;
  for (const x of events) offset = Math.max(offset, x.atMs - x.monoMs);
  return (e.monoMs + offset) * 1000;
}

export function haCf(p: Profile, m: Machine): string {
  return [
    `# ${m.name}: written by src/bench/failover.ts, read by tsbeat and heartbeat alike`,
    `logfile ${join(m.dir, 'ha-log')}`,
    `keepalive ${p.keepalive}`,
    `deadtime ${p.deadtime}`,
    `warntime ${p.warntime}`,
    `initdead ${p.initdead}`,
    'udpport 694',
    'bcast eth0',
    'node node1',
    'node node2',
    'auto_failback on',
    'crm off',
    '',
  ].join('\n');
}

export function keepalivedConf(p: Profile, m: Machine, vips: readonly string[]): string {
  return [
    `# ${m.name}: written by src/bench/failover.ts`,
    'global_defs {',
    `  router_id ${m.name}`,
    `  vrrp_version ${p.vrrpVersion}`,
    '}',
    'vrrp_instance VI_1 {',
    '  state BACKUP',
    '  interface eth0',
    '  virtual_router_id 51',
    `  priority ${m.name === 'node1' ? 200 : 100}`,
    `  advert_int ${p.advertInt}`,
    '  virtual_ipaddress {',
    ...vips.map((v) => `    ${v}/24 dev eth0`),
    '  }',
    '}',
    '',
  ].join('\n');
}

function configure(impl: ImplName | 'floor', p: Profile, m: Machine, vips: readonly string[]): void {
  if (impl === 'tsbeat' || impl === 'heartbeat') {
    writeFileSync(join(m.haDir, 'ha.cf'), haCf(p, m));
    writeFileSync(join(m.haDir, 'authkeys'), 'auth 1\n1 sha1 tsbeat-failover-bench\n', { mode: 0o600 });
    writeFileSync(
      join(m.haDir, 'haresources'),
      `node1 ${vips.map((v) => `IPaddr2::${v}/24/eth0`).join(' ')}\n`,
    );
  } else if (impl === 'keepalived') {
    writeFileSync(join(m.dir, 'keepalived.conf'), keepalivedConf(p, m, vips));
  }
}

/** A bare Node process with one UDP socket: the floor for memory and CPU. */
function floorScript(peer: string, keepaliveMs: number): string {
  return [
    "const s = require('node:dgram').createSocket('udp4');",
    "const b = Buffer.alloc(200, 'x');",
    "s.on('message', () => {});",
    `s.bind(694, () => setInterval(() => s.send(b, 694, '${peer}'), ${keepaliveMs}));`,
  ].join('\n');
}

async function startDaemon(impl: ImplName | 'floor', p: Profile, m: Machine, peer: Machine): Promise<number> {
  switch (impl) {
    case 'tsbeat':
      // As the packaged tsbeat command starts it (scripts/package/build-deb.sh).
      return m.spawn(
        [process.execPath, ...DAEMON_NODE_FLAGS, TSBEAT_JS, 'start', '--foreground', '-c', '/etc/ha.d'],
        'tsbeat',
        {
          TSBEAT_STATEDIR: join(m.dir, 'tsbeat-state'),
          TSBEAT_RUNDIR: join(m.dir, 'run'),
        },
      );
    case 'heartbeat':
      return m.spawn([HEARTBEAT_BIN, '-f'], 'heartbeat');
    case 'keepalived':
      return m.spawn(
        [
          KEEPALIVED_BIN,
          '-n',
          '-l',
          '-D',
          '-P',
          '-f',
          join(m.dir, 'keepalived.conf'),
          '-p',
          '/run/keepalived.pid',
          '-r',
          '/run/keepalived-vrrp.pid',
        ],
        'keepalived',
      );
    case 'floor':
      return m.spawn([process.execPath, '-e', floorScript(peer.addr, p.keepaliveMs)], 'floor');
  }
}

function standbyCmd(impl: ImplName, what: 'standby' | 'takeover'): string[] | undefined {
  if (impl === 'tsbeat') return [process.execPath, what === 'standby' ? HB_STANDBY_JS : HB_TAKEOVER_JS];
  if (impl === 'heartbeat') return [join(HEARTBEAT_SHARE, `hb_${what}`)];
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Footprint

const TICK_MS = 10; // USER_HZ is 100 on Linux

function procCpuMs(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    // cutime + cstime: short-lived helpers the process has reaped (fields 16, 17).
    return ns / 1e6 + (Number(f[13]) + Number(f[14])) * TICK_MS;
  } catch {
    return 0;
  }
}

interface Footprint {
  cpuMs: number;
  rssKb: number;
  pssKb: number;
  procs: number;
}

function footprint(m: Machine): Footprint {
  const f: Footprint = { cpuMs: 0, rssKb: 0, pssKb: 0, procs: 0 };
  for (const pid of m.pids()) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      f.cpuMs += procCpuMs(pid);
      f.rssKb += Number(rss?.[1] ?? 0);
      f.pssKb += Number(pss?.[1] ?? 0);
      f.procs += 1;
    } catch {
      // exited meanwhile
    }
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// Runs

export const stats = (xs: readonly number[]): { min: number; median: number; max: number } | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { min: s[0]!, median: mid, max: s[s.length - 1]! };
};

export class Bench {
  readonly lab = new Lab();
  /** Virtual IPs per pair (issue 15's scale runs: 1, 10, 100). */
  vipCount = 1;
  private pairsMade = 0;

  /** Where a profile's figures go: "100ms", or "100ms/10 VIPs" in a scale run. */
  key(p: Profile): string {
    return this.vipCount === 1 ? p.name : `${p.name}/${this.vipCount} VIPs`;
  }
  readonly results: Results;
  private readonly log: (s: string) => void;

  constructor(meta: Record<string, unknown>, log: (s: string) => void) {
    this.results = { meta, samples: {}, notes: {} };
    this.log = log;
  }

  add(profile: string, metric: Metric, col: Column, v: number): void {
    const byMetric = this.results.samples[profile] ?? {};
    this.results.samples[profile] = byMetric;
    const byCol = byMetric[metric] ?? {};
    byMetric[metric] = byCol;
    const list = byCol[col] ?? [];
    byCol[col] = list;
    list.push(v);
  }

  note(profile: string, col: Column, text: string): void {
    const n = this.results.notes[profile] ?? {};
    this.results.notes[profile] = n;
    const list = n[col] ?? [];
    n[col] = list;
    list.push(text);
    this.log(`  ! ${profile} ${col}: ${text}`);
  }

  /** BEFORESTART, if given, may rewrite a node's configuration before its daemon starts. */
  async makePair(
    impl: Column,
    p: Profile,
    subnet: string,
    beforeStart?: (m: Machine) => void,
  ): Promise<Pair> {
    const nodes = await this.lab.addPair(
      `${String.fromCharCode(97 + this.pairsMade++)}${impl.slice(0, 2)}`,
      subnet,
    );
    const vips = Array.from({ length: this.vipCount }, (_, i) => `${subnet}.${100 + i}`);
    const monitors: [AddrMonitor, AddrMonitor] = [
      new AddrMonitor(nodes[0].netns),
      new AddrMonitor(nodes[1].netns),
    ];
    for (const m of nodes) {
      configure(impl, p, m, vips);
      beforeStart?.(m);
    }
    // Start both, then wait for the preferred node to hold the VIP.
    const d0 = { pid: await startDaemon(impl, p, nodes[0], nodes[1]), startedMs: Date.now() };
    const d1 = { pid: await startDaemon(impl, p, nodes[1], nodes[0]), startedMs: Date.now() };
    return { impl, nodes, vips, monitors, daemon: [d0, d1] };
  }

  /** Every VIP on node1, none on node2, nothing moved lately, node1's daemon past its start-up phase. */
  async settle(pair: Pair, p: Profile): Promise<boolean> {
    const [a, b] = pair.nodes;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const quietMs =
        (wallMicros() - Math.max(pair.monitors[0].lastUs(pair.vips), pair.monitors[1].lastUs(pair.vips))) /
        1000;
      const onA = a.addrs();
      const onB = b.addrs();
      if (
        pair.vips.every((v) => onA.has(v)) &&
        !pair.vips.some((v) => onB.has(v)) &&
        quietMs > 2000 &&
        // tsbeat (like heartbeat) advertises a longer deadtime in its first 5 s.
        Date.now() - pair.daemon[0].startedMs > 6000
      )
        break;
      if (Date.now() > deadline) return false;
      await sleep(100);
    }
    // A random point of the keepalive cycle.
    await sleep(Math.random() * p.keepaliveMs);
    return true;
  }

  /** Reboots node1 and starts its daemon again (after a crash or a stop). */
  async restart(pair: Pair, p: Profile): Promise<void> {
    const [a, b] = pair.nodes;
    a.halt();
    a.delAddrs(pair.vips.map((v) => `${v}/24`));
    await a.boot();
    pair.daemon[0] = { pid: await startDaemon(pair.impl, p, a, b), startedMs: Date.now() };
  }

  async runOne(kind: Kind, pair: Pair, p: Profile): Promise<void> {
    const impl = pair.impl as ImplName;
    const [a, b] = pair.nodes;
    if (!(await this.settle(pair, p))) {
      this.note(
        this.key(p),
        impl,
        `${kind}: pair did not settle (VIP on node1 only) within 120 s; run skipped`,
      );
      await this.restart(pair, p);
      return;
    }
    const capture = kind === 'crash' && existsSync(TCPDUMP_BIN) ? new Capture(b.netns, a.addr) : undefined;
    if (capture) {
      if (!(await capture.ready(10_000)))
        this.note(this.key(p), impl, 'tcpdump saw no packet from node1 in 10 s');
      await sleep(Math.random() * p.keepaliveMs);
    }
    const env = { TSBEAT_RUNDIR: join(a.dir, 'run') };
    let t0: number;
    if (kind === 'crash') {
      t0 = a.crash();
    } else if (kind === 'graceful') {
      t0 = wallMicros();
      process.kill(pair.daemon[0].pid, 'SIGTERM');
    } else {
      const cmd = standbyCmd(impl, 'standby')!;
      t0 = wallMicros();
      void a.exec(cmd, { timeoutMs: 60_000, env });
    }
    const ev = await pair.monitors[1].all(pair.vips, true, t0, 60_000);
    await capture?.stop();
    if (process.env['TSBEAT_BENCH_DEBUG'])
      this.log(
        `    t0 ${t0} vip ${ev?.tUs} packets ${capture?.stamps
          .slice(-5)
          .map((x) => x - t0)
          .join(' ')}`,
      );
    if (ev === undefined) this.note(this.key(p), impl, `${kind}: VIP not on node2 within 60 s`);
    else this.add(this.key(p), kind, impl, (ev.tUs - t0) / 1000);
    const extra: string[] = [];
    const last = capture?.lastBefore(ev?.tUs ?? 0);
    if (ev && last !== undefined) {
      this.add(this.key(p), 'silence', impl, (ev.tUs - last) / 1000);
      this.add(this.key(p), 'action', impl, (ev.tUs - last) / 1000 - detectionLimitMs(impl, p));
      extra.push(`silence->VIP ${((ev.tUs - last) / 1000).toFixed(1)} ms`);
    }
    if (ev && kind === 'crash' && impl === 'tsbeat') {
      try {
        const events = await tsbeatJournal(b);
        if (process.env['TSBEAT_BENCH_DEBUG'])
          writeFileSync(join(b.dir, 'journal.json'), JSON.stringify(events, null, 1));
        const dead = events.findLast((e) => e.kind === 'nodeDead' && e.node === 'node1');
        const after = dead ? events.slice(events.indexOf(dead)) : [];
        const agent = after.find((e) => e.kind === 'agent' && e.agent === 'IPaddr2' && e.action === 'start');
        // The verdict's listeners (the journal's nodeDead entry among them) run after the
        // resource hand-off it sets off in the same turn, whose work item is stamped when handed
        // out: the verdict is the earlier of the two.
        const work = dead
          ? events.find(
              (e) =>
                e.kind === 'work' &&
                e.action === 'acquire' &&
                e.peer === 'node1' &&
                Math.abs(e.monoMs - dead.monoMs) < 50,
            )
          : undefined;
        if (dead && agent && agent.kind === 'agent') {
          const verdictUs = Math.min(
            journalWallUs(events, dead),
            work ? journalWallUs(events, work) : Number.POSITIVE_INFINITY,
          );
          // The agent entry is written when the start ends; it began durationMs earlier.
          const agentStartUs = journalWallUs(events, agent) - agent.durationMs * 1000;
          this.add(this.key(p), 'verdict', impl, (ev.tUs - verdictUs) / 1000);
          this.add(this.key(p), 'dispatch', impl, (agentStartUs - verdictUs) / 1000);
          extra.push(`verdict->VIP ${((ev.tUs - verdictUs) / 1000).toFixed(2)} ms`);
        } else {
          this.note(this.key(p), impl, 'crash: no nodeDead / IPaddr2 start in the journal');
        }
      } catch (e) {
        this.note(this.key(p), impl, `crash: journal unreadable: ${(e as Error).message}`);
      }
    }
    this.log(
      `  ${this.key(p)} ${kind.padEnd(8)} ${impl.padEnd(10)} ${ev ? `${((ev.tUs - t0) / 1000).toFixed(1)} ms` : 'timeout'} ${extra.join(', ')}`,
    );
    if (kind === 'standby') {
      // Move it back the way an operator would; wait for node2 to have released it.
      await pair.monitors[1].all(pair.vips, false, t0, 30_000);
      await a.exec(standbyCmd(impl, 'takeover')!, { timeoutMs: 60_000, env });
      await pair.monitors[0].all(pair.vips, true, wallMicros() - 1_000_000, 60_000);
    } else {
      await this.restart(pair, p);
    }
  }

  async idle(pairs: readonly Pair[], p: Profile, seconds: number): Promise<void> {
    const before = pairs.map((x) => x.nodes.map(footprint));
    const t = performance.now();
    await sleep(seconds * 1000);
    const minutes = (performance.now() - t) / 60_000;
    pairs.forEach((x, i) => {
      x.nodes.forEach((m, j) => {
        const f = footprint(m);
        const b = before[i]![j]!;
        this.add(this.key(p), 'cpu', x.impl, (f.cpuMs - b.cpuMs) / minutes);
        this.add(this.key(p), 'rss', x.impl, f.rssKb / 1024);
        this.add(this.key(p), 'pss', x.impl, f.pssKb / 1024);
        this.add(this.key(p), 'procs', x.impl, f.procs);
      });
    });
  }

  async profile(
    p: Profile,
    impls: readonly ImplName[],
    kinds: readonly Kind[],
    runs: number,
    idleS: number,
    net: number,
  ): Promise<void> {
    this.log(
      `== profile ${this.key(p)}: keepalive ${p.keepalive} deadtime ${p.deadtime} | VRRPv${p.vrrpVersion} advert_int ${p.advertInt}`,
    );
    const pairs: Pair[] = [];
    for (const [i, impl] of [...impls, 'floor' as const].entries()) {
      pairs.push(await this.makePair(impl, p, `10.${231 + net}.${i + 1}`));
    }
    const live = pairs.filter((x) => x.impl !== 'floor');
    for (const x of live) {
      if (!(await this.settle(x, p))) {
        this.note(
          p.name,
          x.impl as ImplName,
          'pair did not come up (VIP on node1 only) within 120 s; left out',
        );
        const out = join(x.nodes[0].dir, `${x.impl}.out`);
        if (existsSync(out)) this.log(readFileSync(out, 'utf8').split('\n').slice(-15).join('\n'));
      }
    }
    const ok = live.filter((x) => !this.results.notes[this.key(p)]?.[x.impl]);
    this.log(`  idle window ${idleS} s (all pairs and the floor at once)`);
    await this.idle([...ok, pairs.at(-1)!], p, idleS);
    for (let r = 0; r < runs; r++) {
      for (const kind of kinds) {
        for (const x of ok) {
          if (kind === 'standby' && x.impl === 'keepalived') continue;
          await this.runOne(kind, x, p);
        }
      }
    }
    // What each daemon said about the timing it was given (heartbeat warns rather than refuses).
    for (const x of live) {
      const said = new Set<string>();
      for (const m of x.nodes) {
        const log = join(m.dir, 'ha-log');
        const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
        for (const line of text.split('\n')) {
          if (/(WARN|ERROR|CRIT)/.test(line) && /(deadtime|keepalive|warntime|initdead)/.test(line))
            said.add(line.replace(/^.*?(WARN|ERROR|CRIT)/, '$1'));
        }
      }
      for (const line of said) this.note(this.key(p), x.impl, `said: ${line}`);
    }
    for (const x of pairs) for (const mon of x.monitors) mon.stop();
    for (const x of pairs) for (const m of x.nodes) m.halt();
  }

  destroy(): void {
    this.lab.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Output

export const fmt = (v: number): string =>
  Number.isInteger(v) || Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);

export function formatTable(r: Results): string {
  const out: string[] = [];
  for (const [profile, byMetric] of Object.entries(r.samples)) {
    const p = PROFILES[profile.split('/')[0] as Profile['name']];
    out.push(
      `profile ${profile}${profile.includes('/') ? ' per pair, times to the last VIP configured' : ''}: tsbeat/heartbeat keepalive ${p?.keepalive} deadtime ${p?.deadtime}, keepalived VRRPv${p?.vrrpVersion} advert_int ${p?.advertInt}`,
    );
    const cols: Column[] = ['tsbeat', 'heartbeat', 'keepalived', 'floor'];
    out.push(`  ${'min / median / max'.padEnd(50)} ${cols.map((c) => c.padStart(22)).join('')}`);
    for (const metric of Object.keys(METRICS) as Metric[]) {
      const byCol = byMetric[metric];
      if (!byCol) continue;
      const cells = cols.map((c) => {
        const s = stats(byCol[c] ?? []);
        return (s ? `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.max)}` : '-').padStart(22);
      });
      const n = Math.max(...cols.map((c) => byCol[c]?.length ?? 0));
      out.push(`  ${`${METRICS[metric]} n=${n}`.padEnd(50)} ${cells.join('')}`);
    }
    for (const [col, notes] of Object.entries(r.notes[profile] ?? {})) {
      for (const n of notes ?? []) out.push(`  note ${col}: ${n}`);
    }
    out.push('');
  }
  return out.join('\n');
}

/**
 * Issue 15's targets, checked against this run's own figures (peers and floor measured in the
 * same run). A target whose figures this run did not produce is reported as such.
 */
export function checkTargets(r: Results): string {
  const med = (profile: string, metric: Metric, col: Column): number | undefined =>
    stats(r.samples[profile]?.[metric]?.[col] ?? [])?.median;
  const max = (profile: string, metric: Metric, col: Column): number | undefined =>
    stats(r.samples[profile]?.[metric]?.[col] ?? [])?.max;
  const lines: string[] = [];
  const check = (what: string, value: number | undefined, limit: number | undefined, unit: string): void => {
    if (value === undefined || limit === undefined) {
      lines.push(`  ${'n/a'.padEnd(7)} ${what} (not measured in this run)`);
      return;
    }
    lines.push(
      `  ${(value <= limit ? 'met' : 'NOT met').padEnd(7)} ${what}: ${fmt(value)} ${unit} (limit ${fmt(limit)} ${unit})`,
    );
  };
  const scale = (x: number | undefined, f: number): number | undefined =>
    x === undefined ? undefined : x * f;
  check('verdict -> VIP, median, 100ms', med('100ms', 'verdict', 'tsbeat'), 1, 'ms');
  check('verdict -> VIP, max, 100ms', max('100ms', 'verdict', 'tsbeat'), 5, 'ms');
  check('verdict -> VIP, median, 1s', med('1s', 'verdict', 'tsbeat'), 1, 'ms');
  check('verdict -> VIP, max, 1s', max('1s', 'verdict', 'tsbeat'), 5, 'ms');
  check(
    'crash failover at 100ms, median <= 0.8 x keepalived',
    med('100ms', 'crash', 'tsbeat'),
    scale(med('100ms', 'crash', 'keepalived'), 0.8),
    'ms',
  );
  for (const prof of ['1s', '100ms']) {
    check(`graceful handover, median, ${prof}`, med(prof, 'graceful', 'tsbeat'), 20, 'ms');
    check(`hb_standby, median, ${prof}`, med(prof, 'standby', 'tsbeat'), 50, 'ms');
    check(
      `RSS of daemon + helpers <= 1.15 x floor, median, ${prof}`,
      med(prof, 'rss', 'tsbeat'),
      scale(med(prof, 'rss', 'floor'), 1.15),
      'MB',
    );
  }
  check(
    'idle CPU at 100ms <= 1.5 x floor, median',
    med('100ms', 'cpu', 'tsbeat'),
    scale(med('100ms', 'cpu', 'floor'), 1.5),
    'ms/min',
  );
  check('idle CPU at 1s, median', med('1s', 'cpu', 'tsbeat'), 30, 'ms/min');
  for (const prof of ['1s', '100ms']) {
    const key = `${prof}/100 VIPs`;
    if (r.samples[key])
      check(`100 VIPs: verdict -> last VIP, median, ${prof}`, med(key, 'verdict', 'tsbeat'), 50, 'ms');
  }
  lines.push('  (not evaluated here: "no bimodality", and the load runs of issue 15 item 4)');
  return `targets of issue 15, this run:\n${lines.join('\n')}\n`;
}

function versionOf(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]?.trim() ?? '';
}

export async function run(argv: readonly string[] = []): Promise<void> {
  let o: {
    runs?: string;
    idle?: string;
    profile?: string[];
    only?: string[];
    kinds?: string[];
    vips?: string[];
    json?: string;
    'from-json'?: string;
    help?: boolean;
  };
  try {
    o = parseArgs({
      args: [...argv],
      options: {
        runs: { type: 'string' },
        idle: { type: 'string' },
        profile: { type: 'string', multiple: true },
        only: { type: 'string', multiple: true },
        kinds: { type: 'string', multiple: true },
        vips: { type: 'string', multiple: true },
        'from-json': { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    process.stderr.write(`bench failover: ${(e as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (o['from-json'] !== undefined) {
    let r: Results;
    try {
      r = JSON.parse(readFileSync(o['from-json'], 'utf8')) as Results;
    } catch (e) {
      process.stderr.write(`bench failover: --from-json ${o['from-json']}: ${(e as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`failover results of ${JSON.stringify(r.meta)}\n`);
    process.stdout.write(formatTable(r));
    process.stdout.write(checkTargets(r));
    return;
  }
  const runs = Number(o.runs ?? '5');
  const idleS = Number(o.idle ?? '60');
  if (!Number.isInteger(runs) || runs < 1 || !Number.isFinite(idleS) || idleS < 1) {
    process.stderr.write(
      `bench failover: --runs must be an integer >= 1 and --idle a number >= 1\n\n${USAGE}`,
    );
    process.exitCode = 2;
    return;
  }
  const profiles = (o.profile ?? ['1s', '100ms']).map((n) => PROFILES[n as Profile['name']]);
  if (profiles.some((p) => p === undefined)) {
    process.stderr.write(`bench failover: --profile is 1s or 100ms\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  let impls = (o.only ?? [...IMPLS]) as ImplName[];
  if (impls.some((i) => !IMPLS.includes(i))) {
    process.stderr.write(`bench failover: --only is tsbeat, heartbeat or keepalived\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const vipCounts = (o.vips ?? ['1']).map(Number);
  if (vipCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 150)) {
    process.stderr.write(`bench failover: --vips takes an integer 1-150\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const kinds = (o.kinds ?? [...KINDS]) as Kind[];
  if (kinds.some((k) => !KINDS.includes(k))) {
    process.stderr.write(`bench failover: --kinds is crash, graceful or standby\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (process.getuid?.() !== 0) {
    process.stdout.write('failover: skipped (needs root for namespaces)\n');
    return;
  }
  const missing: string[] = [];
  if (impls.includes('heartbeat') && !existsSync(HEARTBEAT_BIN))
    missing.push('heartbeat (apt-get install heartbeat)');
  if (impls.includes('keepalived') && !existsSync(KEEPALIVED_BIN))
    missing.push('keepalived (apt-get install keepalived)');
  impls = impls.filter(
    (i) =>
      !(i === 'heartbeat' && !existsSync(HEARTBEAT_BIN)) &&
      !(i === 'keepalived' && !existsSync(KEEPALIVED_BIN)),
  );
  for (const m of missing) process.stdout.write(`failover: left out, not installed: ${m}\n`);

  const meta = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    loadavgStart: loadavg(),
    node: process.version,
    heartbeat: versionOf('dpkg-query', ['-W', '-f=$' + '{Version}', 'heartbeat']),
    keepalived: versionOf(KEEPALIVED_BIN, ['--version']),
    runs,
    idleSeconds: idleS,
    profiles: profiles.map((p) => p!.name),
    implementations: impls,
    kinds,
    vipsPerPair: vipCounts,
  };
  const bench = new Bench(meta, (s) => process.stdout.write(`${s}\n`));
  process.stdout.write(`failover: namespaces ${bench.lab.prefix}-*, files in ${bench.lab.root}\n`);
  const stop = (): void => {
    bench.destroy();
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    let net = 0;
    for (const n of vipCounts) {
      bench.vipCount = n;
      for (const p of profiles) await bench.profile(p!, impls, kinds, runs, idleS, net++);
    }
  } finally {
    bench.destroy();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  (bench.results.meta as Record<string, unknown>)['loadavgEnd'] = loadavg();
  const left = bench.lab.leftovers();
  if (left.length > 0) process.stdout.write(`failover: WARNING namespaces left behind: ${left.join(' ')}\n`);
  process.stdout.write(
    `\nfailover (${runs} runs each, interleaved; ${cpus().length} CPUs, load average at start ${meta.loadavgStart.map((x) => x.toFixed(2)).join(' ')}, end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})\n`,
  );
  process.stdout.write(formatTable(bench.results));
  process.stdout.write(checkTargets(bench.results));
  if (o.json) {
    writeFileSync(o.json, `${JSON.stringify(bench.results, null, 2)}\n`);
    process.stdout.write(`failover: samples written to ${o.json}\n`);
  }
}
