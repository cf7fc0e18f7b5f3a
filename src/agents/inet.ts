// Part: address arithmetic and syntax checks for IPv4 and IPv6 as the IP agents need them
// (findif's regular expressions, dotted-quad netmasks, broadcast, canonical IPv6). Pure.

const OCTET0 = '([1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5])';
const OCTET = '([0-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5])';
// Built once: compiled on every call it was the largest single cost of an IPaddr2 action in a
// CPU profile of the daemon.
const IPV4 = new RegExp(`^${OCTET0}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** findif.sh's IPv4 check: four decimal octets, the first 1-255, no leading "+" or blanks. */
export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

/** findif.sh's IPv6 check is only "hex digits and colons"; we also require a parsable address. */
export function isIpv6(text: string): boolean {
  return /^[0-9a-fA-F:]+$/.test(text) && canonicalIpv6(text) !== undefined;
}

/**
 * RFC 5952 text form of an IPv6 address (lower case, longest zero run compressed), which is how
 * `ip` prints it; the stock agent gets the same by asking `ip route get`. The WHATWG URL parser
 * implements exactly this serialisation, in-process.
 */
export function canonicalIpv6(text: string): string | undefined {
  try {
    const host = new URL(`http://[${text}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** IPv4 text to a 32-bit unsigned number (no validation beyond four numbers). */
export function ipv4ToNumber(text: string): number {
  const parts = text.split('.').map((p) => Number(p));
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

/** A 32-bit unsigned number as IPv4 text. */
export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Prefix length to a 32-bit mask. */
export function prefixToMask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Prefix length to a dotted-quad netmask ("24" → "255.255.255.0"). */
export function prefixToDotted(bits: number): string {
  return numberToIpv4(prefixToMask(bits));
}

/** The directed broadcast of ip/bits (all host bits set). */
export function broadcastOf(ip: string, bits: number): string {
  return numberToIpv4((ipv4ToNumber(ip) | ~prefixToMask(bits)) >>> 0);
}

/**
 * findif.sh's `maybe_convert_dotted_quad_to_cidr`: a contiguous dotted-quad mask becomes its
 * prefix length; anything that does not look like a dotted quad is returned unchanged (later
 * checks reject it); a dotted quad that is not a contiguous mask is "bogus" (kept, and reported).
 */
export function dottedQuadToPrefix(mask: string): { prefix: string; converted: boolean; bogus: boolean } {
  if (!/^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(mask)) {
    return { prefix: mask, converted: false, bogus: false };
  }
  const octets = mask.split('.').map(Number);
  if (octets.some((o) => o > 255)) return { prefix: mask, converted: false, bogus: false };
  const m = ipv4ToNumber(mask);
  for (let bits = 0; bits <= 32; bits++) {
    if (prefixToMask(bits) === m) return { prefix: String(bits), converted: true, bogus: false };
  }
  return { prefix: mask, converted: false, bogus: true };
}

/** findif.sh's `prefixcheck`: 1 to 3 decimal digits, 1 ≤ n ≤ max. */
export function isValidPrefix(text: string, max: number): boolean {
  if (!/^[0-9]{1,3}$/.test(text)) return false;
  const n = Number(text);
  return n >= 1 && n <= max;
}

/** An IPv6 address as its eight 16-bit groups (any text form `canonicalIpv6` accepts). */
export function ipv6Groups(text: string): number[] | undefined {
  const c = canonicalIpv6(text);
  if (c === undefined || c.includes('.')) return undefined;
  const [head = '', tail] = c.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right].map((g) => Number.parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** Whether two IPv6 addresses agree in their first `bits` bits (0..128). */
export function sameIpv6Prefix(a: string, b: string, bits: number): boolean {
  const x = ipv6Groups(a);
  const y = ipv6Groups(b);
  if (x === undefined || y === undefined) return false;
  for (let i = 0; i < 8; i++) {
    const take = Math.max(0, Math.min(16, bits - i * 16));
    const mask = take === 0 ? 0 : (0xffff << (16 - take)) & 0xffff;
    if (((x[i] ?? 0) & mask) !== ((y[i] ?? 0) & mask)) return false;
  }
  return true;
}
