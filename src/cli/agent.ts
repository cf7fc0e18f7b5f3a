#!/usr/bin/env node
// Part: the executable behind the agent shims (`ocf/NAME`, `resource.d/NAME`): `agent.js ocf NAME
// ACTION` (OCF: parameters from OCF_RESKEY_*) or `agent.js hb NAME ARG... ACTION` (heartbeat
// style). It imports only src/agents (no third-party modules), so an installed copy is self-contained.

import { appendFileSync } from 'node:fs';
import { type AgentIo, exitReasonLine, runOcfAction } from '../agents/agent.js';
import { runHeartbeatAction } from '../agents/heartbeat.js';
import { type LogFn, makeLogSink } from '../agents/log.js';
import { agentNames, findAgent } from '../agents/registry.js';
import { executableRuntime } from '../agents/runtime.js';
import { faultHook } from '../lib/fault-hooks.js';
import { printable } from '../lib/printable.js';

const USAGE = `usage: agent.js ocf NAME ACTION
       agent.js hb NAME [ARG...] ACTION
agents: ${agentNames().join(', ')}
`;

function append(path: string, text: string): void {
  try {
    appendFileSync(path, text);
  } catch {
    // A log file we cannot write must not fail the action.
  }
}

/**
 * Test-only fault hook `agent-hang:AGENT[:ACTION[:ARG1]]` (TSBEAT_TEST_FAULT, see
 * src/lib/fault-hooks.ts and tsbeat(8)), as in builtin.ts for the in-process path: here the
 * action blocks this process's only thread, the way a synchronous call on a hung mount does, so
 * no handler runs (SIGTERM included) and only SIGKILL ends it. Inert unless the variable names
 * the agent; says so in the log first.
 */
function hangIfAsked(name: string, action: string, args: readonly string[], log: LogFn): void {
  if (faultHook('agent-hang', [name, action, args[0] ?? '']) === undefined) return;
  log('warn', `test fault hook agent-hang: ${name} ${[...args, action].join(' ')} will never finish`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0);
}

async function main(argv: readonly string[]): Promise<number> {
  const [mode, name, ...rest] = argv;
  const agent = name === undefined ? undefined : findAgent(name);
  if ((mode !== 'ocf' && mode !== 'hb') || agent === undefined || name === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  const env = process.env;
  // The shim passes its own path; printed in usage lines, so escaped and cut like any input.
  const argv0 = printable(env['TSBEAT_ARGV0'] ?? name, 200);
  const tag = `${name}(${env['OCF_RESOURCE_INSTANCE'] ?? ''})[${process.pid}]`;
  const log = makeLogSink(env, tag, { stderr: (t) => process.stderr.write(t), append });
  const io: AgentIo = {
    log,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    exitReason: (reason) => {
      process.stderr.write(exitReasonLine(reason, env));
      const logfile = env['HA_LOGFILE'];
      if (logfile) append(logfile, `${tag}: ERROR: ${reason}\n`);
    },
  };
  // A caller that gives up sends SIGTERM (heartbeat) or SIGKILL (crm_resource); on SIGTERM the
  // agent stops its helpers and reports.
  const abort = new AbortController();
  process.once('SIGTERM', () => {
    abort.abort();
    // Helpers are ended by the abort; if the action still does not finish, go anyway (the
    // default SIGTERM action would not have waited at all).
    setTimeout(() => process.exit(1), 3000).unref();
  });
  const call = { env, io, runtime: executableRuntime(), signal: abort.signal, argv0 };
  if (mode === 'ocf') {
    const [action] = rest;
    if (action === undefined) {
      process.stderr.write(`usage: ${argv0} {${[...agent.actions, 'meta-data'].join('|')}}\n`);
      return 2;
    }
    hangIfAsked(name, action, [], log);
    // Extra arguments are ignored, as the OCF text asks.
    return runOcfAction(agent, action, call);
  }
  if (rest.length === 0) {
    process.stdout.write(`usage: ${argv0} ${agent.heartbeat.grammar} (start|stop|status|usage|meta-data)\n`);
    return 1;
  }
  const action = rest[rest.length - 1] ?? '';
  hangIfAsked(name, action, rest.slice(0, -1), log);
  return runHeartbeatAction(agent, rest.slice(0, -1), action, call);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // runOcfAction never throws; this is a bug in the glue itself.
    process.stderr.write(`ocf-exit-reason:tsbeat agent: internal error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
