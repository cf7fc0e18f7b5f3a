/**
 * The membership side of the node shell (HaNode) on in-memory media carrying real signed frames, with
 * real timers at a short keepalive. Proves the shell's own rules, which the pure core cannot:
 * frames leave in sequence order even when a listener sends from inside the step that
 * caused it (the comm-up `starting` case); an exception in a listener is reported and the
 * node goes on heartbeating; an exception inside the node's own timer handler or receive path
 * is reported, and the node stops taking input; rejected frames are counted and their log
 * lines rate limited.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeKeyring } from '../../../src/codec/auth/keyring.js';
import { decodeFrame } from '../../../src/codec/frame.js';
import { getString, stringField } from '../../../src/codec/model.js';
import { memoryLog } from '../../../src/daemon/log.js';
import { systemClock } from '../../../src/lib/clock.js';
import { seededRandom } from '../../../src/lib/random.js';
import { type Medium, memoryMedium, memoryNetwork } from '../../../src/media/index.js';
import { HaNode } from '../../../src/node/ha-node.js';

const keyring = makeKeyring([{ index: 1, method: 'sha1', key: new TextEncoder().encode('k') }], 1)!;
const nodes: HaNode[] = [];
const media: Medium[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) n.stop();
  await Promise.all(media.splice(0).map((m) => m.close()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function node(
  net: ReturnType<typeof memoryNetwork>,
  name: string,
  extra: Partial<ConstructorParameters<typeof HaNode>[0]> = {},
) {
  const m = memoryMedium(net, { node: name, segment: 'eth0' });
  await m.open();
  media.push(m);
  const log = memoryLog();
  const n = new HaNode({
    membership: {
      localNode: name,
      nodes: ['alpha', 'bravo'],
      links: ['eth0'],
      keepaliveMs: 50,
      deadtimeMs: 1000,
      warntimeMs: 500,
      initdeadMs: 1000,
      maxRexmitDelayMs: 100,
      hopfudge: 1,
      generation: 5,
      uuid: new Uint8Array(16).fill(name === 'alpha' ? 1 : 2),
    },
    media: [m],
    keyring,
    innerAuth: false,
    clock: systemClock,
    random: seededRandom(7),
    log,
    ...extra,
  });
  nodes.push(n);
  return { n, log };
}

/** A third party on the segment that records every frame (decoded) in arrival order. */
async function sniffer(net: ReturnType<typeof memoryNetwork>) {
  const m = memoryMedium(net, { node: 'sniffer', segment: 'eth0' });
  await m.open();
  media.push(m);
  const seen: { src: string; type: string; seq: number | undefined }[] = [];
  void (async () => {
    for await (const f of m.frames()) {
      const r = decodeFrame(f.bytes, keyring);
      if (r.outcome !== 'ok') continue;
      const seq = getString(r.message, 'seq');
      seen.push({
        src: getString(r.message, 'src') ?? '?',
        type: getString(r.message, 't') ?? '?',
        seq: seq === undefined ? undefined : Number.parseInt(seq, 16),
      });
    }
  })();
  return seen;
}

describe('HaNode, membership side', () => {
  it('sends a listener-triggered message after the frames of the step that triggered it', async () => {
    const net = memoryNetwork();
    const seen = await sniffer(net);
    const a = await node(net, 'alpha');
    const b = await node(net, 'bravo');
    // Like the resource layer: on comm-up, announce "starting" from inside the event.
    for (const x of [a, b])
      x.n.onEvent((e) => {
        if (e.kind === 'commUp') x.n.send({ fields: [stringField('t', 'starting')] });
      });
    a.n.start();
    b.n.start();
    await sleep(600);
    for (const src of ['alpha', 'bravo']) {
      const seqs = seen.filter((f) => f.src === src && f.seq !== undefined).map((f) => f.seq!);
      expect(seqs.length).toBeGreaterThan(5);
      expect(seqs, `${src}'s seqs in send order`).toEqual([...seqs].sort((x, y) => x - y));
      expect(seen.some((f) => f.src === src && f.type === 'starting')).toBe(true);
    }
    for (const x of [a, b]) expect(x.log.lines.map((l) => l.msg).join('\n')).not.toMatch(/lost packet/);
  });

  it('a throwing listener is reported; membership goes on', async () => {
    const net = memoryNetwork();
    const errors: string[] = [];
    const a = await node(net, 'alpha', { onInternalError: (where) => errors.push(where) });
    const b = await node(net, 'bravo');
    a.n.onEvent((e) => {
      if (e.kind === 'commUp') throw new Error('resource layer bug');
    });
    a.n.start();
    b.n.start();
    await sleep(500);
    expect(errors).toEqual(['listener']);
    expect(a.n.isClosed).toBe(false);
    expect(b.n.views().find((v) => v.name === 'alpha')?.status).toBe('active');
  });

  it.each(['timer', 'receive'] as const)(
    'an exception in the %s handler closes the node and is reported',
    async (site) => {
      const net = memoryNetwork();
      const errors: { where: string; message: string }[] = [];
      let armed = false;
      const a = await node(net, 'alpha', {
        onInternalError: (where, e) => errors.push({ where, message: (e as Error).message }),
        faults: {
          throwIn: (s) => {
            if (s !== site || !armed) return false;
            armed = false;
            return true;
          },
        },
      });
      const b = await node(net, 'bravo');
      const seen = await sniffer(net);
      a.n.start();
      b.n.start();
      await sleep(300);
      armed = true;
      await sleep(300);
      expect(errors).toEqual([{ where: site, message: expect.stringMatching(/^test fault/) }]);
      expect(a.n.isClosed).toBe(true);
      // Closed means silent: no more heartbeats, so the peer will declare it dead.
      const before = seen.filter((f) => f.src === 'alpha').length;
      await sleep(300);
      expect(seen.filter((f) => f.src === 'alpha').length).toBe(before);
    },
  );

  it('takes its own echo (loopback) without decoding it again, and only that very frame', async () => {
    const net = memoryNetwork();
    const m = memoryMedium(net, { node: 'alpha', segment: 'eth0', loopback: true });
    await m.open();
    media.push(m);
    const a = await node(net, 'alpha', { media: [m] });
    const spy = memoryMedium(net, { node: 'mallory', segment: 'eth0' });
    await spy.open();
    media.push(spy);
    const frames: Uint8Array[] = [];
    void (async () => {
      for await (const f of spy.frames()) frames.push(f.bytes);
    })();
    a.n.start();
    await sleep(300);
    // The echo refreshed the self link exactly as a decoded one would.
    const self = a.n.views().find((v) => v.name === 'alpha')!;
    expect(self.links[0]!.status).toBe('up');
    expect(a.n.rejected.snapshot().badAuth).toBe(0);
    // A copy of one of its frames with a byte changed is not "its echo": it is decoded, and
    // fails authentication.
    const tampered = frames.at(-1)!.slice();
    const at = new TextDecoder('latin1').decode(tampered).indexOf('st=');
    tampered[at + 3] = tampered[at + 3] === 0x61 ? 0x62 : 0x61;
    await spy.send(tampered);
    // An older frame, byte for byte, is decoded too (and then ignored by the core as old).
    await spy.send(frames[0]!);
    await sleep(100);
    expect(a.n.rejected.snapshot().badAuth).toBe(1);
    expect(a.n.rejected.snapshot().malformed).toBe(0);
  });

  it('counts rejected frames and logs them at most once per 10 s per sender and kind', async () => {
    const net = memoryNetwork();
    const a = await node(net, 'alpha');
    const evil = memoryMedium(net, { node: 'mallory', segment: 'eth0' });
    await evil.open();
    media.push(evil);
    a.n.start();
    const garbage = new TextEncoder().encode('###\nnot a heartbeat frame\n%%%\n');
    for (let i = 0; i < 500; i++) await evil.send(garbage);
    await sleep(200);
    expect(a.n.rejected.snapshot().malformed).toBe(500);
    const lines = a.log.lines.filter((l) => /bad frame from mallory/.test(l.msg));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).not.toMatch(/[\u0000-\u001f]/);
  });
});
