/**
 * The ICMP edge of ping nodes (src/ping/pinger.ts). With the real system `ping` against the
 * loopback addresses (127.0.0.1 and ::1, the only hosts a test may ping): a probe that is
 * answered reports a reply; one to a ping6 host goes out over ICMPv6. With a stand-in `ping`
 * (a shell script, named so here) that records its arguments and exits as told: exit 1 (no
 * answer) reports nothing and logs nothing, any other failure is logged once per host until
 * it answers again, a missing program is a clear error, and while one echo waits for its
 * answer further probes of that host are skipped instead of piling up processes.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemPinger } from '../../../src/ping/pinger.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbeat-pinger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

/** A stand-in ping: logs its arguments, sleeps $SLEEP, exits with the code in file `rc`. */
function standIn(): string {
  const p = join(dir, 'stand-in-ping');
  writeFileSync(
    p,
    `#!/bin/sh\necho "$*" >> ${dir}/args\nsleep "$(cat ${dir}/sleep 2>/dev/null || echo 0)"\necho "ping: stand-in failure" >&2\nexit "$(cat ${dir}/rc)"\n`,
  );
  chmodSync(p, 0o755);
  return p;
}

describe('SystemPinger', () => {
  it('real ping: loopback over IPv4 and IPv6 answers', async () => {
    const replies: string[] = [];
    const p = new SystemPinger({
      onReply: (h) => replies.push(h),
      log: () => {},
      replyTimeoutMs: 1000,
      ipv6Hosts: new Set(['::1']),
    });
    p.probe('127.0.0.1');
    p.probe('::1');
    await until(() => replies.length === 2);
    expect(replies.sort()).toEqual(['127.0.0.1', '::1']);
    p.close();
  });

  it('stand-in ping: exit 1 is silence, other failures are logged once, -6 for ping6 hosts', async () => {
    const cmd = standIn();
    writeFileSync(join(dir, 'rc'), '1');
    const replies: string[] = [];
    const logs: string[] = [];
    const p = new SystemPinger({
      onReply: (h) => replies.push(h),
      log: (l, m) => logs.push(`${l}: ${m}`),
      replyTimeoutMs: 1000,
      ipv6Hosts: new Set(['fd00::1']),
      command: cmd,
    });
    p.probe('10.0.0.1');
    p.probe('fd00::1');
    await until(
      () => p.counts.probes === 2 && readFileSync(join(dir, 'args'), 'utf8').split('\n').length === 3,
    );
    await sleep(200);
    expect(replies).toEqual([]);
    expect(logs).toEqual([]);
    expect(readFileSync(join(dir, 'args'), 'utf8').split('\n').filter(Boolean).sort()).toEqual([
      '-6 -n -c 1 -W 1 fd00::1',
      '-n -c 1 -W 1 10.0.0.1',
    ]);
    writeFileSync(join(dir, 'rc'), '2');
    p.probe('10.0.0.1');
    await sleep(300);
    p.probe('10.0.0.1');
    await sleep(300);
    expect(logs).toEqual([
      'error: ping node host 10.0.0.1: ping 10.0.0.1 failed (exit 2): ping: stand-in failure; it counts as not answering',
    ]);
    writeFileSync(join(dir, 'rc'), '0');
    p.probe('10.0.0.1');
    await until(() => replies.length === 1);
    expect(logs.at(-1)).toBe('info: ping node host 10.0.0.1: ping works again');
    p.close();
  });

  it('stand-in ping: one echo in flight per host', async () => {
    const cmd = standIn();
    writeFileSync(join(dir, 'rc'), '0');
    writeFileSync(join(dir, 'sleep'), '1');
    const replies: string[] = [];
    const p = new SystemPinger({
      onReply: (h) => replies.push(h),
      log: () => {},
      replyTimeoutMs: 1000,
      command: cmd,
    });
    for (let i = 0; i < 5; i++) p.probe('10.0.0.9');
    await until(() => replies.length === 1, 5000);
    expect(p.counts).toEqual({ probes: 1, replies: 1, skipped: 4 });
    rmSync(join(dir, 'sleep'));
    p.close();
  });

  it('a missing ping program is a clear error', async () => {
    const logs: string[] = [];
    const p = new SystemPinger({
      onReply: () => {},
      log: (l, m) => logs.push(`${l}: ${m}`),
      replyTimeoutMs: 1000,
      command: join(dir, 'no-such-ping'),
    });
    p.probe('10.0.0.1');
    await until(() => logs.length === 1);
    expect(logs[0]).toBe(
      'error: ping node host 10.0.0.1: cannot run ping: no "ping" program in PATH (apt-get install iputils-ping); it counts as not answering',
    );
    p.close();
  });
});
