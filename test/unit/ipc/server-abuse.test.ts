/**
 * The local API server against clients that try to starve it or take its socket, on real Unix
 * sockets. Proves: at the client limit the connection that waited longest without a complete
 * request is closed (with a `busy` line) so that a newcomer is served, and only when every
 * slot holds a client waiting for its answer is the newcomer refused; a connection that does
 * not complete a request within the request deadline is closed with a `timeout` line, also
 * when it trickles bytes, while a client that completed a request may stay idle longer and is
 * still served; each eviction, refusal, timeout, bad request and denied command is counted in
 * the RejectedInput by class, with rate-limited log lines; `status` reports the counts (its
 * own and the view's added, or the daemon's alone when its instance is passed in); the two
 * sockets have separate pools, so a flood of api.sock leaves control.sock untouched; and
 * listen() never takes a socket a live process listens on nor deletes a non-socket, but
 * replaces a stale socket left by a dead daemon. Deadlines are short here (hundreds of ms)
 * and the assertions are on outcomes, with generous waits, not on exact timings.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startApiServers, zeroCounts } from '../../../src/ipc/api.js';
import { apiCall } from '../../../src/ipc/client.js';
import { ApiServer, probeSocket, SocketInUseError } from '../../../src/ipc/server.js';
import { RejectedInput } from '../../../src/lib/rejected.js';
import { FakeView } from './fake-view.js';
import { raw, req } from './raw.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-abuse-'));
let n = 0;
const toClose: { close(): Promise<void> }[] = [];
const sockets: Socket[] = [];
afterAll(async () => {
  for (const s of sockets) s.destroy();
  for (const s of toClose) await s.close();
  rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A connection that sends `data` and then nothing; records what it was told and when it closed. */
function halfOpen(path: string, data = '{"v":1,"cmd":"hel'): Promise<HalfOpen> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sockets.push(sock);
    const h: HalfOpen = { sock, said: '', closed: false };
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      h.said += d;
    });
    sock.on('close', () => {
      h.closed = true;
    });
    sock.on('error', () => undefined);
    sock.once('connect', () => {
      if (data) sock.write(data);
      resolve(h);
    });
    sock.once('error', reject);
  });
}
interface HalfOpen {
  sock: Socket;
  said: string;
  closed: boolean;
}

async function until(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

function recorder(): { rejected: RejectedInput; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    rejected: new RejectedInput({ nowMs: () => performance.now(), log: (_level, line) => lines.push(line) }),
  };
}

async function server(
  dispatch: ConstructorParameters<typeof ApiServer>[0],
  limits: ConstructorParameters<typeof ApiServer>[1],
  rejected?: RejectedInput,
): Promise<string> {
  const s = new ApiServer(dispatch, limits, rejected ? { rejected } : {});
  toClose.push(s);
  const p = join(tmp, `s${n++}.sock`);
  await s.listen(p, { mode: 0o600 });
  return p;
}

describe('a full server makes room', () => {
  it('evicts the half-open connection that waited longest, so a newcomer is served', async () => {
    const { rejected, lines } = recorder();
    const p = await server(() => ({ fine: true }), { maxClients: 4, requestMs: 10_000 }, rejected);
    const held: HalfOpen[] = [];
    for (let i = 0; i < 4; i++) {
      held.push(await halfOpen(p));
      await sleep(30); // distinct waiting times: held[0] is the oldest
    }
    const r = await raw(p, req('hello'), { want: 1, waitMs: 5000 });
    expect(r.lines[0]).toMatchObject({ ok: true, result: { fine: true } });
    await until(() => held[0]!.closed);
    expect(JSON.parse(held[0]!.said)).toMatchObject({ ok: false, error: { code: 'busy' } });
    expect(held.slice(1).map((h) => h.closed)).toEqual([false, false, false]);
    expect(rejected.snapshot().ipcBusy).toBe(1);
    expect(lines.join('\n')).toMatch(
      /local API s\d+\.sock: client limit \(4\) reached: closed the connection that waited longest/,
    );
  });

  it('keeps serving newcomers while an attacker keeps reconnecting', async () => {
    const p = await server(() => ({ fine: true }), { maxClients: 8, requestMs: 10_000 });
    let stop = false;
    const attacker = (async () => {
      const mine: HalfOpen[] = [];
      while (!stop) {
        // Keep 8 half-open connections, replacing each one the server closes.
        for (let i = mine.length - 1; i >= 0; i--) if (mine[i]!.closed) mine.splice(i, 1);
        while (mine.length < 8 && !stop) mine.push(await halfOpen(p));
        await sleep(5);
      }
      for (const h of mine) h.sock.destroy();
    })();
    try {
      await sleep(100);
      for (let i = 0; i < 10; i++) {
        const r = await raw(p, req('hello', {}, i), { want: 1, waitMs: 5000 });
        expect(r.lines[0]).toMatchObject({ id: i, ok: true });
      }
    } finally {
      stop = true;
      await attacker;
    }
  });

  it('refuses a newcomer only when every client is waiting for its answer', async () => {
    const { rejected } = recorder();
    const p = await server(
      (r) => (r.cmd === 'slow' ? sleep(1500).then(() => ({ slow: true })) : { fine: true }),
      { maxClients: 2, handlerMs: 5000 },
      rejected,
    );
    const busy = [
      raw(p, req('slow'), { want: 1, waitMs: 5000 }),
      raw(p, req('slow'), { want: 1, waitMs: 5000 }),
    ];
    await sleep(300);
    const refused = await raw(p, req('hello'), { want: 1, waitMs: 3000 });
    expect(refused.lines[0]).toMatchObject({ ok: false, error: { code: 'busy' } });
    for (const b of await Promise.all(busy)) expect(b.lines[0]).toMatchObject({ ok: true });
    expect(rejected.snapshot().ipcBusy).toBe(1);
  });
});

describe('deadlines for incomplete requests', () => {
  it('closes a connection that sends nothing, or trickles, within the request deadline', async () => {
    const { rejected } = recorder();
    const p = await server(() => ({ fine: true }), { requestMs: 300, idleMs: 60_000 }, rejected);
    const silent = await halfOpen(p, '');
    const trickle = await halfOpen(p, '{');
    const drip = setInterval(() => trickle.sock.write(' '), 50);
    try {
      await until(() => silent.closed && trickle.closed, 10_000);
    } finally {
      clearInterval(drip);
    }
    for (const h of [silent, trickle])
      expect(JSON.parse(h.said)).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(rejected.snapshot().ipcTimeout).toBe(2);
  });

  it('lets a client that completed a request sit idle longer, then answers it', async () => {
    const p = await server(() => ({ fine: true }), { requestMs: 300, idleMs: 60_000 });
    const sock = connect(p);
    sockets.push(sock);
    sock.setEncoding('utf8');
    let got = '';
    sock.on('data', (d: string) => {
      got += d;
    });
    await new Promise((r) => sock.once('connect', r));
    sock.write(req('hello', {}, 1));
    await until(() => got.split('\n').length > 1);
    await sleep(1200); // four request deadlines, idle
    expect(sock.destroyed).toBe(false);
    sock.write(req('hello', {}, 2));
    await until(() => got.split('\n').length > 2);
    expect(
      got
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual([1, 2]);
  });

  it('gives a proven client the request deadline again once it starts a request', async () => {
    const p = await server(() => ({ fine: true }), { requestMs: 300, idleMs: 60_000 });
    const h = await halfOpen(p, req('hello'));
    await until(() => h.said.includes('\n'));
    h.sock.write('{"v":1,');
    await until(() => h.closed, 10_000);
    expect(
      h.said
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).error?.code ?? 'ok'),
    ).toEqual(['ok', 'timeout']);
  });
});

describe('counts and the status report', () => {
  it('counts bad requests, denied commands and timeouts per class; logs are rate-limited', async () => {
    const { rejected, lines } = recorder();
    const s = await startApiServers(new FakeView(), join(tmp, `run${n++}`), {
      rejected,
      limits: { requestMs: 200 },
    });
    toClose.push(s);
    for (let i = 0; i < 5; i++) await raw(s.readSocket, 'garbage\n', { want: 1 });
    await raw(s.readSocket, req('node', { node: 'x', 'evil\u001b[2J': 1 }), { want: 1 });
    for (let i = 0; i < 3; i++) await raw(s.readSocket, req('standby', { set: 'all' }), { want: 1 });
    const stalled = await Promise.all([halfOpen(s.readSocket, ''), halfOpen(s.readSocket, '{')]);
    await until(() => stalled.every((h) => h.closed));
    expect(rejected.snapshot()).toMatchObject({ ipcBadRequest: 6, ipcDenied: 3, ipcTimeout: 2, ipcBusy: 0 });
    // One line per class and socket within the window, however many were rejected.
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).not.toContain('\u001b');
    expect(lines.join('\n')).toContain('local API api.sock: bad request (bad-json)');
  });

  it('status: the servers own counters when none is passed, added to the view', async () => {
    const logged: string[] = [];
    const view = new FakeView();
    const s = await startApiServers(view, join(tmp, `run${n++}`), { log: (_l, line) => logged.push(line) });
    toClose.push(s);
    expect((await apiCall(s.readSocket, 'status', {})).rejected).toEqual(zeroCounts());
    await raw(s.readSocket, '\n', { want: 1 });
    expect((await apiCall(s.readSocket, 'status', {})).rejected).toMatchObject({
      ipcBadRequest: 1,
      replay: 0,
    });
    expect(logged).toHaveLength(1);
    Object.assign(view, { rejected: () => ({ ...zeroCounts(), replay: 7, ipcBadRequest: 2 }) });
    expect((await apiCall(s.readSocket, 'status', {})).rejected).toMatchObject({
      ipcBadRequest: 3,
      replay: 7,
    });
  });

  it("status: the daemon's own instance passed in is reported once, through the view", async () => {
    const { rejected } = recorder();
    const view = new FakeView();
    Object.assign(view, { rejected: () => rejected.snapshot() });
    const s = await startApiServers(view, join(tmp, `run${n++}`), { rejected });
    toClose.push(s);
    rejected.count('replay');
    await raw(s.readSocket, '\n', { want: 1 });
    expect((await apiCall(s.readSocket, 'status', {})).rejected).toMatchObject({
      ipcBadRequest: 1,
      replay: 1,
    });
    expect(s.rejected).toBe(rejected);
  });

  it('a flood of api.sock does not touch the control socket pool', async () => {
    const { rejected } = recorder();
    const s = await startApiServers(new FakeView(), join(tmp, `run${n++}`), {
      rejected,
      limits: { maxClients: 4, requestMs: 10_000 },
    });
    toClose.push(s);
    const flood = [];
    for (let i = 0; i < 4; i++) flood.push(await halfOpen(s.readSocket));
    for (let i = 0; i < 5; i++) expect((await apiCall(s.controlSocket, 'hello', {})).node).toBe('ra1');
    // Nobody was evicted from api.sock for control.sock's clients.
    expect(flood.map((h) => h.closed)).toEqual([false, false, false, false]);
    expect(rejected.snapshot().ipcBusy).toBe(0);
  });
});

describe('the socket is never taken from a live daemon', () => {
  it('a second server on a live socket fails naming the path; the first keeps answering', async () => {
    const p = await server(() => ({ first: true }), {});
    const second = new ApiServer(() => ({ second: true }));
    await expect(second.listen(p, { mode: 0o600 })).rejects.toThrow(
      new SocketInUseError(
        `another tsbeat daemon is listening on ${p}; stop it first (tsbeat stop), or use another TSBEAT_RUNDIR`,
      ),
    );
    expect((await raw(p, req('x'), { want: 1 })).lines[0]).toMatchObject({ result: { first: true } });
  });

  it('startApiServers in the run directory of a live daemon fails and leaves it serving', async () => {
    const dir = join(tmp, `run${n++}`);
    const first = await startApiServers(new FakeView(), dir);
    toClose.push(first);
    await expect(startApiServers(new FakeView({ local: 'ra2' }), dir)).rejects.toThrow(
      /^another tsbeat daemon is listening on .*api\.sock/,
    );
    expect((await apiCall(first.readSocket, 'hello', {})).node).toBe('ra1');
    expect((await apiCall(first.controlSocket, 'hello', {})).node).toBe('ra1');
  });

  it('a stale socket left by a killed daemon is replaced', async () => {
    const p = join(tmp, `stale${n++}.sock`);
    // A process that listens and is SIGKILLed leaves its socket file behind.
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await new Promise((r) => child.once('exit', r));
    expect(statSync(p).isSocket()).toBe(true);
    expect(await probeSocket(p)).toBe('dead');
    const s = new ApiServer(() => ({ fresh: true }));
    toClose.push(s);
    await s.listen(p, { mode: 0o600 });
    expect((await raw(p, req('x'), { want: 1 })).lines[0]).toMatchObject({ result: { fresh: true } });
  });

  it('a regular file (or a directory) at the path is an error, and is left alone', async () => {
    const file = join(tmp, `file${n++}.sock`);
    writeFileSync(file, 'precious');
    const s = new ApiServer(() => ({}));
    await expect(s.listen(file, { mode: 0o600 })).rejects.toThrow(
      `${file} exists and is not a socket; tsbeat does not delete it: move it away, or use another TSBEAT_RUNDIR`,
    );
    expect(readFileSync(file, 'utf8')).toBe('precious');
    const dir = join(tmp, `dir${n++}.sock`);
    mkdirSync(dir);
    await expect(new ApiServer(() => ({})).listen(dir, { mode: 0o600 })).rejects.toBeInstanceOf(
      SocketInUseError,
    );
    expect(existsSync(dir)).toBe(true);
    expect(await probeSocket(join(tmp, 'nothing-here.sock'))).toBe('absent');
  });
});
