// Part: `tsbeat director` — ldirectord's command line (`[-d] [configfile] start|stop|restart|
// reload|status`, exit codes and pid-file rules of /usr/sbin/ldirectord) on tsbeat's director.
// Unlike ldirectord, `stop` returns only when the daemon has exited (spec §5.6.8's race).
// Imports only node: built-ins and src/director (+ src/lib), so the agents' installed copy can run it.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type DirectorStateFile,
  ipvsadm,
  ipvsadmOf,
  loadDirectorConfig,
  pidFileOf,
  readTable,
  resolveConfigPath,
  runDirector,
  runDirOf,
  stateFileOf,
} from './driver.js';
import { parseIpvsConnections, parseIpvsFigures, parseSyncDaemons } from './ipvs.js';
import { configName } from './parse.js';
import { buildStatus, formatStatus } from './print.js';

export const DIRECTOR_USAGE = `usage: tsbeat director [-d] [-c] [CONFIG] start|stop|restart|reload|status|check [--json]

Runs an ldirectord-compatible LVS director for CONFIG (default ldirectord.cf; a relative name is
looked up in /etc/ha.d, then /etc/ha.d/conf, as ldirectord does).
  start     start in the background; returns when the IPVS table is programmed
  stop      TERM the director and wait until it has exited (cleanstop removes its services)
  restart   stop, then start
  reload    reread CONFIG (SIGHUP); an invalid file is reported and the running one kept
  status    the virtual services, real servers, checks, connections, rates and sync daemon
            (--json for scripts); exit 0 running, 3 stopped, 1 stale pid file
  check     validate CONFIG only (exit 2 on errors)
  -d        run in the foreground, log to stderr (ldirectord's debug mode)
Environment: TSBEAT_IPVSADM (ipvsadm to run), TSBEAT_DIRECTOR_RUNDIR (pid/state files, /run/tsbeat).
`;

/** The pid in the pid file if that process runs a director; 'stale' if the file names a dead one. */
export function daemonState(pidFile: string): { state: 'running' | 'stopped' | 'stale'; pid?: number } {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch {
    return { state: 'stopped' };
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) return { state: 'stale' };
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // As ldirectord checks /proc/<pid>/cmdline for its name: a recycled pid is not ours.
    if (cmdline.includes('director')) return { state: 'running', pid };
  } catch {
    // No such process.
  }
  return { state: 'stale', pid };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Wait until `pid` has exited (bounded); true when it has. */
export async function waitExit(pid: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    // A zombie child of ours counts as gone.
    try {
      if (/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    } catch {
      return true;
    }
    if (Date.now() > end) return false;
    await sleep(50);
  }
}

function readState(file: string): DirectorStateFile | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DirectorStateFile;
  } catch {
    return undefined;
  }
}

/**
 * Start a background director and wait until it has programmed the table (or `signal` aborts).
 * Resolves with undefined on success, else the reason (including the child's stderr).
 */
export async function startBackground(
  configPath: string,
  runDir: string,
  bin: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const entry = fileURLToPath(new URL('./cli.js', import.meta.url));
  const child = spawn(process.execPath, [entry, '--daemon-child', '-c', configPath, 'start'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TSBEAT_DIRECTOR_RUNDIR: runDir, TSBEAT_IPVSADM: bin },
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString('utf8');
  });
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  child.on('error', (e) => {
    stderr += e.message;
    exited = 127;
  });
  const stateFile = stateFileOf(runDir, configName(configPath));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && !signal?.aborted) {
    if (exited !== undefined) return `${stderr}the director exited with code ${exited} while starting`;
    const s = readState(stateFile);
    if (s?.ready && s.pid === child.pid) {
      child.stderr.destroy();
      child.unref();
      return undefined;
    }
    await sleep(50);
  }
  return `${stderr}the director was not ready within ${timeoutMs} ms`;
}

async function status(configPath: string, runDir: string, bin: string, json: boolean): Promise<number> {
  const name = configName(configPath);
  const daemon = daemonState(pidFileOf(runDir, name));
  const state = daemon.state === 'running' ? readState(stateFileOf(runDir, name)) : undefined;
  const table = await readTable(bin);
  const rate = await ipvsadm(bin, ['-L', '-n', '--rate']);
  const conns = await ipvsadm(bin, ['-L', '-n', '-c']);
  const sync = await ipvsadm(bin, ['-L', '--daemon']);
  const report = buildStatus({
    config: configPath,
    daemon,
    ...(state ? { state } : {}),
    ...(typeof table !== 'string' ? { table } : { kernelError: table }),
    ...(rate.code === 0 ? { rates: parseIpvsFigures(rate.stdout) } : {}),
    ...(conns.code === 0 ? { connections: parseIpvsConnections(conns.stdout) } : {}),
    ...(sync.code === 0 ? { syncDaemons: parseSyncDaemons(sync.stdout) } : {}),
    nowMs: Date.now(),
  });
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  return daemon.state === 'running' ? 0 : daemon.state === 'stale' ? 1 : 3;
}

function started(error: string | undefined): number {
  if (error === undefined) return 0;
  process.stderr.write(`tsbeat director: ${error}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  let debug = false;
  let child = false;
  let json = false;
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-d' || a === '--debug' || a === '--foreground') debug = true;
    else if (a === '--daemon-child') child = true;
    else if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(DIRECTOR_USAGE);
      return 0;
    } else if (a === '-c' || a === '--config') {
      const v = argv[++i];
      if (v === undefined) {
        process.stderr.write(`tsbeat director: ${a} needs a file\n\n${DIRECTOR_USAGE}`);
        return 2;
      }
      words.unshift(v);
    } else if (a === '--') continue;
    else if (a.startsWith('-')) {
      process.stderr.write(`tsbeat director: unknown option ${JSON.stringify(a)}\n\n${DIRECTOR_USAGE}`);
      return 2;
    } else words.push(a);
  }
  const cmd = words.length >= 1 ? (words[words.length - 1] ?? '') : '';
  const cfgArg = words.length >= 2 ? (words[0] ?? '') : 'ldirectord.cf';
  if (words.length === 0 || words.length > 2) {
    process.stderr.write(DIRECTOR_USAGE);
    return 2;
  }
  const configPath = resolveConfigPath(cfgArg, process.env['HA_DIR'] || '/etc/ha.d');
  const runDir = runDirOf();
  const bin = ipvsadmOf();
  const name = configName(configPath);
  const pidFile = pidFileOf(runDir, name);

  if (cmd === 'status') return status(configPath, runDir, bin, json);

  const loaded = loadDirectorConfig(configPath);
  for (const w of loaded.warnings) process.stderr.write(`${w}\n`);
  if (!loaded.config) {
    for (const e of loaded.errors) process.stderr.write(`${e}\n`);
    return 2;
  }
  const config = loaded.config;
  if (cmd === 'check') {
    process.stdout.write(
      `${configPath}: ${config.virtuals.length} virtual service(s), ${config.virtuals.reduce((a, v) => a + v.reals.length, 0)} real server(s)\n`,
    );
    return 0;
  }
  const d = daemonState(pidFile);
  const stop = async (): Promise<number> => {
    if (d.state !== 'running' || d.pid === undefined) return 0;
    process.kill(d.pid, 'SIGTERM');
    if (await waitExit(d.pid, 60_000)) return 0;
    process.stderr.write(`tsbeat director: pid ${d.pid} did not exit within 60 s\n`);
    return 1;
  };
  switch (cmd) {
    case 'start':
      if (d.state === 'running' && !child) return 0;
      if (debug || child) {
        const rc = await runDirector({ configPath, ipvsadm: bin, runDir, debug: debug && !child }, config);
        // Checks in flight may hold sockets a little longer; the director is done.
        setTimeout(() => process.exit(rc), 100).unref();
        return rc;
      }
      return started(await startBackground(configPath, runDir, bin, 60_000));
    case 'stop':
      return stop();
    case 'restart': {
      const rc = await stop();
      if (rc !== 0) return rc;
      return started(await startBackground(configPath, runDir, bin, 60_000));
    }
    case 'reload':
    case 'force-reload':
      if (d.state !== 'running' || d.pid === undefined) return 1;
      process.kill(d.pid, 'SIGHUP');
      return 0;
    default:
      process.stderr.write(`tsbeat director: unknown command ${JSON.stringify(cmd)}\n\n${DIRECTOR_USAGE}`);
      return 2;
  }
}

// Run as a program (the background child, or `node dist/director/cli.js`).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`tsbeat director: internal error: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
