// Part: the contract every tsbeat agent implements, and the one dispatcher that runs an OCF
// action for both packagings (executable and in-process): environment → request, meta-data,
// usage, unknown actions, exit reasons, and "never throw" — a bug becomes rc 1 with a reason.

import type { LogFn } from './log.js';
import { type AgentMetadata, type Env, parameterDefault, renderMetadata } from './metadata.js';
import { checkLevel, EXIT_REASON_PREFIX, isProbe, OCF } from './ocf.js';
import type { AgentRuntime } from './runtime.js';

/** Where an agent's output goes. */
export interface AgentIo {
  /** `ocf_log`. */
  readonly log: LogFn;
  /** The agent's stdout (status words, meta-data, usage). */
  readonly stdout: (text: string) => void;
  /** Raw text for the agent's stderr (e.g. an `ip` error it passes through, as the shell would). */
  readonly stderr: (text: string) => void;
  /** `ocf_exit_reason`: one "ocf-exit-reason:" line on stderr, and an ERROR in the log files. */
  readonly exitReason: (reason: string) => void;
}

/** One action, as an agent sees it. */
export interface AgentRequest {
  readonly action: string;
  /** The complete environment of the call (`OCF_RESKEY_*`, `OCF_*`, `HA_*`, PATH). */
  readonly env: Env;
  /** `OCF_RESOURCE_INSTANCE` (defaulted as ocf-shellfuncs does). */
  readonly instance: string;
  /** `HA_RSCTMP` (default /run/resource-agents): where state and pid files live. */
  readonly rscTmp: string;
  readonly io: AgentIo;
  readonly runtime: AgentRuntime;
  /** Aborted when the caller gives up (timeout); clean up what can be cleaned and return. */
  readonly signal: AbortSignal;
  /** `ocf_is_probe`. */
  readonly probe: boolean;
  /** `OCF_CHECK_LEVEL`. */
  readonly checkLevel: number;
  /** `OCF_RESKEY_<name>` if set (even to ""), else the meta-data default, else "". */
  param(name: string): string;
}

/** What an action returns: an OCF exit code and, for failures, the reason shown to operators. */
export interface AgentResult {
  readonly rc: number;
  readonly reason?: string;
}

/** How heartbeat-style positional arguments (haresources `Agent::a::b`) map onto parameters. */
export interface HeartbeatArgs {
  /** `OCF_RESOURCE_INSTANCE` the stock wrapper would set (e.g. `IPaddr2_10.0.0.10`). */
  readonly instance: string;
  /** `OCF_RESKEY_*` values to export (name without the prefix). */
  readonly reskeys: Readonly<Record<string, string>>;
}

/** The heartbeat-style (resource.d) face of an agent. */
export interface HeartbeatStyle {
  /** The argument grammar for the usage line, e.g. "ip-address[/netmaskbits[/interface...". */
  readonly grammar: string;
  /** Positional arguments (without the action) to parameters; undefined when the count is wrong. */
  parse(args: readonly string[]): HeartbeatArgs | undefined;
  /**
   * heartbeat's SendArp wrapper runs under `set -e`, so when the agent fails it exits with the
   * agent's code before printing anything. Kept, because `status` output is protocol.
   */
  readonly silentOnFailure?: boolean;
  /**
   * For agents whose heartbeat-style script was never an OCF wrapper (drbd-utils' drbddisk,
   * util-vserver's vserver): the whole script — its own status words and exit codes — replacing
   * heartbeat's `hto-mapfuncs` layer. The OCF dispatcher is still used for the actions it runs.
   */
  readonly script?: (args: readonly string[], action: string, call: OcfCall) => Promise<number>;
}

/** A tsbeat resource agent: one TypeScript implementation behind both packagings. */
export interface Agent {
  readonly metadata: AgentMetadata;
  readonly heartbeat: HeartbeatStyle;
  /** Actions `run` implements (meta-data, usage and help are handled by the dispatcher). */
  readonly actions: readonly string[];
  /** Exit code for an action it does not know (OCF says 3; IPv6addr's C program answers 2). */
  readonly unknownActionRc?: number;
  run(req: AgentRequest): Promise<AgentResult>;
}

/** Everything the dispatcher needs besides the agent and the action. */
export interface OcfCall {
  readonly env: Env;
  readonly io: AgentIo;
  readonly runtime: AgentRuntime;
  readonly signal: AbortSignal;
  /** How the agent was invoked ($0), for the usage text. */
  readonly argv0: string;
}

/** The usage text stock agents print for `usage` and unknown actions. */
export function usageText(agent: Agent, argv0: string): string {
  const actions = [...agent.actions, 'meta-data'].join('|');
  return `usage: ${argv0} {${actions}}\n\nExpects to have a fully populated OCF RA-compliant environment set.\n`;
}

/** `OCF_RESOURCE_INSTANCE` as ocf-shellfuncs settles it; undefined means "exit 2". */
export function resolveInstance(action: string, env: Env): string | undefined {
  const given = env['OCF_RESOURCE_INSTANCE'];
  if (given !== undefined && given !== '') return given;
  if (action === 'meta-data') return 'RESOURCE_ID';
  if (env['OCF_RA_VERSION_MAJOR'] === undefined || env['OCF_RA_VERSION_MAJOR'] === '') return 'default';
  return undefined;
}

/** `HA_RSCTMP`, defaulted as ocf-directories does. */
export function rscTmpOf(env: Env): string {
  const v = env['HA_RSCTMP'];
  return v !== undefined && v !== '' ? v : '/run/resource-agents';
}

/** Run one OCF action of an agent. Never throws. */
export async function runOcfAction(agent: Agent, action: string, call: OcfCall): Promise<number> {
  const { env, io } = call;
  if (action === 'meta-data') {
    io.stdout(
      renderMetadata(agent.metadata, { ...env, OCF_RESOURCE_INSTANCE: resolveInstance(action, env) }),
    );
    return OCF.SUCCESS;
  }
  if (action === 'usage' || action === 'help') {
    io.stdout(usageText(agent, call.argv0));
    return OCF.SUCCESS;
  }
  if (!agent.actions.includes(action)) {
    io.stdout(usageText(agent, call.argv0));
    return agent.unknownActionRc ?? OCF.ERR_UNIMPLEMENTED;
  }
  const instance = resolveInstance(action, env);
  if (instance === undefined) {
    io.log('error', 'Need to tell us our resource instance name.');
    return OCF.ERR_ARGS;
  }
  const fullEnv: Env = { ...env, OCF_RESOURCE_INSTANCE: instance };
  const specs = new Map(agent.metadata.parameters.map((p) => [p.name, p]));
  const req: AgentRequest = {
    action,
    env: fullEnv,
    instance,
    rscTmp: rscTmpOf(env),
    io,
    runtime: call.runtime,
    signal: call.signal,
    probe: isProbe(action, env),
    checkLevel: checkLevel(env),
    param(name) {
      const v = fullEnv[`OCF_RESKEY_${name}`];
      if (v !== undefined) return v;
      const spec = specs.get(name);
      return (spec && parameterDefault(spec, fullEnv)) ?? '';
    },
  };
  let result: AgentResult;
  try {
    result = await agent.run(req);
  } catch (e) {
    // A bug, not bad input (bad input is answered with an rc); report it the OCF way.
    result = {
      rc: OCF.ERR_GENERIC,
      reason: `internal error in ${agent.metadata.name}: ${(e as Error).message}`,
    };
  }
  if (result.reason !== undefined) io.exitReason(result.reason);
  return result.rc;
}

/** The `ocf-exit-reason:` line, with the caller's prefix if it set one. */
export function exitReasonLine(reason: string, env: Env): string {
  return `${env['OCF_EXIT_REASON_PREFIX'] ?? EXIT_REASON_PREFIX}${reason}\n`;
}
