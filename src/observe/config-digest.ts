// Part: the configuration digest: a short hash of ha.cf, haresources and authkeys that nodes
// exchange in a cluster message of their own (`t=tsbeat-cfg`; heartbeat hands unknown types
// to API clients and otherwise ignores them, so a mixed cluster is not disturbed), and the
// comparison that names the files two nodes disagree on. A failover onto a node whose
// haresources differs is a classic cause of a failed failover.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Message, stringField } from '../codec/model.js';

export const DIGEST_FILES = ['ha.cf', 'haresources', 'authkeys'] as const;
export type DigestFile = (typeof DIGEST_FILES)[number];

/** The cluster message type and its fields (one per file). */
export const CFG_MESSAGE_TYPE = 'tsbeat-cfg';
const FIELD: Record<DigestFile, string> = {
  'ha.cf': 'cfg_hacf',
  haresources: 'cfg_haresources',
  authkeys: 'cfg_authkeys',
};

/**
 * ha.cf lines that legitimately differ between nodes and do not change what the cluster does:
 * the media name this machine's interfaces and devices (`ucast eth0 <the peer's address>` is
 * different on each node by design), and where and how much this machine logs.
 */
const NODE_LOCAL_HACF =
  /^(ucast|bcast|mcast|serial|ucast6|mcast6|logfile|debugfile|logfacility|use_logd|debug)$/;

/**
 * What counts in a file: its lines without comments and surrounding blanks, runs of blanks
 * as one, empty lines dropped (a reformatted file is the same configuration).
 */
export function normalise(file: DigestFile, text: string): string {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim().replace(/\s+/g, ' ');
    if (line === '') continue;
    if (file === 'ha.cf' && NODE_LOCAL_HACF.test(line.split(' ')[0]!)) continue;
    out.push(line);
  }
  return out.join('\n');
}

/**
 * 16 hex digits of SHA-256 over the normalised text. For authkeys this says no more about
 * the key than every signed frame already does (an offline guess can be checked against either).
 */
export function digestText(file: DigestFile, text: string): string {
  return createHash('sha256')
    .update(`${file}\n${normalise(file, text)}`)
    .digest('hex')
    .slice(0, 16);
}

export type ConfigDigest = Readonly<Record<DigestFile, string>>;

/** The digest of DIR's three files as they are now (an unreadable file digests as "unreadable"). */
export async function readConfigDigest(dir: string): Promise<ConfigDigest> {
  const one = async (f: DigestFile): Promise<string> => {
    try {
      return digestText(f, await readFile(join(dir, f), 'latin1'));
    } catch {
      return 'unreadable';
    }
  };
  const [a, b, c] = await Promise.all(DIGEST_FILES.map(one));
  return { 'ha.cf': a!, haresources: b!, authkeys: c! };
}

export function digestMessage(d: ConfigDigest): Message {
  return {
    fields: [stringField('t', CFG_MESSAGE_TYPE), ...DIGEST_FILES.map((f) => stringField(FIELD[f], d[f]))],
  };
}

/** A peer's digest from its message fields; undefined when a field is missing or not a digest. */
export function parseDigestFields(fields: Readonly<Record<string, string>>): ConfigDigest | undefined {
  const out: Partial<Record<DigestFile, string>> = {};
  for (const f of DIGEST_FILES) {
    const v = fields[FIELD[f]];
    if (v === undefined || !/^([0-9a-f]{16}|unreadable)$/.test(v)) return undefined;
    out[f] = v;
  }
  return out as ConfigDigest;
}

/** The files whose digests differ, in DIGEST_FILES order. */
export function differingFiles(a: ConfigDigest, b: ConfigDigest): DigestFile[] {
  return DIGEST_FILES.filter((f) => a[f] !== b[f]);
}
