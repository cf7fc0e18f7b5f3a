/**
 * The encoders, checked against captured frames of the same shape: messages built from
 * scratch with the same fields as a real heartbeat frame (status under each method, the
 * crc short digest, NS_rexmit with destuuid, repnodes with dest first, msgfmt netstring
 * without inner auth, the serial classic frame and the classic UDP frame with its NUL)
 * must come out byte-identical. Also: retransmission of a stored message, the inner auth
 * field replaced in place, nested structs and lists in both formats against hand-derived
 * bytes (depth-specific newline bytes in classic), the nesting limit, compression round
 * trips, and the messages no encoder may put on the wire.
 */
import { describe, expect, it } from 'vitest';
import type { Keyring } from '../../../src/codec/auth/keyring.js';
import { fromLatin1, latin1 } from '../../../src/codec/bytes.js';
import { classicAuthText, decodeClassic, encodeClassic } from '../../../src/codec/classic.js';
import { compressMessage, decompressMessage } from '../../../src/codec/compression.js';
import {
  decodeFrame,
  encodeClassicFrame,
  encodeNetstringFrame,
  parseFrame,
} from '../../../src/codec/frame.js';
import { MAX_FRAME_BYTES, MAX_NESTING_DEPTH } from '../../../src/codec/limits.js';
import {
  binaryField,
  type Field,
  getString,
  listField,
  type Message,
  message,
  stringField,
  structField,
} from '../../../src/codec/model.js';
import { decodeNetstring, encodeNetstring } from '../../../src/codec/netstring.js';
import { authkeysText, keyringFromText, vectorBytes, vectorNamed } from './fixtures.js';

type Spec = readonly (readonly [string, string] | readonly [string, { uuid: string }])[];

function build(spec: Spec): Message {
  return message(
    spec.map(
      ([name, v]): Field =>
        typeof v === 'string'
          ? stringField(name, v)
          : binaryField(name, Uint8Array.from(Buffer.from(v.uuid, 'hex'))),
    ),
  );
}

const keyringOf = (file: string): Keyring => {
  const v = vectorNamed(file);
  return keyringFromText(authkeysText(v.authnum, v.method, v.key));
};

/** A comparable plain view of a message, so failures show readable diffs. */
function show(msg: Message): unknown[] {
  return msg.fields.map((f) => {
    switch (f.kind) {
      case 'struct':
        return [f.name, f.kind, show(f.value)];
      case 'list':
        return [f.name, f.kind, f.value.map((x) => latin1(x))];
      default:
        return [f.name, f.kind, latin1(f.value)];
    }
  });
}

const status = (
  st: string,
  src: string,
  uuid: string,
  seq: string,
  hg: string,
  ts: string,
  ld: string,
): Spec => [
  ['t', 'status'],
  ['st', st],
  ['dt', '1b58'],
  ['protocol', '1'],
  ['src', src],
  ['srcuuid', { uuid }],
  ['seq', seq],
  ['hg', hg],
  ['ts', ts],
  ['ld', ld],
  ['ttl', '3'],
];

describe('netstring frames built from scratch equal the captured ones', () => {
  const cases: [string, Spec, boolean][] = [
    [
      'md5-status-init.bin',
      status(
        'init',
        'alpha',
        'd09708ac4bbe4a9fba46fc6f7a18c5a0',
        '1',
        '6b0350df',
        '6b0350de',
        '0.41 0.45 0.22 1/106 24995',
      ),
      true,
    ],
    [
      'sha1-status-init.bin',
      status(
        'init',
        'alpha',
        'e310e91ea00a4449a4dee5d6eab2a0cb',
        '1',
        '6b0351d4',
        '6b0351d3',
        '0.51 0.46 0.27 3/131 23055',
      ),
      true,
    ],
    [
      'crc-short-digest.bin',
      status(
        'up',
        'bravo',
        '81ea733955d04b84a2919b04c72f1d56',
        '2',
        '6b035242',
        '6b035241',
        '0.35 0.45 0.29 2/144 7264',
      ),
      true,
    ],
    [
      'md5-msgfmt-netstring-status.bin',
      status(
        'active',
        'alpha',
        '081fa9633af24818ac736537356102e0',
        '6',
        '6b035309',
        '6b035309',
        '0.31 0.46 0.33 4/151 32333',
      ),
      false,
    ],
    [
      'md5-rexmit-request.bin',
      [
        ['t', 'NS_rexmit'],
        ['dest', 'alpha'],
        ['firstseq', '58'],
        ['lastseq', '58'],
        ['destuuid', { uuid: 'd09708ac4bbe4a9fba46fc6f7a18c5a0' }],
        ['src', 'bravo'],
        ['srcuuid', { uuid: '5b112948987f45018eb9b6dc25d0bdc9' }],
        ['hg', '6b0350e3'],
        ['ts', '6b03519f'],
        ['ttl', '3'],
      ],
      true,
    ],
    [
      'md5-repnodes.bin',
      [
        ['dest', 'alpha'],
        ['t', 'repnodes'],
        ['nodelist', 'alpha bravo '],
        ['delnodelist', ' '],
        ['destuuid', { uuid: 'd09708ac4bbe4a9fba46fc6f7a18c5a0' }],
        ['src', 'bravo'],
        ['srcuuid', { uuid: '5b112948987f45018eb9b6dc25d0bdc9' }],
        ['seq', '5'],
        ['hg', '6b0350e2'],
        ['ts', '6b0350e2'],
        ['ld', '0.45 0.46 0.22 4/111 25103'],
        ['ttl', '3'],
      ],
      true,
    ],
  ];

  it.each(cases)('%s', (file, spec, innerAuth) => {
    const out = encodeNetstringFrame(build(spec), keyringOf(file), { innerAuth });
    if (!out.ok) throw new Error(out.reason);
    expect(latin1(out.bytes)).toBe(latin1(vectorBytes(file)));
    expect(getString(out.message, 'auth') !== undefined).toBe(innerAuth);
  });
});

describe('classic frames built from scratch equal the captured ones', () => {
  it('serial frame (no NUL)', () => {
    const file = 'md5-serial-status-active.txt';
    const spec = status(
      'active',
      'alpha',
      'cda62f297a5f43c8a89a38e0b9dd92f9',
      '9',
      '6b0356b1',
      '6b0356b3',
      '0.13 0.35 0.33 3/111 7730',
    );
    const out = encodeClassicFrame(build(spec), keyringOf(file));
    if (!out.ok) throw new Error(out.reason);
    expect(latin1(out.bytes)).toBe(latin1(vectorBytes(file)));
  });

  it('classic text over UDP (trailing NUL)', () => {
    const file = 'md5-fakenode-classic-udp-status.bin';
    const spec = status(
      'up',
      'bravo',
      'de1fff1146fd5473b2cb5a5f716ca94a',
      '1',
      '6b0353ce',
      '6b0354bd',
      '0.32 0.22 0.25 1/152 16825',
    );
    const out = encodeClassicFrame(build(spec), keyringOf(file), { trailingNul: true });
    if (!out.ok) throw new Error(out.reason);
    expect(latin1(out.bytes)).toBe(latin1(vectorBytes(file)));
  });

  it('the inner auth text is the spec §3.3 worked example', () => {
    const spec = status(
      'init',
      'alpha',
      'd09708ac4bbe4a9fba46fc6f7a18c5a0',
      '1',
      '6b0350df',
      '6b0350de',
      '0.41 0.45 0.22 1/106 24995',
    );
    const text = classicAuthText(build(spec));
    if (!text.ok) throw new Error(text.reason);
    expect(latin1(text.bytes)).toBe(
      't=status\nst=init\ndt=1b58\nprotocol=1\nsrc=alpha\n(1)srcuuid=0JcIrEu+Sp+6RvxvehjFoA==\nseq=1\nhg=6b0350df\nts=6b0350de\nld=0.41 0.45 0.22 1/106 24995\nttl=3\n',
    );
  });
});

describe('signing rules', () => {
  it('a retransmission re-sends the stored message (inner auth kept) byte for byte', () => {
    const file = 'md5-retransmitted.bin';
    const parsed = parseFrame(vectorBytes(file));
    if (!parsed.ok) throw new Error(parsed.reason);
    const again = encodeNetstringFrame(parsed.frame.message, keyringOf(file), { innerAuth: false });
    if (!again.ok) throw new Error(again.reason);
    expect(latin1(again.bytes)).toBe(latin1(vectorBytes(file)));
  });

  it('replaces an existing auth field in place and does not sign it', () => {
    const keyring = keyringFromText('auth 1\n1 md5 secret\n');
    const msg = message([stringField('t', 'x'), stringField('auth', 'stale'), stringField('src', 'alpha')]);
    const out = encodeNetstringFrame(msg, keyring, { innerAuth: true });
    if (!out.ok) throw new Error(out.reason);
    expect(out.message.fields.map((f) => f.name)).toEqual(['t', 'auth', 'src']);
    const text = classicAuthText(msg);
    if (!text.ok) throw new Error(text.reason);
    expect(latin1(text.bytes)).toBe('t=x\nsrc=alpha\n');
    expect(getString(out.message, 'auth')).toMatch(/^1 [0-9a-f]{32}$/);
    expect(decodeFrame(out.bytes, keyring).outcome).toBe('ok');
  });

  it('adds no inner auth to messages with struct fields, as heartbeat (must_use_netstring)', () => {
    const keyring = keyringFromText('auth 1\n1 sha1 k\n');
    const msg = message([stringField('t', 'x'), structField('s', message([stringField('a', '1')]))]);
    const out = encodeNetstringFrame(msg, keyring, { innerAuth: true });
    if (!out.ok) throw new Error(out.reason);
    expect(getString(out.message, 'auth')).toBeUndefined();
    expect(decodeFrame(out.bytes, keyring).outcome).toBe('ok');
  });
});

describe('nested structs and lists', () => {
  const grandchild = message([stringField('b', '2')]);
  const child = message([stringField('a', '1'), structField('deep', grandchild)]);
  const msg = message([stringField('t', 'x'), structField('sub', child), listField('l', ['ab', 'c'])]);

  it('netstring: nested bodies carry no trailer and are length-prefixed', () => {
    const out = encodeNetstring(msg);
    if (!out.ok) throw new Error(out.reason);
    expect(latin1(out.bytes)).toBe(
      '###\n6:(0)t=x,53:(2)sub=###\n6:(0)a=1,25:(2)deep=###\n6:(0)b=2,%%%\n,%%%\n,14:(3)l=2:ab,1:c,,%%%\n',
    );
    const back = decodeNetstring(out.bytes);
    if (!back.ok) throw new Error(back.reason);
    expect(show(back.message)).toEqual(show(msg));
  });

  it('classic: newlines of a nested message become 0x14 at depth 0, 0x15 at depth 1', () => {
    const out = encodeClassic(msg);
    if (!out.ok) throw new Error(out.reason);
    expect(latin1(out.bytes)).toBe(
      '>>>\nt=x\n(2)sub=>>>\x14a=1\x14(2)deep=>>>\x15b=2\x15<<<\x15\x14<<<\x14\n(3)l=2:ab,1:c,\n<<<\n',
    );
    const back = decodeClassic(out.bytes);
    if (!back.ok) throw new Error(back.reason);
    expect(show(back.message)).toEqual(show(msg));
  });

  it('classic: a newline in a string value travels as 0x13, at any depth', () => {
    const m = message([stringField('v', 'a\nb'), structField('s', message([stringField('w', 'c\nd')]))]);
    const out = encodeClassic(m);
    if (!out.ok) throw new Error(out.reason);
    expect(latin1(out.bytes)).toBe('>>>\nv=a\x13b\n(2)s=>>>\x14w=c\x13d\x14<<<\x14\n<<<\n');
    const back = decodeClassic(out.bytes);
    if (!back.ok) throw new Error(back.reason);
    expect(show(back.message)).toEqual(show(m));
  });

  const chain = (levels: number): Message => {
    let m = message([stringField('leaf', 'yes')]);
    for (let i = 0; i < levels; i++) m = message([structField(`s${i}`, m)]);
    return m;
  };

  it.each(['netstring', 'classic'] as const)(
    `%s: ${MAX_NESTING_DEPTH} levels of nesting work, one more does not`,
    (fmt) => {
      const enc = fmt === 'netstring' ? encodeNetstring : encodeClassic;
      const dec = fmt === 'netstring' ? decodeNetstring : decodeClassic;
      const ok = enc(chain(MAX_NESTING_DEPTH));
      if (!ok.ok) throw new Error(ok.reason);
      const back = dec(ok.bytes);
      if (!back.ok) throw new Error(back.reason);
      expect(show(back.message)).toEqual(show(chain(MAX_NESTING_DEPTH)));
      const tooDeep = enc(chain(MAX_NESTING_DEPTH + 1));
      expect(tooDeep.ok).toBe(false);
    },
  );
});

describe('compression', () => {
  const keyring = keyringFromText(authkeysText(1, 'md5', 'secret'));
  const big = message([
    stringField('t', 'wa-big'),
    ...Array.from({ length: 30 }, (_, i) => stringField(`f${i}`, 'x'.repeat(400))),
    stringField('src', 'alpha'),
  ]);

  it.each(['classic', 'netstring'] as const)('a %s payload round-trips through a signed frame', (fmt) => {
    const signed = encodeNetstringFrame(big, keyring, { innerAuth: fmt === 'classic' });
    if (!signed.ok) throw new Error(signed.reason);
    const wrapped = compressMessage(signed.message, fmt);
    if (!wrapped.ok) throw new Error(wrapped.reason);
    const frame = encodeNetstringFrame(wrapped.message, keyring, { innerAuth: false });
    if (!frame.ok) throw new Error(frame.reason);
    expect(frame.bytes.length).toBeLessThan(signed.bytes.length / 5);
    const r = decodeFrame(frame.bytes, keyring);
    if (r.outcome !== 'ok') throw new Error(r.outcome);
    expect(r.compressed?.format).toBe(fmt);
    expect(show(r.message)).toEqual(show(signed.message));
  });

  it('the captured payload inflates to the captured inner text (node zlib reads Debian zlib)', () => {
    const parsed = parseFrame(vectorBytes('md5-traditional-compression.bin'));
    if (!parsed.ok) throw new Error(parsed.reason);
    const d = decompressMessage(parsed.frame.message);
    if (!d.ok) throw new Error(d.reason);
    expect(latin1(d.text)).toBe(latin1(vectorBytes('md5-traditional-compression.inner.txt')));
  });
});

describe('what no encoder puts on the wire', () => {
  const keyring = keyringFromText('auth 1\n1 md5 secret\n');
  const bad: [string, Message][] = [
    ['a name with "="', message([stringField('a=b', '1')])],
    ['an empty name', message([stringField('', '1')])],
    ['a name starting with "("', message([stringField('(1)x', '1')])],
    ['a name with a newline', message([stringField('a\nb', '1')])],
    ['a NUL in a string', message([stringField('a', 'x\u0000y')])],
    ['an empty list', message([listField('l', [])])],
    ['an empty list element', message([listField('l', ['a', ''])])],
    ['a frame over MAXMSG', message([stringField('big', 'x'.repeat(MAX_FRAME_BYTES))])],
  ];
  it.each(bad)('refuses %s', (_what, msg) => {
    expect(encodeNetstringFrame(msg, keyring, { innerAuth: true }).ok).toBe(false);
    expect(encodeClassicFrame(msg, keyring).ok).toBe(false);
  });

  it('classic refuses a list element with a newline, netstring carries it', () => {
    const msg = message([listField('l', ['a\nb'])]);
    expect(encodeClassic(msg).ok).toBe(false);
    expect(encodeNetstring(msg).ok).toBe(true);
  });

  it('classic refuses a nested value holding its nesting byte', () => {
    const msg = message([structField('s', message([stringField('v', 'a\u0014b')]))]);
    expect(encodeClassic(msg).ok).toBe(false);
    expect(encodeNetstring(msg).ok).toBe(true);
  });

  it('a frame of exactly MAXMSG-1 bytes is fine, one more is not', () => {
    const base = encodeNetstringFrame(message([stringField('p', '')]), keyring, { innerAuth: false });
    if (!base.ok) throw new Error(base.reason);
    // Grow the value until the frame is exactly the limit (length digits change as it grows).
    let pad = MAX_FRAME_BYTES - base.bytes.length - 6;
    for (;;) {
      const out = encodeNetstringFrame(message([stringField('p', 'x'.repeat(pad))]), keyring, {
        innerAuth: false,
      });
      if (!out.ok) throw new Error(out.reason);
      if (out.bytes.length === MAX_FRAME_BYTES) {
        expect(decodeFrame(out.bytes, keyring).outcome).toBe('ok');
        const over = encodeNetstringFrame(message([stringField('p', 'x'.repeat(pad + 1))]), keyring, {
          innerAuth: false,
        });
        expect(over.ok).toBe(false);
        return;
      }
      pad += MAX_FRAME_BYTES - out.bytes.length;
    }
  });
});

describe('binary values survive every byte', () => {
  it('all 256 byte values in a binary field, both formats', () => {
    const keyring = keyringFromText('auth 1\n1 sha1 k\n');
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const msg = message([stringField('t', 'x'), binaryField('b', all)]);
    for (const out of [
      encodeNetstringFrame(msg, keyring, { innerAuth: true }),
      encodeClassicFrame(msg, keyring),
    ]) {
      if (!out.ok) throw new Error(out.reason);
      const r = decodeFrame(out.bytes, keyring);
      if (r.outcome !== 'ok') throw new Error(r.outcome);
      expect(show(r.message)).toEqual(show(out.message));
    }
    expect(fromLatin1(latin1(all))).toEqual(all);
  });
});
