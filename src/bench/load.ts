// Part: `npm run bench -- load` (root): issue 15's load runs. A tsbeat pair and a keepalived pair
// (namespace machines of src/lab/machine.ts, set up by the failover bench's harness) run side by
// side at keepalive 50 ms / deadtime 150 ms against VRRPv3 advert_int 0.05, through two phases of
// N minutes each, and every VIP address event is counted: with nothing wrong, the VIP never
// leaves node1, so any add on the backup or delete on the active node is a false failover.
//
// Phase "cpu": two busy loops at the daemons' own scheduling level, read from /proc/PID/stat once
// the pairs have settled. tsbeat puts itself at SCHED_RR 1 (heartbeat's realtime default), which
// would let RT hogs starve a keepalived left at nice 0; so keepalived is given the level tsbeat
// has (vrrp_rt_priority / vrrp_priority), and both daemons compete with hogs at their own level.
//
// Phase "stall": no hogs; every log of both daemons goes to a FIFO that nobody reads: tsbeat's
// logfile and debugfile, keepalived's console log (-l, with -G: no syslog). This process holds
// each FIFO open read-write (so opening it for writing does not fail or block), drains it while
// the daemons start, and once the pairs have settled fills the 64 KiB pipe and never reads
// again: from then on every log write blocks (keepalived, a blocking fd) or fails EAGAIN (tsbeat).
//
// Figures come from the kernel: VIP events from `ip -ts monitor address`, heartbeats and adverts
// from tcpdump's kernel stamps; tsbeat's late heartbeats from its metrics endpoint, its "node
// dead" verdicts from its journal, its log queues from its status.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, getPriority, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { apiSocketPaths } from '../ipc/api.js';
import { openFirst } from '../ipc/client.js';
import type { LogWire } from '../ipc/schema.js';
import { childrenOf, type Machine, sleep, wallMicros } from '../lab/machine.js';
import {
  type AddrEvent,
  Bench,
  Capture,
  haCf,
  type ImplName,
  keepalivedConf,
  type Pair,
  PROFILES,
  tsbeatJournal,
} from './failover.js';

const KEEPALIVED_BIN = '/usr/sbin/keepalived';
const TCPDUMP_BIN = '/usr/bin/tcpdump';
const METRICS_PORT = 9694;
const PROFILE = PROFILES['50ms'];

export const USAGE = `usage: npm run bench -- load [--minutes N] [--phase cpu|stall]... [--only tsbeat|keepalived]...
                            [--hogs N] [--hogs-at daemon|normal] [--json FILE]

  --minutes N     length of each phase, in minutes (default 10; fractions allowed, e.g. 0.1)
  --phase P       phase(s) to run, in order (default both):
                    cpu    two CPU hogs at the daemons' own scheduling level
                    stall  no hogs; every daemon log on a FIFO that nobody reads
  --only IMPL     implementation(s) to run (default both: tsbeat, keepalived)
  --hogs N        CPU hogs in the cpu phase (default 2)
  --hogs-at L     their scheduling level (default daemon):
                    daemon  the daemons' own level (tsbeat's SCHED_RR 1; keepalived is put there
                            too): each wake-up of a daemon can wait a hog's whole 100 ms RR slice
                    normal  SCHED_OTHER at the daemons' nice value (ordinary CPU-bound work,
                            which heartbeat's realtime default exists to rise above)
  --json FILE     also write the results as JSON
tsbeat at keepalive 50ms, deadtime 150ms, warntime 100ms, initdead 300ms; keepalived VRRPv3
advert_int 0.05, each a pair of namespace machines moving one VIP, both pairs at once. Target
(issue 15): 0 false failovers in both phases. Exits 0 whatever the counts: it is a measurement.
Needs root, iproute2, util-linux, perl, tcpdump (for packet counts) and keepalived (apt
keepalived) for its column: a missing one is reported and left out.
`;

export type Phase = 'cpu' | 'stall';
const PHASES: readonly Phase[] = ['cpu', 'stall'];
const LOAD_IMPLS: readonly ImplName[] = ['tsbeat', 'keepalived'];

// ---------------------------------------------------------------------------------------------
// Pure: scheduling levels, VIP events, packet gaps

/** A task's scheduling class, from /proc/PID/stat. */
export interface SchedLevel {
  readonly policy: 'other' | 'fifo' | 'rr' | 'batch' | 'idle' | 'deadline';
  readonly rtPriority: number;
  readonly nice: number;
}

const POLICIES: readonly SchedLevel['policy'][] = ['other', 'fifo', 'rr', 'batch', 'idle', 'deadline'];

/** Fields 19 (nice), 40 (rt_priority) and 41 (policy) of a /proc/PID/stat line. */
export function parseSchedLevel(stat: string): SchedLevel | undefined {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const policy = POLICIES[Number(f[38])];
  if (policy === undefined || f[16] === undefined || f[37] === undefined) return undefined;
  return { policy, rtPriority: Number(f[37]), nice: Number(f[16]) };
}

export function describeLevel(l: SchedLevel): string {
  return l.policy === 'rr' || l.policy === 'fifo'
    ? `SCHED_${l.policy.toUpperCase()} ${l.rtPriority}`
    : `SCHED_${l.policy.toUpperCase()} nice ${l.nice}`;
}

/**
 * What the VIP did in one pair over a phase, node1 being the active node throughout: every add
 * on node2 and every delete on node1 is a false failover (counted as events, so one episode in
 * which node2 takes the VIP and node1 also drops it counts 2); every add on either node is a move.
 */
export interface VipCount {
  readonly falseFailovers: number;
  readonly backupAdds: number;
  readonly activeDeletes: number;
  readonly moves: number;
}

export function countVipEvents(
  active: readonly AddrEvent[],
  backup: readonly AddrEvent[],
  vips: readonly string[],
  sinceUs: number,
): VipCount {
  const ours = (es: readonly AddrEvent[]) => es.filter((e) => e.tUs >= sinceUs && vips.includes(e.addr));
  const a = ours(active);
  const b = ours(backup);
  const backupAdds = b.filter((e) => e.added).length;
  const activeDeletes = a.filter((e) => !e.added).length;
  return {
    falseFailovers: backupAdds + activeDeletes,
    backupAdds,
    activeDeletes,
    moves: a.filter((e) => e.added).length + backupAdds,
  };
}

/** Packets from one node as its peer received them, in [fromUs, toUs]: count and gaps. */
export interface GapStats {
  readonly packets: number;
  readonly maxGapMs: number;
  readonly gapsOverWarnMs: number;
  readonly gapsOverDeadMs: number;
}

export function gapStats(
  stampsUs: readonly number[],
  fromUs: number,
  toUs: number,
  warnMs: number,
  deadMs: number,
): GapStats {
  const s = stampsUs.filter((t) => t >= fromUs && t <= toUs);
  let maxGapMs = 0;
  let overWarn = 0;
  let overDead = 0;
  for (let i = 1; i < s.length; i++) {
    const gapMs = (s[i]! - s[i - 1]!) / 1000;
    maxGapMs = Math.max(maxGapMs, gapMs);
    if (gapMs > warnMs) overWarn++;
    if (gapMs > deadMs) overDead++;
  }
  return { packets: s.length, maxGapMs, gapsOverWarnMs: overWarn, gapsOverDeadMs: overDead };
}

/** `name{node="x"} 3` lines of a Prometheus text page: the sum of one metric's samples. */
export function sumMetric(page: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of page.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m) sum = (sum ?? 0) + Number(m[1]);
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Results

export interface ImplResult {
  readonly impl: ImplName;
  /** Seconds between the start of the load and its end. */
  readonly durationS: number;
  readonly vip: VipCount;
  /** The VIP on node1 and not on node2 at the end, and both daemons still running. */
  readonly endState: { readonly vipOnActiveOnly: boolean; readonly daemonsAlive: boolean };
  /** Scheduling level of each daemon process (node1 first), as the kernel reported it. */
  readonly levels: readonly string[];
  /** Heartbeats / adverts from node1 at node2 and from node2 at node1 (absent without tcpdump). */
  readonly packets?: { readonly from1: GapStats; readonly from2: GapStats };
  /** tsbeat only: late heartbeats and "node dead" verdicts over the phase, both nodes together. */
  readonly lateHeartbeats?: number;
  readonly deadVerdicts?: number;
  /** Stall phase: tsbeat's log destinations as its status reports them, node1 then node2. */
  readonly logs?: readonly (readonly LogWire[])[];
  /** Stall phase: log lines tsbeat offered its destinations during the stall (both nodes, all sinks). */
  readonly logLinesDuringStall?: number;
  /** Stall phase: where each keepalived process sleeps in the kernel (pipe_write: blocked on the log). */
  readonly wchan?: readonly string[];
}

export interface PhaseResult {
  readonly phase: Phase;
  /** Description of the load: hog level, or what was stalled. */
  readonly load: string;
  readonly results: ImplResult[];
  readonly notes: string[];
}

export interface LoadResults {
  readonly meta: Record<string, unknown>;
  readonly phases: PhaseResult[];
}

// ---------------------------------------------------------------------------------------------
// Shell: hogs, stalled logs

function schedLevelOf(pid: number): SchedLevel | undefined {
  try {
    return parseSchedLevel(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Busy loops at a given scheduling level. Each runs under `timeout` (a safety net of the phase
 * length plus a minute) with PR_SET_PDEATHSIG on both, so that no real-time hog can outlive this
 * process, and in its own process group, which stop() kills by its id.
 */
class Hogs {
  private readonly procs: ChildProcess[] = [];

  start(n: number, level: SchedLevel, seconds: number): void {
    const loop = ['sh', '-c', 'while :; do :; done'];
    const sched =
      level.policy === 'rr' || level.policy === 'fifo'
        ? ['chrt', `--${level.policy}`, String(level.rtPriority), ...loop]
        : ['nice', '-n', String(level.nice - getPriority()), ...loop];
    const cmd = [
      ...['setpriv', '--pdeathsig', 'KILL', '--', 'timeout', '-s', 'KILL', `${Math.ceil(seconds) + 60}s`],
      ...['setpriv', '--pdeathsig', 'KILL', '--', ...sched],
    ];
    for (let i = 0; i < n; i++) {
      const p = spawn(cmd[0]!, cmd.slice(1), { detached: true, stdio: 'ignore' });
      p.on('error', () => {});
      this.procs.push(p);
    }
  }

  /** The level each hog's busy loop actually runs at (once it has exec'd). */
  async levels(): Promise<string[]> {
    const out: string[] = [];
    for (const p of this.procs) {
      let level: SchedLevel | undefined;
      for (let i = 0; i < 100 && level === undefined; i++) {
        const loop = p.pid === undefined ? undefined : childrenOf(p.pid)[0];
        let comm = '';
        try {
          comm = loop === undefined ? '' : readFileSync(`/proc/${loop}/comm`, 'utf8').trim();
        } catch {
          // not yet, or gone
        }
        if (loop !== undefined && comm === 'sh') level = schedLevelOf(loop);
        else await sleep(20);
      }
      out.push(level ? describeLevel(level) : 'unknown');
    }
    return out;
  }

  stop(): void {
    for (const p of this.procs.splice(0)) {
      try {
        if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/**
 * A FIFO standing in for a log disk. Held open read-write by this process, so a daemon's open
 * for writing neither fails (ENXIO, no reader) nor blocks; drained into FILE.drained while the
 * daemons start; stall() fills the pipe and stops reading.
 */
class StalledLog {
  readonly path: string;
  private fd: number | undefined;
  private drain: NodeJS.Timeout | undefined;
  filledBytes = 0;

  constructor(path: string) {
    this.path = path;
    const r = spawnSync('mkfifo', ['-m', '0600', path], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mkfifo ${path}: ${r.stderr}`);
    this.fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    this.drain = setInterval(() => this.drainOnce(), 50);
  }

  private drainOnce(): void {
    if (this.fd === undefined) return;
    const buf = Buffer.alloc(65536);
    const out = openSync(`${this.path}.drained`, 'a');
    try {
      for (;;) {
        const n = readSync(this.fd, buf);
        if (n <= 0) break;
        writeSync(out, buf, 0, n);
      }
    } catch {
      // EAGAIN: empty
    } finally {
      closeSync(out);
    }
  }

  /** From now on nobody reads: what the daemons had written is drained, then the pipe is filled. */
  stall(): void {
    clearInterval(this.drain);
    this.drainOnce();
    if (this.fd === undefined) return;
    const chunk = Buffer.alloc(4096, '#');
    try {
      for (;;) this.filledBytes += writeSync(this.fd, chunk);
    } catch {
      // EAGAIN: full
    }
  }

  close(): void {
    clearInterval(this.drain);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Shell: one phase

async function metricsPage(m: Machine): Promise<string> {
  const script = `fetch('http://127.0.0.1:${METRICS_PORT}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))`;
  const r = await m.exec([process.execPath, '-e', script], { timeoutMs: 20_000 });
  return r.code === 0 ? r.out : '';
}

async function tsbeatLogs(m: Machine): Promise<readonly LogWire[]> {
  const session = await openFirst([apiSocketPaths(join(m.dir, 'run')).read], 5000);
  try {
    return (await session.call('status', {})).logs;
  } finally {
    session.close();
  }
}

/** Lines a daemon has handed its log destinations: written, waiting, or dropped. */
const linesOffered = (logs: readonly LogWire[]): number =>
  logs.reduce((s, l) => s + l.writtenLines + l.queuedLines + l.droppedLines, 0);

function wchanOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/wchan`, 'utf8').trim() || '-';
  } catch {
    return 'gone';
  }
}

/** keepalived's config at level L (vrrp_rt_priority, else vrrp_priority), for the phase's logging. */
function keepalivedConfAt(m: Machine, vips: readonly string[], level: SchedLevel | undefined): string {
  const sched =
    level === undefined
      ? []
      : level.policy === 'rr' || level.policy === 'fifo'
        ? [`  vrrp_rt_priority ${level.rtPriority}`]
        : [`  vrrp_priority ${level.nice}`];
  return keepalivedConf(PROFILE, m, vips).replace(
    'global_defs {\n',
    `global_defs {\n${sched.map((s) => `${s}\n`).join('')}`,
  );
}

class LoadBench {
  readonly bench: Bench;
  private readonly log: (s: string) => void;
  private readonly hogs = new Hogs();
  private readonly stalls: StalledLog[] = [];
  private readonly pairs: Pair[] = [];

  constructor(meta: Record<string, unknown>, log: (s: string) => void) {
    this.bench = new Bench(meta, () => {});
    this.log = log;
  }

  private stalledLog(path: string): string {
    this.stalls.push(new StalledLog(path));
    return path;
  }

  async phase(
    phase: Phase,
    impls: readonly ImplName[],
    minutes: number,
    hogs: number,
    net: number,
    hogsAt: 'daemon' | 'normal' = 'daemon',
  ): Promise<PhaseResult> {
    const notes: string[] = [];
    const note = (s: string): void => {
      notes.push(s);
      this.log(`  ! ${s}`);
    };
    this.log(`== phase ${phase}: ${minutes} min`);
    const pairs: Pair[] = [];
    let tsbeatLevel: SchedLevel | undefined;
    for (const [i, impl] of impls.entries()) {
      const subnet = `10.${241 + net}.${i + 1}`;
      const pair = await this.bench.makePair(impl, PROFILE, subnet, (m) => {
        if (impl === 'tsbeat') {
          // Metrics for the late-heartbeat counter; in the stall phase, both log files on FIFOs.
          writeFileSync(join(m.haDir, 'tsbeat.cf'), `metrics 127.0.0.1:${METRICS_PORT}\n`);
          const logs =
            phase === 'stall'
              ? `logfile ${this.stalledLog(join(m.dir, 'ha-log.fifo'))}\ndebugfile ${this.stalledLog(join(m.dir, 'ha-debug.fifo'))}`
              : `logfile ${join(m.dir, 'ha-log')}`;
          writeFileSync(join(m.haDir, 'ha.cf'), haCf(PROFILE, m).replace(/^logfile .*$/m, logs));
          // In the foreground tsbeat also mirrors its log to stderr (the machine's tsbeat.out).
          if (phase === 'stall') this.stalledLog(join(m.dir, 'tsbeat.out'));
        } else {
          // keepalived at tsbeat's level; its console log (stdout and stderr, the machine's
          // keepalived.out) on a FIFO in the stall phase, and no syslog there (-G is not
          // needed: this host has no /dev/log, so syslog() writes nothing).
          writeFileSync(join(m.dir, 'keepalived.conf'), keepalivedConfAt(m, [`${subnet}.100`], tsbeatLevel));
          if (phase === 'stall') this.stalledLog(join(m.dir, 'keepalived.out'));
        }
      });
      pairs.push(pair);
      this.pairs.push(pair);
      // keepalived is configured at the level tsbeat took: wait for tsbeat to have taken it.
      if (impl === 'tsbeat' && (await this.bench.settle(pair, PROFILE)))
        tsbeatLevel = schedLevelOf(pair.daemon[0].pid);
    }
    const live: Pair[] = [];
    for (const x of pairs) {
      if (await this.bench.settle(x, PROFILE)) live.push(x);
      else note(`${x.impl} pair did not settle (VIP on node1 only) within 120 s; left out`);
    }
    const levelsOf = (x: Pair): string[] =>
      x.nodes.flatMap((m) =>
        (x.impl === 'keepalived' ? m.pids() : [x.daemon[m === x.nodes[0] ? 0 : 1].pid]).map((pid) => {
          const l = schedLevelOf(pid);
          return l ? describeLevel(l) : 'gone';
        }),
      );
    // Start the counters before the load: with RT hogs, anything at normal priority crawls.
    const captures = new Map<Pair, [Capture, Capture]>();
    if (existsSync(TCPDUMP_BIN)) {
      for (const x of live) {
        const c: [Capture, Capture] = [
          new Capture(x.nodes[1].netns, x.nodes[0].addr),
          new Capture(x.nodes[0].netns, x.nodes[1].addr),
        ];
        // A VRRP backup sends nothing: only node1's adverts must show up.
        for (const cap of x.impl === 'tsbeat' ? c : [c[0]])
          if (!(await cap.ready(10_000))) note(`${x.impl}: tcpdump saw no packet in 10 s`);
        captures.set(x, c);
      }
    } else {
      note('tcpdump not installed: no packet counts');
    }
    const lateBefore = new Map<Pair, number>();
    for (const x of live.filter((p) => p.impl === 'tsbeat')) {
      let n = 0;
      for (const m of x.nodes)
        n += sumMetric(await metricsPage(m), 'tsbeat_late_heartbeats_total') ?? Number.NaN;
      lateBefore.set(x, n);
    }
    // What tsbeat had logged before the stall, to tell how many lines it tried to log during it.
    const logsBefore = new Map<Machine, readonly LogWire[]>();
    if (phase === 'stall')
      for (const x of live.filter((p) => p.impl === 'tsbeat'))
        for (const m of x.nodes) logsBefore.set(m, await tsbeatLogs(m).catch(() => []));
    let load: string;
    const t0 = wallMicros();
    if (phase === 'cpu') {
      // Without tsbeat, keepalived's own level (its VRRP process, the one that sends adverts).
      const own = (x: Pair | undefined): SchedLevel | undefined =>
        x === undefined ? undefined : schedLevelOf(x.nodes[0].pids().at(-1) ?? 0);
      const daemonLevel = tsbeatLevel ?? own(live[0]) ?? schedLevelOf(process.pid)!;
      const level: SchedLevel =
        hogsAt === 'daemon' ? daemonLevel : { policy: 'other', rtPriority: 0, nice: daemonLevel.nice };
      this.hogs.start(hogs, level, minutes * 60);
      const hogLevels = await this.hogs.levels();
      load = `${hogs} CPU hog${hogs === 1 ? '' : 's'} (sh busy loops) at ${hogLevels.join(', ') || '-'}`;
    } else {
      for (const s of this.stalls) s.stall();
      load = `no hogs; logs on ${this.stalls.length} FIFOs nobody reads, each filled (${this.stalls.map((s) => s.filledBytes).join(', ')} bytes)`;
    }
    this.log(`  load: ${load}`);
    for (const x of live) this.log(`  ${x.impl} daemons at: ${levelsOf(x).join(', ')}`);
    await sleep(minutes * 60_000);
    const t1 = wallMicros();
    this.hogs.stop();
    // Let the monitors and captures catch up with what happened before t1.
    await sleep(2000);

    const results: ImplResult[] = [];
    for (const x of live) {
      const [a, b] = x.nodes;
      const cap = captures.get(x);
      await Promise.all(cap?.map((c) => c.stop()) ?? []);
      const gaps = (c: Capture): GapStats =>
        gapStats(
          c.stamps,
          t0,
          t1,
          Number.parseInt(PROFILE.warntime, 10),
          Number.parseInt(PROFILE.deadtime, 10),
        );
      const onA = a.addrs();
      const onB = b.addrs();
      const r: {
        -readonly [K in keyof ImplResult]: ImplResult[K];
      } = {
        impl: x.impl as ImplName,
        durationS: (t1 - t0) / 1e6,
        vip: countVipEvents(x.monitors[0].events, x.monitors[1].events, x.vips, t0),
        endState: {
          vipOnActiveOnly: x.vips.every((v) => onA.has(v) && !onB.has(v)),
          daemonsAlive: x.daemon.every((d) => schedLevelOf(d.pid) !== undefined),
        },
        levels: levelsOf(x),
      };
      if (cap) r.packets = { from1: gaps(cap[0]), from2: gaps(cap[1]) };
      if (x.impl === 'tsbeat') {
        let late = 0;
        let dead = 0;
        let tried = 0;
        const logs: (readonly LogWire[])[] = [];
        for (const m of x.nodes) {
          late += sumMetric(await metricsPage(m), 'tsbeat_late_heartbeats_total') ?? Number.NaN;
          try {
            const events = await tsbeatJournal(m);
            dead += events.filter((e) => e.kind === 'nodeDead' && e.atMs * 1000 >= t0).length;
            if (phase === 'stall') {
              const now = await tsbeatLogs(m);
              logs.push(now);
              tried += linesOffered(now) - linesOffered(logsBefore.get(m) ?? []);
            }
          } catch (e) {
            note(`tsbeat ${m.name}: API unreadable: ${(e as Error).message}`);
          }
        }
        r.lateHeartbeats = late - (lateBefore.get(x) ?? 0);
        r.deadVerdicts = dead;
        if (phase === 'stall') {
          r.logs = logs;
          r.logLinesDuringStall = tried;
        }
      } else if (phase === 'stall') {
        r.wchan = x.nodes.flatMap((m) => m.pids().map((pid) => `${m.name}:${pid}:${wchanOf(pid)}`));
      }
      results.push(r);
    }
    for (const x of pairs) for (const mon of x.monitors) mon.stop();
    for (const x of pairs) for (const m of x.nodes) m.halt();
    for (const s of this.stalls.splice(0)) s.close();
    return { phase, load, results, notes };
  }

  /** Hogs, FIFOs, machines and namespaces; idempotent. */
  destroy(): void {
    this.hogs.stop();
    for (const x of this.pairs) for (const mon of x.monitors) mon.stop();
    this.bench.destroy();
    for (const s of this.stalls.splice(0)) s.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const pad = (s: string | number, n: number): string => String(s).padStart(n);

export function formatTable(r: LoadResults): string {
  const out: string[] = [
    `load: tsbeat keepalive ${PROFILE.keepalive} deadtime ${PROFILE.deadtime} warntime ${PROFILE.warntime} initdead ${PROFILE.initdead}, keepalived VRRPv${PROFILE.vrrpVersion} advert_int ${PROFILE.advertInt}`,
    `  ${'phase'.padEnd(6)} ${'impl'.padEnd(11)}${pad('minutes', 8)}${pad('false failovers', 16)}${pad('VIP moves', 10)}${pad('end ok', 7)}${pad('packets 1>2 / 2>1', 19)}${pad('max gap ms', 14)}${pad('gaps>150ms', 11)}${pad('late hb', 8)}${pad('dead', 5)}`,
  ];
  for (const p of r.phases) {
    for (const x of p.results) {
      const pk = x.packets;
      out.push(
        `  ${p.phase.padEnd(6)} ${x.impl.padEnd(11)}${pad((x.durationS / 60).toFixed(2), 8)}${pad(`${x.vip.falseFailovers} (${x.vip.backupAdds}+${x.vip.activeDeletes})`, 16)}${pad(x.vip.moves, 10)}${pad(x.endState.vipOnActiveOnly && x.endState.daemonsAlive ? 'yes' : 'NO', 7)}${pad(pk ? `${pk.from1.packets} / ${pk.from2.packets}` : '-', 19)}${pad(pk ? `${pk.from1.maxGapMs.toFixed(0)} / ${pk.from2.maxGapMs.toFixed(0)}` : '-', 14)}${pad(pk ? pk.from1.gapsOverDeadMs + pk.from2.gapsOverDeadMs : '-', 11)}${pad(x.lateHeartbeats ?? '-', 8)}${pad(x.deadVerdicts ?? '-', 5)}`,
      );
    }
  }
  out.push(
    '  false failovers = VIP adds on the backup + VIP deletes on the active node; VIP moves = VIP adds on',
    '  either node; end ok = VIP on node1 only and both daemons running at the end; packets and gaps',
    '  (kernel-stamped, between consecutive heartbeats/adverts) each way; late hb and dead: tsbeat only',
  );
  for (const p of r.phases) {
    out.push(`  ${p.phase}: ${p.load}`);
    for (const x of p.results) {
      out.push(`    ${x.impl} daemon levels: ${x.levels.join(', ')}`);
      if (x.logLinesDuringStall !== undefined)
        out.push(
          `    tsbeat log lines offered during the stall (both nodes, all destinations): ${x.logLinesDuringStall}`,
        );
      for (const [i, logs] of (x.logs ?? []).entries())
        out.push(
          `    tsbeat node${i + 1} logs: ${logs.map((l) => `${l.file.split('/').pop()} queued ${l.queuedLines} written ${l.writtenLines} dropped ${l.droppedLines}${l.lastError ? ` (${l.lastError})` : ''}`).join('; ')}`,
        );
      if (x.wchan) out.push(`    keepalived processes' wchan: ${x.wchan.join(' ')}`);
    }
    for (const n of p.notes) out.push(`    note: ${n}`);
  }
  return `${out.join('\n')}\n`;
}

/** Issue 15's load target against this run: 0 false failovers in both phases. */
export function checkTarget(r: LoadResults): string {
  const lines = ['target of issue 15, this run: 0 false failovers in both load runs (cpu, stall)'];
  for (const impl of LOAD_IMPLS) {
    const per = PHASES.map((ph) => ({
      ph,
      x: r.phases.find((p) => p.phase === ph)?.results.find((x) => x.impl === impl),
    }));
    if (per.every((p) => p.x === undefined)) continue;
    const missing = per.filter((p) => p.x === undefined).map((p) => p.ph);
    const total = per.reduce((s, p) => s + (p.x?.vip.falseFailovers ?? 0), 0);
    const verdict = total > 0 ? 'NOT met' : missing.length > 0 ? 'n/a' : 'met';
    lines.push(
      `  ${verdict.padEnd(7)} ${impl}: ${per.map((p) => `${p.ph} ${p.x ? p.x.vip.falseFailovers : 'not run'}`).join(', ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function run(argv: readonly string[] = []): Promise<void> {
  let o: {
    minutes?: string;
    phase?: string[];
    only?: string[];
    hogs?: string;
    'hogs-at'?: string;
    json?: string;
    help?: boolean;
  };
  try {
    o = parseArgs({
      args: [...argv],
      options: {
        minutes: { type: 'string' },
        phase: { type: 'string', multiple: true },
        only: { type: 'string', multiple: true },
        hogs: { type: 'string' },
        'hogs-at': { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    process.stderr.write(`bench load: ${(e as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  const minutes = Number(o.minutes ?? '10');
  const hogs = Number(o.hogs ?? '2');
  const hogsAt = (o['hogs-at'] ?? 'daemon') as 'daemon' | 'normal';
  const phases = (o.phase ?? [...PHASES]) as Phase[];
  let impls = (o.only ?? [...LOAD_IMPLS]) as ImplName[];
  const bad =
    !Number.isFinite(minutes) || minutes <= 0
      ? '--minutes must be a number > 0'
      : !Number.isInteger(hogs) || hogs < 0 || hogs > 64
        ? '--hogs must be an integer 0-64'
        : hogsAt !== 'daemon' && hogsAt !== 'normal'
          ? '--hogs-at is daemon or normal'
          : phases.some((p) => !PHASES.includes(p))
            ? '--phase is cpu or stall'
            : impls.some((i) => !LOAD_IMPLS.includes(i))
              ? '--only is tsbeat or keepalived'
              : undefined;
  if (bad) {
    process.stderr.write(`bench load: ${bad}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (process.getuid?.() !== 0) {
    process.stdout.write('load: skipped (needs root for namespaces)\n');
    return;
  }
  if (impls.includes('keepalived') && !existsSync(KEEPALIVED_BIN)) {
    process.stdout.write('load: left out, not installed: keepalived (apt-get install keepalived)\n');
    impls = impls.filter((i) => i !== 'keepalived');
  }
  const meta = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    loadavgStart: loadavg(),
    node: process.version,
    keepalived: spawnSync(KEEPALIVED_BIN, ['--version'], { encoding: 'utf8' }).stderr?.split('\n')[0] ?? '',
    minutesPerPhase: minutes,
    hogs,
    hogsAt,
    phases,
    implementations: impls,
    profile: PROFILE,
  };
  const lb = new LoadBench(meta, (s) => process.stdout.write(`${s}\n`));
  process.stdout.write(`load: namespaces ${lb.bench.lab.prefix}-*, files in ${lb.bench.lab.root}\n`);
  const stop = (): void => {
    lb.destroy();
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const results: LoadResults = { meta, phases: [] };
  try {
    for (const [i, ph] of phases.entries())
      results.phases.push(await lb.phase(ph, impls, minutes, hogs, i, hogsAt));
  } finally {
    lb.destroy();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  (results.meta as Record<string, unknown>)['loadavgEnd'] = loadavg();
  const left = lb.bench.lab.leftovers();
  if (left.length > 0) process.stdout.write(`load: WARNING namespaces left behind: ${left.join(' ')}\n`);
  process.stdout.write(
    `\nload (${minutes} min per phase; ${cpus().length} CPUs, load average at start ${meta.loadavgStart.map((x) => x.toFixed(2)).join(' ')}, end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})\n`,
  );
  process.stdout.write(formatTable(results));
  process.stdout.write(checkTarget(results));
  if (o.json) {
    writeFileSync(o.json, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`load: results written to ${o.json}\n`);
  }
}
