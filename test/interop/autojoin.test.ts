// autojoin as heartbeat 3.0.6 does it, with the real heartbeat as the oracle, in namespaces.
//  - `autojoin any` and `autojoin other` with haresources (crm off): the real heartbeat refuses
//    to start (exit 6; "R1 style resource management conflicts with  autojoin set" / "You need
//    either unset autojoin or enable crm"), and tsbeat, given the same /etc/ha.d on the same
//    node, refuses too: `tsbeat start` exits 6 and `tsbeat check` names the autojoin line.
//    So "a third node joins under autojoin any" cannot happen with haresources in either.
//  - `autojoin none` (the default): node1 runs the real heartbeat and node2 tsbeat, both with
//    `node node1 node2`; node3 runs tsbeat with `node node1 node2 node3` and the same authkeys.
//    node3's heartbeats reach both (right key), yet neither lists node3 (`cl_status listnodes`)
//    nor reports it active; each logs the refusal (heartbeat: "ERROR: process_status_message: bad
//    node [node3] in message" and a dump of the message; tsbeat: "ERROR: bad node [node3] in
//    message", rate-limited), and node1 and node2 stay active for each other.
import { afterAll, describe, expect, it } from 'vitest';
import {
  authkeys,
  type Cluster,
  createCluster,
  type HarnessNode,
  HEARTBEAT_BIN,
  haCf,
  nodeStatus,
  readLog,
  startHeartbeat,
  startTsbeat,
  TSBEAT_JS,
  waitFor,
} from '../harness/index.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.destroy();
});

const KEY = 'tsbeat-autojoin';
const env = (n: HarnessNode) => ({ TSBEAT_STATEDIR: `${n.dir}/tsbeat-state`, TSBEAT_RUNDIR: '/run/tsbeat' });
const timing = { keepalive: 1, deadtime: 5, warntime: 3, initdead: 10 } as const;

describe('autojoin other/any with haresources', () => {
  it.each(['any', 'other'])(
    'autojoin %s: the real heartbeat and tsbeat both refuse to start',
    async (mode) => {
      cluster = await createCluster({ nodes: 2 });
      const [a, b] = cluster.nodes as [HarnessNode, HarnessNode];
      a.writeHaD({
        'ha.cf': haCf(a, { nodes: [a, b], media: ['bcast eth0'], ...timing, extra: [`autojoin ${mode}`] }),
        authkeys: authkeys('sha1', KEY),
        haresources: '',
      });
      const hb = await a.exec([HEARTBEAT_BIN], { timeoutMs: 60_000 });
      const hbText = `${hb.stderr}${readLog(a)}`;
      expect(hb.code).toBe(6);
      expect(hbText).toContain('ERROR: R1 style resource management conflicts with  autojoin set');
      expect(hbText).toContain('ERROR: You need either unset autojoin or enable crm');
      expect((await a.exec(['test', '-e', '/run/heartbeat.pid'])).code).not.toBe(0);

      const start = await a.exec([process.execPath, TSBEAT_JS, 'start'], { env: env(a), timeoutMs: 60_000 });
      expect(start.code).toBe(6);
      expect(start.stderr).toMatch(
        new RegExp(`ha\\.cf:\\d+:\\d+: error: autojoin ${mode} conflicts with haresources`),
      );
      const check = await a.exec([process.execPath, TSBEAT_JS, 'check', '-q'], {
        env: env(a),
        timeoutMs: 60_000,
      });
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(
        /error: autojoin .* \(heartbeat 3\.0\.6: "R1 style resource management conflicts with autojoin set", it does not start either/,
      );
      await cluster.destroy();
      cluster = undefined;
    },
    180_000,
  );
});

describe('autojoin none', () => {
  it('a third node with the right key is not let in, by the real heartbeat nor by tsbeat', async () => {
    cluster = await createCluster({ nodes: 3 });
    const [a, b, c] = cluster.nodes as [HarnessNode, HarnessNode, HarnessNode];
    for (const n of [a, b])
      n.writeHaD({
        'ha.cf': haCf(n, { nodes: [a, b], media: ['bcast eth0'], ...timing, extra: ['autojoin none'] }),
        authkeys: authkeys('sha1', KEY),
        haresources: '',
      });
    c.writeHaD({
      'ha.cf': haCf(c, { nodes: [a, b, c], media: ['bcast eth0'], ...timing }),
      authkeys: authkeys('sha1', KEY),
      haresources: '',
    });
    await Promise.all([
      startHeartbeat(a),
      startTsbeat(b, { args: ['--foreground'], env: env(b) }),
      startTsbeat(c, { args: ['--foreground'], env: env(c) }),
    ]);
    await waitFor(async () => (await nodeStatus(a, 'node2')) === 'active', 90_000, {
      description: 'heartbeat on node1 sees node2 active',
    });
    const clStatus = (n: HarnessNode, args: readonly string[]) =>
      n.exec([process.execPath, TSBEAT_JS.replace(/tsbeat\.js$/, 'cl_status.js'), ...args], {
        env: env(n),
        timeoutMs: 30_000,
      });
    await waitFor(async () => (await clStatus(b, ['nodestatus', 'node1'])).stdout === 'active\n', 90_000, {
      description: 'tsbeat on node2 sees node1 active',
    });
    // node3 hears the other two: its log says so (its own status words are not the point here).
    await waitFor(async () => /Status update for node node2: status active/.test(readLog(c)), 90_000, {
      description: 'node3 hears node2',
    });
    await waitFor(async () => /bad node \[node3\] in message/.test(readLog(b)), 30_000, {
      description: 'tsbeat on node2 refuses node3',
    });
    await waitFor(
      async () => /ERROR: process_status_message: bad node \[node3\] in message/.test(readLog(a)),
      30_000,
      { description: 'heartbeat on node1 refuses node3' },
    );
    // Only the prefix differs: heartbeat names its C function, tsbeat does not (src/node/words.ts).
    const hbList = await a.exec(['cl_status', 'listnodes'], { timeoutMs: 30_000 });
    expect(hbList.stdout.split('\n').filter(Boolean).sort()).toEqual(['node1', 'node2']);
    const tsList = await clStatus(b, ['listnodes']);
    expect(tsList.stdout.split('\n').filter(Boolean).sort()).toEqual(['node1', 'node2']);
    expect((await a.exec(['cl_status', 'nodestatus', 'node3'])).code).not.toBe(0);
    expect((await clStatus(b, ['nodestatus', 'node3'])).code).not.toBe(0);
    expect(await nodeStatus(a, 'node2')).toBe('active');
    expect((await clStatus(b, ['nodestatus', 'node1'])).stdout).toBe('active\n');
  }, 240_000);
});
