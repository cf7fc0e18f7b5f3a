#!/usr/bin/env node
// Part: `hb_takeover`: ask the peer to hand resources over to this node, with heartbeat's
// arguments, texts and exit codes, and an answer (or a clear error) instead of a hang.

import { isMainModule } from '../ipc/cli-common.js';
import { parseSet, processIo, type RequestIo, sendRequest } from './hb_standby.js';
import { runMain } from './run.js';

/** hb_takeover [all|foreign|local|failback]: the peer gives the set to this node. */
export async function hbTakeover(argv: readonly string[], io: RequestIo): Promise<number> {
  const set = parseSet('takeover', argv, io);
  if (typeof set === 'number') return set;
  // heartbeat's hb_takeover logs nothing itself.
  return sendRequest('takeover', set, io);
}

export function main(argv: string[]): Promise<number> {
  return hbTakeover(argv, processIo('hb_takeover', import.meta.url));
}

if (isMainModule(import.meta.url)) runMain(() => main(process.argv.slice(2)));
