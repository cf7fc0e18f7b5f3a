/**
 * Client children (`respawn USER PROGRAM`, src/respawn/respawn.ts) with real processes run
 * as the current user: a child that is killed is started again and `status` follows it; exit
 * status 100 means "do not respawn me" (heartbeat's rule); a child that keeps dying young is
 * restarted with a growing delay, not in a tight loop; stop() ends the child's whole process
 * group (a grandchild too) and nothing is restarted afterwards; an unknown user is reported
 * and left out. Also the peer client table behind `cl_status clientstatus PEER CLIENT`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { messageFromPairs } from '../../../src/codec/model.js';
import { PeerClientTable } from '../../../src/respawn/client-table.js';
import { ClientChildren } from '../../../src/respawn/respawn.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbeat-respawn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const me = () => ({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}
/** Running (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
function readPid(file: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

describe('respawn', () => {
  it('restarts a killed child, reports it online/offline, and stops its process group', async () => {
    const lines: string[] = [];
    const pidFile = join(dir, 'grandchild.pid');
    const c = new ClientChildren({
      children: [
        {
          failfast: false,
          user: 'me',
          command: '/bin/sh',
          args: ['-c', `sleep 1000 & echo $! > ${pidFile}; wait`],
        },
      ],
      env: { PATH: '/usr/bin:/bin', HA_CURHOST: 'node1' },
      log: (l, m) => lines.push(`${l}: ${m}`),
      lookup: me,
    });
    expect(c.status('sh')).toBe('offline');
    c.start();
    await until(() => c.info()[0]!.pid !== undefined);
    expect(c.status('sh')).toBe('online');
    const first = c.info()[0]!.pid!;
    await until(() => readPid(pidFile) !== undefined);
    const firstGrandchild = readPid(pidFile)!;
    rmSync(pidFile);
    process.kill(first, 'SIGKILL');
    // The killed child's own children live on, as with heartbeat; this test cleans up after it.
    process.kill(firstGrandchild, 'SIGKILL');
    await until(() => c.info()[0]!.pid !== undefined && c.info()[0]!.pid !== first);
    expect(c.info()[0]!.restarts).toBe(1);
    expect(
      lines.some((l) => l.includes('Managed /bin/sh process') && l.includes('killed by signal SIGKILL')),
    ).toBe(true);
    await until(() => readPid(pidFile) !== undefined);
    const grandchild = readPid(pidFile)!;
    expect(alive(grandchild)).toBe(true);
    await c.stop();
    expect(c.status('sh')).toBe('offline');
    await until(() => !alive(grandchild));
    await sleep(300);
    expect(c.info()[0]!.pid).toBeUndefined();
  });

  it('does not respawn after exit status 100', async () => {
    const lines: string[] = [];
    const c = new ClientChildren({
      children: [{ failfast: false, user: 'me', command: '/bin/sh', args: ['-c', 'exit 100'] }],
      env: {},
      log: (l, m) => lines.push(`${l}: ${m}`),
      lookup: me,
    });
    c.start();
    await until(() => lines.some((l) => l.includes('not respawned')));
    await sleep(700);
    expect(c.info()[0]!.restarts).toBe(0);
    await c.stop();
  });

  it('backs off a child that keeps dying young', async () => {
    const starts: number[] = [];
    const c = new ClientChildren({
      children: [{ failfast: false, user: 'me', command: '/bin/sh', args: ['-c', 'exit 1'] }],
      env: {},
      log: (_l, m) => {
        if (m.startsWith('Starting child client')) starts.push(Date.now());
      },
      lookup: me,
    });
    c.start();
    await sleep(3200);
    await c.stop();
    // Delays 500, 1000, 2000 ms: at most 4 starts in 3.2 s (a tight loop would make hundreds).
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts.length).toBeLessThanOrEqual(4);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(starts[1]! - starts[0]! + 200);
  });

  it('reports and leaves out a child whose user does not exist', () => {
    const lines: string[] = [];
    const c = new ClientChildren({
      children: [{ failfast: false, user: 'nosuchuser', command: '/bin/true', args: [] }],
      env: {},
      log: (l, m) => lines.push(`${l}: ${m}`),
      lookup: () => undefined,
    });
    expect(c.info()).toEqual([]);
    expect(lines).toEqual([
      'error: Invalid uid [nosuchuser] specified for client child /bin/true: not started',
    ]);
  });
});

describe('the peer client table', () => {
  it('follows join and leave from the peer, and forgets a dead peer', () => {
    const t = new PeerClientTable('node1');
    const clstat = (from: string, st: string, id: string) => ({
      from,
      type: 'hbapi-clstat',
      msg: messageFromPairs([
        ['t', 'hbapi-clstat'],
        ['st', st],
        ['from_id', id],
      ]),
    });
    expect(t.status('node2', 'ipfail')).toBe('offline');
    t.delivered(clstat('node2', 'join', 'ipfail'));
    expect(t.status('node2', 'ipfail')).toBe('online');
    t.delivered(clstat('node2', 'leave', 'ipfail'));
    expect(t.status('node2', 'ipfail')).toBe('offline');
    t.delivered(clstat('node2', 'join', 'ipfail'));
    t.event({ kind: 'nodeDead', node: 'node2', silentMs: 5000, limitMs: 5000 });
    expect(t.status('node2', 'ipfail')).toBe('offline');
  });
});
