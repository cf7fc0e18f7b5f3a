/**
 * Command-stream compatibility with the real ldirectord (Debian's package, `ldirectord -d`),
 * both driving the fake ipvsadm in test/fixtures/director/ (a copy of the lab's: a stand-in for
 * kernel IPVS, which this host lacks; the real-IPVS test is test/integ/director-ipvs-vm.test.ts).
 * The same fixed scenario runs against each daemon in turn: the tutorial's ldirectord.cf (two
 * reals, negotiate test.html/OK, quiescent=yes), both HTTP real servers up; one stops
 * answering; it answers again; SIGTERM.
 * The mutating ipvsadm commands (everything but -L) must be equal as multisets (ldirectord's
 * start order follows a Perl hash, so order is not compared).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO, TSBEAT } from '../support/cli.js';

const FAKE = join(REPO, 'test', 'fixtures', 'director', 'fake-ipvsadm');
const LDIRECTORD = '/usr/sbin/ldirectord';
const dir = mkdtempSync(join(tmpdir(), 'tsbeat-ldircmp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PORT = 20000 + (process.pid % 20000);
const REALS = ['127.0.0.2', '127.0.0.3'];

function config(name: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `checktimeout=2
checkinterval=1
logfile="${dir}/${name}.log"
quiescent=yes

virtual=192.168.77.200:80
\treal=${REALS[0]}:${PORT} gate
\treal=${REALS[1]}:${PORT} gate
\tservice=http
\trequest="test.html"
\treceive="OK"
\tscheduler=rr
\tprotocol=tcp
\tchecktype=negotiate
`,
  );
  return path;
}

function serve(ip: string): Promise<http.Server> {
  const s = http.createServer((q, r) => r.end(q.url === '/test.html' ? `OK ${ip}\n` : 'nope\n'));
  return new Promise((ok, ko) => {
    s.once('error', ko);
    s.listen(PORT, ip, () => ok(s));
  });
}

function close(s: http.Server): Promise<void> {
  s.closeAllConnections();
  return new Promise((ok) => s.close(() => ok()));
}

function weights(stateFile: string): Record<string, number> {
  try {
    const st = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      services: Record<string, { reals: Record<string, { w: number }> }>;
    };
    const out: Record<string, number> = {};
    for (const s of Object.values(st.services)) for (const [r, d] of Object.entries(s.reals)) out[r] = d.w;
    return out;
  } catch {
    return {};
  }
}

async function until(what: string, cond: () => boolean, timeoutMs = 40_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function scenario(
  label: string,
  start: (env: NodeJS.ProcessEnv, cwd: string) => ChildProcess,
): Promise<string[]> {
  const cwd = join(dir, label);
  rmSync(cwd, { recursive: true, force: true });
  mkdirSync(cwd);
  copyFileSync(FAKE, join(cwd, 'ipvsadm'));
  const state = join(cwd, 'ipvs-state.json');
  const calls = join(cwd, 'calls.log');
  const env = { ...process.env, FAKE_IPVS_STATE: state, FAKE_IPVS_LOG: calls };
  const a = REALS[0] as string;
  const b = REALS[1] as string;
  let sa = await serve(a);
  const sb = await serve(b);
  const child = start(env, cwd);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    await until(`${label}: both reals at weight 1`, () => {
      const w = weights(state);
      return w[`${a}:${PORT}`] === 1 && w[`${b}:${PORT}`] === 1;
    });
    await close(sa);
    await until(`${label}: ${a} quiesced`, () => weights(state)[`${a}:${PORT}`] === 0);
    sa = await serve(a);
    await until(`${label}: ${a} restored`, () => weights(state)[`${a}:${PORT}`] === 1);
    child.kill('SIGTERM');
    await until(`${label}: exit`, () => child.exitCode !== null || child.signalCode !== null);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${stderr.slice(-2000)}`);
  } finally {
    await close(sa);
    await close(sb);
  }
  return readFileSync(calls, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !/^ipvsadm -L\b/.test(l))
    .map((l) => l.replace(/\s+/g, ' ').trim());
}

it.runIf(existsSync(LDIRECTORD))(
  "the stand-in (fake ipvsadm) command stream of tsbeat director equals the real ldirectord's as a multiset",
  async () => {
    const real = await scenario('ldirectord', (env, cwd) =>
      // -d: foreground, and ./ipvsadm in the current directory replaces the system one.
      spawn(LDIRECTORD, ['-d', config('ldir-cmp.cf'), 'start'], {
        cwd,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    const ours = await scenario('tsbeat', (env, cwd) =>
      spawn(process.execPath, [TSBEAT, 'director', '-d', config('ts-cmp.cf'), 'start'], {
        cwd,
        env: { ...env, TSBEAT_IPVSADM: join(cwd, 'ipvsadm'), TSBEAT_DIRECTOR_RUNDIR: join(cwd, 'run') },
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    expect(real.length).toBeGreaterThanOrEqual(9);
    expect([...ours].sort()).toEqual([...real].sort());
  },
  180_000,
);
