// Part: SendArp — announce an address that is already configured (gratuitous ARP) and remember
// that it was done; behaviour as ocf:heartbeat:SendArp (4.12): state is the announcement's pid
// file or the pseudo-resource file `$HA_RSCTMP/SendArp_<instance>`.

import type { Agent, AgentRequest, AgentResult } from './agent.js';
import { announce, garpPidFile, senderInstalled, stopAnnouncement } from './announce.js';
import { ensureDir, isFile, readTextAsync, removeFile, touch } from './files.js';
import { parseSendArpSpec } from './hbargs.js';
import type { AgentMetadata } from './metadata.js';
import { isDecimal, isTrue, OCF } from './ocf.js';

const metadata: AgentMetadata = {
  name: 'SendArp',
  version: '1.0',
  shortdesc: 'Broadcasts unsolicited ARP announcements (tsbeat)',
  longdesc: `
Sends gratuitous ARP request/reply pairs for an address this node already has, so that
neighbours update their ARP caches (after a takeover of an address managed elsewhere). Start
sends the announcement and records that the resource is running; stop ends an announcement still
in progress and clears the record.
`,
  parameters: [
    {
      name: 'ip',
      type: 'string',
      unique: true,
      required: true,
      default: '',
      shortdesc: 'IP address',
      longdesc: 'The IPv4 address to announce.',
    },
    {
      name: 'nic',
      type: 'string',
      unique: false,
      required: true,
      default: '',
      shortdesc: 'Network interface',
      longdesc: 'The interface to send the announcement on.',
    },
    {
      name: 'background',
      type: 'boolean',
      unique: false,
      default: 'true',
      shortdesc: 'Send in the background',
      longdesc: 'Whether start returns before the announcement is complete.',
    },
  ],
  actions: [
    { name: 'start', timeout: '20s' },
    { name: 'stop', timeout: '20s' },
    { name: 'monitor', depth: '0', timeout: '20s', interval: '10s' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '20s' },
  ],
};

function pseudoFile(req: AgentRequest): string {
  return `${req.rscTmp}/SendArp_${req.instance}`;
}

/**
 * `$HA_CONFDIR/arp_config` and `arp_config:<nic>`: the stock agent sources them as shell. We read
 * only plain `NAME=value` lines for the four variables it documents (no shell is run).
 */
export function readArpConfig(texts: readonly (string | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const text of texts) {
    if (text === undefined) continue;
    for (const line of text.split('\n')) {
      const m =
        /^\s*(?:export\s+)?(ARP_INTERVAL_MS|ARP_REPEAT|ARP_BACKGROUND|ARP_NETMASK)=["']?([^"'\s#]*)["']?\s*(?:#.*)?$/.exec(
          line,
        );
      if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
    }
  }
  return out;
}

function monitor(req: AgentRequest, ip: string): AgentResult {
  if (isFile(garpPidFile(req, ip))) return { rc: OCF.SUCCESS };
  return { rc: isFile(pseudoFile(req)) ? OCF.SUCCESS : OCF.NOT_RUNNING };
}

async function start(req: AgentRequest, ip: string, nic: string): Promise<AgentResult> {
  if (monitor(req, ip).rc === OCF.SUCCESS) return { rc: OCF.SUCCESS };
  const missing = senderInstalled(req, 'tsbeat');
  if (missing !== undefined)
    return { rc: OCF.ERR_INSTALLED, reason: `Setup problem: couldn't find command: ${missing}` };
  const confDir = req.env['HA_CONFDIR'] ?? '/etc/ha.d';
  // Outside HA_RSCTMP (the configuration directory), so not read synchronously: SendArp runs
  // inside the daemon.
  const conf = readArpConfig([
    await readTextAsync(`${confDir}/arp_config`),
    await readTextAsync(`${confDir}/arp_config:${nic}`),
  ]);
  const interval = conf['ARP_INTERVAL_MS'] ?? '200';
  const repeat = conf['ARP_REPEAT'] ?? '5';
  const background = isTrue(conf['ARP_BACKGROUND'] ?? req.param('background'));
  ensureDir(req.rscTmp);
  await announce(req, {
    plan: {
      nic,
      ip,
      pairs: isDecimal(repeat) ? Number(repeat) : 5,
      intervalMs: isDecimal(interval) ? Number(interval) : 200,
    },
    sender: 'tsbeat',
    background,
    level: 'debug',
  });
  const err = touch(pseudoFile(req));
  if (err !== undefined) return { rc: OCF.ERR_GENERIC, reason: `Cannot write ${pseudoFile(req)}: ${err}` };
  return { rc: OCF.SUCCESS };
}

function stop(req: AgentRequest, ip: string, nic: string): AgentResult {
  if (monitor(req, ip).rc === OCF.NOT_RUNNING) return { rc: OCF.SUCCESS };
  const outcome = stopAnnouncement(req, ip);
  if (outcome === 'failed') {
    req.io.log('warn', `Could not kill previously running ARP sender for ${ip}`);
    req.io.log('warn', `SendArp for ${ip}/${nic} NOT released`);
    return { rc: OCF.ERR_GENERIC };
  }
  if (outcome === 'killed') req.io.log('info', `killed previously running ARP sender for ${ip}`);
  req.io.log('info', `SendArp for ${ip}/${nic} released`);
  removeFile(pseudoFile(req));
  return { rc: OCF.SUCCESS };
}

async function run(req: AgentRequest): Promise<AgentResult> {
  const ip = req.param('ip');
  const nic = req.param('nic');
  const valid = ip !== '' && nic !== '';
  switch (req.action) {
    case 'start':
      if (!valid) return { rc: OCF.ERR_CONFIGURED, reason: 'ip and nic are mandatory' };
      return start(req, ip, nic);
    case 'stop':
      return stop(req, ip, nic);
    case 'monitor':
      return monitor(req, ip);
    case 'status': {
      const r = monitor(req, ip);
      req.io.stdout(r.rc === OCF.SUCCESS ? 'running\n' : 'stopped\n');
      return r;
    }
    default:
      return valid ? { rc: OCF.SUCCESS } : { rc: OCF.ERR_CONFIGURED, reason: 'ip and nic are mandatory' };
  }
}

/** The SendArp agent. heartbeat style: `SendArp::ip/nic` (instance `SendArp_<ip>`). */
export const sendArp: Agent = {
  metadata,
  actions: ['start', 'stop', 'monitor', 'status', 'validate-all'],
  run,
  heartbeat: {
    grammar: 'ip-address/interface',
    silentOnFailure: true,
    parse(args) {
      const [arg] = args;
      if (args.length !== 1 || arg === undefined) return undefined;
      const { ip, nic } = parseSendArpSpec(arg);
      return { instance: `SendArp_${ip}`, reskeys: { ip, nic } };
    },
  },
};
