/**
 * The man pages in man/ are correct roff and say what the code does. For every page this
 * proves that man-db and groff render it without a single warning (groff with all warning
 * categories on) and with output, that it is plain man(7) roff (a .TH matching its file
 * name, a short list of macros, no blank lines outside examples), and that it has the
 * standard sections (NAME in "name \- summary" form, SYNOPSIS, DESCRIPTION, SEE
 * ALSO, which names the other pages). Against the code it proves that ha.cf(5) has a
 * tagged entry for every directive the parser accepts (KNOWN_DIRECTIVES) and no entry for
 * a directive that does not exist, that tsbeat.cf(5) does the same for TSBEAT_CF_DIRECTIVES
 * (in the parser's order) and that its example parses without a diagnostic, and that tsbeat(8) documents every option of `tsbeat
 * check` (long and short form together, as CHECK_USAGE pairs them) and of `tsbeat wire
 * decode` and `tsbeat export pacemaker`, and no option that none of the commands has. It needs man-db and groff-base
 * (scripts/install-deps.sh installs them).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHECK_USAGE } from '../../../src/cli/check.js';
import { START_USAGE, STOP_USAGE } from '../../../src/cli/daemon-cmds.js';
import { EXPLAIN_USAGE } from '../../../src/cli/explain.js';
import { EXPORT_USAGE } from '../../../src/cli/export.js';
import { FENCE_USAGE } from '../../../src/cli/fence.js';
import { INSTALL_AGENTS_USAGE } from '../../../src/cli/install-agents.js';
import { WIRE_USAGE } from '../../../src/cli/wire.js';
import { KNOWN_DIRECTIVES } from '../../../src/config/hacf.js';
import { parseTsbeatCf, TSBEAT_CF_DIRECTIVES } from '../../../src/config/tsbeat-cf.js';

const MAN_DIR = fileURLToPath(new URL('../../../man/', import.meta.url));
const PAGES = readdirSync(MAN_DIR)
  .filter((f) => /^[^.].*\.[1-8]$/.test(f))
  .sort();
const source = (page: string): string => readFileSync(join(MAN_DIR, page), 'utf8');
const sectionOf = (page: string): string => page.slice(page.lastIndexOf('.') + 1);
const nameOf = (page: string): string => page.slice(0, page.lastIndexOf('.'));

/** Run a formatter; a missing program fails the test with a way out, not a skip. */
function run(
  cmd: string,
  args: readonly string[],
): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, LC_ALL: 'C.UTF-8', MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' },
  });
  if (r.error) {
    throw new Error(
      `cannot run ${cmd} (${r.error.message}): install man-db and groff-base (scripts/install-deps.sh)`,
    );
  }
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** The text of a roff line with macro name, quotes and font/escape sequences removed. */
function plain(line: string): string {
  return line
    .replace(/^\.[A-Z]{1,2}\s*/, '')
    .replace(/\\f[BIRPC]/g, '')
    .replace(/\\-/g, '-')
    .replace(/\\&/g, '')
    .replace(/"/g, '')
    .trim();
}

/** The .SH headings of a page, in order. */
function headings(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('.SH '))
    .map((l) => plain(l));
}

/** The lines of one .SH section (without its heading). */
function sectionLines(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('.SH ') && plain(l) === heading);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.startsWith('.SH '));
  return lines.slice(start + 1, end < 0 ? lines.length : end);
}

/** Tag lines of the .TP paragraphs at the outer level of `lines` (not inside .RS/.RE). */
function outerTags(lines: readonly string[]): string[] {
  const tags: string[] = [];
  let depth = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('.RS')) depth++;
    else if (l.startsWith('.RE')) depth--;
    else if (l === '.TP' && depth === 0 && i + 1 < lines.length) tags.push(lines[i + 1]!);
  }
  return tags;
}

describe('man pages', () => {
  it('are all there', () => {
    expect(PAGES).toEqual([
      'authkeys.5',
      'check_tsbeat.8',
      'cl_status.1',
      'ha.cf.5',
      'haresources.5',
      'hb_standby.1',
      'hb_takeover.1',
      'tsbeat.8',
      'tsbeat.cf.5',
    ]);
  });

  describe.each(PAGES)('%s', (page) => {
    const file = join(MAN_DIR, page);
    const text = source(page);

    it('renders with man-db without warnings', () => {
      const r = run('man', ['--warnings', '-E', 'UTF-8', '-l', file]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(500);
    });

    it('renders with groff with every warning enabled, and without any', () => {
      const r = run('groff', ['-man', '-Tutf8', '-ww', '-z', file]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // Plain text (no bold/underline sequences): the page's own name heads it.
      const out = run('groff', ['-man', '-Tutf8', '-P-c', '-P-b', '-P-o', '-P-u', file]);
      expect(out.stdout).toContain(`${nameOf(page).toUpperCase()}(${sectionOf(page)})`);
      expect(out.stdout).toMatch(/^NAME$/m);
    });

    it('uses plain, portable roff', () => {
      const lines = text.split('\n');
      expect(lines[0]).toMatch(
        new RegExp(`^\\.TH ${nameOf(page).toUpperCase().replace('.', '\\.')} ${sectionOf(page)} \\S+ "`),
      );
      expect(lines.filter((l) => /\s$/.test(l))).toEqual([]); // trailing blanks
      // Blank lines only inside examples, where they are kept as they are.
      let inExample = false;
      const blank: number[] = [];
      lines.slice(0, -1).forEach((l, i) => {
        if (l === '.EX') inExample = true;
        else if (l === '.EE') inExample = false;
        else if (l === '' && !inExample) blank.push(i + 1);
      });
      expect(blank).toEqual([]);
      expect(lines.at(-1)).toBe('');
      const macros = new Set(lines.filter((l) => l.startsWith('.')).map((l) => l.split(/\s/)[0]));
      const allowed = ['.TH', '.SH', '.SS', '.TP', '.IP', '.PP', '.RS', '.RE', '.EX', '.EE', '.br'];
      allowed.push('.B', '.I', '.BI', '.BR', '.IB', '.IR', '.RB', '.RI', '.hw');
      expect([...macros].filter((m) => !allowed.includes(m!))).toEqual([]);
    });

    it('has NAME, SYNOPSIS, DESCRIPTION and SEE ALSO, in the usual order', () => {
      // A file format page (section 5) may go straight from NAME to DESCRIPTION.
      const required =
        sectionOf(page) === '5'
          ? ['NAME', 'DESCRIPTION', 'SEE ALSO']
          : ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'SEE ALSO'];
      const h = headings(text);
      const wanted = ['NAME', 'SYNOPSIS', 'DESCRIPTION'].filter((s) => required.includes(s) || h.includes(s));
      expect(h.slice(0, wanted.length)).toEqual(wanted);
      for (const s of required) expect(h).toContain(s);
      const name = sectionLines(text, 'NAME').join(' ');
      expect(name).toMatch(new RegExp(`^${nameOf(page).replace('.', '\\.')} \\\\- \\S`));
    });

    it('refers to the other pages in SEE ALSO', () => {
      const seeAlso = sectionLines(text, 'SEE ALSO').join('\n');
      for (const other of PAGES.filter((p) => p !== page)) {
        expect(seeAlso).toContain(`.BR ${nameOf(other)} (${sectionOf(other)})`);
      }
    });
  });
});

describe('ha.cf(5) and the parser agree', () => {
  const tags = outerTags(sectionLines(source('ha.cf.5'), 'DIRECTIVES')).map((l) => plain(l).split(/\s/)[0]!);

  it('documents every directive heartbeat accepts in an entry of its own', () => {
    expect(KNOWN_DIRECTIVES.length).toBeGreaterThan(50);
    expect(KNOWN_DIRECTIVES.filter((d) => !tags.includes(d))).toEqual([]);
  });

  it('documents no directive the parser does not know, and none twice', () => {
    expect(tags.filter((t) => !KNOWN_DIRECTIVES.includes(t))).toEqual([]);
    expect(tags.filter((t, i) => tags.indexOf(t) !== i)).toEqual([]);
  });

  it('mentions the old name udp and the unsupported normalpoll', () => {
    const text = source('ha.cf.5');
    expect(text).toMatch(/^\.B udp$/m);
    expect(text).toMatch(/^\.B normalpoll$/m);
  });
});

describe('tsbeat.cf(5) and the parser agree', () => {
  const text = source('tsbeat.cf.5');
  const tags = outerTags(sectionLines(text, 'DIRECTIVES')).map((l) => plain(l).split(/\s/)[0]!);

  it("documents every directive in an entry of its own, in the parser's order, and no other", () => {
    expect(TSBEAT_CF_DIRECTIVES.length).toBeGreaterThan(5);
    expect(tags).toEqual([...TSBEAT_CF_DIRECTIVES]);
  });

  it('has an example that the parser reads without a diagnostic', () => {
    const example = sectionLines(text, 'EXAMPLE');
    const body = example.slice(example.indexOf('.EX') + 1, example.indexOf('.EE'));
    const r = parseTsbeatCf(body.join('\n').replace(/\\-/g, '-'), 'tsbeat.cf');
    expect(r.diagnostics).toEqual([]);
    expect(Object.keys(r.tsbeatCf).length).toBeGreaterThan(3);
  });
});

describe('tsbeat(8) and the commands agree', () => {
  const text = source('tsbeat.8');
  const checkTags = outerTags(sectionLines(text, 'TSBEAT CHECK')).map(plain);
  const wireTags = outerTags(sectionLines(text, 'TSBEAT WIRE DECODE')).map(plain);
  const startTags = outerTags(sectionLines(text, 'TSBEAT START')).map(plain);

  /** Option lines of a usage text: `  -c, --config DIR   ...` gives ['--config', '-c']. */
  const usageOptions = (usage: string): [string, string | undefined][] =>
    [...usage.matchAll(/^ {2}(?:(-[a-zA-Z]), )? *(--[a-z][a-z-]*)/gm)].map((m) => [m[2]!, m[1]]);

  it('documents every option of tsbeat check, with its short form', () => {
    const options = usageOptions(CHECK_USAGE);
    expect(options.map(([long]) => long)).toEqual(
      expect.arrayContaining(['--config', '--node', '--offline', '--json', '--quiet', '--help']),
    );
    for (const [long, short] of options) {
      const tag = checkTags.find((t) => t.split(/[\s,]+/).includes(long));
      expect(tag, `no .TP entry for ${long}`).toBeDefined();
      if (short) expect(tag!.split(/[\s,]+/)).toContain(short);
    }
  });

  it('documents every option of tsbeat wire decode', () => {
    const options = usageOptions(WIRE_USAGE);
    expect(options.map(([long]) => long)).toEqual(expect.arrayContaining(['--authkeys', '--roundtrip']));
    for (const [long, short] of options) {
      const tag = wireTags.find((t) => t.split(/[\s,]+/).includes(long));
      expect(tag, `no .TP entry for ${long}`).toBeDefined();
      if (short) expect(tag!.split(/[\s,]+/)).toContain(short);
    }
  });

  it('documents every option of tsbeat start, with its short form', () => {
    const options = usageOptions(START_USAGE);
    expect(options.map(([long]) => long)).toEqual(
      expect.arrayContaining(['--config', '--node', '--foreground', '--log-json']),
    );
    for (const [long, short] of options) {
      const tag = startTags.find((t) => t.split(/[\s,]+/).includes(long));
      expect(tag, `no .TP entry for ${long}`).toBeDefined();
      if (short) expect(tag!.split(/[\s,]+/)).toContain(short);
    }
  });

  it('documents every option of tsbeat export pacemaker, with its short form', () => {
    const exportTags = outerTags(sectionLines(text, 'TSBEAT EXPORT PACEMAKER')).map(plain);
    const options = usageOptions(EXPORT_USAGE);
    expect(options.map(([long]) => long)).toEqual(
      expect.arrayContaining(['--config', '--out', '--format', '--provider', '--service', '--help']),
    );
    for (const [long, short] of options) {
      const tag = exportTags.find((t) => t.split(/[\s,]+/).includes(long));
      expect(tag, `no .TP entry for ${long}`).toBeDefined();
      if (short) expect(tag!.split(/[\s,]+/)).toContain(short);
    }
  });

  it('documents no option that does not exist', () => {
    // --version is handled by the dispatcher (src/cli/tsbeat.ts), which runs on import.
    const known = new Set(
      [
        ...CHECK_USAGE.matchAll(/--[a-z][a-z-]*/g),
        ...WIRE_USAGE.matchAll(/--[a-z][a-z-]*/g),
        ...START_USAGE.matchAll(/--[a-z][a-z-]*/g),
        ...STOP_USAGE.matchAll(/--[a-z][a-z-]*/g),
        ...FENCE_USAGE.matchAll(/--[a-z][a-z-]*/g),
        ...INSTALL_AGENTS_USAGE.matchAll(/--[a-z][a-z-]*/g),
        ...EXPLAIN_USAGE.matchAll(/--[a-z][a-z-]*/g),
        ...EXPORT_USAGE.matchAll(/--[a-z][a-z-]*/g),
        ...['--json'].map((j) => [j]),
      ].map((m) => m[0]),
    );
    known.add('--version');
    const documented = new Set(
      [...text.replace(/\\-/g, '-').matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]),
    );
    expect([...documented].filter((o) => !known.has(o))).toEqual([]);
  });

  it('names the exit statuses of tsbeat check as CHECK_USAGE does', () => {
    expect(CHECK_USAGE).toMatch(/0 usable.*1 errors found, 2 usage error/s);
    const exit = outerTags(text.split('\n').slice(text.split('\n').indexOf('.SS Exit status'))).slice(0, 3);
    expect(exit.map(plain)).toEqual(['0', '1', '2']);
  });
});
