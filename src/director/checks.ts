// Part: the health checks (driver) — TCP connect, HTTP/HTTPS negotiate with ldirectord's
// `receive` regex and keepalived's body digest, simpletcp, an external command, ICMP ping — each
// bounded by its timeout, run through one pool that bounds how many run at once.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { CheckOutcome } from './core.js';
import type { RealServer, VirtualService } from './model.js';

/** A counting semaphore: at most `limit` checks in flight; the rest wait in FIFO order. */
export class CheckPool {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  get inFlight(): number {
    return this.running;
  }
}

/** The port a check talks to: checkport, else the real's, else the virtual's (port 0 / fwmark). */
export function checkPort(v: VirtualService, r: RealServer): number {
  return v.checkport ?? (r.port !== 0 ? r.port : v.port);
}

const MAX_BODY_BYTES = 1 << 20;
const MAX_REDIRECTS = 5;

function elapsed(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** TCP connect within the timeout. */
export function checkConnect(ip: string, port: number, timeoutMs: number): Promise<CheckOutcome> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port });
    const done = (ok: boolean, reason: string): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ok, reason, latencyMs: elapsed(t0) });
    };
    const timer = setTimeout(
      () => done(false, `connect to ${ip}:${port} timed out after ${timeoutMs} ms`),
      timeoutMs,
    );
    sock.once('connect', () => done(true, `connected to ${ip}:${port}`));
    sock.once('error', (e: NodeJS.ErrnoException) =>
      done(false, `connect to ${ip}:${port}: ${e.code ?? e.message}`),
    );
  });
}

/**
 * ldirectord's `$text =~ /$receive/`. Without /m, Perl's `$` also matches before a final newline
 * and JavaScript's only at the very end, so ldirectord finds receive "OK$" in a body "OK\n":
 * the text without that newline is tried too.
 */
export function perlMatch(re: RegExp, text: string): boolean {
  return re.test(text) || (text.endsWith('\n') && re.test(text.slice(0, -1)));
}

interface HttpCheck {
  readonly url: URL;
  readonly method: 'GET' | 'HEAD';
  /** The Host header; undefined = the URL's host (ldirectord's http_proxy sets none). */
  readonly host?: string;
  /** http_proxy: http URLs are requested through this real server as a proxy. */
  readonly proxy?: { readonly host: string; readonly port: number };
  readonly receive: string;
  readonly digest?: string;
  readonly timeoutMs: number;
}

/**
 * ldirectord's check_http: up iff the final response (after redirects) is 2xx and the body
 * matches `receive` (when given); certificates are not verified. tsbeat adds the MD5 digest.
 */
export async function checkHttp(c: HttpCheck): Promise<CheckOutcome> {
  const t0 = process.hrtime.bigint();
  const deadline = AbortSignal.timeout(c.timeoutMs);
  let url = c.url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const r = await httpOnce(url, c, deadline);
    if ('error' in r) return { ok: false, reason: r.error, latencyMs: elapsed(t0) };
    if (r.status >= 300 && r.status < 400 && r.location !== undefined) {
      url = new URL(r.location, url);
      continue;
    }
    const latencyMs = elapsed(t0);
    if (r.status < 200 || r.status > 299)
      return { ok: false, reason: `${url.href}: HTTP ${r.status}`, latencyMs };
    if (c.receive !== '' && !perlMatch(new RegExp(c.receive), r.body.toString('latin1'))) {
      return { ok: false, reason: `${url.href}: body does not match receive "${c.receive}"`, latencyMs };
    }
    if (c.digest !== undefined) {
      const md5 = createHash('md5').update(r.body).digest('hex');
      if (md5 !== c.digest)
        return { ok: false, reason: `${url.href}: body digest ${md5} is not ${c.digest}`, latencyMs };
    }
    return { ok: true, reason: `${url.href}: HTTP ${r.status}`, latencyMs };
  }
  return { ok: false, reason: `${c.url.href}: more than ${MAX_REDIRECTS} redirects`, latencyMs: elapsed(t0) };
}

async function httpOnce(
  url: URL,
  c: HttpCheck,
  signal: AbortSignal,
): Promise<{ status: number; location?: string; body: Buffer } | { error: string }> {
  // Loaded on first use: this file is part of the cluster daemon (through the ldirectord
  // agent), which never checks a real server itself; http and https cost it ~2 MB of RSS.
  const mod = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve) => {
    // Through a proxy (only for http: URLs, as LWP's `proxy("http", ...)`), the request line
    // carries the absolute URL and the connection goes to the proxy.
    const proxy = url.protocol === 'http:' ? c.proxy : undefined;
    const req = mod.request(
      proxy !== undefined ? new URL(`http://${proxy.host}:${proxy.port}/`) : url,
      {
        ...(proxy !== undefined ? { path: url.href } : {}),
        method: c.method,
        headers: { Host: c.host ?? url.host, 'User-Agent': 'tsbeat-director', Connection: 'close' },
        agent: false,
        signal,
        ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (b: Buffer) => {
          size += b.length;
          if (size <= MAX_BODY_BYTES) chunks.push(b);
        });
        res.on('end', () => {
          const loc = res.headers.location;
          resolve({
            status: res.statusCode ?? 0,
            ...(loc !== undefined ? { location: loc } : {}),
            body: Buffer.concat(chunks),
          });
        });
        res.on('error', (e) => resolve({ error: `${url.href}: ${e.message}` }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({
        error:
          signal.aborted || e.name === 'AbortError'
            ? `${url.href}: no answer within ${c.timeoutMs} ms`
            : `${url.href}: ${e.code ?? e.message}`,
      }),
    );
    req.end();
  });
}

/**
 * simpletcp, as ldirectord's check_simpletcp: send the request text (`\n` written in the file is
 * a newline), shut down the sending side, then up iff a reply line (with its newline, as Perl's
 * `<$sock>` reads it; the last one at the close even without) matches `receive`.
 */
export function checkSimpleTcp(
  ip: string,
  port: number,
  request: string,
  receive: string,
  timeoutMs: number,
): Promise<CheckOutcome> {
  const t0 = process.hrtime.bigint();
  const payload = request.replace(/^\//, '').replace(/\\n/g, '\n');
  const re = new RegExp(receive);
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port });
    let partial = '';
    let received = 0;
    const done = (ok: boolean, reason: string): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ok, reason, latencyMs: elapsed(t0) });
    };
    const timer = setTimeout(
      () => done(false, `simpletcp ${ip}:${port}: no matching line within ${timeoutMs} ms`),
      timeoutMs,
    );
    sock.once('connect', () => sock.end(payload));
    sock.on('data', (b: Buffer) => {
      received += b.length;
      if (received > MAX_BODY_BYTES) return done(false, `simpletcp ${ip}:${port}: reply too long`);
      partial += b.toString('latin1');
      for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
        const line = partial.slice(0, nl + 1);
        partial = partial.slice(nl + 1);
        if (perlMatch(re, line)) return done(true, `simpletcp ${ip}:${port}: matched`);
      }
    });
    sock.once('end', () => {
      if (partial !== '' && perlMatch(re, partial)) return done(true, `simpletcp ${ip}:${port}: matched`);
      done(false, `simpletcp ${ip}:${port}: closed without a matching line`);
    });
    sock.once('error', (e: NodeJS.ErrnoException) =>
      done(false, `simpletcp ${ip}:${port}: ${e.code ?? e.message}`),
    );
  });
}

/**
 * Run a program (own process group, killed as a group on timeout) and report its exit status:
 * `checkcommand VIP VPORT RIP RPORT` for external checks, `ping` for ping checks.
 */
export function checkProgram(
  file: string,
  args: readonly string[],
  timeoutMs: number,
  what: string,
): Promise<CheckOutcome> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    let settled = false;
    const child = spawn(file, args, { stdio: 'ignore', detached: true });
    const done = (ok: boolean, reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ok, reason, latencyMs: elapsed(t0) });
    };
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      done(false, `${what} timed out after ${timeoutMs} ms`);
    }, timeoutMs);
    child.once('error', (e: NodeJS.ErrnoException) =>
      done(
        false,
        `${what}: ${e.code === 'ENOENT' ? 'not found' : e.code === 'EACCES' ? 'not executable' : e.message}`,
      ),
    );
    child.once('exit', (code, signal) =>
      done(
        code === 0,
        code === 0 ? `${what}: exit 0` : `${what}: ${signal ? `killed by ${signal}` : `exit ${code}`}`,
      ),
    );
  });
}

/** ICMP echo through iputils ping (Node has no raw sockets): up to `count` attempts. */
export async function checkPing(ip: string, timeoutS: number, count: number): Promise<CheckOutcome> {
  let last: CheckOutcome = { ok: false, reason: 'no ping sent', latencyMs: 0 };
  for (let i = 0; i < Math.max(1, count); i++) {
    last = await checkProgram(
      'ping',
      ['-n', '-q', '-c', '1', '-W', String(timeoutS), ip],
      (timeoutS + 1) * 1000,
      `ping ${ip}`,
    );
    if (last.ok) return last;
  }
  return last;
}

/** Which kind of check this real gets now (combined alternates connect and negotiate). */
export type CheckKind = 'connect' | 'negotiate' | 'ping' | 'external' | 'on' | 'off';

/** Run one check of real `r` of `v`. Never throws. */
export async function runCheck(v: VirtualService, r: RealServer, kind: CheckKind): Promise<CheckOutcome> {
  const port = checkPort(v, r);
  const ctMs = v.checktimeoutS * 1000;
  const ntMs = v.negotiatetimeoutS * 1000;
  try {
    switch (kind) {
      case 'on':
        return { ok: true, reason: 'checktype=on', latencyMs: 0 };
      case 'off':
        return { ok: false, reason: 'checktype=off', latencyMs: 0 };
      case 'connect':
        if (v.protocol === 'udp') return checkPing(r.ip, v.checktimeoutS, v.checkcount);
        return checkConnect(r.ip, port, ctMs);
      case 'ping':
        return checkPing(r.ip, v.checktimeoutS, v.checkcount);
      case 'external':
        return checkProgram(
          v.checkcommand,
          [
            v.protocol === 'fwm' ? String(v.fwmark) : (v.address ?? ''),
            String(v.port),
            r.ip,
            String(r.port !== 0 ? r.port : v.port),
          ],
          ctMs,
          `checkcommand ${v.checkcommand}`,
        );
      case 'negotiate': {
        const request = r.request ?? v.request;
        const receive = r.receive ?? v.receive;
        switch (v.service) {
          case 'http':
          case 'https':
          case 'http_proxy': {
            const scheme = v.service === 'https' ? 'https' : 'http';
            const absolute = /^[a-z]+:\/\//.test(request.replace(/^\//, ''));
            const url = absolute
              ? new URL(request.replace(/^\//, ''))
              : new URL(`${scheme}://${r.ip}:${port}${request}`);
            // ldirectord's http_proxy: the absolute request URL is fetched through the real
            // server as an HTTP proxy, with no Host header of its own (LWP sends the URL's).
            const proxied = v.service === 'http_proxy' && absolute;
            return checkHttp({
              url,
              method: v.httpmethod,
              ...(proxied ? { proxy: { host: r.ip, port } } : { host: v.virtualhost ?? r.ip }),
              receive,
              ...(v.digest !== undefined ? { digest: v.digest } : {}),
              timeoutMs: ntMs,
            });
          }
          case 'simpletcp':
            return checkSimpleTcp(r.ip, port, request, receive, ntMs);
          case 'none':
            return { ok: true, reason: 'service=none: no negotiation (as ldirectord)', latencyMs: 0 };
          default: {
            // Protocol dialogues other than HTTP and simpletcp are not implemented: a TCP connect
            // within negotiatetimeout stands in, and says so.
            const c = await checkConnect(r.ip, port, ntMs);
            return {
              ...c,
              reason: `${c.reason} (service=${v.service} negotiated as a TCP connect by tsbeat)`,
            };
          }
        }
      }
    }
  } catch (e) {
    return { ok: false, reason: `check failed: ${(e as Error).message}`, latencyMs: 0 };
  }
}
