// Part: LVSSyncDaemonSwap — the IPVS connection-sync daemon follows the director role: start makes
// this node the sync master (stopping its backup daemon first), stop turns it back into a backup.
// Behaviour of heartbeat 2.x's resource.d script (spec §5.7), with the state read from
// `ipvsadm -L --daemon` (the kernel threads' names changed; the stock `ps` grep always says
// stopped on current kernels) and OCF exit codes instead of the stock script's inverted ones.

import type { Agent, AgentRequest, AgentResult } from './agent.js';
import type { AgentMetadata } from './metadata.js';
import { OCF } from './ocf.js';

const metadata: AgentMetadata = {
  name: 'LVSSyncDaemonSwap',
  version: '1.0',
  shortdesc: 'IPVS sync daemon master/backup swap (tsbeat)',
  longdesc: `
Starts the IPVS sync daemon in the given role (normally master) on the node that holds the
director role and, on stop, swaps it back to the other role, so that the standby director
receives the connection table and connections survive a failover.
`,
  parameters: [
    {
      name: 'state',
      type: 'string',
      required: true,
      unique: false,
      shortdesc: 'master or backup',
      longdesc: 'The sync daemon role this resource runs while started; stop runs the other one.',
    },
    {
      name: 'interface',
      type: 'string',
      unique: false,
      default: 'eth0',
      shortdesc: 'multicast interface',
      longdesc: 'Interface for the sync multicast (ipvsadm --mcast-interface).',
    },
    {
      name: 'syncid',
      type: 'integer',
      unique: false,
      default: '0',
      shortdesc: 'sync id',
      longdesc: 'ipvsadm --syncid (0-255): both directors must use the same.',
    },
  ],
  actions: [
    { name: 'start', timeout: '20s' },
    { name: 'stop', timeout: '20s' },
    { name: 'monitor', timeout: '20s', interval: '10s', depth: '0' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '20s' },
  ],
};

type Role = 'master' | 'backup';

function ipvsadmBin(req: AgentRequest): string {
  return req.env['TSBEAT_IPVSADM'] || process.env['TSBEAT_IPVSADM'] || 'ipvsadm';
}

async function daemons(req: AgentRequest): Promise<Set<Role> | string> {
  const r = await req.runtime.runTool(ipvsadmBin(req), ['-L', '--daemon'], {
    signal: req.signal,
    timeoutMs: 10_000,
  });
  if (r.code !== 0) return `ipvsadm -L --daemon: ${r.stderr.trim() || `exit ${r.code}`}`;
  const out = new Set<Role>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*(master|backup) sync daemon/.exec(line);
    if (m) out.add(m[1] as Role);
  }
  return out;
}

async function ipvsadm(req: AgentRequest, args: string[]): Promise<string | undefined> {
  const r = await req.runtime.runTool(ipvsadmBin(req), args, { signal: req.signal, timeoutMs: 10_000 });
  return r.code === 0 ? undefined : `ipvsadm ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`;
}

function params(req: AgentRequest): { ying: Role; yang: Role; iface: string; syncid: string } | AgentResult {
  const ying = req.param('state');
  if (ying !== 'master' && ying !== 'backup') {
    return { rc: OCF.ERR_CONFIGURED, reason: `state must be master or backup, not "${ying}"` };
  }
  const syncid = req.param('syncid');
  if (!/^\d+$/.test(syncid) || Number(syncid) > 255) {
    return { rc: OCF.ERR_CONFIGURED, reason: `syncid must be 0-255, not "${syncid}"` };
  }
  return { ying, yang: ying === 'master' ? 'backup' : 'master', iface: req.param('interface'), syncid };
}

/** Stop `from` if it runs, start `to` unless it runs. */
async function swap(
  req: AgentRequest,
  from: Role,
  to: Role,
  p: { iface: string; syncid: string },
  verb: string,
): Promise<AgentResult> {
  const running = await daemons(req);
  if (typeof running === 'string') return { rc: OCF.ERR_GENERIC, reason: running };
  if (running.has(from)) {
    const e = await ipvsadm(req, ['--stop-daemon', from]);
    if (e) return { rc: OCF.ERR_GENERIC, reason: e };
    req.io.log('info', `ipvs_sync${from} down`);
  }
  if (!running.has(to)) {
    const e = await ipvsadm(req, ['--start-daemon', to, '--mcast-interface', p.iface, '--syncid', p.syncid]);
    if (e) return { rc: OCF.ERR_GENERIC, reason: e };
    req.io.log('info', `ipvs_sync${to} up`);
  }
  req.io.log('info', `ipvs_sync${to} ${verb}`);
  return { rc: OCF.SUCCESS };
}

async function run(req: AgentRequest): Promise<AgentResult> {
  const p = params(req);
  if ('rc' in p) return p;
  switch (req.action) {
    case 'start':
      return swap(req, p.yang, p.ying, p, 'obtained');
    case 'stop':
      return swap(req, p.ying, p.yang, p, 'released');
    case 'monitor':
    case 'status': {
      const running = await daemons(req);
      if (typeof running === 'string')
        return req.probe ? { rc: OCF.NOT_RUNNING } : { rc: OCF.ERR_GENERIC, reason: running };
      return { rc: running.has(p.ying) ? OCF.SUCCESS : OCF.NOT_RUNNING };
    }
    default:
      return { rc: OCF.SUCCESS };
  }
}

/** heartbeat style: `LVSSyncDaemonSwap::master|backup[::iface[::syncid]]`. */
export const lvsSyncDaemonSwap: Agent = {
  metadata,
  actions: ['start', 'stop', 'monitor', 'status', 'validate-all'],
  run,
  heartbeat: {
    grammar: 'master|backup [iface [syncid]]',
    parse(args) {
      if (args.length < 1 || args.length > 3) return undefined;
      const [state, iface, syncid] = args;
      return {
        instance: `LVSSyncDaemonSwap_${state}`,
        reskeys: {
          state: state ?? '',
          ...(iface !== undefined ? { interface: iface } : {}),
          ...(syncid !== undefined ? { syncid } : {}),
        },
      };
    },
  },
};
