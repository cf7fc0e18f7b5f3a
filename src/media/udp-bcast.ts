// Part: the `bcast <dev>` medium: UDP broadcast to the interface's broadcast address
// (heartbeat lib/plugins/HBcomm/bcast.c).

import type dgram from 'node:dgram';
import { errorCode, errorMessage, MediumBase } from './base.js';
import { MediumOpenError } from './errors.js';
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

/** The arguments of one `bcast` device (ha.cf allows several devices per line: one medium each). */
export interface UdpBcastInit {
  readonly dev: string;
  /** `udpport`; default 694. */
  readonly port?: number;
}

/**
 * `bcast <dev>`: frames go to the broadcast address of `dev` on `udpport`; every node on the
 * segment, this one included, hears them.
 *
 * How it differs from heartbeat, which cannot be copied with node:dgram (no SO_BINDTODEVICE,
 * no SO_DONTROUTE):
 * - Receive: heartbeat binds 0.0.0.0:port with SO_BINDTODEVICE(dev). We bind the socket to
 *   dev's broadcast address, on which Linux delivers exactly the broadcasts for that subnet.
 *   That keeps two bcast media on two interfaces apart and attributes each frame to the right
 *   link, as long as the interfaces are on different subnets (two interfaces with the same
 *   broadcast address cannot be told apart this way: both media hear both). Unicast datagrams
 *   to our own address are not received, which heartbeat's 0.0.0.0 bind would accept.
 * - Send: heartbeat binds the send socket to the device; we bind it to dev's address with an
 *   ephemeral port, so the source address is dev's and the kernel routes the directed
 *   broadcast out of the interface that owns the subnet.
 * - TOS 0 and TTL 64, as heartbeat.
 */
export function udpBcast(init: UdpBcastInit, components: UdpComponents = {}): Medium {
  return new UdpBcastMedium(init, components);
}

class UdpBcastMedium extends MediumBase {
  readonly name: string;
  readonly kind: MediumKind = 'bcast';
  readonly link: string;
  readonly frameFormat: FrameFormat = 'netstring';
  readonly #dev: string;
  readonly #port: number;
  readonly #components: UdpComponents;
  #sendSocket: dgram.Socket | undefined;
  #receiveSocket: dgram.Socket | undefined;
  #broadcast = '';

  constructor(init: UdpBcastInit, components: UdpComponents) {
    super(components);
    this.name = `bcast ${init.dev}`;
    this.link = init.dev;
    this.#dev = init.dev;
    this.#port = init.port ?? DEFAULT_UDP_PORT;
    this.#components = components;
    checkDevice(this.name, init.dev);
    checkPort(this.name, this.#port);
  }

  protected async openIo(signal: AbortSignal | undefined): Promise<void> {
    const facts = await interfaceFacts(this.name, this.#dev, this.#components, signal);
    if (!facts.broadcast) {
      throw new MediumOpenError(
        this.name,
        `interface has no broadcast address (give ${facts.address}/${facts.prefixLength} one, e.g. "ip addr add ... brd +")`,
      );
    }
    this.#broadcast = facts.broadcast;

    const receive = createSocket(true);
    this.#receiveSocket = receive;
    await bindSocket(this.name, receive, facts.broadcast, this.#port, 'receive socket');
    enlargeReceiveBuffer(receive);
    watchErrors(receive, (err) => this.#receiveError(err));
    receive.on('message', (msg, rinfo) => this.deliver(msg, peerOf(rinfo)));

    const send = createSocket(false);
    this.#sendSocket = send;
    await bindSocket(this.name, send, facts.address, 0, 'send socket');
    send.setBroadcast(true);
    watchErrors(send, (err) => this.#receiveError(err));
  }

  protected async sendIo(frame: Uint8Array): Promise<void> {
    const socket = this.#sendSocket;
    if (!socket) return;
    const err = await sendDatagram(socket, frame, this.#port, this.#broadcast);
    if (err) {
      this.sendErrors.failed(
        errorCode(err),
        `${this.#broadcast}:${this.#port}: ${errorMessage(err)}`,
        frame.length,
      );
    } else {
      this.sendErrors.succeeded();
    }
  }

  protected async closeIo(): Promise<void> {
    await Promise.all([closeSocket(this.#receiveSocket), closeSocket(this.#sendSocket)]);
    this.#receiveSocket = undefined;
    this.#sendSocket = undefined;
  }

  #receiveError(err: Error): void {
    this.emit({ kind: 'receive-error', medium: this.name, code: errorCode(err), message: errorMessage(err) });
  }
}
