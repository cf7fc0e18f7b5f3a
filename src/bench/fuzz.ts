// Part: `npm run fuzz` (or `npm run bench -- fuzz`): mutation fuzzing of every parser that
// reads untrusted input (frames with auth and compression, the membership core's receive
// path, IPC request lines, ha.cf, haresources, authkeys), seeded from the real fixtures in
// test/fixtures. Prints per target the inputs run, inputs/s, the outcome classes seen, the
// slowest input, crashes (a thrown exception: these parsers return values, never throw) and
// oracle failures (a diagnostic that prints "undefined", "NaN" or "[object ..."), and RSS
// before and after. Exit status 1 on any crash or oracle failure.
//
// Deterministic for a given --seed: a failure prints the target, the input index and the
// input (base64), and `--target NAME --seed S --from I --inputs 1` replays it.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { type AuthMethod, type Keyring, makeKeyring } from '../codec/auth/keyring.js';
import { fromLatin1, latin1 } from '../codec/bytes.js';
import { encodeClassic } from '../codec/classic.js';
import { compressMessage } from '../codec/compression.js';
import { decodeFrame, encodeClassicFrame, encodeNetstringFrame, reencodeFrame } from '../codec/frame.js';
import {
  binaryField,
  compressedField,
  type Field,
  listField,
  type Message,
  message,
  stringField,
  structField,
} from '../codec/model.js';
import { decodeNetstring, encodeNetstring } from '../codec/netstring.js';
import { parseAuthkeys } from '../config/authkeys.js';
import { parseHaCf } from '../config/hacf.js';
import { parseHaresources } from '../config/haresources.js';
import { encodeResponse, isRejected, parseRequest } from '../ipc/protocol.js';
import { COMMANDS, isCommand, validateArgs } from '../ipc/schema.js';
import type { Diagnostic } from '../lib/diagnostic.js';
import { type Random, seededRandom } from '../lib/random.js';
import { createMembership, step } from '../membership/core.js';
import type { MembershipState } from '../membership/model.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(REPO, 'test', 'fixtures');

/** What one input did: an outcome class (counted), or a finding. */
type Verdict = string;

class OracleFailure extends Error {
  override readonly name = 'OracleFailure';
}

export interface FuzzTarget {
  readonly name: string;
  /** Real inputs the mutations start from. */
  readonly seeds: readonly Uint8Array[];
  /** Build input number `i` (deterministic for the Random it is given). */
  generate(r: Random, seeds: readonly Uint8Array[]): Uint8Array;
  /** Feed one input to the parser; returns its outcome class. Throwing is a crash. */
  run(input: Uint8Array): Verdict;
}

// ---------------------------------------------------------------------------------------
// Mutations

const INTERESTING_BYTES = [
  0, 0xff, 0x0a, 0x0d, 0x3a, 0x2c, 0x23, 0x25, 0x3e, 0x3c, 0x3d, 0x20, 0x30, 0x39, 0x13,
];
const INTERESTING_NUMBERS = [
  '0',
  '-1',
  '1',
  '65535',
  '65536',
  '2147483647',
  '4294967296',
  '9007199254740993',
  '99999999999999999999999',
  '1e9',
  '0x10',
  '00',
  '',
];
const TOKENS = [
  '\n',
  '\r\n',
  '\0',
  '#',
  '>>>\n',
  '<<<\n',
  '###\n',
  '%%%\n',
  '(1)',
  '(2)',
  '(3)',
  '(4)',
  '=',
  '::',
  '/',
  ',',
  ':',
  '\\',
  '"',
  '{',
  '}',
  '[',
  ']',
  '__proto__',
  'constructor',
  '\u00e9',
  '\ud83d\ude00',
  'auth',
  'node',
  'IPaddr::',
];

function pick<T>(r: Random, xs: readonly T[]): T {
  return xs[r.int(0, xs.length - 1)]!;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const utf8 = new TextEncoder();

/** One random byte-level edit of `b` (never grows it past 300 KiB). */
function mutateOnce(r: Random, b: Uint8Array, seeds: readonly Uint8Array[]): Uint8Array {
  const at = () => r.int(0, b.length);
  switch (r.int(0, 11)) {
    case 0: {
      if (b.length === 0) return b;
      const out = b.slice();
      const i = r.int(0, b.length - 1);
      out[i] = out[i]! ^ (1 << r.int(0, 7));
      return out;
    }
    case 1: {
      if (b.length === 0) return b;
      const out = b.slice();
      out[r.int(0, b.length - 1)] = r.next() < 0.5 ? r.int(0, 255) : pick(r, INTERESTING_BYTES);
      return out;
    }
    case 2: {
      const i = at();
      const junk = Uint8Array.from({ length: r.int(1, 16) }, () => r.int(0, 255));
      return concat(b.subarray(0, i), junk, b.subarray(i));
    }
    case 3: {
      const i = at();
      const j = Math.min(b.length, i + r.int(1, 64));
      return concat(b.subarray(0, i), b.subarray(j));
    }
    case 4: {
      const i = at();
      const j = Math.min(b.length, i + r.int(1, 128));
      const times = r.next() < 0.1 ? r.int(10, 200) : r.int(2, 4);
      const piece = b.subarray(i, j);
      const reps = Array.from({ length: times }, () => piece);
      const out = concat(b.subarray(0, i), ...reps, b.subarray(j));
      return out.length > 300 * 1024 ? b : out;
    }
    case 5: {
      // Splice: the head of this input, the tail of another seed.
      const other = pick(r, seeds);
      return concat(b.subarray(0, at()), other.subarray(r.int(0, other.length)));
    }
    case 6:
      return b.subarray(0, at());
    case 7: {
      // Replace a run of digits (a length, a port, a seq) with an interesting number.
      const text = latin1(b, 0, b.length);
      const runs = [...text.matchAll(/\d+/g)];
      if (runs.length === 0) return b;
      const m = pick(r, runs);
      return fromLatin1(
        text.slice(0, m.index) + pick(r, INTERESTING_NUMBERS) + text.slice((m.index ?? 0) + m[0].length),
      );
    }
    case 8: {
      const i = at();
      return concat(b.subarray(0, i), utf8.encode(pick(r, TOKENS)), b.subarray(i));
    }
    case 9: {
      // Swap two lines.
      const lines = latin1(b, 0, b.length).split('\n');
      if (lines.length < 2) return b;
      const i = r.int(0, lines.length - 1);
      const j = r.int(0, lines.length - 1);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return fromLatin1(lines.join('\n'));
    }
    case 10: {
      // A line of another seed, inserted at a line boundary.
      const lines = latin1(b, 0, b.length).split('\n');
      const other = latin1(pick(r, seeds), 0, undefined).split('\n');
      lines.splice(r.int(0, lines.length), 0, pick(r, other));
      return fromLatin1(lines.join('\n'));
    }
    default: {
      // A very long token: line-length and field-size limits.
      const i = at();
      const long = new Uint8Array(r.next() < 0.1 ? r.int(20_000, 70_000) : r.int(1000, 6000)).fill(
        pick(r, [0x41, 0x30, 0x20, 0x0a]),
      );
      return concat(b.subarray(0, i), long, b.subarray(i));
    }
  }
}

function mutate(r: Random, seeds: readonly Uint8Array[]): Uint8Array {
  let b = pick(r, seeds);
  const n = r.next() < 0.5 ? 1 : r.int(2, 6);
  for (let k = 0; k < n; k++) b = mutateOnce(r, b, seeds);
  return b;
}

// ---------------------------------------------------------------------------------------
// Oracles

const SUSPICIOUS = /\bundefined\b|\bNaN\b|\[object /;

function checkDiagnostics(ds: readonly Diagnostic[], file: string, lines: number): void {
  for (const d of ds) {
    if (d.file !== file) throw new OracleFailure(`diagnostic names file ${JSON.stringify(d.file)}`);
    if (typeof d.message !== 'string' || d.message === '') throw new OracleFailure('empty diagnostic');
    if (SUSPICIOUS.test(d.message) || (d.hint !== undefined && SUSPICIOUS.test(d.hint)))
      throw new OracleFailure(`diagnostic prints a JS artefact: ${d.message} (${d.hint ?? ''})`);
    if (d.line !== undefined && (d.line < 1 || d.line > lines + 1))
      throw new OracleFailure(`diagnostic line ${d.line} outside the file (${lines} lines)`);
  }
}

// ---------------------------------------------------------------------------------------
// Targets

function keyring(method: AuthMethod, key: string): Keyring {
  const k = makeKeyring([{ index: 1, method, key: fromLatin1(key) }], 1);
  if (!k) throw new Error('fuzz: keyring');
  return k;
}

/** The fixture vectors' keys (test/fixtures/wire/README.md). */
const KEYRINGS: Readonly<Record<AuthMethod, Keyring>> = {
  md5: keyring('md5', 'secret'),
  sha1: keyring('sha1', 'secret2'),
  crc: keyring('crc', ''),
};

function wireSeeds(): Uint8Array[] {
  const dir = join(FIXTURES, 'wire');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin') || f.endsWith('.txt'))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** A random message: real field kinds, names and values, nested structs and lists. */
function randomMessage(r: Random, depth = 0): Message {
  const fields: Field[] = [];
  const names = ['t', 'st', 'src', 'dest', 'seq', 'hg', 'ts', 'ttl', 'ld', 'info', 'rsc_hold', 'x'];
  const n = r.int(0, 12);
  const used = new Set<string>();
  for (let i = 0; i < n; i++) {
    let name = r.next() < 0.8 ? pick(r, names) : `f${r.int(0, 99)}`;
    if (used.has(name)) name = `${name}${i}`;
    used.add(name);
    const v = pick(r, [
      'status',
      'active',
      'alpha',
      'bravo',
      '1',
      'ff',
      '',
      'a=b',
      'x'.repeat(r.int(0, 300)),
    ]);
    const kind = r.int(0, 9);
    if (kind === 0)
      fields.push(
        binaryField(
          name,
          Uint8Array.from({ length: r.int(0, 40) }, () => r.int(0, 255)),
        ),
      );
    else if (kind === 1 && depth < 3) fields.push(structField(name, randomMessage(r, depth + 1)));
    else if (kind === 2)
      fields.push(
        listField(
          name,
          Array.from({ length: r.int(0, 5) }, () => pick(r, [v, '', ','])),
        ),
      );
    else fields.push(stringField(name, v));
  }
  return message(fields);
}

let bombCache: Uint8Array[] | undefined;
/** Deflate bombs: megabytes of zeros (or of a valid frame start) from a few kilobytes. Built once. */
function bombs(): Uint8Array[] {
  bombCache ??= [256 * 1024, 1024 * 1024, 8 * 1024 * 1024].flatMap((n) => {
    const zeros = new Uint8Array(n);
    const framed = new Uint8Array(n).fill(0x61);
    framed.set(fromLatin1('###\n(0)t='));
    return [new Uint8Array(deflateSync(zeros)), new Uint8Array(deflateSync(framed))];
  });
  return bombCache;
}

/** A correctly signed frame whose content is hostile: the parser and inflater see it after auth. */
function signedHostileFrame(r: Random, seeds: readonly Uint8Array[]): Uint8Array {
  const kr = pick(r, [KEYRINGS.md5, KEYRINGS.sha1, KEYRINGS.crc]);
  const choice = r.int(0, 5);
  if (choice === 0) {
    const m = randomMessage(r);
    const f =
      r.next() < 0.5 ? encodeNetstringFrame(m, kr, { innerAuth: r.next() < 0.5 }) : encodeClassicFrame(m, kr);
    return f.ok ? f.bytes : mutate(r, seeds);
  }
  // Traditional compression: a wrapper whose payload inflates to mutated text, or is not zlib at all.
  let payload: Uint8Array;
  if (choice === 1) {
    const inner = compressMessage(randomMessage(r), r.next() < 0.5 ? 'classic' : 'netstring');
    payload =
      inner.ok && inner.message.fields[0]?.kind === 'binary'
        ? mutate(r, [inner.message.fields[0].value])
        : new Uint8Array(0);
  } else if (choice === 2) {
    const text = r.next() < 0.5 ? encodeClassic(randomMessage(r)) : encodeNetstring(randomMessage(r));
    payload = deflateSync(text.ok ? mutate(r, [text.bytes]) : mutate(r, seeds));
  } else if (choice === 3) {
    payload = pick(r, bombs());
  } else if (choice === 4) {
    // Compressed inside compressed (heartbeat would recurse).
    const inner = compressMessage(randomMessage(r), 'netstring');
    const outer = inner.ok ? encodeNetstring(inner.message) : undefined;
    payload = deflateSync(outer?.ok ? outer.bytes : new Uint8Array(1));
  } else {
    payload = deflateSync(mutate(r, seeds));
  }
  const fields: Field[] = [
    r.next() < 0.8
      ? binaryField('_compressed_payload', payload)
      : compressedField('_compressed_payload', payload),
    stringField('_compression_algorithm', pick(r, ['zlib', 'zlib', 'bz2', '', 'gzip'])),
  ];
  const f = encodeNetstringFrame(message(fields), kr, { innerAuth: false });
  return f.ok ? f.bytes : mutate(r, seeds);
}

function frameTarget(): FuzzTarget {
  return {
    name: 'frame',
    seeds: wireSeeds(),
    generate: (r, seeds) => (r.next() < 0.7 ? mutate(r, seeds) : signedHostileFrame(r, seeds)),
    run(input) {
      let last = '';
      for (const kr of [KEYRINGS.md5, KEYRINGS.sha1, KEYRINGS.crc]) {
        const d = decodeFrame(input, kr);
        last = d.outcome;
        if (d.outcome === 'ok') {
          // A frame we accept must be one we can send again.
          const again = reencodeFrame(d.frame, kr);
          if (again.ok && !again.bytes.length) throw new OracleFailure('re-encoded frame is empty');
          return d.compressed ? 'ok (compressed)' : 'ok';
        }
      }
      return last;
    },
  };
}

/**
 * The membership core's receive path: authenticated messages (the fixtures' frames, decoded,
 * then mutated field by field: hostile values, missing and duplicated fields, wrong kinds)
 * stepped into a core configured for the fixtures' nodes, with ticks in between.
 */
function membershipTarget(): FuzzTarget {
  const seeds = wireSeeds();
  let core: MembershipState | undefined;
  let now = 0;
  let fed = 0;
  const fresh = (): MembershipState => {
    const st = createMembership(
      {
        localNode: 'bravo',
        nodes: ['alpha', 'bravo', 'charlie'],
        links: ['eth0', 'eth1'],
        keepaliveMs: 1000,
        deadtimeMs: 4000,
        warntimeMs: 2000,
        initdeadMs: 10_000,
        maxRexmitDelayMs: 250,
        hopfudge: 1,
        generation: 7,
        uuid: new Uint8Array(16).fill(7),
      },
      seededRandom(1),
    );
    step(
      st,
      { kind: 'start' },
      { monoMs: now, wallMs: 1_700_000_000_000 + now, loadavg: '0.00 0.00 0.00 1/1 1' },
    );
    return st;
  };
  const messages: Message[] = [];
  for (const seed of seeds) {
    for (const kr of [KEYRINGS.md5, KEYRINGS.sha1, KEYRINGS.crc]) {
      const d = decodeFrame(seed, kr);
      if (d.outcome === 'ok') {
        messages.push(d.message);
        break;
      }
    }
  }
  const values = [
    'alpha',
    'bravo',
    'charlie',
    'zulu',
    '',
    '0',
    '1',
    'ff',
    'fffffffffffff',
    '-1',
    'zz',
    'status',
    'active',
    'dead',
    'init',
    'up',
    'rexmit',
    'NS_ackmsg',
    'NS_rexmit',
    'ask_resources',
    'ip-request',
    'shutdone',
    'hbshutdown',
    '1 2',
    'x'.repeat(300),
  ];
  const names = [
    't',
    'st',
    'src',
    'dest',
    'seq',
    'hg',
    'ts',
    'ttl',
    'firstseq',
    'lastseq',
    'ackseq',
    'srcuuid',
    'dt',
    'protocol',
    'ld',
    'rsc_hold',
    'info',
  ];
  return {
    name: 'membership',
    seeds,
    generate: (r) => {
      let m = pick(r, messages);
      const edits = r.int(1, 4);
      for (let k = 0; k < edits; k++) {
        const name = pick(r, names);
        const rest = m.fields.filter((f) => f.name !== name);
        const op = r.int(0, 9);
        if (op === 0) m = message(rest);
        else if (op === 1)
          m = message([
            ...m.fields,
            binaryField(
              name,
              Uint8Array.from({ length: r.int(0, 20) }, () => r.int(0, 255)),
            ),
          ]);
        else if (op === 2) m = message([...rest, structField(name, pick(r, messages))]);
        else
          m = message([
            ...rest,
            stringField(name, r.next() < 0.8 ? pick(r, values) : r.int(0, 2 ** 31).toString(16)),
          ]);
      }
      const e = encodeNetstring(m);
      return e.ok ? e.bytes : new Uint8Array(0);
    },
    run(input) {
      const parsed = decodeNetstring(input);
      if (!parsed.ok) return 'undecodable';
      const msg = parsed.message;
      if (core === undefined || fed++ % 5000 === 0) core = fresh();
      now += 37;
      const env = { monoMs: now, wallMs: 1_700_000_000_000 + now, loadavg: '0.00 0.00 0.00 1/1 1' };
      const out = step(core, { kind: 'frame', link: fed % 2, msg }, env);
      if (fed % 7 === 0) step(core, { kind: 'tick' }, env);
      return out.deliver.length > 0 ? 'delivered' : out.events.length > 0 ? 'event' : 'quiet';
    },
  };
}

function ipcTarget(): FuzzTarget {
  const seeds: Uint8Array[] = [];
  for (const [cmd, spec] of Object.entries(COMMANDS)) {
    const args: Record<string, string> = {};
    for (const [k, f] of Object.entries(spec.args) as [string, { values?: readonly string[] }][])
      args[k] = f.values?.[0] ?? 'node1';
    seeds.push(utf8.encode(JSON.stringify({ v: 1, id: seeds.length, cmd, args })));
  }
  const hostile = [
    '{"v":1,"cmd":"status","args":{"__proto__":{"x":1}}}',
    '{"v":1,"id":"a","cmd":"standby","args":{"set":"all","constructor":"x"}}',
    '{"v":1e308,"cmd":"hello"}',
    '{"v":1,"id":9007199254740993,"cmd":"hello"}',
    `{"v":1,"cmd":"node","args":{"node":${JSON.stringify('n'.repeat(300))}}}`,
    `${'['.repeat(5000)}${']'.repeat(5000)}`,
    '{"v":1,"cmd":"link","args":{"node":null,"link":["eth0"]}}',
  ];
  for (const h of hostile) seeds.push(utf8.encode(h));
  const fatal = new TextDecoder('utf-8', { fatal: true });
  /** What the server does with one line before dispatch (ipc/server.ts respond()). */
  return {
    name: 'ipc',
    seeds,
    generate: (r, s) => {
      if (r.next() < 0.3) {
        // Structural: replace one value of a seed request with a random JSON value.
        const obj = JSON.parse(
          latin1(pick(r, s.slice(0, Object.keys(COMMANDS).length)), 0, undefined),
        ) as Record<string, unknown>;
        const values: unknown[] = [
          null,
          true,
          0,
          -1,
          1.5,
          2 ** 53,
          '',
          'x'.repeat(r.int(0, 400)),
          [],
          {},
          { a: [1] },
        ];
        const key = pick(r, ['v', 'id', 'cmd', 'args', '__proto__', 'extra']);
        if (key === 'args' && r.next() < 0.5)
          obj['args'] = { [pick(r, ['set', 'node', 'link', 'name', 'x'])]: pick(r, values) };
        else obj[key] = pick(r, values);
        return utf8.encode(JSON.stringify(obj));
      }
      return mutate(r, s);
    },
    run(input) {
      let text: string;
      try {
        text = fatal.decode(input);
      } catch {
        return 'not utf-8';
      }
      if (text.endsWith('\r')) text = text.slice(0, -1);
      const req = parseRequest(text);
      if (isRejected(req)) {
        encodeResponse({
          v: 1,
          ...(req.id === undefined ? {} : { id: req.id }),
          ok: false,
          error: req.rejected,
        });
        return `rejected ${req.rejected.code}`;
      }
      if (!isCommand(req.cmd)) return 'unknown command';
      const args = validateArgs(req.cmd, req.args);
      if (typeof args === 'string') {
        if (SUSPICIOUS.test(args)) throw new OracleFailure(`validateArgs message: ${args}`);
        return 'bad args';
      }
      return 'accepted';
    },
  };
}

function haCfSeeds(): Uint8Array[] {
  const text = readFileSync(join(FIXTURES, 'heartbeat', 'config-tests.txt'), 'utf8');
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(/--- ha\.cf:\n((?: {4}.*\n)*)/g)) {
    out.push(
      utf8.encode(
        m[1]!
          .split('\n')
          .map((l) => l.slice(4))
          .join('\n'),
      ),
    );
  }
  return out;
}

function etcFiles(name: string): Uint8Array[] {
  const dir = join(REPO, 'etc', 'ha.d');
  const out: Uint8Array[] = [];
  for (const sub of readdirSync(dir).sort()) {
    try {
      out.push(new Uint8Array(readFileSync(join(dir, sub, name))));
    } catch {
      // Not every sample has every file.
    }
  }
  return out;
}

const decodeText = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

function haCfTarget(): FuzzTarget {
  return {
    name: 'ha.cf',
    seeds: haCfSeeds(),
    generate: (r, s) => mutate(r, s),
    run(input) {
      const text = decodeText(input);
      const res = parseHaCf(text, { file: 'ha.cf', localNode: 'ra1' });
      checkDiagnostics(res.diagnostics, 'ha.cf', text.split('\n').length);
      return res.diagnostics.some((d) => d.severity === 'error') ? 'errors' : 'clean';
    },
  };
}

function haresourcesTarget(): FuzzTarget {
  const seeds = [
    ...etcFiles('haresources'),
    utf8.encode('node1 IPaddr::10.0.0.1/24/eth0 Filesystem::/dev/drbd0::/srv::ext4 httpd\nnode2 10.0.0.2\n'),
    utf8.encode(
      'node1 IPaddr2::192.168.1.10/24/eth0/192.168.1.255 \\\n  drbddisk::r0 MailTo::root@example.com\n',
    ),
    utf8.encode('# comment\nnode1 10.0.0.1/24/eth0/10.0.0.255 IPsrcaddr::10.0.0.1\n\n'),
  ];
  return {
    name: 'haresources',
    seeds,
    generate: (r, s) => mutate(r, s),
    run(input) {
      const text = decodeText(input);
      const res = parseHaresources(text, 'haresources');
      checkDiagnostics(res.diagnostics, 'haresources', text.split('\n').length);
      return res.diagnostics.some((d) => d.severity === 'error') ? 'errors' : 'clean';
    },
  };
}

function authkeysTarget(): FuzzTarget {
  const seeds = [
    ...etcFiles('authkeys'),
    utf8.encode('auth 1\n1 sha1 secret2\n'),
    utf8.encode('auth 2\n1 md5 secret\n2 crc\n15 sha1 "quoted key"\n'),
    utf8.encode('# keys\nauth\t3\n3 md5 k\n'),
  ];
  return {
    name: 'authkeys',
    seeds,
    generate: (r, s) => mutate(r, s),
    run(input) {
      const text = decodeText(input);
      const res = parseAuthkeys(text, 'authkeys');
      checkDiagnostics(res.diagnostics, 'authkeys', text.split('\n').length);
      return res.diagnostics.some((d) => d.severity === 'error') ? 'errors' : 'clean';
    },
  };
}

export function fuzzTargets(): FuzzTarget[] {
  return [
    frameTarget(),
    membershipTarget(),
    ipcTarget(),
    haCfTarget(),
    haresourcesTarget(),
    authkeysTarget(),
  ];
}

// ---------------------------------------------------------------------------------------
// Runner

export interface Finding {
  readonly target: string;
  readonly index: number;
  readonly kind: 'crash' | 'oracle';
  readonly error: string;
  readonly inputBase64: string;
}

export interface TargetReport {
  readonly target: string;
  readonly inputs: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly slowestMs: number;
  readonly slowestIndex: number;
  readonly crashes: number;
  readonly oracleFailures: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  /** V8 heap in use after a full collection (with --expose-gc): what the parsers keep. */
  readonly heapAfterBytes: number;
}

export interface FuzzOptions {
  readonly seed: number;
  /** Inputs per target. */
  readonly inputs: number;
  readonly from?: number;
  readonly targets?: readonly string[];
  /** The targets to run (default: fuzzTargets()); tests pass a deliberately broken one. */
  readonly targetList?: readonly FuzzTarget[];
  /** Called after each target. */
  readonly onReport?: (r: TargetReport) => void;
}

const rss = (): number => process.memoryUsage.rss();
const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * Runs every selected target for `inputs` inputs. Input `i` of a target is generated by a
 * Random seeded with (seed, target, i), so any one input can be replayed alone.
 */
export function runFuzz(opts: FuzzOptions): { reports: TargetReport[]; findings: Finding[] } {
  const reports: TargetReport[] = [];
  const findings: Finding[] = [];
  const from = opts.from ?? 0;
  for (const t of opts.targetList ?? fuzzTargets()) {
    if (opts.targets && !opts.targets.includes(t.name)) continue;
    collect();
    const rssBefore = rss();
    const outcomes: Record<string, number> = {};
    let slowestMs = 0;
    let slowestIndex = -1;
    let crashes = 0;
    let oracleFailures = 0;
    const salt = [...t.name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0, 2166136261);
    const started = performance.now();
    for (let i = from; i < from + opts.inputs; i++) {
      const r = seededRandom((opts.seed * 1_000_003 + salt + i * 2_654_435_761) >>> 0);
      const input = t.generate(r, t.seeds);
      const t0 = performance.now();
      try {
        const v = t.run(input);
        outcomes[v] = (outcomes[v] ?? 0) + 1;
      } catch (e) {
        const oracle = e instanceof OracleFailure;
        if (oracle) oracleFailures++;
        else crashes++;
        if (findings.length < 50) {
          findings.push({
            target: t.name,
            index: i,
            kind: oracle ? 'oracle' : 'crash',
            error: e instanceof Error ? (e.stack ?? e.message) : String(e),
            inputBase64: Buffer.from(input).toString('base64'),
          });
        }
      }
      const ms = performance.now() - t0;
      if (ms > slowestMs) {
        slowestMs = ms;
        slowestIndex = i;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    collect();
    const report: TargetReport = {
      target: t.name,
      inputs: opts.inputs,
      seconds,
      perSecond: opts.inputs / seconds,
      outcomes,
      slowestMs,
      slowestIndex,
      crashes,
      oracleFailures,
      rssBeforeBytes: rssBefore,
      rssAfterBytes: rss(),
      heapAfterBytes: process.memoryUsage().heapUsed,
    };
    reports.push(report);
    opts.onReport?.(report);
  }
  return { reports, findings };
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(0)} MB`;

function printReport(r: TargetReport): void {
  const outcomes = Object.entries(r.outcomes)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  process.stdout.write(
    `${r.target.padEnd(12)} ${String(r.inputs).padStart(8)} inputs  ${String(Math.round(r.perSecond)).padStart(7)}/s  ` +
      `crashes ${r.crashes}  oracle ${r.oracleFailures}  slowest ${r.slowestMs.toFixed(1)} ms (#${r.slowestIndex})  ` +
      `RSS ${mb(r.rssBeforeBytes)} -> ${mb(r.rssAfterBytes)}, heap after GC ${mb(r.heapAfterBytes)}\n             outcomes: ${outcomes}\n`,
  );
}

function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Entry point for `npm run bench -- fuzz` (default sizes) and `npm run fuzz -- [options]`. */
export async function run(argv: readonly string[] = []): Promise<void> {
  const targets = fuzzTargets().map((t) => t.name);
  const seed = Number(argValue(argv, '--seed') ?? 1);
  // 6 targets x 170,000 = 1,020,000 inputs by default.
  const inputs = Number(argValue(argv, '--inputs') ?? 170_000);
  const from = Number(argValue(argv, '--from') ?? 0);
  const only = argValue(argv, '--target');
  if (
    !Number.isSafeInteger(seed) ||
    !Number.isSafeInteger(inputs) ||
    inputs < 1 ||
    !Number.isSafeInteger(from)
  ) {
    process.stderr.write('fuzz: --seed, --inputs and --from take integers (--inputs at least 1)\n');
    process.exitCode = 2;
    return;
  }
  if (only !== undefined && !targets.includes(only)) {
    process.stderr.write(`fuzz: unknown target "${only}" (have: ${targets.join(', ')})\n`);
    process.exitCode = 2;
    return;
  }
  collect();
  const rssStart = rss();
  const started = performance.now();
  process.stdout.write(
    `fuzz: seed ${seed}, ${inputs} inputs per target${from ? ` from #${from}` : ''}, gc ${typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'on' : 'off (run with node --expose-gc for steadier RSS)'}\n`,
  );
  const { reports, findings } = runFuzz({
    seed,
    inputs,
    from,
    ...(only ? { targets: [only] } : {}),
    onReport: printReport,
  });
  const total = reports.reduce((n, r) => n + r.inputs, 0);
  const seconds = (performance.now() - started) / 1000;
  collect();
  const crashes = reports.reduce((n, r) => n + r.crashes, 0);
  const oracle = reports.reduce((n, r) => n + r.oracleFailures, 0);
  process.stdout.write(
    `total        ${total} inputs in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s); crashes ${crashes}; oracle failures ${oracle}; RSS ${mb(rssStart)} -> ${mb(rss())}, heap after GC ${mb(process.memoryUsage().heapUsed)}\n`,
  );
  for (const f of findings.slice(0, 10)) {
    process.stdout.write(
      `\n${f.kind.toUpperCase()} in ${f.target} at input #${f.index}: replay with npm run fuzz -- --target ${f.target} --seed ${seed} --from ${f.index} --inputs 1\n${f.error}\ninput (base64): ${f.inputBase64.slice(0, 2000)}\n`,
    );
  }
  if (crashes > 0 || oracle > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await run(process.argv.slice(2));
}
