// Part: `tsbeat export pacemaker`: reads /etc/ha.d with tsbeat's own parsers, runs the pure
// export core (src/export/), writes the CIB (or a crmsh/pcs script) and corosync.conf, and
// prints the migration report.

import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAuthkeys } from '../config/authkeys.js';
import { type HaCfResult, type Pos, parseHaCf } from '../config/hacf.js';
import { parseHaresources } from '../config/haresources.js';
import { decodeConfigText, MAX_CONFIG_BYTES } from '../config/load.js';
import type { StonithConfig } from '../config/model.js';
import { parseTsbeatCf, resolveTsbeatSettings } from '../config/tsbeat-cf.js';
import { validateCrossFile } from '../config/validate.js';
import type { ExportInput, OcfProvider, ReportEntry, ServiceClass } from '../export/model.js';
import { exportPacemaker } from '../export/pacemaker.js';
import { renderCib, renderCrmsh, renderPcs } from '../export/render.js';
import {
  compareCodeUnits,
  type Diagnostic,
  formatDiagnostic,
  hasErrors,
  sortDiagnostics,
} from '../lib/diagnostic.js';
import { printable, quoted } from '../lib/printable.js';

export const EXPORT_USAGE = `usage: tsbeat export pacemaker [-c DIR] [--out DIR] [--format xml|crmsh|pcs]
                             [--provider heartbeat|tsbeat] [--service lsb|systemd]

Turns DIR/ha.cf, DIR/haresources and DIR/authkeys (DIR defaults to /etc/ha.d) into a
Pacemaker configuration and a Corosync 3 corosync.conf, and prints a migration report:
every directive and resource, what it became, and what needs a human decision.

  -c, --config DIR      heartbeat configuration directory (default /etc/ha.d)
  -o, --out DIR         where to write (default ./pacemaker); created if missing:
                          cib.xml (xml), cib.crm (crmsh) or cib-pcs.sh (pcs),
                          corosync.conf, migration-report.txt
  -f, --format FORMAT   xml (default): a CIB for crm_verify and cibadmin --replace;
                        crmsh: for crm configure load update; pcs: a pcs script
      --provider NAME   OCF provider of the agents resource-agents also ships:
                        heartbeat (default) or tsbeat (tsbeat install-agents)
      --service CLASS   class for init scripts: lsb (default) or systemd
  -h, --help            this text

Exit status: 0 written (the report may list decisions), 1 input errors (nothing written),
2 usage error.
`;

const FILE_OF = { xml: 'cib.xml', crmsh: 'cib.crm', pcs: 'cib-pcs.sh' } as const;

type Read = { ok: true; text: string; bytes: Buffer } | { ok: false; diagnostic: Diagnostic };

async function readConfigFile(file: string, what: string): Promise<Read> {
  try {
    const st = await stat(file);
    if (!st.isFile())
      return { ok: false, diagnostic: { severity: 'error', file, message: `${what} is not a regular file` } };
    if (st.size > MAX_CONFIG_BYTES)
      return {
        ok: false,
        diagnostic: {
          severity: 'error',
          file,
          message: `${what} is ${st.size} bytes: not a configuration file`,
        },
      };
    const bytes = await readFile(file);
    return { ok: true, bytes, text: '' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? `${what} not found`
        : code === 'EACCES'
          ? `cannot read ${what}: permission denied`
          : `cannot read ${what}: ${code ?? 'error'}`;
    return {
      ok: false,
      diagnostic: { severity: 'error', file, message, hint: 'is -c the heartbeat configuration directory?' },
    };
  }
}

/**
 * Parse the three files with tsbeat's parsers. Unlike `tsbeat check` this needs no local node
 * and ignores the authkeys file mode: the files may be a copy taken off the cluster.
 */
export async function loadInput(dir: string): Promise<{ input?: ExportInput; diagnostics: Diagnostic[] }> {
  const haCfFile = join(dir, 'ha.cf');
  const authkeysFile = join(dir, 'authkeys');
  const haresourcesFile = join(dir, 'haresources');
  const diagnostics: Diagnostic[] = [];
  const [hc, ak, hr] = await Promise.all([
    readConfigFile(haCfFile, 'ha.cf'),
    readConfigFile(authkeysFile, 'authkeys'),
    readConfigFile(haresourcesFile, 'haresources'),
  ]);
  for (const r of [hc, ak, hr]) if (!r.ok) diagnostics.push(r.diagnostic);
  if (!hc.ok || !ak.ok || !hr.ok) return { diagnostics };

  const hcText = decodeConfigText(hc.bytes, haCfFile);
  diagnostics.push(...hcText.diagnostics);
  // stonith_host lines are kept only for the node parsing: parse once to learn the nodes,
  // then once per node, and keep every line once (by position).
  const first = parseHaCf(hcText.text, { file: haCfFile, localNode: '' });
  const nodes = first.haCf.nodes;
  const parsed: HaCfResult =
    nodes.length > 0 ? parseHaCf(hcText.text, { file: haCfFile, localNode: nodes[0]! }) : first;
  diagnostics.push(...parsed.diagnostics);
  const stonith: { entry: StonithConfig; at: Pos }[] = [];
  const seen = new Set<number>();
  for (const n of nodes.length > 0 ? nodes : ['']) {
    const r = n === nodes[0] ? parsed : parseHaCf(hcText.text, { file: haCfFile, localNode: n });
    r.haCf.stonith.forEach((entry, i) => {
      const at = r.source.stonith[i];
      if (at && !seen.has(at.line)) {
        seen.add(at.line);
        stonith.push({ entry, at });
      }
    });
  }
  stonith.sort((a, b) => a.at.line - b.at.line);

  const auth = parseAuthkeys(ak.bytes.toString('latin1'), authkeysFile);
  diagnostics.push(...auth.diagnostics);
  const hrText = decodeConfigText(hr.bytes, haresourcesFile);
  diagnostics.push(...hrText.diagnostics);
  const groups = parseHaresources(hrText.text, haresourcesFile);
  diagnostics.push(...groups.diagnostics);
  diagnostics.push(
    ...validateCrossFile({
      haCf: parsed.haCf,
      haCfSource: parsed.source,
      haCfFile,
      groups: groups.groups,
      groupsSource: groups.source,
      haresourcesFile,
      localNode: nodes[0] ?? '',
      localNodeOrigin: 'the first node',
      scriptDirs: [],
    }),
  );
  // tsbeat.cf (optional) decides the fencing policy the daemon runs, env lines as fallback.
  const tsbeatCfFile = join(dir, 'tsbeat.cf');
  let tsbeatCfText = '';
  try {
    tsbeatCfText = decodeConfigText(await readFile(tsbeatCfFile), tsbeatCfFile).text;
  } catch {
    // absent (or unreadable: tsbeat check says so): the env lines and defaults apply
  }
  const tcf = parseTsbeatCf(tsbeatCfText, tsbeatCfFile);
  diagnostics.push(...tcf.diagnostics);
  const tsbeat = resolveTsbeatSettings({
    haCf: parsed.haCf,
    haCfFile,
    haCfText: hcText.text,
    tsbeatCf: tcf.tsbeatCf,
    tsbeatCfFile,
    tsbeatCfSource: tcf.source,
  });
  diagnostics.push(...tsbeat.diagnostics.filter((d) => d.severity === 'error'));
  if (hasErrors(diagnostics) || !auth.keyring) return { diagnostics };
  return {
    diagnostics,
    input: {
      tsbeat: tsbeat.settings,
      haCf: parsed.haCf,
      haCfFile,
      haCfSource: parsed.source,
      stonith,
      groups: groups.groups,
      haresourcesFile,
      haresourcesSource: groups.source,
      keyring: auth.keyring,
      authkeysFile,
      // ha.cf's grammar: a comment runs from "#" to the end of the line, the directive is the first word.
      haCfLines: hcText.text.split('\n').flatMap((raw, i) => {
        const text = raw.replace(/#.*/, '').trim();
        const directive = text.split(/\s+/)[0];
        return text === '' || directive === undefined ? [] : [{ line: i + 1, directive, text }];
      }),
    },
  };
}

export function formatReport(entries: readonly ReportEntry[]): string {
  const label = { mapped: 'mapped', changed: 'changed', decide: 'DECIDE', none: 'no-equivalent' } as const;
  // By file, then line: the report reads top-down like the files it describes.
  const sorted = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => compareCodeUnits(a.e.file, b.e.file) || (a.e.line ?? 0) - (b.e.line ?? 0) || a.i - b.i)
    .map(({ e }) => e);
  return sorted
    .map(
      (e) =>
        `${e.file}${e.line !== undefined ? `:${e.line}` : ''}: ${label[e.status]}: ${printable(e.item, 300)} -> ${printable(e.became, 2000)}`,
    )
    .join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what === '--help' || what === '-h') {
    process.stdout.write(EXPORT_USAGE);
    return 0;
  }
  if (what !== 'pacemaker') {
    process.stderr.write(
      `tsbeat export: ${what === undefined ? 'what to export?' : `cannot export to ${quoted(what, 60)}`}: the one target is "pacemaker"\n\n${EXPORT_USAGE}`,
    );
    return 2;
  }
  let args: {
    config?: string;
    out?: string;
    format?: string;
    provider?: string;
    service?: string;
    help?: boolean;
  };
  try {
    args = parseArgs({
      args: rest,
      options: {
        config: { type: 'string', short: 'c' },
        out: { type: 'string', short: 'o' },
        format: { type: 'string', short: 'f' },
        provider: { type: 'string' },
        service: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (e) {
    process.stderr.write(`tsbeat export: ${printable((e as Error).message, 300)}\n\n${EXPORT_USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(EXPORT_USAGE);
    return 0;
  }
  const format = args.format ?? 'xml';
  if (format !== 'xml' && format !== 'crmsh' && format !== 'pcs') {
    process.stderr.write(`tsbeat export: --format ${quoted(format, 40)}: use xml, crmsh or pcs\n`);
    return 2;
  }
  const provider = args.provider ?? 'heartbeat';
  if (provider !== 'heartbeat' && provider !== 'tsbeat') {
    process.stderr.write(`tsbeat export: --provider ${quoted(provider, 40)}: use heartbeat or tsbeat\n`);
    return 2;
  }
  const service = args.service ?? 'lsb';
  if (service !== 'lsb' && service !== 'systemd') {
    process.stderr.write(`tsbeat export: --service ${quoted(service, 40)}: use lsb or systemd\n`);
    return 2;
  }
  const dir = args.config ?? '/etc/ha.d';
  const out = args.out ?? 'pacemaker';

  const loaded = await loadInput(dir);
  const shown = sortDiagnostics(loaded.diagnostics).map((d) => ({
    ...d,
    file: printable(d.file, 300),
    message: printable(d.message, 1000),
    ...(d.hint !== undefined ? { hint: printable(d.hint, 500) } : {}),
  }));
  for (const d of shown) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!loaded.input) {
    process.stderr.write(
      'tsbeat export: nothing written: fix the errors above (tsbeat check --offline explains them)\n',
    );
    return 1;
  }
  const result = exportPacemaker(loaded.input, {
    provider: provider as OcfProvider,
    service: service as ServiceClass,
  });
  if (hasErrors(result.diagnostics)) {
    for (const d of sortDiagnostics(result.diagnostics)) process.stderr.write(`${formatDiagnostic(d)}\n`);
    process.stderr.write('tsbeat export: nothing written: these cannot be mapped to Pacemaker\n');
    return 1;
  }
  const source = printable(dir, 300);
  const cib =
    format === 'xml'
      ? renderCib(result.pacemaker, source)
      : format === 'crmsh'
        ? renderCrmsh(result.pacemaker, source)
        : renderPcs(result.pacemaker, source);
  const report = formatReport(result.report);
  const decide = result.report.filter((e) => e.status === 'decide').length;
  const cibFile = join(out, FILE_OF[format]);
  const corosyncFile = join(out, 'corosync.conf');
  const reportFile = join(out, 'migration-report.txt');
  try {
    await mkdir(out, { recursive: true });
    await writeFile(cibFile, cib, { mode: format === 'pcs' ? 0o755 : 0o644 });
    await writeFile(corosyncFile, result.corosync.text);
    await writeFile(reportFile, `${report}\n`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    process.stderr.write(
      `tsbeat export: cannot write to ${quoted(out, 300)}: ${code ?? (e as Error).message}\n`,
    );
    return 1;
  }
  process.stdout.write(`${report}\n\n`);
  process.stdout.write(
    `wrote ${printable(cibFile, 300)}, ${printable(corosyncFile, 300)}, ${printable(reportFile, 300)}\n` +
      `${result.report.length} items: ${decide} need${decide === 1 ? 's' : ''} a decision (DECIDE), ` +
      `${result.report.filter((e) => e.status === 'changed').length} behave differently (changed)\n`,
  );
  return 0;
}
