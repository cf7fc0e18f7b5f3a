// Part: codec benchmark: frames per second for decode+verify of a typical status frame
// under each auth method, and for encode+sign (inner auth + trailer, heartbeat's default).

import { type AuthMethod, type Keyring, makeKeyring } from '../codec/auth/keyring.js';
import { fromLatin1 } from '../codec/bytes.js';
import { decodeFrame, encodeNetstringFrame } from '../codec/frame.js';
import { binaryField, type Message, message, stringField } from '../codec/model.js';

/** The shape of a real `status` frame (vectors/md5-status-active.bin): 12 fields, ~300 bytes. */
function statusMessage(): Message {
  return message([
    stringField('t', 'status'),
    stringField('st', 'active'),
    stringField('dt', '1388'),
    stringField('protocol', '1'),
    stringField('src', 'alpha'),
    binaryField(
      'srcuuid',
      Uint8Array.from([
        0xd0, 0x97, 0x08, 0xac, 0x4b, 0xbe, 0x4a, 0x9f, 0xba, 0x46, 0xfc, 0x6f, 0x7a, 0x18, 0xc5, 0xa0,
      ]),
    ),
    stringField('seq', '9'),
    stringField('hg', '6b0350df'),
    stringField('ts', '6b0350e2'),
    stringField('ld', '0.41 0.45 0.22 1/106 24995'),
    stringField('ttl', '3'),
  ]);
}

function keyringFor(method: AuthMethod): Keyring {
  const key = method === 'crc' ? new Uint8Array(0) : fromLatin1(method === 'md5' ? 'secret' : 'secret2');
  const k = makeKeyring([{ index: 1, method, key }], 1);
  if (!k) throw new Error('bench: keyring');
  return k;
}

/** Run `op` repeatedly for about `budgetMs` after a warm-up; returns operations per second. */
function measure(op: () => void, budgetMs = 1000): number {
  for (let i = 0; i < 2000; i++) op();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < budgetMs) {
    for (let i = 0; i < 500; i++) op();
    n += 500;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

export async function run(): Promise<void> {
  const rows: string[][] = [['method', 'frame bytes', 'decode+verify frames/s', 'encode+sign frames/s']];
  for (const method of ['crc', 'md5', 'sha1'] as const) {
    const keyring = keyringFor(method);
    const msg = statusMessage();
    const encoded = encodeNetstringFrame(msg, keyring, { innerAuth: true });
    if (!encoded.ok) throw new Error(`bench: cannot encode: ${encoded.reason}`);
    const frame = encoded.bytes;
    const check = decodeFrame(frame, keyring);
    if (check.outcome !== 'ok') throw new Error(`bench: frame does not verify: ${check.outcome}`);
    let sink = 0;
    const decodeRate = measure(() => {
      const r = decodeFrame(frame, keyring);
      if (r.outcome === 'ok') sink += r.message.fields.length;
    });
    const encodeRate = measure(() => {
      const r = encodeNetstringFrame(msg, keyring, { innerAuth: true });
      if (r.ok) sink += r.bytes.length;
    });
    if (sink === 0) throw new Error('bench: nothing measured');
    rows.push([
      method,
      String(frame.length),
      Math.round(decodeRate).toLocaleString('en'),
      Math.round(encodeRate).toLocaleString('en'),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows)
    process.stdout.write(
      `${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')}\n`,
    );
  process.stdout.write(
    `(node ${process.version}; one core; status frame with inner auth, as heartbeat's default msgfmt classic sends)\n`,
  );
}
