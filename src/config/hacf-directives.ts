// Part: the ha.cf directive table. One record per directive heartbeat 3.0.6 accepts: how
// parse_config() reads its value, the fixed default init_config() records, and the checks
// init_config() runs once the whole file is read (heartbeat/config.c).
//
// Pure: no file system, no network. hacf.ts walks the lines and calls these records.

import { isIPv6 } from 'node:net';
import { assert } from '../lib/assert.js';
import type { Diagnostic } from '../lib/diagnostic.js';
import { closest } from '../lib/suggest.js';
import type {
  ApiAuthConfig,
  AutoFailback,
  ClientChildConfig,
  MediumConfig,
  PingNodeConfig,
  StonithConfig,
} from './model.js';
import { uuidFromNodename } from './node-uuid.js';
import { atoi, parseBoolean, parseTime } from './values.js';

/** Position of a token: 1-based line and column. */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

/** heartbeat's MAXNODE. */
export const MAX_NODES = 100;
export const BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 460800] as const;

export const WHITESPACE = ' \t\n\r\f';
export const DELIMS = ', \t\n\r\f';

/** Syslog facility names heartbeat accepts (glibc's facilitynames, plus "none"). */
export const LOG_FACILITIES = [
  'auth',
  'authpriv',
  'cron',
  'daemon',
  'ftp',
  'kern',
  'lpr',
  'mail',
  'mark',
  'news',
  'security',
  'syslog',
  'user',
  'uucp',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
  'none',
] as const;

/**
 * Everything the directives have read so far, and the diagnostics they raised. One per
 * parse; the records below are the only writers. `undefined` means "not given": defaults
 * are applied by the checks and by hacf.ts when it builds the HaCf.
 */
export interface HaCfState {
  readonly file: string;
  readonly localNode: string;
  readonly defaultUdpPort: number;
  readonly diagnostics: Diagnostic[];
  /** What `cl_status hbparameter` reports; insertion order is the order `tsbeat check --print` keeps. */
  readonly params: Record<string, string>;
  /** Last occurrence of each directive. */
  readonly directivePos: Record<string, Pos>;
  readonly nodes: string[];
  readonly nodePos: Pos[];
  readonly media: MediumConfig[];
  readonly mediaPos: Pos[];
  readonly pingNodes: PingNodeConfig[];
  readonly pingPos: Pos[];
  readonly stonith: StonithConfig[];
  readonly stonithPos: Pos[];
  readonly clientChildren: ClientChildConfig[];
  readonly clientPos: Pos[];
  readonly apiauth: ApiAuthConfig[];
  readonly env: [string, string][];

  keepaliveMs: number | undefined;
  deadtimeMs: number | undefined;
  warntimeMs: number | undefined;
  initdeadMs: number | undefined;
  deadpingMs: number | undefined;
  udpPort: number | undefined;
  baud: number | undefined;
  baudSeen: boolean;
  autoFailback: AutoFailback | undefined;
  /** heartbeat's nice_failback global: an auto_failback boolean was seen. */
  niceFailbackSet: boolean;
  msgfmt: 'classic' | 'netstring' | undefined;
  hopfudge: number | undefined;
  hbgenmethod: 'file' | 'time' | undefined;
  maxRexmitDelayMs: number | undefined;
  compression: string | undefined;
  compressionThresholdKb: number | undefined;
  traditionalCompression: boolean | undefined;
  autojoin: 'none' | 'other' | 'any' | undefined;
  uuidfrom: 'file' | 'nodename' | undefined;
  logfile: string | undefined;
  debugfile: string | undefined;
  logfacility: string | undefined;
  useLogd: boolean | undefined;
  realtime: boolean | undefined;
  rtprio: number | undefined;
  debugLevel: number | undefined;
  coredumps: boolean | undefined;
  cluster: string | undefined;
  watchdog: string | undefined;
  pacemakerLine: Pos | undefined;
  deadpingAt: Pos | undefined;
  realtimeAt: Pos | undefined;
  rtprioAt: Pos | undefined;

  /**
   * heartbeat's bcast/ucast/serial plugins read udpport/baud once, when their first medium
   * is created: a later udpport/baud line does not change them (see bcast.c localudpport).
   */
  readonly latchedPort: Partial<Record<'bcast' | 'ucast' | 'ucast6', { port: number; at: Pos }>>;
  latchedBaud: { baud: number; at: Pos } | undefined;

  /** Values init_config() derives; set by the checks, read when the HaCf is built. */
  readonly derived: {
    warntimeMs?: number;
    initdeadMs?: number;
    deadpingMs?: number;
    noLogTarget?: boolean;
  };
}

export function newHaCfState(file: string, localNode: string, defaultUdpPort: number): HaCfState {
  return {
    file,
    localNode,
    defaultUdpPort,
    diagnostics: [],
    params: {},
    directivePos: {},
    nodes: [],
    nodePos: [],
    media: [],
    mediaPos: [],
    pingNodes: [],
    pingPos: [],
    stonith: [],
    stonithPos: [],
    clientChildren: [],
    clientPos: [],
    apiauth: [],
    env: [],
    keepaliveMs: undefined,
    deadtimeMs: undefined,
    warntimeMs: undefined,
    initdeadMs: undefined,
    deadpingMs: undefined,
    udpPort: undefined,
    baud: undefined,
    baudSeen: false,
    autoFailback: undefined,
    niceFailbackSet: false,
    msgfmt: undefined,
    hopfudge: undefined,
    hbgenmethod: undefined,
    maxRexmitDelayMs: undefined,
    compression: undefined,
    compressionThresholdKb: undefined,
    traditionalCompression: undefined,
    autojoin: undefined,
    uuidfrom: undefined,
    logfile: undefined,
    debugfile: undefined,
    logfacility: undefined,
    useLogd: undefined,
    realtime: undefined,
    rtprio: undefined,
    debugLevel: undefined,
    coredumps: undefined,
    cluster: undefined,
    watchdog: undefined,
    pacemakerLine: undefined,
    deadpingAt: undefined,
    realtimeAt: undefined,
    rtprioAt: undefined,
    latchedPort: {},
    latchedBaud: undefined,
    derived: {},
  };
}

// ---- reporting and value helpers shared by the records ----

function report(
  s: HaCfState,
  severity: 'error' | 'warning',
  at: Pos | undefined,
  message: string,
  hint?: string,
): void {
  s.diagnostics.push({
    severity,
    file: s.file,
    ...(at ? { line: at.line, col: at.col } : {}),
    message,
    ...(hint ? { hint } : {}),
  });
}

export function err(s: HaCfState, at: Pos | undefined, message: string, hint?: string): void {
  report(s, 'error', at, message, hint);
}

export function warn(s: HaCfState, at: Pos | undefined, message: string, hint?: string): void {
  report(s, 'warning', at, message, hint);
}

const keepaliveOf = (s: HaCfState): number => s.keepaliveMs ?? 1000;
const deadtimeOf = (s: HaCfState): number => s.deadtimeMs ?? 30000;
const pos = (s: HaCfState, name: string): Pos | undefined => s.directivePos[name];

function portFor(s: HaCfState, kind: 'bcast' | 'ucast' | 'ucast6', at: Pos): number {
  const latched = s.latchedPort[kind];
  if (latched) return latched.port;
  const port = s.udpPort ?? s.defaultUdpPort;
  s.latchedPort[kind] = { port, at };
  return port;
}

function addMedium(s: HaCfState, m: MediumConfig, at: Pos): void {
  s.media.push(m);
  s.mediaPos.push(at);
}

/** A time directive; `min` is the smallest accepted value in ms. */
function timeValue(s: HaCfState, name: string, value: string, at: Pos, min: number): number | undefined {
  const t = parseTime(value);
  if (!t.ok) {
    err(
      s,
      at,
      `${name}: ${t.reason}`,
      `write seconds ("${name} 2"), or milliseconds without a blank ("${name} 500ms")`,
    );
    return undefined;
  }
  if (t.ms < min) {
    err(s, at, `${name} must be ${min === 0 ? 'at least 0' : 'greater than 0'}, not "${value}"`);
    return undefined;
  }
  if (t.note) warn(s, at, `${name} "${value}": ${t.note}`);
  return t.ms;
}

function booleanValue(s: HaCfState, name: string, value: string, at: Pos): boolean | undefined {
  const b = parseBoolean(value);
  if (b === undefined) {
    err(s, at, `${name}: "${value}" is not a boolean`, 'use on/off, yes/no or true/false');
  }
  return b;
}

/** An atoi() integer; heartbeat silently reads "2x" as 2: so do we, with a warning. */
function intValue(
  s: HaCfState,
  name: string,
  value: string,
  at: Pos,
  lo: number,
  hi: number,
): number | undefined {
  const n = atoi(value);
  if (!n.exact && /^[ \t]*[+-]?\d/.test(value)) {
    warn(s, at, `${name} "${value}" is read as ${n.value}`, `write ${n.value}`);
  }
  if (!n.exact && !/^[ \t]*[+-]?\d/.test(value)) {
    err(s, at, `${name}: "${value}" is not a number`);
    return undefined;
  }
  if (n.value < lo || n.value > hi) {
    err(s, at, `${name} ${n.value} is out of range`, `use ${lo}..${hi}`);
    return undefined;
  }
  return n.value;
}

function pacemakerOnly(s: HaCfState, name: string, at: Pos): void {
  warn(s, at, `${name} only matters to Pacemaker; tsbeat manages haresources itself and ignores it`);
}

function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isClassD(text: string): boolean {
  if (!isIpv4(text)) return false;
  const first = Number(text.split('.')[0]);
  return first >= 224 && first <= 239;
}

function isIpv6Multicast(text: string): boolean {
  return /^ff[0-9a-f]{2}:/i.test(text) && text.includes(':');
}

// ---- the record shapes ----

/** A check init_config() runs after the whole file is read; INIT_CONFIG_ORDER says when. */
export type Check = (s: HaCfState) => void;

/**
 * A directive applied once per blank- or comma-separated token (heartbeat's `add_option`),
 * e.g. `keepalive 2` or `node a b c`.
 */
export interface OptionDirective {
  readonly shape: 'option';
  /** heartbeat's "record" flag: the value is what `cl_status hbparameter` returns. */
  readonly record: boolean;
  /** The value init_config() records when the directive is missing. */
  readonly default?: string;
  /** Each value is one more item (a node, a device): no "the last one wins" warning. */
  readonly repeatable?: boolean;
  /** Read one token; false when it was refused (then it is not recorded). `name` is the directive as written. */
  readonly parse: (s: HaCfState, value: string, at: Pos, name: string) => boolean;
  readonly checks?: Readonly<Record<string, Check>>;
}

/** The rest of a whole-line directive, split at blanks. */
export interface LineArgs {
  readonly name: string;
  /** The text after the directive and its delimiters, starting at column `col0`. */
  readonly rest: string;
  readonly col0: number;
  /** Where the directive starts. */
  readonly at: Pos;
  readonly toks: readonly Token[];
  /** Where token `i` starts (the directive when there is no such token). */
  readonly atTok: (i: number) => Pos;
}

/** A directive that takes the rest of the line (media with several fields, stonith, apiauth...). */
export interface LineDirective {
  readonly shape: 'line';
  readonly parse: (s: HaCfState, line: LineArgs) => void;
  readonly checks?: Readonly<Record<string, Check>>;
}

export type Directive = OptionDirective | LineDirective;

export interface Token {
  readonly text: string;
  readonly col: number;
}

/** Split `text` (starting at column `col0`) into runs of characters not in `delims`. */
export function tokens(text: string, col0: number, delims: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && delims.includes(text[i]!)) i++;
    const start = i;
    while (i < text.length && !delims.includes(text[i]!)) i++;
    if (i > start) out.push({ text: text.slice(start, i), col: col0 + start });
  }
  return out;
}

// ---- records shared by more than one directive name ----

function timeDirective(
  set: (s: HaCfState, ms: number, at: Pos) => void,
  min: number,
  extra: Omit<OptionDirective, 'shape' | 'record' | 'parse'> = {},
): OptionDirective {
  return {
    shape: 'option',
    record: true,
    ...extra,
    parse: (s, value, at, name) => {
      const v = timeValue(s, name, value, at, min);
      if (v === undefined) return false;
      set(s, v, at);
      return true;
    },
  };
}

function pacemakerRecord(): OptionDirective {
  return {
    shape: 'option',
    record: true,
    default: 'on',
    parse: (s, value, at, name) => {
      if (booleanValue(s, name, value, at) === undefined) return false;
      pacemakerOnly(s, name, at);
      return true;
    },
  };
}

const pacemakerSwitch = (record: boolean, def?: string): OptionDirective => ({
  shape: 'option',
  record,
  ...(def !== undefined ? { default: def } : {}),
  parse: (s, value, at, name) => {
    if (s.pacemakerLine) {
      err(s, at, `pacemaker/crm given twice (first on line ${s.pacemakerLine.line})`, 'keep one line');
      return false;
    }
    s.pacemakerLine = at;
    const lower = value.toLowerCase();
    const b = parseBoolean(value);
    if (b === false) {
      s.params['pacemaker'] = value; // `crm` is an alias: heartbeat records it as pacemaker
      return true;
    }
    if (b === true || ['respawn', 'minimal', 'manual', 'valgrind', 'ccm-only'].includes(lower)) {
      err(
        s,
        at,
        `${name} ${value}: tsbeat runs heartbeat's own resource manager (haresources), not Pacemaker`,
        `set "${name} off", or run Pacemaker with corosync instead`,
      );
      return false;
    }
    err(s, at, `${name}: "${value}" is not a valid value`, 'use off (tsbeat manages haresources)');
    return false;
  },
});

const pingRecord: OptionDirective = {
  shape: 'option',
  record: false,
  repeatable: true,
  parse: (s, value, at, name) => {
    const kind = name as 'ping' | 'ping6';
    s.pingNodes.push({ kind, host: value });
    s.pingPos.push(at);
    return true;
  },
};

const mcastRecord: LineDirective = {
  shape: 'line',
  parse: (s, { name, at, toks, atTok }) => {
    if (toks.length === 0) {
      // heartbeat: mcast without a device is silently no medium; mcast6 refuses it.
      if (name === 'mcast6')
        err(s, at, 'mcast6 needs a device', 'syntax: mcast6 DEVICE GROUP PORT HOPS LOOP');
      return;
    }
    const [dev, group, port, ttl, loop] = toks.map((t) => t.text);
    const six = name === 'mcast6';
    const usage = `${name} DEVICE GROUP PORT ${six ? 'HOPS' : 'TTL'} LOOP, e.g. "${six ? 'mcast6 eth0 ff02::694 694 1 0' : 'mcast eth0 239.0.0.1 694 1 0'}"`;
    if (group === undefined) return err(s, at, `${name} ${dev}: missing multicast group`, usage);
    if (six ? !isIpv6Multicast(group) : !isClassD(group)) {
      return err(
        s,
        atTok(1),
        `${name} ${dev}: "${group}" is not a multicast address`,
        six ? 'IPv6 multicast groups start with ff' : 'use 224.0.0.0 to 239.255.255.255',
      );
    }
    if (port === undefined) return err(s, at, `${name} ${dev}: missing port`, usage);
    const p = atoi(port);
    if (!p.exact || p.value <= 0 || p.value > 65535)
      return err(s, atTok(2), `${name} ${dev}: bad port "${port}"`, 'use 1..65535');
    if (ttl === undefined) return err(s, at, `${name} ${dev}: missing ${six ? 'hops' : 'ttl'}`, usage);
    const t = atoi(ttl);
    const maxTtl = 4; // heartbeat refuses more, for mcast hops (mcast6.c) as for ttl (mcast.c)
    if (!t.exact || t.value < 0 || t.value > maxTtl) {
      return err(
        s,
        atTok(3),
        `${name} ${dev}: bad ${six ? 'hops' : 'ttl'} "${ttl}"`,
        `heartbeat accepts 0..${maxTtl}`,
      );
    }
    if (loop === undefined) return err(s, at, `${name} ${dev}: missing loop`, usage);
    const l = atoi(loop);
    if (!l.exact || (l.value !== 0 && l.value !== 1))
      return err(s, atTok(4), `${name} ${dev}: bad loop "${loop}"`, 'use 0 or 1');
    if (toks.length > 5) warn(s, atTok(5), `${name}: text after the loop flag is ignored`);
    if (six) {
      addMedium(
        s,
        { kind: 'mcast6', dev: dev!, group, port: p.value, hops: t.value, loop: l.value === 1 },
        at,
      );
    } else {
      addMedium(s, { kind: 'mcast', dev: dev!, group, port: p.value, ttl: t.value, loop: l.value === 1 }, at);
    }
  },
};

const ucastRecord: LineDirective = {
  shape: 'line',
  parse: (s, { name, at, toks, atTok }) => {
    const kind = name as 'ucast' | 'ucast6';
    if (toks.length === 0) {
      return err(
        s,
        at,
        `${kind} needs a device and a peer address`,
        `e.g. "${kind} eth0 ${kind === 'ucast' ? '10.0.0.2' : 'fe80::2'}"`,
      );
    }
    const dev = toks[0]!.text;
    const peer = toks[1]?.text;
    if (peer === undefined) {
      return err(
        s,
        at,
        `${kind} ${dev}: missing peer address or host name`,
        `e.g. "${kind} ${dev} ${kind === 'ucast' ? '10.0.0.2' : 'fe80::2'}"`,
      );
    }
    if (toks.length > 2)
      warn(
        s,
        atTok(2),
        `${kind}: one peer per line; "${toks[2]!.text}" is ignored`,
        `add another "${kind} ${dev} PEER" line`,
      );
    addMedium(s, { kind, dev, peer, port: portFor(s, kind, at) }, at);
    if (kind === 'ucast6' && !isIPv6(peer))
      err(
        s,
        at,
        `ucast6 ${dev}: tsbeat needs the peer as an IPv6 address, not "${peer}"`,
        `write the address, e.g. "ucast6 ${dev} fe80::2"`,
      );
  },
};

const clientChildRecord: LineDirective = {
  shape: 'line',
  parse: (s, { name, at, toks, atTok }) => {
    if (toks.length < 2) {
      return err(
        s,
        at,
        `${name} needs a user and an absolute command path`,
        `e.g. "${name} hacluster /usr/lib/heartbeat/ipfail"`,
      );
    }
    const command = toks[1]!.text;
    if (!command.startsWith('/')) {
      return err(s, atTok(1), `${name}: command "${command}" is not an absolute path`);
    }
    s.clientChildren.push({
      failfast: name === 'failfast',
      user: toks[0]!.text,
      command,
      args: toks.slice(2).map((t) => t.text),
    });
    s.clientPos.push(at);
    // ipfail is built in (src/ping/ipfail.ts); respawn runs the others (src/respawn/);
    // failfast (reboot on an abnormal exit) is not run.
    if (/(^|\/)ipfail$/.test(command) || name === 'respawn') return;
    warn(
      s,
      at,
      `${name}: tsbeat does not run failfast clients (their death would reboot the machine); "${command}" will not be started`,
      `use "respawn ${toks[0]!.text} ${command}" to have it run and restarted`,
    );
  },
};

// ---- the table ----

/**
 * Every directive heartbeat 3.0.6 (Debian build) accepts, in the order of its option table
 * (config.c `WLdirectives` / `Directives`) as tsbeat has always listed them: the fixed
 * defaults are recorded in this order, which is the order `cl_status hbparameter` and
 * `tsbeat check --print` see.
 */
export const DIRECTIVES = {
  cluster: {
    shape: 'option',
    record: true,
    default: 'linux-ha',
    parse: (s, value) => {
      s.cluster = value;
      return true;
    },
  },
  node: {
    shape: 'option',
    record: false,
    repeatable: true,
    parse: (s, value, at) => {
      const node = value.toLowerCase();
      if (value.length > 100) {
        err(s, at, `node name "${value}" is longer than 100 characters`);
        return false;
      }
      if (s.nodes.includes(node)) {
        warn(s, at, `node "${node}" is listed twice`, 'remove the duplicate');
        return true;
      }
      if (s.nodes.length >= MAX_NODES) {
        err(s, at, `too many nodes (heartbeat allows ${MAX_NODES})`);
        return false;
      }
      s.nodes.push(node);
      s.nodePos.push(at);
      return true;
    },
    checks: {
      present: (s) => {
        if (s.nodes.length === 0 && s.pingNodes.length === 0 && s.autojoin !== 'any') {
          err(
            s,
            undefined,
            'no nodes defined',
            'add one "node NAME" line per cluster member; NAME is what `uname -n` prints on it',
          );
        }
      },
    },
  },
  hopfudge: {
    shape: 'option',
    record: true,
    default: '1',
    parse: (s, value, at) => {
      const v = intValue(s, 'hopfudge', value, at, 0, 255);
      if (v === undefined) return false;
      s.hopfudge = v;
      return true;
    },
  },
  keepalive: timeDirective(
    (s, ms) => {
      s.keepaliveMs = ms;
    },
    1,
    { default: '1000ms' },
  ),
  deadtime: timeDirective(
    (s, ms) => {
      s.deadtimeMs = ms;
    },
    0,
    {
      default: '30000ms',
      checks: {
        aboveTwiceKeepalive: (s) => {
          const deadtime = deadtimeOf(s);
          const keepalive = keepaliveOf(s);
          if (deadtime <= 2 * keepalive) {
            err(
              s,
              pos(s, 'deadtime') ?? pos(s, 'keepalive'),
              `deadtime ${deadtime} ms is too small compared to keepalive ${keepalive} ms`,
              'deadtime must be more than twice keepalive; 4x or more is usual',
            );
          }
        },
      },
    },
  ),
  deadping: timeDirective(
    (s, ms, at) => {
      s.deadpingMs = ms;
      s.deadpingAt = at;
    },
    0,
    {
      checks: {
        defaultOrAboveTwiceKeepalive: (s) => {
          let deadping = s.deadpingMs;
          if (deadping === undefined) {
            deadping = deadtimeOf(s);
            s.params['deadping'] = `${deadping}ms`;
          } else if (deadping <= 2 * keepaliveOf(s)) {
            err(
              s,
              pos(s, 'deadping'),
              `deadping ${deadping} ms is too small compared to keepalive ${keepaliveOf(s)} ms`,
              'deadping must be more than twice keepalive',
            );
          }
          s.derived.deadpingMs = deadping;
        },
        noEffect: (s) => {
          if (s.deadpingAt && s.pingNodes.length === 0) {
            warn(s, s.deadpingAt, 'deadping has no effect: there are no ping nodes');
          }
        },
      },
    },
  ),
  initdead: timeDirective(
    (s, ms) => {
      s.initdeadMs = ms;
    },
    0,
    {
      checks: {
        defaultAndAtLeastDeadtime: (s) => {
          const deadtime = deadtimeOf(s);
          let initdead = s.initdeadMs;
          if (initdead === undefined) {
            initdead = deadtime > 10000 ? deadtime : deadtime < 6000 ? 12000 : 2 * deadtime;
            s.params['initdead'] = `${initdead}ms`;
          }
          if (initdead < deadtime) {
            err(
              s,
              pos(s, 'initdead'),
              `initdead ${initdead} ms is smaller than deadtime ${deadtime} ms`,
              'initdead must be at least deadtime',
            );
          } else if (initdead < 10000) {
            warn(
              s,
              pos(s, 'initdead'),
              `initdead ${initdead} ms may be too small`,
              'initdead covers slow network start-up; it should be at least deadtime and at least 10 seconds',
            );
          }
          s.derived.initdeadMs = initdead;
        },
      },
    },
  ),
  warntime: timeDirective(
    (s, ms) => {
      s.warntimeMs = ms;
    },
    1,
    {
      checks: {
        defaultHalfDeadtime: (s) => {
          let warntime = s.warntimeMs;
          if (warntime === undefined) {
            warntime = Math.trunc(deadtimeOf(s) / 2);
            s.params['warntime'] = `${warntime}ms`;
          }
          s.derived.warntimeMs = warntime;
        },
        belowDeadtime: (s) => {
          const deadtime = deadtimeOf(s);
          if (s.warntimeMs !== undefined && s.warntimeMs >= deadtime) {
            warn(
              s,
              pos(s, 'warntime'),
              `warntime ${s.warntimeMs} ms is not below deadtime ${deadtime} ms, so "Late heartbeat" warnings can never appear`,
              'set warntime between keepalive and deadtime',
            );
          }
        },
      },
    },
  ),
  watchdog: {
    shape: 'option',
    record: true,
    parse: (s, value, at) => {
      if (s.watchdog !== undefined) {
        err(s, at, 'watchdog device given twice', 'keep one watchdog line');
        return false;
      }
      s.watchdog = value;
      return true;
    },
  },
  baud: {
    shape: 'option',
    record: true,
    default: '19200',
    parse: (s, value, at) => {
      if (s.baudSeen) {
        err(s, at, 'baud given twice', 'heartbeat refuses a second baud line; keep one');
        return false;
      }
      s.baudSeen = true;
      const n = atoi(value);
      if (!n.exact || !(BAUD_RATES as readonly number[]).includes(n.value)) {
        err(s, at, `invalid baud rate "${value}"`, `use one of ${BAUD_RATES.join(', ')}`);
        return false;
      }
      s.baud = n.value;
      if (s.latchedBaud) {
        warn(
          s,
          at,
          `baud ${value} comes after the serial line on line ${s.latchedBaud.at.line}, which already uses ${s.latchedBaud.baud}`,
          'heartbeat reads baud when it meets the first serial line: move baud above the media lines',
        );
      }
      return true;
    },
  },
  udpport: {
    shape: 'option',
    record: true,
    parse: (s, value, at) => {
      const n = atoi(value);
      if (n.value <= 0 || !/^[ \t]*[+-]?\d/.test(value)) {
        err(s, at, `invalid udpport "${value}"`, 'use a port number such as 694');
        return false;
      }
      if (n.value > 65535) {
        err(s, at, `udpport ${n.value} is out of range`, 'use 1..65535');
        return false;
      }
      if (!n.exact) warn(s, at, `udpport "${value}" is read as ${n.value}`, `write ${n.value}`);
      s.udpPort = n.value;
      for (const kind of ['bcast', 'ucast', 'ucast6'] as const) {
        const l = s.latchedPort[kind];
        if (l && l.port !== n.value) {
          warn(
            s,
            at,
            `udpport ${n.value} comes after the ${kind} line on line ${l.at.line}: heartbeat keeps port ${l.port} for every ${kind} medium`,
            'move udpport above the media lines',
          );
        }
      }
      return true;
    },
    checks: {
      default: (s) => {
        if (s.params['udpport'] === undefined) s.params['udpport'] = String(s.defaultUdpPort);
      },
    },
  },
  logfacility: {
    shape: 'option',
    record: true,
    parse: (s, value, at) => {
      if (!(LOG_FACILITIES as readonly string[]).includes(value)) {
        const guess = closest(value, LOG_FACILITIES);
        err(
          s,
          at,
          `unknown log facility "${value}"`,
          guess ? `did you mean "${guess}"?` : 'use daemon, local0..local7, or none',
        );
        return false;
      }
      s.logfacility = value;
      return true;
    },
    checks: {
      syslogOnly: (s) => {
        if (s.logfacility !== undefined && s.logfacility !== 'none') {
          // heartbeat: syslog only, so the files are explicitly /dev/null.
          if (s.logfile === undefined) s.params['logfile'] = s.logfile = '/dev/null';
          if (s.debugfile === undefined) s.params['debugfile'] = s.debugfile = '/dev/null';
        }
      },
    },
  },
  logfile: {
    shape: 'option',
    record: true,
    parse: (s, value) => {
      s.logfile = value;
      return true;
    },
  },
  debugfile: {
    shape: 'option',
    record: true,
    parse: (s, value) => {
      s.debugfile = value;
      return true;
    },
  },
  nice_failback: {
    shape: 'option',
    record: false,
    parse: (s, value, at) => {
      const b = parseBoolean(value);
      if (b === undefined) {
        err(
          s,
          at,
          `nice_failback: "${value}" is not a boolean`,
          'replace the line with "auto_failback on" (or off)',
        );
        return false;
      }
      if (s.niceFailbackSet) {
        s.autoFailback = 'off';
        warn(
          s,
          at,
          `nice_failback is obsolete: "nice_failback ${value}" is read as "auto_failback off"`,
          'write "auto_failback off"',
        );
      } else {
        s.autoFailback = 'legacy';
        warn(
          s,
          at,
          `nice_failback is obsolete: "nice_failback ${value}" is read as "auto_failback legacy"`,
          'write "auto_failback on" (or off) to get hb_standby and the modern failback protocol',
        );
      }
      return true;
    },
  },
  auto_failback: {
    shape: 'option',
    record: true,
    default: 'legacy',
    parse: (s, value, at) => {
      const b = parseBoolean(value);
      if (b !== undefined) {
        s.autoFailback = b ? 'on' : 'off';
        s.niceFailbackSet = true;
        return true;
      }
      if (value.toLowerCase() === 'legacy') {
        s.autoFailback = 'legacy';
        s.niceFailbackSet = false;
        return true;
      }
      err(s, at, `auto_failback: "${value}" is not on, off or legacy`);
      return false;
    },
    checks: {
      legacyWarning: (s) => {
        if ((s.autoFailback ?? 'legacy') === 'legacy') {
          warn(
            s,
            pos(s, 'auto_failback') ?? pos(s, 'nice_failback'),
            `auto_failback is "legacy"${s.autoFailback === undefined ? ' (the default when the line is missing)' : ''}: hb_standby and hb_takeover do not work in this mode`,
            'write "auto_failback on" to bring groups back to their home node, or "auto_failback off"',
          );
        }
      },
    },
  },
  rtprio: {
    shape: 'option',
    record: true,
    parse: (s, value, at) => {
      const v = intValue(s, 'rtprio', value, at, 1, 99);
      if (v === undefined) return false;
      s.rtprio = v;
      s.rtprioAt = at;
      return true;
    },
  },
  hbgenmethod: {
    shape: 'option',
    record: true,
    default: 'file',
    parse: (s, value, at) => {
      if (value !== 'file' && value !== 'time') {
        err(s, at, `hbgenmethod "${value}" is not file or time`);
        return false;
      }
      s.hbgenmethod = value;
      return true;
    },
  },
  realtime: {
    shape: 'option',
    record: true,
    default: 'true',
    parse: (s, value, at) => {
      const b = booleanValue(s, 'realtime', value, at);
      if (b === undefined) return false;
      s.realtime = b;
      s.realtimeAt = at;
      return true;
    },
    checks: {
      noMemoryLock: (s) => {
        const rt = s.realtime ?? true;
        if (rt && (s.realtimeAt || s.rtprioAt)) {
          warn(
            s,
            s.realtimeAt ?? s.rtprioAt,
            `realtime: tsbeat runs at SCHED_RR priority ${s.rtprio ?? 1} as heartbeat does, but cannot lock its memory (Node has no mlockall)`,
            'see ha.cf(5) for what tsbeat does instead',
          );
        } else if (!rt && s.rtprioAt) {
          warn(s, s.rtprioAt, `rtprio ${s.rtprio} has no effect: realtime is off`);
        }
      },
    },
  },
  debug: {
    shape: 'option',
    record: true,
    parse: (s, value, at) => {
      const v = intValue(s, 'debug', value, at, 0, 255);
      if (v === undefined) return false;
      s.debugLevel = v;
      return true;
    },
  },
  msgfmt: {
    shape: 'option',
    record: true,
    default: 'classic',
    parse: (s, value, at) => {
      if (value !== 'classic' && value !== 'netstring') {
        err(s, at, `msgfmt "${value}" is not classic or netstring`);
        return false;
      }
      s.msgfmt = value;
      return true;
    },
  },
  use_logd: {
    shape: 'option',
    record: true,
    parse: (s, value, at) => {
      const b = booleanValue(s, 'use_logd', value, at);
      if (b === undefined) return false;
      s.useLogd = b;
      return true;
    },
    checks: {
      // check_logd_usage(): tsbeat has no ha_logd; what heartbeat refuses, we refuse.
      logTarget: (s) => {
        const noLogTarget =
          s.logfile === undefined &&
          s.debugfile === undefined &&
          (s.logfacility === undefined || s.logfacility === 'none');
        s.derived.noLogTarget = noLogTarget;
        if (noLogTarget) {
          if (s.useLogd === false) {
            err(
              s,
              pos(s, 'use_logd'),
              'no logfile, debugfile or logfacility, and use_logd is off: nothing would be logged',
              'add "logfacility daemon" or "logfile /var/log/ha-log"',
            );
          } else {
            if (s.useLogd === undefined) s.params['use_logd'] = 'yes';
            warn(
              s,
              pos(s, 'use_logd'),
              'no logfile, debugfile or logfacility: tsbeat has no ha_logd and logs to standard output (the journal)',
              'add "logfacility daemon" or "logfile /var/log/ha-log"',
            );
          }
        } else if (s.useLogd === true) {
          warn(
            s,
            pos(s, 'use_logd'),
            'use_logd is on: tsbeat has no ha_logd and writes the configured logfile/debugfile/logfacility itself',
          );
        }
      },
    },
  },
  conn_logd_time: {
    shape: 'option',
    record: true,
    default: '60',
    parse: (s, value, at) => {
      if (timeValue(s, 'conn_logd_time', value, at, 1) === undefined) return false;
      warn(s, at, 'conn_logd_time: tsbeat has no ha_logd to reconnect to; this line has no effect');
      return true;
    },
  },
  use_apphbd: {
    shape: 'option',
    record: false,
    parse: (s, value, at) => {
      const b = booleanValue(s, 'use_apphbd', value, at);
      if (b === undefined) return false;
      if (b) warn(s, at, 'use_apphbd: tsbeat does not register with apphbd; this line is ignored');
      return true;
    },
  },
  log_badpack: {
    shape: 'option',
    record: true,
    default: 'true',
    parse: (s, value, at) => {
      const b = booleanValue(s, 'log_badpack', value, at);
      if (b === undefined) return false;
      if (!b) {
        warn(
          s,
          at,
          'log_badpack off: tsbeat logs rejected packets anyway, rate-limited to one line per source and reason every 10 s',
        );
      }
      return true;
    },
  },
  syslogmsgfmt: {
    shape: 'option',
    record: true,
    default: 'true',
    parse: (s, value, at) => booleanValue(s, 'syslogmsgfmt', value, at) !== undefined,
  },
  coredumps: {
    shape: 'option',
    record: true,
    default: 'true',
    parse: (s, value, at) => {
      const b = booleanValue(s, 'coredumps', value, at);
      if (b === undefined) return false;
      s.coredumps = b;
      return true;
    },
  },
  coreroot: {
    shape: 'option',
    record: true,
    parse: (s, _value, at) => {
      warn(
        s,
        at,
        'coreroot: tsbeat does not change directory for core files; kernel.core_pattern decides where they go',
        'set kernel.core_pattern (sysctl) to an absolute path, e.g. /var/lib/heartbeat/cores/core.%e.%p',
      );
      return true;
    },
  },
  crm_daemon_dir: {
    shape: 'option',
    record: true,
    parse: (s, _value, at) => {
      pacemakerOnly(s, 'crm_daemon_dir', at);
      if (s.pacemakerLine) {
        warn(
          s,
          at,
          `crm_daemon_dir must come before the pacemaker/crm line (line ${s.pacemakerLine.line}) to have any effect`,
        );
      }
      return true;
    },
  },
  crmd_spawns_pengine: {
    shape: 'option',
    record: true,
    parse: (s, _value, at) => {
      if (s.pacemakerLine) {
        err(
          s,
          at,
          `crmd_spawns_pengine must come before the pacemaker/crm line (line ${s.pacemakerLine.line})`,
          'move it up, or remove it: tsbeat ignores it',
        );
        return false;
      }
      pacemakerOnly(s, 'crmd_spawns_pengine', at);
      return true;
    },
  },
  crm: pacemakerSwitch(false),
  pacemaker: pacemakerSwitch(true, 'false'),
  autojoin: {
    shape: 'option',
    record: true,
    default: 'none',
    parse: (s, value, at) => {
      const lower = value.toLowerCase();
      if (lower !== 'none' && lower !== 'other' && lower !== 'any') {
        err(s, at, `autojoin "${value}" is not none, other or any`);
        return false;
      }
      s.autojoin = lower;
      return true;
    },
    checks: {
      notWithHaresources: (s) => {
        if (s.autojoin === 'other' || s.autojoin === 'any') {
          err(
            s,
            pos(s, 'autojoin'),
            `autojoin ${s.autojoin} conflicts with haresources resource management`,
            'heartbeat 3.0.6: "R1 style resource management conflicts with autojoin set", it does not start either; remove the autojoin line (or set "autojoin none")',
          );
        }
      },
    },
  },
  uuidfrom: {
    shape: 'option',
    record: true,
    default: 'file',
    parse: (s, value, at) => {
      if (value !== 'file' && value !== 'nodename') {
        err(s, at, `uuidfrom "${value}" is not file or nodename`);
        return false;
      }
      s.uuidfrom = value;
      return true;
    },
    checks: {
      distinctUuids: (s) => {
        if ((s.uuidfrom ?? 'file') !== 'nodename') return;
        // Two names with the same derived uuid would be taken for one node by every peer.
        const seen = new Map<string, string>();
        for (const node of s.nodes) {
          const key = Buffer.from(uuidFromNodename(node)).toString('hex');
          const other = seen.get(key);
          if (other !== undefined) {
            warn(
              s,
              pos(s, 'uuidfrom'),
              `uuidfrom nodename: nodes "${other}" and "${node}" get the same uuid, so peers cannot tell them apart`,
              'use "uuidfrom file"',
            );
          }
          seen.set(key, node);
        }
      },
    },
  },
  compression: {
    shape: 'option',
    record: true,
    default: 'zlib',
    parse: (s, value, at) => {
      if (value !== 'zlib' && value !== 'bz2') {
        err(s, at, `unknown compression module "${value}"`, 'use zlib');
        return false;
      }
      s.compression = value;
      return true;
    },
    checks: {
      bz2: (s) => {
        if (s.compression !== 'bz2') return;
        warn(
          s,
          pos(s, 'compression'),
          `compression bz2: Node has no bzip2, so tsbeat sends zlib (heartbeat reads it) and cannot read bz2-compressed messages from heartbeat nodes${s.traditionalCompression ? `, which they send for every message above ${s.compressionThresholdKb ?? 2} KB (with a node list that long, tsbeat never finishes joining)` : ''}`,
          'write "compression zlib" on every node',
        );
      },
    },
  },
  compression_threshold: {
    shape: 'option',
    record: true,
    default: '2',
    parse: (s, value, at) => {
      const v = intValue(s, 'compression_threshold', value, at, 1, 1024 * 1024);
      if (v === undefined) return false;
      s.compressionThresholdKb = v;
      return true;
    },
  },
  traditional_compression: {
    shape: 'option',
    record: true,
    default: 'no',
    parse: (s, value, at) => {
      const b = booleanValue(s, 'traditional_compression', value, at);
      if (b === undefined) return false;
      s.traditionalCompression = b;
      return true;
    },
  },
  env: {
    shape: 'option',
    record: false,
    repeatable: true,
    parse: (s, value, at) => {
      const eq = value.indexOf('=');
      if (eq <= 0) {
        err(
          s,
          at,
          `env "${value}" is not NAME=VALUE`,
          'e.g. "env STOPRETRYMAX=2" exports HA_STOPRETRYMAX=2 to scripts',
        );
        return false;
      }
      s.env.push([value.slice(0, eq), value.slice(eq + 1)]);
      return true;
    },
  },
  max_rexmit_delay: {
    shape: 'option',
    record: true,
    default: '250',
    parse: (s, value, at) => {
      const v = intValue(s, 'max_rexmit_delay', value, at, 1, 3_600_000);
      if (v === undefined) return false;
      s.maxRexmitDelayMs = v;
      return true;
    },
  },
  record_config_changes: pacemakerRecord(),
  record_pengine_inputs: pacemakerRecord(),
  enable_config_writes: pacemakerRecord(),
  memreserve: {
    shape: 'option',
    record: true,
    default: '6500',
    parse: (s, value, at) => {
      if (intValue(s, 'memreserve', value, at, 1, Number.MAX_SAFE_INTEGER) === undefined) return false;
      warn(s, at, 'memreserve: tsbeat does not preallocate or lock memory; this line is ignored');
      return true;
    },
  },
  quorum_server: {
    shape: 'option',
    record: true,
    parse: (s, _value, at) => {
      warn(s, at, 'quorum_server is not used by heartbeat in haresources mode; tsbeat ignores it');
      return true;
    },
  },
  // Media plugins that take one device/host per token.
  bcast: {
    shape: 'option',
    record: false,
    repeatable: true,
    parse: (s, value, at) => {
      addMedium(s, { kind: 'bcast', dev: value, port: portFor(s, 'bcast', at) }, at);
      return true;
    },
  },
  serial: {
    shape: 'option',
    record: false,
    repeatable: true,
    parse: (s, value, at) => {
      if (!value.startsWith('/')) {
        err(s, at, `serial device "${value}" is not an absolute path`, 'write e.g. "serial /dev/ttyS0"');
        return false;
      }
      if (!s.latchedBaud) s.latchedBaud = { baud: s.baud ?? 19200, at };
      addMedium(s, { kind: 'serial', device: value, baud: s.latchedBaud.baud }, at);
      return true;
    },
  },
  ping: pingRecord,
  ping6: pingRecord,

  // ---- whole-line directives ----
  mcast: {
    ...mcastRecord,
    checks: {
      // Not mcast's alone: any media line satisfies it. It runs first, as in init_config().
      anyMedium: (s) => {
        if (s.media.length === 0) {
          err(
            s,
            undefined,
            'no heartbeat media defined',
            'add a media line, e.g. "mcast eth0 239.0.0.1 694 1 0", "bcast eth0" or "ucast eth0 PEER-IP"',
          );
        }
      },
    },
  },
  mcast6: mcastRecord,
  ucast: ucastRecord,
  ucast6: ucastRecord,
  ping_group: {
    shape: 'line',
    parse: (s, { at, toks }) => {
      if (toks.length === 0) return err(s, at, 'ping_group needs a name and at least one host');
      if (toks.length === 1) return err(s, at, `ping_group ${toks[0]!.text}: no hosts given`);
      s.pingNodes.push({ kind: 'ping_group', name: toks[0]!.text, hosts: toks.slice(1).map((t) => t.text) });
      s.pingPos.push(at);
    },
  },
  stonith: {
    shape: 'line',
    parse: (s, { at, toks }) => {
      if (toks.length === 0)
        return err(
          s,
          at,
          'stonith needs a device type and a configuration file',
          'e.g. "stonith external/ipmi /etc/ha.d/stonith.cfg"',
        );
      if (toks.length === 1) return err(s, at, `stonith ${toks[0]!.text}: missing configuration file`);
      s.stonith.push({ kind: 'stonith', type: toks[0]!.text, configFile: toks[1]!.text });
      s.stonithPos.push(at);
    },
  },
  stonith_host: {
    shape: 'line',
    parse: (s, { rest, col0, at, toks, atTok }) => {
      if (toks.length === 0) {
        return err(
          s,
          at,
          'stonith_host needs a node (or *), a device type and its parameters',
          'e.g. "stonith_host * null node1 node2"',
        );
      }
      const from = toks[0]!.text.toLowerCase();
      // heartbeat ignores, even when invalid, a line meant for another node.
      if (from !== '*' && from !== s.localNode) return;
      if (toks.length === 1) return err(s, at, `stonith_host ${toks[0]!.text}: missing device type`);
      if (toks.length === 2) {
        return err(
          s,
          atTok(1),
          `stonith_host: device ${toks[1]!.text} has no parameters`,
          `"stonith -t ${toks[1]!.text} -n" lists them`,
        );
      }
      // The last parameter swallows the rest of the line, as in heartbeat.
      const params = rest.slice(toks[2]!.col - col0).trim();
      s.stonith.push({ kind: 'stonith_host', from, type: toks[1]!.text, params });
      s.stonithPos.push(at);
    },
  },
  apiauth: {
    shape: 'line',
    parse: (s, { at, toks }) => {
      const bad = (why: string): void =>
        err(s, at, `apiauth: ${why}`, 'syntax: apiauth CLIENT uid=USER[,USER] and/or gid=GROUP[,GROUP]');
      if (toks.length === 0) return bad('missing client name');
      const client = toks[0]!.text;
      let uids: string[] | undefined;
      let gids: string[] | undefined;
      for (const t of toks.slice(1)) {
        if (t.text.startsWith('uid=')) {
          if (uids) return bad(`${client}: uid= given twice`);
          uids = t.text.slice(4).split(',').filter(Boolean);
        } else if (t.text.startsWith('gid=')) {
          if (gids) return bad(`${client}: gid= given twice`);
          gids = t.text.slice(4).split(',').filter(Boolean);
        } else {
          return bad(`${client}: "${t.text}" is neither uid= nor gid=`);
        }
      }
      if (!uids && !gids) return bad(`${client}: give uid= or gid=`);
      if (s.apiauth.some((a) => a.client === client)) return bad(`${client} is given twice`);
      s.apiauth.push({ client, uids: uids ?? [], gids: gids ?? [] });
      if (client === 'ipfail') {
        warn(
          s,
          at,
          'apiauth ipfail: ipfail is built into tsbeat and uses no client API; this line has no effect',
        );
        return;
      }
      if (client !== 'anon') {
        warn(
          s,
          at,
          `apiauth ${client}: tsbeat does not serve heartbeat's client API (programs linked with libhbclient cannot sign on); it opens a client socket per listed user and group, for "tsbeat signon ${client}"`,
          'tsbeat signon CLIENT -- PROGRAM keeps PROGRAM signed on (cl_status clientstatus); see tsbeat(8)',
        );
        return;
      }
      const ignored = [
        ...(uids ?? []).map((u) => `uid=${u}`),
        ...(gids ?? []).slice(1).map((g) => `gid=${g}`),
      ];
      const group = gids?.[0];
      if (ignored.length > 0) {
        warn(
          s,
          at,
          `apiauth anon: tsbeat opens its control socket to root${group !== undefined ? ` and group ${group}` : ''} only; not honoured: ${ignored.join(', ')}`,
          'every user may read status (cl_status); put operators into that group for hb_standby and hb_takeover',
        );
      }
    },
  },
  respawn: clientChildRecord,
  failfast: clientChildRecord,
} as const satisfies Record<string, Directive>;

export type DirectiveName = keyof typeof DIRECTIVES;

/** Directive names as the table lists them (option directives first). */
export const DIRECTIVE_NAMES = Object.keys(DIRECTIVES) as DirectiveName[];

/** The table as a plain lookup, for names read from a file. */
export function directive(name: string): Directive | undefined {
  return Object.hasOwn(DIRECTIVES, name) ? (DIRECTIVES as Record<string, Directive>)[name] : undefined;
}

/**
 * The order in which init_config() derives defaults and runs its cross-directive checks. The
 * diagnostics come out in this order and the derived values enter `params` in this order,
 * so it is part of tsbeat's observable behaviour (`tsbeat check`, `cl_status hbparameter`).
 */
export const INIT_CONFIG_ORDER = [
  ['mcast', 'anyMedium'],
  ['warntime', 'defaultHalfDeadtime'],
  ['node', 'present'],
  ['deadtime', 'aboveTwiceKeepalive'],
  ['initdead', 'defaultAndAtLeastDeadtime'],
  ['deadping', 'defaultOrAboveTwiceKeepalive'],
  ['udpport', 'default'],
  ['warntime', 'belowDeadtime'],
  ['auto_failback', 'legacyWarning'],
  ['use_logd', 'logTarget'],
  ['logfacility', 'syslogOnly'],
  ['autojoin', 'notWithHaresources'],
  ['compression', 'bz2'],
  ['deadping', 'noEffect'],
  ['realtime', 'noMemoryLock'],
  ['uuidfrom', 'distinctUuids'],
] as const satisfies readonly (readonly [DirectiveName, string])[];

/** Every check of every record, in INIT_CONFIG_ORDER. Asserted complete at load time. */
export const INIT_CONFIG_CHECKS: readonly Check[] = INIT_CONFIG_ORDER.map(([name, check]) => {
  const c = (DIRECTIVES[name] as Directive).checks?.[check];
  assert(c !== undefined, `INIT_CONFIG_ORDER names ${name}.${check}, which the table does not have`);
  return c;
});
{
  let total = 0;
  for (const d of Object.values(DIRECTIVES) as Directive[]) total += Object.keys(d.checks ?? {}).length;
  // A record shared by two names (mcast/mcast6...) would count twice; none of those has checks.
  assert(total === INIT_CONFIG_ORDER.length, 'a directive check is missing from INIT_CONFIG_ORDER');
}
