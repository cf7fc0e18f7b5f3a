// Part: `tsbeat demo`: a two-node cluster on this machine, in two network namespaces joined by
// a veth pair, each node a real tsbeat daemon with its own /etc/ha.d. It shows the cluster
// come up, a virtual service fail over when one node dies, and fail back when it returns,
// then removes everything it made.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const DEMO_USAGE = `usage: tsbeat demo [--keep-going-ms MS]

Runs a local two-node tsbeat cluster (needs root, iproute2): two network namespaces,
multicast heartbeats over a veth pair, one resource group per node. It then kills one
node, shows the survivor take its group over, restarts it, shows the group come back
(auto_failback on), and cleans up. Nothing leaves the two namespaces.
`;

const TSBEAT_JS = join(dirname(fileURLToPath(import.meta.url)), 'tsbeat.js');

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // cleanup: best effort
  }
}

const SERVICE = `#!/bin/sh
# DemoService: a stand-in for a real service (web server, database): a state file and a log line.
inst=$1; op=$2; S=$HA_DEMO_DIR/running-$HA_CURHOST-$inst
case $op in
  start) touch "$S"; echo "$(date +%T) $HA_CURHOST started $inst" >> $HA_DEMO_DIR/service.log; exit 0;;
  stop) rm -f "$S"; echo "$(date +%T) $HA_CURHOST stopped $inst" >> $HA_DEMO_DIR/service.log; exit 0;;
  status) [ -f "$S" ] && echo "$inst running" || echo "$inst stopped"; exit 0;;
esac
exit 2
`;

interface DemoNode {
  readonly name: string;
  readonly ns: string;
  readonly addr: string;
  readonly dir: string;
  proc?: ChildProcess;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(DEMO_USAGE);
      return 0;
    }
  } catch (e) {
    process.stderr.write(`tsbeat demo: ${(e as Error).message}\n\n${DEMO_USAGE}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('tsbeat demo: needs root (it creates two network namespaces); run it with sudo\n');
    return 1;
  }
  try {
    sh('ip', ['-V']);
  } catch {
    process.stderr.write('tsbeat demo: the ip command is missing: apt-get install iproute2\n');
    return 1;
  }
  const tag = `tsd${process.pid % 100000}`;
  const root = mkdtempSync(join(tmpdir(), 'tsbeat-demo-'));
  chmodSync(root, 0o755);
  const nodes: DemoNode[] = [
    { name: 'node1', ns: `${tag}-1`, addr: '10.99.0.1', dir: join(root, 'node1') },
    { name: 'node2', ns: `${tag}-2`, addr: '10.99.0.2', dir: join(root, 'node2') },
  ];
  const cleanup = (): void => {
    for (const n of nodes) {
      if (n.proc?.pid && n.proc.exitCode === null) tryRun('kill', ['-KILL', String(n.proc.pid)]);
      tryRun('ip', ['netns', 'del', n.ns]);
    }
    rmSync(root, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const say = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  try {
    say(`== tsbeat demo: two nodes in network namespaces ${nodes[0]!.ns} and ${nodes[1]!.ns}`);
    for (const n of nodes) sh('ip', ['netns', 'add', n.ns]);
    sh('ip', ['link', 'add', `${tag}a`, 'type', 'veth', 'peer', 'name', `${tag}b`]);
    sh('ip', ['link', 'set', `${tag}a`, 'netns', nodes[0]!.ns]);
    sh('ip', ['link', 'set', `${tag}b`, 'netns', nodes[1]!.ns]);
    for (const [n, dev] of [
      [nodes[0]!, `${tag}a`],
      [nodes[1]!, `${tag}b`],
    ] as const) {
      sh('ip', ['-n', n.ns, 'link', 'set', dev, 'name', 'eth0']);
      sh('ip', ['-n', n.ns, 'addr', 'add', `${n.addr}/24`, 'brd', '+', 'dev', 'eth0']);
      sh('ip', ['-n', n.ns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', n.ns, 'link', 'set', 'lo', 'up']);
      mkdirSync(join(n.dir, 'ha.d', 'resource.d'), { recursive: true });
      writeFileSync(
        join(n.dir, 'ha.d', 'ha.cf'),
        `# demo node ${n.name}\nlogfile ${join(n.dir, 'ha-log')}\nkeepalive 500ms\ndeadtime 2\nwarntime 1\ninitdead 4\nmcast eth0 239.99.0.1 694 1 0\nauto_failback on\nnode node1 node2\nenv DEMO_DIR=${root}\n`,
      );
      writeFileSync(join(n.dir, 'ha.d', 'authkeys'), 'auth 1\n1 sha1 tsbeat-demo-key\n', { mode: 0o600 });
      writeFileSync(join(n.dir, 'ha.d', 'haresources'), 'node1 DemoService::web\nnode2 DemoService::db\n');
      writeFileSync(join(n.dir, 'ha.d', 'resource.d', 'DemoService'), SERVICE, { mode: 0o755 });
    }
    const startNode = (n: DemoNode): void => {
      n.proc = spawn(
        'ip',
        [
          'netns',
          'exec',
          n.ns,
          process.execPath,
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
          stdio: ['ignore', 'ignore', 'ignore'],
        },
      );
    };
    const running = (): string => {
      const out: string[] = [];
      for (const n of nodes) {
        const has = (svc: string) => {
          try {
            readFileSync(join(root, `running-${n.name}-${svc}`));
            return true;
          } catch {
            return false;
          }
        };
        out.push(`${n.name}: [${['web', 'db'].filter(has).join(' ')}]`);
      }
      return out.join('   ');
    };
    const waitUntil = async (want: string, limitMs: number): Promise<boolean> => {
      for (let t = 0; t < limitMs; t += 250) {
        if (running() === want) return true;
        await pause(250);
      }
      return false;
    };
    const tail = (n: DemoNode, re: RegExp): string[] => {
      try {
        return readFileSync(join(n.dir, 'ha-log'), 'utf8')
          .split('\n')
          .filter((l) => re.test(l))
          .map((l) => `   ${n.name} | ${l.replace(/^.*?heartbeat: \[\d+\]: /, '')}`);
      } catch {
        return [];
      }
    };

    say('== starting tsbeat on both nodes (node1 prefers "web", node2 prefers "db")');
    for (const n of nodes) startNode(n);
    const upOk = await waitUntil('node1: [web]   node2: [db]', 30_000);
    say(`   ${running()}`);
    for (const l of tail(nodes[0]!, /Status update for node node2|Comm_now_up|Link node2/)) say(l);
    if (!upOk) throw new Error('the cluster did not come up within 30 s; logs are in the node directories');

    say('== killing node1 (SIGKILL, as if it crashed)');
    const killedAt = Date.now();
    tryRun('kill', ['-KILL', String(nodes[0]!.proc!.pid)]);
    for (const f of ['web']) rmSync(join(root, `running-node1-${f}`), { force: true });
    const overOk = await waitUntil('node1: []   node2: [web db]', 20_000);
    say(
      `   ${running()}   (${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill; deadtime is 2 s)`,
    );
    for (const l of tail(nodes[1]!, /is dead|Resources being acquired|mach_down takeover complete\./)) say(l);
    if (!overOk) throw new Error('node2 did not take over');

    say('== restarting node1: with auto_failback on, "web" comes home');
    startNode(nodes[0]!);
    const backOk = await waitUntil('node1: [web]   node2: [db]', 30_000);
    say(`   ${running()}`);
    for (const l of tail(nodes[1]!, /wants to go standby|Other node completed standby/)) say(l);
    if (!backOk) throw new Error('web did not come back to node1');
    say('== done: cleaning up the namespaces');
    return 0;
  } catch (e) {
    process.stderr.write(`\ntsbeat demo: ${(e as Error).message}\n`);
    return 1;
  } finally {
    cleanup();
  }
}
