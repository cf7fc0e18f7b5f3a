// Part: vserver — start and stop an ordered list of Linux-VServer guests through util-vserver's
// `vserver NAME start|stop|status` contract (spec §5.9), announcing each guest's addresses by
// gratuitous ARP just before it starts, as the seed cluster's administrators did by hand. The
// command is a parameter, so any tool with the same contract can stand in.

import { readdirSync } from 'node:fs';
import type { Agent, AgentRequest, AgentResult, OcfCall } from './agent.js';
import { runOcfAction } from './agent.js';
import { announce, haBin } from './announce.js';
import { isFile, readText } from './files.js';
import type { AgentMetadata } from './metadata.js';
import { isDecimal, OCF } from './ocf.js';
import { haveBinary } from './runtime.js';

const metadata: AgentMetadata = {
  name: 'vserver',
  version: '1.0',
  shortdesc: 'Starts and stops Linux-VServer guests (tsbeat)',
  longdesc: `
Starts the guests left to right with "vserver NAME start" and stops them right to left with
"vserver NAME stop". Before a guest starts, each of its addresses (util-vserver's
<confdir>/NAME/interfaces/*/ip on .../dev) is announced with gratuitous ARP. Running means every
guest's "vserver NAME status" exits 0. vserver_cmd names the program, so a tool with the same
contract (start/stop idempotent with exit 0; status 0 running, 3 stopped; 5 unknown guest) can
stand in.
`,
  parameters: [
    {
      name: 'guests',
      type: 'string',
      required: true,
      unique: true,
      shortdesc: 'guest names',
      longdesc: 'The guests, separated by blanks, in start order.',
    },
    {
      name: 'vserver_cmd',
      type: 'string',
      unique: false,
      default: 'vserver',
      shortdesc: 'vserver program',
      longdesc: 'The program called as "CMD NAME start|stop|status".',
    },
    {
      name: 'confdir',
      type: 'string',
      unique: false,
      default: '/etc/vservers',
      shortdesc: 'util-vserver configuration directory',
      longdesc: "Where each guest's interfaces/*/ip and dev files are read from.",
    },
    {
      name: 'arp_sender',
      type: 'string',
      unique: false,
      default: '',
      shortdesc: 'ARP sender',
      longdesc:
        '"send_arp" (heartbeat\'s, default when installed): sends for an address the host does not carry yet, as a guest\'s address is before its start; "tsbeat": iputils arping, which can only announce addresses already on the interface.',
    },
    {
      name: 'arp_count',
      type: 'integer',
      unique: false,
      default: '5',
      shortdesc: 'ARP request/reply pairs per address',
      longdesc: 'Gratuitous ARP pairs sent for each guest address before the guest starts; 0 sends none.',
    },
  ],
  actions: [
    { name: 'start', timeout: '120s' },
    { name: 'stop', timeout: '120s' },
    { name: 'monitor', timeout: '30s', interval: '30s', depth: '0' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '5s' },
  ],
};

/** A guest's address as util-vserver configures it. */
export interface GuestAddress {
  readonly ip: string;
  readonly dev: string;
}

function firstLine(path: string): string | undefined {
  const t = readText(path);
  return t === undefined ? undefined : (t.split('\n')[0] ?? '').trim();
}

/**
 * The addresses of a guest: every `<confdir>/NAME/interfaces/<n>/ip`, on `<n>/dev`, else
 * `NAME/interfaces/dev`, else `.defaults/interfaces/dev`. Interfaces marked `nodev` or
 * `disabled` are skipped (util-vserver does not put them on a device).
 */
export function guestAddresses(confdir: string, guest: string): GuestAddress[] {
  const base = `${confdir}/${guest}/interfaces`;
  let entries: string[];
  try {
    entries = readdirSync(base).sort();
  } catch {
    return [];
  }
  const defaultDev = firstLine(`${base}/dev`) ?? firstLine(`${confdir}/.defaults/interfaces/dev`);
  const out: GuestAddress[] = [];
  for (const e of entries) {
    const dir = `${base}/${e}`;
    const ip = firstLine(`${dir}/ip`);
    if (ip === undefined || ip === '') continue;
    if (isFile(`${dir}/nodev`) || isFile(`${dir}/disabled`)) continue;
    const dev = firstLine(`${dir}/dev`) ?? defaultDev;
    if (dev !== undefined && dev !== '') out.push({ ip, dev });
  }
  return out;
}

/** Guest names from the parameter; undefined when one is not a plausible name. */
export function parseGuests(text: string): string[] | undefined {
  const names = text.split(/\s+/).filter(Boolean);
  if (names.length === 0) return undefined;
  return names.every((n) => /^[A-Za-z0-9_.-]+$/.test(n) && n !== '.' && n !== '..') ? names : undefined;
}

type GuestState = 'running' | 'stopped' | 'unknown' | 'failed';

async function guestState(req: AgentRequest, cmd: string, guest: string): Promise<GuestState> {
  const r = await req.runtime.runTool(cmd, [guest, 'status'], {
    signal: req.signal,
    timeoutMs: 30_000,
    env: { ...req.env },
  });
  if (r.code === 0) return 'running';
  if (r.code === 3) return 'stopped';
  if (r.code === 5) return 'unknown';
  return 'failed';
}

function validate(req: AgentRequest): { guests: string[]; cmd: string } | AgentResult {
  const guests = parseGuests(req.param('guests'));
  if (guests === undefined)
    return { rc: OCF.ERR_CONFIGURED, reason: `guests "${req.param('guests')}" is not a list of guest names` };
  if (!isDecimal(req.param('arp_count')))
    return { rc: OCF.ERR_CONFIGURED, reason: `arp_count "${req.param('arp_count')}" is not a number` };
  const sender = req.param('arp_sender');
  if (!['', 'send_arp', 'tsbeat'].includes(sender))
    return { rc: OCF.ERR_CONFIGURED, reason: `arp_sender "${sender}" is not send_arp or tsbeat` };
  const cmd = req.param('vserver_cmd');
  if (cmd === '' || !haveBinary(cmd, req.env))
    return { rc: OCF.ERR_INSTALLED, reason: `Setup problem: couldn't find command: ${cmd}` };
  return { guests, cmd };
}

/**
 * Who sends the guests' ARP. A guest's addresses are put on the host's interface by its own
 * start, so the announcement comes before they exist locally: iputils arping refuses that
 * ("bind: Cannot assign requested address"), heartbeat's send_arp writes raw frames and does not.
 */
function arpSender(req: AgentRequest): 'send_arp' | 'tsbeat' {
  const chosen = req.param('arp_sender');
  if (chosen === 'send_arp' || chosen === 'tsbeat') return chosen;
  return haveBinary(`${haBin(req)}/send_arp`, req.env) ? 'send_arp' : 'tsbeat';
}

async function start(req: AgentRequest, guests: string[], cmd: string): Promise<AgentResult> {
  const pairs = Number(req.param('arp_count'));
  const started: string[] = [];
  for (const g of guests) {
    const st = await guestState(req, cmd, g);
    if (st === 'unknown')
      return { rc: OCF.ERR_INSTALLED, reason: `vserver ${g} does not exist (${cmd} ${g} status exited 5)` };
    if (st === 'running') continue;
    if (pairs > 0) {
      for (const a of guestAddresses(req.param('confdir'), g)) {
        await announce(req, {
          plan: { nic: a.dev, ip: a.ip, pairs, intervalMs: 200 },
          sender: arpSender(req),
          background: false,
          level: 'info',
        });
      }
    }
    req.io.log('info', `Starting vserver ${g}`);
    const r = await req.runtime.runTool(cmd, [g, 'start'], { signal: req.signal, env: { ...req.env } });
    if (r.stdout !== '') req.io.stdout(r.stdout);
    if (r.code !== 0) {
      if (r.stderr !== '') req.io.stderr(r.stderr);
      // Leave nothing half-started: the guests started by this call go down again, right to left.
      for (const s of started.reverse()) await req.runtime.runTool(cmd, [s, 'stop'], { env: { ...req.env } });
      return { rc: OCF.ERR_GENERIC, reason: `${cmd} ${g} start exited with ${r.code}` };
    }
    started.push(g);
  }
  return { rc: OCF.SUCCESS };
}

async function stop(req: AgentRequest, guests: string[], cmd: string): Promise<AgentResult> {
  const failed: string[] = [];
  for (const g of [...guests].reverse()) {
    const st = await guestState(req, cmd, g);
    if (st === 'stopped' || st === 'unknown') continue;
    req.io.log('info', `Stopping vserver ${g}`);
    const r = await req.runtime.runTool(cmd, [g, 'stop'], { signal: req.signal, env: { ...req.env } });
    if (r.stdout !== '') req.io.stdout(r.stdout);
    if (r.code !== 0 || (await guestState(req, cmd, g)) === 'running') failed.push(g);
  }
  return failed.length === 0
    ? { rc: OCF.SUCCESS }
    : { rc: OCF.ERR_GENERIC, reason: `vserver ${failed.join(', ')} still running after stop` };
}

async function monitor(req: AgentRequest, guests: string[], cmd: string): Promise<AgentResult> {
  const states = await Promise.all(guests.map((g) => guestState(req, cmd, g)));
  const running = guests.filter((_, i) => states[i] === 'running');
  const summary = guests.map((g, i) => `${g}: ${states[i]}`).join(', ');
  if (req.action === 'status') {
    // One line heartbeat classifies by the words alone: "running" only when all are.
    req.io.stdout(running.length === guests.length ? `running (${summary})\n` : `stopped (${summary})\n`);
  }
  if (running.length === guests.length) return { rc: OCF.SUCCESS };
  if (running.length === 0 && states.every((s) => s === 'stopped' || s === 'unknown'))
    return { rc: OCF.NOT_RUNNING };
  return { rc: OCF.ERR_GENERIC, reason: `some guests are not running (${summary})` };
}

async function run(req: AgentRequest): Promise<AgentResult> {
  const v = validate(req);
  if ('rc' in v) {
    if (req.action === 'stop' && v.rc === OCF.ERR_INSTALLED) return { rc: OCF.SUCCESS };
    if (req.action === 'monitor' && req.probe && v.rc === OCF.ERR_INSTALLED) return { rc: OCF.NOT_RUNNING };
    return v;
  }
  switch (req.action) {
    case 'start':
      return start(req, v.guests, v.cmd);
    case 'stop':
      return stop(req, v.guests, v.cmd);
    case 'monitor':
    case 'status':
      return monitor(req, v.guests, v.cmd);
    default:
      return { rc: OCF.SUCCESS };
  }
}

/**
 * heartbeat style `vserver::g1::g2 ... start|stop|status`: util-vserver's own script had the
 * argument order of a resource.d script for one guest; for a list, status prints one line
 * ("running (...)" only when every guest runs, else "stopped (...)") and exits 0 or 3, start and
 * stop exit 0 or 1.
 */
async function heartbeatScript(args: readonly string[], action: string, call: OcfCall): Promise<number> {
  if (args.length === 0 || !['start', 'stop', 'status'].includes(action)) {
    call.io.stdout('Usage: vserver guest [guest...] {start|stop|status}\n');
    return action === 'status' ? 4 : 1;
  }
  const env = {
    ...call.env,
    OCF_RESOURCE_INSTANCE: `vserver_${args.join('_')}`,
    OCF_RESKEY_guests: args.join(' '),
  };
  const rc = await runOcfAction(vserver, action, { ...call, env });
  if (action === 'status') {
    if (rc === OCF.SUCCESS) return 0;
    return rc === OCF.NOT_RUNNING || rc === OCF.ERR_GENERIC ? 3 : 4;
  }
  return rc === OCF.SUCCESS ? 0 : 1;
}

/** The vserver agent. heartbeat style: `vserver::guest[::guest...]`. */
export const vserver: Agent = {
  metadata,
  actions: ['start', 'stop', 'monitor', 'status', 'validate-all'],
  run,
  heartbeat: {
    grammar: 'guest [guest...]',
    parse(args) {
      if (args.length === 0) return undefined;
      return { instance: `vserver_${args.join('_')}`, reskeys: { guests: args.join(' ') } };
    },
    script: heartbeatScript,
  },
};
