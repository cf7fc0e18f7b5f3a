// Part: the UDP media (bcast, mcast, ucast) in real network namespaces.
//
// What it proves: each UDP medium passes the compliance suite over a veth pair; bcast keeps two
// interfaces of one node apart (each frame on the right link) without SO_BINDTODEVICE; several
// ucast lines on one device share a receive socket and each datagram reaches exactly one of
// them, attributed by source; open errors name the medium and the cause; a send that the kernel
// refuses is an event, never an exception.
//
// How: three namespaces A, B, C made for this run (`tsm<pid><rand>…`), A–B on 10.250.1.0/24 and
// A–C on 10.250.2.0/24, nothing in the host's namespace. Sockets belong to the namespace of
// the process, so the media run in a small host program per namespace (medium-host.ts, built
// to JavaScript first) and the suite talks to them through RemoteMedium. Everything is torn
// down in afterAll, failures included. "Did not arrive" is only ever concluded after a barrier
// frame that must queue behind the one in question, never after a sleep.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHost, type HostBuild } from './build-host.js';
import {
  describeMediumCompliance,
  FrameCollector,
  frameFor,
  type MediumPair,
  tagOf,
} from './medium-suite.js';
import { NetnsLab, netnsAvailable } from './netns.js';
import { MediumHost, type RemoteMedium } from './remote-medium.js';

const WAIT_MS = 20_000;
const GROUP = '239.250.0.1';

describe.skipIf(!netnsAvailable())('UDP media in network namespaces', () => {
  const lab = new NetnsLab();
  const p = lab.prefix;
  const dev = { a0: `${p}a0`, a1: `${p}a1`, a2: `${p}a2`, a3: `${p}a3`, b0: `${p}b0`, c1: `${p}c1` };
  let build: HostBuild | undefined;
  const hosts: MediumHost[] = [];
  let hostA: MediumHost;
  let hostB: MediumHost;
  let hostC: MediumHost;
  let nsA: string;
  let nextPort = 20_000;

  beforeAll(async () => {
    build = await buildHost();
    nsA = await lab.namespace('A');
    const nsB = await lab.namespace('B');
    const nsC = await lab.namespace('C');
    await lab.veth(nsA, dev.a0, nsB, dev.b0);
    await lab.address(nsA, dev.a0, '10.250.1.1/24');
    await lab.address(nsB, dev.b0, '10.250.1.2/24');
    // Extra sources on B's wire for the ucast attribution test.
    await lab.address(nsB, dev.b0, '10.250.1.3/24');
    await lab.address(nsB, dev.b0, '10.250.1.4/24');
    await lab.veth(nsA, dev.a1, nsC, dev.c1);
    await lab.address(nsA, dev.a1, '10.250.2.1/24');
    await lab.address(nsC, dev.c1, '10.250.2.3/24');
    // Both ends in A: a2 without IPv4, a3 with an address but no broadcast address.
    await lab.veth(nsA, dev.a2, nsA, dev.a3);
    await lab.address(nsA, dev.a3, '10.250.3.1/24', false);
    hostA = MediumHost.start(nsA, build.hostJs);
    hostB = MediumHost.start(nsB, build.hostJs);
    hostC = MediumHost.start(nsC, build.hostJs);
    hosts.push(hostA, hostB, hostC);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    await lab.destroy();
    await build?.remove();
  }, 120_000);

  function pairOf(kind: 'bcast' | 'mcast' | 'ucast'): () => Promise<MediumPair> {
    return async () => {
      const port = nextPort++;
      const initA = {
        bcast: { dev: dev.a0, port },
        mcast: { dev: dev.a0, group: GROUP, port, ttl: 1, loop: 0 },
        ucast: { dev: dev.a0, peer: '10.250.1.2', port },
      }[kind];
      const initB = {
        bcast: { dev: dev.b0, port },
        mcast: { dev: dev.b0, group: GROUP, port, ttl: 1, loop: 0 },
        ucast: { dev: dev.b0, peer: '10.250.1.1', port },
      }[kind];
      const a = await hostA.medium(kind, initA);
      const b = await hostB.medium(kind, initB);
      const to = { bcast: '10.250.1.255', mcast: GROUP, ucast: '10.250.1.2' }[kind];
      return {
        a,
        b,
        fromA: /^10\.250\.1\.1:\d+$/,
        fromB: /^10\.250\.1\.2:\d+$/,
        garbageSurfaces: true,
        ordered: false,
        largeFrameBytes: 3500,
        async injectGarbage() {
          const garbage = [
            new Uint8Array(0),
            Buffer.from('###\n12:(0)t=', 'latin1'),
            Uint8Array.from({ length: 1200 }, (_, i) => (i * 131 + 7) & 0xff),
          ];
          for (const data of garbage) {
            await hostA.raw({ from: '10.250.1.1', to, port, data, multicastInterface: '10.250.1.1' });
          }
        },
        async dispose() {
          await Promise.all([a.close(), b.close()]);
        },
      };
    };
  }

  describeMediumCompliance('bcast', pairOf('bcast'));
  describeMediumCompliance('mcast', pairOf('mcast'));
  describeMediumCompliance('ucast', pairOf('ucast'));

  /** Sends a tagged frame and waits until `at` has it. */
  async function deliver(from: RemoteMedium, at: FrameCollector, tag: string): Promise<void> {
    await from.send(frameFor('netstring', tag, 200));
    await at.waitForTag(tag, WAIT_MS);
  }

  const tags = (c: FrameCollector): (string | undefined)[] => c.frames.map((f) => tagOf(f.bytes));

  it('bcast keeps two interfaces of one node apart, each frame on its own link', async () => {
    const port = nextPort++;
    const m0 = await hostA.medium('bcast', { dev: dev.a0, port });
    const m1 = await hostA.medium('bcast', { dev: dev.a1, port });
    const mb = await hostB.medium('bcast', { dev: dev.b0, port });
    const mc = await hostC.medium('bcast', { dev: dev.c1, port });
    try {
      expect([m0.link, m1.link]).toEqual([dev.a0, dev.a1]);
      const at0 = new FrameCollector(m0);
      const at1 = new FrameCollector(m1);
      await Promise.all([m0.open(), m1.open(), mb.open(), mc.open()]);
      await deliver(mb, at0, 'from-b');
      await deliver(mc, at1, 'from-c');
      // Barriers: a node hears its own broadcasts, and a socket's queue is first in, first out.
      await deliver(m1, at1, 'barrier-1');
      await deliver(m0, at0, 'barrier-0');
      expect(tags(at0)).not.toContain('from-c');
      expect(tags(at1)).not.toContain('from-b');
      expect(at0.frames.find((f) => tagOf(f.bytes) === 'from-b')?.from).toMatch(/^10\.250\.1\.2:/);
      expect(at1.frames.find((f) => tagOf(f.bytes) === 'from-c')?.from).toMatch(/^10\.250\.2\.3:/);
    } finally {
      await Promise.all([m0.close(), m1.close(), mb.close(), mc.close()]);
    }
  });

  it('ucast lines on one device share a socket; each datagram reaches one line, by source', async () => {
    const port = nextPort++;
    const u2 = await hostA.medium('ucast', { dev: dev.a0, peer: '10.250.1.2', port });
    const u3 = await hostA.medium('ucast', { dev: dev.a0, peer: '10.250.1.3', port });
    const ub = await hostB.medium('ucast', { dev: dev.b0, peer: '10.250.1.1', port });
    try {
      const at2 = new FrameCollector(u2);
      const at3 = new FrameCollector(u3);
      // One after the other: "oldest" means first to open, and u2 must be it.
      await u2.open();
      await u3.open();
      await ub.open();
      await deliver(ub, at2, 'x-from-2');
      const raw = async (from: string, tag: string): Promise<void> => {
        await hostB.raw({ from, to: '10.250.1.1', port, data: frameFor('netstring', tag, 200) });
      };
      await raw('10.250.1.3', 'x-from-3');
      await at3.waitForTag('x-from-3', WAIT_MS);
      // An address no line names goes to the oldest line on the device.
      await raw('10.250.1.4', 'x-from-4');
      await at2.waitForTag('x-from-4', WAIT_MS);
      // Barrier: one shared socket, so everything earlier has been attributed by now.
      await deliver(ub, at2, 'barrier');
      expect(tags(at3)).toEqual(['x-from-3']);
      expect(tags(at2)).toEqual(['x-from-2', 'x-from-4', 'barrier']);
      expect(at3.frames[0]?.from).toMatch(/^10\.250\.1\.3:/);

      // Closing one line leaves the socket to the other, which now takes unknown sources.
      await u2.close();
      await deliver(ub, at3, 'after-close');
      await u3.close();
      // The port is free again once the last line closed.
      const again = await hostA.medium('ucast', { dev: dev.a0, peer: '10.250.1.2', port });
      await again.open();
      await again.close();
    } finally {
      await Promise.all([u2.close(), u3.close(), ub.close()]);
    }
  });

  it('mcast with loop 1 hears itself', async () => {
    const port = nextPort++;
    const m = await hostA.medium('mcast', { dev: dev.a0, group: GROUP, port, ttl: 1, loop: 1 });
    try {
      const at = new FrameCollector(m);
      await m.open();
      await deliver(m, at, 'own-echo');
      expect(at.frames[0]?.from).toMatch(/^10\.250\.1\.1:/);
    } finally {
      await m.close();
    }
  });

  it('open failures are MediumOpenErrors that name the medium and the cause', async () => {
    const port = nextPort++;
    const cases: [kind: 'bcast' | 'mcast' | 'ucast', init: Record<string, unknown>, message: string][] = [
      ['bcast', { dev: `${p}zz`, port }, `bcast ${p}zz: no such interface`],
      [
        'mcast',
        { dev: dev.a2, group: GROUP, port, ttl: 1, loop: 0 },
        `mcast ${dev.a2} ${GROUP} ${port} 1 0: no IPv4 address`,
      ],
      ['bcast', { dev: dev.a3, port }, `bcast ${dev.a3}: interface has no broadcast address`],
      [
        'ucast',
        { dev: dev.a0, peer: 'no-such-peer.invalid', port },
        'cannot resolve peer "no-such-peer.invalid"',
      ],
    ];
    for (const [kind, init, message] of cases) {
      const m = await hostA.medium(kind, init);
      const err = await m.open().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.name).toBe('MediumOpenError');
      expect(err?.message).toContain(message);
      await m.close();
    }
  });

  it('a ucast port owned by another process is a clear open error', async () => {
    const port = nextPort++;
    const other = MediumHost.start(nsA, build!.hostJs);
    hosts.push(other);
    const mine = await hostA.medium('ucast', { dev: dev.a0, peer: '10.250.1.2', port });
    const theirs = await other.medium('ucast', { dev: dev.a0, peer: '10.250.1.2', port });
    try {
      await mine.open();
      await expect(theirs.open()).rejects.toThrow(/address in use/);
    } finally {
      await mine.close();
      await other.stop();
    }
  });

  it('arguments no ha.cf line could produce are refused when the medium is built', async () => {
    await expect(
      hostA.medium('mcast', { dev: dev.a0, group: '10.0.0.1', port: 694, ttl: 1, loop: 0 }),
    ).rejects.toThrow(/not a multicast \(class D\) address/);
    await expect(
      hostA.medium('mcast', { dev: dev.a0, group: GROUP, port: 694, ttl: 5, loop: 0 }),
    ).rejects.toThrow(/ttl 5 is out of range 0\.\.4/);
    await expect(hostA.medium('bcast', { dev: 'has space', port: 694 })).rejects.toMatchObject({
      name: 'MediumConfigError',
    });
  });

  it('a send the kernel refuses is an event, and repeats are suppressed after ten', async () => {
    const port = nextPort++;
    // No route to 10.99.0.0/16 inside A.
    const m = await hostA.medium('ucast', { dev: dev.a0, peer: '10.99.0.1', port });
    try {
      await m.open();
      for (let i = 0; i < 12; i++) await m.send(frameFor('netstring', `unroutable-${i}`, 100));
      const events = m.events() as { kind: string; code?: string }[];
      const failed = events.filter((e) => e.kind === 'send-failed');
      expect(failed).toHaveLength(10);
      expect(failed[0]?.code).toBe('ENETUNREACH');
      expect(events.filter((e) => e.kind === 'send-errors-suppressed')).toHaveLength(1);
    } finally {
      await m.close();
    }
  });
});
