// Part: `tsbeat lvs-dr setup|teardown|status [-c DIR]`: the tutorial's lvsdr script, derived from
// DIR/haresources (src/director/lvs-dr.ts does the work).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHaresources } from '../config/haresources.js';
import { lvsDrSetup, lvsDrStatus, lvsDrTeardown, lvsDrVips } from '../director/lvs-dr.js';
import { formatDiagnostic } from '../lib/diagnostic.js';

export const LVS_DR_USAGE = `usage: tsbeat lvs-dr setup|teardown|status [-c DIR]

For a director that is also an LVS direct-routing real server: every VIP of a haresources group
(DIR/haresources, DIR default /etc/ha.d) that has an IPaddr/IPaddr2 address and an ldirectord
resource is put on lo (setup): an IPv4 VIP as /32 after net.ipv4.conf.{all,lo}.arp_ignore=1 and
arp_announce=2, an IPv6 VIP (IPaddr2) as /128, which needs no sysctl; a VIP this node holds on a
NIC is left alone. teardown removes the VIPs from lo; status shows them and the sysctls (exit 0
when all are in place, 1 otherwise).
`;

export async function main(argv: string[]): Promise<number> {
  let dir = process.env['HA_DIR'] || '/etc/ha.d';
  let cmd: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-c' || a === '--config') dir = argv[++i] ?? '';
    else if (a === '-h' || a === '--help') {
      process.stdout.write(LVS_DR_USAGE);
      return 0;
    } else if (cmd === undefined && !a.startsWith('-')) cmd = a;
    else {
      process.stderr.write(`tsbeat lvs-dr: unexpected argument ${JSON.stringify(a)}\n\n${LVS_DR_USAGE}`);
      return 2;
    }
  }
  if (cmd !== 'setup' && cmd !== 'teardown' && cmd !== 'status') {
    process.stderr.write(LVS_DR_USAGE);
    return 2;
  }
  const file = join(dir, 'haresources');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    process.stderr.write(
      `tsbeat lvs-dr: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`,
    );
    return 1;
  }
  const parsed = parseHaresources(text, file);
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    for (const d of errors) process.stderr.write(`${formatDiagnostic(d)}\n`);
    return 1;
  }
  const vips = lvsDrVips(parsed.groups);
  try {
    if (cmd === 'status') {
      const s = lvsDrStatus(vips);
      process.stdout.write(`${s.lines.join('\n')}\n`);
      return s.ok ? 0 : 1;
    }
    const lines = cmd === 'setup' ? lvsDrSetup(vips) : lvsDrTeardown(vips);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`tsbeat lvs-dr ${cmd}: ${(e as Error).message}\n`);
    return 1;
  }
}
