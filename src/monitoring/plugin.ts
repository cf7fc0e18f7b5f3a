// Part: the Monitoring Plugins interface (Nagios, Icinga, Naemon, Centreon): service states and
// their exit codes, threshold ranges, performance data and the output line. No tsbeat knowledge.
// Follows the Monitoring Plugins development guidelines, sections "Plugin return codes",
// "Threshold and ranges" and "Performance data".

/** The four service states, in rising order of severity except UNKNOWN (see worst()). */
export const PLUGIN_STATES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
export type PluginState = (typeof PLUGIN_STATES)[number];

/** Exit status of each state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export function exitCode(state: PluginState): 0 | 1 | 2 | 3 {
  return PLUGIN_STATES.indexOf(state) as 0 | 1 | 2 | 3;
}

/**
 * The state that wins: CRITICAL over WARNING over UNKNOWN over OK. UNKNOWN ranks below the
 * problems a plugin did see (a dead peer stays CRITICAL even if one figure was unreadable), as
 * the guidelines' reference library does when it combines results.
 */
export function worst(states: readonly PluginState[]): PluginState {
  const rank: Record<PluginState, number> = { OK: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3 };
  let w: PluginState = 'OK';
  for (const s of states) if (rank[s] > rank[w]) w = s;
  return w;
}

/**
 * A threshold range, `[@]start:end`: a value outside start..end (both included) raises the
 * alert; with `@`, a value inside does. `10` means 0:10, `10:` means 10 to infinity, `~:10`
 * means minus infinity to 10.
 */
export interface Range {
  readonly start: number;
  readonly end: number;
  readonly inside: boolean;
  /** As written (normalised), for perfdata. */
  readonly text: string;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parse a range; a string is the reason it is not one. */
export function parseRange(text: string): Range | string {
  const t = text.trim();
  const inside = t.startsWith('@');
  const body = inside ? t.slice(1) : t;
  if (body === '') return `"${text}" is not a range: nothing after "@"`;
  const colon = body.indexOf(':');
  let startText: string;
  let endText: string;
  if (colon < 0) {
    startText = '0';
    endText = body;
  } else {
    startText = body.slice(0, colon);
    endText = body.slice(colon + 1);
  }
  let start: number;
  if (startText === '~') start = Number.NEGATIVE_INFINITY;
  else if (startText === '') start = 0;
  else if (NUMBER.test(startText)) start = Number(startText);
  else return `"${text}" is not a range: start "${startText}" is not a number or "~"`;
  let end: number;
  if (endText === '' && colon >= 0) end = Number.POSITIVE_INFINITY;
  else if (NUMBER.test(endText)) end = Number(endText);
  else return `"${text}" is not a range: end "${endText}" is not a number`;
  if (start > end) return `"${text}" is not a range: start ${start} is above end ${end}`;
  return { start, end, inside, text: t };
}

/** Whether `value` raises the alert of `range`. */
export function alerts(range: Range, value: number): boolean {
  const within = value >= range.start && value <= range.end;
  return range.inside ? within : !within;
}

/** The range that alerts on values below `min` (`min:`), for thresholds computed per item. */
export function atLeast(min: number): Range {
  return { start: min, end: Number.POSITIVE_INFINITY, inside: false, text: `${min}:` };
}

/** The range that alerts on values above `max` (`max`, i.e. 0:max). */
export function atMost(max: number): Range {
  return { start: 0, end: max, inside: false, text: `${max}` };
}

/** State of a value against a warning and a critical range (either may be absent). */
export function thresholdState(value: number, warning?: Range, critical?: Range): PluginState {
  if (critical && alerts(critical, value)) return 'CRITICAL';
  if (warning && alerts(warning, value)) return 'WARNING';
  return 'OK';
}

export interface PerfDatum {
  readonly label: string;
  readonly value: number;
  /** '', 's', 'ms', 'us', '%', 'B', 'KB', 'MB', 'TB' or 'c'. */
  readonly uom?: string;
  readonly warning?: Range;
  readonly critical?: Range;
  readonly min?: number;
  readonly max?: number;
}

/**
 * `'label'=value[UOM];[warn];[crit];[min];[max]`, trailing empty fields dropped. The label is
 * always quoted; `'` and `=` in it (which some graphing tools cannot take even quoted) become `_`.
 */
export function formatPerfDatum(p: PerfDatum): string {
  const label = p.label.replace(/['=\s]/g, '_');
  const num = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '' : String(n));
  const fields = [
    `'${label}'=${num(p.value) || '0'}${p.uom ?? ''}`,
    p.warning?.text ?? '',
    p.critical?.text ?? '',
    num(p.min),
    num(p.max),
  ];
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return fields.join(';');
}

/**
 * The plugin's whole output: `SERVICE STATE - summary | perfdata`, then one line per detail
 * (the guidelines' long output). A `|` in the text would cut it short, so it becomes `/`.
 */
export function formatOutput(
  service: string,
  state: PluginState,
  summary: string,
  perf: readonly PerfDatum[],
  details: readonly string[] = [],
): string {
  const clean = (s: string): string => s.replace(/\|/g, '/').replace(/[\r\n]+/g, ' ');
  const head = `${service} ${state} - ${clean(summary)}`;
  const perfText = perf.map(formatPerfDatum).join(' ');
  const lines = [perfText ? `${head} | ${perfText}` : head, ...details.map(clean)];
  return `${lines.join('\n')}\n`;
}
