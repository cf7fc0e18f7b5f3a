// Part: lxc — today's sibling of the vserver agent: start, stop and watch one LXC system
// container with the lxc tools (lxc-start -d, lxc-wait, lxc-stop -t then -k, lxc-info -s). The
// parameters follow ocf:heartbeat:lxc (container, config) plus lxcpath. LXC was picked because it
// runs here as it is: a plain Debian 12 host without systemd as PID 1, cgroup v1, no network
// needed (a container with lxc.net.0.type = none shares the node's addresses, as VServer guests did).

import type { Agent, AgentRequest, AgentResult } from './agent.js';
import { isFile } from './files.js';
import type { AgentMetadata } from './metadata.js';
import { isDecimal, isTrue, OCF } from './ocf.js';
import { haveBinary } from './runtime.js';
import { sleepMs } from './sleep.js';

const metadata: AgentMetadata = {
  name: 'lxc',
  version: '1.0',
  shortdesc: 'Manages an LXC container (tsbeat)',
  longdesc: `
Starts an LXC container in the background (lxc-start -d) and waits until it runs; stops it
with lxc-stop, asking its init to shut down for stop_timeout seconds, then killing it. Running
means lxc-info -s reports RUNNING.
`,
  parameters: [
    {
      name: 'container',
      type: 'string',
      required: true,
      unique: true,
      shortdesc: 'Container name',
      longdesc: 'The name of the container (lxc -n).',
    },
    {
      name: 'config',
      type: 'string',
      required: true,
      unique: false,
      shortdesc: 'Container configuration file',
      longdesc:
        "The container's configuration (lxc-start -f). The heartbeat-style form lxc::NAME uses <lxcpath>/NAME/config.",
    },
    {
      name: 'log',
      type: 'string',
      unique: false,
      default: (env) =>
        `${env['HA_RSCTMP'] || '/run/resource-agents'}/${env['OCF_RESOURCE_INSTANCE'] ?? 'default'}.log`,
      shortdesc: 'Container log file',
      longdesc: 'lxc-start writes its log here (-o).',
    },
    {
      name: 'use_screen',
      type: 'boolean',
      unique: false,
      default: 'false',
      shortdesc: 'Use screen for the container console',
      longdesc: 'Not supported by tsbeat (true is refused): the container always starts in the background.',
    },
    {
      name: 'lxcpath',
      type: 'string',
      unique: false,
      default: '/var/lib/lxc',
      shortdesc: 'Container directory',
      longdesc: 'Where the containers live (lxc -P).',
    },
    {
      name: 'stop_timeout',
      type: 'integer',
      unique: false,
      default: '10',
      shortdesc: 'Seconds for a clean shutdown',
      longdesc: 'How long stop lets the container shut down cleanly before it is killed.',
    },
  ],
  actions: [
    { name: 'start', timeout: '60s' },
    { name: 'stop', timeout: '60s' },
    { name: 'monitor', timeout: '20s', interval: '30s', depth: '0' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '5s' },
  ],
};

/** The state word of `lxc-info -s` ("State:          RUNNING"). */
export function lxcState(output: string): string | undefined {
  return /^State:\s+(\S+)/m.exec(output)?.[1];
}

function base(req: AgentRequest): string[] {
  return ['-n', req.param('container'), '-P', req.param('lxcpath')];
}

async function state(req: AgentRequest): Promise<string> {
  const r = await req.runtime.runTool('lxc-info', [...base(req), '-s'], {
    signal: req.signal,
    timeoutMs: 20_000,
  });
  return r.code === 0 ? (lxcState(r.stdout) ?? 'UNKNOWN') : 'STOPPED';
}

function validate(req: AgentRequest): AgentResult | undefined {
  const c = req.param('container');
  if (c === '') return { rc: OCF.ERR_CONFIGURED, reason: 'container is not set' };
  if (!/^[A-Za-z0-9_.-]+$/.test(c))
    return { rc: OCF.ERR_CONFIGURED, reason: `"${c}" is not a container name` };
  if (!isDecimal(req.param('stop_timeout')))
    return { rc: OCF.ERR_CONFIGURED, reason: `stop_timeout "${req.param('stop_timeout')}" is not a number` };
  for (const b of ['lxc-start', 'lxc-stop', 'lxc-info', 'lxc-wait'])
    if (!haveBinary(b, req.env))
      return { rc: OCF.ERR_INSTALLED, reason: `Setup problem: couldn't find command: ${b}` };
  if (isTrue(req.param('use_screen')))
    return {
      rc: OCF.ERR_CONFIGURED,
      reason: 'use_screen is not supported: tsbeat starts containers with lxc-start -d',
    };
  const config = req.param('config');
  if (config === '') return { rc: OCF.ERR_CONFIGURED, reason: 'config is not set' };
  if (!isFile(config))
    return { rc: OCF.ERR_INSTALLED, reason: `container configuration ${config} does not exist` };
  return undefined;
}

async function start(req: AgentRequest): Promise<AgentResult> {
  if ((await state(req)) === 'RUNNING') return { rc: OCF.SUCCESS };
  const config = req.param('config');
  const log = req.param('log');
  const r = await req.runtime.runTool(
    'lxc-start',
    [...base(req), '-f', config, ...(log ? ['-o', log] : []), '-d'],
    {
      signal: req.signal,
      timeoutMs: 60_000,
    },
  );
  if (r.code !== 0)
    return { rc: OCF.ERR_GENERIC, reason: `lxc-start ${req.param('container')} failed: ${r.stderr.trim()}` };
  await req.runtime.runTool('lxc-wait', [...base(req), '-s', 'RUNNING', '-t', '30'], { signal: req.signal });
  // lxc-start -d returns before the container's init could fail; make sure it still runs.
  await sleepMs(200, req.signal);
  return (await state(req)) === 'RUNNING'
    ? { rc: OCF.SUCCESS }
    : { rc: OCF.ERR_GENERIC, reason: `container ${req.param('container')} did not stay running` };
}

async function stop(req: AgentRequest): Promise<AgentResult> {
  if ((await state(req)) === 'STOPPED') return { rc: OCF.SUCCESS };
  const t = req.param('stop_timeout');
  await req.runtime.runTool('lxc-stop', [...base(req), '-t', t], { signal: req.signal });
  if ((await state(req)) !== 'STOPPED') {
    req.io.log('warn', `container ${req.param('container')} did not shut down in ${t} s; killing it`);
    await req.runtime.runTool('lxc-stop', [...base(req), '-k'], { signal: req.signal });
  }
  return (await state(req)) === 'STOPPED'
    ? { rc: OCF.SUCCESS }
    : { rc: OCF.ERR_GENERIC, reason: `container ${req.param('container')} is still running` };
}

async function run(req: AgentRequest): Promise<AgentResult> {
  const bad = validate(req);
  if (bad) {
    if (req.action === 'stop' && bad.rc === OCF.ERR_INSTALLED) return { rc: OCF.SUCCESS };
    if (req.action === 'monitor' && req.probe && bad.rc === OCF.ERR_INSTALLED) return { rc: OCF.NOT_RUNNING };
    return bad;
  }
  switch (req.action) {
    case 'start':
      return start(req);
    case 'stop':
      return stop(req);
    case 'monitor':
    case 'status': {
      const s = await state(req);
      if (req.action === 'status') req.io.stdout(s === 'RUNNING' ? 'running\n' : 'stopped\n');
      if (s === 'RUNNING') return { rc: OCF.SUCCESS };
      if (s === 'STOPPED') return { rc: OCF.NOT_RUNNING };
      return { rc: OCF.ERR_GENERIC, reason: `container ${req.param('container')} is ${s}` };
    }
    default:
      return { rc: OCF.SUCCESS };
  }
}

/** The lxc agent. heartbeat style: `lxc::container[::lxcpath]`. */
export const lxc: Agent = {
  metadata,
  actions: ['start', 'stop', 'monitor', 'status', 'validate-all'],
  run,
  heartbeat: {
    grammar: 'container [lxcpath]',
    parse(args) {
      if (args.length < 1 || args.length > 2) return undefined;
      const [container = '', lxcpath = '/var/lib/lxc'] = args;
      return {
        instance: `lxc_${container}`,
        reskeys: { container, lxcpath, config: `${lxcpath}/${container}/config` },
      };
    },
  },
};
