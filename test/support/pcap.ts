// Part: a minimal reader of the classic pcap files tcpdump -w writes (Ethernet, IPv4, UDP),
// enough for tests to look at the heartbeat frames a daemon really sent.
import { readFileSync } from 'node:fs';

export interface UdpPacket {
  /** Seconds since the epoch, with microseconds. */
  readonly time: number;
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Buffer;
}

const ip = (b: Buffer, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** Every IPv4/UDP packet of a pcap file (link type Ethernet), in capture order. */
export function readUdpPackets(file: string): UdpPacket[] {
  const b = readFileSync(file);
  if (b.length < 24) return [];
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d)
    throw new Error(`${file}: not a pcap file`);
  const nano = magic === 0xa1b23c4d || b.readUInt32BE(0) === 0xa1b23c4d;
  const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`${file}: link type ${linkType}, expected Ethernet`);
  const out: UdpPacket[] = [];
  for (let at = 24; at + 16 <= b.length; ) {
    const sec = u32(at);
    const frac = u32(at + 4);
    const caplen = u32(at + 8);
    const pkt = b.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    if (pkt.length < 14 + 20 + 8 || pkt.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (pkt[14]! & 0x0f) * 4;
    if (pkt[14 + 9] !== 17) continue;
    const udp = 14 + ihl;
    const len = pkt.readUInt16BE(udp + 4);
    out.push({
      time: sec + frac / (nano ? 1e9 : 1e6),
      src: ip(pkt, 14 + 12),
      dst: ip(pkt, 14 + 16),
      srcPort: pkt.readUInt16BE(udp),
      dstPort: pkt.readUInt16BE(udp + 2),
      payload: pkt.subarray(udp + 8, udp + len),
    });
  }
  return out;
}
