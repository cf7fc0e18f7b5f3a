// Part: the program that runs media inside a network namespace for the UDP compliance tests.
// Sockets belong to the namespace of the process that opens them, so the tests start this
// (compiled) with `ip netns exec NS node medium-host.js` and drive it over stdin/stdout with
// one JSON object per line. It exits when stdin closes, so it cannot outlive its test.

import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { type Medium, udpBcast, udpMcast, udpUcast } from '../../src/media/index.js';

/** Requests from the test process. */
export type HostRequest =
  | {
      id: number;
      op: 'create';
      mid: string;
      kind: 'bcast' | 'mcast' | 'ucast';
      init: Record<string, unknown>;
    }
  | { id: number; op: 'open' | 'close'; mid: string }
  | { id: number; op: 'send'; mid: string; data: string }
  | {
      id: number;
      op: 'raw';
      /** Source address to bind (default any), destination, payload, and multicast interface. */
      from?: string;
      to: string;
      port: number;
      data: string;
      multicastInterface?: string;
    };

/** What the host writes: replies to requests, and unsolicited medium output. */
export type HostMessage =
  | { id: number; ok: true; result?: unknown }
  | { id: number; ok: false; error: { name: string; message: string } }
  | { ev: 'frame'; mid: string; data: string; from: string; receivedAtMs: number }
  | { ev: 'end'; mid: string }
  | { ev: 'event'; mid: string; event: unknown };

const media = new Map<string, Medium>();

function out(message: HostMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function pump(mid: string, medium: Medium): Promise<void> {
  for await (const frame of medium.frames()) {
    out({
      ev: 'frame',
      mid,
      data: Buffer.from(frame.bytes).toString('base64'),
      from: frame.from,
      receivedAtMs: frame.receivedAtMs,
    });
  }
  out({ ev: 'end', mid });
}

function medium(mid: string): Medium {
  const m = media.get(mid);
  if (!m) throw new Error(`no medium ${mid}`);
  return m;
}

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.op) {
    case 'create': {
      const onEvent = (event: unknown): void => out({ ev: 'event', mid: request.mid, event });
      const init = request.init as never;
      const m =
        request.kind === 'bcast'
          ? udpBcast(init, { onEvent })
          : request.kind === 'mcast'
            ? udpMcast(init, { onEvent })
            : udpUcast(init, { onEvent });
      media.set(request.mid, m);
      // Iterate from the start, as a daemon would: frames() may be consumed before open().
      void pump(request.mid, m);
      return { name: m.name, kind: m.kind, link: m.link, frameFormat: m.frameFormat };
    }
    case 'open':
      return medium(request.mid).open();
    case 'close':
      return medium(request.mid).close();
    case 'send':
      return medium(request.mid).send(Buffer.from(request.data, 'base64'));
    case 'raw':
      return sendRaw(request);
  }
}

/** A datagram from outside any medium: garbage, or traffic from an address no medium uses. */
function sendRaw(request: Extract<HostRequest, { op: 'raw' }>): Promise<void> {
  const socket = dgram.createSocket('udp4');
  return new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: request.from ?? '0.0.0.0', port: 0 }, () => {
      socket.setBroadcast(true);
      if (request.multicastInterface) socket.setMulticastInterface(request.multicastInterface);
      socket.send(Buffer.from(request.data, 'base64'), request.port, request.to, (err) => {
        socket.close();
        if (err) reject(err);
        else resolve();
      });
    });
  });
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const request = JSON.parse(line) as HostRequest;
  handle(request).then(
    (result) =>
      out(result === undefined ? { id: request.id, ok: true } : { id: request.id, ok: true, result }),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      out({ id: request.id, ok: false, error: { name: e.name, message: e.message } });
    },
  );
});
lines.on('close', () => {
  void Promise.all([...media.values()].map((m) => m.close())).then(() => process.exit(0));
});
