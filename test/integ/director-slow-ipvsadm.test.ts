/**
 * A slow ipvsadm never holds a removal back for long: each repair read (`-L -n` and
 * `--thresholds`) takes 1.5 s here, three times checkinterval, through a wrapper around the
 * lab's FAKE ipvsadm (a stand-in for kernel IPVS, which this host lacks). Before the fix the
 * director queued one read per checkinterval whatever the backlog, so after a run-up the queue
 * held tens of seconds of reads and a real server's failure waited behind all of them (found by
 * `npm run bench -- director` on a loaded machine). Now at most one read waits: the removal comes
 * within a few reads. Needs nothing but python3 and the build.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO, TSBEAT } from '../support/cli.js';

const FAKE = join(REPO, 'test', 'fixtures', 'director', 'fake-ipvsadm');
const dir = mkdtempSync(join(tmpdir(), 'tsbeat-slowipvs-'));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

it('with reads slower than checkinterval, a failed real is still quiesced within a few reads (fake ipvsadm stand-in)', async () => {
  const port = 20000 + ((process.pid + 7) % 20000);
  const server = http.createServer((q, r) => r.end(q.url === '/test.html' ? 'OK\n' : 'no\n'));
  await new Promise<void>((ok) => server.listen(port, '127.0.0.2', ok));
  const stamps = join(dir, 'stamps.log');
  const state = join(dir, 'state.json');
  const wrapper = join(dir, 'ipvsadm');
  writeFileSync(
    wrapper,
    `#!/bin/sh\ncase "$1" in -L) sleep 1.5;; esac\necho "$(date +%s%3N) $*" >> '${stamps}'\nexec python3 '${FAKE}' "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  const cf = join(dir, 'slow.cf');
  writeFileSync(
    cf,
    `checktimeout=2\nnegotiatetimeout=2\ncheckinterval=1\nquiescent=yes\nlogfile="${dir}/director.log"\n\nvirtual=192.168.77.201:80\n\treal=127.0.0.2:${port} gate\n\tservice=http\n\trequest="test.html"\n\treceive="OK"\n\tchecktype=negotiate\n`,
  );
  child = spawn(process.execPath, [TSBEAT, 'director', '-d', cf, 'start'], {
    env: {
      ...process.env,
      FAKE_IPVS_STATE: state,
      FAKE_IPVS_LOG: join(dir, 'calls.log'),
      TSBEAT_IPVSADM: wrapper,
      TSBEAT_DIRECTOR_RUNDIR: join(dir, 'run'),
    },
    stdio: 'ignore',
  });
  const weight = (): number | undefined => {
    try {
      const st = JSON.parse(readFileSync(state, 'utf8')) as {
        services: Record<string, { reals: Record<string, { w: number }> }>;
      };
      return Object.values(st.services)[0]?.reals[`127.0.0.2:${port}`]?.w;
    } catch {
      return undefined;
    }
  };
  await until('the real at weight 1', () => weight() === 1, 60_000);
  // Run-up: long enough for an unbounded queue to hold far more reads than the bound below.
  await sleep(12_000);
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
  const failedAt = Date.now();
  await until('the real quiesced', () => weight() === 0, 60_000);
  const tookMs = Date.now() - failedAt;
  // Bounded: one read running and one waiting (2 × 2 calls × 1.5 s), the check, the command;
  // the unbounded queue took more than 20 s here.
  expect(tookMs).toBeLessThan(15_000);
}, 120_000);
