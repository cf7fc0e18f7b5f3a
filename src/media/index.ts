// Part: the public face of the media layer: the Medium contract, one factory per ha.cf media
// directive, the memory network, and the named errors. Only src/media imports node:dgram and
// serialport.

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
