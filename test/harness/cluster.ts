// A multi-node test cluster in Linux namespaces (see README.md in this folder).
//
// Per run: a unique prefix (tsb<pid><random>), one network namespace holding a Linux bridge per
// network ("<prefix>-sw"), and per node a network namespace "<prefix>-<name>" joined to each bridge
// by a veth whose node end is named eth0/eth1/... Addresses exist only inside those namespaces
// (10.77.<net>.<node>/24 by default, with a broadcast address); there is no route out of them.
//
// Per node a "machine", as in shared/lab/heartbeat-node/node.sh: `ip netns exec NS unshare
// --uts --mount --pid --fork --mount-proc --propagation private` running a small init script that
// sets the hostname to the node name, mounts a private tmpfs on /run, bind-mounts a private copy
// of /var/lib/heartbeat, bind-mounts a logging stub over the real files behind reboot, halt,
// poweroff, shutdown, init, telinit, systemctl and systemd (heartbeat runs `reboot -nf` when a
// resource fails to stop, and `pkill -9 heartbeat`, which inside the PID namespace only sees the
// node), and then becomes a reaping init. /etc/ha.d of the node is /etc/netns/NS/ha.d (ip netns
// exec bind-mounts it), seeded from the host's /etc/ha.d without any ha.cf/authkeys/haresources.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  createWriteStream,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import type { Daemon } from './daemon.js';
import { findTool, requireHarness } from './guard.js';
import { Janitor, registerLive, unregisterLive } from './janitor.js';
import {
  childrenOf,
  exitCodeOf,
  isTrackedAlive,
  processTree,
  type RunResult,
  readStat,
  run,
  runOk,
  runSync,
  shq,
  signalTracked,
  sleep,
  sleepSync,
  type TrackedPid,
  track,
} from './proc.js';

export interface NetworkSpec {
  /** Interface name inside every node (default eth0 for network 0, eth1 for network 1, ...). */
  readonly ifname?: string;
  /** First three octets of the /24, e.g. '10.77.0' (default 10.77.<index>). */
  readonly subnet?: string;
}

export interface ClusterOptions {
  /** Node count (names node1..nodeN) or explicit lower-case names. Default 2. */
  readonly nodes?: number | readonly string[];
  /** Number of networks or their specs. Default 1 (eth0 only); 2 gives eth0 + eth1. */
  readonly networks?: number | readonly NetworkSpec[];
  /** Override the unique run prefix (tests normally leave this alone). */
  readonly prefix?: string;
}

export interface Network {
  readonly index: number;
  readonly ifname: string;
  readonly subnet: string;
  /** Bridge name inside the switch namespace. */
  readonly bridge: string;
}

export interface ExecOptions {
  /** Extra environment (the base is PATH, HOME=/root, LANG=C; nothing is inherited). */
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  /** Default 60 s; on timeout the whole process tree is SIGKILLed and code is 137. */
  readonly timeoutMs?: number;
}

export interface SpawnOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Label used for the output file <node.dir>/<label>.out (default: basename of argv[0]). */
  readonly label?: string;
}

export interface ExitInfo {
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
}

/** A long-running process inside a node, started with node.spawn(). */
export interface SpawnedProcess {
  readonly argv: readonly string[];
  /** Host pid of the command itself (inside the node's namespaces), once it has been exec'd. */
  readonly pid: number;
  readonly tracked: TrackedPid;
  /** Host-side nsenter process whose child the command is. */
  readonly nsenter: TrackedPid;
  /** File receiving stdout and stderr. */
  readonly outFile: string;
  readonly exited: Promise<ExitInfo>;
  exitInfo(): ExitInfo | undefined;
  stdout(): string;
  stderr(): string;
}

const MAX_CAPTURE = 1 << 20;
const STUB_MARKER = 'TSBEAT-HARNESS-REBOOT-STUB';
/** Binaries that can reboot or halt the machine; the stub is bind-mounted over their real files. */
const DANGEROUS = [
  '/sbin/reboot',
  '/sbin/halt',
  '/sbin/poweroff',
  '/sbin/shutdown',
  '/sbin/init',
  '/sbin/telinit',
  '/usr/sbin/reboot',
  '/usr/sbin/halt',
  '/usr/sbin/poweroff',
  '/usr/sbin/shutdown',
  '/usr/sbin/init',
  '/usr/sbin/telinit',
  '/usr/bin/systemctl',
  '/usr/lib/systemd/systemd',
  '/lib/systemd/systemd',
];
/** Files of /var/lib/heartbeat that identify a node: never copied from the host. */
const NODE_IDENTITY = new Set(['hb_uuid', 'hb_generation', 'hostcache', 'delhostcache', 'fifo']);
const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

let nsenterPath: string | undefined;

function copyTree(src: string, dst: string, skip: ReadonlySet<string>): void {
  const st = lstatSync(src);
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dst);
  } else if (st.isDirectory()) {
    mkdirSync(dst, { recursive: true });
    for (const e of readdirSync(src)) if (!skip.has(e)) copyTree(join(src, e), join(dst, e), new Set());
    chmodSync(dst, st.mode & 0o7777);
  } else if (st.isFile()) {
    writeFileSync(dst, readFileSync(src));
    chmodSync(dst, st.mode & 0o7777);
  } else {
    return;
  }
  lchownSync(dst, st.uid, st.gid);
}

class Capture {
  private text = '';
  add(d: string): void {
    this.text += d;
    if (this.text.length > MAX_CAPTURE) this.text = this.text.slice(this.text.length - MAX_CAPTURE);
  }
  get(): string {
    return this.text;
  }
}

/** One simulated machine of the cluster. */
export class HarnessNode {
  /** Host pid of the node's PID-namespace init (killing it kills every process of the node). */
  initPid = 0;
  /** Daemons started on this node, latest last (see daemon.ts). */
  readonly daemons: Daemon[] = [];
  /** Bind mounts re-applied after reboot(): target path inside the node -> source path. */
  readonly binds = new Map<string, string>();
  private init: TrackedPid | undefined;
  private unshare: TrackedPid | undefined;
  private spawnCount = 0;
  /** Host-side nsenter processes of exec() and spawn(); they must die for the PID namespace to go. */
  private readonly nsenters = new Set<TrackedPid>();

  readonly cluster: Cluster;
  /** Node name = hostname inside the node = heartbeat node name (lower case). */
  readonly name: string;
  readonly index: number;
  /** Network namespace name (visible in `ip netns list`). */
  readonly netns: string;
  /** Host directory with this node's state: logs, private /var/lib/heartbeat, outputs. */
  readonly dir: string;
  /** ifname -> IPv4 address of this node. */
  readonly addresses: ReadonlyMap<string, string>;

  constructor(
    cluster: Cluster,
    name: string,
    index: number,
    netns: string,
    dir: string,
    addresses: ReadonlyMap<string, string>,
  ) {
    this.cluster = cluster;
    this.name = name;
    this.index = index;
    this.netns = netns;
    this.dir = dir;
    this.addresses = addresses;
  }

  /** Host path of the node's /etc/ha.d (bind-mounted by `ip netns exec`). */
  get haDir(): string {
    return `/etc/netns/${this.netns}/ha.d`;
  }
  /** Conventional daemon log file (ha.cf `logfile`), a host path that is also valid inside the node. */
  get logFile(): string {
    return join(this.dir, 'ha-log');
  }
  /** Conventional debug log file (ha.cf `debugfile`). */
  get debugFile(): string {
    return join(this.dir, 'ha-debug');
  }
  /** Where the reboot/systemctl stub records each call. */
  get stubLog(): string {
    return join(this.dir, 'reboot-stub.log');
  }
  /** The most recently started daemon, if any. */
  get daemon(): Daemon | undefined {
    return this.daemons[this.daemons.length - 1];
  }
  /** The node's address on a network (default eth0 / the first network). */
  addr(ifname?: string): string {
    const key = ifname ?? this.cluster.networks[0]?.ifname ?? 'eth0';
    const a = this.addresses.get(key);
    if (a === undefined) throw new Error(`node ${this.name} has no interface ${key}`);
    return a;
  }
  get initTracked(): TrackedPid | undefined {
    return this.init;
  }

  private nsenterArgs(): string[] {
    if (this.init === undefined || !isTrackedAlive(this.init)) {
      throw new Error(`node ${this.name}: machine is not running`);
    }
    return ['-t', String(this.initPid), '-m', '-n', '-u', '-p', '--wd=/', '--'];
  }

  private env(extra: Readonly<Record<string, string>> | undefined): NodeJS.ProcessEnv {
    const nodeBin = dirname(process.execPath);
    return { PATH: `${NODE_PATH}:${nodeBin}`, HOME: '/root', LANG: 'C', ...extra };
  }

  /** Runs a command inside the node (all its namespaces, clean environment). Never throws on exit != 0. */
  async exec(cmd: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    if (cmd.length === 0) throw new Error('exec: empty command');
    let t: TrackedPid | undefined;
    return run('nsenter', [...this.nsenterArgs(), ...cmd], {
      env: this.env(opts.env),
      timeoutMs: opts.timeoutMs ?? 60_000,
      ...(opts.input === undefined ? {} : { input: opts.input }),
      onSpawn: (pid) => {
        if (pid !== undefined) {
          t = track(pid, `${this.name}: nsenter ${cmd.join(' ')}`);
          if (t) this.nsenters.add(t);
        } else if (t) {
          this.nsenters.delete(t);
        }
      },
    });
  }

  /** Like exec, but throws unless the command exits 0. */
  async execOk(cmd: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    const r = await this.exec(cmd, opts);
    if (r.code !== 0) {
      throw new Error(
        `node ${this.name}: ${cmd.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`,
      );
    }
    return r;
  }

  /** Starts a long-running command inside the node; stdout/stderr are captured and copied to a file. */
  async spawn(cmd: readonly string[], opts: SpawnOptions = {}): Promise<SpawnedProcess> {
    if (cmd.length === 0) throw new Error('spawn: empty command');
    const args = this.nsenterArgs();
    this.spawnCount += 1;
    const label = (opts.label ?? (cmd[0] ?? 'cmd').split('/').pop() ?? 'cmd').replace(/[^\w.-]/g, '_');
    const outFile = join(this.dir, `${label}-${this.spawnCount}.out`);
    const out = createWriteStream(outFile, { flags: 'a' });
    const child = spawn('nsenter', [...args, ...cmd], {
      env: this.env(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const so = new Capture();
    const se = new Capture();
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      so.add(d);
      out.write(d);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      se.add(d);
      out.write(d);
    });
    let info: ExitInfo | undefined;
    const exited = new Promise<ExitInfo>((resolve) => {
      child.on('close', (code, signal) => {
        info = { code: exitCodeOf(code, signal), signal };
        out.end();
        resolve(info);
      });
      child.on('error', (err) => {
        se.add(`[harness] spawn failed: ${err.message}\n`);
        info = { code: 127, signal: null };
        out.end();
        resolve(info);
      });
    });
    const nsPid = child.pid;
    if (nsPid === undefined) {
      await exited;
      throw new Error(`node ${this.name}: cannot spawn ${cmd.join(' ')}: ${se.get()}`);
    }
    const nsenter = track(nsPid, `${this.name}: nsenter ${cmd.join(' ')}`) ?? {
      pid: nsPid,
      startTime: '',
      what: 'nsenter',
    };
    this.nsenters.add(nsenter);
    this.cluster.syncJanitor();
    void exited.then(() => {
      this.nsenters.delete(nsenter);
    });
    nsenterPath ??= findTool('nsenter');
    const nsenterReal = nsenterPath === undefined ? '' : realpathSync(nsenterPath);
    // The command is nsenter's forked child once that child has exec'd something else than nsenter.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const kid = childrenOf(nsPid)[0];
      if (kid !== undefined) {
        let exe = '';
        try {
          exe = readlinkSync(`/proc/${kid}/exe`);
        } catch {
          exe = '';
        }
        if (exe !== '' && exe !== nsenterReal) {
          const tracked = track(kid, `${this.name}: ${cmd.join(' ')}`);
          if (tracked !== undefined) {
            return {
              argv: [...cmd],
              pid: kid,
              tracked,
              nsenter,
              outFile,
              exited,
              exitInfo: () => info,
              stdout: () => so.get(),
              stderr: () => se.get(),
            };
          }
        }
      }
      if (info !== undefined) {
        throw new Error(
          `node ${this.name}: ${cmd.join(' ')} exited at once (exit ${info.code}): ${se.get().trim() || so.get().trim()}`,
        );
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`node ${this.name}: ${cmd.join(' ')} did not start within 20 s`);
      }
      await sleep(20);
    }
  }

  /**
   * Writes files into the node's /etc/ha.d (paths relative to it, e.g. 'ha.cf', 'authkeys',
   * 'haresources', 'resource.d/Foo'). authkeys gets mode 600, resource.d/ and rc.d/ files 755,
   * everything else 644, unless a mode is given.
   */
  writeHaD(
    files: Readonly<Record<string, string | { readonly content: string; readonly mode: number }>>,
  ): void {
    for (const [rel, spec] of Object.entries(files)) {
      const clean = normalize(rel);
      if (isAbsolute(clean) || clean.startsWith('..'))
        throw new Error(`writeHaD: path must stay inside ha.d: ${rel}`);
      const path = join(this.haDir, clean);
      const content = typeof spec === 'string' ? spec : spec.content;
      const mode =
        typeof spec !== 'string'
          ? spec.mode
          : clean === 'authkeys'
            ? 0o600
            : /^(resource\.d|rc\.d)\//.test(clean)
              ? 0o755
              : 0o644;
      mkdirSync(dirname(path), { recursive: true });
      rmSync(path, { force: true });
      writeFileSync(path, content, { mode });
      chmodSync(path, mode);
    }
  }

  /** Reads a file of the node's /etc/ha.d (undefined if absent). */
  readHaD(rel: string): string | undefined {
    const path = join(this.haDir, normalize(rel));
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  /** Contents of the reboot/systemctl stub log ('' if the stub was never called). */
  stubCalls(): string {
    return existsSync(this.stubLog) ? readFileSync(this.stubLog, 'utf8') : '';
  }

  // ---- machine lifecycle (used by Cluster) ----

  /** @internal */
  prepare(hostsFile: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    chmodSync(this.dir, 0o755);
    const etc = `/etc/netns/${this.netns}`;
    rmSync(etc, { recursive: true, force: true });
    mkdirSync(etc, { recursive: true });
    if (existsSync('/etc/ha.d')) {
      copyTree('/etc/ha.d', this.haDir, new Set(['ha.cf', 'authkeys', 'haresources']));
    } else {
      mkdirSync(this.haDir, { recursive: true });
    }
    writeFileSync(join(etc, 'hosts'), hostsFile);
    const lib = join(this.dir, 'var-lib-heartbeat');
    if (existsSync('/var/lib/heartbeat')) copyTree('/var/lib/heartbeat', lib, NODE_IDENTITY);
    else mkdirSync(lib, { recursive: true });
    const stub = join(this.dir, 'reboot-stub');
    writeFileSync(
      stub,
      `#!/bin/sh\n# ${STUB_MARKER}: bind-mounted over reboot/halt/init/systemctl/systemd inside node ${this.name}\n` +
        `echo "$(date '+%F %T.%N') STUB $0 $* (host=$(cat /proc/sys/kernel/hostname))" >> ${shq(this.stubLog)}\nexit 0\n`,
      { mode: 0o755 },
    );
    const targets = [
      ...new Set(
        DANGEROUS.filter((p) => existsSync(p)).map((p) => {
          const real = realpathSync(p);
          return real;
        }),
      ),
    ];
    const script = [
      '#!/bin/sh',
      `# tsbeat harness machine init for node ${this.name} (netns ${this.netns})`,
      'set -eu',
      `echo ${shq(this.name)} > /proc/sys/kernel/hostname`,
      'mount -t tmpfs -o mode=0755,size=65536k tsbeat-run /run',
      'mkdir -p /run/lock/subsys /run/resource-agents /run/crm /run/heartbeat/ccm /run/heartbeat/crm /run/heartbeat/dopd',
      'chmod 1777 /run/lock',
      'if id hacluster >/dev/null 2>&1; then chown -R hacluster:haclient /run/heartbeat /run/crm; fi',
      'chmod 750 /run/heartbeat',
      `if [ -d /var/lib/heartbeat ]; then mount --bind ${shq(lib)} /var/lib/heartbeat; fi`,
      ...targets.flatMap((t) => [
        `mount --bind ${shq(stub)} ${shq(t)}`,
        `grep -q ${STUB_MARKER} ${shq(t)} || { echo "stub not effective on ${t}" >&2; exit 1; }`,
      ]),
      'echo tsbeat-harness-machine-ready',
      // PID 1 of the namespace: reap everything, forever; SIGKILL from the host ends the node.
      `exec perl -e '$0 = "tsb-init"; while (1) { my $p = wait(); sleep 1 if $p == -1; }'`,
      '',
    ].join('\n');
    writeFileSync(join(this.dir, 'init.sh'), script, { mode: 0o755 });
  }

  /** @internal Starts the machine (PID/mount/UTS namespaces + init) inside the node's netns. */
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
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    const upid = child.pid;
    if (upid === undefined) throw new Error(`node ${this.name}: cannot start machine (setpriv/ip/unshare)`);
    this.unshare = track(upid, `${this.name}: unshare`);
    this.cluster.syncJanitor();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const kid = childrenOf(upid)[0];
      if (kid !== undefined && readStat(kid)?.comm === 'tsb-init') {
        const t = track(kid, `${this.name}: ns init`);
        if (t !== undefined) {
          this.init = t;
          this.initPid = kid;
          break;
        }
      }
      if (exited || Date.now() > deadline) {
        const out = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
        if (!exited) child.kill('SIGKILL');
        throw new Error(`node ${this.name}: machine did not come up: ${out.trim()}`);
      }
      await sleep(20);
    }
    this.cluster.syncJanitor();
    for (const [target, source] of this.binds) await this.bindInside(source, target);
  }

  /** @internal Bind-mounts a host path onto a path inside the node's private mount namespace. */
  async bindInside(source: string, target: string): Promise<void> {
    const script =
      `if [ ! -e ${shq(target)} ]; then case ${shq(target)} in /run/*|/tmp/*) mkdir -p ${shq(dirname(target))}; : > ${shq(target)};; ` +
      `*) echo "bind target ${target} does not exist and is not under /run" >&2; exit 1;; esac; fi; ` +
      `mount --bind ${shq(source)} ${shq(target)}`;
    await this.execOk(['/bin/sh', '-c', script]);
    this.binds.set(target, source);
  }

  /** @internal SIGKILL the machine's init (every process of the node dies) and wait for it. */
  haltSync(): string[] {
    const problems: string[] = [];
    const init = this.init;
    const unshare = this.unshare;
    if (init) signalTracked(init, 'SIGKILL');
    // A process entered with nsenter -p is the child of a host-side nsenter; the namespace can only
    // finish dying once those have reaped it. They may be stopped (after pause()): kill them.
    for (const t of this.nsenters) {
      signalTracked(t, 'SIGKILL');
      signalTracked(t, 'SIGCONT');
    }
    this.nsenters.clear();
    const deadline = Date.now() + 15_000;
    while (init && isTrackedAlive(init) && Date.now() < deadline) sleepSync(20);
    if (init && isTrackedAlive(init)) problems.push(`node ${this.name}: init ${init.pid} did not die`);
    if (unshare) {
      while (isTrackedAlive(unshare) && Date.now() < deadline) sleepSync(20);
      if (isTrackedAlive(unshare)) {
        for (const p of processTree(unshare.pid).reverse()) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }
    }
    this.init = undefined;
    this.unshare = undefined;
    this.initPid = 0;
    return problems;
  }

  /**
   * "Reboots" the machine: SIGKILL every process of the node, then boot a fresh PID/mount/UTS
   * namespace (empty /run) in the same network namespace, keeping /etc/ha.d, /var/lib/heartbeat
   * (so heartbeat's generation goes up) and the log files.
   */
  async reboot(): Promise<void> {
    const problems = this.haltSync();
    if (problems.length > 0) throw new Error(problems.join('; '));
    await this.boot();
  }

  /** True while the machine's init is alive. */
  get up(): boolean {
    return this.init !== undefined && isTrackedAlive(this.init);
  }

  /** @internal */
  trackedPids(): TrackedPid[] {
    return [this.init, this.unshare, ...this.nsenters].filter((t): t is TrackedPid => t !== undefined);
  }
}

function validName(n: string): boolean {
  return /^[a-z][a-z0-9-]{0,30}$/.test(n);
}

/** A set of nodes, their networks and everything needed to tear them down. */
export class Cluster {
  readonly nodes: HarnessNode[] = [];
  readonly networks: Network[];
  /** Network namespace holding the bridges. */
  readonly switchNs: string;
  private readonly janitor: Janitor;
  private readonly extraTracked: TrackedPid[] = [];
  private destroyed = false;
  private readonly netnsCreated: string[] = [];

  /** Unique per run; every namespace name starts with it. */
  readonly prefix: string;
  /** Host temp directory of this run (node dirs, scripts, logs). */
  readonly tmpDir: string;

  constructor(prefix: string, tmpDir: string, networks: readonly NetworkSpec[]) {
    this.prefix = prefix;
    this.tmpDir = tmpDir;
    this.networks = networks.map((n, i) => ({
      index: i,
      ifname: n.ifname ?? `eth${i}`,
      subnet: n.subnet ?? `10.77.${i}`,
      bridge: `br${i}`,
    }));
    this.switchNs = `${prefix}-sw`;
    this.janitor = new Janitor(join(tmpDir, 'cleanup.sh'));
  }

  node(name: string): HarnessNode {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node ${name} in cluster ${this.prefix}`);
    return n;
  }

  /** The last lines of every node's log file (for failure messages). */
  logTails(lines = 40): string {
    return this.nodes
      .map((n) => {
        const text = existsSync(n.logFile) ? readFileSync(n.logFile, 'utf8') : '(no log file)';
        return `--- ${n.name}: ${n.logFile}\n${text.split('\n').slice(-lines).join('\n')}`;
      })
      .join('\n');
  }

  /** Registers a host process (e.g. socat) that teardown must kill. */
  trackProcess(t: TrackedPid): void {
    this.extraTracked.push(t);
    this.syncJanitor();
  }

  /** @internal Rewrites the janitor's cleanup script with the current resources. */
  syncJanitor(): void {
    if (this.destroyed) return;
    this.janitor.update({
      pids: [...this.nodes.flatMap((n) => n.trackedPids()), ...this.extraTracked],
      netns: [...this.netnsCreated],
      dirs: [...this.nodes.map((n) => `/etc/netns/${n.netns}`), `/etc/netns/${this.switchNs}`, this.tmpDir],
    });
  }

  /** @internal */
  async setup(names: readonly string[]): Promise<void> {
    this.janitor.update({ pids: [], netns: [], dirs: [this.tmpDir] });
    this.janitor.start();
    registerLive(this);
    const sw = this.switchNs;
    await this.addNetns(sw);
    const swBatch = ['link set lo up'];
    for (const net of this.networks) {
      swBatch.push(`link add ${net.bridge} type bridge mcast_snooping 0`, `link set ${net.bridge} up`);
    }
    const hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
    names.forEach((name, i) => {
      const netns = `${this.prefix}-${name}`;
      const addresses = new Map<string, string>();
      for (const net of this.networks) addresses.set(net.ifname, `${net.subnet}.${i + 1}`);
      this.nodes.push(new HarnessNode(this, name, i, netns, join(this.tmpDir, name), addresses));
      hosts.push(
        `${this.networks[0] === undefined ? '127.0.1.1' : `${this.networks[0].subnet}.${i + 1}`}\t${name}`,
      );
    });
    for (const node of this.nodes) {
      await this.addNetns(node.netns);
      for (const net of this.networks) {
        const v = `n${node.index}i${net.index}`;
        swBatch.push(
          `link add ${v} type veth peer name ${net.ifname} netns ${node.netns}`,
          `link set ${v} master ${net.bridge}`,
          `link set ${v} up`,
        );
      }
    }
    await runOk('ip', ['-n', sw, '-batch', '-'], { input: `${swBatch.join('\n')}\n` });
    for (const node of this.nodes) {
      const batch = ['link set lo up'];
      for (const net of this.networks) {
        batch.push(
          `addr add ${node.addr(net.ifname)}/24 brd + dev ${net.ifname}`,
          `link set ${net.ifname} up`,
        );
      }
      await runOk('ip', ['-n', node.netns, '-batch', '-'], { input: `${batch.join('\n')}\n` });
      node.prepare(`${hosts.join('\n')}\n`);
    }
    this.syncJanitor();
    for (const node of this.nodes) await node.boot();
  }

  private async addNetns(name: string): Promise<void> {
    await runOk('ip', ['netns', 'add', name]);
    this.netnsCreated.push(name);
    this.syncJanitor();
  }

  /** Kills every process the harness started, deletes namespaces, /etc/netns dirs and temp files. */
  async destroy(): Promise<void> {
    this.destroySync();
  }

  /**
   * Synchronous teardown (also used by the process 'exit' hook). Idempotent. Throws if something
   * could not be removed, after having tried everything.
   */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const problems: string[] = [];
    this.janitor.stop();
    for (const node of this.nodes) problems.push(...node.haltSync());
    for (const t of this.extraTracked) {
      signalTracked(t, 'SIGKILL');
    }
    const deadline = Date.now() + 10_000;
    while (this.extraTracked.some(isTrackedAlive) && Date.now() < deadline) sleepSync(20);
    for (const t of this.extraTracked)
      if (isTrackedAlive(t)) problems.push(`${t.what} (${t.pid}) still alive`);
    for (const ns of this.netnsCreated) {
      const r = runSync('ip', ['netns', 'del', ns]);
      if (r.code !== 0 && !/No such file/.test(r.stderr))
        problems.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    }
    for (const node of this.nodes) rmSync(`/etc/netns/${node.netns}`, { recursive: true, force: true });
    rmSync(`/etc/netns/${this.switchNs}`, { recursive: true, force: true });
    if (process.env['TSBEAT_HARNESS_KEEP'] === undefined) {
      rmSync(this.tmpDir, { recursive: true, force: true });
    }
    const left = leftovers(this.prefix);
    if (left.length > 0) problems.push(`left behind: ${left.join(', ')}`);
    unregisterLive(this);
    if (problems.length > 0) throw new Error(`cluster ${this.prefix} teardown: ${problems.join('; ')}`);
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }
}

/** Namespaces and /etc/netns entries whose name starts with the prefix (should be none after destroy). */
export function leftovers(prefix: string): string[] {
  const out: string[] = [];
  const r = runSync('ip', ['netns', 'list']);
  for (const line of r.stdout.split('\n')) {
    const name = line.trim().split(/\s+/)[0];
    if (name?.startsWith(prefix)) out.push(`netns ${name}`);
  }
  if (existsSync('/etc/netns')) {
    for (const e of readdirSync('/etc/netns')) if (e.startsWith(prefix)) out.push(`/etc/netns/${e}`);
  }
  return out;
}

function uniquePrefix(): string {
  for (;;) {
    const p = `tsb${process.pid}${randomBytes(3).toString('hex').slice(0, 4)}`;
    if (leftovers(p).length === 0) return p;
  }
}

/**
 * Builds a cluster: namespaces, bridge(s), veths, addresses and one running machine per node.
 * Always pair with `cluster.destroy()` in afterAll/afterEach. Throws HarnessUnavailableError when
 * not root or a tool is missing. If setup fails halfway, everything created so far is removed.
 */
export async function createCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  requireHarness();
  const names =
    typeof opts.nodes === 'number' || opts.nodes === undefined
      ? Array.from({ length: opts.nodes ?? 2 }, (_, i) => `node${i + 1}`)
      : [...opts.nodes];
  if (names.length === 0 || names.length > 50) throw new Error('createCluster: 1..50 nodes');
  for (const n of names) {
    if (!validName(n))
      throw new Error(`createCluster: node name ${JSON.stringify(n)} must match [a-z][a-z0-9-]*`);
  }
  if (new Set(names).size !== names.length) throw new Error('createCluster: duplicate node names');
  const nets: NetworkSpec[] =
    typeof opts.networks === 'number' || opts.networks === undefined
      ? Array.from({ length: opts.networks ?? 1 }, () => ({}))
      : [...opts.networks];
  if (nets.length > 8) throw new Error('createCluster: at most 8 networks');
  for (const [i, n] of nets.entries()) {
    if (n.ifname !== undefined && !/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(n.ifname)) {
      throw new Error(`createCluster: interface name ${JSON.stringify(n.ifname)} invalid (max 15 chars)`);
    }
    if (n.subnet !== undefined && !/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(n.subnet)) {
      throw new Error(`createCluster: network ${i} subnet must be three octets like '10.77.0'`);
    }
  }
  const prefix = opts.prefix ?? uniquePrefix();
  if (!/^[a-z0-9]{3,20}$/.test(prefix)) throw new Error(`createCluster: bad prefix ${prefix}`);
  const tmp = mkdtempSync(join(tmpdir(), `tsbeat-${prefix}-`));
  chmodSync(tmp, 0o755);
  const cluster = new Cluster(prefix, tmp, nets);
  try {
    await cluster.setup(names);
  } catch (err) {
    try {
      cluster.destroySync();
    } catch (err2) {
      throw new AggregateError([err, err2], `createCluster failed and so did its cleanup: ${String(err)}`);
    }
    throw err;
  }
  return cluster;
}
