// Part: /etc/ha.d/ha.cf -> HaCf, read the way heartbeat 3.0.6's parse_config() and
// init_config() read it (heartbeat/config.c), with every problem reported as a diagnostic.
// This file walks the lines; what each directive means is its record in hacf-directives.ts.
//
// Pure: no file system, no network. Facts about the host (interfaces, devices, users) are
// checked separately in validate.ts, so this parser also works for another machine's config.

import { type Diagnostic, quote } from '../lib/diagnostic.js';
import { closest } from '../lib/suggest.js';
import {
  DELIMS,
  DIRECTIVE_NAMES,
  DIRECTIVES,
  directive,
  err,
  INIT_CONFIG_CHECKS,
  newHaCfState,
  type Pos,
  tokens,
  WHITESPACE,
  warn,
} from './hacf-directives.js';
import type { HaCf } from './model.js';

export { BAUD_RATES, LOG_FACILITIES, MAX_NODES, type Pos } from './hacf-directives.js';

/** Where things came from, for diagnostics raised after parsing (host checks, cross-file checks). */
export interface HaCfSource {
  /** Last occurrence of each directive, keyed by its canonical name. */
  readonly directives: Readonly<Record<string, Pos>>;
  /** Aligned with HaCf.media / nodes / pingNodes / stonith / clientChildren. */
  readonly media: readonly Pos[];
  readonly nodes: readonly Pos[];
  readonly pingNodes: readonly Pos[];
  readonly stonith: readonly Pos[];
  readonly clientChildren: readonly Pos[];
}

export interface HaCfParseOptions {
  /** File name used in diagnostics. */
  readonly file: string;
  /** This node's name: `stonith_host` lines for other nodes are ignored, as heartbeat does. */
  readonly localNode: string;
  /** The `ha-cluster` UDP port of /etc/services, or 694: used when there is no `udpport`. */
  readonly defaultUdpPort?: number;
}

export interface HaCfResult {
  /** Always present, with defaults for whatever could not be read, so later checks still run. */
  readonly haCf: HaCf;
  readonly source: HaCfSource;
  readonly diagnostics: readonly Diagnostic[];
}

/** heartbeat's MAXLINE: fgets() would split longer lines. */
export const MAX_LINE_BYTES = 5119;
export const DEFAULT_UDP_PORT = 694;

/** Every directive name heartbeat 3.0.6 (Debian build) accepts. */
export const KNOWN_DIRECTIVES: readonly string[] = DIRECTIVE_NAMES;

/** Parse ha.cf text. Never throws; every problem becomes a diagnostic. */
export function parseHaCf(text: string, opts: HaCfParseOptions): HaCfResult {
  const defaultUdpPort = opts.defaultUdpPort ?? DEFAULT_UDP_PORT;
  const s = newHaCfState(opts.file, opts.localNode, defaultUdpPort);

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!;
    if (Buffer.byteLength(line, 'utf8') > MAX_LINE_BYTES) {
      err(
        s,
        { line: lineNo, col: 1 },
        `line is longer than ${MAX_LINE_BYTES} bytes`,
        'heartbeat would cut it in two; shorten it',
      );
      continue;
    }
    // Comment anywhere on the line, then cut at the first CR/LF (CRLF files work).
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const crlf = line.search(/[\r\n]/);
    if (crlf >= 0) line = line.slice(0, crlf);
    let p = 0;
    while (p < line.length && WHITESPACE.includes(line[p]!)) p++;
    if (p >= line.length) continue;

    let q = p;
    while (q < line.length && !WHITESPACE.includes(line[q]!)) q++;
    let name = line.slice(p, q);
    const at: Pos = { line: lineNo, col: p + 1 };
    if (name === 'udp') {
      warn(s, at, 'directive "udp" is an old name for "bcast"', 'write "bcast"');
      name = 'bcast';
    }
    const d = directive(name);
    if (d === undefined) {
      if (name === 'normalpoll') {
        err(s, at, 'directive "normalpoll" is not supported by heartbeat 3.0.6 either', 'remove the line');
        continue;
      }
      const guess = closest(name, KNOWN_DIRECTIVES);
      err(
        s,
        at,
        `unknown directive ${quote(name)}`,
        guess
          ? `did you mean "${guess}"?${guess.toLowerCase() === name.toLowerCase() ? ' (directives are case-sensitive)' : ''}`
          : 'see ha.cf(5)',
      );
      continue;
    }
    // Skip the delimiters (blanks and commas) between directive and values.
    let r = q;
    while (r < line.length && DELIMS.includes(line[r]!)) r++;
    const rest = line.slice(r);
    s.directivePos[name] = at;

    if (d.shape === 'line') {
      const col0 = r + 1;
      const toks = tokens(rest, col0, WHITESPACE);
      const atTok = (k: number): Pos => (toks[k] ? { line: at.line, col: toks[k]!.col } : at);
      d.parse(s, { name, rest, col0, at, toks, atTok });
      continue;
    }
    const values = tokens(rest, r + 1, DELIMS);
    if (values.length === 0) {
      warn(s, at, `${name} has no value; the line is ignored`);
      continue;
    }
    for (const v of values) {
      const vat: Pos = { line: lineNo, col: v.col };
      if (d.parse(s, v.text, vat, name) && d.record) s.params[name] = v.text;
    }
    if (values.length > 1 && d.repeatable !== true) {
      warn(
        s,
        at,
        `${name} is given ${values.length} values; heartbeat applies each in turn, so the last ("${values.at(-1)!.text}") wins`,
      );
    }
  }

  // ---- init_config(): fixed defaults, then derived values and cross-directive checks ----
  for (const [name, d] of Object.entries(DIRECTIVES)) {
    if (d.shape === 'option' && 'default' in d && s.params[name] === undefined) s.params[name] = d.default;
  }
  if (s.params['debug'] === undefined) s.params['debug'] = String(s.debugLevel ?? 0);
  for (const check of INIT_CONFIG_CHECKS) check(s);

  const haCf: HaCf = {
    nodes: s.nodes,
    media: s.media,
    pingNodes: s.pingNodes,
    keepaliveMs: s.keepaliveMs ?? 1000,
    deadtimeMs: s.deadtimeMs ?? 30000,
    warntimeMs: s.derived.warntimeMs!,
    initdeadMs: s.derived.initdeadMs!,
    deadpingMs: s.derived.deadpingMs!,
    udpPort: s.udpPort ?? defaultUdpPort,
    baud: s.baud ?? 19200,
    autoFailback: s.autoFailback ?? 'legacy',
    msgfmt: s.msgfmt ?? 'classic',
    hopfudge: s.hopfudge ?? 1,
    hbgenmethod: s.hbgenmethod ?? 'file',
    maxRexmitDelayMs: s.maxRexmitDelayMs ?? 250,
    compression: s.compression ?? 'zlib',
    compressionThresholdKb: s.compressionThresholdKb ?? 2,
    traditionalCompression: s.traditionalCompression ?? false,
    autojoin: s.autojoin ?? 'none',
    uuidfrom: s.uuidfrom ?? 'file',
    ...(s.logfile !== undefined ? { logfile: s.logfile } : {}),
    ...(s.debugfile !== undefined ? { debugfile: s.debugfile } : {}),
    ...(s.logfacility !== undefined ? { logfacility: s.logfacility } : {}),
    useLogd: s.useLogd ?? s.derived.noLogTarget!,
    realtime: s.realtime ?? true,
    ...(s.rtprio !== undefined ? { rtprio: s.rtprio } : {}),
    debugLevel: s.debugLevel ?? 0,
    coredumps: s.coredumps ?? true,
    cluster: s.cluster ?? 'linux-ha',
    ...(s.watchdog !== undefined ? { watchdog: s.watchdog } : {}),
    stonith: s.stonith,
    clientChildren: s.clientChildren,
    apiauth: s.apiauth,
    env: s.env,
    params: s.params,
  };
  return {
    haCf,
    source: {
      directives: s.directivePos,
      media: s.mediaPos,
      nodes: s.nodePos,
      pingNodes: s.pingPos,
      stonith: s.stonithPos,
      clientChildren: s.clientPos,
    },
    diagnostics: s.diagnostics,
  };
}
