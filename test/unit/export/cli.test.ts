// `tsbeat export pacemaker` as an operator runs it (the built CLI): files written, the report
// on stdout, and for bad input file:line diagnostics and a non-zero exit, never a stack trace.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runTsbeat } from '../../support/cli.js';
import { FIXTURES, fixtureCopy, removeCopy } from '../../support/export.js';

const cleanup: string[] = [];
afterEach(() => {
  for (const d of cleanup.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsbeat-export-cli-'));
  cleanup.push(d);
  return d;
}
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at |unexpected error|internal error/);

describe('tsbeat export pacemaker', () => {
  it('writes the CIB, corosync.conf and the report, and prints the report', () => {
    const out = tmp();
    const r = runTsbeat(['export', 'pacemaker', '-c', FIXTURES['drbd-fs'], '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'cib.xml'), 'utf8')).toContain('<group id="grp-ip-10.0.0.50">');
    expect(readFileSync(join(out, 'corosync.conf'), 'utf8')).toContain('two_node: 1');
    const report = readFileSync(join(out, 'migration-report.txt'), 'utf8');
    expect(r.stdout.startsWith(report)).toBe(true);
    expect(r.stdout).toMatch(/haresources:4: changed: drbddisk::r0 -> promotable clone/);
    expect(r.stdout).toMatch(/\d+ items: 1 needs a decision \(DECIDE\)/);
  });

  it('--format crmsh and pcs write their scripts', () => {
    const out = tmp();
    expect(
      runTsbeat(['export', 'pacemaker', '-c', FIXTURES['lvs-dr'], '-o', out, '--format', 'crmsh']).code,
    ).toBe(0);
    expect(readFileSync(join(out, 'cib.crm'), 'utf8')).toMatch(/^group grp-ip-192\.168\.10\.100 /m);
    expect(runTsbeat(['export', 'pacemaker', '-c', FIXTURES['lvs-dr'], '-o', out, '-f', 'pcs']).code).toBe(0);
    expect(readFileSync(join(out, 'cib-pcs.sh'), 'utf8')).toMatch(/^pcs cluster cib-push "\$CIB" --config$/m);
  });

  it('a missing directory: each file named, exit 1, nothing written', () => {
    const out = tmp();
    const r = runTsbeat(['export', 'pacemaker', '-c', '/nonexistent/ha.d', '--out', join(out, 'o')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent/ha.d/ha.cf: error: ha.cf not found');
    expect(r.stderr).toContain('/nonexistent/ha.d/haresources: error: haresources not found');
    expect(existsSync(join(out, 'o'))).toBe(false);
    noStack(r.stderr);
  });

  it('a bad haresources line: file:line:col, exit 1', () => {
    const dir = fixtureCopy('lvs-dr', 'on');
    try {
      writeFileSync(join(dir, 'haresources'), '# x\n\nnode3 IPaddr2::10.0.0.300/24\n');
      const r = runTsbeat(['export', 'pacemaker', '-c', dir, '--out', join(dir, 'out')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${dir}/haresources:3:7: error: .*10\\.0\\.0\\.300`));
      expect(existsSync(join(dir, 'out'))).toBe(false);
      noStack(r.stderr);
    } finally {
      removeCopy(dir);
    }
  });

  it('an unmappable resource: file:line:col, exit 1', () => {
    const dir = fixtureCopy('drbd-fs', 'on');
    try {
      writeFileSync(join(dir, 'haresources'), 'alpha drbddisk::r0::r1\n');
      const r = runTsbeat(['export', 'pacemaker', '-c', dir, '--out', join(dir, 'out')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `${dir}/haresources:1:7: error: drbddisk::r0::r1: ocf:linbit:drbd manages one DRBD resource`,
      );
      expect(r.stderr).toContain('nothing written');
      noStack(r.stderr);
    } finally {
      removeCopy(dir);
    }
  });

  it('usage errors exit 2', () => {
    for (const args of [
      ['export'],
      ['export', 'crm'],
      ['export', 'pacemaker', '--format', 'json'],
      ['export', 'pacemaker', '--bogus'],
    ]) {
      const r = runTsbeat(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/usage: tsbeat export pacemaker|use xml, crmsh or pcs/);
      noStack(r.stderr);
    }
  });
});
