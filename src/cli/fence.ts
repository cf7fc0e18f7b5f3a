// Part: `tsbeat fence test`: check the configured STONITH device end to end before it is
// needed (status, the hosts it can reset), and optionally reset a node for real.

import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { systemHost } from '../config/host.js';
import { loadConfig } from '../config/load.js';
import { formatDiagnostic } from '../lib/diagnostic.js';
import { printable, quoted } from '../lib/printable.js';
import { findStonithCommand, StonithFencer } from '../stonith/fencer.js';

export const FENCE_USAGE = `usage: tsbeat fence test [-c DIR] [--node NAME] [--reset HOST]

Checks the STONITH device configured in DIR/ha.cf (stonith or stonith_host): asks it for
its status and for the hosts it can reset. With --reset HOST it really resets HOST: use it
on a maintenance window, never on the node you run it from unless you mean it.

  -c, --config DIR   configuration directory (default /etc/ha.d)
      --node NAME    check as node NAME (stonith_host lines apply per node)
      --reset HOST   also reset HOST through the device
  -h, --help         this text

Exit status: 0 device works (and the reset succeeded), 1 it does not, 2 usage, 6 configuration error.
`;

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '-h' || sub === '--help') {
    process.stdout.write(FENCE_USAGE);
    return 0;
  }
  if (sub !== 'test') {
    process.stderr.write(
      `tsbeat fence: ${sub === undefined ? 'missing' : `unknown`} sub-command${sub ? ` ${quoted(sub, 60)}` : ''}\n\n${FENCE_USAGE}`,
    );
    return 2;
  }
  let values: { config?: string; node?: string; reset?: string; help?: boolean };
  try {
    values = parseArgs({
      args: rest,
      options: {
        config: { type: 'string', short: 'c' },
        node: { type: 'string' },
        reset: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    process.stderr.write(`tsbeat fence test: ${printable((e as Error).message, 300)}\n\n${FENCE_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(FENCE_USAGE);
    return 0;
  }
  const result = await loadConfig({
    dir: values.config ?? '/etc/ha.d',
    host: systemHost(),
    hostname: hostname(),
    ...(values.node ? { localNode: values.node } : {}),
  });
  if (!result.config) {
    for (const d of result.diagnostics)
      if (d.severity === 'error') process.stderr.write(`${formatDiagnostic(d)}\n`);
    process.stderr.write('tsbeat fence test: configuration error ("tsbeat check" explains each problem)\n');
    return 6;
  }
  const device = result.config.haCf.stonith.at(-1);
  if (!device) {
    process.stdout.write(
      `No STONITH device applies to node ${result.config.localNode}: add "stonith_host * TYPE PARAMS..." to ha.cf.\n`,
    );
    return 1;
  }
  const command = findStonithCommand();
  const fencer = new StonithFencer({
    device,
    localNode: result.config.localNode,
    // Device output comes from a plugin and a remote controller: escape it.
    log: (level, message) => process.stdout.write(`${level}: ${printable(message, 1000)}\n`),
    ...(command ? { stonithCommand: command } : {}),
  });
  process.stdout.write(`device: ${fencer.describe()}\n`);
  const status = await fencer.status();
  process.stdout.write(`status: ${status.ok ? 'OK' : `FAILED (${printable(status.detail, 500)})`}\n`);
  const hosts = await fencer.hosts();
  process.stdout.write(
    `hosts it can reset: ${hosts.length > 0 ? printable(hosts.join(' '), 1000) : '(none reported)'}\n`,
  );
  const others = result.config.haCf.nodes.filter((n) => n !== result.config!.localNode);
  const missing = others.filter((n) => !hosts.includes(n));
  if (hosts.length > 0 && missing.length > 0)
    process.stdout.write(`warning: the device does not list ${missing.join(', ')}\n`);
  if (!status.ok) return 1;
  if (values.reset) {
    const ok = await fencer.fence(values.reset);
    process.stdout.write(`reset ${printable(values.reset, 100)}: ${ok ? 'OK' : 'FAILED'}\n`);
    return ok ? 0 : 1;
  }
  return 0;
}
