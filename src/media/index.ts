// Part: the public face of the media layer: the Medium contract, one factory per ha.cf media
// directive, the memory network, and the named errors. Only src/media imports node:dgram and
// serialport.

/**
 * Heartbeat media for tsbeat.
 *
 * | ha.cf | factory | frames | link |
 * |---|---|---|---|
 * | `bcast <dev>` | {@link udpBcast} | netstring | dev |
 * | `mcast <dev> <group> <port> <ttl> <loop>` | {@link udpMcast} | netstring | dev |
 * | `ucast <dev> <peer>` | {@link udpUcast} | netstring | dev |
 * | `serial <device>` (+ `baud`) | {@link serialMedium} | classic | device |
 * | (tests, simulator) | {@link memoryMedium} on a {@link memoryNetwork} | either | segment or given |
 *
 * Where node:dgram cannot do what heartbeat's C does, and what we do instead:
 * - No SO_BINDTODEVICE: bcast binds its receive socket to the interface's broadcast address,
 *   ucast to the interface's own address (one socket per device and port, shared by all ucast
 *   lines on it); send sockets are bound to the interface's address. Interfaces on distinct
 *   subnets stay apart; two interfaces with the same broadcast address do not.
 * - No IP_TOS: ucast datagrams carry TOS 0, not IPTOS_LOWDELAY (0x10).
 * - No SO_DONTROUTE, no SO_REUSEPORT (Node 20): the routing table picks the interface for the
 *   interface's own subnet, which is where heartbeat's traffic goes anyway.
 * - Serial lines are opened raw by serialport: ISTRIP and IGNCR are applied by the reader.
 *
 * @packageDocumentation
 */

export { SEND_ERRORS_BEFORE_SUPPRESSION, SEND_ERRORS_REPORT_EVERY, SendErrorTracker } from './base.js';
export {
  ClassicFrameReader,
  type ClassicReaderDrop,
  type ClassicReaderLimits,
  DEFAULT_CLASSIC_READER_LIMITS,
  isClassicFrame,
} from './classic-reader.js';
export {
  FrameFormatError,
  MediumClosedError,
  MediumConfigError,
  MediumNotOpenError,
  MediumOpenError,
} from './errors.js';
export {
  broadcastOf,
  type InterfaceFacts,
  type InterfaceLookup,
  type InterfaceProblem,
  systemInterfaceLookup,
} from './interfaces.js';
export {
  DEFAULT_RECEIVE_QUEUE_LIMITS,
  type FrameFormat,
  MAX_FRAME_BYTES,
  type Medium,
  type MediumComponents,
  type MediumEvent,
  type MediumEventSink,
  type MediumKind,
  type ReceiveDropReason,
  type ReceivedFrame,
  type ReceiveQueueLimits,
  type SendDropReason,
} from './medium.js';
export {
  type MemoryMediumInit,
  type MemoryNetwork,
  type MemoryNetworkOptions,
  type MemoryNetworkStats,
  memoryMedium,
  memoryNetwork,
  type PathFaults,
  type PathSelector,
} from './memory.js';
export {
  DEFAULT_SERIAL_BAUD,
  SERIAL_BAUD_RATES,
  SERIAL_CHUNK_BYTES,
  type SerialBaud,
  type SerialBinding,
  type SerialComponents,
  type SerialMediumInit,
  type SerialOpenOptions,
  type SerialPortHandle,
  serialChunkPauseMs,
  serialMedium,
} from './serial.js';
export { DEFAULT_LOCK_DIR, lockFileName, lockTty, type TtyLock, type TtyLockResult } from './tty-lock.js';
export { DEFAULT_UDP_PORT, type UdpComponents } from './udp.js';
export { type UdpBcastInit, udpBcast } from './udp-bcast.js';
export { type UdpMcastInit, udpMcast } from './udp-mcast.js';
export { type UdpUcastInit, udpUcast } from './udp-ucast.js';
