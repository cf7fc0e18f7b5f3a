// Part: heartbeat's own `crc` auth method (heartbeat lib/plugins/HBauth/crc.c). It is NOT
// zlib's CRC-32: the polynomial 0x04C11DB7 is processed MSB-first (not reflected), the
// register starts at 0, no length is appended, and the result is complemented. It equals
// RevEng's CRC-32/CKSUM without the length suffix. Check value: "123456789" -> 765e7680.

const POLY = 0x04c11db7;

/** T[i] = the MSB-first remainder of i << 24; computed once. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ POLY : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** The 32-bit heartbeat CRC of `data`. */
export function heartbeatCrc32(data: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) {
    crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  }
  return ~crc >>> 0;
}

/**
 * The digest text heartbeat puts on the wire: printf("%lx"), i.e. lowercase hex WITHOUT
 * leading zeros (`60de22b` is a real 7-digit digest). Receivers compare strings, so a
 * zero-padded digest would be rejected.
 */
export function crcDigestText(data: Uint8Array): string {
  return heartbeatCrc32(data).toString(16);
}
