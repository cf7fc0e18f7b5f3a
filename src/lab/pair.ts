// Part: a two-node tsbeat cluster on this machine (two network namespaces joined by a veth
// pair, real daemons, a virtual IP and a state-file service per node), for `tsbeat demo` and
// the benchmarks.
// Needs root and iproute2; everything it makes is removed by destroy().

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../daemon/os-tuning.js';

const TSBEAT_JS = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'tsbeat.js');

const SERVICE = `#!/bin/sh
# DemoService: a stand-in for a real service: a state file per node and instance.
inst=$1; op=$2; S=$HA_DEMO_DIR/running-$HA_CURHOST-$inst
case $op in
  start) touch "$S"; exit 0;;
  stop) rm -f "$S"; exit 0;;
  status) [ -f "$S" ] && echo "$inst running" || echo "$inst stopped"; exit 0;;
esac
exit 2
`;

/** The virtual IP of node1's group (IPaddr2, run inside the daemon). */
export const PAIR_VIP = '10.99.0.10';

export interface PairNode {
  readonly name: string;
  readonly ns: string;
  readonly addr: string;
  readonly dir: string;
  proc: ChildProcess | undefined;
}

export interface PairOptions {
  readonly keepalive?: string;
  readonly deadtime?: string;
  readonly warntime?: string;
  readonly initdead?: string;
  readonly autoFailback?: 'on' | 'off' | 'legacy';
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quiet(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // best effort
  }
}

/**
 * SIGKILL a process we started, if it is still there. Not through kill(1): procps is not in a
 * minimal Debian 12 root, where the packaged `tsbeat demo` must work too.
 */
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export class LocalPair {
  readonly root: string;
  readonly nodes: readonly [PairNode, PairNode];
  readonly tag: string;

  constructor(opts: PairOptions = {}) {
    this.tag = `tsd${process.pid % 100000}`;
    this.root = mkdtempSync(join(tmpdir(), 'tsbeat-pair-'));
    chmodSync(this.root, 0o755);
    this.nodes = [
      {
        name: 'node1',
        ns: `${this.tag}-1`,
        addr: '10.99.0.1',
        dir: join(this.root, 'node1'),
        proc: undefined,
      },
      {
        name: 'node2',
        ns: `${this.tag}-2`,
        addr: '10.99.0.2',
        dir: join(this.root, 'node2'),
        proc: undefined,
      },
    ];
    try {
      for (const n of this.nodes) sh('ip', ['netns', 'add', n.ns]);
      sh('ip', ['link', 'add', `${this.tag}a`, 'type', 'veth', 'peer', 'name', `${this.tag}b`]);
      const devs = [`${this.tag}a`, `${this.tag}b`];
      this.nodes.forEach((n, i) => {
        sh('ip', ['link', 'set', devs[i]!, 'netns', n.ns]);
        sh('ip', ['-n', n.ns, 'link', 'set', devs[i]!, 'name', 'eth0']);
        sh('ip', ['-n', n.ns, 'addr', 'add', `${n.addr}/24`, 'brd', '+', 'dev', 'eth0']);
        sh('ip', ['-n', n.ns, 'link', 'set', 'eth0', 'up']);
        sh('ip', ['-n', n.ns, 'link', 'set', 'lo', 'up']);
        mkdirSync(join(n.dir, 'ha.d', 'resource.d'), { recursive: true });
        writeFileSync(
          join(n.dir, 'ha.d', 'ha.cf'),
          [
            `# node ${n.name} of a local tsbeat pair`,
            `logfile ${join(n.dir, 'ha-log')}`,
            `keepalive ${opts.keepalive ?? '500ms'}`,
            `deadtime ${opts.deadtime ?? '2'}`,
            `warntime ${opts.warntime ?? '1'}`,
            `initdead ${opts.initdead ?? '4'}`,
            'mcast eth0 239.99.0.1 694 1 0',
            `auto_failback ${opts.autoFailback ?? 'on'}`,
            'node node1 node2',
            `env DEMO_DIR=${this.root}`,
            '',
          ].join('\n'),
        );
        writeFileSync(join(n.dir, 'ha.d', 'authkeys'), 'auth 1\n1 sha1 tsbeat-local-pair\n', { mode: 0o600 });
        writeFileSync(
          join(n.dir, 'ha.d', 'haresources'),
          `node1 IPaddr2::${PAIR_VIP}/24/eth0 DemoService::web\nnode2 DemoService::db\n`,
        );
        writeFileSync(join(n.dir, 'ha.d', 'resource.d', 'DemoService'), SERVICE, { mode: 0o755 });
      });
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  start(n: PairNode): void {
    n.proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        n.ns,
        process.execPath,
        ...DAEMON_NODE_FLAGS,
        TSBEAT_JS,
        'start',
        '--foreground',
        '-c',
        join(n.dir, 'ha.d'),
        '--node',
        n.name,
      ],
      {
        env: { ...process.env, TSBEAT_RUNDIR: join(n.dir, 'run'), TSBEAT_STATEDIR: join(n.dir, 'state') },
        stdio: 'ignore',
      },
    );
  }

  /** SIGKILL the daemon and forget its service and address (the machine "crashed"). */
  crash(n: PairNode): void {
    if (n.proc?.pid) killQuietly(n.proc.pid);
    for (const svc of ['web', 'db']) rmSync(join(this.root, `running-${n.name}-${svc}`), { force: true });
    quiet('ip', ['-n', n.ns, 'addr', 'del', `${PAIR_VIP}/24`, 'dev', 'eth0']);
  }

  /** Whether the virtual IP is configured on the node's eth0. */
  hasVip(n: PairNode): boolean {
    try {
      return sh('ip', ['-n', n.ns, '-o', '-4', 'addr', 'show', 'dev', 'eth0']).includes(` ${PAIR_VIP}/`);
    } catch {
      return false;
    }
  }

  /**
   * The daemon's own pid: `ip netns exec` usually execs it in place, but may run it as a child;
   * the daemon's own children (idle `ip -batch` helpers of the built-in agents) are not it.
   */
  daemonPid(n: PairNode): number | undefined {
    const pid = n.proc?.pid;
    if (!pid) return undefined;
    const isDaemon = (p: number): boolean => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(TSBEAT_JS);
      } catch {
        return false;
      }
    };
    if (isDaemon(pid)) return pid;
    try {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
      return children.map(Number).find(isDaemon) ?? pid;
    } catch {
      return pid;
    }
  }

  runs(n: PairNode, svc: string): boolean {
    try {
      readFileSync(join(this.root, `running-${n.name}-${svc}`));
      return true;
    } catch {
      return false;
    }
  }

  /** e.g. "node1: [web]   node2: [db]". */
  where(): string {
    return this.nodes
      .map((n) => `${n.name}: [${['web', 'db'].filter((s) => this.runs(n, s)).join(' ')}]`)
      .join('   ');
  }

  /** Where the group of node1 runs, with its address: "node1: [10.99.0.10 web]   node2: [db]". */
  whereWithVip(): string {
    return this.nodes
      .map((n) => {
        const held = ['web', 'db'].filter((s) => this.runs(n, s));
        return `${n.name}: [${[...(this.hasVip(n) ? [PAIR_VIP] : []), ...held].join(' ')}]`;
      })
      .join('   ');
  }

  log(n: PairNode): string {
    try {
      return readFileSync(join(n.dir, 'ha-log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** `tsbeat explain` of a running node: why each of its ownership changes happened. */
  explain(n: PairNode): string {
    const r = spawnSync(process.execPath, [TSBEAT_JS, 'explain'], {
      env: { ...process.env, TSBEAT_RUNDIR: join(n.dir, 'run') },
      encoding: 'utf8',
      timeout: 15_000,
    });
    return r.status === 0
      ? r.stdout
      : `(tsbeat explain failed: ${r.stderr.trim() || `status ${r.status}`})\n`;
  }

  async waitUntil(pred: () => boolean, limitMs: number, stepMs = 250): Promise<boolean> {
    for (let t = 0; t < limitMs; t += stepMs) {
      if (pred()) return true;
      await new Promise((r) => setTimeout(r, stepMs));
    }
    return pred();
  }

  destroy(): void {
    for (const n of this.nodes) {
      if (n.proc?.pid && n.proc.exitCode === null) killQuietly(n.proc.pid);
      quiet('ip', ['netns', 'del', n.ns]);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
