/**
 * Replays the configuration transcript recorded against the real heartbeat 3.0.6
 * (test/fixtures/heartbeat/config-tests.txt: 150 ha.cf, authkeys and haresources cases with
 * heartbeat's stderr and exit status) through tsbeat's loader, with host facts of the lab
 * machine where it was recorded. For every case tsbeat must reach the same verdict: heartbeat
 * exit 6 (refuses to start) <=> tsbeat reports at least one error; exit 0 <=> no error.
 * Where heartbeat printed an error line naming something, tsbeat's error must be on the line
 * of ha.cf that holds it.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { formatDiagnostic } from '../../../src/lib/diagnostic.js';
import { labHost } from '../../support/fake-host.js';

interface Case {
  name: string;
  haCf?: string;
  authkeys?: { text: string; mode: number };
  haresources?: string;
  exit: number;
  stderr: string;
}

function parseTranscript(text: string): Case[] {
  const cases: Case[] = [];
  for (const block of text.split(/^=+$/m)) {
    const name = /^## TEST: (.*)$/m.exec(block)?.[1];
    const exit = /^--- exit code: (\d+)/m.exec(block)?.[1];
    if (!name || exit === undefined) continue;
    const section = (header: RegExp): string | undefined => {
      const lines = block.split('\n');
      const start = lines.findIndex((l) => header.test(l));
      if (start < 0) return undefined;
      const body: string[] = [];
      for (const l of lines.slice(start + 1)) {
        if (!l.startsWith('    ') && l !== '') break;
        body.push(l.slice(4));
      }
      return body.join('\n');
    };
    const c: Case = { name, exit: Number(exit), stderr: block.split('--- stderr:')[1] ?? '' };
    const haCf = section(/^--- ha\.cf:/);
    if (haCf !== undefined) c.haCf = `${haCf}\n`;
    const auth = /^--- authkeys \(mode (\d+)\):/m.exec(block);
    if (auth) c.authkeys = { text: `${section(/^--- authkeys/)}\n`, mode: Number.parseInt(auth[1]!, 8) };
    const res = section(/^--- haresources:/);
    if (res !== undefined) c.haresources = `${res}\n`;
    cases.push(c);
  }
  return cases;
}

const transcript = readFileSync(
  new URL('../../fixtures/heartbeat/config-tests.txt', import.meta.url),
  'utf8',
);
const cases = parseTranscript(transcript);
const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-transcript-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('heartbeat 3.0.6 config transcript', () => {
  it('has the 150 recorded cases the README counts', () => {
    expect(cases.length).toBe(150);
  });

  it.each(cases.map((c, i) => [i, c.name, c] as const))('case %i: %s', async (i, _name, c) => {
    const dir = join(tmp, `case${i}`);
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ha.cf'), c.haCf ?? '');
    if (!/authkeys missing/.test(c.name)) {
      const auth = c.authkeys ?? { text: 'auth 1\n1 sha1 rmlab-secret\n', mode: 0o600 };
      writeFileSync(join(dir, 'authkeys'), auth.text);
      chmodSync(join(dir, 'authkeys'), auth.mode);
    }
    if (!/haresources missing/.test(c.name)) {
      writeFileSync(
        join(dir, 'haresources'),
        c.haresources ?? 'ra1 IPaddr2::10.82.0.100/25/eth0 TestRes::svc1\n',
      );
    }
    const result = await loadConfig({ dir, host: labHost(dir) });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    const shown = result.diagnostics.map(formatDiagnostic).join('\n');
    if (c.exit === 6) {
      expect(errors.length, `heartbeat refused this config; tsbeat said:\n${shown}`).toBeGreaterThan(0);
    } else {
      expect(errors, `heartbeat accepted this config; tsbeat said:\n${shown}`).toEqual([]);
      expect(result.config).toBeDefined();
    }
  });
});
