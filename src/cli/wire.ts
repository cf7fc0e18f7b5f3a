// Part: `tsbeat wire`: decode and verify heartbeat frames captured off the wire or a serial
// line, printing them as JSON. The shell around src/codec: it reads files and prints;
// every decision is the codec's.

import { open, readFile } from 'node:fs/promises';
import type { Keyring } from '../codec/auth/keyring.js';
import { firstDifference } from '../codec/bytes.js';
import { decodeFrame, reencodeFrame } from '../codec/frame.js';
import { MAX_FRAME_BYTES } from '../codec/limits.js';
import { describeDecodeResult, type JsonValue } from '../codec/print.js';
import { parseAuthkeys } from '../config/authkeys.js';
import { formatDiagnostic } from '../lib/diagnostic.js';
import { printable, quoted } from '../lib/printable.js';

export const WIRE_USAGE = `usage: tsbeat wire decode --authkeys FILE [--roundtrip] [FRAME-FILE]

Decode one heartbeat frame (a UDP payload "###..." or a serial/classic frame ">>>...")
from FRAME-FILE, or from standard input when no file is given, verify its digest with the
keys of an authkeys file, and print it as JSON: format, auth index/method/verdict, and the
fields with their readable names (binary values as hex and base64).

Verification follows heartbeat 3.0.6: a netstring frame is checked by its trailer with the
algorithm of the index it names and the key of the file's active "auth N" entry; a classic
frame by its inner auth field with the key of the index it names.

options:
  --authkeys FILE   authkeys file to verify with (required)
  --roundtrip       also re-encode the decoded message and report whether the bytes are
                    identical to the input (not identical counts as failure)
  -h, --help        show this help

exit status: 0 the frame verifies (and round-trips, with --roundtrip); 1 it does not;
2 usage error (bad arguments, unreadable or invalid files).
`;

/**
 * JSON whose text a terminal cannot act on. Field values come off the wire: JSON.stringify
 * already escapes C0 controls, but leaves DEL, the C1 controls (0x9b is CSI on 8-bit
 * terminals) and the Unicode line separators and direction overrides raw. They are written as
 * JSON \u escapes instead, so a JSON reader still gets the exact value.
 */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface DecodeArgs {
  readonly authkeysFile: string;
  readonly frameFile: string | undefined;
  readonly roundtrip: boolean;
}

function parseDecodeArgs(argv: readonly string[]): DecodeArgs | 'help' {
  let authkeysFile: string | undefined;
  let frameFile: string | undefined;
  let roundtrip = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '--roundtrip') {
      roundtrip = true;
    } else if (arg === '--authkeys') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError('--authkeys needs a file name');
      authkeysFile = value;
    } else if (arg.startsWith('--authkeys=')) {
      authkeysFile = arg.slice('--authkeys='.length);
      if (authkeysFile === '') throw new UsageError('--authkeys needs a file name');
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${quoted(arg, 60)}`);
    } else if (frameFile !== undefined) {
      throw new UsageError(
        `only one frame file may be given (got ${quoted(frameFile, 100)} and ${quoted(arg, 100)})`,
      );
    } else {
      frameFile = arg;
    }
  }
  if (authkeysFile === undefined) throw new UsageError('--authkeys FILE is required');
  return { authkeysFile, frameFile: frameFile === '-' ? undefined : frameFile, roundtrip };
}

function errnoText(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = String((err as { code: unknown }).code);
    const known: Record<string, string> = {
      ENOENT: 'no such file',
      EACCES: 'permission denied',
      EISDIR: 'is a directory',
      ENOTDIR: 'not a directory',
    };
    return known[code] ?? code;
  }
  return err instanceof Error ? err.message : String(err);
}

async function loadKeyring(file: string): Promise<Keyring> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read authkeys file ${quoted(file, 200)}: ${errnoText(err)}`);
  }
  // Keys are bytes: latin1 keeps every byte as one char (see parseAuthkeys).
  const parsed = parseAuthkeys(raw.toString('latin1'), file);
  if (!parsed.keyring) {
    const first = parsed.diagnostics.find((d) => d.severity === 'error');
    throw new UsageError(
      first ? printable(formatDiagnostic(first), 500) : `${quoted(file, 200)}: unusable authkeys file`,
    );
  }
  return parsed.keyring;
}

/**
 * Read at most MAX_FRAME_BYTES+1 bytes: enough to tell an oversized frame from a good one
 * without reading a huge file into memory.
 */
async function readFrame(file: string | undefined): Promise<Uint8Array> {
  const limit = MAX_FRAME_BYTES + 1;
  if (file === undefined) {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of process.stdin) {
      const b = chunk as Buffer;
      chunks.push(b);
      total += b.length;
      if (total >= limit) break;
    }
    return new Uint8Array(Buffer.concat(chunks).subarray(0, limit));
  }
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const buf = new Uint8Array(limit);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, total, limit - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total >= limit) break;
    }
    return buf.slice(0, total);
  } catch (err) {
    throw new UsageError(`cannot read frame file ${quoted(file, 200)}: ${errnoText(err)}`);
  } finally {
    await handle?.close();
  }
}

async function decodeCommand(argv: readonly string[]): Promise<number> {
  const args = parseDecodeArgs(argv);
  if (args === 'help') {
    process.stdout.write(WIRE_USAGE);
    return 0;
  }
  const keyring = await loadKeyring(args.authkeysFile);
  const input = await readFrame(args.frameFile);
  const result = decodeFrame(input, keyring);
  const out = describeDecodeResult(result, keyring);
  let passed = result.outcome === 'ok';
  if (args.roundtrip) {
    let roundtrip: { [key: string]: JsonValue };
    if (!result.frame) {
      roundtrip = { identical: false, reason: 'the frame did not decode' };
    } else {
      const again = reencodeFrame(result.frame, keyring);
      if (!again.ok) {
        roundtrip = { identical: false, reason: again.reason };
      } else {
        const diff = firstDifference(again.bytes, input);
        roundtrip =
          diff < 0
            ? { identical: true }
            : { identical: false, firstDifferenceAt: diff, sizeBytes: again.bytes.length };
      }
    }
    out['roundtrip'] = roundtrip;
    passed &&= roundtrip['identical'] === true;
  }
  process.stdout.write(`${terminalSafeJson(out)}\n`);
  return passed ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
      process.stdout.write(WIRE_USAGE);
      return sub === undefined ? 2 : 0;
    }
    if (sub === 'decode') return await decodeCommand(rest);
    throw new UsageError(`unknown sub-command ${quoted(sub, 60)} (try "tsbeat wire --help")`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tsbeat wire: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
