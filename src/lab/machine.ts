// Part: "machines" for the benchmarks: pairs of network namespaces joined by a veth, each node
// running inside its own PID, mount and UTS namespaces (the recipe of test/harness and
// shared/lab/heartbeat-node: hostname = node name, private /run tmpfs, private copy of
// /var/lib/heartbeat, a logging stub bind-mounted over reboot/halt/init/systemctl, a reaping
// init), so that real heartbeat 3.0.6 and keepalived can run beside tsbeat without touching the
// host. Everything carries a unique prefix and is removed by destroy(), by an exit hook, or, if
// this process is killed, by a detached janitor shell.
// Needs root, iproute2, util-linux (unshare, nsenter, setpriv) and perl-base.

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const STUB_MARKER = 'TSBEAT-LAB-REBOOT-STUB';
/** Files that can reboot or halt the host: heartbeat runs `reboot -nf` when a stop fails. */
const DANGEROUS = [
  '/sbin/reboot',
  '/sbin/halt',
  '/sbin/poweroff',
  '/sbin/shutdown',
  '/sbin/init',
  '/sbin/telinit',
  '/usr/bin/systemctl',
  '/usr/lib/systemd/systemd',
];
/** Files of /var/lib/heartbeat that identify a node: never copied from the host. */
const NODE_IDENTITY = new Set(['hb_uuid', 'hb_generation', 'hostcache', 'delhostcache', 'fifo']);

function sh(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(input === undefined ? {} : { input }),
  });
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Field 22 of /proc/PID/stat: with the pid it names one process, so a reused pid is never hit. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Running (not a zombie) and the same incarnation. */
function alive(pid: number, start: string | undefined): boolean {
  if (pid === 0 || start === undefined) return false;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return f[0] !== 'Z' && f[0] !== 'X' && f[19] === start;
  } catch {
    return false;
  }
}

/** Host pids of a process's children (its main thread's). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One node: a network namespace with eth0, and (once booted) a machine inside it. */
export class Machine {
  /** Host pid of the PID namespace's init; SIGKILL of it kills every process of the node. */
  initPid = 0;
  private initStart: string | undefined;
  private unshare: ChildProcess | undefined;

  readonly lab: Lab;
  /** Node name = hostname inside the machine. */
  readonly name: string;
  readonly netns: string;
  readonly addr: string;
  readonly dir: string;

  constructor(lab: Lab, name: string, netns: string, addr: string, dir: string) {
    this.lab = lab;
    this.name = name;
    this.netns = netns;
    this.addr = addr;
    this.dir = dir;
  }

  /** Host path of the machine's /etc/ha.d (`ip netns exec` bind-mounts /etc/netns/NS/ha.d). */
  get haDir(): string {
    return `/etc/netns/${this.netns}/ha.d`;
  }

  /** @internal */
  prepare(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const etc = `/etc/netns/${this.netns}`;
    rmSync(etc, { recursive: true, force: true });
    mkdirSync(etc, { recursive: true });
    if (existsSync('/etc/ha.d')) {
      cpSync('/etc/ha.d', this.haDir, {
        recursive: true,
        verbatimSymlinks: true,
        filter: (src) => !['ha.cf', 'authkeys', 'haresources'].includes(src.slice('/etc/ha.d/'.length)),
      });
    } else {
      mkdirSync(this.haDir, { recursive: true });
    }
    const lib = join(this.dir, 'var-lib-heartbeat');
    if (existsSync('/var/lib/heartbeat')) {
      cpSync('/var/lib/heartbeat', lib, {
        recursive: true,
        verbatimSymlinks: true,
        filter: (src) => !NODE_IDENTITY.has(src.slice('/var/lib/heartbeat/'.length)),
      });
    } else {
      mkdirSync(lib, { recursive: true });
    }
    const stub = join(this.dir, 'reboot-stub');
    writeFileSync(
      stub,
      `#!/bin/sh\n# ${STUB_MARKER}: bind-mounted over reboot/halt/init/systemctl inside ${this.name}\n` +
        `echo "$(date '+%F %T.%N') STUB $0 $*" >> ${shq(join(this.dir, 'reboot-stub.log'))}\nexit 0\n`,
      { mode: 0o755 },
    );
    const targets = [...new Set(DANGEROUS.filter((p) => existsSync(p)).map((p) => realpathSync(p)))];
    const script = [
      '#!/bin/sh',
      'set -eu',
      `echo ${shq(this.name)} > /proc/sys/kernel/hostname`,
      'mount -t tmpfs -o mode=0755,size=65536k tsbeat-lab-run /run',
      'mkdir -p /run/lock/subsys /run/resource-agents /run/crm /run/heartbeat/ccm /run/heartbeat/crm /run/heartbeat/dopd',
      'chmod 1777 /run/lock',
      'if id hacluster >/dev/null 2>&1; then chown -R hacluster:haclient /run/heartbeat /run/crm; fi',
      'chmod 750 /run/heartbeat',
      `if [ -d /var/lib/heartbeat ]; then mount --bind ${shq(lib)} /var/lib/heartbeat; fi`,
      ...targets.flatMap((t) => [
        `mount --bind ${shq(stub)} ${shq(t)}`,
        `grep -q ${STUB_MARKER} ${shq(t)} || { echo "stub not effective on ${t}" >&2; exit 1; }`,
      ]),
      `exec perl -e '$0 = "tsb-lab-init"; while (1) { my $p = wait(); sleep 1 if $p == -1; }'`,
      '',
    ].join('\n');
    writeFileSync(join(this.dir, 'init.sh'), script, { mode: 0o755 });
  }

  /** Starts (or restarts, after halt()) the machine; resolves once its init runs. */
  async boot(): Promise<void> {
    const logPath = join(this.dir, 'machine.out');
    const fd = openSync(logPath, 'a');
    const child = spawn(
      'setpriv',
      [
        '--pdeathsig',
        'KILL',
        '--',
        'ip',
        'netns',
        'exec',
        this.netns,
        'unshare',
        '--uts',
        '--mount',
        '--pid',
        '--fork',
        '--kill-child=SIGKILL',
        '--mount-proc',
        '--propagation',
        'private',
        '/bin/sh',
        join(this.dir, 'init.sh'),
      ],
      { stdio: ['ignore', fd, fd], env: { PATH: NODE_PATH, LANG: 'C' } },
    );
    closeSync(fd);
    child.unref();
    this.unshare = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const kid = child.pid === undefined ? undefined : childrenOf(child.pid)[0];
      if (kid !== undefined && commOf(kid) === 'tsb-lab-init') {
        this.initPid = kid;
        this.initStart = startTimeOf(kid);
        this.lab.syncJanitor();
        return;
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        const err = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
        throw new Error(`${this.netns}: machine did not come up: ${err.trim()}`);
      }
      await sleep(20);
    }
  }

  get up(): boolean {
    return alive(this.initPid, this.initStart);
  }

  /** Tracked pids for the janitor. */
  tracked(): { pid: number; start: string }[] {
    return this.up && this.initStart !== undefined ? [{ pid: this.initPid, start: this.initStart }] : [];
  }

  /**
   * The machine "crashes": every process of the node is frozen (SIGSTOP), then killed
   * (SIGKILL), then its init. Frozen first, because a daemon's helpers may ask to be told of
   * their parent's death (keepalived's VRRP child gets SIGTERM through PR_SET_PDEATHSIG and
   * then sends its priority-0 "I am leaving" advert, which turns a crash into a handover); and
   * each one directly, because killing only the init leaves the others running until the dying
   * init's kernel path gets round to them. Returns the wall-clock time (µs) just before the
   * first SIGSTOP: from then on no process of the node runs.
   */
  crash(): number {
    const pids = this.pids();
    const t = wallMicros();
    for (const sig of ['SIGSTOP', 'SIGKILL'] as const) {
      for (const pid of pids) {
        try {
          process.kill(pid, sig);
        } catch {
          // gone
        }
      }
    }
    if (this.up) process.kill(this.initPid, 'SIGKILL');
    return t;
  }

  /** Crash and wait until every process of the node is gone (unshare, our child, may stay a zombie). */
  halt(): void {
    const init = this.initPid;
    const initStart = this.initStart;
    this.crash();
    const u = this.unshare?.pid;
    const uStart = u === undefined ? undefined : startTimeOf(u);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (alive(init, initStart) || (u !== undefined && alive(u, uStart))))
      sleepSync(5);
    this.initPid = 0;
    this.initStart = undefined;
  }

  private nsenterArgs(): string[] {
    if (!this.up) throw new Error(`${this.netns}: machine is not running`);
    return ['-t', String(this.initPid), '-m', '-n', '-u', '-p', '--wd=/', '--'];
  }

  private env(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
    return { PATH: `${NODE_PATH}:${join(process.execPath, '..')}`, HOME: '/root', LANG: 'C', ...extra };
  }

  /** Runs a command inside the machine and waits for it. */
  exec(
    cmd: readonly string[],
    opts: { env?: Readonly<Record<string, string>>; timeoutMs?: number } = {},
  ): Promise<{ code: number; out: string }> {
    const child = spawn('nsenter', [...this.nsenterArgs(), ...cmd], {
      env: this.env(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    return new Promise((resolve) => {
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 128, out });
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ code: 127, out: e.message });
      });
    });
  }

  /**
   * Starts a long-running command inside the machine, output to DIR/LABEL.out. Resolves with
   * the host pid of the command itself (nsenter's child, once it has exec'd).
   */
  async spawn(
    cmd: readonly string[],
    label: string,
    env?: Readonly<Record<string, string>>,
  ): Promise<number> {
    const out = join(this.dir, `${label}.out`);
    const child = spawn(
      '/bin/sh',
      ['-c', `exec nsenter "$@" >>${shq(out)} 2>&1`, 'nsenter', ...this.nsenterArgs(), ...cmd],
      {
        env: this.env(env),
        stdio: 'ignore',
      },
    );
    child.unref();
    child.on('error', () => {});
    const nsenterExe = realpathSync(sh('sh', ['-c', 'command -v nsenter']).trim());
    const deadline = Date.now() + 20_000;
    for (;;) {
      const kid = child.pid === undefined ? undefined : childrenOf(child.pid)[0];
      if (kid !== undefined) {
        let exe = '';
        try {
          exe = readlinkSync(`/proc/${kid}/exe`);
        } catch {
          exe = '';
        }
        if (exe !== '' && exe !== nsenterExe) return kid;
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        // The output may be a FIFO (bench load stalls a log that way): reading it would block.
        const text = existsSync(out) && statSync(out).isFile() ? readFileSync(out, 'utf8') : '';
        throw new Error(`${this.netns}: ${cmd.join(' ')} did not start: ${text.trim().slice(-500)}`);
      }
      await sleep(10);
    }
  }

  /** Host pids of every process of the machine except its init. */
  pids(): number[] {
    if (!this.up) return [];
    let ns: string;
    try {
      ns = readlinkSync(`/proc/${this.initPid}/ns/pid`);
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      const pid = Number(e);
      if (pid === this.initPid) continue;
      try {
        if (readlinkSync(`/proc/${pid}/ns/pid`) === ns) out.push(pid);
      } catch {
        // gone
      }
    }
    return out;
  }

  /** The IPv4 addresses on the machine's eth0 (read from the kernel, not a daemon). */
  addrs(): Set<string> {
    try {
      const out = sh('ip', ['-n', this.netns, '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
      return new Set([...out.matchAll(/ inet ([\d.]+)\//g)].map((m) => m[1]!));
    } catch {
      return new Set();
    }
  }

  /** Removes addresses (ADDR/PREFIX) from eth0, ignoring those not there. */
  delAddrs(addrsWithPrefix: readonly string[]): void {
    spawnSync('ip', ['-n', this.netns, '-force', '-batch', '-'], {
      input: addrsWithPrefix.map((a) => `addr del ${a} dev eth0\n`).join(''),
      stdio: ['pipe', 'ignore', 'ignore'],
    });
  }
}

/**
 * Wall-clock time in microseconds, on the same clock as `ip -ts monitor` (CLOCK_REALTIME), with
 * better than Date.now()'s millisecond resolution: anchored once at a millisecond edge, then
 * advanced by the monotonic clock (drift is negligible over a benchmark's minutes).
 */
const anchor = (() => {
  const d0 = Date.now();
  let d = d0;
  let p = performance.now();
  while (d === d0) {
    d = Date.now();
    p = performance.now();
  }
  return { wallMs: d, perfMs: p };
})();
export function wallMicros(): number {
  return Math.round((anchor.wallMs + (performance.now() - anchor.perfMs)) * 1000);
}

/** A set of two-node networks, each a veth between two machines; see the file comment. */
export class Lab {
  readonly prefix: string;
  readonly root: string;
  readonly machines: Machine[] = [];
  private readonly netnsMade: string[] = [];
  private janitorPid: number | undefined;
  private destroyed = false;
  private readonly onExit = (): void => this.destroy();

  constructor() {
    this.prefix = `tsf${process.pid % 100000}${randomBytes(2).toString('hex')}`;
    this.root = mkdtempSync(join(tmpdir(), `tsbeat-${this.prefix}-`));
    chmodSync(this.root, 0o755);
    process.on('exit', this.onExit);
    const watch = `P=${process.pid}; while kill -0 $P 2>/dev/null; do sleep 1; done; [ -f ${shq(this.cleanupPath)} ] && . ${shq(this.cleanupPath)}`;
    const j = spawn('/bin/sh', ['-c', watch], { detached: true, stdio: 'ignore' });
    j.unref();
    this.janitorPid = j.pid;
    this.syncJanitor();
  }

  private get cleanupPath(): string {
    return join(this.root, 'cleanup.sh');
  }

  /** @internal The script the janitor runs if this process dies without destroy(). */
  syncJanitor(): void {
    if (this.destroyed) return;
    const lines = [
      '#!/bin/sh',
      'kill_if() { s=$(sed "s/.*) //" /proc/$1/stat 2>/dev/null | cut -d" " -f20); [ "$s" = "$2" ] && kill -KILL $1 2>/dev/null; }',
      ...this.machines.flatMap((m) => m.tracked().map((t) => `kill_if ${t.pid} ${t.start}`)),
      'sleep 1',
      ...this.netnsMade.map((ns) => `ip netns del ${shq(ns)} 2>/dev/null; rm -rf ${shq(`/etc/netns/${ns}`)}`),
      `rm -rf ${shq(this.root)}`,
      '',
    ];
    writeFileSync(this.cleanupPath, lines.join('\n'), { mode: 0o700 });
  }

  /**
   * Adds two machines NAME1/NAME2 (hostnames node1/node2) on SUBNET.1 and SUBNET.2/24, joined by a
   * veth; the machines are booted.
   */
  async addPair(label: string, subnet: string): Promise<[Machine, Machine]> {
    const ms: Machine[] = [];
    for (const i of [1, 2]) {
      const netns = `${this.prefix}-${label}${i}`;
      sh('ip', ['netns', 'add', netns]);
      this.netnsMade.push(netns);
      this.syncJanitor();
      ms.push(new Machine(this, `node${i}`, netns, `${subnet}.${i}`, join(this.root, `${label}${i}`)));
    }
    const [a, b] = ms as [Machine, Machine];
    const va = `${this.prefix}${label}a`.slice(-15);
    const vb = `${this.prefix}${label}b`.slice(-15);
    sh('ip', ['link', 'add', va, 'type', 'veth', 'peer', 'name', vb]);
    for (const [m, v] of [
      [a, va],
      [b, vb],
    ] as const) {
      sh('ip', ['link', 'set', v, 'netns', m.netns]);
      sh(
        'ip',
        ['-n', m.netns, '-batch', '-'],
        [
          `link set ${v} name eth0`,
          `addr add ${m.addr}/24 brd + dev eth0`,
          'link set eth0 up',
          'link set lo up',
          '',
        ].join('\n'),
      );
      m.prepare();
      this.machines.push(m);
      await m.boot();
    }
    return [a, b];
  }

  /** Kills every machine, deletes the namespaces and the temp dir. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const m of this.machines) m.halt();
    for (const ns of this.netnsMade) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
    if (this.janitorPid !== undefined) {
      try {
        process.kill(this.janitorPid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (process.env['TSBEAT_LAB_KEEP'] === undefined) rmSync(this.root, { recursive: true, force: true });
    process.off('exit', this.onExit);
  }

  /** Namespaces of this lab still present (none after destroy()). */
  leftovers(): string[] {
    return sh('ip', ['netns', 'list'])
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(this.prefix));
  }
}
