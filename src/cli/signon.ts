// Part: `tsbeat signon CLIENT [-- PROGRAM [ARG...]]`: sign on to the local daemon as an apiauth
// client and stay signed on while PROGRAM runs (or until SIGTERM/SIGINT without one), so that
// `cl_status clientstatus NODE CLIENT` says online and the peers hear join/leave, as for a
// program linked with heartbeat's libhbclient. The daemon's client sockets are the
// authorisation (api.ts): a user ha.cf's apiauth line does not name cannot open any of them.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { daemonPaths } from '../daemon/paths.js';
import { CLIENT_DIR_NAME } from '../ipc/api.js';
import { API_VERSION } from '../ipc/protocol.js';

export const SIGNON_USAGE = `usage: tsbeat signon CLIENT [-- PROGRAM [ARG...]]

Signs on to the local tsbeat daemon as API client CLIENT, through a socket that ha.cf's
"apiauth CLIENT uid=... gid=..." (or "apiauth default ...") opens to this user, and stays signed
on while PROGRAM runs (its exit status is returned), or until SIGTERM or SIGINT without PROGRAM.

Exit status: PROGRAM's, or 0; 1 when the daemon refuses or drops the sign-on; 4 when no client
socket is open to this user (not authorised by apiauth); 7 when the daemon is not running.
`;

/** Keep-alive: the daemon drops a connection idle for 20 s (src/ipc/README.md). */
const KEEPALIVE_MS = 5000;
const CONNECT_MS = 5000;

/** Exit codes (LSB's words for "no privilege" and "not running", as hb_standby uses). */
const EXIT = { OK: 0, FAILED: 1, USAGE: 2, NO_PRIVILEGE: 4, NOT_RUNNING: 7 } as const;

/** The client sockets in the run directory that could authorise `client`, own ones first. */
export function candidateSockets(dir: string, client: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const own = names.filter((n) => n.startsWith(`${client}.`) && n.endsWith('.sock'));
  const fallback = names.filter((n) => n.startsWith('default.') && n.endsWith('.sock'));
  return [...own.sort(), ...fallback.sort()].map((n) => join(dir, n));
}

function open(path: string): Promise<Socket | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
    }, CONNECT_MS);
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e);
    });
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
  });
}

/** Read one response line (the daemon answers in order). */
function lineReader(sock: Socket): () => Promise<string | undefined> {
  let buf = '';
  const waiting: ((l: string | undefined) => void)[] = [];
  const lines: string[] = [];
  let closed = false;
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const end = (): void => {
    closed = true;
    for (const w of waiting.splice(0)) w(undefined);
  };
  sock.on('close', end);
  sock.on('error', end);
  return () => {
    const l = lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (closed) return Promise.resolve(undefined);
    return new Promise((resolve) => waiting.push(resolve));
  };
}

export async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const head = dash === -1 ? argv : argv.slice(0, dash);
  const program = dash === -1 ? [] : argv.slice(dash + 1);
  if (head.includes('-h') || head.includes('--help')) {
    process.stdout.write(SIGNON_USAGE);
    return EXIT.OK;
  }
  const [client] = head;
  if (head.length !== 1 || client === undefined || (dash !== -1 && program.length === 0)) {
    process.stderr.write(SIGNON_USAGE);
    return EXIT.USAGE;
  }
  const dir = join(daemonPaths(process.env).runDir, CLIENT_DIR_NAME);
  const candidates = candidateSockets(dir, client);
  let sock: Socket | undefined;
  const refused: string[] = [];
  for (const path of candidates) {
    const r = await open(path);
    if (!(r instanceof Error)) {
      sock = r;
      break;
    }
    refused.push(`${path}: ${r.code ?? r.message}`);
    if (r.code === 'ECONNREFUSED' || r.code === 'ENOENT') continue;
  }
  if (sock === undefined) {
    if (candidates.length === 0 || refused.every((r) => /ECONNREFUSED|ENOENT/.test(r))) {
      const none = candidates.length === 0;
      process.stderr.write(
        none
          ? `tsbeat signon: no client socket for "${client}" in ${dir}: is tsbeat running, and does ha.cf have "apiauth ${client} uid=USER" or "apiauth default ..."?\n`
          : `tsbeat signon: tsbeat is not running (${refused.join('; ')})\n`,
      );
      return none ? EXIT.NO_PRIVILEGE : EXIT.NOT_RUNNING;
    }
    process.stderr.write(
      `tsbeat signon: permission denied: this user is not authorised for client "${client}" by ha.cf's apiauth (${refused.join('; ')})\n`,
    );
    return EXIT.NO_PRIVILEGE;
  }
  const next = lineReader(sock);
  let id = 0;
  const ask = async (
    cmd: string,
    args: Record<string, string>,
  ): Promise<Record<string, unknown> | undefined> => {
    sock.write(`${JSON.stringify({ v: API_VERSION, id: ++id, cmd, args })}\n`);
    const line = await next();
    if (line === undefined) return undefined;
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const answer = await ask('signon', { client });
  if (answer?.['ok'] !== true) {
    const err = answer?.['error'] as { message?: string } | undefined;
    process.stderr.write(`tsbeat signon: refused: ${err?.message ?? 'the daemon closed the connection'}\n`);
    sock.destroy();
    return EXIT.FAILED;
  }
  let lost = false;
  const timer = setInterval(() => {
    void ask('hello', {}).then((r) => {
      if (r === undefined) lost = true;
    });
  }, KEEPALIVE_MS);
  const dropped = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  let code: number;
  if (program.length > 0) {
    const [file, ...args] = program as [string, ...string[]];
    const child = spawn(file, args, { stdio: 'inherit' });
    void dropped.then(() => {
      if (child.exitCode === null && child.signalCode === null)
        process.stderr.write(
          `tsbeat signon: the daemon dropped the sign-on of ${client}; ${file} keeps running\n`,
        );
    });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    process.on('SIGTERM', forward('SIGTERM'));
    process.on('SIGINT', forward('SIGINT'));
    code = await new Promise<number>((resolve) => {
      child.once('error', (e) => {
        process.stderr.write(`tsbeat signon: cannot run ${file}: ${e.message}\n`);
        resolve(127);
      });
      child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    });
  } else {
    code = await new Promise<number>((resolve) => {
      process.once('SIGTERM', () => resolve(EXIT.OK));
      process.once('SIGINT', () => resolve(EXIT.OK));
      void dropped.then(() => resolve(EXIT.FAILED));
    });
    if (code === EXIT.FAILED) process.stderr.write('tsbeat signon: the daemon dropped the sign-on\n');
  }
  clearInterval(timer);
  sock.end();
  sock.destroy();
  if (lost && code === EXIT.OK) return EXIT.FAILED;
  return code;
}
