// Part: ldirectord.cf → DirectorConfig with file:line diagnostics. Pure (text in, values out).
// The grammar and defaults are ldirectord's (`read_config`, `ld_setup` in /usr/sbin/ldirectord of
// Debian's ldirectord 1:4.12): `key = value` lines, `virtual=` blocks whose lines are indented by
// a tab or at least four spaces. tsbeat's own directives (keepalived's quorum, hysteresis,
// quorum_up, quorum_down, digest, plus successcount and maxchecks) may be written as
// `#tsbeat: quorum = 2`, which the stock ldirectord reads as a comment, so one file serves both.

import type { Diagnostic } from '../lib/diagnostic.js';
import { closest } from '../lib/suggest.js';
import {
  type CheckType,
  type DirectorConfig,
  EXTENSION_DIRECTIVES,
  type Fallback,
  type Forward,
  type Protocol,
  type RealServer,
  SERVICES,
  type Service,
  type VirtualService,
} from './model.js';

const GLOBAL_DIRECTIVES = [
  'checktimeout',
  'negotiatetimeout',
  'checkinterval',
  'checkcount',
  'failurecount',
  'fallback',
  'fallbackcommand',
  'autoreload',
  'callback',
  'logfile',
  'execute',
  'fork',
  'supervised',
  'quiescent',
  'readdquiescent',
  'emailalert',
  'emailalertfreq',
  'emailalertstatus',
  'emailalertfrom',
  'cleanstop',
  'smtp',
  'maintenancedir',
] as const;

const VIRTUAL_DIRECTIVES = [
  'real',
  'request',
  'receive',
  'checktype',
  'checkcommand',
  'checktimeout',
  'negotiatetimeout',
  'checkcount',
  'failurecount',
  'checkinterval',
  'checkport',
  'login',
  'passwd',
  'database',
  'secret',
  'load',
  'scheduler',
  'persistent',
  'schedflags',
  'netmask',
  'protocol',
  'ops',
  'service',
  'httpmethod',
  'virtualhost',
  'fallback',
  'fallbackcommand',
  'quiescent',
  'emailalert',
  'emailalertfreq',
  'emailalertstatus',
  'monitorfile',
  'cleanstop',
  'smtp',
  'servicename',
  'comment',
] as const;

/** ldirectord's service-by-port defaults (`ld_port_to_service`). */
const PORT_SERVICE: Readonly<Record<number, Service>> = {
  21: 'ftp',
  25: 'smtp',
  53: 'dns',
  80: 'http',
  110: 'pop',
  119: 'nntp',
  143: 'imap',
  389: 'ldap',
  443: 'https',
  587: 'submission',
  636: 'ldaps',
  993: 'imaps',
  995: 'pops',
  1521: 'oracle',
  1812: 'radius',
  3128: 'http_proxy',
  3306: 'mysql',
  5060: 'sip',
  5432: 'pgsql',
};

/** /etc/services names ldirectord configurations use in place of port numbers. */
const PORT_NAMES: Readonly<Record<string, number>> = {
  ftp: 21,
  ssh: 22,
  smtp: 25,
  domain: 53,
  http: 80,
  www: 80,
  pop3: 110,
  nntp: 119,
  imap: 143,
  imap2: 143,
  ldap: 389,
  https: 443,
  submission: 587,
  ldaps: 636,
  imaps: 993,
  pop3s: 995,
  mysql: 3306,
  postgresql: 5432,
  sip: 5060,
};

const DEFAULT_CHECKTIMEOUT_S = 5;
const DEFAULT_NEGOTIATETIMEOUT_S = 30;
const DEFAULT_CHECKINTERVAL_S = 10;
const DEFAULT_MAX_CHECKS = 64;

/** What the parser returns: the configuration when there was no error, and every diagnostic. */
export interface ParseResult {
  readonly config?: DirectorConfig;
  readonly diagnostics: readonly Diagnostic[];
}

interface Line {
  readonly n: number;
  readonly key: string;
  readonly value: string;
  /** Came from a `#tsbeat:` comment. */
  readonly extension: boolean;
}

interface RawVirtual {
  readonly line: number;
  readonly spec: string;
  readonly items: Line[];
}

/** Strip a `#` comment that is not inside double quotes. */
function stripComment(s: string): string {
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') inQuote = !inQuote;
    else if (c === '#' && !inQuote) return s.slice(0, i);
  }
  return s;
}

const EXTENSION_PREFIX = /^\s*#\s*tsbeat:\s*(.*)$/;

function splitDirective(text: string): { key: string; value: string } | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_-]*)\s*(?:=\s*(.*))?$/.exec(text.trim());
  if (!m) return undefined;
  return { key: m[1] ?? '', value: (m[2] ?? '').trim() };
}

/** `"x"` → `x`; an unquoted value is taken as it is. */
function unquote(v: string): string {
  const m = /^"(.*)"$/.exec(v);
  return m ? (m[1] ?? '') : v;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isIpv4(s: string): boolean {
  const m = IPV4.exec(s);
  return m?.slice(1).every((o) => Number(o) <= 255) === true;
}

function ipToInt(s: string): number {
  return s.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((sh) => Math.floor(n / 2 ** sh) % 256).join('.');
}

class Parser {
  readonly diagnostics: Diagnostic[] = [];
  private readonly file: string;
  readonly hostname: string;
  constructor(file: string, hostname: string) {
    this.file = file;
    this.hostname = hostname;
  }

  error(line: number, message: string, hint?: string): void {
    this.diagnostics.push({ severity: 'error', file: this.file, line, message, ...(hint ? { hint } : {}) });
  }

  warn(line: number, message: string, hint?: string): void {
    this.diagnostics.push({ severity: 'warning', file: this.file, line, message, ...(hint ? { hint } : {}) });
  }

  positiveInt(l: Line, what: string): number | undefined {
    if (!/^\d+$/.test(l.value) || Number(l.value) <= 0) {
      this.error(
        l.n,
        `invalid ${what} value ${JSON.stringify(l.value)}`,
        `${l.key} takes a whole number above 0`,
      );
      return undefined;
    }
    return Number(l.value);
  }

  nonNegativeInt(l: Line, what: string): number | undefined {
    if (!/^\d+$/.test(l.value)) {
      this.error(l.n, `invalid ${what} value ${JSON.stringify(l.value)}`, `${l.key} takes a whole number`);
      return undefined;
    }
    return Number(l.value);
  }

  yesNo(l: Line): boolean | undefined {
    if (l.value === 'yes') return true;
    if (l.value === 'no') return false;
    this.error(l.n, `${l.key} must be 'yes' or 'no'`, `not ${JSON.stringify(l.value)}`);
    return undefined;
  }

  port(text: string, line: number, what: string): number | undefined {
    if (/^\d+$/.test(text)) {
      const p = Number(text);
      if (p <= 65535) return p;
    } else if (Object.hasOwn(PORT_NAMES, text)) {
      return PORT_NAMES[text];
    }
    this.error(
      line,
      `invalid port ${JSON.stringify(text)} for ${what}`,
      'use a number 1-65535 or a service name such as http',
    );
    return undefined;
  }

  address(text: string, line: number, what: string): string | undefined {
    if (isIpv4(text)) return text;
    if (text === 'localhost') return '127.0.0.1';
    if (text.startsWith('[')) {
      this.error(line, `IPv6 ${what}s are not supported by tsbeat director`, 'use an IPv4 address');
      return undefined;
    }
    this.error(
      line,
      `invalid address ${JSON.stringify(text)} for ${what}`,
      'tsbeat director does not resolve host names at start; write the IPv4 address',
    );
    return undefined;
  }

  forward(text: string, line: number): Forward | undefined {
    if (text === 'gate' || text === 'masq' || text === 'ipip') return text;
    this.error(line, 'forward method must be gate, masq or ipip', `not ${JSON.stringify(text)}`);
    return undefined;
  }

  fallback(l: Line, virtualPort: number | undefined): Fallback | undefined {
    const m = /^(\S+?)(?::([A-Za-z0-9_-]+))?(?:\s+(\S+))?$/.exec(l.value);
    if (!m) {
      this.error(l.n, `invalid fallback server: ${l.value}`, 'write fallback = ip[:port] [gate|masq|ipip]');
      return undefined;
    }
    const ip = this.address(m[1] ?? '', l.n, 'fallback server');
    const port = m[2] !== undefined ? this.port(m[2], l.n, 'fallback server') : virtualPort;
    const forward = m[3] !== undefined ? this.forward(m[3], l.n) : 'gate';
    if (ip === undefined || forward === undefined) return undefined;
    return port === undefined ? { ip, forward } : { ip, port, forward };
  }

  /** `real=` → one RealServer per address (a `a->b` range gives several). */
  reals(l: Line): RealServer[] {
    const m =
      /^(\d+\.\d+\.\d+\.\d+|[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?:->(\d+\.\d+\.\d+\.\d+|[A-Za-z0-9.-]+))?(?::(\d+|[A-Za-z0-9_-]+))?\s+(.*)$/.exec(
        l.value,
      );
    if (!m) {
      this.error(
        l.n,
        'invalid address for real server (wrong format)',
        'write real = ip[:port] gate|masq|ipip [weight] ["request", "receive"]',
      );
      return [];
    }
    const first = this.address(m[1] ?? '', l.n, 'real server');
    const last = m[2] !== undefined ? this.address(m[2], l.n, 'real server') : first;
    const port = m[3] !== undefined ? this.port(m[3], l.n, 'real server') : 0;
    let rest = m[4] ?? '';
    const fm = /^(\w+)(.*)$/.exec(rest);
    const forward = this.forward(fm?.[1] ?? '', l.n);
    rest = fm?.[2] ?? '';
    let weight = 1;
    const wm = /^\s+(\d+)(.*)$/.exec(rest);
    if (wm) {
      weight = Number(wm[1]);
      rest = wm[2] ?? '';
    }
    let request: string | undefined;
    let receive: string | undefined;
    const rm = /^\s+"(.*?)"[, ]\s*"(.*?)"(.*)$/.exec(rest);
    if (rm) {
      request = (rm[1] ?? '').startsWith('/') ? (rm[1] ?? '') : `/${rm[1] ?? ''}`;
      receive = rm[2] ?? '';
      rest = rm[3] ?? '';
    }
    let lower = 0;
    let upper = 0;
    const lm = /^\s+l:(\d+)(.*)$/.exec(rest);
    if (lm) {
      lower = Number(lm[1]);
      rest = lm[2] ?? '';
    }
    const um = /^\s+u:(\d+)(.*)$/.exec(rest);
    if (um) {
      upper = Number(um[1]);
      rest = um[2] ?? '';
    }
    if (/\S/.test(rest)) {
      this.error(l.n, `Invalid real server line, around ${JSON.stringify(rest.trim())}`);
      return [];
    }
    if (first === undefined || last === undefined || port === undefined || forward === undefined) return [];
    const a = ipToInt(first);
    const b = ipToInt(last);
    if (a > b) {
      this.error(l.n, `Invalid Range: ${first}-${last}`, 'the first address must not be above the last');
      return [];
    }
    if (b - a > 1024) {
      this.error(
        l.n,
        `range ${first}->${last} has ${b - a + 1} addresses`,
        'at most 1025 real servers per line',
      );
      return [];
    }
    const out: RealServer[] = [];
    for (let i = a; i <= b; i++) {
      out.push({
        ip: intToIp(i),
        port,
        forward,
        weight,
        ...(request !== undefined ? { request } : {}),
        ...(receive !== undefined ? { receive } : {}),
        lowerThreshold: lower,
        upperThreshold: upper,
        line: l.n,
      });
    }
    return out;
  }

  unknown(l: Line, known: readonly string[], where: string): void {
    const all = [...known, ...EXTENSION_DIRECTIVES];
    const near = closest(l.key, all);
    if (l.key === 'connecttimeout') {
      this.error(l.n, 'connecttimeout directive deprecated in favour of negotiatetimeout');
    } else if (l.key === 'timeout') {
      this.error(l.n, 'timeout directive deprecated in favour of checktimeout and negotiatetimeout');
    } else if (where === 'global' && (VIRTUAL_DIRECTIVES as readonly string[]).includes(l.key)) {
      this.error(
        l.n,
        `"${l.key}" belongs inside a virtual= block`,
        'indent it by a tab or four spaces under its virtual= line',
      );
    } else {
      this.error(
        l.n,
        `Unknown command "${l.key}" ${where === 'global' ? 'outside' : 'in'} a virtual block`,
        near ? `did you mean "${near}"?` : undefined,
      );
    }
  }
}

interface Globals {
  checktimeout: number;
  negotiatetimeout: number;
  checkinterval: number;
  checkcount: number;
  failurecount: number;
  fallback?: { tcp: Fallback; udp: Fallback };
  fallbackcommand?: string;
  autoreload: boolean;
  callback?: string;
  logfile: string;
  execute: string[];
  fork: boolean;
  supervised: boolean;
  quiescent: boolean;
  readdquiescent: boolean;
  emailalert?: string;
  emailalertfreq: number;
  emailalertstatus: string;
  emailalertfrom?: string;
  cleanstop: boolean;
  smtp?: string;
  maintenancedir?: string;
  // extensions as global defaults
  quorum?: number;
  hysteresis: number;
  quorumUp?: string;
  quorumDown?: string;
  successcount: number;
  maxchecks: number;
}

const EMAIL_STATUSES = ['all', 'none', 'starting', 'running', 'stopping', 'reloading'];

function emailStatus(p: Parser, l: Line): string | undefined {
  const words = l.value.split(/\s*,\s*/).filter(Boolean);
  if (words.length === 0 || words.some((w) => !EMAIL_STATUSES.includes(w))) {
    p.error(l.n, `invalid emailalertstatus ${JSON.stringify(l.value)}`, `use ${EMAIL_STATUSES.join(', ')}`);
    return undefined;
  }
  return words.join(',');
}

/** An extension directive (either spelling); true when it was one. */
function extension(
  p: Parser,
  l: Line,
  target: Partial<Globals> & { digest?: string },
  inVirtual: boolean,
): boolean {
  switch (l.key) {
    case 'quorum': {
      const v = p.positiveInt(l, 'quorum');
      if (v !== undefined) target.quorum = v;
      return true;
    }
    case 'hysteresis': {
      const v = p.nonNegativeInt(l, 'hysteresis');
      if (v !== undefined) target.hysteresis = v;
      return true;
    }
    case 'quorum_up':
      target.quorumUp = unquote(l.value);
      return true;
    case 'quorum_down':
      target.quorumDown = unquote(l.value);
      return true;
    case 'successcount': {
      const v = p.positiveInt(l, 'success count');
      if (v !== undefined) target.successcount = v;
      return true;
    }
    case 'digest': {
      const v = unquote(l.value).toLowerCase();
      if (!inVirtual) {
        p.error(l.n, 'digest belongs inside a virtual= block', "it is the MD5 of that service's HTTP body");
      } else if (!/^[0-9a-f]{32}$/.test(v)) {
        p.error(
          l.n,
          `invalid digest ${JSON.stringify(l.value)}`,
          "give the 32 hex digits of the body's MD5 (md5sum)",
        );
      } else {
        target.digest = v;
      }
      return true;
    }
    case 'maxchecks': {
      const v = p.positiveInt(l, 'maxchecks');
      if (inVirtual) p.error(l.n, 'maxchecks is a global directive', 'move it above the first virtual= line');
      else if (v !== undefined) target.maxchecks = v;
      return true;
    }
    default:
      return false;
  }
}

function parseGlobal(p: Parser, l: Line, g: Globals): void {
  if (extension(p, l, g, false)) return;
  if (l.extension) {
    p.error(
      l.n,
      `"${l.key}" is not a tsbeat extension`,
      `#tsbeat: lines take ${EXTENSION_DIRECTIVES.join(', ')}`,
    );
    return;
  }
  switch (l.key) {
    case 'checktimeout': {
      const v = p.positiveInt(l, 'check timeout');
      if (v !== undefined) g.checktimeout = v;
      return;
    }
    case 'negotiatetimeout': {
      const v = p.positiveInt(l, 'negotiate timeout');
      if (v !== undefined) g.negotiatetimeout = v;
      return;
    }
    case 'checkinterval': {
      const v = p.positiveInt(l, 'check interval');
      if (v !== undefined) g.checkinterval = v;
      return;
    }
    case 'checkcount': {
      const v = p.positiveInt(l, 'check count');
      if (v !== undefined) g.checkcount = v;
      p.warn(l.n, "checkcount option is deprecated and slated for removal.  please see 'failurecount'");
      return;
    }
    case 'failurecount': {
      const v = p.positiveInt(l, 'failure count');
      if (v !== undefined) g.failurecount = v;
      return;
    }
    case 'fallback': {
      const f = p.fallback(l, undefined);
      if (f) g.fallback = { tcp: f, udp: f };
      return;
    }
    case 'fallbackcommand':
      if (l.value === '') p.error(l.n, 'invalid fallback command', 'give the path of a program');
      else g.fallbackcommand = unquote(l.value);
      return;
    case 'autoreload': {
      const v = p.yesNo(l);
      if (v !== undefined) g.autoreload = v;
      return;
    }
    case 'callback':
      g.callback = unquote(l.value);
      return;
    case 'logfile':
      if (unquote(l.value) === '')
        p.error(
          l.n,
          'empty logfile',
          'write logfile="/var/log/ldirectord.log" or a syslog facility such as local0',
        );
      else g.logfile = unquote(l.value);
      return;
    case 'execute':
      g.execute.push(l.value);
      p.warn(l.n, 'execute is ignored by tsbeat director', 'run one "tsbeat director" per configuration');
      return;
    case 'fork': {
      const v = p.yesNo(l);
      if (v !== undefined) g.fork = v;
      return;
    }
    case 'supervised': {
      if (l.value === '') {
        g.supervised = true;
        p.warn(l.n, 'please update your config not to use a bare supervised directive');
        return;
      }
      const v = p.yesNo(l);
      if (v !== undefined) g.supervised = v;
      return;
    }
    case 'quiescent':
    case 'readdquiescent':
    case 'cleanstop': {
      const v = p.yesNo(l);
      if (v !== undefined) g[l.key] = v;
      return;
    }
    case 'emailalert':
      g.emailalert = unquote(l.value);
      return;
    case 'emailalertfreq': {
      const v = p.nonNegativeInt(l, 'email alert frequency');
      if (v !== undefined) g.emailalertfreq = v;
      return;
    }
    case 'emailalertstatus': {
      const v = emailStatus(p, l);
      if (v !== undefined) g.emailalertstatus = v;
      return;
    }
    case 'emailalertfrom':
      if (l.value === '') p.error(l.n, 'no email from address specified');
      else g.emailalertfrom = l.value;
      return;
    case 'smtp':
      if (!/^[0-9A-Za-z._+-]+/.test(l.value)) p.error(l.n, 'invalid SMTP server address');
      else g.smtp = l.value;
      return;
    case 'maintenancedir':
      if (l.value === '') p.error(l.n, 'maintenance directory not specified');
      else g.maintenancedir = unquote(l.value);
      return;
    default:
      p.unknown(l, GLOBAL_DIRECTIVES, 'global');
  }
}

/** Parse one virtual block, with the globals as they stand at the end of the file (as ldirectord's ld_setup). */
function parseVirtual(p: Parser, raw: RawVirtual, g: Globals, seen: Set<string>): VirtualService | undefined {
  let protocol: Protocol = 'tcp';
  let address: string | undefined;
  let port = 0;
  let fwmark: number | undefined;
  let bad = false;
  const spec = raw.spec.trim();
  const am = /^([^\s:]+):([A-Za-z0-9_-]+)$/.exec(spec);
  if (/^\d+$/.test(spec)) {
    fwmark = Number(spec);
    protocol = 'fwm';
  } else if (am) {
    address = p.address(am[1] ?? '', raw.line, 'virtual server');
    const pp = p.port(am[2] ?? '', raw.line, 'virtual server');
    if (address === undefined || pp === undefined) bad = true;
    else port = pp;
    if (port === 53) protocol = 'udp';
  } else {
    p.error(
      raw.line,
      `invalid address for virtual server: ${JSON.stringify(spec)}`,
      'write virtual = ip:port or virtual = fwmark',
    );
    bad = true;
  }
  const v: Record<string, unknown> = {};
  const ext: Partial<Globals> & { digest?: string } = {};
  const reals: RealServer[] = [];
  let service: Service | undefined;
  let checktype: CheckType = 'negotiate';
  let connectCount = 0;
  for (const l of raw.items) {
    if (extension(p, l, ext, true)) continue;
    if (l.extension) {
      p.error(
        l.n,
        `"${l.key}" is not a tsbeat extension`,
        `#tsbeat: lines take ${EXTENSION_DIRECTIVES.join(', ')}`,
      );
      continue;
    }
    switch (l.key) {
      case 'real':
        reals.push(...p.reals(l));
        break;
      case 'request': {
        const s = unquote(l.value);
        if (s === '') p.error(l.n, 'no request string specified');
        else v['request'] = s.startsWith('/') ? s : `/${s}`;
        break;
      }
      case 'receive': {
        const s = unquote(l.value);
        if (s === '') {
          p.error(l.n, 'invalid receive string');
          break;
        }
        try {
          new RegExp(s);
          v['receive'] = s;
        } catch (e) {
          p.error(l.n, `receive is not a valid regular expression: ${(e as Error).message}`);
        }
        break;
      }
      case 'checktype': {
        const s = l.value;
        if (/^\d+$/.test(s)) {
          checktype = 'combined';
          connectCount = Number(s);
        } else if (['connect', 'negotiate', 'ping', 'off', 'on', 'external', 'external-perl'].includes(s)) {
          checktype = s as CheckType;
        } else {
          p.error(
            l.n,
            'checktype must be "connect", "negotiate", "on", "off", "ping", "external", "external-perl" or a positive number',
            `not ${JSON.stringify(s)}`,
          );
        }
        break;
      }
      case 'checkcommand': {
        const s = unquote(l.value);
        if (s === '') p.error(l.n, 'invalid check command');
        else v['checkcommand'] = s;
        break;
      }
      case 'checktimeout':
      case 'negotiatetimeout':
      case 'failurecount':
      case 'checkinterval': {
        const n = p.positiveInt(l, l.key);
        if (n !== undefined) v[l.key] = n;
        break;
      }
      case 'checkcount': {
        const n = p.positiveInt(l, 'check count');
        if (n !== undefined) v['checkcount'] = n;
        p.warn(l.n, "checkcount option is deprecated and slated for removal.  please see 'failurecount'");
        break;
      }
      case 'checkport': {
        if (!/^\d+$/.test(l.value) || Number(l.value) < 1 || Number(l.value) > 65535)
          p.error(l.n, 'checkport must be in range 1..65535', `not ${JSON.stringify(l.value)}`);
        else v['checkport'] = Number(l.value);
        break;
      }
      case 'login':
      case 'passwd':
      case 'database':
      case 'secret':
      case 'load':
        v[l.key] = unquote(l.value);
        break;
      case 'scheduler':
        if (!/^[a-z]+$/.test(l.value))
          p.error(
            l.n,
            'invalid scheduler, should be only lowercase letters (a-z)',
            `not ${JSON.stringify(l.value)}`,
          );
        else v['scheduler'] = l.value;
        break;
      case 'persistent': {
        const n = p.nonNegativeInt(l, 'persistent timeout');
        if (n !== undefined) v['persistent'] = n;
        break;
      }
      case 'schedflags':
        if (!/^\S+$/.test(l.value)) p.error(l.n, 'invalid sched-flags');
        else v['schedflags'] = l.value;
        break;
      case 'netmask':
        if (!isIpv4(l.value))
          p.error(l.n, 'invalid netmask: dotted quad notation is required', `not ${JSON.stringify(l.value)}`);
        else v['netmask'] = l.value;
        break;
      case 'protocol':
        if (protocol === 'fwm') {
          if (l.value !== 'fwm')
            p.error(l.n, 'protocol must be fwm if the virtual service is a fwmark (a number)');
        } else if (l.value === 'tcp' || l.value === 'udp') {
          protocol = l.value;
        } else {
          p.error(
            l.n,
            'protocol must be tcp or udp if the virtual service is an address and port',
            `not ${JSON.stringify(l.value)}`,
          );
        }
        break;
      case 'ops': {
        const b = p.yesNo(l);
        if (b !== undefined) v['ops'] = b;
        break;
      }
      case 'service':
        if ((SERVICES as readonly string[]).includes(l.value)) service = l.value as Service;
        else p.error(l.n, `service must be ${SERVICES.join(', ')}`, `not ${JSON.stringify(l.value)}`);
        break;
      case 'httpmethod': {
        const m = l.value.toUpperCase();
        if (m !== 'GET' && m !== 'HEAD') p.error(l.n, 'httpmethod must be GET or HEAD');
        else v['httpmethod'] = m;
        break;
      }
      case 'virtualhost':
        v['virtualhost'] = unquote(l.value);
        break;
      case 'fallback': {
        const f = p.fallback(l, port);
        if (f) v['fallback'] = f;
        break;
      }
      case 'fallbackcommand':
        if (unquote(l.value) === '') p.error(l.n, 'invalid fallback command');
        else v['fallbackcommand'] = unquote(l.value);
        break;
      case 'quiescent':
      case 'cleanstop': {
        const b = p.yesNo(l);
        if (b !== undefined) v[l.key] = b;
        break;
      }
      case 'emailalert':
        v['emailalert'] = unquote(l.value);
        break;
      case 'emailalertfreq': {
        const n = p.nonNegativeInt(l, 'email alert frequency');
        if (n !== undefined) v['emailalertfreq'] = n;
        break;
      }
      case 'emailalertstatus': {
        const s = emailStatus(p, l);
        if (s !== undefined) v['emailalertstatus'] = s;
        break;
      }
      case 'monitorfile':
        v['monitorfile'] = unquote(l.value);
        break;
      case 'smtp':
        v['smtp'] = l.value;
        break;
      case 'servicename':
      case 'comment':
        v[l.key] = l.value;
        break;
      default:
        p.unknown(l, VIRTUAL_DIRECTIVES, 'virtual');
    }
  }
  if (bad) return undefined;
  const id = protocol === 'fwm' ? `fwm:${fwmark}` : `${protocol}:${address}:${port}`;
  if (seen.has(id)) {
    p.error(raw.line, `duplicate virtual server ${id}`, 'merge the two virtual= blocks');
    return undefined;
  }
  seen.add(id);
  if (reals.length === 0 && checktype !== 'off') {
    p.warn(raw.line, `virtual server ${id} has no real= line`, 'only its fallback will ever be added');
  }
  if (v['netmask'] !== undefined && v['persistent'] === undefined) {
    p.warn(raw.line, 'netmask is only used with persistent', 'add persistent = <seconds> or drop netmask');
  }
  // A per-virtual checkinterval is honoured (ldirectord ignores it without fork=yes): tsbeat
  // schedules each real server on its own timer.
  const quorum = ext.quorum ?? g.quorum;
  const hysteresis = ext.hysteresis ?? g.hysteresis;
  if (quorum !== undefined && hysteresis >= quorum) {
    p.error(
      raw.line,
      `hysteresis ${hysteresis} must be below quorum ${quorum}`,
      'quorum is lost below quorum - hysteresis, which must stay above 0',
    );
  }
  const num = (k: string): number | undefined => v[k] as number | undefined;
  const str = (k: string): string | undefined => v[k] as string | undefined;
  // Timeouts as ld_setup settles them: each falls back on the other before the defaults.
  const checktimeoutS =
    num('checktimeout') ??
    num('negotiatetimeout') ??
    (g.checktimeout > 0
      ? g.checktimeout
      : g.negotiatetimeout > 0
        ? g.negotiatetimeout
        : DEFAULT_CHECKTIMEOUT_S);
  const negotiatetimeoutS =
    num('negotiatetimeout') ??
    num('checktimeout') ??
    (g.negotiatetimeout > 0
      ? g.negotiatetimeout
      : g.checktimeout > 0
        ? g.checktimeout
        : DEFAULT_NEGOTIATETIMEOUT_S);
  let fallback = v['fallback'] as Fallback | undefined;
  if (fallback === undefined && g.fallback && protocol !== 'fwm') {
    const gf = g.fallback[protocol];
    fallback = { ...gf, port: gf.port ?? port };
  }
  const opt = <T>(k: string, val: T | undefined): Record<string, T> =>
    val === undefined ? {} : { [k]: val };
  const out: VirtualService = {
    id,
    line: raw.line,
    protocol,
    ...opt('address', address),
    port,
    ...opt('fwmark', fwmark),
    reals,
    checktype,
    connectCount,
    service: service ?? (protocol === 'fwm' ? 'none' : (PORT_SERVICE[port] ?? 'none')),
    checkcommand: str('checkcommand') ?? '/bin/true',
    ...opt('checkport', num('checkport')),
    request: str('request') ?? '/',
    receive: str('receive') ?? '',
    httpmethod: (str('httpmethod') as 'GET' | 'HEAD' | undefined) ?? 'GET',
    ...opt('virtualhost', str('virtualhost')),
    login: str('login') ?? (service === 'ftp' ? 'anonymous' : ''),
    passwd: str('passwd') ?? (service === 'ftp' ? `ldirectord@${p.hostname}` : ''),
    database: str('database') ?? '',
    secret: str('secret') ?? '',
    scheduler: str('scheduler') ?? 'wrr',
    ...opt('persistent', num('persistent')),
    ...opt('netmask', str('netmask')),
    ...opt('schedflags', str('schedflags')),
    ops: (v['ops'] as boolean | undefined) ?? false,
    ...opt('fallback', fallback),
    ...opt('fallbackcommand', str('fallbackcommand') ?? g.fallbackcommand),
    quiescent: (v['quiescent'] as boolean | undefined) ?? g.quiescent,
    cleanstop: (v['cleanstop'] as boolean | undefined) ?? g.cleanstop,
    checktimeoutS,
    negotiatetimeoutS,
    checkintervalS: num('checkinterval') ?? g.checkinterval,
    failurecount: num('failurecount') ?? g.failurecount,
    checkcount: num('checkcount') ?? g.checkcount,
    ...opt('emailalert', str('emailalert') ?? g.emailalert),
    emailalertfreqS: num('emailalertfreq') ?? g.emailalertfreq,
    emailalertstatus: str('emailalertstatus') ?? g.emailalertstatus,
    ...opt('monitorfile', str('monitorfile')),
    ...opt('servicename', str('servicename')),
    ...opt('comment', str('comment')),
    ...opt('quorum', quorum),
    hysteresis,
    ...opt('quorumUp', ext.quorumUp ?? g.quorumUp),
    ...opt('quorumDown', ext.quorumDown ?? g.quorumDown),
    successcount: ext.successcount ?? g.successcount,
    ...opt('digest', ext.digest),
  };
  if (out.digest !== undefined && !['http', 'https', 'http_proxy'].includes(out.service)) {
    p.error(
      raw.line,
      'digest needs an HTTP service',
      `service is ${out.service}; set service = http or https`,
    );
  }
  return out;
}

/** The name ldirectord derives pid files from: the file's basename. */
export function configName(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

/**
 * Parse ldirectord.cf text. `file` names the file in diagnostics; `hostname` completes ftp's
 * default password (`ldirectord@<host>`).
 */
export function parseDirectorConfig(text: string, file: string, hostname = 'localhost'): ParseResult {
  const p = new Parser(file, hostname);
  const g: Globals = {
    checktimeout: -1,
    negotiatetimeout: -1,
    checkinterval: DEFAULT_CHECKINTERVAL_S,
    checkcount: 1,
    failurecount: 1,
    autoreload: false,
    logfile: '/var/log/ldirectord.log',
    execute: [],
    fork: false,
    supervised: false,
    // The code's default (the manual says yes; spec §7 quirk 8: keep what the binary does).
    quiescent: false,
    readdquiescent: false,
    emailalertfreq: 0,
    emailalertstatus: 'all',
    cleanstop: true,
    hysteresis: 0,
    successcount: 1,
    maxchecks: DEFAULT_MAX_CHECKS,
  };
  const raws: RawVirtual[] = [];
  let current: RawVirtual | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const rawLine = (lines[i] ?? '').replace(/\r$/, '');
    const extm = EXTENSION_PREFIX.exec(rawLine);
    const indented = /^(\t| {4,})/.test(rawLine.replace(/\t/g, '    '));
    if (extm) {
      const d = splitDirective(stripComment(extm[1] ?? ''));
      if (!d) {
        p.error(n, 'cannot read this #tsbeat: line', 'write #tsbeat: name = value');
        continue;
      }
      const line: Line = { n, key: d.key, value: d.value, extension: true };
      if (indented && current) current.items.push(line);
      else {
        current = undefined;
        parseGlobal(p, line, g);
      }
      continue;
    }
    const body = stripComment(rawLine);
    if (/^\s*$/.test(body)) continue;
    if (indented && current) {
      const d = splitDirective(body);
      if (!d) p.error(n, `cannot read ${JSON.stringify(body.trim())}`, 'write name = value');
      else current.items.push({ n, key: d.key, value: d.value, extension: false });
      continue;
    }
    if (indented) {
      p.error(
        n,
        'indented line outside a virtual= block',
        'global directives start at the beginning of the line',
      );
      continue;
    }
    current = undefined;
    const vm = /^virtual(6)?\s*=\s*(.*)$/.exec(body.trimEnd());
    if (vm) {
      if (vm[1]) {
        p.error(
          n,
          'virtual6 (IPv6) services are not supported by tsbeat director',
          'use IPv4 virtual= blocks',
        );
        current = { line: n, spec: '', items: [] };
        continue;
      }
      current = { line: n, spec: vm[2] ?? '', items: [] };
      raws.push(current);
      continue;
    }
    const d = splitDirective(body);
    if (!d) {
      p.error(n, `cannot read ${JSON.stringify(body.trim())}`, 'write name = value');
      continue;
    }
    parseGlobal(p, { n, key: d.key, value: d.value, extension: false }, g);
  }
  const seen = new Set<string>();
  const virtuals: VirtualService[] = [];
  for (const raw of raws) {
    const v = parseVirtual(p, raw, g, seen);
    if (v) virtuals.push(v);
  }
  if (p.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: p.diagnostics };
  const config: DirectorConfig = {
    path: file,
    name: configName(file),
    virtuals,
    checkintervalS: g.checkinterval,
    autoreload: g.autoreload,
    ...(g.callback !== undefined ? { callback: g.callback } : {}),
    logfile: g.logfile,
    quiescent: g.quiescent,
    readdquiescent: g.readdquiescent,
    cleanstop: g.cleanstop,
    supervised: g.supervised,
    fork: g.fork,
    ...(g.maintenancedir !== undefined ? { maintenancedir: g.maintenancedir } : {}),
    ...(g.fallbackcommand !== undefined ? { fallbackcommand: g.fallbackcommand } : {}),
    ...(g.emailalertfrom !== undefined ? { emailalertfrom: g.emailalertfrom } : {}),
    ...(g.smtp !== undefined ? { smtp: g.smtp } : {}),
    execute: g.execute,
    maxChecks: g.maxchecks,
  };
  return { config, diagnostics: p.diagnostics };
}
