/**
 * The director's health checks (src/director/checks.ts) against real servers on 127.0.0.1 with
 * ephemeral ports: each check type tsbeat implements is run through `runCheck` on a virtual
 * service parsed from ldirectord.cf text (so the defaults, the timeout fallbacks and the
 * arguments are the ones the daemon uses), and each passing case has a failing twin.
 *  - connect: up against a listener, down against a closed port, and down within checktimeout
 *    against a listener whose accept queue is full (its process is stopped), so the SYN is dropped;
 *  - negotiate HTTP: `receive` matched and not matched, a non-2xx status, a redirect followed,
 *    `virtualhost` sent as Host; http_proxy fetches the absolute request URL through the real; HTTPS against a TLS server whose self-signed certificate is made
 *    here with openssl (certificates are not verified, as ldirectord does), and the scheme
 *    matters (an https check of a plain HTTP server fails);
 *  - `digest` (tsbeat extension): the MD5 of the body right and wrong;
 *  - simpletcp: the request reaches the server as written (`\n` in the file is a newline), a
 *    reply line matching `receive` passes, a wrong reply fails;
 *  - external: the checkcommand gets ldirectord's arguments (VIP VPORT RIP RPORT), exit 0 passes,
 *    non-zero fails, a missing or non-executable command fails saying so, and a command that
 *    hangs is killed with its process group at checktimeout;
 *  - ping: 127.0.0.1 answers (the non-answering address needs a namespace:
 *    test/integ/director-checks-ping.test.ts);
 *  - checktimeout / negotiatetimeout: a server that accepts and never answers fails the check
 *    within the timeout (negotiatetimeout falls back to checktimeout, as ldirectord's ld_setup);
 *  - maxchecks: the pool never has more than its limit in flight, in FIFO order, and a server
 *    sees at most that many checks at once.
 * Timing bounds are in seconds, for a loaded 2-core machine.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CheckKind, CheckPool, runCheck } from '../../../src/director/checks.js';
import type { CheckOutcome } from '../../../src/director/core.js';
import type { RealServer, VirtualService } from '../../../src/director/model.js';
import { parseDirectorConfig } from '../../../src/director/parse.js';
import { formatDiagnostic } from '../../../src/lib/diagnostic.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbeat-dchecks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Servers and sockets of the current test, closed after it whatever happened. */
const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** The one virtual service and its one real of an ldirectord.cf made from these lines. */
function service(
  port: number,
  lines: readonly string[],
  globals: readonly string[] = ['checktimeout=5'],
): { v: VirtualService; r: RealServer } {
  const text = `${globals.join('\n')}\nvirtual=10.99.0.1:80\n\treal=127.0.0.1:${port} gate\n${lines.map((l) => `\t${l}\n`).join('')}`;
  const parsed = parseDirectorConfig(text, 'checks.cf');
  expect(parsed.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
  const v = parsed.config?.virtuals[0];
  const r = v?.reals[0];
  if (v === undefined || r === undefined) throw new Error('checks.cf: no virtual service or real parsed');
  return { v, r };
}

async function check(port: number, kind: CheckKind, lines: readonly string[], globals?: readonly string[]) {
  const { v, r } = service(port, lines, globals);
  return runCheck(v, r, kind);
}

/** Run a check and measure how long it took, in seconds. */
async function timed(p: () => Promise<CheckOutcome>): Promise<{ outcome: CheckOutcome; seconds: number }> {
  const t0 = process.hrtime.bigint();
  const outcome = await p();
  return { outcome, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/** Listen on an ephemeral port of 127.0.0.1; after the test, drop its connections and close it. */
async function listen(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', (sock: net.Socket) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((ok, ko) => {
    server.once('error', ko);
    server.listen(0, '127.0.0.1', () => ok());
  });
  closers.push(
    () =>
      new Promise<void>((ok) => {
        for (const sock of sockets) sock.destroy();
        server.close(() => ok());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on: bound, then closed (the kernel refuses connections to it). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await new Promise<number>((ok) =>
    s.listen(0, '127.0.0.1', () => ok((s.address() as net.AddressInfo).port)),
  );
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

/** A TCP server that accepts and then never sends a byte. */
function silentServer(): Promise<number> {
  return listen(net.createServer(() => {}));
}

const BODY = 'OK healthy\n';

/** The HTTP handler behind both the plain and the TLS server. */
function handler(q: http.IncomingMessage, res: http.ServerResponse): void {
  switch (q.url) {
    case '/health':
      res.end(BODY);
      return;
    case '/broken':
      res.end('database down\n');
      return;
    case '/missing':
      res.statusCode = 404;
      res.end('OK but not found\n');
      return;
    case '/moved':
      res.statusCode = 302;
      res.setHeader('Location', '/health');
      res.end();
      return;
    case '/host':
      res.end(`host=${q.headers.host}\n`);
      return;
    default:
      res.statusCode = 500;
      res.end('unexpected path\n');
  }
}

let tls: { key: string; cert: string };
beforeAll(() => {
  // A throwaway self-signed certificate, made here (nothing is read from outside the test).
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore', timeout: 30_000 },
  );
  tls = {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
  };
});

describe('connect', () => {
  it('is up against a listener and down against a closed port', async () => {
    const up = await check(await silentServer(), 'connect', ['checktype=connect']);
    expect(up).toMatchObject({ ok: true, reason: expect.stringMatching(/^connected to 127\.0\.0\.1:\d+$/) });
    const port = await closedPort();
    const down = await check(port, 'connect', ['checktype=connect']);
    expect(down).toMatchObject({ ok: false, reason: `connect to 127.0.0.1:${port}: ECONNREFUSED` });
  });

  it('is down within checktimeout when the SYN is never answered (accept queue full)', async () => {
    // A listener with backlog 1 in a stopped process: the kernel completes two handshakes for
    // it, then drops every further SYN, so the check's connect neither succeeds nor is refused.
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '-e',
        "const s=require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    closers.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const port = await new Promise<number>((ok) =>
      child.stdout?.once('data', (d: Buffer) => ok(Number(String(d).trim()))),
    );
    process.kill(child.pid as number, 'SIGSTOP');
    const fills: net.Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      fills.push(s);
    }
    closers.push(() => {
      for (const s of fills) s.destroy();
    });
    await new Promise((ok) => setTimeout(ok, 1000));
    expect(fills.filter((s) => !s.connecting).length).toBeGreaterThanOrEqual(1);

    const { outcome, seconds } = await timed(() =>
      check(port, 'connect', ['checktype=connect'], ['checktimeout=2']),
    );
    expect(outcome).toMatchObject({
      ok: false,
      reason: `connect to 127.0.0.1:${port} timed out after 2000 ms`,
    });
    expect(seconds).toBeGreaterThanOrEqual(1.5);
    expect(seconds).toBeLessThan(15);
  });
});

describe('negotiate HTTP', () => {
  const http1 = (path: string, extra: string[] = []) => [
    'service=http',
    `request="${path}"`,
    'checktype=negotiate',
    ...extra,
  ];

  it('is up when the body matches receive, down when it does not', async () => {
    const port = await listen(http.createServer(handler));
    expect(await check(port, 'negotiate', http1('health', ['receive="^OK health"']))).toMatchObject({
      ok: true,
      reason: `http://127.0.0.1:${port}/health: HTTP 200`,
    });
    expect(await check(port, 'negotiate', http1('broken', ['receive="^OK health"']))).toMatchObject({
      ok: false,
      reason: `http://127.0.0.1:${port}/broken: body does not match receive "^OK health"`,
    });
  });

  it('without receive any 2xx is up; a non-2xx status is down even when the body matches', async () => {
    const port = await listen(http.createServer(handler));
    expect((await check(port, 'negotiate', http1('broken'))).ok).toBe(true);
    expect(await check(port, 'negotiate', http1('missing', ['receive="OK"']))).toMatchObject({
      ok: false,
      reason: `http://127.0.0.1:${port}/missing: HTTP 404`,
    });
  });

  it('follows a redirect to the final page', async () => {
    const port = await listen(http.createServer(handler));
    expect(await check(port, 'negotiate', http1('moved', ['receive="^OK health"']))).toMatchObject({
      ok: true,
      reason: `http://127.0.0.1:${port}/health: HTTP 200`,
    });
  });

  it("sends virtualhost as the Host header, else the real's address without its port (as ldirectord)", async () => {
    const port = await listen(http.createServer(handler));
    const receive = 'receive="^host=www\\.example\\.test$"';
    expect(
      (await check(port, 'negotiate', http1('host', ['virtualhost=www.example.test', receive]))).ok,
    ).toBe(true);
    expect(await check(port, 'negotiate', http1('host', [receive]))).toMatchObject({ ok: false });
    expect((await check(port, 'negotiate', http1('host', ['receive="^host=127\\.0\\.0\\.1$"']))).ok).toBe(
      true,
    );
  });

  it("receive is matched with Perl's $ (ldirectord's =~): it matches before a final newline only", async () => {
    const port = await listen(http.createServer(handler));
    // The body is "OK healthy\n": Perl's /healthy$/ finds it, JavaScript's alone would not.
    expect((await check(port, 'negotiate', http1('health', ['receive="healthy$"']))).ok).toBe(true);
    // "host=...\n" has no "healthy" and "OK$" is not at the end of "OK healthy\n".
    expect((await check(port, 'negotiate', http1('health', ['receive="OK$"']))).ok).toBe(false);
  });

  it('a refused connection is down with the error', async () => {
    const port = await closedPort();
    expect(await check(port, 'negotiate', http1('health'))).toMatchObject({
      ok: false,
      reason: `http://127.0.0.1:${port}/health: ECONNREFUSED`,
    });
  });
});

describe('negotiate http_proxy', () => {
  /** A stand-in HTTP proxy: answers with the request target it was given and the Host header. */
  function proxy(status: number): Promise<number> {
    return listen(
      http.createServer((q, res) => {
        res.statusCode = status;
        res.end(`PROXIED ${q.url} host=${q.headers.host}\n`);
      }),
    );
  }
  // The origin is a loopback address nothing listens on: a check that skipped the proxy would
  // be refused there (and no traffic can leave the machine either way).
  const lines = [
    'service=http_proxy',
    'request="http://127.0.0.9:9/status"',
    'receive="^PROXIED http://127\\.0\\.0\\.9:9/status host=127\\.0\\.0\\.9:9$"',
    'checktype=negotiate',
  ];

  it('fetches the absolute request URL through the real server as a proxy (ldirectord: LWP proxy)', async () => {
    const port = await proxy(200);
    expect(await check(port, 'negotiate', lines)).toMatchObject({
      ok: true,
      reason: 'http://127.0.0.9:9/status: HTTP 200',
    });
  });

  it('is down when the proxy answers with an error status', async () => {
    const port = await proxy(502);
    expect(await check(port, 'negotiate', lines)).toMatchObject({
      ok: false,
      reason: 'http://127.0.0.9:9/status: HTTP 502',
    });
  });
});

describe('negotiate HTTPS', () => {
  const https1 = (path: string, receive: string) => [
    'service=https',
    `request="${path}"`,
    `receive="${receive}"`,
    'checktype=negotiate',
  ];

  it('is up against a TLS server with a self-signed certificate when receive matches, down when not', async () => {
    const port = await listen(https.createServer(tls, handler));
    expect(await check(port, 'negotiate', https1('health', '^OK health'))).toMatchObject({
      ok: true,
      reason: `https://127.0.0.1:${port}/health: HTTP 200`,
    });
    expect(await check(port, 'negotiate', https1('broken', '^OK health'))).toMatchObject({
      ok: false,
      reason: `https://127.0.0.1:${port}/broken: body does not match receive "^OK health"`,
    });
  });

  it('the scheme matters: https against plain HTTP and http against TLS are both down', async () => {
    const plain = await listen(http.createServer(handler));
    const secure = await listen(https.createServer(tls, handler));
    expect((await check(plain, 'negotiate', https1('health', 'OK'))).ok).toBe(false);
    expect(
      (
        await check(secure, 'negotiate', [
          'service=http',
          'request="health"',
          'receive="OK"',
          'checktype=negotiate',
        ])
      ).ok,
    ).toBe(false);
  });
});

describe('digest (MD5 of the HTTP body)', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');

  it('is up with the right digest and down with a wrong one, naming both', async () => {
    const port = await listen(http.createServer(handler));
    const lines = (digest: string) => [
      'service=http',
      'request="health"',
      'checktype=negotiate',
      `digest = ${digest}`,
    ];
    expect((await check(port, 'negotiate', lines(md5(BODY)))).ok).toBe(true);
    const wrong = md5('something else\n');
    expect(await check(port, 'negotiate', lines(wrong))).toMatchObject({
      ok: false,
      reason: `http://127.0.0.1:${port}/health: body digest ${md5(BODY)} is not ${wrong}`,
    });
  });

  it('is checked as well as receive: a matching receive does not save a wrong digest', async () => {
    const port = await listen(http.createServer(handler));
    const r = await check(port, 'negotiate', [
      'service=http',
      'request="health"',
      'receive="OK"',
      'checktype=negotiate',
      `digest = ${md5('not the body')}`,
    ]);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/body digest/);
  });
});

describe('simpletcp', () => {
  /** Answers "PONG ready" to exactly "PING\n", anything else with "ERR" and a close. */
  async function pingPongServer(): Promise<{ port: number; received: string[] }> {
    const received: string[] = [];
    const port = await listen(
      net.createServer((sock) => {
        sock.on('error', () => {});
        let buf = '';
        sock.on('data', (b) => {
          buf += b.toString('latin1');
          if (!buf.includes('\n')) return;
          received.push(buf);
          if (buf === 'PING\n') sock.write('banner\nPONG ready\n');
          else sock.end('ERR\n');
        });
      }),
    );
    return { port, received };
  }

  it('sends the request (\\n as a newline) and is up when a reply line matches receive', async () => {
    const s = await pingPongServer();
    const r = await check(s.port, 'negotiate', [
      'service=simpletcp',
      'request="PING\\n"',
      'receive="^PONG"',
      'checktype=negotiate',
    ]);
    expect(r).toMatchObject({ ok: true, reason: `simpletcp 127.0.0.1:${s.port}: matched` });
    expect(s.received).toEqual(['PING\n']);
  });

  it('shuts down its sending side after the request, as ldirectord does (a server may answer at EOF)', async () => {
    const port = await listen(
      net.createServer({ allowHalfOpen: true }, (sock) => {
        let got = '';
        sock.on('data', (b) => {
          got += b.toString('latin1');
        });
        sock.on('end', () => sock.end(`READ ${got.replaceAll('\n', '<NL>')}\n`));
      }),
    );
    const r = await check(port, 'negotiate', [
      'service=simpletcp',
      'request="STATUS\\n"',
      'receive="^READ STATUS<NL>$"',
      'checktype=negotiate',
    ]);
    expect(r).toMatchObject({ ok: true, reason: `simpletcp 127.0.0.1:${port}: matched` });
  });

  it('is down when the reply does not match', async () => {
    const s = await pingPongServer();
    const r = await check(s.port, 'negotiate', [
      'service=simpletcp',
      'request="HELLO\\n"',
      'receive="^PONG"',
      'checktype=negotiate',
    ]);
    expect(r).toMatchObject({
      ok: false,
      reason: `simpletcp 127.0.0.1:${s.port}: closed without a matching line`,
    });
    expect(s.received).toEqual(['HELLO\n']);
  });
});

describe('external', () => {
  /** A checkcommand that records its arguments and exits with the status in `status`. */
  function script(name: string, body: string): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it("gets ldirectord's arguments VIP VPORT RIP RPORT; exit 0 is up, non-zero is down", async () => {
    const argsFile = join(dir, 'ext-args');
    const statusFile = join(dir, 'ext-status');
    const cmd = script('ext-check', `printf '%s\\n' "$@" > ${argsFile}\nexit "$(cat ${statusFile})"`);
    const lines = ['checktype=external', `checkcommand="${cmd}"`];
    writeFileSync(statusFile, '0');
    expect(await check(8080, 'external', lines)).toMatchObject({
      ok: true,
      reason: `checkcommand ${cmd}: exit 0`,
    });
    expect(readFileSync(argsFile, 'utf8').split('\n')).toEqual(['10.99.0.1', '80', '127.0.0.1', '8080', '']);
    writeFileSync(statusFile, '3');
    expect(await check(8080, 'external', lines)).toMatchObject({
      ok: false,
      reason: `checkcommand ${cmd}: exit 3`,
    });
  });

  it('a missing or non-executable checkcommand is down and says which', async () => {
    const missing = join(dir, 'no-such-check');
    expect((await check(80, 'external', ['checktype=external', `checkcommand="${missing}"`])).reason).toBe(
      `checkcommand ${missing}: not found`,
    );
    const plain = join(dir, 'not-executable');
    writeFileSync(plain, '#!/bin/sh\nexit 0\n');
    chmodSync(plain, 0o644);
    expect((await check(80, 'external', ['checktype=external', `checkcommand="${plain}"`])).reason).toBe(
      `checkcommand ${plain}: not executable`,
    );
  });

  it('a hanging checkcommand is down at checktimeout, and its process group is killed', async () => {
    const pidFile = join(dir, 'ext-hang-pid');
    const cmd = script('ext-hang', `sleep 300 &\necho $! > ${pidFile}\nwait`);
    const { outcome, seconds } = await timed(() =>
      check(80, 'external', ['checktype=external', `checkcommand="${cmd}"`], ['checktimeout=2']),
    );
    expect(outcome).toMatchObject({ ok: false, reason: `checkcommand ${cmd} timed out after 2000 ms` });
    expect(seconds).toBeGreaterThanOrEqual(1.5);
    expect(seconds).toBeLessThan(15);
    // The grandchild (sleep) was in the script's process group: gone, or a zombie awaiting reaping.
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const alive = (): boolean => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return !/^\d+ \(.*\) Z /.test(stat);
      } catch {
        return false;
      }
    };
    const until = Date.now() + 10_000;
    while (alive() && Date.now() < until) await new Promise((ok) => setTimeout(ok, 100));
    expect(alive(), `sleep (pid ${pid}) outlived the check`).toBe(false);
  });
});

describe('ping', () => {
  it('127.0.0.1 answers (iputils ping)', async () => {
    const r = await check(80, 'ping', ['checktype=ping']);
    expect(r).toMatchObject({ ok: true, reason: 'ping 127.0.0.1: exit 0' });
  });
});

describe('checktimeout and negotiatetimeout', () => {
  it('an HTTP server that accepts and never answers fails within checktimeout (negotiatetimeout falls back to it)', async () => {
    const port = await silentServer();
    const { v } = service(
      port,
      ['service=http', 'request="health"', 'checktype=negotiate'],
      ['checktimeout=2'],
    );
    expect(v.negotiatetimeoutS).toBe(2);
    const { outcome, seconds } = await timed(() =>
      check(
        port,
        'negotiate',
        ['service=http', 'request="health"', 'checktype=negotiate'],
        ['checktimeout=2'],
      ),
    );
    expect(outcome).toMatchObject({
      ok: false,
      reason: `http://127.0.0.1:${port}/health: no answer within 2000 ms`,
    });
    expect(seconds).toBeGreaterThanOrEqual(1.5);
    expect(seconds).toBeLessThan(15);
  });

  it('negotiatetimeout, when given, bounds a negotiate check (not the longer checktimeout)', async () => {
    const port = await silentServer();
    const { outcome, seconds } = await timed(() =>
      check(
        port,
        'negotiate',
        ['service=simpletcp', 'request="PING\\n"', 'receive="PONG"', 'checktype=negotiate'],
        ['checktimeout=60', 'negotiatetimeout=2'],
      ),
    );
    expect(outcome).toMatchObject({
      ok: false,
      reason: `simpletcp 127.0.0.1:${port}: no matching line within 2000 ms`,
    });
    expect(seconds).toBeLessThan(15);
  });
});

describe('maxchecks: the check pool', () => {
  it('is parsed as a global (default 64) and refused inside a virtual block', () => {
    const base = 'virtual=10.99.0.1:80\n\treal=127.0.0.1:80 gate\n';
    expect(parseDirectorConfig(base, 'a.cf').config?.maxChecks).toBe(64);
    expect(parseDirectorConfig(`maxchecks=3\n${base}`, 'b.cf').config?.maxChecks).toBe(3);
    const inside = parseDirectorConfig(`${base}\tmaxchecks=3\n`, 'c.cf');
    expect(inside.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([
      'c.cf:3: error: maxchecks is a global directive (move it above the first virtual= line)',
    ]);
  });

  it('never runs more than its limit at once, and starts waiting tasks in order', async () => {
    const pool = new CheckPool(2);
    const started: number[] = [];
    let peak = 0;
    const gates: (() => void)[] = [];
    const tasks = [0, 1, 2, 3, 4, 5].map((i) =>
      pool.run(async () => {
        started.push(i);
        peak = Math.max(peak, pool.inFlight);
        await new Promise<void>((ok) => gates.push(ok));
        return i;
      }),
    );
    await new Promise((ok) => setTimeout(ok, 50));
    expect(started).toEqual([0, 1]);
    while (started.length < 6 || gates.length > 0) {
      gates.shift()?.();
      await new Promise((ok) => setTimeout(ok, 10));
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
    expect(pool.inFlight).toBe(0);
  });

  it('a server sees at most maxchecks HTTP checks at once (and all of them with a larger pool)', async () => {
    let open = 0;
    let peak = 0;
    const port = await listen(
      http.createServer((_q, res) => {
        open++;
        peak = Math.max(peak, open);
        setTimeout(() => {
          open--;
          res.end(BODY);
        }, 1000);
      }),
    );
    const { v, r } = service(port, [
      'service=http',
      'request="health"',
      'receive="OK"',
      'checktype=negotiate',
    ]);
    const run = async (limit: number): Promise<number> => {
      peak = 0;
      const pool = new CheckPool(limit);
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, () => pool.run(() => runCheck(v, r, 'negotiate'))),
      );
      expect(outcomes.every((o) => o.ok)).toBe(true);
      return peak;
    };
    expect(await run(2)).toBe(2);
    expect(await run(6)).toBe(6);
  });
});
