// Part: `tsbeat start` and `tsbeat stop`: the daemon's front door (status lives in status.ts).

import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { systemHost } from '../config/host.js';
import { loadConfig } from '../config/load.js';
import { Daemon } from '../daemon/daemon.js';
import { daemonPaths } from '../daemon/paths.js';
import { runningPid } from '../daemon/pidfile.js';
import { formatDiagnostic, sortDiagnostics } from '../lib/diagnostic.js';

export const START_USAGE = `usage: tsbeat start [-c DIR] [--node NAME] [-f|--foreground] [--log-json]

Starts the tsbeat daemon with the configuration in DIR (default /etc/ha.d).

  -c, --config DIR   configuration directory (default /etc/ha.d)
      --node NAME    run as node NAME (default: DIR/nodeinfo, else uname -n)
  -f, --foreground   do not detach; log lines also go to standard error
      --log-json     in the foreground, log JSON records instead of heartbeat lines
  -h, --help         this text

Environment: TSBEAT_RUNDIR (pid file and API socket, default /run/tsbeat),
TSBEAT_STATEDIR (generation and uuid, default /var/lib/tsbeat).
Exit status: 0 started (or already running), 1 failed to start, 2 usage, 6 configuration error.
`;

function usageError(cmd: string, e: unknown, usage: string): number {
  process.stderr.write(`tsbeat ${cmd}: ${(e as Error).message}\n\n${usage}`);
  return 2;
}

export async function startMain(argv: string[]): Promise<number> {
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
  const running = runningPid(paths.pidFile);
  if (running !== undefined && running !== process.pid) {
    process.stderr.write(`tsbeat: already running [pid ${running}].\n`);
    return 0;
  }

  if (!values.foreground && !values.daemonized) return detach(argv, paths.pidFile);

  const daemon = new Daemon({
    config: result.config,
    paths,
    stderr: values.daemonized ? false : values['log-json'] ? 'json' : 'text',
  });
  try {
    await daemon.start();
  } catch (e) {
    daemon.log.error((e as Error).message);
    await daemon.stop('start failed');
    process.stderr.write(`tsbeat: ${(e as Error).message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const onSignal = (sig: string) => {
      daemon.stop(sig).then(
        (done) => {
          if (done) resolve(0);
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
    process.on('SIGHUP', () =>
      daemon.log.warn(
        'SIGHUP: reloading the configuration is not supported yet; restart tsbeat to apply changes',
      ),
    );
  });
}

/** Re-run ourselves detached, and report once the child wrote its pid file or died. */
async function detach(argv: string[], pidFile: string): Promise<number> {
  const out = openSync('/dev/null', 'a');
  const child = spawn(process.execPath, [process.argv[1]!, 'start', ...argv, '--daemonized'], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (exited !== undefined) {
      process.stderr.write(
        `tsbeat: the daemon exited during start-up (status ${exited}); see the log file\n`,
      );
      return exited === 6 ? 6 : 1;
    }
    if (runningPid(pidFile) === child.pid) {
      child.unref();
      return 0;
    }
  }
  child.unref();
  process.stderr.write('tsbeat: the daemon did not report within 10 s; see the log file\n');
  return 1;
}

export async function stopMain(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(
      'usage: tsbeat stop\n\nStops the running daemon gracefully (it hands its resources over) and waits until it is gone.\n',
    );
    return 0;
  }
  if (argv.length > 0)
    return usageError('stop', new Error(`unexpected argument "${argv[0]}"`), 'usage: tsbeat stop\n');
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
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    if (runningPid(paths.pidFile) !== pid) return 0;
  }
}
