// Part: `tsbeat start` and `tsbeat stop`: the daemon's front door (status lives in status.ts).

import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { systemHost } from '../config/host.js';
import { loadConfig } from '../config/load.js';
import type { Daemon } from '../daemon/daemon.js';
import { AlreadyRunningError } from '../daemon/instance-lock.js';
import { DAEMON_NODE_FLAGS } from '../daemon/os-tuning.js';
import { daemonPaths } from '../daemon/paths.js';
import { runningPid } from '../daemon/pidfile.js';
import { formatDiagnostic, sortDiagnostics } from '../lib/diagnostic.js';
import { printable, quoted } from '../lib/printable.js';

export const START_USAGE = `usage: tsbeat start [-c DIR] [--node NAME] [-f|--foreground] [--log-json]

Starts the tsbeat daemon with the configuration in DIR (default /etc/ha.d).

  -c, --config DIR   configuration directory (default /etc/ha.d)
      --node NAME    run as node NAME (default: DIR/nodeinfo, else uname -n)
  -f, --foreground   do not detach; log lines also go to standard error
      --log-json     in the foreground, log JSON records instead of heartbeat lines
  -h, --help         this text

Environment: TSBEAT_RUNDIR (pid file and API socket, default /run/tsbeat),
TSBEAT_STATEDIR (generation and uuid, default /var/lib/tsbeat).
Exit status: 0 started, 1 failed to start or already running (unlike heartbeat, which
exits 0: a start that started nothing, e.g. after editing ha.cf, must not look like success),
2 usage, 6 configuration error. A running daemon that meets an internal error releases its
resources and exits 70 (see FAILURE POLICY in tsbeat(8)).
`;

/**
 * V8 flags of the daemon process: its JavaScript runs in the interpreter only (no Sparkplug
 * baseline code, no TurboFan). The idle daemon spends its CPU in system calls and the event loop,
 * not in hot JavaScript, and an optimising tier costs resident memory in every daemon: compiled
 * code, and the compilers' own pages of the node binary. Measured on a 100 ms pair: 6 MB less
 * RSS, idle CPU unchanged within run-to-run noise (issue 15). Set first thing in `tsbeat start`,
 * so that nothing was compiled by those tiers before (`tsbeat start` without -f only spawns the
 * daemon, which sets them again). The flags are the plain booleans behind
 * `--lite-mode`, safe to set at run time (lite mode itself is meant for start-up).
 */
export const DAEMON_V8_FLAGS = '--no-opt --no-sparkplug';

/** fd the detached daemon reports its start-up outcome on (a pipe to `tsbeat start`). */
const STATUS_FD = 3;

function usageError(cmd: string, e: unknown, usage: string): number {
  // parseArgs quotes the offending argument: it comes from the user, so it is cut and escaped.
  process.stderr.write(`tsbeat ${cmd}: ${printable((e as Error).message, 300)}\n\n${usage}`);
  return 2;
}

export async function startMain(argv: string[]): Promise<number> {
  setFlagsFromString(DAEMON_V8_FLAGS);
  let values: {
    config?: string;
    node?: string;
    foreground?: boolean;
    'log-json'?: boolean;
    help?: boolean;
    daemonized?: boolean;
  };
  try {
    values = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        node: { type: 'string' },
        foreground: { type: 'boolean', short: 'f' },
        'log-json': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        daemonized: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return usageError('start', e, START_USAGE);
  }
  if (values.help) {
    process.stdout.write(START_USAGE);
    return 0;
  }
  const dir = values.config ?? '/etc/ha.d';
  const paths = daemonPaths();
  const result = await loadConfig({
    dir,
    host: systemHost(),
    ...(values.node ? { localNode: values.node } : {}),
  });
  for (const d of sortDiagnostics(result.diagnostics)) {
    if (d.severity === 'error' || !values.daemonized) process.stderr.write(`${formatDiagnostic(d)}\n`);
  }
  if (!result.config) {
    process.stderr.write('tsbeat: configuration error, not started ("tsbeat check" explains each problem)\n');
    return 6;
  }
  // The detached daemon tells `tsbeat start` how start-up went, then closes the pipe.
  const report = (line: string): void => {
    if (!values.daemonized) return;
    try {
      writeSync(STATUS_FD, `${line}\n`);
      closeSync(STATUS_FD);
    } catch {
      // The parent gave up waiting: nobody to tell.
    }
  };
  const running = runningPid(paths.pidFile);
  if (running !== undefined && running !== process.pid) {
    process.stderr.write(`tsbeat: already running [pid ${running}]; not started.\n`);
    report(`error already running [pid ${running}]; not started.`);
    return 1;
  }

  if (!values.foreground && !values.daemonized) return detach(argv, paths.pidFile);

  let exitWith: (code: number) => void = (code) => process.exit(code);
  // Loaded here, after the V8 flags: evaluating the daemon's modules is enough to tier code up.
  const { Daemon } = await import('../daemon/daemon.js');
  const daemon = new Daemon({
    config: result.config,
    paths,
    stderr: values.daemonized ? false : values['log-json'] ? 'json' : 'text',
    exit: (code) => exitWith(code),
  });
  // What tsbeat check would warn about goes into the daemon's log too (a detached daemon has
  // no terminal, and the log is where an operator looks later).
  for (const d of sortDiagnostics(result.diagnostics))
    if (d.severity !== 'error') daemon.log.warn(formatDiagnostic(d));
  // Last line of defence of the failure policy: whatever escapes every subsystem's own edge
  // still ends in a clean failover, never in a silent death with resources up.
  process.on('uncaughtException', (e) => void daemon.failOver('the process (uncaught exception)', e));
  process.on('unhandledRejection', (e) => void daemon.failOver('the process (unhandled rejection)', e));
  // Installed before start-up: without a listener, SIGUSR1 opens Node's inspector (any local
  // user could then run code as root in here) and SIGUSR2 kills the process.
  installDebugSignals(daemon);
  try {
    await daemon.start();
  } catch (e) {
    const already = e instanceof AlreadyRunningError;
    const message = already
      ? `already running (${(e as Error).message}); not started.`
      : (e as Error).message;
    if (!already) daemon.log.error(message);
    await daemon.stop('start failed');
    process.stderr.write(`tsbeat: ${message}\n`);
    report(`error ${message}`);
    return 1;
  }
  report('ok');
  return new Promise<number>((resolve) => {
    exitWith = (code) => {
      resolve(code);
      // Whatever still holds the event loop (a hung agent) must not keep a failed daemon alive.
      setTimeout(() => process.exit(code), 2000).unref();
    };
    const onSignal = (sig: string) => {
      daemon.stop(sig).then(
        (done) => {
          if (done) exitWith(0);
          else
            daemon.log.crit(
              'shutdown refused: a resource could not be stopped; tsbeat keeps running (fix it, then stop again)',
            );
        },
        () => resolve(1),
      );
    };
    if (daemon.view) daemon.view.onShutdown = () => onSignal('shutdown request on the control socket');
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', () => {
      daemon.reload().catch((e: unknown) => daemon.log.error(`SIGHUP: ${(e as Error).message}`));
    });
  });
}

/** heartbeat: SIGUSR1 raises the debug level by one, SIGUSR2 lowers it. */
function installDebugSignals(daemon: Daemon): void {
  process.on('SIGUSR1', () => daemon.changeDebugLevel(+1));
  process.on('SIGUSR2', () => daemon.changeDebugLevel(-1));
}

/** Re-run ourselves detached, and report once the child says it started (or died). */
async function detach(argv: string[], pidFile: string): Promise<number> {
  const out = openSync('/dev/null', 'a');
  const child = spawn(
    process.execPath,
    [...DAEMON_NODE_FLAGS, process.argv[1]!, 'start', ...argv, '--daemonized'],
    {
      detached: true,
      stdio: ['ignore', out, out, 'pipe'],
    },
  );
  const status = child.stdio[STATUS_FD] as NodeJS.ReadableStream | null;
  let said = '';
  status?.setEncoding('utf8');
  status?.on('data', (d: string) => {
    said += d;
  });
  status?.on('error', () => undefined);
  let exited: number | null | undefined;
  let statusClosed = status === null;
  status?.on('close', () => {
    statusClosed = true;
  });
  child.on('exit', (code) => {
    exited = code;
  });
  const finish = (): void => {
    status?.removeAllListeners('data');
    (status as { destroy?: () => void } | null)?.destroy?.();
    child.unref();
  };
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const line = said.split('\n')[0] ?? '';
    if (said.includes('\n') && line === 'ok') {
      finish();
      return 0;
    }
    if (said.includes('\n') && line.startsWith('error ')) {
      finish();
      // The daemon printed nothing to us (its stderr is /dev/null): say it here.
      process.stderr.write(`tsbeat: ${line.slice('error '.length)}\n`);
      return 1;
    }
    // The exit can be seen before the last words on the pipe: wait for the pipe to close.
    if (exited !== undefined && statusClosed) {
      finish();
      process.stderr.write(
        `tsbeat: the daemon exited during start-up (status ${exited}); its log file says why\n`,
      );
      return exited === 6 ? 6 : 1;
    }
  }
  finish();
  const pid = runningPid(pidFile);
  process.stderr.write(
    pid === child.pid
      ? 'tsbeat: the daemon is still starting after 30 s (a slow start-up check of running resources?); see the log file\n'
      : 'tsbeat: the daemon did not report within 30 s; see the log file\n',
  );
  return 1;
}

export const STOP_USAGE = `usage: tsbeat stop [--timeout SECONDS]

Stops the running daemon gracefully: it hands its resource groups over (stopping them right
to left), tells the peer, and exits. Waits until it is gone, at most SECONDS (default 300).

Exit status: 0 stopped (or was not running), 1 cannot signal it, 2 usage, 4 not permitted,
124 still running after the timeout (it goes on stopping, or refused because a resource would
not stop: its log says which).
`;

/** Long enough for heartbeat's default stop timeouts; bounded so a script never hangs on stop. */
export const DEFAULT_STOP_TIMEOUT_S = 300;

export async function stopMain(argv: string[]): Promise<number> {
  let values: { timeout?: string; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: { timeout: { type: 'string', short: 't' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return usageError('stop', e, STOP_USAGE);
  }
  if (values.help) {
    process.stdout.write(STOP_USAGE);
    return 0;
  }
  const timeoutS = values.timeout === undefined ? DEFAULT_STOP_TIMEOUT_S : Number(values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || !/^\d+(\.\d+)?$/.test(values.timeout ?? '1')) {
    return usageError(
      'stop',
      new Error(`--timeout wants a number of seconds above 0, not ${quoted(values.timeout ?? '', 40)}`),
      STOP_USAGE,
    );
  }
  const paths = daemonPaths();
  const pid = runningPid(paths.pidFile);
  if (pid === undefined) {
    process.stderr.write('tsbeat: already stopped.\n');
    return 0;
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch (e) {
    process.stderr.write(`tsbeat: cannot signal pid ${pid}: ${(e as Error).message}\n`);
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? 4 : 1;
  }
  const deadline = Date.now() + timeoutS * 1000;
  let nextNote = Date.now() + 10_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (runningPid(paths.pidFile) !== pid) return 0;
    if (Date.now() >= nextNote) {
      process.stderr.write(`tsbeat: waiting for pid ${pid} to release its resources and exit...\n`);
      nextNote += 10_000;
    }
  }
  process.stderr.write(
    `tsbeat: pid ${pid} is still running after ${timeoutS} s: it is still stopping its resources, or it refused to stop because one would not (the log file says which); it keeps running\n`,
  );
  return 124;
}
