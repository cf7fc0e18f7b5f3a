// Part: the heartbeat-style (resource.d) packaging of an agent: positional arguments from
// haresources, the action mapping and the stdout lines of heartbeat 3.0.6's wrappers
// (`hto-mapfuncs`), on top of the same OCF dispatcher the OCF packaging uses.

import { type Agent, type OcfCall, runOcfAction } from './agent.js';
import { heartbeatRcLine, OCF } from './ocf.js';

/** What heartbeat's wrappers list in their usage line. */
export const LEGAL_ACTIONS = '(start|stop|status|usage|meta-data)';

/** The usage line a wrapper prints for wrong arguments. */
export function heartbeatUsage(agent: Agent, argv0: string): string {
  return `usage: ${argv0} ${agent.heartbeat.grammar} ${LEGAL_ACTIONS}\n`;
}

/**
 * Run `<argv0> ...args <action>` the way heartbeat's resource.d wrapper for this agent does:
 *  - wrong argument count: usage on stdout, exit 1;
 *  - the environment gets `OCF_ROOT`, `OCF_RA_VERSION_MAJOR=1`, `_MINOR=0`, `OCF_TYPE`, the
 *    wrapper's `OCF_RESOURCE_INSTANCE` and the `OCF_RESKEY_*` parsed from the arguments (over
 *    whatever the caller's environment had);
 *  - `status` runs the agent's `monitor` (heartbeat calls that mapping a bug; kept, because status
 *    output is what heartbeat reads);
 *  - afterwards one line on stdout (and in the log): "INFO:  Running OK", "INFO:  Resource is
 *    stopped", "INFO:  Success", "ERROR:  Generic error", ...; exit status = the agent's code
 *    (codes above 7: "ERROR:  Unknown error: N" and exit 1).
 */
export async function runHeartbeatAction(
  agent: Agent,
  args: readonly string[],
  action: string,
  call: OcfCall,
): Promise<number> {
  const { io } = call;
  if (agent.heartbeat.script) return agent.heartbeat.script(args, action, call);
  const parsed = agent.heartbeat.parse(args);
  if (parsed === undefined) {
    io.stdout(heartbeatUsage(agent, call.argv0));
    return 1;
  }
  const env: Record<string, string | undefined> = {
    ...call.env,
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RA_VERSION_MAJOR: '1',
    OCF_RA_VERSION_MINOR: '0',
    OCF_TYPE: agent.metadata.name,
    OCF_RESOURCE_INSTANCE: parsed.instance,
  };
  for (const [k, v] of Object.entries(parsed.reskeys)) env[`OCF_RESKEY_${k}`] = v;

  let ocfAction: string;
  switch (action) {
    case 'start':
    case 'stop':
    case 'monitor':
      ocfAction = action;
      break;
    case 'status':
      ocfAction = 'monitor';
      break;
    case 'meta-data':
      return runOcfAction(agent, 'meta-data', { ...call, env });
    case 'usage':
    case 'help':
      io.stdout(heartbeatUsage(agent, call.argv0));
      ocfAction = '';
      break;
    default: {
      const text = action === '' ? 'ERROR: No action specfied.' : `ERROR: Unknown operation: ${action}`;
      io.log('error', text.slice('ERROR: '.length));
      io.stdout(`${text}\n${heartbeatUsage(agent, call.argv0)}`);
      return 1;
    }
  }
  const rc = ocfAction === '' ? OCF.SUCCESS : await runOcfAction(agent, ocfAction, { ...call, env });
  if (rc !== OCF.SUCCESS && agent.heartbeat.silentOnFailure) return rc;
  const line = heartbeatRcLine(rc, action);
  const sep = line.indexOf(': ');
  io.log(line.startsWith('ERROR') ? 'error' : 'info', line.slice(sep + 2));
  io.stdout(`${line}\n`);
  return rc >= 0 && rc <= 7 ? rc : 1;
}
