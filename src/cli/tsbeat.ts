#!/usr/bin/env node
// Part: the `tsbeat` command: dispatches to one module per sub-command.

import { quoted } from '../lib/printable.js';
import { runMain } from './run.js';

type SubMain = (argv: string[]) => Promise<number>;

const SUBCOMMANDS: Record<string, { summary: string; load: () => Promise<{ main: SubMain }> }> = {
  demo: {
    summary: 'run a local two-node cluster and show failover and failback (root)',
    load: () => import('./demo.js'),
  },
  check: {
    summary: 'validate /etc/ha.d (ha.cf, authkeys, haresources) and explain it',
    load: () => import('./check.js'),
  },
  start: {
    summary: 'start the cluster daemon (heartbeats, membership, resource groups)',
    load: () => import('./daemon-cmds.js').then((m) => ({ main: m.startMain })),
  },
  stop: {
    summary: 'stop the daemon gracefully',
    load: () => import('./daemon-cmds.js').then((m) => ({ main: m.stopMain })),
  },
  status: {
    summary: "show this node's view of the cluster (--json for scripts)",
    load: () => import('./status.js'),
  },
  explain: {
    summary: 'why each ownership change happened: a reason-coded timeline (--since T, --json)',
    load: () => import('./explain.js'),
  },
  cl_status: {
    summary: "heartbeat's cl_status (same output and exit codes)",
    load: () => import('./cl_status.js'),
  },
  hb_standby: {
    summary: 'give resources up to the peer (heartbeat hb_standby)',
    load: () => import('./hb_standby.js'),
  },
  hb_takeover: {
    summary: 'take resources over from the peer (heartbeat hb_takeover)',
    load: () => import('./hb_takeover.js'),
  },
  wire: { summary: 'decode and verify heartbeat frames', load: () => import('./wire.js') },
  'install-agents': {
    summary: 'install the resource agents for OCF managers (/usr/lib/ocf/resource.d/tsbeat)',
    load: () => import('./install-agents.js'),
  },
  export: {
    summary: 'turn /etc/ha.d into a Pacemaker CIB and a corosync.conf, with a migration report',
    load: () => import('./export.js'),
  },
  director: {
    summary: 'the ldirectord-compatible LVS director (start|stop|reload|status)',
    load: () => import('./director.js'),
  },
  'lvs-dr': {
    summary: 'put the LVS VIPs on lo for a director that is also a real server',
    load: () => import('./lvs-dr.js'),
  },
  signon: {
    summary: 'sign on as an apiauth API client while a program runs',
    load: () => import('./signon.js'),
  },
  fence: {
    summary: 'check the STONITH device (status, hosts; optionally a real reset)',
    load: () => import('./fence.js'),
  },
};

const NAME_WIDTH = Math.max(...Object.keys(SUBCOMMANDS).map((n) => n.length));

export const USAGE = `usage: tsbeat <command> [options]

commands:
${Object.entries(SUBCOMMANDS)
  .map(([name, c]) => `  ${name.padEnd(NAME_WIDTH)}  ${c.summary}`)
  .join('\n')}

Run "tsbeat <command> --help" for the options of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write('tsbeat 0.1.0 (compatible with heartbeat 3.0.6)\n');
    return 0;
  }
  const sub = SUBCOMMANDS[cmd];
  if (!sub) {
    process.stderr.write(`tsbeat: unknown command ${quoted(cmd, 60)}\n\n${USAGE}`);
    return 2;
  }
  const mod = await sub.load();
  return mod.main(rest);
}

runMain(() => main(process.argv.slice(2)));
