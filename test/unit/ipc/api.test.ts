/**
 * The local API as a client meets it, on real Unix sockets: every command answers from the
 * ClusterView with the documented shape; every malformed, oversized, mis-versioned, unknown
 * or badly argued request gets an error reply with a stable code and never disturbs the
 * server (it keeps answering others); requests pipelined on one connection are answered in
 * order with their ids; a client that half-closes still gets its answers; a view that throws
 * or hangs yields `internal` / `timeout`; clients, queued requests and idle connections are
 * bounded. Permissions: api.sock is 0666 and refuses state changes, control.sock is 0660 for
 * heartbeat's API group (`apiauth anon gid=...`, default haclient) or 0600, and as root the
 * test proves a non-member (nobody) can read status but cannot open the control socket. A
 * view without the optional members still works through the documented fallbacks.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiServers,
  controlGroupName,
  resolveGroup,
  startApiServers,
  statusReport,
} from '../../../src/ipc/api.js';
import { ApiCallError, ApiSession, apiCall } from '../../../src/ipc/client.js';
import { MAX_REQUEST_BYTES, parseRequest } from '../../../src/ipc/protocol.js';
import { validateArgs } from '../../../src/ipc/schema.js';
import { ApiError, ApiServer } from '../../../src/ipc/server.js';
import type { ClusterView } from '../../../src/ipc/view.js';
import { FakeView, labNode, pingNode } from './fake-view.js';
import { raw, req } from './raw.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbeat-api-'));
chmodSync(tmp, 0o755); // so that `nobody` can reach the sockets in the permission test
const groupFile = join(tmp, 'group');
writeFileSync(groupFile, 'root:x:0:\nhaclient:x:105:\nops:x:4242:\n');
let n = 0;
const toClose: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of toClose) await s.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function serve(view: ClusterView = new FakeView()): Promise<ApiServers> {
  const dir = join(tmp, `run${n++}`);
  const s = await startApiServers(view, dir, { groupFile });
  toClose.push(s);
  return s;
}

const isRoot = process.getuid?.() === 0;

describe('commands', () => {
  let s: ApiServers;
  let view: FakeView;
  beforeAll(async () => {
    view = new FakeView({
      nodes: [
        labNode('ra1', { lastHeardAgoMs: 0 }),
        labNode('ra2', { generation: undefined }),
        pingNode('10.0.0.1'),
      ],
      groups: [
        {
          key: 'IPaddr::10.0.0.10',
          preferredNode: 'ra1',
          resources: ['IPaddr::10.0.0.10'],
          runningOn: undefined,
          state: 'stopped',
        },
      ],
      events: [{ at: '2026-11-22T20:31:18.000Z', level: 'warn', message: 'node ra2: active -> dead' }],
    });
    s = await serve(view);
  });

  it('hello identifies the daemon', async () => {
    expect(await apiCall(s.readSocket, 'hello', {})).toEqual({
      api: 1,
      apiVersions: [1],
      version: '0.1.0',
      node: 'ra1',
      pid: process.pid,
      ready: true,
      keepaliveMs: 1000,
      deadtimeMs: 3000,
      hbversion: '3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)',
      pacemaker: 'off',
    });
  });

  it('nodes, node, link: absent values are null; names case-insensitive, links exact', async () => {
    const { nodes } = await apiCall(s.readSocket, 'nodes', {});
    expect(nodes.map((x) => x.name)).toEqual(['ra1', 'ra2', '10.0.0.1']);
    expect(nodes[1]).toEqual({
      name: 'ra2',
      type: 'normal',
      status: 'active',
      weight: 100,
      site: '',
      generation: null,
      deadtimeMs: 3000,
      lastHeardAgoMs: 420,
      links: [{ name: 'eth0', status: 'up', lastHeardAgoMs: 420 }],
    });
    expect((await apiCall(s.readSocket, 'node', { node: 'RA2' })).name).toBe('ra2');
    expect(await apiCall(s.readSocket, 'link', { node: 'Ra2', link: 'eth0' })).toEqual({ status: 'up' });
    await expect(apiCall(s.readSocket, 'link', { node: 'ra2', link: 'ETH0' })).rejects.toMatchObject({
      code: 'no-such-link',
    });
    await expect(apiCall(s.readSocket, 'node', { node: 'ra9' })).rejects.toMatchObject({
      code: 'no-such-node',
    });
  });

  it('ages are whole milliseconds', async () => {
    const v = new FakeView({
      nodes: [
        labNode('ra1'),
        labNode('ra2', {
          lastHeardAgoMs: 363.84,
          links: [{ name: 'eth0', status: 'up', lastHeardAgoMs: 12.5 }],
        }),
      ],
    });
    const s2 = await serve(v);
    const n2 = await apiCall(s2.readSocket, 'node', { node: 'ra2' });
    expect([n2.lastHeardAgoMs, n2.links[0]!.lastHeardAgoMs]).toEqual([364, 13]);
  });

  it('parameter: crm is pacemaker; unset is null', async () => {
    expect(await apiCall(s.readSocket, 'parameter', { name: 'crm' })).toEqual({ value: 'off' });
    expect(await apiCall(s.readSocket, 'parameter', { name: 'stonith' })).toEqual({ value: null });
  });

  it('status: the documented report', async () => {
    const r = await apiCall(s.readSocket, 'status', {});
    expect(r).toMatchObject({
      format: 'tsbeat-status/1',
      node: 'ra1',
      ready: true,
      generation: 3,
      cluster: 'linux-ha',
      managedBy: 'haresources',
      rscstatus: 'local',
      startedAt: null,
      groups: [{ key: 'IPaddr::10.0.0.10', runningOn: null, state: 'stopped' }],
      events: [{ at: '2026-11-22T20:31:18.000Z', level: 'warn', message: 'node ra2: active -> dead' }],
    });
    expect(r.nodes.map((x) => [x.name, x.local])).toEqual([
      ['ra1', true],
      ['ra2', false],
      ['10.0.0.1', false],
    ]);
    expect(JSON.stringify(r)).not.toContain('undefined');
  });

  it('status timing: the largest dead time a peer advertises, initdead at start-up, +keepalive for heartbeat', () => {
    const v = new FakeView({
      nodes: [labNode('ra1'), labNode('ra2', { deadtimeMs: 5000 }), pingNode('10.0.0.1')],
    });
    expect(statusReport(v).timing).toEqual({
      keepaliveMs: 1000,
      warntimeMs: 2000,
      deadtimeMs: 3000,
      initdeadMs: 10000,
      detectionMs: 5000,
      startupDetectionMs: 10000,
      heartbeatDetectionMs: 6000,
    });
  });

  it('standby and takeover only on the control socket', async () => {
    await expect(apiCall(s.readSocket, 'standby', { set: 'all' })).rejects.toMatchObject({
      code: 'permission-denied',
      message: expect.stringContaining('needs root or group haclient'),
    });
    expect(await apiCall(s.controlSocket, 'standby', { set: 'local' })).toEqual({
      accepted: true,
      message: 'sent',
    });
    expect(await apiCall(s.controlSocket, 'takeover', { set: 'failback' })).toEqual({
      accepted: true,
      message: 'sent',
    });
    expect(view.requests).toEqual([
      { kind: 'standby', set: 'local' },
      { kind: 'takeover', set: 'failback' },
    ]);
    // The control socket answers the read commands too.
    expect((await apiCall(s.controlSocket, 'hello', {})).node).toBe('ra1');
    await expect(apiCall(s.controlSocket, 'shutdown', {})).rejects.toMatchObject({ code: 'unsupported' });
  });
});

describe('bad requests get an error reply and change nothing', () => {
  let s: ApiServers;
  beforeAll(async () => {
    s = await serve();
  });
  const one = async (data: string | Buffer) => (await raw(s.readSocket, data, { want: 1 })).lines[0];

  it.each([
    ['not JSON', 'hello\n', 'bad-json'],
    ['an empty line', '\n', 'bad-json'],
    ['not UTF-8', Buffer.from([0xff, 0xfe, 0x7b, 0x0a]), 'bad-json'],
    ['a JSON array', '[1,2]\n', 'bad-request'],
    ['no version', '{"cmd":"hello"}\n', 'unsupported-version'],
    ['version 2', '{"v":2,"cmd":"hello"}\n', 'unsupported-version'],
    ['a bad id', '{"v":1,"id":{},"cmd":"hello"}\n', 'bad-request'],
    ['no command', '{"v":1}\n', 'bad-request'],
    ['args not an object', '{"v":1,"cmd":"hello","args":[]}\n', 'bad-request'],
    ['an unknown command', req('format-disk'), 'unknown-command'],
    ['a missing argument', req('node'), 'bad-args'],
    ['an extra argument', req('hello', { x: 1 }), 'bad-args'],
    ['a wrong type', req('node', { node: 7 }), 'bad-args'],
    ['an overlong name', req('node', { node: 'x'.repeat(257) }), 'bad-args'],
    ['a bad resource set', req('standby', { set: 'everything' }), 'permission-denied'],
  ] as const)('%s', async (_, data, code) => {
    expect(await one(data)).toMatchObject({ v: 1, ok: false, error: { code } });
  });

  it('says which versions it speaks', async () => {
    expect(await one('{"v":2,"id":"a","cmd":"hello"}\n')).toEqual({
      v: 1,
      id: 'a',
      ok: false,
      error: {
        code: 'unsupported-version',
        message: 'unsupported API version 2 (this daemon speaks 1)',
        supported: [1],
      },
    });
  });

  it('checks a resource set on the control socket', async () => {
    const r = await raw(s.controlSocket, req('standby', { set: 'everything' }), { want: 1 });
    expect(r.lines[0]).toMatchObject({ ok: false, error: { code: 'bad-args' } });
  });

  it('refuses an oversized request, with or without its newline, and closes', async () => {
    const big = `{"v":1,"cmd":"hello","args":{"pad":"${'x'.repeat(MAX_REQUEST_BYTES)}"}}`;
    for (const data of [`${big}\n`, big]) {
      const r = await raw(s.readSocket, data, { want: 1 });
      expect(r.lines[0]).toMatchObject({ ok: false, error: { code: 'too-large' } });
    }
    const closed = await raw(s.readSocket, `${big}\n${req('hello')}`, { waitMs: 2000 });
    expect(closed.closed).toBe(true);
    expect(closed.lines).toHaveLength(1);
  });

  it('keeps serving after all of that', async () => {
    expect((await apiCall(s.readSocket, 'hello', {})).ready).toBe(true);
  });
});

describe('connections', () => {
  let s: ApiServers;
  beforeAll(async () => {
    s = await serve();
  });

  it('answers pipelined requests in order, echoing ids, and accepts CRLF', async () => {
    const data = Array.from({ length: 10 }, (_, i) => req(i % 2 ? 'hello' : 'nodes', {}, i)).join('');
    const r = await raw(s.readSocket, `${data}${req('hello', {}, 'last').replace('\n', '\r\n')}`, {
      want: 11,
    });
    expect(r.lines.map((l) => l['id'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 'last']);
    expect(r.lines.every((l) => l['ok'] === true)).toBe(true);
  });

  it('answers a client that half-closed after its request', async () => {
    const r = await raw(s.readSocket, req('hello'), { end: true });
    expect(r.lines).toHaveLength(1);
    expect(r.closed).toBe(true);
  });

  it('refuses a flood of queued requests on one connection', async () => {
    const r = await raw(s.readSocket, req('hello').repeat(40), { waitMs: 2000 });
    expect(r.closed).toBe(true);
    expect(r.lines.at(-1)).toMatchObject({ ok: false, error: { code: 'busy' } });
  });

  it('a session reuses one connection for several calls', async () => {
    const session = await ApiSession.open(s.readSocket, 2000);
    try {
      expect((await session.call('hello', {})).node).toBe('ra1');
      await expect(session.call('node', { node: 'zz' })).rejects.toBeInstanceOf(ApiCallError);
      expect((await session.call('parameter', { name: 'deadtime' })).value).toBe('3');
    } finally {
      session.close();
    }
  });
});

describe('limits of the server itself', () => {
  const path = () => join(tmp, `srv${n++}.sock`);

  it('bounds the number of clients: at the limit, a client still waiting for its answer is never dropped', async () => {
    const server = new ApiServer(
      (r) =>
        r.cmd === 'hang'
          ? new Promise((resolve) => setTimeout(() => resolve({ late: true }), 1500))
          : { fine: true },
      { maxClients: 2, maxQueued: 4, idleMs: 5000, handlerMs: 5000, maxUnreadBytes: 1 << 20 },
    );
    toClose.push(server);
    const p = path();
    await server.listen(p, { mode: 0o600 });
    const held = [
      raw(p, req('hang'), { want: 1, waitMs: 5000 }),
      raw(p, req('hang'), { want: 1, waitMs: 5000 }),
    ];
    await new Promise((r) => setTimeout(r, 200));
    const third = await raw(p, req('hello'), { want: 1 });
    expect(third.lines[0]).toMatchObject({ ok: false, error: { code: 'busy' } });
    // The two that were being answered still get their answers.
    for (const h of await Promise.all(held))
      expect(h.lines[0]).toMatchObject({ ok: true, result: { late: true } });
  });

  it('drops idle clients and times out hanging handlers; a throwing handler is "internal"', async () => {
    const server = new ApiServer(
      (r) => {
        if (r.cmd === 'hang') return new Promise(() => undefined);
        if (r.cmd === 'boom') throw new Error('kaboom');
        if (r.cmd === 'nope') throw new ApiError('no-such-node', 'nope');
        return { fine: true };
      },
      { maxClients: 8, maxQueued: 4, requestMs: 400, idleMs: 400, handlerMs: 150, maxUnreadBytes: 1 << 20 },
    );
    toClose.push(server);
    const p = path();
    await server.listen(p, { mode: 0o600 });
    const r = await raw(p, req('hang') + req('boom') + req('nope') + req('ok'), { want: 4 });
    expect(r.lines.map((l) => (l['ok'] ? 'ok' : (l['error'] as { code: string }).code))).toEqual([
      'timeout',
      'internal',
      'no-such-node',
      'ok',
    ]);
    expect(r.lines[1]).toMatchObject({ error: { message: 'internal error: kaboom' } });
    const idle = await raw(p, '', { waitMs: 3000 });
    expect(idle.closed).toBe(true);
  });

  it('survives a view that throws', async () => {
    const view = new FakeView();
    const s = await serve(view);
    view.broken = true;
    await expect(apiCall(s.readSocket, 'nodes', {})).rejects.toMatchObject({ code: 'internal' });
    view.broken = false;
    expect((await apiCall(s.readSocket, 'nodes', {})).nodes).toHaveLength(2);
  });
});

describe('permissions', () => {
  it('api.sock is 0666 in a searchable directory; control.sock 0660 for the API group when it exists', async () => {
    const dir = join(tmp, `umask${n++}`);
    mkdirSync(dir, { mode: 0o700 });
    const s = await startApiServers(new FakeView(), dir, { groupFile });
    toClose.push(s);
    expect(statSync(dir).mode & 0o777).toBe(0o711);
    expect(statSync(s.readSocket).mode & 0o777).toBe(0o666);
    if (isRoot) {
      expect(statSync(s.controlSocket).mode & 0o777).toBe(0o660);
      expect(statSync(s.controlSocket).gid).toBe(105);
      expect(s.controlGroup).toBe('haclient');
    }
  });

  it('the group follows apiauth anon; users only means root only (0600)', async () => {
    expect(controlGroupName([])).toBe('haclient');
    expect(controlGroupName([{ client: 'anon', uids: [], gids: ['ops', 'x'] }])).toBe('ops');
    expect(controlGroupName([{ client: 'ipfail', uids: [], gids: ['ops'] }])).toBe('haclient');
    expect(controlGroupName([{ client: 'anon', uids: ['root'], gids: [] }])).toBeUndefined();
    expect(resolveGroup('ops', groupFile)).toBe(4242);
    expect(resolveGroup('77', groupFile)).toBe(77);
    expect(resolveGroup('nosuchgroup', groupFile)).toBeUndefined();

    const view = new FakeView();
    Object.assign(view, { apiAuth: () => [{ client: 'anon', uids: ['root'], gids: [] }] });
    const s = await serve(view);
    expect(statSync(s.controlSocket).mode & 0o777).toBe(0o600);
    expect(s.controlGroup).toBeUndefined();

    const missing = new FakeView();
    Object.assign(missing, { apiAuth: () => [{ client: 'anon', uids: [], gids: ['nosuchgroup'] }] });
    const m = await serve(missing);
    expect(statSync(m.controlSocket).mode & 0o777).toBe(0o600);
  });

  it.runIf(isRoot)('as nobody: status yes, control socket no', async () => {
    const s = await serve();
    const script = (path: string) =>
      `const s=require('net').connect(${JSON.stringify(path)});` +
      `s.on('error',e=>{console.log(e.code);process.exit(0)});` +
      `s.on('connect',()=>s.write('{"v":1,"cmd":"hello"}\\n'));` +
      `s.on('data',d=>{console.log(JSON.parse(d).ok);process.exit(0)});`;
    const asNobody = (path: string) =>
      new Promise<string>((resolve) =>
        execFile(
          process.execPath,
          ['-e', script(path)],
          { uid: 65534, gid: 65534, timeout: 10_000 },
          (_e, out) => resolve(out.trim()),
        ),
      );
    expect(await asNobody(s.readSocket)).toBe('true');
    expect(await asNobody(s.controlSocket)).toBe('EACCES');
  });
});

describe('a view without the optional members', () => {
  it('falls back: ready from the local status, resources managed, no shutdown', async () => {
    const base = new FakeView({ nodes: [labNode('ra1', { status: 'up' }), labNode('ra2')] });
    const minimal: ClusterView = {
      version: base.version,
      localNode: () => base.localNode(),
      nodes: () => base.nodes(),
      parameter: (p) => base.parameter(p),
      rscStatus: () => 'none',
      clientStatus: () => 'offline',
      groups: () => [],
      recentEvents: () => [],
      timing: () => base.timing(),
      standby: () => Promise.resolve({ accepted: false, message: 'resource management is not running' }),
      takeover: () => Promise.resolve({ accepted: false, message: 'resource management is not running' }),
    };
    const s = await serve(minimal);
    expect((await apiCall(s.readSocket, 'hello', {})).ready).toBe(false);
    base.nodeList[0] = labNode('ra1');
    expect((await apiCall(s.readSocket, 'hello', {})).ready).toBe(true);
    expect(await apiCall(s.readSocket, 'rscstatus', {})).toEqual({ status: 'none' });
    expect(await apiCall(s.controlSocket, 'standby', { set: 'all' })).toEqual({
      accepted: false,
      message: 'resource management is not running',
    });
    expect((await apiCall(s.readSocket, 'status', {})).startedAt).toBeNull();
  });
});

describe('protocol and schema, directly', () => {
  it('parseRequest and validateArgs', () => {
    expect(parseRequest('{"v":1,"cmd":"node","args":{"node":"a"}}')).toEqual({
      v: 1,
      cmd: 'node',
      args: { node: 'a' },
    });
    expect(parseRequest('{"v":1,"cmd":"Hello"}')).toMatchObject({ rejected: { code: 'bad-request' } });
    expect(validateArgs('link', { node: 'a', link: 'eth0' })).toEqual({ node: 'a', link: 'eth0' });
    expect(validateArgs('link', { node: 'a' })).toBe('link: argument "link" is required');
    expect(validateArgs('takeover', { set: 'failback' })).toEqual({ set: 'failback' });
    // A "__proto__" key from JSON is an own property like any other: an unknown argument.
    expect(validateArgs('hello', JSON.parse('{"__proto__":{"x":1}}'))).toBe(
      'hello: unknown argument "__proto__"',
    );
  });
});
