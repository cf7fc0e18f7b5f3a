// IPv6addr against the real one: resource-agents 4.12's IPv6addr (a C program) and heartbeat
// 3.0.6's resource.d/IPv6addr wrapper, run on the same namespace "machine" as tsbeat's, step by
// step. It proves that:
//  - for the same sequence of OCF actions (status, start, status, monitor, stop, stop, monitor;
//    an address outside every prefix without nic; the nic + cidr_netmask fallback; bad
//    parameters; an unknown action) both give the same exit codes, and leave the same addresses
//    on eth0 after every step;
//  - tsbeat's start announces the address: node2 captures five unsolicited neighbour
//    advertisements for it (send_ua, as IPaddr2's IPv6 path);
//  - through heartbeat's wrappers (`IPv6addr ADDR/PREFIX/NIC start|status|stop`) both print the
//    same status lines and exit codes, and so does tsbeat's in-process fast path (the daemon's);
//  - ocf-tester 4.12 gives ocf:tsbeat:IPv6addr (installed by `tsbeat install-agents`) the same
//    verdict as the stock agent: both answer 2 to notify/promote/demote, which it counts as failures.
// Needs root and scripts/install-deps.sh (heartbeat, resource-agents, tcpdump).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, createCluster, type HarnessNode, waitFor } from '../harness/index.js';
import { inProcess, installAgentsInNode, ocfAgent, REPO } from './agents-support.js';

const STOCK_OCF = '/usr/lib/ocf/resource.d/heartbeat/IPv6addr';
const STOCK_HB = '/etc/ha.d/resource.d/IPv6addr';
const TS_OCF = join(REPO, 'ocf', 'IPv6addr');
const TS_HB = join(REPO, 'resource.d', 'IPv6addr');

let cluster: Cluster | undefined;
let n1: HarnessNode;
let n2: HarnessNode;

beforeAll(async () => {
  cluster = await createCluster({ nodes: 2 });
  n1 = cluster.node('node1');
  n2 = cluster.node('node2');
  await n1.execOk(['ip', '-6', 'addr', 'add', 'fd78::1/64', 'dev', 'eth0', 'nodad']);
  await n2.execOk(['ip', '-6', 'addr', 'add', 'fd78::2/64', 'dev', 'eth0', 'nodad']);
  await installAgentsInNode(n1);
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** The global IPv6 addresses on node1's eth0, sorted ("addr/prefix"). */
async function globals(): Promise<string[]> {
  const r = await n1.execOk(['ip', '-j', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']);
  const links = JSON.parse(r.stdout) as { addr_info?: { local: string; prefixlen: number }[] }[];
  // ip -j adds an empty addr_info entry per link for some filters; keep the addresses only.
  return links
    .flatMap((l) =>
      (l.addr_info ?? []).filter((a) => a.local !== undefined).map((a) => `${a.local}/${a.prefixlen}`),
    )
    .sort();
}

interface Step {
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
}

const VIP = 'fd78::10';
const STEPS: readonly Step[] = [
  { action: 'status', params: { ipv6addr: VIP } },
  { action: 'start', params: { ipv6addr: VIP } },
  { action: 'status', params: { ipv6addr: VIP } },
  { action: 'monitor', params: { ipv6addr: VIP } },
  { action: 'start', params: { ipv6addr: VIP } },
  { action: 'stop', params: { ipv6addr: VIP } },
  { action: 'stop', params: { ipv6addr: VIP } },
  { action: 'monitor', params: { ipv6addr: VIP } },
  { action: 'status', params: { ipv6addr: `${VIP}/48` } },
  // Outside every prefix on the node and no nic: nowhere to put it.
  { action: 'start', params: { ipv6addr: 'fd79::10' } },
  // ... unless nic and a prefix say where.
  { action: 'start', params: { ipv6addr: 'fd79::10', nic: 'eth0', cidr_netmask: '64' } },
  { action: 'status', params: { ipv6addr: 'fd79::10', nic: 'eth0' } },
  { action: 'stop', params: { ipv6addr: 'fd79::10', nic: 'eth0', cidr_netmask: '64' } },
  { action: 'validate-all', params: { ipv6addr: 'not-an-address' } },
  { action: 'validate-all', params: { ipv6addr: `${VIP}/200` } },
  { action: 'validate-all', params: { ipv6addr: VIP, cidr_netmask: '129' } },
  { action: 'validate-all', params: {} },
  { action: 'validate-all', params: { ipv6addr: VIP } },
  { action: 'frobnicate', params: { ipv6addr: VIP } },
];

async function runSteps(agent: string): Promise<{ codes: number[]; addresses: string[][] }> {
  const codes: number[] = [];
  const addresses: string[][] = [];
  for (const s of STEPS) {
    const env: Record<string, string> = { OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'v6' };
    for (const [k, v] of Object.entries(s.params)) env[`OCF_RESKEY_${k}`] = v;
    const r = await n1.exec([agent, s.action], { env, timeoutMs: 60_000 });
    codes.push(r.code);
    addresses.push(await globals());
  }
  return { codes, addresses };
}

describe('ocf IPv6addr: tsbeat and resource-agents 4.12 side by side', () => {
  it('same exit codes and the same addresses after every step', async () => {
    const stock = await runSteps(STOCK_OCF);
    // The stock agent's answers are the oracle; say them, so a changed stock agent shows here.
    expect(stock.codes).toEqual([7, 0, 0, 0, 0, 0, 0, 7, 7, 1, 0, 0, 0, 2, 2, 2, 2, 0, 2]);
    const ours = await runSteps(TS_OCF);
    expect(ours.codes).toEqual(stock.codes);
    expect(ours.addresses).toEqual(stock.addresses);
    expect(ours.addresses[1]).toContain(`${VIP}/64`);
  }, 240_000);

  it("tsbeat's start sends five unsolicited neighbour advertisements for the address", async () => {
    const pcap = join(n2.dir, 'ipv6addr-na.pcap');
    const td = await n2.spawn(['timeout', '60', 'tcpdump', '-i', 'eth0', '-U', '-n', '-w', pcap, 'icmp6']);
    await waitFor(() => td.stderr().includes('listening on'), 10_000, { description: 'tcpdump listening' });
    const env = { OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'v6na', OCF_RESKEY_ipv6addr: 'fd78::20' };
    const started = await n1.exec([TS_OCF, 'start'], { env, timeoutMs: 60_000 });
    expect(started.code).toBe(0);
    await waitFor(
      () => neighbourAdvertisements(pcap).filter((t) => t === 'fd78:0:0:0:0:0:0:20').length >= 5,
      20_000,
      {
        description: 'five NAs for fd78::20 on node2',
      },
    );
    process.kill(td.pid, 'SIGTERM');
    await td.exited;
    expect((await n1.exec([TS_OCF, 'stop'], { env })).code).toBe(0);
  }, 120_000);
});

/** Target addresses of the ICMPv6 neighbour advertisements (type 136) in a pcap file. */
function neighbourAdvertisements(file: string): string[] {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return [];
  }
  const out: string[] = [];
  if (b.length < 24) return out;
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  for (let at = 24; at + 16 <= b.length; ) {
    const caplen = u32(at + 8);
    const pkt = b.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    if (pkt.length < 14 + 40 + 24 || pkt.readUInt16BE(12) !== 0x86dd || pkt[14 + 6] !== 58) continue;
    if (pkt[54] !== 136) continue;
    const target = pkt.subarray(54 + 8, 54 + 24);
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(target.readUInt16BE(i).toString(16));
    out.push(groups.join(':'));
  }
  return out;
}

describe("heartbeat-style IPv6addr: tsbeat's resource.d script and heartbeat 3.0.6's wrapper", () => {
  // haresources splits arguments on "::", so heartbeat users write the address without it.
  const ARG = 'fd78:0:0:0:0:0:0:30/64/eth0';
  async function sequence(script: string): Promise<string[]> {
    const out: string[] = [];
    for (const action of ['status', 'start', 'status', 'stop', 'status']) {
      const r = await n1.exec([script, ARG, action], { timeoutMs: 60_000 });
      out.push(`${action} rc=${r.code} ${r.stdout.trim()}`);
    }
    const wrong = await n1.exec([script, 'start'], { timeoutMs: 30_000 });
    out.push(`no-address rc=${wrong.code}`);
    return out;
  }
  it('prints the same lines and exit codes', async () => {
    const stock = await sequence(STOCK_HB);
    expect(stock).toEqual([
      'status rc=7 INFO:  Resource is stopped',
      'start rc=0 INFO:  Success',
      'status rc=0 INFO:  Running OK',
      'stop rc=0 INFO:  Success',
      'status rc=7 INFO:  Resource is stopped',
      'no-address rc=1',
    ]);
    expect(await sequence(TS_HB)).toEqual(stock);
  }, 180_000);

  it("tsbeat's in-process fast path (what the daemon runs) prints the same lines", async () => {
    const r = await inProcess(n1, 'IPv6addr', [ARG], ['status', 'start', 'status', 'stop', 'status']);
    expect(r.map((x) => `rc=${x.rc} ${x.stdout.trim()}`)).toEqual([
      'rc=7 INFO:  Resource is stopped',
      'rc=0 INFO:  Success',
      'rc=0 INFO:  Running OK',
      'rc=0 INFO:  Success',
      'rc=7 INFO:  Resource is stopped',
    ]);
    expect(await globals()).toEqual(['fd78::1/64']);
  }, 120_000);
});

describe('ocf-tester', () => {
  // The stock IPv6addr answers 2 to actions it does not know (notify, promote, demote), which
  // ocf-tester counts as failures; tsbeat's keeps that exit code, so both get the same verdict.
  const verdict = (out: string) =>
    out.split('\n').filter((l) => l.startsWith('* ') || l.startsWith('Aborting'));
  it('judges ocf:tsbeat:IPv6addr exactly as it judges the stock IPv6addr', async () => {
    const run = (agent: string, ip: string) =>
      n1.exec(['ocf-tester', '-n', 't-IPv6addr', '-o', `ipv6addr=${ip}`, agent], { timeoutMs: 180_000 });
    const stock = await run(STOCK_OCF, 'fd78::40');
    expect(verdict(stock.stdout)).toEqual([
      '* rc=2: The notify action cannot fail and must return 0',
      '* rc=2: Demoting a start resource should not fail',
      '* rc=2: Promote failed',
      '* rc=2: Demote failed',
      'Aborting tests',
    ]);
    const ours = await run(ocfAgent('IPv6addr'), 'fd78::41');
    expect(verdict(ours.stdout)).toEqual(verdict(stock.stdout));
    expect(ours.code).toBe(stock.code);
    // Aborted after its start, each leaves its address up; stop both.
    expect(await globals()).toEqual(['fd78::1/64', 'fd78::40/64', 'fd78::41/64']);
    for (const [agent, ip] of [
      [STOCK_OCF, 'fd78::40'],
      [TS_OCF, 'fd78::41'],
    ] as const)
      await n1.execOk([agent, 'stop'], { env: { OCF_ROOT: '/usr/lib/ocf', OCF_RESKEY_ipv6addr: ip } });
    expect(await globals()).toEqual(['fd78::1/64']);
  }, 400_000);
});
