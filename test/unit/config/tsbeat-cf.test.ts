/**
 * tsbeat.cf (issue 16 item 1): tsbeat's own settings file, read through a directive table
 * like ha.cf, with file:line:col diagnostics that `tsbeat check` prints. Proves: every
 * directive's good and bad values; unknown, misplaced (an ha.cf directive) and repeated
 * directives; the optional file (absent is fine); the deprecated `env TSBEAT_*` lines of
 * ha.cf still work with a warning at their ha.cf line, and are ignored with a warning when
 * tsbeat.cf sets the same thing; a preferred survivor must be a node; and `tsbeat check`
 * shows these diagnostics and exits 1 on an error; the shipped example etc/ha.d/tsbeat.cf names
 * every directive, commented out at a value that, uncommented, changes no setting (loaded with
 * the lvs-dr example). The parsers run on real files in a temp dir.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { parseListen, parseTsbeatCf, TSBEAT_CF_DIRECTIVES } from '../../../src/config/tsbeat-cf.js';
import { formatDiagnostic } from '../../../src/lib/diagnostic.js';
import { runTsbeat } from '../../support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-cf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function configDir(files: { haCfExtra?: string; tsbeatCf?: string }): string {
  const dir = join(tmp, `c${n++}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'ha.cf'),
    `bcast eth0\nnode ra1 ra2\nlogfile /var/log/ha-log\nauto_failback on\n${files.haCfExtra ?? ''}`,
  );
  writeFileSync(join(dir, 'haresources'), '');
  writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 sha1 secret\n');
  chmodSync(join(dir, 'authkeys'), 0o600);
  if (files.tsbeatCf !== undefined) writeFileSync(join(dir, 'tsbeat.cf'), files.tsbeatCf);
  return dir;
}

const load = (dir: string) => loadConfig({ dir, host: null, localNode: 'ra1', runningUid: 0 });
const lines = (r: Awaited<ReturnType<typeof load>>) => r.diagnostics.map(formatDiagnostic);

describe('tsbeat.cf parser', () => {
  it('reads every directive', () => {
    const r = parseTsbeatCf(
      '# tsbeat only\nmetrics 127.0.0.1:9694\nlogjson /var/log/tsbeat.json\nfence_delay 500ms\npreferred_survivor RA2\ntakeover_without_fencing yes\nlvs_dr yes\n',
      'tsbeat.cf',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.tsbeatCf).toEqual({
      metrics: { host: '127.0.0.1', port: 9694 },
      logjson: '/var/log/tsbeat.json',
      fenceDelayMs: 500,
      preferredSurvivor: 'ra2',
      takeoverWithoutFencing: true,
      lvsDr: true,
    });
  });

  it('lvs_dr takes yes or no', () => {
    expect(parseTsbeatCf('lvs_dr no', 'f').tsbeatCf.lvsDr).toBe(false);
    expect(parseTsbeatCf('lvs_dr maybe', 'f').diagnostics.map(formatDiagnostic)).toEqual([
      'f:1:8: error: lvs_dr: "maybe" is not yes or no (write "lvs_dr yes" or "lvs_dr no")',
    ]);
  });

  it.each([
    ['metrics 9694', { host: '127.0.0.1', port: 9694 }],
    ['metrics [::1]:9100', { host: '::1', port: 9100 }],
    ['metrics 10.0.0.1:9694', { host: '10.0.0.1', port: 9694 }],
  ])('%s', (line, listen) => {
    expect(parseTsbeatCf(line, 'f').tsbeatCf.metrics).toEqual(listen);
  });

  it('a metrics listener off loopback is a warning naming the exposure', () => {
    const r = parseTsbeatCf('metrics 10.0.0.1:9694\n', 'f');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      expect.stringMatching(/^f:1:9: warning: metrics: listening on 10\.0\.0\.1, not on loopback/),
    ]);
  });

  it.each([
    ['metrics 127.0.0.1:99999', /f:1:9: error: metrics: "99999" is not a port/],
    ['metrics 300.1.1.1:80', /f:1:9: error: metrics: "300\.1\.1\.1" is not an IPv4 address/],
    ['metrics ::1:80', /brackets/],
    ['logjson tsbeat.json', /f:1:9: error: logjson: "tsbeat\.json" is not an absolute path/],
    ['fence_delay soon', /f:1:13: error: fence_delay: "soon" is not a time/],
    ['takeover_without_fencing maybe', /error: takeover_without_fencing: "maybe" is not yes or no/],
    ['metrics', /f:1:8: error: metrics takes one value \(write e\.g\. "metrics 127\.0\.0\.1:9694"\)/],
    ['fence_delay 1 2', /error: fence_delay takes one value/],
    ['  fenc_delay 5', /f:1:3: error: unknown directive "fenc_delay" \(did you mean "fence_delay"\?\)/],
    ['logfile /var/log/x', /unknown directive "logfile" \("logfile" belongs in ha\.cf/],
  ])('%s', (line, re) => {
    const d = parseTsbeatCf(`${line}\n`, 'f').diagnostics.map(formatDiagnostic);
    expect(d).toEqual([expect.stringMatching(re)]);
  });

  it('a repeated directive: the later line wins, with a warning', () => {
    const r = parseTsbeatCf('fence_delay 1\nfence_delay 2\n', 'f');
    expect(r.tsbeatCf.fenceDelayMs).toBe(2000);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'f:2:1: warning: fence_delay was already set on line 1; this line wins',
    ]);
  });

  it('parseListen: off', () => {
    expect(parseListen('off')).toBe('off');
  });
});

describe('tsbeat.cf in the configuration', () => {
  it('absent: defaults, no diagnostics', async () => {
    const r = await load(configDir({}));
    expect(lines(r)).toEqual([]);
    expect(r.config?.tsbeat).toEqual({
      metrics: undefined,
      logjson: undefined,
      fenceDelayMs: 5000,
      preferredSurvivor: 'ra1',
      takeoverWithoutFencing: false,
      lvsDr: false,
    });
  });

  it('old env names keep working, each with a deprecation warning at its ha.cf line', async () => {
    const dir = configDir({
      haCfExtra:
        'env TSBEAT_FENCE_DELAY=2\nenv TSBEAT_PREFERRED_SURVIVOR=ra2\nenv TSBEAT_TAKEOVER_WITHOUT_FENCING=yes\nenv TSBEAT_LVS_DR=yes\n',
    });
    const r = await load(dir);
    expect(r.config?.tsbeat).toMatchObject({
      fenceDelayMs: 2000,
      preferredSurvivor: 'ra2',
      takeoverWithoutFencing: true,
      lvsDr: true,
    });
    expect(lines(r)).toEqual([
      `${dir}/ha.cf:5:1: warning: env TSBEAT_FENCE_DELAY is deprecated: tsbeat-only settings belong in ${dir}/tsbeat.cf (move it: write "fence_delay 2" in ${dir}/tsbeat.cf and remove the env line)`,
      `${dir}/ha.cf:6:1: warning: env TSBEAT_PREFERRED_SURVIVOR is deprecated: tsbeat-only settings belong in ${dir}/tsbeat.cf (move it: write "preferred_survivor ra2" in ${dir}/tsbeat.cf and remove the env line)`,
      `${dir}/ha.cf:7:1: warning: env TSBEAT_TAKEOVER_WITHOUT_FENCING is deprecated: tsbeat-only settings belong in ${dir}/tsbeat.cf (move it: write "takeover_without_fencing yes" in ${dir}/tsbeat.cf and remove the env line)`,
      `${dir}/ha.cf:8:1: warning: env TSBEAT_LVS_DR is deprecated: tsbeat-only settings belong in ${dir}/tsbeat.cf (move it: write "lvs_dr yes" in ${dir}/tsbeat.cf and remove the env line)`,
    ]);
  });

  it('tsbeat.cf wins over an env line, which is reported as ignored', async () => {
    const dir = configDir({ haCfExtra: 'env TSBEAT_FENCE_DELAY=2\n', tsbeatCf: 'fence_delay 7\n' });
    const r = await load(dir);
    expect(r.config?.tsbeat?.fenceDelayMs).toBe(7000);
    expect(lines(r)).toEqual([
      `${dir}/ha.cf:5:1: warning: env TSBEAT_FENCE_DELAY is deprecated and ignored: ${dir}/tsbeat.cf sets fence_delay (remove the env line from ha.cf)`,
    ]);
  });

  it('a preferred survivor that is no node is an error at its tsbeat.cf line', async () => {
    const dir = configDir({ tsbeatCf: '\npreferred_survivor ra3\n' });
    const r = await load(dir);
    expect(r.config).toBeUndefined();
    expect(lines(r)).toEqual([
      `${dir}/tsbeat.cf:2:1: error: preferred_survivor "ra3" is not a node of ha.cf (ra1, ra2) (did you mean "ra1"?)`,
    ]);
  });

  it("tsbeat check's summary says what tsbeat.cf turns on", () => {
    const dir = configDir({ tsbeatCf: 'metrics 9694\nlogjson /var/log/tsbeat.json\n' });
    const r = runTsbeat(['check', '-c', dir, '--node', 'ra1', '--offline']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(
      'Metrics are served at http://127.0.0.1:9694/metrics. JSON log records also go to /var/log/tsbeat.json.',
    );
  });

  it('tsbeat check prints tsbeat.cf problems as file:line:col and exits 1', async () => {
    const dir = configDir({ tsbeatCf: 'metrics 127.0.0.1:0\n' });
    const r = runTsbeat(['check', '-c', dir, '--node', 'ra1', '--offline', '-q']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(
      `${dir}/tsbeat.cf:1:9: error: metrics: "0" is not a port (1-65535)`,
    );
  });
});

describe('tsbeat(8) documents tsbeat.cf', () => {
  it('has a tagged entry for every directive, and none for a directive that does not exist', () => {
    const page = readFileSync(new URL('../../../man/tsbeat.8', import.meta.url), 'utf8');
    const start = page.indexOf('.SH TSBEAT.CF');
    const section = page.slice(start, page.indexOf('\n.SH', start + 5));
    const tags = [...section.matchAll(/^\.TP\n\.B[IR]? ([a-z_]+)/gm)].map((m) => m[1]);
    expect(tags).toEqual([...TSBEAT_CF_DIRECTIVES]);
  });
});

describe('the example etc/ha.d/tsbeat.cf', () => {
  const example = readFileSync(new URL('../../../etc/ha.d/tsbeat.cf', import.meta.url), 'utf8');
  // Lines such as "#fence_delay 5": a directive commented out, with its value.
  const commented = [...example.matchAll(/^#([a-z_]+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);

  /** The settings loaded from a copy of the lvs-dr example, with `tsbeatCf` as its tsbeat.cf. */
  async function settingsWith(tsbeatCf: string | undefined) {
    const dir = join(tmp, `example-${n++}`);
    cpSync(new URL('../../../etc/ha.d/lvs-dr', import.meta.url), dir, { recursive: true });
    chmodSync(join(dir, 'authkeys'), 0o600);
    if (tsbeatCf !== undefined) writeFileSync(join(dir, 'tsbeat.cf'), tsbeatCf);
    const r = await loadConfig({ dir, host: null, localNode: 'node1', runningUid: 0 });
    return { diagnostics: lines(r), settings: r.config?.tsbeat };
  }

  it('as shipped sets nothing and reports nothing', async () => {
    expect(parseTsbeatCf(example, 'tsbeat.cf')).toEqual({
      tsbeatCf: {},
      source: { directives: {} },
      diagnostics: [],
    });
  });

  it('has every directive commented out, once each, in the parser order', () => {
    expect(commented.map(([name]) => name)).toEqual([...TSBEAT_CF_DIRECTIVES]);
  });

  it('each commented value is the default: uncommented, every line gives what no file gives', async () => {
    const none = await settingsWith(undefined);
    expect(none.diagnostics.filter((l) => / error: /.test(l))).toEqual([]);
    expect(none.settings).toBeDefined();
    const all = await settingsWith(example.replace(/^#([a-z_]+ \S+)$/gm, '$1'));
    expect(all.diagnostics).toEqual(none.diagnostics);
    expect(all.settings).toEqual(none.settings);
  });
});
