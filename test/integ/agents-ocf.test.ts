// The other agents (IPaddr, SendArp, Dummy) and the heartbeat-style packaging, on two namespace
// "machines", with real tools only. It proves that:
//  - ocf-tester 4.12 passes ocf:tsbeat:IPaddr, ocf:tsbeat:SendArp and ocf:tsbeat:Dummy as
//    installed by `tsbeat install-agents` (its first check runs meta-data as user nobody);
//  - crm_resource drives each of them (start 0, check 0, stop 0, check 7, stop again 0);
//  - IPaddr keeps the legacy alias form: the address is labelled eth0:<n>, reserved by the hard
//    link $HA_RSCTMP/IPaddr-eth0:<n>; with lvs_support the loopback alias lo:0 is moved away on
//    start (state file holding "lo:0") and restored on stop;
//  - SendArp's announcement reaches the peer as 5 request/reply pairs, and its state lives in
//    $HA_RSCTMP/SendArp_<instance>;
//  - heartbeat 3.0.6's own ResourceManager, given tsbeat's resource.d scripts in place of its
//    wrappers, takes a group (IPaddr2 + Dummy) and gives it back: statgroup NONE → ALL → NONE,
//    the VIP appears and disappears, no stop fails (so nothing asks for a reboot).
// Needs root and scripts/install-deps.sh; agents only run inside the test namespaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, createCluster, type HarnessNode, TSBEAT_JS } from '../harness/index.js';
import { captureArp, installAgentsInNode, ipv4, macOf, ocfAgent } from './agents-support.js';

let cluster: Cluster | undefined;
let n1: HarnessNode;
let n2: HarnessNode;

beforeAll(async () => {
  cluster = await createCluster({ nodes: 2 });
  n1 = cluster.node('node1');
  n2 = cluster.node('node2');
  await installAgentsInNode(n1);
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

const NET = '10.77.0';

function env(vals: Record<string, string>, instance = 'r1'): Record<string, string> {
  const out: Record<string, string> = { OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: instance };
  for (const [k, v] of Object.entries(vals)) out[`OCF_RESKEY_${k}`] = v;
  return out;
}

describe('ocf-tester', () => {
  const cases: [string, string[]][] = [
    ['IPaddr', ['-o', `ip=${NET}.40`, '-o', 'cidr_netmask=24', '-o', 'nic=eth0', '-o', 'ARP_REPEAT=1']],
    ['SendArp', ['-o', `ip=${NET}.1`, '-o', 'nic=eth0', '-o', 'background=false']],
    ['Dummy', ['-o', 'state=/run/tsbeat-dummy-ocftester.state']],
  ];
  it.each(cases)('passes ocf:tsbeat:%s', async (name, opts) => {
    const r = await n1.exec(['ocf-tester', '-n', `t-${name}`, ...opts, ocfAgent(name)], {
      timeoutMs: 120_000,
    });
    expect(r.stdout).toContain(`${ocfAgent(name)} passed all tests`);
    expect(r.code).toBe(0);
    if (name === 'Dummy') {
      // ocf-tester's last step (migrate_from) leaves a migratable agent running; clean up.
      await n1.execOk([ocfAgent('Dummy'), 'stop'], {
        env: env({ state: '/run/tsbeat-dummy-ocftester.state' }),
      });
    }
  });
});

describe('crm_resource', () => {
  const cases: [string, string[]][] = [
    ['Dummy', ['--option', 'state=/run/tsbeat-dummy-crm.state']],
    ['SendArp', ['--option', `ip=${NET}.1`, '--option', 'nic=eth0']],
    ['IPaddr', ['--option', `ip=${NET}.41`, '--option', 'cidr_netmask=24', '--option', 'nic=eth0']],
  ];
  it.each(cases)('drives ocf:tsbeat:%s', async (name, options) => {
    const crm = (op: string) =>
      n1.exec(['crm_resource', op, '--class', 'ocf', '--provider', 'tsbeat', '--agent', name, ...options], {
        timeoutMs: 60_000,
      });
    const codes: number[] = [];
    for (const op of ['--force-start', '--force-check', '--force-stop', '--force-check', '--force-stop']) {
      codes.push((await crm(op)).code);
    }
    expect(codes).toEqual([0, 0, 0, 7, 0]);
  });
});

describe('IPaddr (legacy alias form)', () => {
  const ip = `${NET}.42`;
  const p = env({ ip, cidr_netmask: '24', nic: 'eth0', ARP_REPEAT: '1' }, 'ipl');

  it('adds the address as alias eth0:<n>, reserved by a hard link, and removes both', async () => {
    expect((await n1.exec([ocfAgent('IPaddr'), 'start'], { env: p })).code).toBe(0);
    const a = (await ipv4(n1)).filter((x) => x.cidr === `${ip}/24`);
    expect(a).toHaveLength(1);
    expect(a[0]?.label).toMatch(/^eth0:\d+$/);
    expect(a[0]?.brd).toBe(`${NET}.255`);
    const label = a[0]?.label ?? '';
    const links = await n1.execOk([
      'stat',
      '-c',
      '%h %n',
      '/run/resource-agents/IPaddr-eth0',
      `/run/resource-agents/IPaddr-${label}`,
    ]);
    expect(links.stdout.split('\n').filter((l) => l.startsWith('2 '))).toHaveLength(2);
    const st = await n1.exec([ocfAgent('IPaddr'), 'status'], { env: p });
    expect([st.code, st.stdout]).toEqual([0, 'running\n']);
    expect((await n1.exec([ocfAgent('IPaddr'), 'stop'], { env: p })).code).toBe(0);
    expect((await ipv4(n1)).filter((x) => x.cidr.startsWith(`${ip}/`))).toEqual([]);
    expect((await n1.exec(['test', '-e', `/run/resource-agents/IPaddr-${label}`])).code).not.toBe(0);
    const st2 = await n1.exec([ocfAgent('IPaddr'), 'status'], { env: p });
    expect([st2.code, st2.stdout]).toEqual([7, 'stopped\n']);
  });

  it('with lvs_support moves lo:0 away on start and restores it on stop', async () => {
    const vip = `${NET}.43`;
    const q = env({ ip: vip, cidr_netmask: '24', nic: 'eth0', lvs_support: 'true', ARP_REPEAT: '1' }, 'ipl2');
    await n1.execOk(['ip', 'addr', 'add', `${vip}/32`, 'dev', 'lo', 'label', 'lo:0']);
    const st = await n1.exec([ocfAgent('IPaddr'), 'status'], { env: q });
    expect([st.code, st.stdout]).toEqual([7, 'stopped\n']);
    expect((await n1.exec([ocfAgent('IPaddr'), 'start'], { env: q })).code).toBe(0);
    const on = (await ipv4(n1)).filter((x) => x.cidr.startsWith(`${vip}/`));
    expect(on.map((x) => [x.ifname, x.cidr])).toEqual([['eth0', `${vip}/24`]]);
    expect((await n1.execOk(['cat', `/run/resource-agents/${vip}`])).stdout).toBe('lo:0\n');
    expect((await n1.exec([ocfAgent('IPaddr'), 'stop'], { env: q })).code).toBe(0);
    const back = (await ipv4(n1)).filter((x) => x.cidr.startsWith(`${vip}/`));
    expect(back).toEqual([{ ifname: 'lo', cidr: `${vip}/32`, brd: vip, label: 'lo:0' }]);
    expect((await n1.exec(['test', '-e', `/run/resource-agents/${vip}`])).code).not.toBe(0);
    // The VIP on lo counts as stopped, and stopping leaves it there.
    expect((await n1.exec([ocfAgent('IPaddr'), 'stop'], { env: q })).code).toBe(0);
    expect((await ipv4(n1)).filter((x) => x.cidr === `${vip}/32`)).toHaveLength(1);
    await n1.execOk(['ip', 'addr', 'del', `${vip}/32`, 'dev', 'lo']);
  });
});

describe('SendArp', () => {
  it('announces 5 request/reply pairs and keeps its state in HA_RSCTMP', async () => {
    const mac1 = await macOf(n1);
    const p = env({ ip: `${NET}.1`, nic: 'eth0', background: 'false' }, 'garp1');
    const frames = await captureArp(n2, `${NET}.1`, 10, async () => {
      expect((await n1.exec([ocfAgent('SendArp'), 'start'], { env: p })).code).toBe(0);
    });
    expect(frames.map((f) => f.op)).toEqual(Array.from({ length: 5 }, () => ['request', 'reply']).flat());
    for (const f of frames) expect(f.srcMac).toBe(mac1);
    expect((await n1.exec(['test', '-f', '/run/resource-agents/SendArp_garp1'])).code).toBe(0);
    expect((await n1.exec([ocfAgent('SendArp'), 'monitor'], { env: p })).code).toBe(0);
    expect((await n1.exec([ocfAgent('SendArp'), 'stop'], { env: p })).code).toBe(0);
    expect((await n1.exec([ocfAgent('SendArp'), 'monitor'], { env: p })).code).toBe(7);
  });

  it('heartbeat style: silent when stopped (the wrapper runs under set -e), "Running OK" when running', async () => {
    const exe = '/run/tsb-rd/SendArp';
    await n1.execOk([
      'node',
      TSBEAT_JS,
      'install-agents',
      '--lib-dir',
      '/run/tsbeat-agents',
      '--resource-d',
      '/run/tsb-rd',
    ]);
    const off = await n1.exec([exe, `${NET}.1/eth0`, 'status']);
    expect([off.code, off.stdout]).toEqual([7, '']);
    const on = await n1.exec([exe, `${NET}.1/eth0`, 'start']);
    expect([on.code, on.stdout]).toEqual([0, 'INFO:  Success\n']);
    expect((await n1.exec([exe, `${NET}.1/eth0`, 'status'])).stdout).toBe('INFO:  Running OK\n');
    expect((await n1.exec(['test', '-f', '/run/resource-agents/SendArp_SendArp_10.77.0.1'])).code).toBe(0);
    expect((await n1.exec([exe, `${NET}.1/eth0`, 'stop'])).stdout).toBe('INFO:  Success\n');
  });
});

describe("heartbeat's ResourceManager with tsbeat's resource.d scripts", () => {
  it('takes and gives a group: statgroup NONE → ALL → NONE', async () => {
    const vip = `${NET}.50`;
    const key = `IPaddr2::${vip}/24/eth0`;
    // The node's /etc/ha.d is its own copy (test/harness); heartbeat's wrappers there are replaced.
    n1.writeHaD({ haresources: `node1 ${key} Dummy::rmgroup\n` });
    await n1.execOk([
      'node',
      TSBEAT_JS,
      'install-agents',
      '--lib-dir',
      '/run/tsbeat-agents',
      '--resource-d',
      '/etc/ha.d/resource.d',
      '--force',
    ]);
    // ResourceManager writes statgroup's answer (and the scripts' output) to HA_DEBUGLOG.
    const debugLog = '/run/rm-debug.log';
    const rm = (...args: string[]) =>
      n1.exec(['/usr/share/heartbeat/ResourceManager', ...args], {
        timeoutMs: 120_000,
        env: { HA_DEBUGLOG: debugLog },
      });
    const statgroup = async (): Promise<string> => {
      await n1.execOk(['truncate', '-s', '0', debugLog]);
      expect((await rm('statgroup', key)).code).toBe(0);
      return (await n1.execOk(['cat', debugLog])).stdout.trim().split('\n').pop() ?? '';
    };
    await n1.execOk(['touch', debugLog]);
    expect(await statgroup()).toBe('NONE');
    expect((await rm('status', key)).code).toBe(3);
    expect((await rm('takegroup', key)).code).toBe(0);
    expect((await ipv4(n1)).filter((x) => x.cidr === `${vip}/24`).map((x) => x.ifname)).toEqual(['eth0']);
    expect(await statgroup()).toBe('ALL');
    expect((await rm('status', 'Dummy::rmgroup')).code).toBe(0);
    expect((await rm('givegroup', key)).code).toBe(0);
    expect((await ipv4(n1)).filter((x) => x.cidr.startsWith(`${vip}/`))).toEqual([]);
    expect(await statgroup()).toBe('NONE');
    expect(n1.stubCalls()).toBe('');
  });
});
