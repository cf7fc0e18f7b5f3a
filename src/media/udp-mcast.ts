// Part: the `mcast <dev> <group> <port> <ttl> <loop>` medium: IPv4 multicast
// (heartbeat lib/plugins/HBcomm/mcast.c).

import type dgram from 'node:dgram';
import { errorCode, errorMessage, MediumBase } from './base.js';
import { MediumConfigError, MediumOpenError } from './errors.js';
import type { FrameFormat, Medium, MediumKind } from './medium.js';
import {
  bindSocket,
  checkDevice,
  checkIPv4,
  checkPort,
  closeSocket,
  createSocket,
  enlargeReceiveBuffer,
  interfaceFacts,
  peerOf,
  sendDatagram,
  type UdpComponents,
  watchErrors,
} from './udp.js';

/** The five arguments of an ha.cf `mcast` line. */
export interface UdpMcastInit {
  readonly dev: string;
  /** A class-D address, e.g. 239.0.0.1. */
  readonly group: string;
  readonly port: number;
  /** IP_MULTICAST_TTL, 0..4 (heartbeat refuses more). */
  readonly ttl: number;
  /** IP_MULTICAST_LOOP: 1 = this node hears its own frames (handled as duplicates upstream). */
  readonly loop: 0 | 1;
}

/**
 * `mcast <dev> <group> <port> <ttl> <loop>`, set up as heartbeat does:
 * - send socket: IP_MULTICAST_IF = dev's IPv4 address, IP_MULTICAST_TTL = ttl,
 *   IP_MULTICAST_LOOP = loop. Heartbeat leaves it unbound; we bind it to dev's address with an
 *   ephemeral port (node:dgram needs a bound socket to set the multicast options), which gives
 *   the same source address.
 * - receive socket: SO_REUSEADDR, bound to group:port, IP_ADD_MEMBERSHIP on dev's address.
 *   Like heartbeat, no SO_BINDTODEVICE: two mcast media with the same group and port on two
 *   interfaces both hear both interfaces (use one group per interface).
 */
export function udpMcast(init: UdpMcastInit, components: UdpComponents = {}): Medium {
  return new UdpMcastMedium(init, components);
}

class UdpMcastMedium extends MediumBase {
  readonly name: string;
  readonly kind: MediumKind = 'mcast';
  readonly link: string;
  readonly frameFormat: FrameFormat = 'netstring';
  readonly #init: UdpMcastInit;
  readonly #components: UdpComponents;
  #sendSocket: dgram.Socket | undefined;
  #receiveSocket: dgram.Socket | undefined;

  constructor(init: UdpMcastInit, components: UdpComponents) {
    super(components);
    this.name = `mcast ${init.dev} ${init.group} ${init.port} ${init.ttl} ${init.loop}`;
    this.link = init.dev;
    this.#init = init;
    this.#components = components;
    checkDevice(this.name, init.dev);
    checkPort(this.name, init.port);
    checkIPv4(this.name, 'group', init.group);
    const first = Number(init.group.split('.')[0]);
    if (first < 224 || first > 239) {
      throw new MediumConfigError(this.name, `group ${init.group} is not a multicast (class D) address`);
    }
    if (!Number.isInteger(init.ttl) || init.ttl < 0 || init.ttl > 4) {
      throw new MediumConfigError(this.name, `ttl ${init.ttl} is out of range 0..4`);
    }
    if (init.loop !== 0 && init.loop !== 1) {
      throw new MediumConfigError(this.name, `loop must be 0 or 1, not ${String(init.loop)}`);
    }
  }

  protected async openIo(signal: AbortSignal | undefined): Promise<void> {
    const { dev, group, port, ttl, loop } = this.#init;
    const facts = await interfaceFacts(this.name, dev, this.#components, signal);

    const receive = createSocket(true);
    this.#receiveSocket = receive;
    await bindSocket(this.name, receive, group, port, 'receive socket');
    try {
      receive.addMembership(group, facts.address);
    } catch (err) {
      throw new MediumOpenError(this.name, `cannot join ${group} on ${facts.address}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    enlargeReceiveBuffer(receive);
    watchErrors(receive, (err) => this.#receiveError(err));
    receive.on('message', (msg, rinfo) => this.deliver(msg, peerOf(rinfo)));

    const send = createSocket(false);
    this.#sendSocket = send;
    await bindSocket(this.name, send, facts.address, 0, 'send socket');
    try {
      send.setMulticastInterface(facts.address);
      send.setMulticastTTL(ttl);
      send.setMulticastLoopback(loop === 1);
    } catch (err) {
      throw new MediumOpenError(this.name, `cannot set multicast options: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    watchErrors(send, (err) => this.#receiveError(err));
  }

  protected async sendIo(frame: Uint8Array): Promise<void> {
    const socket = this.#sendSocket;
    if (!socket) return;
    const { group, port } = this.#init;
    const err = await sendDatagram(socket, frame, port, group);
    if (err) {
      this.sendErrors.failed(errorCode(err), `${group}:${port}: ${errorMessage(err)}`, frame.length);
    } else {
      this.sendErrors.succeeded();
    }
  }

  protected async closeIo(): Promise<void> {
    // Closing the socket drops its membership; no explicit IP_DROP_MEMBERSHIP needed.
    await Promise.all([closeSocket(this.#receiveSocket), closeSocket(this.#sendSocket)]);
    this.#receiveSocket = undefined;
    this.#sendSocket = undefined;
  }

  #receiveError(err: Error): void {
    this.emit({ kind: 'receive-error', medium: this.name, code: errorCode(err), message: errorMessage(err) });
  }
}
