// Part: ldirectord — the resource agent that runs tsbeat's LVS director (src/director/) for one
// ldirectord.cf: haresources `ldirectord::ldirectord.cf`, or ocf:tsbeat:ldirectord with
// `configfile`. Unlike ocf:heartbeat:ldirectord (spec §5.6.8), start returns only when the IPVS
// table is programmed and stop only when the director has exited, so a monitor right after stop
// says 7 and a quick restart never meets a half-stopped daemon.

import { rmSync } from 'node:fs';
import { daemonState, startBackground, waitExit } from '../director/cli.js';
import { ipvsadmOf, loadDirectorConfig, pidFileOf, resolveConfigPath, runDirOf } from '../director/driver.js';
import { configName } from '../director/parse.js';
import type { Agent, AgentRequest, AgentResult } from './agent.js';
import type { AgentMetadata } from './metadata.js';
import { OCF } from './ocf.js';

const metadata: AgentMetadata = {
  name: 'ldirectord',
  version: '1.0',
  shortdesc: 'LVS director: ldirectord.cf health checks programming IPVS (tsbeat)',
  longdesc: `
Runs tsbeat's ldirectord-compatible director for one configuration file: it checks the real
servers of every virtual service and keeps the kernel's IPVS table in step (ipvsadm). Start
returns when the table is programmed; stop returns when the director has exited (with
cleanstop=yes its virtual services are removed first).
`,
  parameters: [
    {
      name: 'configfile',
      type: 'string',
      unique: true,
      required: false,
      default: '/etc/ha.d/ldirectord.cf',
      shortdesc: 'configuration file path',
      longdesc: 'The ldirectord.cf to use; a relative name is looked up in /etc/ha.d, then /etc/ha.d/conf.',
    },
    {
      name: 'ldirectord',
      type: 'string',
      unique: false,
      default: '/usr/sbin/ldirectord',
      shortdesc: 'ldirectord binary path (accepted for compatibility)',
      longdesc:
        'Accepted so that configurations written for ocf:heartbeat:ldirectord validate; tsbeat runs its own director.',
    },
  ],
  actions: [
    { name: 'start', timeout: '60s' },
    { name: 'stop', timeout: '60s' },
    { name: 'monitor', timeout: '20s', interval: '20s', depth: '0' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '20s' },
  ],
};

function configPath(req: AgentRequest): string {
  return resolveConfigPath(req.param('configfile'), req.env['HA_DIR'] || '/etc/ha.d');
}

function runDir(req: AgentRequest): string {
  return runDirOf({ ...process.env, ...req.env });
}

function monitor(req: AgentRequest): AgentResult {
  const d = daemonState(pidFileOf(runDir(req), configName(configPath(req))));
  return { rc: d.state === 'running' ? OCF.SUCCESS : OCF.NOT_RUNNING };
}

function validate(req: AgentRequest): AgentResult {
  const path = configPath(req);
  const r = loadDirectorConfig(path);
  for (const w of r.warnings) req.io.log('warn', w);
  if (!r.config) {
    for (const e of r.errors) req.io.log('error', e);
    const missing = r.errors.some((e) => e.includes('cannot read'));
    return {
      rc: missing ? OCF.ERR_INSTALLED : OCF.ERR_CONFIGURED,
      reason: r.errors[0] ?? `${path} is not a valid ldirectord.cf`,
    };
  }
  return { rc: OCF.SUCCESS };
}

async function start(req: AgentRequest): Promise<AgentResult> {
  if (monitor(req).rc === OCF.SUCCESS) return { rc: OCF.SUCCESS };
  const v = validate(req);
  if (v.rc !== OCF.SUCCESS) return v;
  const env = { ...process.env, ...req.env };
  const error = await startBackground(configPath(req), runDirOf(env), ipvsadmOf(env), 55_000, req.signal);
  if (error !== undefined) return { rc: OCF.ERR_GENERIC, reason: `director did not start: ${error.trim()}` };
  return { rc: OCF.SUCCESS };
}

async function stop(req: AgentRequest): Promise<AgentResult> {
  const pidFile = pidFileOf(runDir(req), configName(configPath(req)));
  const d = daemonState(pidFile);
  if (d.state === 'stale') {
    rmSync(pidFile, { force: true });
    return { rc: OCF.SUCCESS };
  }
  if (d.state !== 'running' || d.pid === undefined) return { rc: OCF.SUCCESS };
  try {
    process.kill(d.pid, 'SIGTERM');
  } catch {
    return { rc: OCF.SUCCESS };
  }
  // Wait for the exit itself (the stock agent's race): bounded by the caller's timeout.
  if (await waitExit(d.pid, 55_000)) return { rc: OCF.SUCCESS };
  return { rc: OCF.ERR_GENERIC, reason: `director pid ${d.pid} did not exit after SIGTERM` };
}

async function run(req: AgentRequest): Promise<AgentResult> {
  switch (req.action) {
    case 'start':
      return start(req);
    case 'stop':
      return stop(req);
    case 'monitor':
    case 'status':
      return monitor(req);
    default:
      return validate(req);
  }
}

/** The ldirectord agent. heartbeat style: `ldirectord[::configfile]`. */
export const ldirectord: Agent = {
  metadata,
  actions: ['start', 'stop', 'monitor', 'status', 'validate-all'],
  run,
  heartbeat: {
    grammar: '[configfile]',
    parse(args) {
      if (args.length > 1) return undefined;
      const [cfg] = args;
      return cfg === undefined || cfg === ''
        ? { instance: 'ldirectord', reskeys: {} }
        : { instance: `ldirectord_${cfg}`, reskeys: { configfile: cfg } };
    },
  },
};
