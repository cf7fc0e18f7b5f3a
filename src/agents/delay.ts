// Part: Delay — a resource whose start, stop and monitor take a configured time; for testing
// timeouts and ordering. As ocf:heartbeat:Delay 4.12 (spec §5.8) except that an unknown action
// answers 3 (OCF_ERR_UNIMPLEMENTED), so ocf-tester no longer takes promote/demote/notify for
// implemented-and-failing.

import type { Agent, AgentRequest, AgentResult } from './agent.js';
import { ensureDir, isFile, removeFile, touch } from './files.js';
import type { AgentMetadata } from './metadata.js';
import { OCF } from './ocf.js';
import { sleepMs } from './sleep.js';

const metadata: AgentMetadata = {
  name: 'Delay',
  version: '1.0',
  shortdesc: 'Waits for a defined timespan (tsbeat)',
  longdesc: `
Start sleeps startdelay seconds, stop stopdelay seconds, monitor mondelay seconds (decimals are
allowed). Running means the state file $HA_RSCTMP/Delay_<instance> exists. For testing.
`,
  parameters: [
    {
      name: 'startdelay',
      type: 'integer',
      unique: false,
      default: '20',
      shortdesc: 'Start delay',
      longdesc: 'How long in seconds the start action takes.',
    },
    {
      name: 'stopdelay',
      type: 'integer',
      unique: false,
      default: '30',
      shortdesc: 'Stop delay',
      longdesc: 'How long in seconds the stop action takes.',
    },
    {
      name: 'mondelay',
      type: 'integer',
      unique: false,
      default: '30',
      shortdesc: 'Monitor delay',
      longdesc: 'How long in seconds the monitor action takes.',
    },
  ],
  actions: [
    { name: 'start', timeout: '30s' },
    { name: 'stop', timeout: '40s' },
    { name: 'status', timeout: '30s' },
    { name: 'monitor', timeout: '40s', interval: '10s', depth: '0' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '30s' },
  ],
};

/** A delay in seconds as the stock agent accepts it (digits, optionally with a fraction). */
export function parseDelay(text: string): number | undefined {
  return /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : undefined;
}

function stateFile(req: AgentRequest): string {
  return `${req.rscTmp}/Delay_${req.instance}`;
}

async function run(req: AgentRequest): Promise<AgentResult> {
  const delays: Record<string, number> = {};
  for (const name of ['startdelay', 'stopdelay', 'mondelay']) {
    const v = parseDelay(req.param(name));
    if (v === undefined) {
      if (req.action === 'stop') continue;
      return { rc: OCF.ERR_ARGS, reason: `${name} "${req.param(name)}" is not a number of seconds` };
    }
    delays[name] = v;
  }
  const running = (): boolean => isFile(stateFile(req));
  const wait = (s: number | undefined): Promise<boolean> => sleepMs((s ?? 0) * 1000, req.signal);
  switch (req.action) {
    case 'start': {
      if (running()) return { rc: OCF.SUCCESS };
      ensureDir(req.rscTmp);
      const err = touch(stateFile(req));
      if (err !== undefined)
        return { rc: OCF.ERR_GENERIC, reason: `Cannot create ${stateFile(req)}: ${err}` };
      return (await wait(delays['startdelay']))
        ? { rc: OCF.ERR_GENERIC, reason: 'start aborted' }
        : { rc: OCF.SUCCESS };
    }
    case 'stop':
      if (!running()) return { rc: OCF.SUCCESS };
      removeFile(stateFile(req));
      await wait(delays['stopdelay']);
      return { rc: OCF.SUCCESS };
    case 'monitor':
    case 'status': {
      if (req.action === 'monitor' && (await wait(delays['mondelay'])))
        return { rc: OCF.ERR_GENERIC, reason: 'monitor aborted' };
      const on = running();
      req.io.log('info', on ? 'Delay is running OK' : 'Delay is stopped');
      return { rc: on ? OCF.SUCCESS : OCF.NOT_RUNNING };
    }
    default:
      return { rc: OCF.SUCCESS };
  }
}

/**
 * The Delay agent. heartbeat style: `Delay[::startdelay[::stopdelay]]` (startdelay 10 there,
 * instance `Delay_<startdelay>`). heartbeat's wrapper turns `status` into `monitor`, which costs
 * mondelay (30 s) on every status call, before every start; the tsbeat wrapper sets mondelay to 0.
 */
export const delay: Agent = {
  metadata,
  actions: ['start', 'stop', 'monitor', 'status', 'validate-all'],
  run,
  heartbeat: {
    grammar: '[delay [stopdelay]]',
    parse(args) {
      if (args.length > 2) return undefined;
      const [start, stop] = args;
      const startdelay = start === undefined || start === '' ? '10' : start;
      return {
        instance: `Delay_${startdelay}`,
        reskeys: {
          startdelay,
          ...(stop !== undefined ? { stopdelay: stop } : {}),
          mondelay: '0',
        },
      };
    },
  },
};
