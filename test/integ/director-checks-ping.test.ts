/**
 * The director's ping checks (checktype=ping, and checktype=connect on a UDP service, which
 * ldirectord also checks by ping) where an address does not answer. That needs an address no
 * one answers for and no traffic leaving the machine, so the system ping (iputils) runs inside
 * a network namespace made here: `lo` up and a veth pair, one end 10.203.0.1/24 and the other
 * without an address, so 10.203.0.2 is on-link but nothing answers its ARP, and 10.204.0.1 has no
 * route at all. `ping` on the PATH
 * of this test is a two-line wrapper that logs its arguments and execs the real ping in that
 * namespace (named so here; the check code runs unchanged). Proves: 127.0.0.1 is up; the silent
 * address is down after `checkcount` attempts of `checktimeout` seconds each; the unroutable
 * one is down; a UDP connect check pings. Needs root (`ip netns`); the namespace is deleted
 * after the run, also when a test fails.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type CheckKind, runCheck } from '../../src/director/checks.js';
import type { CheckOutcome } from '../../src/director/core.js';
import { parseDirectorConfig } from '../../src/director/parse.js';
import { formatDiagnostic } from '../../src/lib/diagnostic.js';

const NS = `tsbdchk${process.pid}${randomBytes(2).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'tsbeat-dping-'));
const calls = join(dir, 'ping-calls');
const savedPath = process.env['PATH'];

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

beforeAll(() => {
  expect(process.getuid?.(), 'this test creates a network namespace: run it as root').toBe(0);
  const realPing = execFileSync('sh', ['-c', 'command -v ping'], { encoding: 'utf8' }).trim();
  ip('netns', 'add', NS);
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  // A veth pair inside the namespace: d1 has no address, so nothing answers ARP for 10.203.0.2.
  ip('-n', NS, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1');
  ip('-n', NS, 'addr', 'add', '10.203.0.1/24', 'dev', 'd0');
  ip('-n', NS, 'link', 'set', 'd0', 'up');
  ip('-n', NS, 'link', 'set', 'd1', 'up');
  const wrapper = join(dir, 'ping');
  writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${calls}\nexec ip netns exec ${NS} ${realPing} "$@"\n`);
  chmodSync(wrapper, 0o755);
  process.env['PATH'] = `${dir}:${savedPath}`;
});

afterAll(() => {
  process.env['PATH'] = savedPath;
  try {
    ip('netns', 'del', NS);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

beforeEach(() => writeFileSync(calls, ''));

/** The ping invocations since the test began, one argument string each. */
function pings(): string[] {
  return readFileSync(calls, 'utf8').split('\n').filter(Boolean);
}

async function check(
  real: string,
  kind: CheckKind,
  lines: readonly string[],
): Promise<{ outcome: CheckOutcome; seconds: number }> {
  const text = `checktimeout=1\nvirtual=10.99.0.1:53\n\treal=${real}:53 gate\n${lines.map((l) => `\t${l}\n`).join('')}`;
  const parsed = parseDirectorConfig(text, 'ping.cf');
  expect(parsed.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
  const v = parsed.config?.virtuals[0];
  const r = v?.reals[0];
  if (v === undefined || r === undefined) throw new Error('ping.cf: no virtual service or real parsed');
  const t0 = process.hrtime.bigint();
  const outcome = await runCheck(v, r, kind);
  return { outcome, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

it('127.0.0.1 answers inside the namespace: up after one ping', async () => {
  const { outcome } = await check('127.0.0.1', 'ping', ['checktype=ping']);
  expect(outcome).toMatchObject({ ok: true, reason: 'ping 127.0.0.1: exit 0' });
  expect(pings()).toEqual(['-n -q -c 1 -W 1 127.0.0.1']);
});

it('an on-link address nobody answers is down after checkcount attempts of checktimeout each', async () => {
  const { outcome, seconds } = await check('10.203.0.2', 'ping', ['checktype=ping', 'checkcount=2']);
  expect(outcome).toMatchObject({ ok: false, reason: 'ping 10.203.0.2: exit 1' });
  expect(pings()).toEqual(['-n -q -c 1 -W 1 10.203.0.2', '-n -q -c 1 -W 1 10.203.0.2']);
  expect(seconds).toBeGreaterThanOrEqual(1.5);
  expect(seconds).toBeLessThan(20);
});

it('an address without a route is down (ping exits 2)', async () => {
  const { outcome } = await check('10.204.0.1', 'ping', ['checktype=ping']);
  expect(outcome).toMatchObject({ ok: false, reason: 'ping 10.204.0.1: exit 2' });
});

it('a connect check of a UDP service is a ping, as in ldirectord', async () => {
  const up = await check('127.0.0.1', 'connect', ['protocol=udp', 'checktype=connect']);
  expect(up.outcome).toMatchObject({ ok: true, reason: 'ping 127.0.0.1: exit 0' });
  const down = await check('10.203.0.2', 'connect', ['protocol=udp', 'checktype=connect']);
  expect(down.outcome).toMatchObject({ ok: false, reason: 'ping 10.203.0.2: exit 1' });
  expect(pings()).toEqual(['-n -q -c 1 -W 1 127.0.0.1', '-n -q -c 1 -W 1 10.203.0.2']);
});
