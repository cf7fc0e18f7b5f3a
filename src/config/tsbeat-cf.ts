// Part: /etc/ha.d/tsbeat.cf -> TsbeatCf: tsbeat's own settings (metrics listener, JSON log,
// fencing policy), in ha.cf's directive style, read through a directive table like
// hacf-directives.ts, with file:line:col diagnostics. heartbeat never reads this file, so
// heartbeat's three files stay byte-compatible and mixed clusters keep working.
//
// Pure: no file system. load.ts reads the file and calls parseTsbeatCf, then resolveTsbeatSettings
// merges it with the deprecated `env TSBEAT_*` lines of ha.cf.

import { type Diagnostic, quote } from '../lib/diagnostic.js';
import { closest } from '../lib/suggest.js';
import type { Pos } from './hacf-directives.js';
import type { HaCf } from './model.js';
import { parseBoolean, parseTime } from './values.js';

/** The OpenMetrics listener: off unless configured; loopback is the safe default address. */
export interface MetricsListen {
  readonly host: string;
  readonly port: number;
}

/** What tsbeat.cf sets; absent keys were not given. */
export interface TsbeatCf {
  readonly metrics?: MetricsListen;
  /** A file of JSON log records (pino), besides heartbeat's logfile. */
  readonly logjson?: string;
  readonly fenceDelayMs?: number;
  readonly preferredSurvivor?: string;
  readonly takeoverWithoutFencing?: boolean;
  /** Run `tsbeat lvs-dr setup` at daemon start (a director that is also an LVS-DR real server). */
  readonly lvsDr?: boolean;
}

export interface TsbeatCfSource {
  /** Last occurrence of each directive. */
  readonly directives: Readonly<Record<string, Pos>>;
}

export interface TsbeatCfResult {
  readonly tsbeatCf: TsbeatCf;
  readonly source: TsbeatCfSource;
  readonly diagnostics: readonly Diagnostic[];
}

/** The conventional port for the metrics endpoint (tsbeat(8), tsbeat.cf(5)). */
export const DEFAULT_METRICS_PORT = 9694;

interface State {
  readonly file: string;
  readonly diagnostics: Diagnostic[];
  readonly directives: Record<string, Pos>;
  out: {
    -readonly [K in keyof TsbeatCf]: TsbeatCf[K];
  };
}

interface DirectiveRecord {
  /** One line of the man page's synopsis, used in hints. */
  readonly usage: string;
  /** The old `env NAME=` of ha.cf this directive replaces. */
  readonly env?: string;
  readonly parse: (s: State, value: string, at: Pos) => void;
}

const err = (s: State, at: Pos, message: string, hint?: string): void => {
  s.diagnostics.push({
    severity: 'error',
    file: s.file,
    line: at.line,
    col: at.col,
    message,
    ...(hint ? { hint } : {}),
  });
};
const warn = (s: State, at: Pos, message: string, hint?: string): void => {
  s.diagnostics.push({
    severity: 'warning',
    file: s.file,
    line: at.line,
    col: at.col,
    message,
    ...(hint ? { hint } : {}),
  });
};

/** `ADDR:PORT`, `[IPV6]:PORT`, `PORT` (loopback) or `off`. */
export function parseListen(value: string): MetricsListen | 'off' | { readonly error: string } {
  if (/^(off|no|none)$/i.test(value)) return 'off';
  let host = '127.0.0.1';
  let portText = value;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(value);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (value.includes(':')) {
    const i = value.lastIndexOf(':');
    host = value.slice(0, i);
    portText = value.slice(i + 1);
    if (host.includes(':'))
      return { error: `${quote(value)}: write an IPv6 address in brackets, e.g. [::1]:9694` };
    if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(host) || host.split('.').some((o) => Number(o) > 255))
      return { error: `${quote(host)} is not an IPv4 address` };
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
    return { error: `${quote(portText)} is not a port (1-65535)` };
  return { host, port: Number(portText) };
}

export function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1';
}

const DIRECTIVES: Readonly<Record<string, DirectiveRecord>> = {
  metrics: {
    usage: `metrics 127.0.0.1:${DEFAULT_METRICS_PORT}`,
    parse: (s, value, at) => {
      const r = parseListen(value);
      if (r !== 'off' && 'error' in r) {
        err(
          s,
          at,
          `metrics: ${r.error}`,
          `write e.g. "metrics 127.0.0.1:${DEFAULT_METRICS_PORT}", or "metrics off"`,
        );
        return;
      }
      if (r === 'off') {
        delete s.out.metrics;
        return;
      }
      if (!isLoopback(r.host))
        warn(
          s,
          at,
          `metrics: listening on ${r.host}, not on loopback: anyone who reaches port ${r.port} reads the cluster's state`,
          'restrict it with a firewall, or listen on 127.0.0.1 and scrape through a tunnel',
        );
      s.out.metrics = r;
    },
  },
  logjson: {
    usage: 'logjson /var/log/tsbeat.json',
    parse: (s, value, at) => {
      if (/^(off|no|none)$/i.test(value) || value === '/dev/null') {
        delete s.out.logjson;
        return;
      }
      if (!value.startsWith('/')) {
        err(
          s,
          at,
          `logjson: ${quote(value)} is not an absolute path`,
          'write e.g. "logjson /var/log/tsbeat.json"',
        );
        return;
      }
      s.out.logjson = value;
    },
  },
  fence_delay: {
    usage: 'fence_delay 5',
    env: 'TSBEAT_FENCE_DELAY',
    parse: (s, value, at) => {
      const t = parseTime(value);
      if (!t.ok) {
        err(
          s,
          at,
          `fence_delay: ${t.reason}`,
          'seconds, or a value with "ms": "fence_delay 5", "fence_delay 500ms"',
        );
        return;
      }
      if (t.ms > 600_000)
        warn(s, at, `fence_delay: ${t.ms} ms is longer than 10 minutes: the surviving node waits that long`);
      s.out.fenceDelayMs = t.ms;
    },
  },
  preferred_survivor: {
    usage: 'preferred_survivor node1',
    env: 'TSBEAT_PREFERRED_SURVIVOR',
    parse: (s, value) => {
      s.out.preferredSurvivor = value.toLowerCase();
    },
  },
  takeover_without_fencing: {
    usage: 'takeover_without_fencing no',
    env: 'TSBEAT_TAKEOVER_WITHOUT_FENCING',
    parse: (s, value, at) => {
      const b = parseBoolean(value);
      if (b === undefined) {
        err(s, at, `takeover_without_fencing: ${quote(value)} is not yes or no`);
        return;
      }
      s.out.takeoverWithoutFencing = b;
    },
  },
  lvs_dr: {
    usage: 'lvs_dr yes',
    env: 'TSBEAT_LVS_DR',
    parse: (s, value, at) => {
      const b = parseBoolean(value);
      if (b === undefined) {
        err(s, at, `lvs_dr: ${quote(value)} is not yes or no`, 'write "lvs_dr yes" or "lvs_dr no"');
        return;
      }
      s.out.lvsDr = b;
    },
  },
};

export const TSBEAT_CF_DIRECTIVES: readonly string[] = Object.keys(DIRECTIVES);

/** Parse tsbeat.cf text. Never throws; every problem becomes a diagnostic. */
export function parseTsbeatCf(text: string, file: string): TsbeatCfResult {
  const s: State = { file, diagnostics: [], directives: {}, out: {} };
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).replace(/\r$/, '');
    const m = /^(\s*)(\S+)(\s*)(.*?)\s*$/.exec(line);
    if (!m) continue;
    const name = m[2]!;
    const at: Pos = { line: i + 1, col: m[1]!.length + 1 };
    const d = Object.hasOwn(DIRECTIVES, name) ? DIRECTIVES[name] : undefined;
    if (!d) {
      const guess = closest(name, TSBEAT_CF_DIRECTIVES);
      const inHaCf =
        /^(logfile|debugfile|logfacility|use_logd|node|keepalive|deadtime|stonith_host|env)$/.test(name);
      err(
        s,
        at,
        `unknown directive ${quote(name)}`,
        inHaCf
          ? `"${name}" belongs in ha.cf, which heartbeat and tsbeat share`
          : guess
            ? `did you mean "${guess}"?`
            : `tsbeat.cf knows ${TSBEAT_CF_DIRECTIVES.join(', ')} (see tsbeat.cf(5))`,
      );
      continue;
    }
    const value = m[4]!;
    const valueAt: Pos = { line: at.line, col: at.col + name.length + m[3]!.length };
    if (value === '' || /\s/.test(value)) {
      err(s, valueAt, `${name} takes one value`, `write e.g. "${d.usage}"`);
      continue;
    }
    if (s.directives[name])
      warn(s, at, `${name} was already set on line ${s.directives[name].line}; this line wins`);
    s.directives[name] = at;
    d.parse(s, value, valueAt);
  }
  return { tsbeatCf: s.out, source: { directives: s.directives }, diagnostics: s.diagnostics };
}

/** The settings in force, with where each fencing setting came from. */
export interface TsbeatSettings {
  readonly metrics: MetricsListen | undefined;
  readonly logjson: string | undefined;
  readonly fenceDelayMs: number;
  readonly preferredSurvivor: string;
  readonly takeoverWithoutFencing: boolean;
  readonly lvsDr: boolean;
}

export const DEFAULT_FENCE_DELAY_MS = 5000;

/**
 * Merge tsbeat.cf with the deprecated `env TSBEAT_*` lines of ha.cf (tsbeat.cf wins), and
 * report: each env line is deprecated (at its ha.cf line), ignored when tsbeat.cf sets the
 * same thing, and a preferred survivor must be a node of ha.cf.
 */
export function resolveTsbeatSettings(input: {
  readonly haCf: HaCf;
  readonly haCfFile: string;
  readonly haCfText: string;
  readonly tsbeatCf: TsbeatCf;
  readonly tsbeatCfFile: string;
  readonly tsbeatCfSource: TsbeatCfSource;
}): { settings: TsbeatSettings; diagnostics: Diagnostic[] } {
  const { haCf, tsbeatCf: t } = input;
  const diagnostics: Diagnostic[] = [];
  const envValue = (name: string): string | undefined => haCf.env.findLast(([k]) => k === name)?.[1];
  const envLine = (name: string): Pos | undefined => {
    const lines = input.haCfText.split('\n');
    let found: Pos | undefined;
    for (const [i, l] of lines.entries()) {
      const m = new RegExp(`^(\\s*)env[\\s,]+${name}=`).exec(l);
      if (m) found = { line: i + 1, col: m[1]!.length + 1 };
    }
    return found;
  };
  const fromEnv = (directive: string, env: string, set: boolean): string | undefined => {
    const v = envValue(env);
    if (v === undefined) return undefined;
    const at = envLine(env);
    diagnostics.push({
      severity: 'warning',
      file: input.haCfFile,
      ...(at ? { line: at.line, col: at.col } : {}),
      message: set
        ? `env ${env} is deprecated and ignored: ${input.tsbeatCfFile} sets ${directive}`
        : `env ${env} is deprecated: tsbeat-only settings belong in ${input.tsbeatCfFile}`,
      hint: set
        ? `remove the env line from ha.cf`
        : `move it: write "${directive} ${v}" in ${input.tsbeatCfFile} and remove the env line`,
    });
    return set ? undefined : v;
  };

  let fenceDelayMs = t.fenceDelayMs ?? DEFAULT_FENCE_DELAY_MS;
  const delayEnv = fromEnv('fence_delay', 'TSBEAT_FENCE_DELAY', t.fenceDelayMs !== undefined);
  if (delayEnv !== undefined) {
    const s = Number.parseFloat(delayEnv);
    fenceDelayMs = Number.isFinite(s) ? Math.max(0, s * 1000) : DEFAULT_FENCE_DELAY_MS;
  }
  let preferredSurvivor = t.preferredSurvivor ?? haCf.nodes[0] ?? '';
  const survivorEnv = fromEnv(
    'preferred_survivor',
    'TSBEAT_PREFERRED_SURVIVOR',
    t.preferredSurvivor !== undefined,
  );
  if (survivorEnv !== undefined) preferredSurvivor = survivorEnv.toLowerCase();
  let takeoverWithoutFencing = t.takeoverWithoutFencing ?? false;
  const twfEnv = fromEnv(
    'takeover_without_fencing',
    'TSBEAT_TAKEOVER_WITHOUT_FENCING',
    t.takeoverWithoutFencing !== undefined,
  );
  if (twfEnv !== undefined) takeoverWithoutFencing = /^(yes|true|on|1)$/i.test(twfEnv);
  let lvsDr = t.lvsDr ?? false;
  const lvsDrEnv = fromEnv('lvs_dr', 'TSBEAT_LVS_DR', t.lvsDr !== undefined);
  if (lvsDrEnv !== undefined) {
    const b = parseBoolean(lvsDrEnv);
    if (b === undefined) {
      const at = envLine('TSBEAT_LVS_DR');
      // A warning, not an error: the env line was accepted by earlier builds, and a node that
      // cannot hide the VIPs can still be a director.
      diagnostics.push({
        severity: 'warning',
        file: input.haCfFile,
        ...(at ? { line: at.line, col: at.col } : {}),
        message: `env TSBEAT_LVS_DR=${lvsDrEnv} is not yes or no, so lvs-dr is not set up at start`,
        hint: `write "lvs_dr yes" in ${input.tsbeatCfFile} and remove the env line`,
      });
    } else lvsDr = b;
  }

  if (t.preferredSurvivor !== undefined && !haCf.nodes.includes(t.preferredSurvivor)) {
    const at = input.tsbeatCfSource.directives['preferred_survivor'];
    const guess = closest(t.preferredSurvivor, haCf.nodes);
    diagnostics.push({
      severity: 'error',
      file: input.tsbeatCfFile,
      ...(at ? { line: at.line, col: at.col } : {}),
      message: `preferred_survivor ${quote(t.preferredSurvivor)} is not a node of ha.cf (${haCf.nodes.join(', ')})`,
      hint: guess ? `did you mean "${guess}"?` : 'name one of the node lines of ha.cf',
    });
  }
  return {
    settings: {
      metrics: t.metrics,
      logjson: t.logjson,
      fenceDelayMs,
      preferredSurvivor,
      takeoverWithoutFencing,
      lvsDr,
    },
    diagnostics,
  };
}

/** The settings of a Config: tsbeat.cf as loaded, or (a Config built in code) ha.cf's env lines alone. */
export function tsbeatSettingsOf(config: {
  readonly haCf: HaCf;
  readonly tsbeat?: TsbeatSettings;
}): TsbeatSettings {
  return (
    config.tsbeat ??
    resolveTsbeatSettings({
      haCf: config.haCf,
      haCfFile: 'ha.cf',
      haCfText: '',
      tsbeatCf: {},
      tsbeatCfFile: 'tsbeat.cf',
      tsbeatCfSource: { directives: {} },
    }).settings
  );
}
