/**
 * The watchdog under a real tsbeat daemon in a namespace, with a FIFO stand-in for the
 * watchdog device (no softdog module on this machine; `watchdog <fifo>` in ha.cf). A reader
 * on the host (`cat`) timestamps every byte the daemon writes. Proves: the daemon writes one
 * byte per heartbeat (every keepalive) from its heartbeat loop; none at all while the daemon
 * is SIGSTOPped (a hung daemon lets the watchdog fire); writes resume after SIGCONT; and
 * `tsbeat stop` ends with the magic close ('V', then the device closed). Also: a watchdog
 * line naming a missing device keeps the daemon from starting, with an error naming the
 * ha.cf file, the device and the fix.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  pause,
  resume,
  startTsbeat,
  waitFor,
  waitForLog,
} from '../harness/index.js';

let cluster: Cluster | undefined;
let reader: ChildProcess | undefined;
afterEach(async () => {
  reader?.kill('SIGKILL');
  reader = undefined;
  await cluster?.destroy();
  cluster = undefined;
});

const TSBEAT = `${process.cwd()}/dist/cli/tsbeat.js`;
const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function configure(n: HarnessNode, device: string): void {
  n.writeHaD({
    'ha.cf': haCf(n, {
      nodes: [n],
      media: ['bcast eth0'],
      keepalive: 1,
      deadtime: 5,
      warntime: 3,
      initdead: 10,
      extra: [`watchdog ${device}`],
    }),
    authkeys: authkeys('sha1', 'tsbeat-watchdog'),
    haresources: '',
  });
}

describe('watchdog (FIFO stand-in for the device)', () => {
  it('FIFO stand-in: a write every keepalive, none while SIGSTOPped, the magic close on tsbeat stop', async () => {
    cluster = await createCluster({ nodes: 1 });
    const n = cluster.nodes[0]!;
    const fifo = join(n.dir, 'watchdog.fifo');
    execFileSync('mkfifo', [fifo]);
    configure(n, fifo);
    // The reader first: the daemon opens the device without blocking and needs a reader.
    const bytes: { atMs: number; byte: number }[] = [];
    reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    const closed = new Promise<void>((r) => reader!.on('close', () => r()));
    reader.stdout!.on('data', (d: Buffer) => {
      for (const b of d) bytes.push({ atMs: Date.now(), byte: b });
    });
    const daemon = await startTsbeat(n, { args: ['--foreground'], env: env(n) });
    await waitForLog(n, /watchdog .* opened/, 20_000);
    await waitFor(() => bytes.length >= 3, 20_000, { description: 'first watchdog writes' });

    // A write per keepalive (1 s): over 6 s, about 6 (a loaded machine may shift one or two).
    const from = bytes.length;
    await sleep(6000);
    const perWindow = bytes.length - from;
    expect(perWindow).toBeGreaterThanOrEqual(4);
    expect(perWindow).toBeLessThanOrEqual(8);
    expect(bytes.every((b) => b.byte === 0)).toBe(true);

    // SIGSTOP: the heartbeat loop does not run, so nothing is written.
    await pause(daemon);
    await sleep(500); // a write already in the pipe may still arrive
    const frozenAt = bytes.length;
    await sleep(4000);
    expect(bytes.length).toBe(frozenAt);
    await resume(daemon);
    await waitFor(() => bytes.length >= frozenAt + 2, 20_000, { description: 'writes after SIGCONT' });

    // tsbeat stop: the magic 'V', then the device is closed (the reader sees end of file).
    const stop = await n.exec([process.execPath, TSBEAT, 'stop'], { env: env(n), timeoutMs: 60_000 });
    expect(stop.code).toBe(0);
    await closed;
    expect(bytes.at(-1)?.byte).toBe(0x56);
    expect(bytes.slice(0, -1).every((b) => b.byte === 0)).toBe(true);
    await waitForLog(n, /watchdog .* closed \(magic close\)/, 10_000);
  }, 180_000);

  it('a missing watchdog device keeps tsbeat from starting, saying which and how to fix it', async () => {
    cluster = await createCluster({ nodes: 1 });
    const n = cluster.nodes[0]!;
    configure(n, '/dev/tsbeat-no-such-watchdog');
    const r = await n.exec([process.execPath, TSBEAT, 'start', '--foreground'], {
      env: env(n),
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /ha\.cf: watchdog \/dev\/tsbeat-no-such-watchdog: cannot open it \(ENOENT\): load a watchdog driver \(modprobe softdog\) or remove the watchdog line from ha\.cf/,
    );
  }, 120_000);
});
