// Reads the real heartbeat transcripts in test/fixtures/cl_status/ and normalises what must
// differ between two runs (time stamps, pids), for the replay and comparison tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/cl_status/', import.meta.url));

export interface Invocation {
  /** The node the command ran on, e.g. ra1. */
  readonly node: string;
  /** The command line as recorded. */
  readonly command: string;
  /** The program's arguments (after the program path). */
  readonly args: string[];
  readonly program: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Blocks `### [node] $ command` / `--- stdout:` / `--- stderr:` / `--- exit code: N`. */
export function readTranscript(file: string): Invocation[] {
  const text = readFileSync(`${FIXTURES}${file}`, 'utf8');
  const out: Invocation[] = [];
  const re = /^### \[(\S+)\] \$ (.*)\n--- stdout:\n([\s\S]*?)--- stderr:\n([\s\S]*?)--- exit code: (\d+)$/gm;
  for (const m of text.matchAll(re)) {
    const words = m[2]!.split(' ');
    // `su -s /bin/sh USER -c cl_status ARGS` and `timeout 5 PROGRAM ARGS`: the program's part.
    const at = words.findIndex((w) => /(^|\/)(cl_status|hb_standby|hb_takeover)$/.test(w));
    out.push({
      node: m[1]!,
      command: m[2]!,
      program: at >= 0 ? words[at]! : words[0]!,
      args: at >= 0 ? words.slice(at + 1) : words.slice(1),
      stdout: m[3]!,
      stderr: m[4]!,
      code: Number(m[5]),
    });
  }
  return out;
}

/** `cl_status-hbparameter.txt`: `NAME   output lines joined by | then "| rc=N"`. */
export function readParameterTranscript(): { name: string; lines: string[]; code: number }[] {
  const text = readFileSync(`${FIXTURES}cl_status-hbparameter.txt`, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\S+) +(.*)\| rc=(\d+)$/.exec(l);
      if (!m) throw new Error(`unreadable line: ${l}`);
      return { name: m[1]!, lines: m[2]!.split('|'), code: Number(m[3]) };
    });
}

/** cl_log lines: time stamp and pid replaced (`<TIME> ra1 cl_status: [<PID>]: ERROR: ...`). */
export function normaliseLog(text: string): string {
  return text
    .replace(
      /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (\S+) cl_status: \[\d+\]: /gm,
      '<TIME> $1 cl_status: [<PID>]: ',
    )
    .replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /gm, '<TIME> ');
}
