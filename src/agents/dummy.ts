// Part: Dummy — a resource that is "running" while its state file exists. For tests and demos;
// behaviour as ocf:heartbeat:Dummy (4.12), including migrate_to = stop and migrate_from = start.

import { dirname } from 'node:path';
import type { Agent, AgentRequest, AgentResult } from './agent.js';
import { ensureDir, isFile, removeFile, touch } from './files.js';
import type { AgentMetadata } from './metadata.js';
import { OCF } from './ocf.js';

const metadata: AgentMetadata = {
  name: 'Dummy',
  version: '1.0',
  shortdesc: 'State-file test resource (tsbeat)',
  longdesc: `
Does nothing but remember whether it is running: start creates a state file, stop removes it,
monitor reports whether it exists. Meant for tests, demonstrations and as the smallest example
of a tsbeat agent.
`,
  parameters: [
    {
      name: 'state',
      type: 'string',
      unique: true,
      shortdesc: 'State file',
      longdesc: 'Path of the file whose existence means "running".',
      default: (env) =>
        `${env['HA_RSCTMP'] || '/run/resource-agents'}/Dummy-${env['OCF_RESOURCE_INSTANCE'] ?? 'default'}.state`,
    },
    {
      name: 'fake',
      type: 'string',
      unique: false,
      default: 'dummy',
      shortdesc: 'Fake attribute',
      longdesc: 'A parameter with no effect; changing it lets a manager exercise a reload.',
    },
  ],
  actions: [
    { name: 'start', timeout: '20s' },
    { name: 'stop', timeout: '20s' },
    { name: 'monitor', timeout: '20s', interval: '10s', depth: '0' },
    { name: 'reload', timeout: '20s' },
    { name: 'migrate_to', timeout: '20s' },
    { name: 'migrate_from', timeout: '20s' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '20s' },
  ],
};

function monitor(req: AgentRequest): AgentResult {
  if (isFile(req.param('state'))) return { rc: OCF.SUCCESS };
  if (!req.probe && req.action === 'monitor')
    return { rc: OCF.NOT_RUNNING, reason: 'No process state file found' };
  return { rc: OCF.NOT_RUNNING };
}

function start(req: AgentRequest): AgentResult {
  if (monitor(req).rc === OCF.SUCCESS) return { rc: OCF.SUCCESS };
  const state = req.param('state');
  ensureDir(dirname(state));
  const err = touch(state);
  if (err !== undefined)
    return { rc: OCF.ERR_GENERIC, reason: `Cannot create state file "${state}": ${err}` };
  return { rc: OCF.SUCCESS };
}

function stop(req: AgentRequest): AgentResult {
  if (monitor(req).rc === OCF.SUCCESS) removeFile(req.param('state'));
  return { rc: OCF.SUCCESS };
}

function validate(req: AgentRequest): AgentResult {
  const state = req.param('state');
  const probe = `${dirname(state)}/${process.pid}`;
  if (touch(probe) !== undefined)
    return { rc: OCF.ERR_ARGS, reason: `State file "${state}" is not writable` };
  removeFile(probe);
  return { rc: OCF.SUCCESS };
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
    case 'migrate_to':
      req.io.log(
        'info',
        `Migrating ${req.instance} to ${req.env['OCF_RESKEY_CRM_meta_migrate_target'] ?? ''}.`,
      );
      return stop(req);
    case 'migrate_from':
      req.io.log(
        'info',
        `Migrating ${req.instance} from ${req.env['OCF_RESKEY_CRM_meta_migrate_source'] ?? ''}.`,
      );
      return start(req);
    case 'reload':
      req.io.log('info', `Reloading ${req.instance} ...`);
      return { rc: OCF.SUCCESS };
    default:
      return validate(req);
  }
}

/** The Dummy agent. heartbeat style: `Dummy[::name]` (instance `Dummy_<name>`, or `Dummy`). */
export const dummy: Agent = {
  metadata,
  actions: ['start', 'stop', 'monitor', 'status', 'reload', 'migrate_to', 'migrate_from', 'validate-all'],
  run,
  heartbeat: {
    grammar: '[name]',
    parse(args) {
      if (args.length > 1) return undefined;
      const [name] = args;
      return { instance: name === undefined || name === '' ? 'Dummy' : `Dummy_${name}`, reskeys: {} };
    },
  },
};
