// Part: IPaddr2 benchmark: time to start a virtual IP, side by side in one run on the same pair of
// network namespaces — the stock ocf:heartbeat:IPaddr2 (and its heartbeat wrapper), tsbeat's
// executables, and tsbeat's in-process fast path as the resource manager runs it. Two cases: a
// plain VIP, and the LVS-DR takeover (VIP moved from lo to the NIC, as in the tutorial).
//
// Needs root (namespaces). The work happens in a worker process started with `ip netns exec`,
// because a process cannot move itself into a network namespace; the worker prints JSON, this
// side prints the table. Everything it creates (two namespaces, a veth pair, a temp HA_RSCTMP) is
// removed at the end, also on failure.

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type HeartbeatRunContext, runHeartbeatStyle, runOcfInProcess } from '../agents/builtin.js';
import { prewarmInProcessRuntime, shutdownInProcessRuntime } from '../agents/runtime.js';

const STOCK_OCF = '/usr/lib/ocf/resource.d/heartbeat/IPaddr2';
const STOCK_HB = '/etc/ha.d/resource.d/IPaddr2';
const ROUNDS = 20;
const NET = '10.93.0';
const VIP = `${NET}.100`;

const here = fileURLToPath(import.meta.url);
const repo = join(here, '..', '..', '..');

interface Row {
  readonly name: string;
  readonly ms: number[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Worker side (inside the namespace).

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function ipCmd(...args: string[]): void {
  spawnSync('ip', args, { stdio: 'ignore' });
}

/** Run a program and time it until it exits (what a manager waits for). */
function timeExec(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; code: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child: ChildProcess = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code: code ?? 1 }));
  });
}

function ocfEnv(rscTmp: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RESOURCE_INSTANCE: 'bench',
    OCF_RESKEY_ip: VIP,
    OCF_RESKEY_cidr_netmask: '24',
    OCF_RESKEY_nic: 'eth0',
    HA_RSCTMP: rscTmp,
    ...extra,
  };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}

function ctxFor(env: NodeJS.ProcessEnv): HeartbeatRunContext {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  return { env: clean, signal: new AbortController().signal, log: () => undefined };
}

async function worker(): Promise<void> {
  const rscTmp = process.env['HA_RSCTMP'] ?? '/tmp';
  const env = ocfEnv(rscTmp);
  const hbArg = `${VIP}/24/eth0`;
  const haveStock = existsSync(STOCK_OCF);
  const haveStockHb = existsSync(STOCK_HB);
  const rows: Row[] = [];
  const row = (name: string): Row => {
    const r = { name, ms: [] as number[] };
    rows.push(r);
    return r;
  };
  const errors: string[] = [];
  const check = (what: string, code: number): void => {
    if (code !== 0) errors.push(`${what} returned ${code}`);
  };

  // Case 1: a plain VIP (ocf start).
  const stockOcf = row('plain VIP: stock ocf:heartbeat:IPaddr2 start');
  const tsExe = row('plain VIP: tsbeat ocf/IPaddr2 start (executable)');
  const tsCold = row('plain VIP: tsbeat in-process start, cold (spawns ip, xargs)');
  const tsWarm = row('plain VIP: tsbeat in-process start (resource manager path)');
  // Case 2: LVS-DR takeover, heartbeat style (VIP on lo /32 → NIC, GARP).
  const stockHb = row('LVS takeover: stock resource.d/IPaddr2 start');
  const tsHbExe = row('LVS takeover: tsbeat resource.d/IPaddr2 start (executable)');
  const tsHbWarm = row('LVS takeover: tsbeat in-process start (resource manager path)');

  const stopAll = async (): Promise<void> => {
    await runOcfInProcess('IPaddr2', 'stop', ctxFor(env));
  };
  const putOnLo = (): void => {
    ipCmd('addr', 'del', `${VIP}/24`, 'dev', 'eth0');
    ipCmd('addr', 'add', `${VIP}/32`, 'dev', 'lo', 'label', 'lo:0');
    rmSync(join(rscTmp, VIP), { force: true });
  };
  const clearLo = (): void => {
    ipCmd('addr', 'del', `${VIP}/32`, 'dev', 'lo');
  };

  prewarmInProcessRuntime();
  await sleep(300);
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate the order so that neither side always runs right after the other.
    const order = i % 2 === 0 ? [0, 1, 2, 3] : [3, 2, 1, 0];
    for (const which of order) {
      await stopAll();
      await sleep(150);
      if (which === 0 && haveStock) {
        const r = await timeExec(STOCK_OCF, ['start'], env);
        check('stock start', r.code);
        stockOcf.ms.push(r.ms);
      } else if (which === 1) {
        const r = await timeExec(join(repo, 'ocf', 'IPaddr2'), ['start'], env);
        check('tsbeat executable start', r.code);
        tsExe.ms.push(r.ms);
      } else if (which === 2) {
        shutdownInProcessRuntime();
        const t0 = performance.now();
        const r = await runOcfInProcess('IPaddr2', 'start', ctxFor(env));
        tsCold.ms.push(performance.now() - t0);
        check('tsbeat in-process cold start', r.rc);
        prewarmInProcessRuntime();
        await sleep(300);
      } else if (which === 3) {
        const t0 = performance.now();
        const r = await runOcfInProcess('IPaddr2', 'start', ctxFor(env));
        tsWarm.ms.push(performance.now() - t0);
        check('tsbeat in-process start', r.rc);
        await sleep(200);
      }
    }
    await stopAll();
    for (const which of i % 2 === 0 ? [0, 1, 2] : [2, 1, 0]) {
      putOnLo();
      await sleep(150);
      if (which === 0 && haveStockHb) {
        const r = await timeExec(STOCK_HB, [hbArg, 'start'], env);
        check('stock hb start', r.code);
        stockHb.ms.push(r.ms);
      } else if (which === 1) {
        const r = await timeExec(join(repo, 'resource.d', 'IPaddr2'), [hbArg, 'start'], env);
        check('tsbeat hb executable start', r.code);
        tsHbExe.ms.push(r.ms);
      } else if (which === 2) {
        const t0 = performance.now();
        const r = await runHeartbeatStyle('IPaddr2', [hbArg], 'start', ctxFor(env));
        tsHbWarm.ms.push(performance.now() - t0);
        check('tsbeat in-process hb start', r.rc);
        await sleep(200);
      }
      // Give the VIP back to lo the way the implementation that took it would.
      await runHeartbeatStyle('IPaddr2', [hbArg], 'stop', ctxFor(env));
    }
  }
  await stopAll();
  clearLo();
  shutdownInProcessRuntime();
  process.stdout.write(`${JSON.stringify({ rows: rows.filter((r) => r.ms.length > 0), errors })}\n`);
}

// ---------------------------------------------------------------------------------------------
// Orchestrator side.

function sh(args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

/** Run the benchmark and print its figures. */
export async function run(): Promise<void> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    process.stdout.write('skipped: the IPaddr2 benchmark needs root (network namespaces)\n');
    return;
  }
  const prefix = `tsbbench${process.pid}`;
  const nsA = `${prefix}a`;
  const nsB = `${prefix}b`;
  const rscTmp = mkdtempSync(join(tmpdir(), 'tsbeat-bench-'));
  const cleanup = (): void => {
    for (const ns of [nsA, nsB]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    rmSync(rscTmp, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  try {
    sh(['netns', 'add', nsA]);
    sh(['netns', 'add', nsB]);
    sh(['link', 'add', `${prefix}x`, 'type', 'veth', 'peer', 'name', `${prefix}y`]);
    sh(['link', 'set', `${prefix}x`, 'netns', nsA, 'name', 'eth0']);
    sh(['link', 'set', `${prefix}y`, 'netns', nsB, 'name', 'eth0']);
    sh(['-n', nsA, 'addr', 'add', `${NET}.1/24`, 'brd', '+', 'dev', 'eth0']);
    sh(['-n', nsB, 'addr', 'add', `${NET}.2/24`, 'brd', '+', 'dev', 'eth0']);
    for (const ns of [nsA, nsB]) {
      sh(['-n', ns, 'link', 'set', 'eth0', 'up']);
      sh(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, HA_RSCTMP: rscTmp };
    delete env['NODE_EXTRA_CA_CERTS'];
    const r = spawnSync('ip', ['netns', 'exec', nsA, process.execPath, here, '--bench-worker'], {
      env,
      encoding: 'utf8',
      timeout: 600_000,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let result: { rows: Row[]; errors: string[] };
    try {
      result = JSON.parse(line) as { rows: Row[]; errors: string[] };
    } catch {
      process.stdout.write(`benchmark worker failed (exit ${r.status}):\n${r.stdout}${r.stderr}\n`);
      process.exitCode = 1;
      return;
    }
    const width = Math.max(...result.rows.map((x) => x.name.length));
    process.stdout.write(
      `${'start of a virtual IP'.padEnd(width)}  median     p90      min   (ms, ${ROUNDS} rounds)\n`,
    );
    for (const x of result.rows) {
      const f = (n: number): string => n.toFixed(2).padStart(7);
      process.stdout.write(
        `${x.name.padEnd(width)}  ${f(median(x.ms))}  ${f(pct(x.ms, 90))}  ${f(Math.min(...x.ms))}\n`,
      );
    }
    const med = (name: string): number | undefined => {
      const x = result.rows.find((r) => r.name.startsWith(name));
      return x ? median(x.ms) : undefined;
    };
    const ratios: [string, number | undefined, number | undefined][] = [
      [
        'plain VIP, stock ocf vs tsbeat in-process',
        med('plain VIP: stock'),
        med('plain VIP: tsbeat in-process start ('),
      ],
      [
        'LVS takeover, stock resource.d vs tsbeat in-process',
        med('LVS takeover: stock'),
        med('LVS takeover: tsbeat in-process'),
      ],
      [
        'plain VIP, tsbeat executable vs tsbeat in-process',
        med('plain VIP: tsbeat ocf/'),
        med('plain VIP: tsbeat in-process start ('),
      ],
    ];
    for (const [label, a, b] of ratios) {
      if (a === undefined || b === undefined || b === 0) continue;
      const x = a / b;
      const verdict = label.startsWith('plain VIP, stock')
        ? x >= 20
          ? '  (target >= 20x: met)'
          : '  (target >= 20x: NOT met)'
        : '';
      process.stdout.write(`speed-up, ${label}: ${x.toFixed(1)}x${verdict}\n`);
    }
    for (const e of result.errors) process.stdout.write(`error: ${e}\n`);
    process.stdout.write(
      `(node ${process.version}; median of ${ROUNDS}; stock = resource-agents 4.12 / heartbeat 3.0.6 scripts)\n`,
    );
  } finally {
    cleanup();
    process.removeListener('exit', cleanup);
  }
}

if (process.argv[1] === here && process.argv[2] === '--bench-worker') {
  await worker();
}
