/**
 * IPv6 heartbeat media with two tsbeat daemons in network namespaces: `mcast6` to a
 * link-scoped group (ff02::, sent out of the named interface) and `ucast6` to the peer's
 * link-local address (fe80::, scoped to the interface) and, separately, to a ULA address.
 * Proves each brings both nodes to active for each other, with the link named after the
 * device, and that SIGKILL of one node is seen as death over that medium alone. Then IPv6 end
 * to end: over mcast6, an IPv6 virtual IP (the built-in IPaddr2) fails over with its group, the
 * new holder sends an unsolicited neighbour advertisement (heartbeat's send_ua; captured with
 * tcpdump on a third namespace) and that namespace's neighbour cache follows it without
 * asking. (IPv6addr and IPaddr's IPv6 refusal: test/integ/agents-ipv6addr.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  kill,
  startTsbeat,
  testResourceScript,
  waitFor,
  waitForLog,
} from '../harness/index.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const clStatus = (n: HarnessNode, args: readonly string[]) =>
  n.exec([process.execPath, `${process.cwd()}/dist/cli/cl_status.js`, ...args], {
    env: env(n),
    timeoutMs: 30_000,
  });

/** The interface's link-local address, once DAD finished. */
async function linkLocal(n: HarnessNode): Promise<string> {
  let addr = '';
  await waitFor(
    async () => {
      const r = await n.exec(['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
      const m = /inet6 (fe80::[0-9a-f:]+)\/64 scope link(?! tentative)/.exec(r.stdout);
      addr = m?.[1] ?? '';
      return addr !== '' && !/tentative/.test(r.stdout);
    },
    20_000,
    { description: `link-local address of ${n.name}` },
  );
  return addr;
}

async function pairWith(
  media: (n: HarnessNode, peer: HarnessNode) => Promise<string[]>,
): Promise<HarnessNode[]> {
  cluster = await createCluster({ nodes: 2 });
  const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
  // Link-scoped sends need the interface's link-local address, usable once DAD is done.
  await Promise.all([linkLocal(a), linkLocal(b)]);
  for (const [n, peer] of [
    [a, b],
    [b, a],
  ] as const) {
    n.writeHaD({
      'ha.cf': haCf(n, {
        nodes: [a, b],
        media: await media(n, peer),
        keepalive: 1,
        deadtime: 4,
        warntime: 2,
        initdead: 10,
      }),
      authkeys: authkeys('sha1', 'tsbeat-ipv6'),
      haresources: '',
    });
  }
  await Promise.all([a, b].map((n) => startTsbeat(n, { args: ['--foreground'], env: env(n) })));
  return [a, b];
}

async function expectActivePair(a: HarnessNode, b: HarnessNode): Promise<void> {
  for (const [n, peer] of [
    [a, b],
    [b, a],
  ] as const)
    await waitFor(async () => (await clStatus(n, ['nodestatus', peer.name])).stdout === 'active\n', 60_000, {
      description: `${n.name} sees ${peer.name} active`,
    });
  expect((await clStatus(a, ['hblinkstatus', 'node2', 'eth0'])).stdout).toBe('up\n');
  await kill(b, 'SIGKILL');
  await waitForLog(a, /node node2: is dead/, 30_000);
}

describe('IPv6 media in namespaces', () => {
  it('mcast6 to a link-scoped group: both active, death detected', async () => {
    const [a, b] = (await pairWith(async () => ['mcast6 eth0 ff02::694 694 1 0'])) as [
      HarnessNode,
      HarnessNode,
    ];
    await expectActivePair(a, b);
  }, 180_000);

  it('ucast6 to the peer link-local address: both active, death detected', async () => {
    const [a, b] = (await pairWith(async (_n, peer) => [`ucast6 eth0 ${await linkLocal(peer)}`])) as [
      HarnessNode,
      HarnessNode,
    ];
    await expectActivePair(a, b);
  }, 180_000);

  it('ucast6 to a ULA address: both active, death detected', async () => {
    const [a, b] = (await pairWith(async (n, peer) => {
      for (const m of [n, peer]) {
        const ip = m.name === 'node1' ? 'fd77::1' : 'fd77::2';
        await m.exec(['ip', '-6', 'addr', 'add', `${ip}/64`, 'dev', 'eth0', 'nodad']);
      }
      return [`ucast6 eth0 ${peer.name === 'node1' ? 'fd77::1' : 'fd77::2'}`];
    })) as [HarnessNode, HarnessNode];
    await expectActivePair(a, b);
  }, 180_000);
});

/** Target addresses of the ICMPv6 neighbour advertisements (type 136) in a pcap file. */
function neighbourAdvertisements(file: string): string[] {
  const b = readFileSync(file);
  const out: string[] = [];
  if (b.length < 24) return out;
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  for (let at = 24; at + 16 <= b.length; ) {
    const caplen = u32(at + 8);
    const pkt = b.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    // Ethernet, IPv6 (0x86dd), next header ICMPv6 (58), type 136.
    if (pkt.length < 14 + 40 + 24 || pkt.readUInt16BE(12) !== 0x86dd || pkt[14 + 6] !== 58) continue;
    if (pkt[54] !== 136) continue;
    const target = pkt.subarray(54 + 8, 54 + 24);
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(target.readUInt16BE(i).toString(16));
    out.push(groups.join(':'));
  }
  return out;
}

describe('an IPv6 virtual IP over IPv6 media', () => {
  it('fails over with its group; the new holder advertises it and a third host follows (NA captured)', async () => {
    cluster = await createCluster({ nodes: 3 });
    const [a, b, c] = cluster.nodes as [HarnessNode, HarnessNode, HarnessNode];
    for (const [i, n] of [a, b, c].entries())
      await n.execOk(['ip', '-6', 'addr', 'add', `fd77::${i + 1}/64`, 'dev', 'eth0', 'nodad']);
    await Promise.all([linkLocal(a), linkLocal(b), linkLocal(c)]);
    const vip = 'fd77::200';
    for (const n of [a, b]) {
      n.writeHaD({
        'ha.cf': haCf(n, {
          nodes: [a, b],
          media: ['mcast6 eth0 ff02::694 694 1 0'],
          keepalive: 1,
          deadtime: 3,
          warntime: 2,
          initdead: 10,
          autoFailback: 'on',
        }),
        authkeys: authkeys('sha1', 'tsbeat-ipv6-vip'),
        // haresources splits on "::", so the address is written without it (as with heartbeat).
        haresources: `node1 IPaddr2::fd77:0:0:0:0:0:0:200/64/eth0 HarnessRes::a1\nnode2 HarnessRes::b1\n`,
        'resource.d/HarnessRes': testResourceScript('HarnessRes'),
      });
    }
    const holds = async (n: HarnessNode) =>
      (await n.exec(['ip', '-o', '-6', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(` ${vip}/64 `);
    const mac = async (n: HarnessNode) =>
      /link\/ether ([0-9a-f:]+)/.exec((await n.exec(['ip', '-o', 'link', 'show', 'eth0'])).stdout)?.[1];
    const cachedMac = async () =>
      /lladdr ([0-9a-f:]+)/.exec(
        (await c.exec(['ip', '-6', 'neigh', 'show', vip, 'dev', 'eth0'])).stdout,
      )?.[1];

    await Promise.all([a, b].map((n) => startTsbeat(n, { args: ['--foreground'], env: env(n) })));
    await waitFor(() => holds(a), 60_000, { description: `${vip} on node1` });
    // The address is usable once its own DAD is over.
    await waitFor(async () => (await c.exec(['ping', '-6', '-c', '1', '-W', '1', vip])).code === 0, 20_000, {
      description: `node3 reaches ${vip}`,
    });
    expect(await cachedMac()).toBe(await mac(a));

    const pcap = join(c.dir, 'na.pcap');
    const capture = await c.spawn([
      'timeout',
      '60',
      'tcpdump',
      '-i',
      'eth0',
      '-U',
      '-n',
      '-w',
      pcap,
      'icmp6',
    ]);
    await new Promise((r) => setTimeout(r, 1000));
    await kill(a, 'SIGKILL');
    // The machine "crashes": its address goes with it.
    await a.exec(['ip', '-6', 'addr', 'del', `${vip}/64`, 'dev', 'eth0']);
    await waitFor(() => holds(b), 30_000, { description: `${vip} on node2` });
    // node3 sent nothing since its ping; its cache follows the advertisement alone.
    await waitFor(async () => (await cachedMac()) === (await mac(b)), 20_000, {
      description: `node3's neighbour cache names node2's MAC for ${vip}`,
    });
    process.kill(capture.pid, 'SIGTERM');
    await capture.exited;
    expect(neighbourAdvertisements(pcap)).toContain('fd77:0:0:0:0:0:0:200');
  }, 240_000);
});
