// Part: the IPv6 media `mcast6 <dev> <group> <port> <hops> <loop>` and `ucast6 <dev> <peer>`:
// heartbeat's frames over UDP/IPv6 (heartbeat lib/plugins/HBcomm/mcast6.c, ucast6.c).
//
// The interface is named by its scope (`::%dev`, the form node:dgram hands to libuv, which
// turns it into the interface index): multicast membership and the outgoing multicast
// interface use it, and a link-local address (fe80::/10) gets `%dev` appended, as heartbeat's
// link-local media need. Sockets are IPv6-only, so a `bcast`/`ucast` medium on the same port
// keeps its IPv4 traffic. Like the IPv4 media, node:dgram has no SO_BINDTODEVICE: the receive
// socket is bound to `::` (ucast6) or the group (mcast6) on `port` with SO_REUSEADDR.

import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { errorCode, errorMessage, MediumBase } from './base.js';
import { MediumConfigError, MediumOpenError } from './errors.js';
import type { FrameFormat, Medium, MediumKind } from './medium.js';
import {
  bindSocket,
  checkDevice,
  checkPort,
  closeSocket,
  DEFAULT_UDP_PORT,
  enlargeReceiveBuffer,
  peerOf,
  sendDatagram,
  type UdpComponents,
  watchErrors,
} from './udp.js';

export interface UdpMcast6Init {
  readonly dev: string;
  /** An IPv6 multicast address (ff00::/8), e.g. ff02::694. */
  readonly group: string;
  readonly port: number;
  /** IPV6_MULTICAST_HOPS, 0..4 (heartbeat refuses more). */
  readonly hops: number;
  readonly loop: 0 | 1;
}

export interface UdpUcast6Init {
  readonly dev: string;
  /** The peer's IPv6 address (link-local ones are scoped to dev). */
  readonly peer: string;
  readonly port?: number;
}

const isLinkLocal = (a: string): boolean => /^fe[89ab][0-9a-f]?:/i.test(a);

/** `addr%dev` for a link-local (or link-scoped multicast) address, else the address. */
function scoped(address: string, dev: string): string {
  return isLinkLocal(address) || /^ff[0-9a-f]2:/i.test(address) ? `${address}%${dev}` : address;
}

function createSocket6(reuseAddr: boolean): dgram.Socket {
  return dgram.createSocket({ type: 'udp6', reuseAddr, ipv6Only: true });
}

export function udpMcast6(init: UdpMcast6Init, components: UdpComponents = {}): Medium {
  return new UdpMcast6Medium(init, components);
}

export function udpUcast6(init: UdpUcast6Init, components: UdpComponents = {}): Medium {
  return new UdpUcast6Medium(init, components);
}

class UdpMcast6Medium extends MediumBase {
  readonly name: string;
  readonly kind: MediumKind = 'mcast';
  readonly link: string;
  readonly frameFormat: FrameFormat = 'netstring';
  readonly #init: UdpMcast6Init;
  #send: dgram.Socket | undefined;
  #receive: dgram.Socket | undefined;

  constructor(init: UdpMcast6Init, components: UdpComponents) {
    super(components);
    this.name = `mcast6 ${init.dev} ${init.group} ${init.port} ${init.hops} ${init.loop}`;
    this.link = init.dev;
    this.#init = init;
    checkDevice(this.name, init.dev);
    checkPort(this.name, init.port);
    if (!isIPv6(init.group) || !/^ff/i.test(init.group))
      throw new MediumConfigError(
        this.name,
        `group ${init.group} is not an IPv6 multicast address (ff00::/8)`,
      );
    if (!Number.isInteger(init.hops) || init.hops < 0 || init.hops > 4)
      throw new MediumConfigError(this.name, `hops ${init.hops} is out of range 0..4`);
  }

  protected async openIo(): Promise<void> {
    const { dev, group, port, hops, loop } = this.#init;
    const ifScope = `::%${dev}`;
    const receive = createSocket6(true);
    this.#receive = receive;
    await bindSocket(this.name, receive, '::', port, 'receive socket');
    try {
      receive.addMembership(group, ifScope);
    } catch (err) {
      throw new MediumOpenError(this.name, `cannot join ${group} on ${dev}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    enlargeReceiveBuffer(receive);
    watchErrors(receive, (err) => this.#error(err));
    receive.on('message', (msg, rinfo) => this.deliver(msg, peerOf(rinfo)));

    const send = createSocket6(false);
    this.#send = send;
    await bindSocket(this.name, send, '::', 0, 'send socket');
    try {
      send.setMulticastInterface(ifScope);
      send.setMulticastTTL(hops);
      send.setMulticastLoopback(loop === 1);
    } catch (err) {
      throw new MediumOpenError(this.name, `cannot set multicast options on ${dev}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    watchErrors(send, (err) => this.#error(err));
  }

  protected async sendIo(frame: Uint8Array): Promise<void> {
    const socket = this.#send;
    if (!socket) return;
    const { group, port, dev } = this.#init;
    const err = await sendDatagram(socket, frame, port, scoped(group, dev));
    if (err) this.sendErrors.failed(errorCode(err), `[${group}]:${port}: ${errorMessage(err)}`, frame.length);
    else this.sendErrors.succeeded();
  }

  protected async closeIo(): Promise<void> {
    await Promise.all([closeSocket(this.#receive), closeSocket(this.#send)]);
    this.#receive = undefined;
    this.#send = undefined;
  }

  #error(err: Error): void {
    this.emit({ kind: 'receive-error', medium: this.name, code: errorCode(err), message: errorMessage(err) });
  }
}

class UdpUcast6Medium extends MediumBase {
  readonly name: string;
  readonly kind: MediumKind = 'ucast';
  readonly link: string;
  readonly frameFormat: FrameFormat = 'netstring';
  readonly #init: UdpUcast6Init;
  readonly #port: number;
  #send: dgram.Socket | undefined;
  #receive: dgram.Socket | undefined;

  constructor(init: UdpUcast6Init, components: UdpComponents) {
    super(components);
    this.name = `ucast6 ${init.dev} ${init.peer}`;
    this.link = init.dev;
    this.#init = init;
    this.#port = init.port ?? DEFAULT_UDP_PORT;
    checkDevice(this.name, init.dev);
    checkPort(this.name, this.#port);
    if (!isIPv6(init.peer))
      throw new MediumConfigError(this.name, `peer "${init.peer}" is not an IPv6 address`);
  }

  protected async openIo(): Promise<void> {
    const receive = createSocket6(true);
    this.#receive = receive;
    await bindSocket(this.name, receive, '::', this.#port, 'receive socket');
    enlargeReceiveBuffer(receive);
    watchErrors(receive, (err) => this.#error(err));
    receive.on('message', (msg, rinfo) => this.deliver(msg, peerOf(rinfo)));
    const send = createSocket6(false);
    this.#send = send;
    await bindSocket(this.name, send, '::', 0, 'send socket');
    watchErrors(send, (err) => this.#error(err));
  }

  protected async sendIo(frame: Uint8Array): Promise<void> {
    const socket = this.#send;
    if (!socket) return;
    const { peer, dev } = this.#init;
    const err = await sendDatagram(socket, frame, this.#port, scoped(peer, dev));
    if (err)
      this.sendErrors.failed(errorCode(err), `[${peer}]:${this.#port}: ${errorMessage(err)}`, frame.length);
    else this.sendErrors.succeeded();
  }

  protected async closeIo(): Promise<void> {
    await Promise.all([closeSocket(this.#receive), closeSocket(this.#send)]);
    this.#receive = undefined;
    this.#send = undefined;
  }

  #error(err: Error): void {
    this.emit({ kind: 'receive-error', medium: this.name, code: errorCode(err), message: errorMessage(err) });
  }
}
