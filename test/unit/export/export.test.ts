// The export core (src/export/) on the fixtures: what each haresources resource and ha.cf
// directive becomes, that nothing in the input is dropped without a report line, and the three
// renderings of one configuration. Real-tool checks (crm_verify, crm_simulate, corosync -t)
// are in test/integ/export-pacemaker.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Group, PacemakerConfig, Primitive } from '../../../src/export/model.js';
import { exportPacemaker, LOCATION_SCORE, STICKINESS_OFF } from '../../../src/export/pacemaker.js';
import { renderCib, renderCrmsh, renderPcs } from '../../../src/export/render.js';
import { FIXTURES, type FixtureName, fixtureCopy, loadFixture, removeCopy } from '../../support/export.js';

const OPTS = { provider: 'heartbeat', service: 'lsb' } as const;

function primitives(cfg: PacemakerConfig): Primitive[] {
  return cfg.resources.flatMap((r) =>
    r.kind === 'primitive' ? [r] : r.kind === 'group' ? [...r.members] : [r.primitive],
  );
}
const byId = (cfg: PacemakerConfig, id: string) => primitives(cfg).find((p) => p.id === id);
const params = (p: Primitive | undefined) =>
  Object.fromEntries((p?.params ?? []).map((n) => [n.name, n.value]));

describe('every agent and option', () => {
  let input: Awaited<ReturnType<typeof loadFixture>>;
  let res: ReturnType<typeof exportPacemaker>;
  beforeAll(async () => {
    input = await loadFixture(FIXTURES['every-agent']);
    res = exportPacemaker(input, OPTS);
  });

  it("maps each of tsbeat's agents to its OCF agent with the parameters heartbeat passed", () => {
    const cfg = res.pacemaker;
    expect(res.diagnostics).toEqual([]);
    // The bare-IP shorthand and IPaddr are IPaddr2 now, same parameters.
    expect(byId(cfg, 'ip-10.10.0.10')).toMatchObject({ provider: 'heartbeat', type: 'IPaddr2' });
    expect(params(byId(cfg, 'ip-10.10.0.11'))).toMatchObject({
      ip: '10.10.0.11',
      cidr_netmask: '24',
      nic: 'eth0',
    });
    expect(params(byId(cfg, 'ip-10.10.0.12'))).toMatchObject({ nic: 'eth0:vip', broadcast: '10.10.0.255' });
    expect(params(byId(cfg, 'arp-10.10.0.11'))).toEqual({ ip: '10.10.0.11', nic: 'eth0' });
    expect(byId(cfg, 'ip-fd10-0-0-0-0-0-0-20')).toMatchObject({ provider: 'heartbeat', type: 'IPv6addr' });
    expect(params(byId(cfg, 'ip-fd10-0-0-0-0-0-0-20'))).toEqual({
      ipv6addr: 'fd10:0:0:0:0:0:0:20',
      cidr_netmask: '64',
      nic: 'eth0',
    });
    // resource-agents' IPaddr2 refuses lvs_support for IPv6, so it is not exported for it.
    expect(params(byId(cfg, 'ip-fd10-0-0-0-0-0-0-21'))).toEqual({
      ip: 'fd10:0:0:0:0:0:0:21',
      cidr_netmask: '64',
      nic: 'eth0',
    });
    expect(params(byId(cfg, 'ip-10.10.0.13'))).toMatchObject({ lvs_support: '1' });
    expect(params(byId(cfg, 'MailTo-root-localhost'))).toEqual({
      email: 'root@localhost',
      subject: 'failover',
    });
    expect(params(byId(cfg, 'Delay-5'))).toMatchObject({ startdelay: '5', stopdelay: '2' });
    expect(params(byId(cfg, 'fs-data'))).toEqual({ device: '/dev/sdb1', directory: '/data', fstype: 'ext4' });
    expect(params(byId(cfg, 'lxc-web'))).toMatchObject({ container: 'web' });
    // Only tsbeat ships vserver: its provider stays tsbeat whatever --provider says.
    expect(byId(cfg, 'vserver-guest1')).toMatchObject({ provider: 'tsbeat', type: 'vserver' });
    expect(byId(cfg, 'ldirectord-ldirectord.cf')).toMatchObject({ type: 'ldirectord' });
    expect(params(byId(cfg, 'ldirectord-ldirectord.cf'))).toEqual({ configfile: '/etc/ha.d/ldirectord.cf' });
    expect(byId(cfg, 'postfix')).toMatchObject({ class: 'lsb', type: 'postfix' });
    // Every primitive is monitored (heartbeat v1 never was), with the agent's own interval.
    for (const p of primitives(cfg))
      expect(
        p.ops.some((o) => o.name === 'monitor'),
        p.id,
      ).toBe(true);
    expect(byId(cfg, 'ip-10.10.0.12')!.ops.find((o) => o.name === 'monitor')).toMatchObject({
      interval: '10s',
    });
  });

  it('--provider tsbeat and --service systemd choose the agents', () => {
    const cfg = exportPacemaker(input, { provider: 'tsbeat', service: 'systemd' }).pacemaker;
    expect(byId(cfg, 'ip-10.10.0.10')).toMatchObject({ provider: 'tsbeat', type: 'IPaddr2' });
    expect(byId(cfg, 'postfix')).toMatchObject({ class: 'systemd' });
  });

  it('drbddisk becomes a promotable ocf:linbit:drbd clone the group is colocated with and ordered after', () => {
    const cfg = res.pacemaker;
    const clone = cfg.resources.find((r) => r.kind === 'clone');
    expect(clone).toMatchObject({ id: 'drbd-r1-clone', primitive: { provider: 'linbit', type: 'drbd' } });
    const group = cfg.resources.find(
      (r): r is Group => r.kind === 'group' && r.members.some((m) => m.id === 'fs-export'),
    );
    expect(group!.members.map((m) => m.id)).toEqual(['fs-export', 'apache-apache2.conf']);
    expect(cfg.constraints).toContainEqual(
      expect.objectContaining({
        kind: 'colocation',
        rsc: group!.id,
        withRsc: 'drbd-r1-clone',
        withRole: 'Promoted',
        score: 'INFINITY',
      }),
    );
    expect(cfg.constraints).toContainEqual(
      expect.objectContaining({
        kind: 'order',
        first: 'drbd-r1-clone',
        firstAction: 'promote',
        thenRsc: group!.id,
      }),
    );
  });

  it('one group per haresources line, in line order, each preferring its node', () => {
    const groups = res.pacemaker.resources.filter((r): r is Group => r.kind === 'group');
    expect(groups.map((g) => g.id)).toEqual(res.placements.map((p) => p.id));
    expect(res.placements.map((p) => p.preferredNode)).toEqual([
      'n1',
      'n1',
      'n2',
      'n2',
      'n1',
      'n2',
      'n1',
      'n2',
    ]);
    for (const p of res.placements)
      expect(res.pacemaker.constraints).toContainEqual(
        expect.objectContaining({
          kind: 'location',
          rsc: p.id,
          node: p.preferredNode,
          score: String(LOCATION_SCORE),
        }),
      );
  });

  it("stonith_host becomes one device per node it fences, the preferred survivor's delayed", () => {
    const fences = res.pacemaker.resources.filter(
      (r): r is Primitive => r.kind === 'primitive' && r.class === 'stonith',
    );
    expect(fences.map((f) => [f.id, f.type, params(f)])).toEqual([
      ['fence-n1', 'external/ssh', { hostlist: 'n1', pcmk_host_list: 'n1', pcmk_delay_base: '7s' }],
      ['fence-n2', 'external/ssh', { hostlist: 'n2', pcmk_host_list: 'n2' }],
    ]);
    expect(res.preferredSurvivor).toBe('n1');
    expect(res.pacemaker.properties).toContainEqual(
      expect.objectContaining({ name: 'stonith-enabled', value: 'true' }),
    );
  });

  it('every env line is reported; TSBEAT_FENCE_DELAY is the survivor delay', () => {
    expect(res.report).toContainEqual(
      expect.objectContaining({ line: 23, item: 'env TSBEAT_FENCE_DELAY=7', status: 'mapped' }),
    );
    expect(res.report).toContainEqual(
      expect.objectContaining({ line: 24, item: 'env HA_MYVAR=1', status: 'decide' }),
    );
  });

  it('an init script with arguments is a decision, not a silent drop', () => {
    expect(res.report).toContainEqual(
      expect.objectContaining({ line: 10, item: 'portblock::tcp::25::unblock', status: 'decide' }),
    );
  });

  it('corosync.conf: ucast addresses become link 0, deadtime the token, sha1 the crypto', () => {
    expect(res.corosync.links).toEqual([
      { number: 0, from: 'ucast eth1 10.20.0.1, ucast eth1 10.20.0.2', addrs: ['10.20.0.1', '10.20.0.2'] },
    ]);
    // deadtime 11 s = token + 1.2 x token
    expect(res.corosync.tokenMs).toBe(5000);
    expect(res.corosync.text).toMatch(/crypto_cipher: aes256\n\s+crypto_hash: sha256/);
    expect(res.corosync.text).toMatch(/two_node: 1/);
    expect(res.corosync.text).toMatch(/cluster_name: testha/);
    for (const item of [
      'serial /dev/ttyS0',
      'ping 10.20.0.254',
      'respawn hacluster /usr/lib/heartbeat/ipfail',
      'bcast eth0',
    ])
      expect(res.report).toContainEqual(expect.objectContaining({ item, status: 'decide' }));
  });
});

describe('nothing is dropped silently', () => {
  for (const name of Object.keys(FIXTURES) as FixtureName[]) {
    it(`${name}: every ha.cf line, every haresources resource and authkeys have a report line`, async () => {
      const input = await loadFixture(FIXTURES[name]);
      const { report } = exportPacemaker(input, OPTS);
      const lines = (file: string) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((t, i) => ({ t: t.replace(/#.*/, '').trim(), line: i + 1 }))
          .filter((l) => l.t !== '');
      for (const l of lines(input.haCfFile))
        expect(
          report.some((e) => e.file === input.haCfFile && e.line === l.line),
          `ha.cf:${l.line} ${l.t}`,
        ).toBe(true);
      input.haresourcesSource.groups.forEach((g, gi) => {
        g.resources.forEach((at, ri) => {
          const spec = input.groups[gi]!.resources[ri]!.spec;
          expect(
            report.some((e) => e.line === at.line && e.item === spec),
            spec,
          ).toBe(true);
        });
      });
      expect(report.some((e) => e.file === input.authkeysFile)).toBe(true);
    });
  }
});

describe('auto_failback', () => {
  const cases = [
    ['on', '0'],
    ['off', String(STICKINESS_OFF)],
    ['legacy', '0'],
  ] as const;
  for (const [mode, stickiness] of cases) {
    it(`${mode} -> resource-stickiness ${stickiness}`, async () => {
      const dir = fixtureCopy('lvs-dr', mode);
      try {
        const res = exportPacemaker(await loadFixture(dir), OPTS);
        expect(res.pacemaker.rscDefaults).toContainEqual(
          expect.objectContaining({ name: 'resource-stickiness', value: stickiness }),
        );
      } finally {
        removeCopy(dir);
      }
    });
  }
});

describe('input the export cannot map', () => {
  it('drbddisk without a resource name (all) is an error at its line', async () => {
    const dir = fixtureCopy('drbd-fs', 'off');
    try {
      const hr = join(dir, 'haresources');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(
        hr,
        '# one group\nalpha IPaddr2::10.0.0.50/24/eth0 drbddisk Filesystem::/dev/drbd0::/srv::ext4\n',
      );
      const res = exportPacemaker(await loadFixture(dir), OPTS);
      expect(res.diagnostics).toEqual([
        expect.objectContaining({
          severity: 'error',
          file: hr,
          line: 2,
          col: 34,
          message: expect.stringMatching(/drbddisk.*all of them/),
        }),
      ]);
    } finally {
      removeCopy(dir);
    }
  });

  it('shared storage without STONITH is reported as a decision', async () => {
    const res = exportPacemaker(await loadFixture(FIXTURES['no-stonith']), OPTS);
    expect(res.pacemaker.properties).toContainEqual(
      expect.objectContaining({ name: 'stonith-enabled', value: 'false' }),
    );
    expect(res.report).toContainEqual(
      expect.objectContaining({
        line: 1,
        status: 'decide',
        item: expect.stringMatching(/shared storage without STONITH/),
      }),
    );
    expect(res.corosync.text).toMatch(/crypto_cipher: none/);
    // bcast names no addresses: the node names stand in, and the report says they must resolve.
    expect(res.corosync.links).toEqual([expect.objectContaining({ addrs: ['a', 'b'] })]);
  });
});

describe('three renderings of one configuration', () => {
  let cfg: PacemakerConfig;
  beforeAll(async () => {
    cfg = exportPacemaker(await loadFixture(FIXTURES['drbd-fs']), OPTS).pacemaker;
  });
  afterAll(() => {});

  it('XML: schema, admin_epoch, comments without "--"', () => {
    const xml = renderCib(cfg, 'x--y');
    expect(xml).toMatch(/<cib validate-with="pacemaker-3.7" admin_epoch="1"/);
    for (const c of xml.match(/<!--[\s\S]*?-->/g) ?? []) expect(c.slice(4, -3)).not.toContain('--');
  });

  it('crmsh: primitives, the group, the clone and the constraints', () => {
    const crm = renderCrmsh(cfg, 'etc/ha.d/drbd-fs');
    expect(crm).toContain('group grp-ip-10.0.0.50 ip-10.0.0.50 fs-srv nfs-kernel-server');
    expect(crm).toContain('clone drbd-r0-clone drbd-r0');
    expect(crm).toContain(
      'colocation col-grp-ip-10.0.0.50-with-drbd-r0-clone inf: grp-ip-10.0.0.50 drbd-r0-clone:Promoted',
    );
    expect(crm).toContain(
      'order ord-drbd-r0-clone-then-grp-ip-10.0.0.50 Mandatory: drbd-r0-clone:promote grp-ip-10.0.0.50:start',
    );
    expect(crm).toContain('location loc-grp-ip-10.0.0.50 grp-ip-10.0.0.50 100: alpha');
    expect(crm).toContain('rsc_defaults rsc-options: resource-stickiness=200 migration-threshold=3');
  });

  it('pcs: resources in group order, promotable clone, constraints, one push', () => {
    const pcs = renderPcs(cfg, 'etc/ha.d/drbd-fs');
    const creates = pcs.split('\n').filter((l) => l.includes('resource create'));
    expect(creates.map((l) => l.split(' ')[5])).toEqual([
      'ip-10.0.0.50',
      'fs-srv',
      'nfs-kernel-server',
      'drbd-r0',
    ]);
    expect(creates[3]).toContain(' promotable ');
    expect(pcs).toContain(
      'stonith create fence-alpha null hostlist=alpha pcmk_host_list=alpha pcmk_delay_base=5s',
    );
    expect(pcs).toContain('constraint colocation add grp-ip-10.0.0.50 with Promoted drbd-r0-clone INFINITY');
    expect(pcs.trimEnd().split('\n').at(-2)).toBe('pcs cluster cib-push "$CIB" --config');
  });
});
