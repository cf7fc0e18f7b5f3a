// Part: a passive UDP listener for interop tests: joins a multicast group inside a harness
// node and writes every datagram it hears, already reassembled by the kernel, to a directory
// (one file per datagram, named by arrival order and sender), so a test can decode exactly
// what a real heartbeat put on the wire without a pcap parser.
//
// usage: node udp-sniffer.mjs GROUP PORT LOCAL-ADDR OUTDIR
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [group, portText, localAddr, outDir] = process.argv.slice(2);
if (!group || !portText || !localAddr || !outDir) {
  process.stderr.write('usage: udp-sniffer.mjs GROUP PORT LOCAL-ADDR OUTDIR\n');
  process.exit(2);
}
let n = 0;
const sock = createSocket({ type: 'udp4', reuseAddr: true });
sock.on('message', (msg, rinfo) => {
  const name = `${String(n++).padStart(6, '0')}-${rinfo.address}.bin`;
  writeFileSync(join(outDir, name), msg);
});
sock.on('error', (e) => {
  process.stderr.write(`udp-sniffer: ${e.message}\n`);
  process.exit(1);
});
sock.bind(Number(portText), group, () => {
  sock.addMembership(group, localAddr);
  process.stdout.write('listening\n');
});
process.on('SIGTERM', () => sock.close(() => process.exit(0)));
