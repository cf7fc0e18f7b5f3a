// Part: what the three UDP media share: validating ha.cf arguments, reading interface facts,
// binding, sending and closing node:dgram sockets.

import dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv4 } from 'node:net';
import { errorCode, errorMessage } from './base.js';
import { MediumConfigError, MediumOpenError } from './errors.js';
import { type InterfaceFacts, type InterfaceLookup, systemInterfaceLookup } from './interfaces.js';
import type { MediumComponents } from './medium.js';

/** heartbeat's default `udpport` (the ha-cluster entry of /etc/services). */
export const DEFAULT_UDP_PORT = 694;

/** What UDP media take besides the generic components. */
export interface UdpComponents extends MediumComponents {
  /** Reads the device's IPv4 facts at open(); defaults to `ip -j -4 addr`. */
  readonly lookupInterface?: InterfaceLookup;
}

/**
 * Kernel receive buffer asked for: a burst of frames must not be dropped before Node reads
 * them. Linux caps it at net.core.rmem_max; the request is best effort.
 */
const RECEIVE_BUFFER_BYTES = 1024 * 1024;

/** Interface names as the kernel allows them (IFNAMSIZ-1 characters, no slash or blanks). */
export function checkDevice(medium: string, dev: string): void {
  if (!/^[^\s/]{1,15}$/.test(dev)) {
    throw new MediumConfigError(medium, `invalid interface name "${dev}"`);
  }
}

export function checkPort(medium: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new MediumConfigError(medium, `invalid UDP port ${port}`);
  }
}

export function checkIPv4(medium: string, what: string, address: string): void {
  if (!isIPv4(address)) throw new MediumConfigError(medium, `${what} "${address}" is not an IPv4 address`);
}

/** The device's IPv4 facts, or a MediumOpenError that says what is missing. */
export async function interfaceFacts(
  medium: string,
  dev: string,
  components: UdpComponents,
  signal: AbortSignal | undefined,
): Promise<InterfaceFacts> {
  const lookup = components.lookupInterface ?? systemInterfaceLookup;
  const facts = await lookup(dev, signal);
  if (typeof facts === 'string') throw new MediumOpenError(medium, facts);
  return facts;
}

/**
 * node:dgram resolves the address of every send() (and bind()) through dns.lookup, which for
 * an address literal still costs a deferred callback per datagram. Our media only send to
 * addresses (ucast peers are resolved once at open()): answer those at once and leave any
 * other name to dns.lookup as before.
 */
export const literalLookup = (
  address: string,
  family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void => {
  const f = isIP(address);
  if (f !== 0) callback(null, address, f);
  else dnsLookup(address, family as number, callback);
};

/** A UDPv4 socket. Attach a permanent 'error' listener (watchErrors) once it is bound. */
export function createSocket(reuseAddr: boolean): dgram.Socket {
  return dgram.createSocket({ type: 'udp4', reuseAddr, lookup: literalLookup });
}

/** Route a bound socket's asynchronous 'error' events to `onError` instead of crashing. */
export function watchErrors(socket: dgram.Socket, onError: (err: Error) => void): void {
  socket.on('error', onError);
}

/** Bind, turning the asynchronous 'error' into a rejection with a readable reason. */
export function bindSocket(
  medium: string,
  socket: dgram.Socket,
  address: string,
  port: number,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.off('listening', onListening);
      reject(
        new MediumOpenError(medium, `cannot bind ${what} to ${address}:${port}: ${describe(err)}`, {
          cause: err,
        }),
      );
    };
    const onListening = (): void => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    try {
      socket.bind({ address, port });
    } catch (err) {
      socket.off('error', onError);
      socket.off('listening', onListening);
      reject(new MediumOpenError(medium, `cannot bind ${what}: ${errorMessage(err)}`, { cause: err }));
    }
  });
}

function describe(err: Error): string {
  switch (errorCode(err)) {
    case 'EADDRINUSE':
      return 'address in use (another process owns this port)';
    case 'EADDRNOTAVAIL':
      return 'address not available on this host';
    case 'EACCES':
      return 'permission denied';
    default:
      return errorMessage(err);
  }
}

/** Best effort: a larger kernel receive buffer. */
export function enlargeReceiveBuffer(socket: dgram.Socket): void {
  try {
    socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
  } catch {
    // The default buffer still works; only very large bursts suffer.
  }
}

/** Outcome of one datagram send: null, or the error the kernel reported. */
export function sendDatagram(
  socket: dgram.Socket,
  frame: Uint8Array,
  port: number,
  address: string,
): Promise<Error | null> {
  return new Promise((resolve) => {
    try {
      socket.send(frame, port, address, (err) => resolve(err ?? null));
    } catch (err) {
      // A socket closed under us throws synchronously (ERR_SOCKET_DGRAM_NOT_RUNNING).
      resolve(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/** Close, never throwing (closing twice throws ERR_SOCKET_DGRAM_NOT_RUNNING in Node). */
export function closeSocket(socket: dgram.Socket | undefined): Promise<void> {
  if (!socket) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** `address:port` of a datagram's sender, for ReceivedFrame.from. */
export function peerOf(rinfo: dgram.RemoteInfo): string {
  return `${rinfo.address}:${rinfo.port}`;
}
