// The pure parts of apiauth's client sockets (src/ipc/api.ts): which sockets the apiauth lines
// call for (one per existing user and group; none for anon and ipfail, which tsbeat serves
// otherwise, nor for names that cannot be file names), who may sign on through a socket
// (its own client; on a `default` socket any client without a line, except heartbeat's
// ipfail/ccm/ping/cl_status), the signed-on table's join/leave edges, and the order in which
// `tsbeat signon` tries sockets. The kernel's part (EACCES for everyone else) is in
// test/integ/apiauth.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { candidateSockets } from '../../../src/cli/signon.js';
import { clientGates, mayClientSignOn, SignedOnClients } from '../../../src/ipc/api.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbeat-apiauth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const passwdFile = join(dir, 'passwd');
const groupFile = join(dir, 'group');
writeFileSync(
  passwdFile,
  'root:x:0:0::/root:/bin/sh\nhacluster:x:107:113::/var/lib/heartbeat:/usr/sbin/nologin\n',
);
writeFileSync(groupFile, 'root:x:0:\nhaclient:x:113:\n');

describe('clientGates', () => {
  it('one gate per existing user and group; anon, ipfail and unknown names get none', () => {
    const gates = clientGates(
      [
        { client: 'anon', uids: [], gids: ['haclient'] },
        { client: 'ipfail', uids: ['hacluster'], gids: [] },
        { client: 'ccm', uids: ['hacluster', 'ghost', '4242'], gids: ['haclient', 'nogroup-here'] },
        { client: 'bad/name', uids: ['root'], gids: [] },
        { client: 'default', uids: [], gids: ['haclient'] },
      ],
      { passwdFile, groupFile },
    );
    expect(gates).toEqual([
      { client: 'ccm', kind: 'uid', name: 'hacluster', id: 107, file: 'ccm.uid-hacluster.sock' },
      { client: 'ccm', kind: 'uid', name: '4242', id: 4242, file: 'ccm.uid-4242.sock' },
      { client: 'ccm', kind: 'gid', name: 'haclient', id: 113, file: 'ccm.gid-haclient.sock' },
      { client: 'default', kind: 'gid', name: 'haclient', id: 113, file: 'default.gid-haclient.sock' },
    ]);
  });
});

describe('mayClientSignOn', () => {
  const apiauth = [
    { client: 'ccm', uids: ['hacluster'], gids: [] },
    { client: 'default', uids: [], gids: ['haclient'] },
  ];
  const gate = (client: string) => ({ client, kind: 'gid' as const, name: 'haclient', id: 113, file: '' });
  it.each([
    ['ccm', 'ccm', true],
    ['ccm', 'other', false],
    ['default', 'myapp', true],
    // A client with its own line is never authorised through default.
    ['default', 'ccm', false],
    // heartbeat never lets default stand in for these.
    ['default', 'ipfail', false],
    ['default', 'ping', false],
    ['default', 'cl_status', false],
  ])('socket of %s, client %s: %s', (socketClient, client, want) => {
    expect(mayClientSignOn(gate(socketClient), client, apiauth)).toBe(want);
  });
});

describe('SignedOnClients', () => {
  it('join on the first connection, leave when the last one goes', () => {
    const t = new SignedOnClients();
    const seen: string[] = [];
    t.onChange = (c, st) => seen.push(`${c} ${st}`);
    t.add('x');
    t.add('x');
    t.remove('x');
    expect(t.has('x')).toBe(true);
    t.remove('x');
    t.remove('x');
    expect(t.has('x')).toBe(false);
    expect(seen).toEqual(['x join', 'x leave']);
  });
});

describe('candidateSockets', () => {
  it("the client's own sockets first, then default's; nothing else", () => {
    const d = join(dir, 'clients');
    rmSync(d, { recursive: true, force: true });
    const made = [
      'ccm.uid-hacluster.sock',
      'ccm.gid-haclient.sock',
      'default.gid-haclient.sock',
      'ccmx.uid-a.sock',
      'api.sock',
    ];
    mkdirSync(d);
    for (const f of made) writeFileSync(join(d, f), '');
    expect(candidateSockets(d, 'ccm').map((p) => p.slice(d.length + 1))).toEqual([
      'ccm.gid-haclient.sock',
      'ccm.uid-hacluster.sock',
      'default.gid-haclient.sock',
    ]);
    expect(candidateSockets(join(dir, 'none'), 'ccm')).toEqual([]);
  });
});
