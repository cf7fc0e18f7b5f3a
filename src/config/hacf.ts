// Part: /etc/ha.d/ha.cf -> HaCf, read the way heartbeat 3.0.6's parse_config() and
// init_config() read it (heartbeat/config.c), with every problem reported as a diagnostic.
//
// Pure: no file system, no network. Facts about the host (interfaces, devices, users) are
// checked separately in validate.ts, so this parser also works for another machine's config.

import { type Diagnostic, quote } from '../lib/diagnostic.js';
import { closest } from '../lib/suggest.js';
import type {
  ApiAuthConfig,
  AutoFailback,
  ClientChildConfig,
  HaCf,
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
/** heartbeat's MAXNODE. */
export const MAX_NODES = 100;
export const DEFAULT_UDP_PORT = 694;
export const BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 460800] as const;

const WHITESPACE = ' \t\n\r\f';
const DELIMS = ', \t\n\r\f';

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
 * Directives applied once per blank- or comma-separated token, with heartbeat's "record"
 * flag (recorded values are what `cl_status hbparameter` returns) and fixed default.
 */
const OPTION_DIRECTIVES: Readonly<Record<string, { record: boolean; default?: string }>> = {
  cluster: { record: true, default: 'linux-ha' },
  node: { record: false },
  hopfudge: { record: true, default: '1' },
  keepalive: { record: true, default: '1000ms' },
  deadtime: { record: true, default: '30000ms' },
  deadping: { record: true },
  initdead: { record: true },
  warntime: { record: true },
  watchdog: { record: true },
  baud: { record: true, default: '19200' },
  udpport: { record: true },
  logfacility: { record: true },
  logfile: { record: true },
  debugfile: { record: true },
  nice_failback: { record: false },
  auto_failback: { record: true, default: 'legacy' },
  rtprio: { record: true },
  hbgenmethod: { record: true, default: 'file' },
  realtime: { record: true, default: 'true' },
  debug: { record: true },
  msgfmt: { record: true, default: 'classic' },
  use_logd: { record: true },
  conn_logd_time: { record: true, default: '60' },
  use_apphbd: { record: false },
  log_badpack: { record: true, default: 'true' },
  syslogmsgfmt: { record: true, default: 'true' },
  coredumps: { record: true, default: 'true' },
  coreroot: { record: true },
  crm_daemon_dir: { record: true },
  crmd_spawns_pengine: { record: true },
  crm: { record: false },
  pacemaker: { record: true, default: 'false' },
  autojoin: { record: true, default: 'none' },
  uuidfrom: { record: true, default: 'file' },
  compression: { record: true, default: 'zlib' },
  compression_threshold: { record: true, default: '2' },
  traditional_compression: { record: true, default: 'no' },
  env: { record: false },
  max_rexmit_delay: { record: true, default: '250' },
  record_config_changes: { record: true, default: 'on' },
  record_pengine_inputs: { record: true, default: 'on' },
  enable_config_writes: { record: true, default: 'on' },
  memreserve: { record: true, default: '6500' },
  quorum_server: { record: true },
  // Media plugins that take one device/host per token.
  bcast: { record: false },
  serial: { record: false },
  ping: { record: false },
  ping6: { record: false },
};

/** Directives that take the rest of the line as one string. */
const WHOLE_LINE_DIRECTIVES = [
  'mcast',
  'mcast6',
  'ucast',
  'ucast6',
  'ping_group',
  'stonith',
  'stonith_host',
  'apiauth',
  'respawn',
  'failfast',
] as const;

/** Every directive name heartbeat 3.0.6 (Debian build) accepts. */
export const KNOWN_DIRECTIVES: readonly string[] = [
  ...Object.keys(OPTION_DIRECTIVES),
  ...WHOLE_LINE_DIRECTIVES,
];

interface Token {
  readonly text: string;
  readonly col: number;
}

/** Split `s` (starting at column `col0`) into runs of characters not in `delims`. */
function tokens(s: string, col0: number, delims: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && delims.includes(s[i]!)) i++;
    const start = i;
    while (i < s.length && !delims.includes(s[i]!)) i++;
    if (i > start) out.push({ text: s.slice(start, i), col: col0 + start });
  }
  return out;
}

function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isClassD(s: string): boolean {
  if (!isIpv4(s)) return false;
  const first = Number(s.split('.')[0]);
  return first >= 224 && first <= 239;
}

function isIpv6Multicast(s: string): boolean {
  return /^ff[0-9a-f]{2}:/i.test(s) && s.includes(':');
}

/** Parse ha.cf text. Never throws; every problem becomes a diagnostic. */
export function parseHaCf(text: string, opts: HaCfParseOptions): HaCfResult {
  const file = opts.file;
  const diagnostics: Diagnostic[] = [];
  const report = (
    severity: 'error' | 'warning',
    at: Pos | undefined,
    message: string,
    hint?: string,
  ): void => {
    diagnostics.push({
      severity,
      file,
      ...(at ? { line: at.line, col: at.col } : {}),
      message,
      ...(hint ? { hint } : {}),
    });
  };
  const err = (at: Pos | undefined, message: string, hint?: string): void =>
    report('error', at, message, hint);
  const warn = (at: Pos | undefined, message: string, hint?: string): void =>
    report('warning', at, message, hint);

  const defaultUdpPort = opts.defaultUdpPort ?? DEFAULT_UDP_PORT;
  const params: Record<string, string> = {};
  const directivePos: Record<string, Pos> = {};
  const nodes: string[] = [];
  const nodePos: Pos[] = [];
  const media: MediumConfig[] = [];
  const mediaPos: Pos[] = [];
  const pingNodes: PingNodeConfig[] = [];
  const pingPos: Pos[] = [];
  const stonith: StonithConfig[] = [];
  const stonithPos: Pos[] = [];
  const clientChildren: ClientChildConfig[] = [];
  const clientPos: Pos[] = [];
  const apiauth: ApiAuthConfig[] = [];
  const env: [string, string][] = [];

  // Values set by directives; undefined means "not given", defaults come after parsing.
  let keepaliveMs: number | undefined;
  let deadtimeMs: number | undefined;
  let warntimeMs: number | undefined;
  let initdeadMs: number | undefined;
  let deadpingMs: number | undefined;
  let udpPort: number | undefined;
  let baud: number | undefined;
  let baudSeen = false;
  let autoFailback: AutoFailback | undefined;
  let niceFailbackSet = false; // heartbeat's nice_failback global: an auto_failback boolean was seen
  let msgfmt: 'classic' | 'netstring' | undefined;
  let hopfudge: number | undefined;
  let hbgenmethod: 'file' | 'time' | undefined;
  let maxRexmitDelayMs: number | undefined;
  let compression: string | undefined;
  let compressionThresholdKb: number | undefined;
  let traditionalCompression: boolean | undefined;
  let autojoin: 'none' | 'other' | 'any' | undefined;
  let uuidfrom: 'file' | 'nodename' | undefined;
  let logfile: string | undefined;
  let debugfile: string | undefined;
  let logfacility: string | undefined;
  let useLogd: boolean | undefined;
  let realtime: boolean | undefined;
  let rtprio: number | undefined;
  let debugLevel: number | undefined;
  let coredumps: boolean | undefined;
  let cluster: string | undefined;
  let watchdog: string | undefined;
  let pacemakerLine: Pos | undefined;

  // heartbeat's bcast/ucast/serial plugins read udpport/baud once, when their first medium
  // is created: a later udpport/baud line does not change them (see bcast.c localudpport).
  const latchedPort: Partial<Record<'bcast' | 'ucast' | 'ucast6', { port: number; at: Pos }>> = {};
  let latchedBaud: { baud: number; at: Pos } | undefined;

  const currentUdpPort = (): number => udpPort ?? defaultUdpPort;
  const portFor = (kind: 'bcast' | 'ucast' | 'ucast6', at: Pos): number => {
    const latched = latchedPort[kind];
    if (latched) return latched.port;
    const port = currentUdpPort();
    latchedPort[kind] = { port, at };
    return port;
  };

  const addMedium = (m: MediumConfig, at: Pos): void => {
    media.push(m);
    mediaPos.push(at);
  };

  /** A time directive; `min` is the smallest accepted value in ms. */
  const timeValue = (name: string, value: string, at: Pos, min: number): number | undefined => {
    const t = parseTime(value);
    if (!t.ok) {
      err(
        at,
        `${name}: ${t.reason}`,
        `write seconds ("${name} 2"), or milliseconds without a blank ("${name} 500ms")`,
      );
      return undefined;
    }
    if (t.ms < min) {
      err(at, `${name} must be ${min === 0 ? 'at least 0' : 'greater than 0'}, not "${value}"`);
      return undefined;
    }
    if (t.note) warn(at, `${name} "${value}": ${t.note}`);
    return t.ms;
  };

  const booleanValue = (name: string, value: string, at: Pos): boolean | undefined => {
    const b = parseBoolean(value);
    if (b === undefined) {
      err(at, `${name}: "${value}" is not a boolean`, 'use on/off, yes/no or true/false');
    }
    return b;
  };

  /** An atoi() integer; heartbeat silently reads "2x" as 2: so do we, with a warning. */
  const intValue = (name: string, value: string, at: Pos, lo: number, hi: number): number | undefined => {
    const n = atoi(value);
    if (!n.exact && /^[ \t]*[+-]?\d/.test(value)) {
      warn(at, `${name} "${value}" is read as ${n.value}`, `write ${n.value}`);
    }
    if (!n.exact && !/^[ \t]*[+-]?\d/.test(value)) {
      err(at, `${name}: "${value}" is not a number`);
      return undefined;
    }
    if (n.value < lo || n.value > hi) {
      err(at, `${name} ${n.value} is out of range`, `use ${lo}..${hi}`);
      return undefined;
    }
    return n.value;
  };

  const pacemakerOnly = (name: string, at: Pos): void => {
    warn(at, `${name} only matters to Pacemaker; tsbeat manages haresources itself and ignores it`);
  };
  // Ping nodes: heartbeat watches them (for ipfail); tsbeat does not yet. One warning per line.
  const pingWarned = new Set<number>();
  const pingNotImplemented = (what: string, at: Pos): void => {
    if (pingWarned.has(at.line)) return;
    pingWarned.add(at.line);
    warn(
      at,
      `${what}: tsbeat does not implement ping nodes yet; this line is ignored (nothing is pinged, no ping node appears in cl_status)`,
      'heartbeat nodes of a mixed cluster still watch them; remove the line if every node runs tsbeat',
    );
  };
  let deadpingAt: Pos | undefined;
  let realtimeAt: Pos | undefined;
  let rtprioAt: Pos | undefined;

  /** Apply one option directive to one token. Returns whether the value was accepted. */
  const applyOption = (name: string, value: string, at: Pos): boolean => {
    switch (name) {
      case 'cluster':
        cluster = value;
        return true;
      case 'quorum_server':
        warn(at, 'quorum_server is not used by heartbeat in haresources mode; tsbeat ignores it');
        return true;
      case 'node': {
        const node = value.toLowerCase();
        if (value.length > 100) {
          err(at, `node name "${value}" is longer than 100 characters`);
          return false;
        }
        if (nodes.includes(node)) {
          warn(at, `node "${node}" is listed twice`, 'remove the duplicate');
          return true;
        }
        if (nodes.length >= MAX_NODES) {
          err(at, `too many nodes (heartbeat allows ${MAX_NODES})`);
          return false;
        }
        nodes.push(node);
        nodePos.push(at);
        return true;
      }
      case 'hopfudge': {
        const v = intValue(name, value, at, 0, 255);
        if (v === undefined) return false;
        hopfudge = v;
        return true;
      }
      case 'keepalive': {
        const v = timeValue(name, value, at, 1);
        if (v === undefined) return false;
        keepaliveMs = v;
        return true;
      }
      case 'deadtime': {
        const v = timeValue(name, value, at, 0);
        if (v === undefined) return false;
        deadtimeMs = v;
        return true;
      }
      case 'deadping': {
        const v = timeValue(name, value, at, 0);
        if (v === undefined) return false;
        deadpingMs = v;
        deadpingAt = at;
        return true;
      }
      case 'initdead': {
        const v = timeValue(name, value, at, 0);
        if (v === undefined) return false;
        initdeadMs = v;
        return true;
      }
      case 'warntime': {
        const v = timeValue(name, value, at, 1);
        if (v === undefined) return false;
        warntimeMs = v;
        return true;
      }
      case 'watchdog':
        if (watchdog !== undefined) {
          err(at, 'watchdog device given twice', 'keep one watchdog line');
          return false;
        }
        warn(at, 'watchdog: tsbeat does not tickle a watchdog device yet; this line is ignored');
        watchdog = value;
        return true;
      case 'baud': {
        if (baudSeen) {
          err(at, 'baud given twice', 'heartbeat refuses a second baud line; keep one');
          return false;
        }
        baudSeen = true;
        const n = atoi(value);
        if (!n.exact || !(BAUD_RATES as readonly number[]).includes(n.value)) {
          err(at, `invalid baud rate "${value}"`, `use one of ${BAUD_RATES.join(', ')}`);
          return false;
        }
        baud = n.value;
        if (latchedBaud) {
          warn(
            at,
            `baud ${value} comes after the serial line on line ${latchedBaud.at.line}, which already uses ${latchedBaud.baud}`,
            'heartbeat reads baud when it meets the first serial line: move baud above the media lines',
          );
        }
        return true;
      }
      case 'udpport': {
        const n = atoi(value);
        if (n.value <= 0 || !/^[ \t]*[+-]?\d/.test(value)) {
          err(at, `invalid udpport "${value}"`, 'use a port number such as 694');
          return false;
        }
        if (n.value > 65535) {
          err(at, `udpport ${n.value} is out of range`, 'use 1..65535');
          return false;
        }
        if (!n.exact) warn(at, `udpport "${value}" is read as ${n.value}`, `write ${n.value}`);
        udpPort = n.value;
        for (const kind of ['bcast', 'ucast', 'ucast6'] as const) {
          const l = latchedPort[kind];
          if (l && l.port !== n.value) {
            warn(
              at,
              `udpport ${n.value} comes after the ${kind} line on line ${l.at.line}: heartbeat keeps port ${l.port} for every ${kind} medium`,
              'move udpport above the media lines',
            );
          }
        }
        return true;
      }
      case 'logfacility':
        if (!(LOG_FACILITIES as readonly string[]).includes(value)) {
          const guess = closest(value, LOG_FACILITIES);
          err(
            at,
            `unknown log facility "${value}"`,
            guess ? `did you mean "${guess}"?` : 'use daemon, local0..local7, or none',
          );
          return false;
        }
        logfacility = value;
        return true;
      case 'logfile':
        logfile = value;
        return true;
      case 'debugfile':
        debugfile = value;
        return true;
      case 'nice_failback': {
        const b = parseBoolean(value);
        if (b === undefined) {
          err(
            at,
            `nice_failback: "${value}" is not a boolean`,
            'replace the line with "auto_failback on" (or off)',
          );
          return false;
        }
        if (niceFailbackSet) {
          autoFailback = 'off';
          warn(
            at,
            `nice_failback is obsolete: "nice_failback ${value}" is read as "auto_failback off"`,
            'write "auto_failback off"',
          );
        } else {
          autoFailback = 'legacy';
          warn(
            at,
            `nice_failback is obsolete: "nice_failback ${value}" is read as "auto_failback legacy"`,
            'write "auto_failback on" (or off) to get hb_standby and the modern failback protocol',
          );
        }
        return true;
      }
      case 'auto_failback': {
        const b = parseBoolean(value);
        if (b !== undefined) {
          autoFailback = b ? 'on' : 'off';
          niceFailbackSet = true;
          return true;
        }
        if (value.toLowerCase() === 'legacy') {
          autoFailback = 'legacy';
          niceFailbackSet = false;
          return true;
        }
        err(at, `auto_failback: "${value}" is not on, off or legacy`);
        return false;
      }
      case 'rtprio': {
        const v = intValue(name, value, at, 1, 99);
        if (v === undefined) return false;
        rtprio = v;
        rtprioAt = at;
        return true;
      }
      case 'hbgenmethod':
        if (value !== 'file' && value !== 'time') {
          err(at, `hbgenmethod "${value}" is not file or time`);
          return false;
        }
        hbgenmethod = value;
        return true;
      case 'realtime': {
        const b = booleanValue(name, value, at);
        if (b === undefined) return false;
        realtime = b;
        realtimeAt = at;
        return true;
      }
      case 'debug': {
        const v = intValue(name, value, at, 0, 255);
        if (v === undefined) return false;
        debugLevel = v;
        return true;
      }
      case 'msgfmt':
        if (value !== 'classic' && value !== 'netstring') {
          err(at, `msgfmt "${value}" is not classic or netstring`);
          return false;
        }
        msgfmt = value;
        return true;
      case 'use_logd': {
        const b = booleanValue(name, value, at);
        if (b === undefined) return false;
        useLogd = b;
        return true;
      }
      case 'conn_logd_time': {
        if (timeValue(name, value, at, 1) === undefined) return false;
        warn(at, 'conn_logd_time: tsbeat has no ha_logd to reconnect to; this line has no effect');
        return true;
      }
      case 'use_apphbd': {
        const b = booleanValue(name, value, at);
        if (b === undefined) return false;
        if (b) warn(at, 'use_apphbd: tsbeat does not register with apphbd; this line is ignored');
        return true;
      }
      case 'log_badpack': {
        const b = booleanValue(name, value, at);
        if (b === undefined) return false;
        if (!b) {
          warn(
            at,
            'log_badpack off: tsbeat logs rejected packets anyway, rate-limited to one line per source and reason every 10 s',
          );
        }
        return true;
      }
      case 'syslogmsgfmt':
        return booleanValue(name, value, at) !== undefined;
      case 'coredumps': {
        const b = booleanValue(name, value, at);
        if (b === undefined) return false;
        coredumps = b;
        return true;
      }
      case 'coreroot':
        warn(
          at,
          'coreroot: tsbeat does not change directory for core files; kernel.core_pattern decides where they go',
          'set kernel.core_pattern (sysctl) to an absolute path, e.g. /var/lib/heartbeat/cores/core.%e.%p',
        );
        return true;
      case 'crm_daemon_dir':
        pacemakerOnly(name, at);
        if (pacemakerLine) {
          warn(
            at,
            `crm_daemon_dir must come before the pacemaker/crm line (line ${pacemakerLine.line}) to have any effect`,
          );
        }
        return true;
      case 'crmd_spawns_pengine':
        if (pacemakerLine) {
          err(
            at,
            `crmd_spawns_pengine must come before the pacemaker/crm line (line ${pacemakerLine.line})`,
            'move it up, or remove it: tsbeat ignores it',
          );
          return false;
        }
        pacemakerOnly(name, at);
        return true;
      case 'record_config_changes':
      case 'record_pengine_inputs':
      case 'enable_config_writes':
        if (booleanValue(name, value, at) === undefined) return false;
        pacemakerOnly(name, at);
        return true;
      case 'crm':
      case 'pacemaker': {
        if (pacemakerLine) {
          err(at, `pacemaker/crm given twice (first on line ${pacemakerLine.line})`, 'keep one line');
          return false;
        }
        pacemakerLine = at;
        const lower = value.toLowerCase();
        const b = parseBoolean(value);
        if (b === false) {
          params['pacemaker'] = value; // `crm` is an alias: heartbeat records it as pacemaker
          return true;
        }
        if (b === true || ['respawn', 'minimal', 'manual', 'valgrind', 'ccm-only'].includes(lower)) {
          err(
            at,
            `${name} ${value}: tsbeat runs heartbeat's own resource manager (haresources), not Pacemaker`,
            `set "${name} off", or run Pacemaker with corosync instead`,
          );
          return false;
        }
        err(at, `${name}: "${value}" is not a valid value`, 'use off (tsbeat manages haresources)');
        return false;
      }
      case 'autojoin': {
        const lower = value.toLowerCase();
        if (lower !== 'none' && lower !== 'other' && lower !== 'any') {
          err(at, `autojoin "${value}" is not none, other or any`);
          return false;
        }
        autojoin = lower;
        return true;
      }
      case 'uuidfrom':
        if (value !== 'file' && value !== 'nodename') {
          err(at, `uuidfrom "${value}" is not file or nodename`);
          return false;
        }
        uuidfrom = value;
        return true;
      case 'compression':
        if (value !== 'zlib' && value !== 'bz2') {
          err(at, `unknown compression module "${value}"`, 'use zlib');
          return false;
        }
        compression = value;
        return true;
      case 'compression_threshold': {
        const v = intValue(name, value, at, 1, 1024 * 1024);
        if (v === undefined) return false;
        compressionThresholdKb = v;
        return true;
      }
      case 'traditional_compression': {
        const b = booleanValue(name, value, at);
        if (b === undefined) return false;
        traditionalCompression = b;
        return true;
      }
      case 'env': {
        const eq = value.indexOf('=');
        if (eq <= 0) {
          err(
            at,
            `env "${value}" is not NAME=VALUE`,
            'e.g. "env STOPRETRYMAX=2" exports HA_STOPRETRYMAX=2 to scripts',
          );
          return false;
        }
        env.push([value.slice(0, eq), value.slice(eq + 1)]);
        return true;
      }
      case 'max_rexmit_delay': {
        const v = intValue(name, value, at, 1, 3_600_000);
        if (v === undefined) return false;
        maxRexmitDelayMs = v;
        return true;
      }
      case 'memreserve':
        if (intValue(name, value, at, 1, Number.MAX_SAFE_INTEGER) === undefined) return false;
        warn(at, 'memreserve: tsbeat does not preallocate or lock memory; this line is ignored');
        return true;
      case 'bcast':
        addMedium({ kind: 'bcast', dev: value, port: portFor('bcast', at) }, at);
        return true;
      case 'serial': {
        if (!value.startsWith('/')) {
          err(at, `serial device "${value}" is not an absolute path`, 'write e.g. "serial /dev/ttyS0"');
          return false;
        }
        if (!latchedBaud) latchedBaud = { baud: baud ?? 19200, at };
        addMedium({ kind: 'serial', device: value, baud: latchedBaud.baud }, at);
        return true;
      }
      case 'ping':
      case 'ping6':
        pingNodes.push({ kind: name, host: value });
        pingPos.push(at);
        pingNotImplemented(name, { line: at.line, col: 1 });
        return true;
      default:
        return false;
    }
  };

  /**
   * heartbeat accepts IPv6 media; tsbeat cannot open them yet. The message is the one
   * `tsbeat start` gives (UnsupportedMediumError in daemon/media-factory.ts), so that check
   * and start agree.
   */
  const ipv6NotSupported = (kind: 'mcast6' | 'ucast6', dev: string, at: Pos): void => {
    err(
      at,
      `${kind} ${dev}: IPv6 media are not supported by tsbeat yet; use mcast, ucast or bcast`,
      'heartbeat 3.0.6 accepts this line, but tsbeat start would refuse it: replace it with an IPv4 medium',
    );
  };

  /** Whole-line media and directives. `rest` starts at column `col0`. */
  const applyWholeLine = (name: string, rest: string, col0: number, at: Pos): void => {
    const toks = tokens(rest, col0, WHITESPACE);
    const atTok = (i: number): Pos => (toks[i] ? { line: at.line, col: toks[i]!.col } : at);
    switch (name) {
      case 'mcast':
      case 'mcast6': {
        if (toks.length === 0) {
          // heartbeat: mcast without a device is silently no medium; mcast6 refuses it.
          if (name === 'mcast6')
            err(at, 'mcast6 needs a device', 'syntax: mcast6 DEVICE GROUP PORT HOPS LOOP');
          return;
        }
        const [dev, group, port, ttl, loop] = toks.map((t) => t.text);
        const six = name === 'mcast6';
        const usage = `${name} DEVICE GROUP PORT ${six ? 'HOPS' : 'TTL'} LOOP, e.g. "${six ? 'mcast6 eth0 ff02::694 694 1 0' : 'mcast eth0 239.0.0.1 694 1 0'}"`;
        if (group === undefined) return err(at, `${name} ${dev}: missing multicast group`, usage);
        if (six ? !isIpv6Multicast(group) : !isClassD(group)) {
          return err(
            atTok(1),
            `${name} ${dev}: "${group}" is not a multicast address`,
            six ? 'IPv6 multicast groups start with ff' : 'use 224.0.0.0 to 239.255.255.255',
          );
        }
        if (port === undefined) return err(at, `${name} ${dev}: missing port`, usage);
        const p = atoi(port);
        if (!p.exact || p.value <= 0 || p.value > 65535)
          return err(atTok(2), `${name} ${dev}: bad port "${port}"`, 'use 1..65535');
        if (ttl === undefined) return err(at, `${name} ${dev}: missing ${six ? 'hops' : 'ttl'}`, usage);
        const t = atoi(ttl);
        const maxTtl = 4; // heartbeat refuses more, for mcast hops (mcast6.c) as for ttl (mcast.c)
        if (!t.exact || t.value < 0 || t.value > maxTtl) {
          return err(
            atTok(3),
            `${name} ${dev}: bad ${six ? 'hops' : 'ttl'} "${ttl}"`,
            `heartbeat accepts 0..${maxTtl}`,
          );
        }
        if (loop === undefined) return err(at, `${name} ${dev}: missing loop`, usage);
        const l = atoi(loop);
        if (!l.exact || (l.value !== 0 && l.value !== 1))
          return err(atTok(4), `${name} ${dev}: bad loop "${loop}"`, 'use 0 or 1');
        if (toks.length > 5) warn(atTok(5), `${name}: text after the loop flag is ignored`);
        if (six) {
          addMedium(
            { kind: 'mcast6', dev: dev!, group, port: p.value, hops: t.value, loop: l.value === 1 },
            at,
          );
          ipv6NotSupported(name, dev!, at);
        } else {
          addMedium(
            { kind: 'mcast', dev: dev!, group, port: p.value, ttl: t.value, loop: l.value === 1 },
            at,
          );
        }
        return;
      }
      case 'ucast':
      case 'ucast6': {
        if (toks.length === 0) {
          return err(
            at,
            `${name} needs a device and a peer address`,
            `e.g. "${name} eth0 ${name === 'ucast' ? '10.0.0.2' : 'fe80::2'}"`,
          );
        }
        const dev = toks[0]!.text;
        const peer = toks[1]?.text;
        if (peer === undefined) {
          return err(
            at,
            `${name} ${dev}: missing peer address or host name`,
            `e.g. "${name} ${dev} ${name === 'ucast' ? '10.0.0.2' : 'fe80::2'}"`,
          );
        }
        if (toks.length > 2)
          warn(
            atTok(2),
            `${name}: one peer per line; "${toks[2]!.text}" is ignored`,
            `add another "${name} ${dev} PEER" line`,
          );
        const kind = name;
        addMedium({ kind, dev, peer, port: portFor(kind, at) }, at);
        if (kind === 'ucast6') ipv6NotSupported(kind, dev, at);
        return;
      }
      case 'ping_group': {
        if (toks.length === 0) return err(at, 'ping_group needs a name and at least one host');
        if (toks.length === 1) return err(at, `ping_group ${toks[0]!.text}: no hosts given`);
        pingNodes.push({ kind: 'ping_group', name: toks[0]!.text, hosts: toks.slice(1).map((t) => t.text) });
        pingPos.push(at);
        pingNotImplemented(`ping_group ${toks[0]!.text}`, at);
        return;
      }
      case 'stonith': {
        if (toks.length === 0)
          return err(
            at,
            'stonith needs a device type and a configuration file',
            'e.g. "stonith external/ipmi /etc/ha.d/stonith.cfg"',
          );
        if (toks.length === 1) return err(at, `stonith ${toks[0]!.text}: missing configuration file`);
        stonith.push({ kind: 'stonith', type: toks[0]!.text, configFile: toks[1]!.text });
        stonithPos.push(at);
        return;
      }
      case 'stonith_host': {
        if (toks.length === 0) {
          return err(
            at,
            'stonith_host needs a node (or *), a device type and its parameters',
            'e.g. "stonith_host * null node1 node2"',
          );
        }
        const from = toks[0]!.text.toLowerCase();
        // heartbeat ignores, even when invalid, a line meant for another node.
        if (from !== '*' && from !== opts.localNode) return;
        if (toks.length === 1) return err(at, `stonith_host ${toks[0]!.text}: missing device type`);
        if (toks.length === 2) {
          return err(
            atTok(1),
            `stonith_host: device ${toks[1]!.text} has no parameters`,
            `"stonith -t ${toks[1]!.text} -n" lists them`,
          );
        }
        // The last parameter swallows the rest of the line, as in heartbeat.
        const params = rest.slice(toks[2]!.col - col0).trim();
        stonith.push({ kind: 'stonith_host', from, type: toks[1]!.text, params });
        stonithPos.push(at);
        return;
      }
      case 'apiauth': {
        const bad = (why: string): void =>
          err(at, `apiauth: ${why}`, 'syntax: apiauth CLIENT uid=USER[,USER] and/or gid=GROUP[,GROUP]');
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
        if (apiauth.some((a) => a.client === client)) return bad(`${client} is given twice`);
        apiauth.push({ client, uids: uids ?? [], gids: gids ?? [] });
        if (client !== 'anon') {
          warn(
            at,
            `apiauth ${client}: tsbeat has no client API for "${client}" yet; only "anon" (cl_status, hb_standby, hb_takeover) is used`,
          );
        } else {
          const ignored = [
            ...(uids ?? []).map((u) => `uid=${u}`),
            ...(gids ?? []).slice(1).map((g) => `gid=${g}`),
          ];
          const group = gids?.[0];
          if (ignored.length > 0) {
            warn(
              at,
              `apiauth anon: tsbeat opens its control socket to root${group !== undefined ? ` and group ${group}` : ''} only; not honoured: ${ignored.join(', ')}`,
              'every user may read status (cl_status); put operators into that group for hb_standby and hb_takeover',
            );
          }
        }
        return;
      }
      case 'respawn':
      case 'failfast': {
        if (toks.length < 2) {
          return err(
            at,
            `${name} needs a user and an absolute command path`,
            `e.g. "${name} hacluster /usr/lib/heartbeat/ipfail"`,
          );
        }
        const command = toks[1]!.text;
        if (!command.startsWith('/')) {
          return err(atTok(1), `${name}: command "${command}" is not an absolute path`);
        }
        clientChildren.push({
          failfast: name === 'failfast',
          user: toks[0]!.text,
          command,
          args: toks.slice(2).map((t) => t.text),
        });
        clientPos.push(at);
        warn(at, `${name}: tsbeat does not run heartbeat API clients yet; "${command}" will not be started`);
        return;
      }
    }
  };

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!;
    if (Buffer.byteLength(line, 'utf8') > MAX_LINE_BYTES) {
      err(
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
      warn(at, 'directive "udp" is an old name for "bcast"', 'write "bcast"');
      name = 'bcast';
    }
    const isOption = Object.hasOwn(OPTION_DIRECTIVES, name);
    const isWholeLine = (WHOLE_LINE_DIRECTIVES as readonly string[]).includes(name);
    if (!isOption && !isWholeLine) {
      if (name === 'normalpoll') {
        err(at, 'directive "normalpoll" is not supported by heartbeat 3.0.6 either', 'remove the line');
        continue;
      }
      const guess = closest(name, KNOWN_DIRECTIVES);
      err(
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
    directivePos[name] = at;

    if (isWholeLine) {
      applyWholeLine(name, rest, r + 1, at);
      continue;
    }
    const values = tokens(rest, r + 1, DELIMS);
    if (values.length === 0) {
      warn(at, `${name} has no value; the line is ignored`);
      continue;
    }
    const def = OPTION_DIRECTIVES[name]!;
    for (const v of values) {
      const vat: Pos = { line: lineNo, col: v.col };
      if (applyOption(name, v.text, vat) && def.record) params[name] = v.text;
    }
    if (values.length > 1 && !['node', 'bcast', 'serial', 'ping', 'ping6', 'env'].includes(name)) {
      warn(
        at,
        `${name} is given ${values.length} values; heartbeat applies each in turn, so the last ("${values.at(-1)!.text}") wins`,
      );
    }
  }

  // ---- init_config(): fixed defaults, then derived values and cross-directive checks ----
  for (const [name, def] of Object.entries(OPTION_DIRECTIVES)) {
    if (def.default !== undefined && params[name] === undefined) params[name] = def.default;
  }
  if (params['debug'] === undefined) params['debug'] = String(debugLevel ?? 0);

  const keepalive = keepaliveMs ?? 1000;
  const deadtime = deadtimeMs ?? 30000;
  const pos = (name: string): Pos | undefined => directivePos[name];

  if (media.length === 0) {
    err(
      undefined,
      'no heartbeat media defined',
      'add a media line, e.g. "mcast eth0 239.0.0.1 694 1 0", "bcast eth0" or "ucast eth0 PEER-IP"',
    );
  }
  let warntime = warntimeMs;
  if (warntime === undefined) {
    warntime = Math.trunc(deadtime / 2);
    params['warntime'] = `${warntime}ms`;
  }
  if (nodes.length === 0 && pingNodes.length === 0 && autojoin !== 'any') {
    err(
      undefined,
      'no nodes defined',
      'add one "node NAME" line per cluster member; NAME is what `uname -n` prints on it',
    );
  }
  if (deadtime <= 2 * keepalive) {
    err(
      pos('deadtime') ?? pos('keepalive'),
      `deadtime ${deadtime} ms is too small compared to keepalive ${keepalive} ms`,
      'deadtime must be more than twice keepalive; 4x or more is usual',
    );
  }
  let initdead = initdeadMs;
  if (initdead === undefined) {
    initdead = deadtime > 10000 ? deadtime : deadtime < 6000 ? 12000 : 2 * deadtime;
    params['initdead'] = `${initdead}ms`;
  }
  if (initdead < deadtime) {
    err(
      pos('initdead'),
      `initdead ${initdead} ms is smaller than deadtime ${deadtime} ms`,
      'initdead must be at least deadtime',
    );
  } else if (initdead < 10000) {
    warn(
      pos('initdead'),
      `initdead ${initdead} ms may be too small`,
      'initdead covers slow network start-up; it should be at least deadtime and at least 10 seconds',
    );
  }
  let deadping = deadpingMs;
  if (deadping === undefined) {
    deadping = deadtime;
    params['deadping'] = `${deadping}ms`;
  } else if (deadping <= 2 * keepalive) {
    err(
      pos('deadping'),
      `deadping ${deadping} ms is too small compared to keepalive ${keepalive} ms`,
      'deadping must be more than twice keepalive',
    );
  }
  if (params['udpport'] === undefined) params['udpport'] = String(defaultUdpPort);
  if (warntimeMs !== undefined && warntimeMs >= deadtime) {
    warn(
      pos('warntime'),
      `warntime ${warntimeMs} ms is not below deadtime ${deadtime} ms, so "Late heartbeat" warnings can never appear`,
      'set warntime between keepalive and deadtime',
    );
  }
  const failback = autoFailback ?? 'legacy';
  if (failback === 'legacy') {
    warn(
      pos('auto_failback') ?? pos('nice_failback'),
      `auto_failback is "legacy"${autoFailback === undefined ? ' (the default when the line is missing)' : ''}: hb_standby and hb_takeover do not work in this mode`,
      'write "auto_failback on" to bring groups back to their home node, or "auto_failback off"',
    );
  }

  // check_logd_usage(): tsbeat has no ha_logd; what heartbeat refuses, we refuse.
  const noLogTarget =
    logfile === undefined && debugfile === undefined && (logfacility === undefined || logfacility === 'none');
  if (noLogTarget) {
    if (useLogd === false) {
      err(
        pos('use_logd'),
        'no logfile, debugfile or logfacility, and use_logd is off: nothing would be logged',
        'add "logfacility daemon" or "logfile /var/log/ha-log"',
      );
    } else {
      if (useLogd === undefined) params['use_logd'] = 'yes';
      warn(
        pos('use_logd'),
        'no logfile, debugfile or logfacility: tsbeat has no ha_logd and logs to standard output (the journal)',
        'add "logfacility daemon" or "logfile /var/log/ha-log"',
      );
    }
  } else if (useLogd === true) {
    warn(
      pos('use_logd'),
      'use_logd is on: tsbeat has no ha_logd and writes the configured logfile/debugfile/logfacility itself',
    );
  }
  if (logfacility !== undefined && logfacility !== 'none') {
    // heartbeat: syslog only, so the files are explicitly /dev/null.
    if (logfile === undefined) params['logfile'] = logfile = '/dev/null';
    if (debugfile === undefined) params['debugfile'] = debugfile = '/dev/null';
  }
  if (autojoin === 'other' || autojoin === 'any') {
    err(
      pos('autojoin'),
      `autojoin ${autojoin} conflicts with haresources resource management`,
      'remove the autojoin line (or set "autojoin none")',
    );
  }
  if (compression === 'bz2') {
    warn(
      pos('compression'),
      `compression bz2: Node has no bzip2, so tsbeat sends zlib (heartbeat reads it) and cannot read bz2-compressed messages from heartbeat nodes${traditionalCompression ? `, which they send for every message above ${compressionThresholdKb ?? 2} KB (with a node list that long, tsbeat never finishes joining)` : ''}`,
      'write "compression zlib" on every node',
    );
  }
  if (deadpingAt && pingNodes.length === 0) {
    warn(deadpingAt, 'deadping has no effect: there are no ping nodes');
  } else if (deadpingAt) {
    warn(deadpingAt, 'deadping: tsbeat does not implement ping nodes yet, so it has no effect');
  }
  const rt = realtime ?? true;
  if (rt && (realtimeAt || rtprioAt)) {
    warn(
      realtimeAt ?? rtprioAt,
      `realtime: tsbeat runs at SCHED_RR priority ${rtprio ?? 1} as heartbeat does, but cannot lock its memory (Node has no mlockall)`,
      'see ha.cf(5) for what tsbeat does instead',
    );
  } else if (!rt && rtprioAt) {
    warn(rtprioAt, `rtprio ${rtprio} has no effect: realtime is off`);
  }
  if ((uuidfrom ?? 'file') === 'nodename') {
    // Two names with the same derived uuid would be taken for one node by every peer.
    const seen = new Map<string, string>();
    for (const node of nodes) {
      const key = Buffer.from(uuidFromNodename(node)).toString('hex');
      const other = seen.get(key);
      if (other !== undefined) {
        warn(
          pos('uuidfrom'),
          `uuidfrom nodename: nodes "${other}" and "${node}" get the same uuid, so peers cannot tell them apart`,
          'use "uuidfrom file"',
        );
      }
      seen.set(key, node);
    }
  }

  const haCf: HaCf = {
    nodes,
    media,
    pingNodes,
    keepaliveMs: keepalive,
    deadtimeMs: deadtime,
    warntimeMs: warntime,
    initdeadMs: initdead,
    deadpingMs: deadping,
    udpPort: udpPort ?? defaultUdpPort,
    baud: baud ?? 19200,
    autoFailback: failback,
    msgfmt: msgfmt ?? 'classic',
    hopfudge: hopfudge ?? 1,
    hbgenmethod: hbgenmethod ?? 'file',
    maxRexmitDelayMs: maxRexmitDelayMs ?? 250,
    compression: compression ?? 'zlib',
    compressionThresholdKb: compressionThresholdKb ?? 2,
    traditionalCompression: traditionalCompression ?? false,
    autojoin: autojoin ?? 'none',
    uuidfrom: uuidfrom ?? 'file',
    ...(logfile !== undefined ? { logfile } : {}),
    ...(debugfile !== undefined ? { debugfile } : {}),
    ...(logfacility !== undefined ? { logfacility } : {}),
    useLogd: useLogd ?? noLogTarget,
    realtime: realtime ?? true,
    ...(rtprio !== undefined ? { rtprio } : {}),
    debugLevel: debugLevel ?? 0,
    coredumps: coredumps ?? true,
    cluster: cluster ?? 'linux-ha',
    ...(watchdog !== undefined ? { watchdog } : {}),
    stonith,
    clientChildren,
    apiauth,
    env,
    params,
  };
  return {
    haCf,
    source: {
      directives: directivePos,
      media: mediaPos,
      nodes: nodePos,
      pingNodes: pingPos,
      stonith: stonithPos,
      clientChildren: clientPos,
    },
    diagnostics,
  };
}
