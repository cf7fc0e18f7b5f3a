// Part: the persistent node identity: the generation counter (bumped on every start, so a
// restart is never mistaken for a healed partition) and the node uuid. Same file formats
// as heartbeat 3.0.6 (/var/lib/heartbeat/hb_generation, hb_uuid).

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Write a file so that after a crash it holds either the old or the new content. */
function writeDurably(file: string, data: string | Uint8Array, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(dirname(file), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export interface GenerationResult {
  readonly generation: number;
  /** Set when there was no usable previous generation (heartbeat: "No Previous generation"). */
  readonly fresh: boolean;
}

/**
 * `hbgenmethod file`: read the counter, add one, write it back durably before use.
 * heartbeat's format: the decimal number right-aligned in 15 columns, then a newline.
 * Missing or unreadable: start from the current time, as heartbeat does.
 */
export function nextGeneration(file: string, method: 'file' | 'time', nowSeconds: number): GenerationResult {
  if (method === 'time') return { generation: nowSeconds, fresh: false };
  let previous: number | undefined;
  try {
    const text = readFileSync(file, 'latin1').trim();
    if (/^\d{1,15}$/.test(text)) previous = Number.parseInt(text, 10);
  } catch {
    previous = undefined;
  }
  const generation = (previous ?? nowSeconds) + 1;
  writeDurably(file, `${String(generation).padStart(15, ' ')}\n`);
  return { generation, fresh: previous === undefined };
}

/** The node's persistent 16-byte uuid, created once (heartbeat: hb_uuid, raw bytes). */
export function nodeUuid(file: string): { uuid: Uint8Array; created: boolean } {
  try {
    const bytes = readFileSync(file);
    if (bytes.length === 16) return { uuid: new Uint8Array(bytes), created: false };
  } catch {
    // create below
  }
  const uuid = new Uint8Array(randomBytes(16));
  writeDurably(file, uuid, 0o644);
  return { uuid, created: true };
}
