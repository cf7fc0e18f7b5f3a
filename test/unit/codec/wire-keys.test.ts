/**
 * The message model helpers and the wire-key table with its readable accessors, read off
 * real frames: hex fields (seq, hg, ts, dt, ackseq) and decimal ones (ttl, protocol), the
 * two spellings of `firstseq` (DECIMAL in NS_rexmit, hex in NS_nak_rexmit), uuids as 16
 * raw bytes. Also the JSON view the CLI prints: readable names next to the wire keys,
 * binary values as hex/base64/uuid, and an informational inner-auth verdict.
 */
import { describe, expect, it } from 'vitest';
import { fromLatin1, toHex } from '../../../src/codec/bytes.js';
import { decodeFrame } from '../../../src/codec/frame.js';
import {
  addField,
  getBinary,
  getList,
  getString,
  listField,
  type Message,
  message,
  messageFromPairs,
  removeField,
  setField,
  setString,
  stringField,
} from '../../../src/codec/model.js';
import { describeDecodeResult } from '../../../src/codec/print.js';
import {
  ackSeqno,
  deadtimeMs,
  destinationNode,
  destinationUuid,
  firstSeqno,
  generation,
  interpretField,
  lastSeqno,
  loadAverage,
  messageType,
  nodeStatus,
  parseHex,
  protocolVersion,
  seqno,
  sourceNode,
  sourceUuid,
  timestampS,
  ttl,
  WIRE_KEYS,
  wireKey,
} from '../../../src/codec/wire-keys.js';
import { keyringFor, vectorBytes, vectorNamed } from './fixtures.js';

function decoded(file: string): Message {
  const r = decodeFrame(vectorBytes(file), keyringFor(vectorNamed(file)));
  if (r.outcome !== 'ok') throw new Error(`${file}: ${r.outcome}`);
  return r.message;
}

describe('model helpers', () => {
  const m = messageFromPairs([
    ['t', 'status'],
    ['src', 'alpha'],
    ['src', 'second'],
  ]);

  it('lookups take the first field of a name', () => {
    expect(getString(m, 'src')).toBe('alpha');
    expect(getString(m, 'nope')).toBeUndefined();
    expect(getBinary(m, 'src')).toBeUndefined();
  });

  it('setField replaces in place, or appends; addField always appends', () => {
    const replaced = setString(m, 'src', 'bravo');
    expect(replaced.fields.map((f) => f.name)).toEqual(['t', 'src', 'src']);
    expect(getString(replaced, 'src')).toBe('bravo');
    expect(setField(m, stringField('ts', '1')).fields.map((f) => f.name)).toEqual(['t', 'src', 'src', 'ts']);
    expect(addField(m, stringField('t', 'again')).fields.length).toBe(4);
    expect(getString(m, 'src')).toBe('alpha'); // the original is untouched
  });

  it('removeField removes every field of the name', () => {
    expect(removeField(m, 'src').fields.map((f) => f.name)).toEqual(['t']);
  });

  it('lists read back as texts', () => {
    expect(getList(message([listField('l', ['a', 'bc'])]), 'l')).toEqual(['a', 'bc']);
  });
});

describe('wire-key table', () => {
  it('maps each readable name to a distinct wire key', () => {
    const entries = Object.entries(WIRE_KEYS);
    for (const [readable, key] of entries) expect(key.readable).toBe(readable);
    expect(new Set(entries.map(([, k]) => k.wire)).size).toBe(entries.length);
    expect(wireKey('hg')?.readable).toBe('generation');
    expect(wireKey('nosuchkey')).toBeUndefined();
  });

  it('parses hex like sscanf %lx and refuses what is not hex', () => {
    expect(parseHex('1b58')).toBe(7000);
    expect(parseHex('0x1A')).toBe(26);
    expect(parseHex('zz')).toBeUndefined();
    expect(parseHex('')).toBeUndefined();
    expect(parseHex('f'.repeat(14))).toBeUndefined();
  });
});

describe('readable accessors on real frames', () => {
  it('status: type, status, source, uuid, seq/hg/ts hex, dt hex ms, ttl/protocol decimal', () => {
    const m = decoded('md5-status-init.bin');
    expect(messageType(m)).toBe('status');
    expect(nodeStatus(m)).toBe('init');
    expect(sourceNode(m)).toBe('alpha');
    expect(toHex(sourceUuid(m)!)).toBe('d09708ac4bbe4a9fba46fc6f7a18c5a0');
    expect(seqno(m)).toBe(1);
    expect(generation(m)).toBe(0x6b0350df);
    expect(timestampS(m)).toBe(0x6b0350de);
    expect(deadtimeMs(m)).toBe(7000);
    expect(ttl(m)).toBe(3);
    expect(protocolVersion(m)).toBe(1);
    expect(loadAverage(m)).toBe('0.41 0.45 0.22 1/106 24995');
  });

  it('seq is hex: "a" is 10, "18" is 24', () => {
    expect(seqno(decoded('md5-starting.bin'))).toBe(10);
    expect(seqno(decoded('md5-resource.bin'))).toBe(0x18);
  });

  it('NS_ackmsg: dest, destuuid, ackseq hex, no seq', () => {
    const m = decoded('md5-ackmsg.bin');
    expect(destinationNode(m)).toBe('alpha');
    expect(destinationUuid(m)?.length).toBe(16);
    expect(ackSeqno(m)).toBe(4);
    expect(seqno(m)).toBeUndefined();
  });

  it('NS_rexmit: firstseq and lastseq are DECIMAL', () => {
    const m = decoded('md5-rexmit-request.bin');
    expect(getString(m, 'firstseq')).toBe('58');
    expect(firstSeqno(m)).toBe(58);
    expect(lastSeqno(m)).toBe(58);
    const crc = decoded('crc-rexmit-request.bin');
    expect(firstSeqno(crc)).toBe(97);
  });

  it('NS_nak_rexmit: firstseq is hex', () => {
    const m = messageFromPairs([
      ['t', 'NS_nak_rexmit'],
      ['firstseq', '3a'],
      ['dest', 'bravo'],
      ['info', 'seqno not found'],
    ]);
    expect(firstSeqno(m)).toBe(58);
    const field = m.fields[1]!;
    expect(interpretField(field, 'NS_nak_rexmit')).toEqual({ readable: 'firstSeqno', number: 58 });
    expect(interpretField(stringField('firstseq', '58'), 'NS_rexmit')).toEqual({
      readable: 'firstSeqno',
      number: 58,
    });
  });
});

describe('JSON view', () => {
  it('shows verdict, auth, readable names and binary as hex/base64/uuid', () => {
    const file = 'md5-status-init.bin';
    const keyring = keyringFor(vectorNamed(file));
    const out = describeDecodeResult(decodeFrame(vectorBytes(file), keyring), keyring) as Record<
      string,
      unknown
    >;
    expect(out).toMatchObject({
      verdict: 'ok',
      format: 'netstring',
      sizeBytes: 293,
      signedLengthBytes: 255,
      trailingNul: false,
      auth: {
        index: 1,
        method: 'md5',
        digest: 'c6361abb8077d7ec00055f6605e0a86b',
        verdict: 'ok',
        source: 'trailer',
      },
      innerAuth: { verdict: 'ok', index: 1, method: 'md5', checkedByHeartbeat: false },
      message: { type: 'status' },
    });
    const fields = (out['message'] as { fields: Record<string, unknown>[] }).fields;
    expect(fields.find((f) => f['name'] === 'dt')).toEqual({
      name: 'dt',
      readable: 'deadtimeMs',
      kind: 'string',
      value: '1b58',
      number: 7000,
    });
    expect(fields.find((f) => f['name'] === 'srcuuid')).toEqual({
      name: 'srcuuid',
      readable: 'sourceUuid',
      kind: 'binary',
      hex: 'd09708ac4bbe4a9fba46fc6f7a18c5a0',
      base64: '0JcIrEu+Sp+6RvxvehjFoA==',
      sizeBytes: 16,
      uuid: 'd09708ac-4bbe-4a9f-ba46-fc6f7a18c5a0',
    });
    // A JSON round trip keeps it all (no bigint, no typed arrays).
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('shows why a frame was refused', () => {
    const keyring = keyringFor(vectorNamed('md5-status-init.bin'));
    const out = describeDecodeResult(decodeFrame(fromLatin1('###\n4:oops,'), keyring), keyring);
    expect(out).toMatchObject({ verdict: 'malformed', reason: expect.stringMatching(/type tag/) });
  });
});
