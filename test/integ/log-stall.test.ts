/**
 * A node whose log destinations cannot be written keeps its heartbeat interval. Two tsbeat
 * daemons in network namespaces, keepalive 200 ms, warntime 700 ms, deadtime 1 s. node1 writes
 * its logfile AND debugfile into one directory, and is kept busy logging the whole time: it owns
 * a group of 200 "Chatter" resources whose start prints 1,500 lines after a one-second sleep, and
 * every such line becomes a log line (about 1,500 lines a second, hundreds of KB).
 *
 * Phase 1, 60 s: both files are FIFOs. For 20 s nobody has them open for reading (an open for
 * writing would block: the node must not), then a process holds them open and never reads (a
 * write would block once the 64 KiB pipe is full). Phase 2, 60 s: a 4 MiB tmpfs, filled to the
 * last page with dd, is mounted over the directory inside node1's private mount namespace (the
 * node must notice that the paths now name other files, and then meets ENOSPC on every write).
 *
 * Over each phase the peer, node2, logs no "Late heartbeat" and no "is dead" for node1 and takes
 * nothing over; node1 logs neither about node2; each sees the other active at the end. That the
 * node really was logging into a stuck destination is shown by the writer's own account once the
 * destination works again: after phase 1 a reader drains the FIFOs, after phase 2 the filler is
 * deleted, and each time the debugfile must then say how many lines were dropped and why
 * ("N log lines dropped: FILE: ..."), N in the thousands. With the synchronous writer this
 * replaced, node1 never starts (its open of the logfile FIFO blocks for ever), and with a
 * reader that does not read it stops heartbeating once the pipe is full.
 * Needs root and the harness tools; about 2.5 minutes.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type Daemon,
  type HarnessNode,
  haCf,
  logMark,
  readLog,
  startTsbeat,
  waitFor,
} from '../harness/index.js';

let cluster: Cluster | undefined;
const holders: number[] = [];
afterEach(async () => {
  for (const fd of holders.splice(0)) closeSync(fd);
  await cluster?.destroy();
  cluster = undefined;
});

const PHASE_MS = 60_000;
const CHATTERS = 200;
const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const start = (n: HarnessNode) => startTsbeat(n, { args: ['--foreground'], env: env(n) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A resource whose start is slow and very talkative: every line it prints is logged by the daemon. */
const CHATTER = `#!/bin/sh
# Chatter N {start|stop|status}: a harmless, deliberately verbose test resource.
inst=$1; op=$2
case $op in
  start)
    sleep 1
    i=0
    while [ $i -lt 1500 ]; do
      echo "Chatter $inst start: line $i of a deliberately verbose resource script"
      i=$((i+1))
    done
    touch /run/Chatter-$inst; exit 0;;
  stop) rm -f /run/Chatter-$inst; exit 0;;
  status) if [ -f /run/Chatter-$inst ]; then echo "Chatter $inst is running"; else echo "Chatter $inst is stopped"; fi; exit 0;;
esac
exit 2
`;

interface StatusJson {
  nodes: { name: string; status: string }[];
}

async function statusOf(viewer: HarnessNode, other: string): Promise<string | undefined> {
  const r = await viewer.exec([process.execPath, `${process.cwd()}/dist/cli/tsbeat.js`, 'status', '--json'], {
    env: env(viewer),
  });
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as StatusJson).nodes.find((n) => n.name === other)?.status;
}

/** Sum of N over "N log lines dropped: FILE: REASON" lines about `file` whose reason matches. */
function dropped(text: string, file: string, reason: RegExp): number {
  let n = 0;
  for (const line of text.split('\n')) {
    const m = /WARN: (\d+) log lines? dropped: (.*?): (.*)$/.exec(line);
    if (m && m[2] === file && reason.test(m[3]!)) n += Number(m[1]);
  }
  return n;
}

/** What went wrong on the heartbeat path in a log excerpt (empty when nothing did). */
function troubles(text: string, about: string): string[] {
  return text
    .split('\n')
    .filter(
      (l) =>
        new RegExp(
          `Late heartbeat: Node ${about}\\b|node ${about}: is dead|node ${about}: last heartbeat`,
        ).test(l) || /Acquiring resource group/.test(l),
    );
}

describe('a node logging into a stuck destination keeps its heartbeat interval', () => {
  it('logfile and debugfile on a FIFO nobody reads (60 s), then on a full tmpfs (60 s)', {
    timeout: 330_000,
  }, async () => {
    cluster = await createCluster({ nodes: 2 });
    const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
    const dir = `${a.dir}/logs`;
    const logfile = `${dir}/ha-log`;
    const debugfile = `${dir}/ha-debug`;
    await a.execOk(['sh', '-c', `mkdir -p ${dir} && mkfifo ${logfile} ${debugfile}`]);

    const group = Array.from({ length: CHATTERS }, (_, i) => `Chatter::${i + 1}`);
    const haresources = `node1 ${group.join(' \\\n  ')}\n`;
    for (const n of cluster.nodes) {
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: cluster.nodes,
          media: ['bcast eth0'],
          keepalive: '200ms',
          warntime: '700ms',
          deadtime: 1,
          initdead: 5,
          ...(n === a ? { logfile, debugfile } : {}),
        }),
        authkeys: authkeys('sha1', 'tsbeat-log-stall'),
        haresources,
        'resource.d/Chatter': CHATTER,
      });
    }
    const da: Daemon = await start(a);
    await start(b);
    await waitFor(async () => (await statusOf(b, 'node1')) === 'active', 60_000, {
      description: 'node2 sees node1 active',
      intervalMs: 300,
    });
    await waitFor(async () => (await statusOf(a, 'node2')) === 'active', 60_000, {
      description: 'node1 sees node2 active',
      intervalMs: 300,
    });
    // node1 acquires its group (node2 says nothing about it); the chatter starts now.
    await waitFor(async () => (await a.exec(['test', '-e', '/run/Chatter-1'])).code === 0, 60_000, {
      description: 'the first Chatter resource started on node1',
    });

    const checkPhase = async (phase: string, markB: number, outA: number): Promise<void> => {
      expect(troubles(readLog(b, markB), 'node1'), `${phase}: node2's log`).toEqual([]);
      expect(troubles(da.output().slice(outA), 'node2'), `${phase}: node1's stderr`).toEqual([]);
      expect(await statusOf(b, 'node1'), `${phase}: node2's view of node1`).toBe('active');
      expect(await statusOf(a, 'node2'), `${phase}: node1's view of node2`).toBe('active');
      expect(da.running(), `${phase}: node1's daemon`).toBe(true);
    };

    // Phase 1: FIFOs. First nobody has them open for reading, then a holder that never reads.
    let markB = logMark(b);
    let outA = da.output().length;
    await sleep(PHASE_MS / 3);
    holders.push(openSync(logfile, constants.O_RDWR), openSync(debugfile, constants.O_RDWR));
    await sleep(PHASE_MS - PHASE_MS / 3);
    await checkPhase('FIFO', markB, outA);

    // Drain the FIFOs: the queued lines come out, followed by the count of those dropped.
    const drained = `${a.dir}/ha-debug.drained`;
    await a.spawn(['sh', '-c', `exec cat ${debugfile} > ${drained}`], { label: 'drain-debug' });
    await a.spawn(['sh', '-c', `exec cat ${logfile} > /dev/null`], { label: 'drain-log' });
    await sleep(500);
    for (const fd of holders.splice(0)) closeSync(fd);
    await waitFor(() => dropped(readLog(drained), debugfile, /EAGAIN|ENXIO/) > 0, 30_000, {
      description: 'a drop note in the drained debugfile',
    });
    const fifoDrops = dropped(readLog(drained), debugfile, /EAGAIN|ENXIO/);
    expect(fifoDrops).toBeGreaterThan(1000);

    // Phase 2: a full tmpfs over the log directory, in node1's mount namespace only.
    markB = logMark(b);
    outA = da.output().length;
    await a.execOk([
      'sh',
      '-c',
      `mount -t tmpfs -o size=4m tsbeat-full ${dir} && : > ${logfile} && : > ${debugfile} && { dd if=/dev/zero of=${dir}/fill bs=4k 2>/dev/null; true; }`,
    ]);
    expect((await a.execOk(['df', '--output=avail', '-k', dir])).stdout).toMatch(/\n\s*0\s*$/);
    await sleep(PHASE_MS);
    await checkPhase('full tmpfs', markB, outA);
    // The operator sees it without reading the log: tsbeat status counts the drops.
    const st = await a.exec([process.execPath, `${process.cwd()}/dist/cli/tsbeat.js`, 'status', '--json'], {
      env: env(a),
    });
    const logs = (JSON.parse(st.stdout) as { logs: { file: string; droppedLines: number }[] }).logs;
    expect(logs.find((l) => l.file === debugfile)?.droppedLines ?? 0).toBeGreaterThan(1000);

    // Space comes back: the debugfile on the tmpfs gets the count of what was dropped.
    await a.execOk(['rm', '-f', `${dir}/fill`]);
    let text = '';
    await waitFor(
      async () => {
        text = (await a.exec(['cat', debugfile])).stdout;
        return dropped(text, debugfile, /ENOSPC/) > 0;
      },
      30_000,
      { description: 'a drop note (ENOSPC) in the debugfile on the tmpfs' },
    );
    expect(dropped(text, debugfile, /ENOSPC/)).toBeGreaterThan(1000);
    expect(text).toMatch(new RegExp(`info: log-rotate detected on logfile ${debugfile}`));
  });
});
