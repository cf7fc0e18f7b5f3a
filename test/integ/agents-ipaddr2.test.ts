// IPaddr2 on two namespace "machines" (test/harness), with real tools only. It proves that:
//  - ocf-tester 4.12 passes tsbeat's installed ocf:tsbeat:IPaddr2 (with ip/cidr_netmask/nic, and
//    with ip alone, interface found like findif);
//  - Pacemaker's crm_resource, as "another manager", starts, checks and stops it (0, 0, 0, then 7;
//    a second stop is 0) and the address really comes and goes on eth0;
//  - the gratuitous ARP reaches the peer: tcpdump on node2 sees 5 request/reply pairs with sender
//    = target = VIP and node1's MAC, and a stale neighbour entry on node2 is rewritten;
//  - the LVS-DR hidden loopback cycle of the tutorial: VIP on lo as /32 with label lo:0 and
//    arp_ignore/arp_announce set (node2 gets no ARP answer) → heartbeat-style start (executable,
//    then in-process) → VIP on eth0, gone from lo, state file "<ip> 32 255.255.255.255 lo lo:0",
//    ARP announced and answered → stop → back on lo as /32 with label lo:0, state file removed;
//  - the in-process fast path and the executable print the same wrapper lines;
//  - the same cycle for an IPv6 VIP (/128 on lo, state file "<ip> 128 none lo"), through the
//    heartbeat-style script (which turns lvs_support on, as heartbeat's wrapper does), with node2
//    reaching the VIP only while it is on eth0 (a tsbeat extension: the stock agent refuses it);
//  - bad parameters (no ip, netmask 33, unknown nic, bad address) give 6 with an
//    ocf-exit-reason line, also through crm_resource, and stop of a stopped resource gives 0.
// Agents only ever run inside the test namespaces. Needs root and scripts/install-deps.sh.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, createCluster, type HarnessNode, requireTools } from '../harness/index.js';
import {
  arpAnswered,
  captureArp,
  inProcess,
  installAgentsInNode,
  ipv4,
  macOf,
  ocfAgent,
  REPO,
} from './agents-support.js';

let cluster: Cluster | undefined;
let n1: HarnessNode;
let n2: HarnessNode;
let mac1 = '';

beforeAll(async () => {
  requireTools(['ip', 'nsenter', 'unshare']);
  if (!existsSync(join(REPO, 'dist', 'cli', 'agent.js'))) throw new Error('run "npm run build" first');
  cluster = await createCluster({ nodes: 2 });
  n1 = cluster.node('node1');
  n2 = cluster.node('node2');
  await installAgentsInNode(n1);
  mac1 = await macOf(n1);
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

const NET = '10.77.0';

function env(vals: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'vip' };
  for (const [k, v] of Object.entries(vals)) out[`OCF_RESKEY_${k}`] = v;
  return out;
}

async function onEth0(node: HarnessNode, ip: string): Promise<string[]> {
  return (await ipv4(node))
    .filter((a) => a.ifname === 'eth0' && a.cidr.startsWith(`${ip}/`))
    .map((a) => a.cidr);
}

describe('ocf-tester', () => {
  it('passes ocf:tsbeat:IPaddr2 with ip, cidr_netmask and nic', async () => {
    const r = await n1.exec(
      [
        'ocf-tester',
        '-n',
        'vip60',
        '-o',
        `ip=${NET}.60`,
        '-o',
        'cidr_netmask=24',
        '-o',
        'nic=eth0',
        ocfAgent('IPaddr2'),
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.stdout).toContain(`${ocfAgent('IPaddr2')} passed all tests`);
    expect(r.code).toBe(0);
    expect(await onEth0(n1, `${NET}.60`)).toEqual([]);
  });

  it('passes with ip alone (nic and netmask from the routing table)', async () => {
    const r = await n1.exec(['ocf-tester', '-n', 'vip61', '-o', `ip=${NET}.61`, ocfAgent('IPaddr2')], {
      timeoutMs: 120_000,
    });
    expect(r.stdout).toContain('passed all tests');
    expect(r.code).toBe(0);
  });
});

describe('crm_resource as another manager', () => {
  const opts = ['--class', 'ocf', '--provider', 'tsbeat', '--agent', 'IPaddr2'];
  const params = ['--option', `ip=${NET}.62`, '--option', 'cidr_netmask=24', '--option', 'nic=eth0'];
  const crm = (op: string, extra: string[] = params) =>
    n1.exec(['crm_resource', op, ...opts, ...extra], { timeoutMs: 60_000 });

  it('force-start, force-check, force-stop, force-check, force-stop', async () => {
    const start = await crm('--force-start');
    expect(start.stdout).toContain('Operation force-start (ocf:tsbeat:IPaddr2) returned 0 (ok)');
    expect(start.code).toBe(0);
    expect(await onEth0(n1, `${NET}.62`)).toEqual([`${NET}.62/24`]);
    expect((await crm('--force-check')).code).toBe(0);
    const stop = await crm('--force-stop');
    expect(stop.code).toBe(0);
    expect(await onEth0(n1, `${NET}.62`)).toEqual([]);
    const check = await crm('--force-check');
    expect(check.code).toBe(7);
    expect(check.stdout).toContain('returned 7 (not running)');
    expect((await crm('--force-stop')).code).toBe(0);
  });

  it('a bad netmask is "not configured" with the reason shown', async () => {
    const r = await crm('--force-start', [
      '--option',
      `ip=${NET}.63`,
      '--option',
      'cidr_netmask=33',
      '--option',
      'nic=eth0',
    ]);
    expect(r.code).toBe(6);
    expect(r.stdout).toContain('returned 6 (not configured: [findif] failed)');
    expect(`${r.stdout}${r.stderr}`).toContain('Invalid netmask specification [33].');
    const v = await n1.exec(['crm_resource', '--validate', ...opts], { timeoutMs: 60_000 });
    expect(v.code).toBe(6);
    expect(v.stdout).toContain('(not configured: IP address (the ip parameter) is mandatory)');
  });
});

describe('bad parameters, directly', () => {
  const cases: [string, Record<string, string>, RegExp, RegExp][] = [
    ['no ip', {}, /^ocf-exit-reason:IP address \(the ip parameter\) is mandatory$/m, /^/],
    [
      'netmask 33',
      { ip: `${NET}.64`, cidr_netmask: '33' },
      /^ocf-exit-reason:\[findif\] failed$/m,
      /Invalid netmask specification \[33\]\./,
    ],
    [
      'unknown nic',
      { ip: `${NET}.64`, nic: 'nosuch0' },
      /^ocf-exit-reason:\[findif\] failed$/m,
      /Invalid interface name \[nosuch0\]/,
    ],
    [
      'bad address',
      { ip: `${NET}.300` },
      /^ocf-exit-reason:\[findif\] failed$/m,
      /IP address \[10\.77\.0\.300\] not valid\./,
    ],
    [
      'label too long',
      { ip: `${NET}.64`, nic: 'eth0', iflabel: 'muchtoolong' },
      /exceeds maximum character limit of 15/,
      /^/,
    ],
    [
      'arp_count 0',
      { ip: `${NET}.64`, arp_count: '0' },
      /^ocf-exit-reason:Invalid OCF_RESKEY_arp_count \[0\]$/m,
      /^/,
    ],
  ];
  it.each(cases)('%s: start fails with 6 and says why', async (_name, p, reason, log) => {
    const r = await n1.exec([ocfAgent('IPaddr2'), 'start'], { env: env(p) });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr).toMatch(log);
    expect(await onEth0(n1, `${NET}.64`)).toEqual([]);
  });

  it('a probe with an unknown nic is "not running"; stop of a stopped resource is 0', async () => {
    const probe = await n1.exec([ocfAgent('IPaddr2'), 'monitor'], {
      env: env({ ip: `${NET}.64`, nic: 'nosuch0' }),
    });
    expect(probe.code).toBe(7);
    const stop = await n1.exec([ocfAgent('IPaddr2'), 'stop'], {
      env: env({ ip: `${NET}.64`, cidr_netmask: '24', nic: 'eth0' }),
    });
    expect(stop.code).toBe(0);
    const stopBad = await n1.exec([ocfAgent('IPaddr2'), 'stop'], {
      env: env({ ip: `${NET}.64`, nic: 'nosuch0' }),
    });
    expect(stopBad.code).toBe(0);
  });
});

describe('gratuitous ARP seen from the peer', () => {
  it('start sends 5 request/reply pairs from node1 for the VIP', async () => {
    const vip = `${NET}.70`;
    const frames = await captureArp(n2, vip, 10, async () => {
      const r = await n1.exec([ocfAgent('IPaddr2'), 'start'], {
        env: env({ ip: vip, cidr_netmask: '24', nic: 'eth0' }),
      });
      expect(r.code).toBe(0);
    });
    expect(frames.map((f) => f.op)).toEqual(Array.from({ length: 5 }, () => ['request', 'reply']).flat());
    for (const f of frames) expect({ ip: f.ip, mac: f.srcMac }).toEqual({ ip: vip, mac: mac1 });
    expect(
      (
        await n1.exec([ocfAgent('IPaddr2'), 'stop'], {
          env: env({ ip: vip, cidr_netmask: '24', nic: 'eth0' }),
        })
      ).code,
    ).toBe(0);
  });

  it("rewrites a stale entry in the peer's neighbour cache", async () => {
    const vip = `${NET}.71`;
    await n2.execOk([
      'ip',
      'neigh',
      'replace',
      vip,
      'lladdr',
      '02:00:00:00:00:01',
      'dev',
      'eth0',
      'nud',
      'stale',
    ]);
    const p = env({ ip: vip, cidr_netmask: '24', nic: 'eth0', arp_count: '2', arp_bg: 'false' });
    expect((await n1.exec([ocfAgent('IPaddr2'), 'start'], { env: p })).code).toBe(0);
    const neigh = await n2.execOk(['ip', 'neigh', 'show', vip, 'dev', 'eth0']);
    expect(neigh.stdout).toContain(`lladdr ${mac1}`);
    expect((await n1.exec([ocfAgent('IPaddr2'), 'stop'], { env: p })).code).toBe(0);
    await n2.exec(['ip', 'neigh', 'del', vip, 'dev', 'eth0']);
  });
});

describe('IPv6 and network_namespace', () => {
  it('an IPv6 VIP: added after duplicate address detection, monitored, removed', async () => {
    const p = env({ ip: 'fd00:77::100', cidr_netmask: '64', nic: 'eth0' });
    expect((await n1.exec([ocfAgent('IPaddr2'), 'monitor'], { env: p })).code).toBe(7);
    expect((await n1.exec([ocfAgent('IPaddr2'), 'start'], { env: p, timeoutMs: 30_000 })).code).toBe(0);
    const six = await n1.execOk(['ip', '-o', '-6', 'addr', 'show', 'dev', 'eth0']);
    expect(six.stdout).toContain('fd00:77::100/64');
    const st = await n1.exec([ocfAgent('IPaddr2'), 'status'], { env: p });
    expect([st.code, st.stdout]).toEqual([0, 'running\n']);
    expect((await n1.exec([ocfAgent('IPaddr2'), 'stop'], { env: p })).code).toBe(0);
    expect((await n1.execOk(['ip', '-o', '-6', 'addr', 'show', 'dev', 'eth0'])).stdout).not.toContain(
      'fd00:77::100',
    );
    // The stock agent refuses lvs_support for IPv6 (6); tsbeat's handles it (cycle below).
    const lvs = await n1.exec([ocfAgent('IPaddr2'), 'validate-all'], {
      env: { ...p, OCF_RESKEY_lvs_support: 'true' },
    });
    expect([lvs.code, lvs.stderr]).toEqual([0, '']);
  });

  it("network_namespace: the address goes into the named namespace, not the caller's", async () => {
    // A namespace inside node1 (its /run/netns is node1's private /run).
    await n1.execOk(['ip', 'netns', 'add', 'tsbinner']);
    try {
      await n1.execOk([
        'ip',
        'link',
        'add',
        'vin',
        'type',
        'veth',
        'peer',
        'name',
        'vout',
        'netns',
        'tsbinner',
      ]);
      await n1.execOk(['ip', '-n', 'tsbinner', 'addr', 'add', '10.78.0.1/24', 'dev', 'vout']);
      await n1.execOk(['ip', '-n', 'tsbinner', 'link', 'set', 'vout', 'up']);
      await n1.execOk(['ip', 'link', 'set', 'vin', 'up']);
      const p = env({ ip: '10.78.0.10', nic: 'vout', network_namespace: 'tsbinner', arp_count: '1' });
      expect((await n1.exec([ocfAgent('IPaddr2'), 'start'], { env: p })).code).toBe(0);
      const inner = await n1.execOk(['ip', '-n', 'tsbinner', '-o', '-4', 'addr', 'show', 'dev', 'vout']);
      expect(inner.stdout).toContain('10.78.0.10/24');
      expect((await ipv4(n1)).filter((a) => a.cidr.startsWith('10.78.0.10/'))).toEqual([]);
      expect((await n1.exec([ocfAgent('IPaddr2'), 'monitor'], { env: p })).code).toBe(0);
      expect((await n1.exec([ocfAgent('IPaddr2'), 'stop'], { env: p })).code).toBe(0);
      const after = await n1.execOk(['ip', '-n', 'tsbinner', '-o', '-4', 'addr', 'show', 'dev', 'vout']);
      expect(after.stdout).not.toContain('10.78.0.10');
    } finally {
      await n1.exec(['ip', 'netns', 'del', 'tsbinner']);
    }
  });
});

describe('LVS-DR hidden loopback cycle', () => {
  const vip = `${NET}.80`;
  const arg = `${vip}/24/eth0`;
  const stateFile = `/run/resource-agents/${vip}`;

  beforeAll(async () => {
    // A real server: VIP on lo as /32, ARP for it suppressed on the wire.
    await n1.execOk([
      'sysctl',
      '-q',
      '-w',
      'net.ipv4.conf.all.arp_ignore=1',
      'net.ipv4.conf.all.arp_announce=2',
    ]);
  });

  async function realServerState(): Promise<void> {
    await n1.execOk(['ip', 'addr', 'add', `${vip}/32`, 'dev', 'lo', 'label', 'lo:0']);
  }

  async function expectOnLo(): Promise<void> {
    const a = await ipv4(n1);
    expect(a.filter((x) => x.cidr.startsWith(`${vip}/`))).toEqual([
      { ifname: 'lo', cidr: `${vip}/32`, brd: '255.255.255.255', label: 'lo:0' },
    ]);
    expect((await n1.exec(['test', '-e', stateFile])).code).not.toBe(0);
    expect(await arpAnswered(n2, vip)).toBe(false);
  }

  async function expectOnNic(): Promise<void> {
    const a = await ipv4(n1);
    expect(a.filter((x) => x.cidr.startsWith(`${vip}/`)).map((x) => [x.ifname, x.cidr])).toEqual([
      ['eth0', `${vip}/24`],
    ]);
    const state = await n1.execOk(['cat', stateFile]);
    expect(state.stdout).toBe(`${vip} 32 255.255.255.255 lo lo:0\n`);
    expect((await n1.execOk(['stat', '-c', '%a', stateFile])).stdout.trim()).toBe('644');
    expect(await arpAnswered(n2, vip)).toBe(true);
  }

  it('executable: takeover moves the VIP to eth0 and announces it; release puts it back on lo:0', async () => {
    await realServerState();
    expect(await arpAnswered(n2, vip)).toBe(false);
    const st = await n1.exec([join(REPO, 'resource.d', 'IPaddr2'), arg, 'status']);
    expect([st.code, st.stdout]).toEqual([7, 'INFO:  Resource is stopped\n']);
    const frames = await captureArp(n2, vip, 10, async () => {
      const r = await n1.exec([join(REPO, 'resource.d', 'IPaddr2'), arg, 'start']);
      expect([r.code, r.stdout]).toEqual([0, 'INFO:  Success\n']);
      expect(r.stderr).toContain('Removing conflicting loopback lo.');
    });
    expect(frames.filter((f) => f.srcMac === mac1 && f.ip === vip)).toHaveLength(10);
    await expectOnNic();
    const running = await n1.exec([join(REPO, 'resource.d', 'IPaddr2'), arg, 'status']);
    expect([running.code, running.stdout]).toEqual([0, 'INFO:  Running OK\n']);
    const stop = await n1.exec([join(REPO, 'resource.d', 'IPaddr2'), arg, 'stop']);
    expect([stop.code, stop.stdout]).toEqual([0, 'INFO:  Success\n']);
    await expectOnLo();
    const again = await n1.exec([join(REPO, 'resource.d', 'IPaddr2'), arg, 'stop']);
    expect(again.code).toBe(0);
    await expectOnLo();
  });

  it('in-process fast path: the same cycle, the same wrapper lines', async () => {
    const before = await inProcess(n1, 'IPaddr2', [arg], ['status']);
    expect(before.map((r) => [r.rc, r.stdout])).toEqual([[7, 'INFO:  Resource is stopped\n']]);
    const frames = await captureArp(n2, vip, 10, async () => {
      const r = await inProcess(n1, 'IPaddr2', [arg], ['start', 'status']);
      expect(r.map((x) => [x.rc, x.stdout])).toEqual([
        [0, 'INFO:  Success\n'],
        [0, 'INFO:  Running OK\n'],
      ]);
    });
    expect(frames.map((f) => f.op)).toEqual(Array.from({ length: 5 }, () => ['request', 'reply']).flat());
    await expectOnNic();
    const stop = await inProcess(n1, 'IPaddr2', [arg], ['stop', 'status', 'stop']);
    expect(stop.map((r) => [r.rc, r.stdout])).toEqual([
      [0, 'INFO:  Success\n'],
      [7, 'INFO:  Resource is stopped\n'],
      [0, 'INFO:  Success\n'],
    ]);
    await expectOnLo();
  });
});

describe('LVS-DR hidden loopback cycle, IPv6 (a tsbeat extension: the stock agent refuses it)', () => {
  // haresources splits on "::", so the heartbeat-style argument spells the address out.
  const vip = 'fd00:78::80';
  const arg = 'fd00:78:0:0:0:0:0:80/64/eth0';
  const stateFile = `/run/resource-agents/${vip}`;
  const hb = join(REPO, 'resource.d', 'IPaddr2');

  beforeAll(async () => {
    await n1.execOk(['ip', '-6', 'addr', 'add', 'fd00:78::1/64', 'dev', 'eth0', 'nodad']);
    await n2.execOk(['ip', '-6', 'addr', 'add', 'fd00:78::2/64', 'dev', 'eth0', 'nodad']);
  });

  async function v6(n: HarnessNode): Promise<string[]> {
    const r = await n.execOk(['ip', '-j', '-6', 'addr', 'show']);
    const links = JSON.parse(r.stdout) as {
      ifname: string;
      addr_info?: { local?: string; prefixlen: number }[];
    }[];
    return links
      .flatMap((l) => (l.addr_info ?? []).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
      .filter((x) => x.includes(` ${vip}/`));
  }
  /** node2 reaches the VIP over the wire (Linux answers neighbour solicitations only for addresses of the receiving interface, so a /128 on lo stays hidden). */
  async function reachable(): Promise<boolean> {
    return (await n2.exec(['ping', '-6', '-n', '-c', '1', '-W', '1', vip], { timeoutMs: 15_000 })).code === 0;
  }

  it('start moves the /128 off lo to eth0 (state file "<ip> 128 none lo"); stop puts it back', async () => {
    await n1.execOk(['ip', '-6', 'addr', 'add', `${vip}/128`, 'dev', 'lo']);
    expect(await v6(n1)).toEqual([`lo ${vip}/128`]);
    expect(await reachable()).toBe(false);
    const st = await n1.exec([hb, arg, 'status']);
    expect([st.code, st.stdout]).toEqual([7, 'INFO:  Resource is stopped\n']);

    const r = await n1.exec([hb, arg, 'start'], { timeoutMs: 60_000 });
    expect([r.code, r.stdout]).toEqual([0, 'INFO:  Success\n']);
    expect(r.stderr).toContain('Removing conflicting loopback lo.');
    expect(await v6(n1)).toEqual([`eth0 ${vip}/64`]);
    expect((await n1.execOk(['cat', stateFile])).stdout).toBe(`${vip} 128 none lo\n`);
    expect((await n1.execOk(['stat', '-c', '%a', stateFile])).stdout.trim()).toBe('644');
    expect(await reachable()).toBe(true);

    const stop = await n1.exec([hb, arg, 'stop']);
    expect([stop.code, stop.stdout]).toEqual([0, 'INFO:  Success\n']);
    expect(await v6(n1)).toEqual([`lo ${vip}/128`]);
    expect((await n1.exec(['test', '-e', stateFile])).code).not.toBe(0);
    // node2 may still have a neighbour entry from the ping; a fresh one must fail.
    await n2.exec(['ip', '-6', 'neigh', 'flush', 'dev', 'eth0']);
    expect(await reachable()).toBe(false);
    expect((await n1.exec([hb, arg, 'stop'])).code).toBe(0);
    expect(await v6(n1)).toEqual([`lo ${vip}/128`]);
    await n1.execOk(['ip', '-6', 'addr', 'del', `${vip}/128`, 'dev', 'lo']);
  }, 120_000);

  it('without the loopback copy, start and stop leave lo alone and write no state file', async () => {
    const r = await n1.exec([hb, arg, 'start'], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('Removing conflicting loopback lo.');
    expect((await n1.exec(['test', '-e', stateFile])).code).not.toBe(0);
    expect((await n1.exec([hb, arg, 'stop'])).code).toBe(0);
    expect(await v6(n1)).toEqual([]);
  }, 120_000);
});
