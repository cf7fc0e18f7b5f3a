// Part: `tsbeat check`: validate /etc/ha.d the way heartbeat reads it, print every problem
// as file:line:col, then say in one paragraph what the cluster would do.

import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { builtinAgentCheck } from '../agents/builtin.js';
import { systemHost } from '../config/host.js';
import { loadConfig } from '../config/load.js';
import { configToJson, summarize } from '../config/print.js';
import { formatDiagnostic, hasErrors, sortDiagnostics } from '../lib/diagnostic.js';
import { printable, quoted } from '../lib/printable.js';

export const CHECK_USAGE = `usage: tsbeat check [-c DIR] [--node NAME] [--offline] [--json] [-q]

Reads DIR/ha.cf, DIR/authkeys and DIR/haresources (DIR defaults to /etc/ha.d) exactly as
heartbeat 3.0.6 reads them and reports every problem as FILE:LINE:COL: error|warning: ...

  -c, --config DIR   configuration directory (default /etc/ha.d)
      --node NAME    check as node NAME (default: DIR/nodeinfo, else uname -n)
      --offline      skip checks against this machine (interfaces, devices, users,
                     STONITH plugins, resource scripts): for another machine's config
      --json         print diagnostics and the parsed configuration as JSON
  -q, --quiet        print errors only, no warnings and no summary
  -h, --help         this text

Exit status: 0 usable (warnings allowed), 1 errors found, 2 usage error.
`;

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  const parse = (a: string[]) =>
    parseArgs({
      args: a,
      options: {
        config: { type: 'string', short: 'c' },
        node: { type: 'string' },
        offline: { type: 'boolean' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    });
  try {
    args = parse(argv);
  } catch (e) {
    // parseArgs quotes the offending argument as given: escape and cut it.
    process.stderr.write(`tsbeat check: ${printable((e as Error).message, 300)}\n\n${CHECK_USAGE}`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(CHECK_USAGE);
    return 0;
  }
  const dir = args.values.config ?? '/etc/ha.d';
  if (args.values.node !== undefined && !/^[^\s#,]+$/.test(args.values.node)) {
    process.stderr.write(`tsbeat check: --node ${quoted(args.values.node, 100)} is not a node name\n`);
    return 2;
  }
  const result = await loadConfig({
    dir,
    host: args.values.offline ? null : systemHost(),
    hostname: hostname(),
    ...(args.values.node !== undefined ? { localNode: args.values.node } : {}),
    agents: builtinAgentCheck,
  });
  const diagnostics = sortDiagnostics(result.diagnostics);
  const failed = hasErrors(diagnostics);

  if (args.values.json) {
    const json = {
      ok: !failed,
      localNode: result.localNode,
      diagnostics,
      ...(result.config ? { config: configToJson(result.config) } : {}),
    };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return failed ? 1 : 0;
  }

  const shown = args.values.quiet ? diagnostics.filter((d) => d.severity === 'error') : diagnostics;
  for (const d of shown) process.stdout.write(`${formatDiagnostic(d)}\n`);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  if (failed) {
    // Errors only a resource agent found do not stop heartbeat: the resources fail when started.
    const onlyAgents = diagnostics.every((d) => d.severity !== 'error' || d.agent === true);
    // heartbeat never reads tsbeat.cf: its errors stop tsbeat alone.
    const onlyTsbeatCf = diagnostics.every(
      (d) => d.severity !== 'error' || d.agent === true || d.file.endsWith('/tsbeat.cf'),
    );
    const verdict = onlyAgents
      ? 'these resources cannot start as written'
      : onlyTsbeatCf
        ? 'tsbeat would refuse to start with this configuration (heartbeat does not read tsbeat.cf)'
        : 'heartbeat would refuse to start with this configuration';
    process.stdout.write(
      `\n${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}: ${verdict}.\n`,
    );
    return 1;
  }
  if (!args.values.quiet && result.config) {
    if (shown.length > 0) process.stdout.write('\n');
    // Names in the summary come from the files: escaped, and bounded like any quoted text.
    process.stdout.write(`${wrap(printable(summarize(result.config), 20_000), 90)}\n`);
  }
  return 0;
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join('\n');
}
