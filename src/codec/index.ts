// Part: the public face of the codec: heartbeat 3.0.6 messages, their two wire formats,
// compression, and authentication. Everything here is pure (node:crypto and node:zlib are
// the only platform modules used) and never throws on input from the wire.

export * from './auth/crc.js';
export * from './auth/digest.js';
export * from './auth/keyring.js';
export { bytesEqual, firstDifference, fromLatin1, latin1, toHex } from './bytes.js';
export * from './classic.js';
export * from './compression.js';
export * from './frame.js';
export * from './limits.js';
export * from './model.js';
export { decodeNetstring, encodeNetstring, NETSTRING_END, NETSTRING_START } from './netstring.js';
export * from './print.js';
export * from './wire-keys.js';
