// Part: the `ucast <dev> <peer>` medium: UDP unicast to one peer, with one receive socket
// per device shared by all ucast lines on it (heartbeat lib/plugins/HBcomm/ucast.c).

import type dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { errorCode, errorMessage, MediumBase } from './base.js';
import { MediumConfigError, MediumOpenError } from './errors.js';
import type { FrameFormat, Medium, MediumKind } from './medium.js';
import {
  bindSocket,
  checkDevice,
  checkPort,
  closeSocket,
  createSocket,
  DEFAULT_UDP_PORT,
  enlargeReceiveBuffer,
  interfaceFacts,
  peerOf,
  sendDatagram,
  type UdpComponents,
  watchErrors,
} from './udp.js';

/** The arguments of an ha.cf `ucast` line. */
export interface UdpUcastInit {
  readonly dev: string;
  /** The peer's IPv4 address or host name (resolved at open(), as heartbeat does at startup). */
  readonly peer: string;
  /** `udpport`; default 694. */
  readonly port?: number;
}

/**
 * `ucast <dev> <peer>`: frames go to peer:port; a cluster of N nodes has N-1 (or N) such lines
 * per node, usually all on one device.
 *
 * Receiving: heartbeat gives every ucast line its own socket on 0.0.0.0:port with
 * SO_BINDTODEVICE(dev) and SO_REUSEPORT, so the kernel spreads the incoming datagrams over
 * them; all lines on a device share the link name (the device), so where a frame lands does
 * not matter. node:dgram has neither option (and no SO_REUSEPORT on Node 20), so here all ucast
 * lines on the same device and port share one socket bound to dev's own address:port. Each
 * datagram goes to exactly one medium: the one whose peer sent it, else the oldest open line
 * on that device (a peer may send from another address). Datagrams to other local addresses
 * are not received (heartbeat's 0.0.0.0 bind would take them), and the socket is exclusive:
 * another process on the same address and port makes open() fail instead of silently
 * splitting the traffic.
 *
 * Sending: heartbeat sets IP_TOS 0x10 (IPTOS_LOWDELAY) and binds the send socket to the device;
 * node:dgram can set neither, so our datagrams carry TOS 0 and leave by the routing table, from
 * a socket bound to dev's address with an ephemeral port. Receivers ignore both (they look only
 * at the authenticated `src` field), but QoS set up for heartbeat's TOS will not match.
 */
export function udpUcast(init: UdpUcastInit, components: UdpComponents = {}): Medium {
  return new UdpUcastMedium(init, components);
}

/** One receive socket per local address and port, shared by the ucast media on that device. */
interface SharedReceiver {
  readonly key: string;
  readonly socket: dgram.Socket;
  readonly members: UdpUcastMedium[];
  readonly ready: Promise<void>;
}

const receivers = new Map<string, SharedReceiver>();
/** Sockets being closed, so that a reopen on the same key waits until the port is free. */
const closingReceivers = new Map<string, Promise<void>>();

async function joinReceiver(member: UdpUcastMedium, address: string, port: number): Promise<SharedReceiver> {
  const key = `${address}:${port}`;
  await closingReceivers.get(key);
  let receiver = receivers.get(key);
  if (!receiver) {
    const socket = createSocket(false);
    const members: UdpUcastMedium[] = [];
    const ready = bindSocket(member.name, socket, address, port, 'receive socket').then(() => {
      enlargeReceiveBuffer(socket);
      watchErrors(socket, (err) => {
        for (const m of members) m.receiveError(err);
      });
      socket.on('message', (msg, rinfo) => {
        const target = members.find((m) => m.peerAddress === rinfo.address) ?? members[0];
        target?.receive(msg, rinfo);
      });
    });
    receiver = { key, socket, members, ready };
    receivers.set(key, receiver);
    // A failed bind takes the entry with it so the next open tries afresh.
    ready.catch(() => {
      if (receivers.get(key) === receiver) receivers.delete(key);
    });
  }
  receiver.members.push(member);
  try {
    await receiver.ready;
  } catch (err) {
    await leaveReceiver(receiver, member);
    // Each member reports the failure under its own name.
    if (err instanceof MediumOpenError) throw new MediumOpenError(member.name, err.reason, { cause: err });
    throw err;
  }
  return receiver;
}

function leaveReceiver(receiver: SharedReceiver, member: UdpUcastMedium): Promise<void> {
  const index = receiver.members.indexOf(member);
  if (index >= 0) receiver.members.splice(index, 1);
  if (receiver.members.length > 0) return Promise.resolve();
  if (receivers.get(receiver.key) === receiver) receivers.delete(receiver.key);
  const closing = closeSocket(receiver.socket).then(() => {
    if (closingReceivers.get(receiver.key) === closing) closingReceivers.delete(receiver.key);
  });
  closingReceivers.set(receiver.key, closing);
  return closing;
}

class UdpUcastMedium extends MediumBase {
  readonly name: string;
  readonly kind: MediumKind = 'ucast';
  readonly link: string;
  readonly frameFormat: FrameFormat = 'netstring';
  readonly #init: UdpUcastInit;
  readonly #port: number;
  readonly #components: UdpComponents;
  #sendSocket: dgram.Socket | undefined;
  #joining: Promise<SharedReceiver> | undefined;
  /** The peer's address once resolved; used to attribute datagrams on the shared socket. */
  peerAddress = '';

  constructor(init: UdpUcastInit, components: UdpComponents) {
    super(components);
    this.name = `ucast ${init.dev} ${init.peer}`;
    this.link = init.dev;
    this.#init = init;
    this.#port = init.port ?? DEFAULT_UDP_PORT;
    this.#components = components;
    checkDevice(this.name, init.dev);
    checkPort(this.name, this.#port);
    if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(init.peer)) {
      throw new MediumConfigError(this.name, `invalid peer "${init.peer}"`);
    }
  }

  protected async openIo(signal: AbortSignal | undefined): Promise<void> {
    const facts = await interfaceFacts(this.name, this.#init.dev, this.#components, signal);
    this.peerAddress = await this.#resolvePeer(signal);

    this.#joining = joinReceiver(this, facts.address, this.#port);
    await this.#joining;

    const send = createSocket(false);
    this.#sendSocket = send;
    await bindSocket(this.name, send, facts.address, 0, 'send socket');
    watchErrors(send, (err) => this.receiveError(err));
  }

  async #resolvePeer(signal: AbortSignal | undefined): Promise<string> {
    const peer = this.#init.peer;
    if (isIPv4(peer)) return peer;
    try {
      const found = await lookup(peer, { family: 4 });
      signal?.throwIfAborted();
      return found.address;
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new MediumOpenError(this.name, `cannot resolve peer "${peer}": ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  protected async sendIo(frame: Uint8Array): Promise<void> {
    const socket = this.#sendSocket;
    if (!socket) return;
    const err = await sendDatagram(socket, frame, this.#port, this.peerAddress);
    if (err) {
      this.sendErrors.failed(
        errorCode(err),
        `${this.peerAddress}:${this.#port}: ${errorMessage(err)}`,
        frame.length,
      );
    } else {
      this.sendErrors.succeeded();
    }
  }

  protected async closeIo(): Promise<void> {
    // joinReceiver removes a member whose join failed itself; only a joined member leaves here.
    const receiver = await this.#joining?.catch(() => undefined);
    const leaving = receiver ? leaveReceiver(receiver, this) : Promise.resolve();
    await Promise.all([leaving, closeSocket(this.#sendSocket)]);
    this.#sendSocket = undefined;
  }

  /** Called by the shared socket for datagrams attributed to this line. */
  receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.deliver(msg, peerOf(rinfo));
  }

  receiveError(err: Error): void {
    this.emit({ kind: 'receive-error', medium: this.name, code: errorCode(err), message: errorMessage(err) });
  }
}
