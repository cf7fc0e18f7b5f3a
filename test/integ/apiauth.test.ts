/**
 * apiauth under two tsbeat daemons in namespaces. ha.cf has `apiauth tsbtest uid=daemon` and
 * `apiauth tsbgrp gid=nogroup`. Proves what tsbeat enforces and how: the daemon opens one socket
 * per listed user (owned by it, mode 0600) and group (root and that group, mode 0660) under
 * /run/tsbeat/clients; `tsbeat signon` run as user daemon (setpriv) signs on as tsbtest and
 * `cl_status clientstatus node1 tsbtest` is online on node1 and, from the join it announced, on
 * node2; nobody (group nogroup) is refused tsbtest by the kernel (EACCES, exit 4) and may sign on
 * as tsbgrp; user daemon asking for tsbgrp on its own socket is refused by the daemon (exit 4
 * before any socket opens, since none is open to it); when the signed-on program exits the
 * client is offline on both nodes; a client socket takes no state change (standby is refused
 * with permission-denied, naming control.sock); root may always connect (file permissions do not bind root,
 * as SO_PEERCRED checks would not either when root is listed).
 */
import { chmodSync, cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  haCf,
  startTsbeat,
  waitFor,
} from '../harness/index.js';

let cluster: Cluster | undefined;
let a: HarnessNode;
let b: HarnessNode;

const TSBEAT = `${process.cwd()}/dist/cli/tsbeat.js`;
// The unprivileged users run a world-readable copy of dist: a checkout under /root or a
// mktemp -d (both 0700) is out of their reach. `tsbeat signon` needs no node_modules.
const copy = mkdtempSync(join(tmpdir(), 'tsbeat-apiauth-dist-'));
cpSync(`${process.cwd()}/dist`, join(copy, 'dist'), { recursive: true });
writeFileSync(join(copy, 'package.json'), '{ "type": "module" }\n');
chmodSync(copy, 0o755);
const TSBEAT_COPY = join(copy, 'dist', 'cli', 'tsbeat.js');
const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const clStatus = (n: HarnessNode, args: readonly string[]) =>
  n.exec([process.execPath, `${process.cwd()}/dist/cli/cl_status.js`, ...args], {
    env: env(n),
    timeoutMs: 30_000,
  });
const AS_DAEMON = ['setpriv', '--reuid=1', '--regid=1', '--clear-groups'];
const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const signon = (n: HarnessNode, who: readonly string[], client: string, program: readonly string[]) =>
  n.exec([...who, process.execPath, TSBEAT_COPY, 'signon', client, '--', ...program], {
    env: env(n),
    timeoutMs: 60_000,
  });

beforeAll(async () => {
  cluster = await createCluster({ nodes: 2 });
  [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
  for (const n of [a, b]) {
    n.writeHaD({
      'ha.cf': `${haCf(n, { nodes: [a, b], media: ['bcast eth0'], keepalive: 1, deadtime: 5, initdead: 10 })}apiauth tsbtest uid=daemon\napiauth tsbgrp gid=nogroup\n`,
      authkeys: authkeys('sha1', 'tsbeat-apiauth'),
      haresources: '',
    });
  }
  await Promise.all([a, b].map((n) => startTsbeat(n, { args: ['--foreground'], env: env(n) })));
  for (const [n, peer] of [
    [a, b],
    [b, a],
  ] as const)
    await waitFor(async () => (await clStatus(n, ['nodestatus', peer.name])).stdout === 'active\n', 60_000, {
      description: `${n.name} sees ${peer.name} active`,
    });
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
  rmSync(copy, { recursive: true, force: true });
});

describe('apiauth client sockets', () => {
  it('one socket per listed user (0600, owned by it) and group (0660, root:group)', async () => {
    const r = await a.execOk([
      'stat',
      '-c',
      '%n %a %U %G',
      '/run/tsbeat/clients/tsbtest.uid-daemon.sock',
      '/run/tsbeat/clients/tsbgrp.gid-nogroup.sock',
    ]);
    expect(r.stdout.trim().split('\n')).toEqual([
      '/run/tsbeat/clients/tsbtest.uid-daemon.sock 600 daemon root',
      '/run/tsbeat/clients/tsbgrp.gid-nogroup.sock 660 root nogroup',
    ]);
    expect(statSync(TSBEAT).isFile()).toBe(true);
  });

  it('the listed user signs on; clientstatus is online on both nodes while its program runs', async () => {
    expect((await clStatus(a, ['clientstatus', 'node1', 'tsbtest'])).stdout).toBe('offline\n');
    const held = a.exec(
      [...AS_DAEMON, process.execPath, TSBEAT_COPY, 'signon', 'tsbtest', '--', '/bin/sleep', '6'],
      {
        env: env(a),
        timeoutMs: 60_000,
      },
    );
    await waitFor(
      async () => (await clStatus(a, ['clientstatus', 'node1', 'tsbtest'])).stdout === 'online\n',
      20_000,
      {
        description: 'tsbtest online on node1',
      },
    );
    await waitFor(
      async () => (await clStatus(b, ['clientstatus', 'node1', 'tsbtest'])).stdout === 'online\n',
      20_000,
      {
        description: "node2 hears node1's tsbtest join",
      },
    );
    const done = await held;
    expect([done.code, done.stderr]).toEqual([0, '']);
    await waitFor(
      async () => (await clStatus(a, ['clientstatus', 'node1', 'tsbtest'])).stdout === 'offline\n',
      20_000,
      {
        description: 'tsbtest offline on node1 after its program ended',
      },
    );
    await waitFor(
      async () => (await clStatus(b, ['clientstatus', 'node1', 'tsbtest'])).stdout === 'offline\n',
      20_000,
      {
        description: "node2 hears node1's tsbtest leave",
      },
    );
  }, 120_000);

  it('a user outside apiauth is refused by the kernel (EACCES), with exit 4 and why', async () => {
    const r = await signon(a, AS_NOBODY, 'tsbtest', ['/bin/true']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /permission denied: this user is not authorised for client "tsbtest" by ha\.cf's apiauth .*EACCES/,
    );
    // The same with a raw connection: no tsbeat code in between.
    const raw = await a.exec([
      ...AS_NOBODY,
      process.execPath,
      '-e',
      "require('net').connect('/run/tsbeat/clients/tsbtest.uid-daemon.sock').on('error', (e) => { console.log(e.code); process.exit(0); }).on('connect', () => { console.log('connected'); process.exit(0); })",
    ]);
    expect(raw.stdout.trim()).toBe('EACCES');
    expect((await clStatus(a, ['clientstatus', 'node1', 'tsbtest'])).stdout).toBe('offline\n');
  });

  it("a group's member signs on through the group's socket; a user in neither list gets no socket", async () => {
    const ok = await signon(a, AS_NOBODY, 'tsbgrp', ['/bin/true']);
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    const no = await signon(a, AS_DAEMON, 'tsbgrp', ['/bin/true']);
    expect(no.code).toBe(4);
    expect(no.stderr).toMatch(/not authorised for client "tsbgrp"/);
  });

  it("a socket authorises only its own client: root on tsbtest's socket cannot sign on as tsbgrp", async () => {
    const r = await a.exec(
      [
        process.execPath,
        '-e',
        `const c = require('net').connect('/run/tsbeat/clients/tsbtest.uid-daemon.sock');
         c.on('connect', () => c.write(JSON.stringify({ v: 1, id: 1, cmd: 'signon', args: { client: 'tsbgrp' } }) + '\\n'));
         c.on('data', (d) => { process.stdout.write(d); c.destroy(); });`,
      ],
      { timeoutMs: 20_000 },
    );
    const answer = JSON.parse(r.stdout) as { ok: boolean; error?: { code: string; message: string } };
    expect(answer.ok).toBe(false);
    expect(answer.error?.code).toBe('permission-denied');
    expect(answer.error?.message).toContain('apiauth tsbtest');
    // A client socket never takes a state change.
    const standby = await a.exec(
      [
        process.execPath,
        '-e',
        `const c = require('net').connect('/run/tsbeat/clients/tsbtest.uid-daemon.sock');
         c.on('connect', () => c.write(JSON.stringify({ v: 1, id: 1, cmd: 'standby', args: { set: 'all' } }) + '\\n'));
         c.on('data', (d) => { process.stdout.write(d); c.destroy(); });`,
      ],
      { timeoutMs: 20_000 },
    );
    const refused = JSON.parse(standby.stdout) as { ok: boolean; error?: { code: string; message: string } };
    expect([refused.ok, refused.error?.code]).toEqual([false, 'permission-denied']);
    expect(refused.error?.message).toContain('/run/tsbeat/control.sock');
    // signon is not accepted on the general sockets either.
    const api = await a.exec([process.execPath, TSBEAT, 'signon', 'nosuchclient', '--', '/bin/true'], {
      env: env(a),
    });
    expect(api.code).toBe(4);
    expect(api.stderr).toContain('no client socket for "nosuchclient"');
  });
});
