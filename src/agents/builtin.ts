// Part: how tsbeat's resource manager runs its built-in agents: the in-process fast path (a
// heartbeat-style or OCF action inside the daemon — the same TypeScript code the executables
// run, without forking a shell or Node; `ip` and the GARP runner come from pre-spawned idle
// processes, runtime.ts) for the agents the registry allows in-process, and the command line of
// the agent's own executable for the others.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentProblem, BuiltinAgentCheck } from '../config/load.js';
import { FAULT_ENV, faultHook } from '../lib/fault-hooks.js';
import { type AgentIo, exitReasonLine, type OcfCall, runOcfAction } from './agent.js';
import { runHeartbeatAction } from './heartbeat.js';
import { type LogLevel, makeLogSink } from './log.js';
import { OCF } from './ocf.js';
import { findAgent, runsInProcess } from './registry.js';
import type { BuiltinAgents } from './runner.js';
import {
  type AgentRuntime,
  executableRuntime,
  inProcessRuntime,
  prewarmInProcessRuntime,
  shutdownInProcessRuntime,
} from './runtime.js';

/** The agents tsbeat implements itself, by heartbeat script name ('IPaddr2', 'IPaddr', 'SendArp', 'Dummy'). */
export function isBuiltinAgent(script: string): boolean {
  return findAgent(script) !== undefined;
}

/**
 * Whether the resource manager may run this built-in agent inside the daemon; false means its
 * own executable in a child process (registry.ts says why, agent by agent).
 */
export function isInProcessAgent(script: string): boolean {
  return runsInProcess(script);
}

/**
 * `dist/cli/agent.js`, the executable behind resource.d/NAME and ocf/NAME, next to this module.
 * Under vitest the TypeScript sources run (src/agents/builtin.ts) and node cannot run
 * src/cli/agent.ts, so there it is the built copy in dist/ (`npm test` builds first).
 */
export function agentExecutablePath(): string {
  const here = fileURLToPath(import.meta.url);
  const root = dirname(dirname(here));
  return here.endsWith('.ts')
    ? join(dirname(root), 'dist', 'cli', 'agent.js')
    : join(root, 'cli', 'agent.js');
}

/** A built-in agent's executable as a command line, without a shell: append ARG... ACTION. */
export interface AgentCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** The whole environment of the child. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * What `resource.d/<script>` runs (src/cli/install-agents.ts `shimText`): this very node, the
 * packaged `agent.js hb <script>`, TSBEAT_ARGV0 set to the path heartbeat would have run and no
 * NODE_EXTRA_CA_CERTS. It does not depend on what is installed in the configuration's
 * resource.d. The test-only TSBEAT_TEST_FAULT of the daemon is passed on, so `agent-hang` hangs
 * an agent whichever way it runs.
 */
export function agentCommand(script: string, env: Readonly<Record<string, string>>): AgentCommand {
  const childEnv: Record<string, string> = { ...env, TSBEAT_ARGV0: scriptPath(script, env) };
  delete childEnv['NODE_EXTRA_CA_CERTS'];
  const fault = process.env[FAULT_ENV];
  if (fault !== undefined && childEnv[FAULT_ENV] === undefined) childEnv[FAULT_ENV] = fault;
  return { file: process.execPath, args: [agentExecutablePath(), 'hb', script], env: childEnv };
}

/** What the resource manager gives an in-process agent run. */
export interface HeartbeatRunContext {
  /** HA_RSCTMP, HA_CURHOST, ... as heartbeat gives scripts (OCF_RESKEY_* here are seen too). */
  readonly env: Readonly<Record<string, string>>;
  /** Abort = give up (timeout); the agent kills its helpers and returns rc 1. */
  readonly signal: AbortSignal;
  /** Every `ocf_log` line of the agent, structured. */
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
  /** The resource runner's runtime for this action (default: the shared in-process one). */
  readonly runtime?: AgentRuntime;
}

/** Exit status and output, as the script would have produced them. */
export interface HeartbeatRunResult {
  readonly rc: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The path heartbeat would have run, for usage texts. */
function scriptPath(script: string, env: Readonly<Record<string, string>>): string {
  return `${env['HA_DIR'] ?? '/etc/ha.d'}/resource.d/${script}`;
}

function captureIo(
  script: string,
  ctx: HeartbeatRunContext,
  sink: { stdout: string; stderr: string },
): AgentIo {
  // stderr gets what the executable would print there (log lines only without HA_LOGFILE, as
  // the shell library does); the structured record always goes to ctx.log, which is the
  // resource manager's own log. Files are not written from here: ctx.log is the log.
  const fileless = makeLogSink(ctx.env, `${script}[${process.pid}]`, {
    stderr: (t) => {
      sink.stderr += t;
    },
  });
  return {
    log: (level: LogLevel, message: string) => {
      ctx.log(level, message);
      fileless(level, message);
    },
    stdout: (t) => {
      sink.stdout += t;
    },
    stderr: (t) => {
      sink.stderr += t;
    },
    exitReason: (reason) => {
      sink.stderr += exitReasonLine(reason, ctx.env);
      ctx.log('error', reason);
    },
  };
}

/**
 * Test-only fault hook `agent-hang:AGENT[:ACTION[:ARG1]]` (TSBEAT_TEST_FAULT, see
 * src/lib/fault-hooks.ts and tsbeat(8)): the action never settles and ignores its abort signal,
 * the way a wedged agent would, so tests can show that the resource manager's deadline does not
 * depend on the agent. Inert unless the variable names it; says so in the log when it fires.
 */
function hangHook(
  agent: string,
  action: string,
  args: readonly string[],
  ctx: HeartbeatRunContext,
): Promise<never> | undefined {
  if (faultHook('agent-hang', [agent, action, args[0] ?? '']) === undefined) return undefined;
  ctx.log('warn', `test fault hook agent-hang: ${agent} ${[...args, action].join(' ')} will never finish`);
  return new Promise<never>(() => {
    // Deliberately never settles, and never looks at ctx.signal.
  });
}

/** Exactly what `resource.d/<script> ...args <action>` does, in-process. */
export async function runHeartbeatStyle(
  script: string,
  args: readonly string[],
  action: 'start' | 'stop' | 'status',
  ctx: HeartbeatRunContext,
): Promise<HeartbeatRunResult> {
  const agent = findAgent(script);
  if (agent === undefined) {
    return { rc: 1, stdout: '', stderr: `tsbeat: ${script} is not a built-in agent\n` };
  }
  const hang = hangHook(script, action, args, ctx);
  if (hang) return hang;
  const sink = { stdout: '', stderr: '' };
  const call: OcfCall = {
    env: ctx.env,
    io: captureIo(script, ctx, sink),
    runtime: ctx.runtime ?? inProcessRuntime(),
    signal: ctx.signal,
    argv0: scriptPath(script, ctx.env),
  };
  const rc = await runHeartbeatAction(agent, args, action, call);
  return { rc, stdout: sink.stdout, stderr: sink.stderr };
}

/**
 * One OCF action of a built-in agent in-process, with the parameters as `OCF_RESKEY_*` in
 * `ctx.env` (for an OCF-class resource, and for the benchmark).
 */
export async function runOcfInProcess(
  type: string,
  action: string,
  ctx: HeartbeatRunContext,
): Promise<HeartbeatRunResult> {
  const agent = findAgent(type);
  if (agent === undefined) {
    return { rc: 5, stdout: '', stderr: `tsbeat: ${type} is not a built-in agent\n` };
  }
  const hang = hangHook(type, action, [], ctx);
  if (hang) return hang;
  const sink = { stdout: '', stderr: '' };
  const rc = await runOcfAction(agent, action, {
    env: ctx.env,
    io: captureIo(type, ctx, sink),
    runtime: inProcessRuntime(),
    signal: ctx.signal,
    argv0: `/usr/lib/ocf/resource.d/tsbeat/${type}`,
  });
  return { rc, stdout: sink.stdout, stderr: sink.stderr };
}

/**
 * Spawn the idle `ip -batch` and GARP runner processes now (call once at daemon start, in the
 * network namespace the resources live in), so that even the first takeover forks nothing.
 */
export function prewarmBuiltinAgents(): void {
  prewarmInProcessRuntime();
}

/** End the idle helper processes (daemon shutdown). Announcements in flight continue. */
export function shutdownBuiltinAgents(): void {
  shutdownInProcessRuntime();
}

/** Everything tsbeat's resource runner needs of the built-in agents (runner.ts BuiltinAgents). */
export const builtinAgents: BuiltinAgents = {
  isBuiltinAgent,
  isInProcessAgent,
  agentCommand,
  runHeartbeatStyle,
  inProcessRuntime,
};

/** The OCF code names operators see in `tsbeat check`. */
const RC_NAMES: Readonly<Record<number, string>> = {
  1: 'OCF_ERR_GENERIC',
  2: 'OCF_ERR_ARGS',
  3: 'OCF_ERR_UNIMPLEMENTED',
  4: 'OCF_ERR_PERM',
  5: 'OCF_ERR_INSTALLED',
  6: 'OCF_ERR_CONFIGURED',
};

/**
 * `Script::arg::...` checked by the agent itself: the heartbeat argument grammar, then the
 * agent's `validate-all` with the parameters the wrapper would export, and its exit reason.
 * OCF_ERR_CONFIGURED (wrong everywhere) and a wrong argument count are errors; what depends on
 * this machine (2 = here, 5 = not installed here, 1) is a warning, and is not checked at all
 * when `local` is false (a configuration checked for another machine).
 */
export async function validateBuiltinResource(
  script: string,
  args: readonly string[],
  local: boolean,
  baseEnv: Readonly<Record<string, string | undefined>> = process.env,
): Promise<AgentProblem[]> {
  const agent = findAgent(script);
  if (agent === undefined) return [];
  const parsed = agent.heartbeat.parse(args);
  if (parsed === undefined) {
    return [
      {
        severity: 'error',
        message: `wrong arguments for the built-in agent ${script}`,
        hint: `write ${script}${haresourcesForm(agent.heartbeat.grammar)}`,
      },
    ];
  }
  const env: Record<string, string | undefined> = {
    PATH: baseEnv['PATH'],
    HA_RSCTMP: baseEnv['HA_RSCTMP'],
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RA_VERSION_MAJOR: '1',
    OCF_RA_VERSION_MINOR: '0',
    OCF_RESOURCE_INSTANCE: parsed.instance,
    OCF_CHECK_LEVEL: local ? '10' : '0',
  };
  for (const [k, v] of Object.entries(parsed.reskeys)) env[`OCF_RESKEY_${k}`] = v;
  let reason: string | undefined;
  const rc = await runOcfAction(agent, 'validate-all', {
    env,
    io: {
      log: () => {},
      stdout: () => {},
      stderr: () => {},
      exitReason: (r) => {
        reason = r;
      },
    },
    runtime: executableRuntime(),
    signal: AbortSignal.timeout(30_000),
    argv0: script,
  });
  if (rc === OCF.SUCCESS) return [];
  const what = `${RC_NAMES[rc] ?? `exit ${rc}`} (${rc}): ${reason ?? 'validate-all failed'}`;
  if (rc === OCF.ERR_CONFIGURED) return [{ severity: 'error', message: what }];
  if (!local) return [];
  return [{ severity: 'warning', message: `on this machine: ${what}` }];
}

/** A wrapper's usage grammar as haresources spells it: "dev dir [fstype]" → "::dev::dir[::fstype]". */
export function haresourcesForm(grammar: string): string {
  if (grammar === '') return '';
  const g = grammar.replace(/ \[/g, '[::').replace(/ /g, '::');
  return g.startsWith('[') ? `[::${g.slice(1)}` : `::${g}`;
}

/** For `tsbeat check` (config/load.ts's BuiltinAgentCheck). */
export const builtinAgentCheck: BuiltinAgentCheck = {
  isBuiltin: isBuiltinAgent,
  validate: (script, args, local) => validateBuiltinResource(script, args, local),
};
