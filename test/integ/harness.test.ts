// Self-test of the namespace harness (test/harness). It proves that createCluster() builds
// isolated "machines" — own network, PID, mount and UTS namespaces, hostname = node name, private
// /run and /etc/ha.d, reboot/systemctl stubbed so nothing inside a node can reboot the host — joined
// by a bridge that lives in its own namespace; that nodes reach each other on both networks and
// only there; that the fault helpers (link down/up, packet loss, SIGSTOP/SIGCONT, SIGKILL of a
// daemon tree) have the intended effect; that a socat pty pair carries bytes between two nodes;
// and that destroy() leaves nothing behind: no namespace with the run's prefix, no /etc/netns
// entry, no temp dir, no process. Needs root and the packages of scripts/install-deps.sh.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cluster,
  clearNetem,
  createCluster,
  createSerialPair,
  type HarnessNode,
  kill,
  leftovers,
  linkDown,
  linkUp,
  netem,
  pause,
  resume,
  startDaemon,
  type TrackedPid,
  waitFor,
  waitForLog,
} from '../harness/index.js';
import { isAlive, readStat, run } from '../harness/proc.js';

async function pingOk(from: HarnessNode, to: string): Promise<boolean> {
  const r = await from.exec(['ping', '-c', '1', '-W', '1', '-w', '2', to], { timeoutMs: 20_000 });
  return r.code === 0 && /1 (packets )?received/.test(r.stdout);
}

describe('namespace harness', () => {
  let cluster: Cluster | undefined;
  let n1: HarnessNode;
  let n2: HarnessNode;

  beforeAll(async () => {
    cluster = await createCluster({ nodes: 2, networks: 2 });
    n1 = cluster.node('node1');
    n2 = cluster.node('node2');
  });

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('gives each node its own hostname, PID namespace, /run and /etc/ha.d', async () => {
    const c = cluster!;
    expect(c.prefix).toMatch(/^tsb\d+[0-9a-f]{4}$/);
    for (const node of [n1, n2]) {
      expect((await node.execOk(['uname', '-n'])).stdout.trim()).toBe(node.name);
      expect((await node.execOk(['cat', '/proc/1/comm'])).stdout.trim()).toBe('tsb-init');
      const mounts = (await node.execOk(['cat', '/proc/self/mounts'])).stdout;
      expect(mounts).toMatch(/^tsbeat-run \/run tmpfs/m);
    }
    await n1.execOk(['sh', '-c', 'echo one > /run/harness-probe']);
    expect((await n2.exec(['cat', '/run/harness-probe'])).code).not.toBe(0);
    expect(existsSync('/run/harness-probe')).toBe(false);

    n1.writeHaD({ 'ha.cf': '# probe\n', authkeys: 'auth 1\n1 crc\n' });
    expect((await n1.execOk(['cat', '/etc/ha.d/ha.cf'])).stdout).toBe('# probe\n');
    expect((await n1.execOk(['stat', '-c', '%a', '/etc/ha.d/authkeys'])).stdout.trim()).toBe('600');
    expect((await n2.exec(['cat', '/etc/ha.d/ha.cf'])).code).not.toBe(0);
    expect(existsSync('/etc/ha.d/ha.cf')).toBe(false);
    // The node's ha.d is seeded from the package's (resource.d, shellfuncs, harc).
    expect((await n2.execOk(['ls', '/etc/ha.d/resource.d'])).stdout).toMatch(/IPaddr2/);
  });

  it('stubs reboot/systemctl inside the nodes', async () => {
    for (const node of [n1, n2]) {
      const text = (await node.execOk(['cat', '/usr/bin/systemctl'])).stdout;
      expect(text).toContain('TSBEAT-HARNESS-REBOOT-STUB');
    }
    // Only after proving the stub is in place: this is what ResourceManager does on a failed stop.
    const r = await n1.exec(['/sbin/reboot', '-nf']);
    expect(r.code).toBe(0);
    expect(n1.stubCalls()).toMatch(/STUB \S+ -nf \(host=node1\)/);
    expect(n1.up).toBe(true);
  });

  it('connects the nodes on both networks, with broadcast addresses', async () => {
    for (const ifname of ['eth0', 'eth1']) {
      const shown = (await n1.execOk(['ip', '-4', '-o', 'addr', 'show', 'dev', ifname])).stdout;
      expect(shown).toContain(`inet ${n1.addr(ifname)}/24 brd `);
      expect(await waitFor(() => pingOk(n1, n2.addr(ifname)), 20_000)).toBe(true);
    }
    // No route out of the namespaces.
    const routes = (await n1.execOk(['ip', 'route'])).stdout;
    expect(routes).not.toMatch(/default/);
    // The veths and bridges never appear in the host namespace.
    const hostLinks = (await run('ip', ['-o', 'link'])).stdout;
    expect(hostLinks).not.toMatch(/n0i0|n1i0/);
  });

  it('linkDown/linkUp cut and restore one network only', async () => {
    await linkDown(n2, 'eth0');
    expect(await pingOk(n1, n2.addr('eth0'))).toBe(false);
    expect(await pingOk(n1, n2.addr('eth1'))).toBe(true);
    await linkUp(n2, 'eth0');
    expect(await waitFor(() => pingOk(n1, n2.addr('eth0')), 20_000)).toBe(true);
  });

  it('netem loss 100% drops everything sent on the interface, clearNetem restores it', async () => {
    const method = await netem(n1, 'eth0', 'loss 100%');
    expect(['netem', 'nft-loss']).toContain(method);
    expect(await pingOk(n1, n2.addr('eth0'))).toBe(false);
    expect(await pingOk(n1, n2.addr('eth1'))).toBe(true);
    await clearNetem(n1, 'eth0');
    expect(await waitFor(() => pingOk(n1, n2.addr('eth0')), 20_000)).toBe(true);
  });

  it('pauses, resumes and SIGKILLs a daemon with its children', async () => {
    const d = await startDaemon(
      n1,
      ['sh', '-c', 'sleep 1000 & echo started >> /run/d.log; while :; do sleep 1; done'],
      {
        kind: 'probe',
        logFile: `${n1.dir}/probe.log`,
      },
    );
    expect(n1.daemon).toBe(d);
    const kids = await waitFor(() => {
      const k = readFileSync(`/proc/${d.pid}/task/${d.pid}/children`, 'utf8').trim();
      return k === '' ? undefined : k.split(/\s+/).map(Number);
    }, 10_000);
    const stopped = await pause(d);
    expect(stopped).toEqual(expect.arrayContaining([d.pid, ...kids]));
    for (const p of stopped) expect(readStat(p)?.state).toBe('T');
    await resume(d);
    await waitFor(() => stopped.every((p) => readStat(p)?.state !== 'T'), 10_000);
    await kill(n1, 'SIGKILL');
    for (const p of stopped) expect(isAlive(p)).toBe(false);
    const exit = await d.exited;
    expect(exit.code).toBe(137);
  });

  it('carries bytes over a socat pty pair bound to /run/ttyHB0 in both nodes', async () => {
    const pair = await createSerialPair(cluster!, n1, n2);
    expect(pair.ptys[0]).toMatch(/^\/dev\/pts\/\d+$/);
    for (const node of [n1, n2]) {
      const t = (await node.execOk(['stat', '-L', '-c', '%F', pair.path])).stdout.trim();
      expect(t).toBe('character special file');
    }
    const reader = await startDaemon(
      n2,
      ['sh', '-c', `head -n 1 ${pair.path} > /run/serial.txt; sleep 1000`],
      {
        kind: 'reader',
        logFile: `${n2.dir}/reader.log`,
      },
    );
    await waitFor(async () => {
      await n1.execOk(['sh', '-c', `echo hello-over-serial > ${pair.path}`]);
      return (await n2.exec(['cat', '/run/serial.txt'])).stdout.includes('hello-over-serial');
    }, 20_000);
    await kill(reader);
  });

  it('waitForLog finds lines appended later and reports the tail on timeout', async () => {
    const file = `${n1.dir}/wait-probe.log`;
    const d = await startDaemon(n1, ['sh', '-c', `sleep 1; echo 'hello: is dead' >> ${file}; sleep 1000`], {
      kind: 'probe',
      logFile: file,
    });
    expect(await waitForLog(d, /is dead/, 20_000)).toBe('hello: is dead');
    await expect(waitForLog(d, /never printed/, 300)).rejects.toThrow(/hello: is dead/);
    await kill(d);
  });

  it('reboot() gives a node a fresh machine and re-applies its bind mounts', async () => {
    const oldInit = n2.initTracked;
    await n2.execOk(['sh', '-c', 'echo x > /run/before-reboot']);
    await n2.reboot();
    expect(n2.up).toBe(true);
    expect(n2.initPid).not.toBe(oldInit?.pid);
    expect(oldInit && isAlive(oldInit.pid, oldInit.startTime)).toBe(false);
    expect((await n2.exec(['cat', '/run/before-reboot'])).code).not.toBe(0);
    expect((await n2.execOk(['uname', '-n'])).stdout.trim()).toBe('node2');
    expect([...n2.binds.keys()]).toEqual(['/run/ttyHB0']);
    const t = (await n2.execOk(['stat', '-L', '-c', '%F', '/run/ttyHB0'])).stdout.trim();
    expect(t).toBe('character special file');
    expect(await waitFor(() => pingOk(n1, n2.addr('eth0')), 20_000)).toBe(true);
  });

  it('destroy() removes namespaces, /etc/netns entries, temp files and processes', async () => {
    const c = cluster!;
    const pids: TrackedPid[] = [n1, n2].flatMap((n) => (n.initTracked ? [n.initTracked] : []));
    expect(pids).toHaveLength(2);
    const before = (await run('ip', ['netns', 'list'])).stdout;
    expect(before).toContain(`${c.prefix}-node1`);
    expect(before).toContain(`${c.prefix}-sw`);
    await c.destroy();
    cluster = undefined;
    expect(leftovers(c.prefix)).toEqual([]);
    const after = (await run('ip', ['netns', 'list'])).stdout;
    expect(after).not.toContain(c.prefix);
    expect(existsSync(c.tmpDir)).toBe(false);
    expect(existsSync(`/etc/netns/${c.prefix}-node1`)).toBe(false);
    for (const p of pids) expect(isAlive(p.pid, p.startTime)).toBe(false);
    // Idempotent.
    await c.destroy();
  });
});

describe('cluster creation failure', () => {
  it('cleans up what it created when a node name is invalid or setup fails', async () => {
    await expect(createCluster({ nodes: ['Bad_Name'] })).rejects.toThrow(/must match/);
    await expect(
      createCluster({ nodes: 1, networks: [{ ifname: 'this-name-is-way-too-long' }] }),
    ).rejects.toThrow(/max 15 chars/);
    // Fails halfway (namespaces exist, the second veth named eth0 clashes): all of it is removed.
    await expect(
      createCluster({ nodes: 2, networks: [{ ifname: 'eth0' }, { ifname: 'eth0' }] }),
    ).rejects.toThrow(/File exists|exists/);
    expect(readdirSync('/etc/netns').filter((e) => e.startsWith(`tsb${process.pid}`))).toEqual([]);
    const stray = (await run('ip', ['netns', 'list'])).stdout
      .split('\n')
      .filter((l) => l.startsWith(`tsb${process.pid}`));
    expect(stray).toEqual([]);
  });
});
