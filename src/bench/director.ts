// Part: `npm run bench -- director [N...]`: tsbeat's director next to the real ldirectord (Debian's
// package, `ldirectord -d`) in the same run, each against N local HTTP real servers on loopback
// (127.0.1.1..N) with the same ldirectord.cf (negotiate test.html/OK, checkinterval=1,
// failurecount=1, quiescent=yes); N defaults to 8 and 48. Figures per daemon and N:
//  - all up: from the daemon's start until every real is in at weight 1;
//  - checks per second: /test.html requests counted at the real servers over a 10 s window,
//    next to the rate the configuration asks for (N per checkinterval);
//  - failure → removal: a real server is closed (connection refused from then on) and the time
//    until the daemon runs `ipvsadm -e ... -w 0` for it, over several rounds.
// IPVS here is a STAND-IN: this host's kernel has no IPVS, so both daemons drive the lab's fake
// ipvsadm (test/fixtures/director/fake-ipvsadm, a copy of ../shared/lab/fakes/ipvsadm) through a
// wrapper that stamps each call with the wall clock when it starts; "removal" is therefore the
// moment the daemon issues the command, not the moment a kernel applies it (the VM test
// test/integ/director-ipvs-vm.test.ts measures that against real IPVS for tsbeat).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const repo = join(here, '..', '..', '..');
const FAKE = join(repo, 'test', 'fixtures', 'director', 'fake-ipvsadm');
const LDIRECTORD = '/usr/sbin/ldirectord';
const TSBEAT = join(repo, 'dist', 'cli', 'tsbeat.js');
const VIP = '192.168.77.200:80';
const WINDOW_MS = 10_000;
const ROUNDS = 5;

interface Figures {
  readonly daemon: string;
  readonly reals: number;
  readonly checksPerS: number;
  /** From the daemon's start until every real is in at weight 1. */
  readonly upMs: number;
  readonly removalMs: number[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(what: string, cond: () => boolean, timeoutMs: number, log?: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) {
      let tail = '';
      try {
        tail = readFileSync(log ?? '', 'utf8')
          .split('\n')
          .slice(-15)
          .join('\n');
      } catch {
        // no log
      }
      throw new Error(
        `bench director: timed out waiting for ${what}${tail ? `; last ipvsadm calls:\n${tail}` : ''}`,
      );
    }
    await sleep(50);
  }
}

/** N HTTP real servers, each on its own loopback address; counts the check requests. */
class RealServers {
  checks = 0;
  private readonly servers = new Map<string, http.Server>();
  readonly port: number;
  constructor(port: number) {
    this.port = port;
  }

  addr(i: number): string {
    return `127.0.1.${i + 1}`;
  }

  async open(i: number): Promise<void> {
    const ip = this.addr(i);
    const s = http.createServer((q, r) => {
      if (q.url === '/test.html') this.checks++;
      r.end(q.url === '/test.html' ? `OK ${ip}\n` : 'nope\n');
    });
    await new Promise<void>((ok, ko) => {
      s.once('error', ko);
      s.listen(this.port, ip, () => ok());
    });
    this.servers.set(ip, s);
  }

  async close(i: number): Promise<void> {
    const s = this.servers.get(this.addr(i));
    if (!s) return;
    this.servers.delete(this.addr(i));
    s.closeAllConnections();
    await new Promise<void>((ok) => s.close(() => ok()));
  }

  async closeAll(): Promise<void> {
    for (const ip of [...this.servers.keys()]) await this.close(Number(ip.split('.')[3]) - 1);
  }
}

function config(path: string, logfile: string, servers: RealServers, n: number): void {
  const reals = Array.from({ length: n }, (_, i) => `\treal=${servers.addr(i)}:${servers.port} gate`).join(
    '\n',
  );
  writeFileSync(
    path,
    `checktimeout=2
negotiatetimeout=2
checkinterval=1
failurecount=1
logfile="${logfile}"
quiescent=yes

virtual=${VIP}
${reals}
\tservice=http
\trequest="test.html"
\treceive="OK"
\tscheduler=rr
\tprotocol=tcp
\tchecktype=negotiate
`,
  );
}

function weights(stateFile: string): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const st = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      services: Record<string, { reals: Record<string, { w: number }> }>;
    };
    for (const s of Object.values(st.services)) for (const [r, d] of Object.entries(s.reals)) out.set(r, d.w);
  } catch {
    // not written yet, or being rewritten
  }
  return out;
}

/** The wall-clock ms of the first `-e ... -r REAL ... -w 0` stamped after `sinceMs`. */
function quiescedAt(stamps: string, real: string, sinceMs: number): number | undefined {
  let text = '';
  try {
    text = readFileSync(stamps, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+) (.*)$/.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const atMs = Number(m[1]) * 1000;
    const args = m[2].split(/\s+/);
    if (atMs < sinceMs || !args.includes('-e')) continue;
    if (args[args.indexOf('-r') + 1] === real && args[args.indexOf('-w') + 1] === '0') return atMs;
  }
  return undefined;
}

async function measure(
  daemon: 'tsbeat' | 'ldirectord',
  n: number,
  dir: string,
  servers: RealServers,
): Promise<Figures> {
  const cwd = join(dir, `${daemon}-${n}`);
  mkdirSync(cwd);
  const state = join(cwd, 'ipvs-state.json');
  const stamps = join(cwd, 'stamps.log');
  const wrapper = join(cwd, 'ipvsadm');
  writeFileSync(wrapper, `#!/bin/sh\necho "$(date +%s.%N) $*" >> '${stamps}'\nexec python3 '${FAKE}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const cf = join(cwd, 'bench.cf');
  config(cf, join(cwd, 'director.log'), servers, n);
  const env = { ...process.env, FAKE_IPVS_STATE: state, FAKE_IPVS_LOG: join(cwd, 'calls.log') };
  const child: ChildProcess =
    daemon === 'ldirectord'
      ? // -d: foreground; ./ipvsadm in the working directory replaces the system one.
        spawn(LDIRECTORD, ['-d', cf, 'start'], { cwd, env, stdio: 'ignore' })
      : spawn(process.execPath, [TSBEAT, 'director', '-d', cf, 'start'], {
          cwd,
          env: { ...env, TSBEAT_IPVSADM: wrapper, TSBEAT_DIRECTOR_RUNDIR: join(cwd, 'run') },
          stdio: 'ignore',
        });
  try {
    const key = (i: number): string => `${servers.addr(i)}:${servers.port}`;
    const allUp = (): boolean => {
      const w = weights(state);
      for (let i = 0; i < n; i++) if (w.get(key(i)) !== 1) return false;
      return true;
    };
    const startedAt = Date.now();
    // ldirectord reads the table before every change: through the fake, ~4 calls per real.
    await until(`${daemon}: all ${n} reals at weight 1`, allUp, 60_000 + n * 5_000);
    const upMs = Date.now() - startedAt;
    await sleep(1500);
    const c0 = servers.checks;
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const checksPerS = ((servers.checks - c0) * 1000) / (performance.now() - t0);
    const removalMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const i = (round * 7) % n;
      await until(`${daemon}: ${key(i)} at weight 1`, () => weights(state).get(key(i)) === 1, 60_000);
      // Land the failure at a different phase of the check cycle each round.
      await sleep(200 + ((round * 373) % 1000));
      const failedAt = Date.now();
      await servers.close(i);
      let seen: number | undefined;
      await until(
        `${daemon}: ${key(i)} quiesced`,
        () => {
          seen = quiescedAt(stamps, key(i), failedAt);
          return seen !== undefined;
        },
        60_000,
        stamps,
      );
      removalMs.push((seen as number) - failedAt);
      await servers.open(i);
      await until(`${daemon}: ${key(i)} back at weight 1`, () => weights(state).get(key(i)) === 1, 60_000);
    }
    return { daemon, reals: n, checksPerS, upMs, removalMs };
  } finally {
    child.kill('SIGTERM');
    const end = Date.now() + 20_000;
    while (child.exitCode === null && child.signalCode === null && Date.now() < end) await sleep(50);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Sizes come from the numbers on the bench command line (`npm run bench -- director 8 200`). */
export async function run(
  argv: readonly string[] = process.argv.slice(2).filter((a) => /^\d+$/.test(a)),
): Promise<void> {
  const sizes = argv.length > 0 ? argv.map(Number) : [8, 48];
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 250)) {
    process.stderr.write('bench director: each N must be an integer 1-250 (real servers on 127.0.1.1..N)\n');
    process.exitCode = 2;
    return;
  }
  for (const [what, path] of [
    ['the real ldirectord (apt-get install ldirectord)', LDIRECTORD],
    ['tsbeat (npm run build)', TSBEAT],
    ['the fake ipvsadm', FAKE],
  ] as const) {
    if (!existsSync(path)) {
      process.stderr.write(`bench director: ${path} is missing: needs ${what}\n`);
      process.exitCode = 2;
      return;
    }
  }
  if (spawnSync('python3', ['--version']).status !== 0) {
    process.stderr.write('bench director: python3 is missing (the fake ipvsadm is a python3 script)\n');
    process.exitCode = 2;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsbeat-bench-director-'));
  const port = 20000 + (process.pid % 20000);
  const servers = new RealServers(port);
  const rows: Figures[] = [];
  let failed = false;
  try {
    for (const n of sizes) {
      for (let i = 0; i < n; i++) await servers.open(i);
      for (const daemon of ['ldirectord', 'tsbeat'] as const)
        rows.push(await measure(daemon, n, dir, servers));
      await servers.closeAll();
    }
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    await servers.closeAll();
    // Kept after a failure: the daemons' logs and ipvsadm calls are what explains it.
    if (failed) process.stderr.write(`bench director: files kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    'IPVS: STAND-IN (fake ipvsadm; removal = when the daemon issues ipvsadm -e ... -w 0)\n' +
      'checkinterval=1 failurecount=1 negotiate http, real servers on loopback\n',
  );
  process.stdout.write(
    `${'daemon'.padEnd(12)}${'reals'.padStart(6)}${'all up s'.padStart(9)}${'asked/s'.padStart(9)}${'checks/s'.padStart(10)}` +
      `${'removal median ms'.padStart(19)}${'max ms'.padStart(8)}  rounds\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.daemon.padEnd(12)}${String(r.reals).padStart(6)}${(r.upMs / 1000).toFixed(1).padStart(9)}${String(r.reals).padStart(9)}` +
        `${r.checksPerS.toFixed(1).padStart(10)}${median(r.removalMs).toFixed(0).padStart(19)}` +
        `${Math.max(...r.removalMs)
          .toFixed(0)
          .padStart(8)}  ${r.removalMs.map((x) => x.toFixed(0)).join(' ')}\n`,
    );
  }
}
