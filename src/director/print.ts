// Part: `tsbeat director status` — one view of what an operator otherwise pieces together from
// `ipvsadm -Ln`, `-Lnc`, `--rate`, `-L --daemon` and the log: each virtual service with its real
// servers, weights, check state, last latency and failure reason, connections and rates, and the
// sync daemon's role. Pure: the caller gathers the inputs.

import type { DirectorStateFile } from './driver.js';
import type { IpvsFigures, IpvsTable, SyncDaemon } from './ipvs.js';

export interface StatusInputs {
  readonly config: string;
  /** 'running' with a pid, 'stopped', or 'stale' (pid file of a dead process). */
  readonly daemon: { readonly state: 'running' | 'stopped' | 'stale'; readonly pid?: number };
  readonly state?: DirectorStateFile;
  readonly table?: IpvsTable;
  readonly rates?: IpvsFigures;
  readonly connections?: Map<string, Record<string, number>>;
  readonly syncDaemons?: readonly SyncDaemon[];
  /** Why a kernel read failed, if it did. */
  readonly kernelError?: string;
  readonly nowMs: number;
}

export interface StatusReal {
  addr: string;
  configuredWeight: number | null;
  kernelWeight: number | null;
  forward: string | null;
  check: 'up' | 'down' | 'soft-failing' | 'unchecked' | 'fallback' | 'unknown';
  failcount: number;
  checks: number;
  lastCheckAgoMs: number | null;
  lastLatencyMs: number | null;
  lastReason: string | null;
  activeConn: number | null;
  inactConn: number | null;
  connections: Record<string, number>;
  cps: number | null;
  inPps: number | null;
  outPps: number | null;
  inBps: number | null;
  outBps: number | null;
}

export interface StatusVirtual {
  id: string;
  kernelKey: string;
  inKernel: boolean;
  scheduler: string | null;
  service: string | null;
  checktype: string | null;
  quorum: number | null;
  quorumUp: boolean | null;
  fallbackUp: boolean | null;
  cps: number | null;
  reals: StatusReal[];
}

export interface StatusReport {
  config: string;
  daemon: string;
  pid: number | null;
  syncDaemons: SyncDaemon[];
  kernelError: string | null;
  checksTotal: number | null;
  virtuals: StatusVirtual[];
}

function kernelKeyOf(id: string): string {
  const [proto, ...rest] = id.split(':');
  return `${(proto ?? '').toUpperCase()} ${rest.join(':')}`;
}

/** Merge the state file with the kernel's figures. */
export function buildStatus(i: StatusInputs): StatusReport {
  const virtuals: StatusVirtual[] = [];
  for (const v of i.state?.virtuals ?? []) {
    const key = kernelKeyOf(v.id);
    const svc = i.table?.get(key);
    const reals: StatusReal[] = [];
    const seen = new Set<string>();
    const kernelReal = (addr: string): StatusReal => {
      const d = svc?.dests.get(addr);
      const rate = i.rates?.get(`${key} -> ${addr}`);
      return {
        addr,
        configuredWeight: null,
        kernelWeight: d ? d.weight : null,
        forward: d ? d.forward : null,
        check: 'unknown',
        failcount: 0,
        checks: 0,
        lastCheckAgoMs: null,
        lastLatencyMs: null,
        lastReason: null,
        activeConn: d ? d.activeConn : null,
        inactConn: d ? d.inactConn : null,
        connections: i.connections?.get(`${key} -> ${addr}`) ?? {},
        cps: rate?.[0] ?? null,
        inPps: rate?.[1] ?? null,
        outPps: rate?.[2] ?? null,
        inBps: rate?.[3] ?? null,
        outBps: rate?.[4] ?? null,
      };
    };
    for (const r of v.reals) {
      seen.add(r.addr);
      const k = kernelReal(r.addr);
      k.configuredWeight = r.weight;
      k.forward = k.forward ?? r.forward;
      k.check = r.checks === 0 && r.lastOk === undefined ? 'unchecked' : r.up ? 'up' : 'down';
      // Soft-failing = still in service with failures counted; a real out of service is down.
      if (r.up && r.failcount > 0) k.check = 'soft-failing';
      k.failcount = r.failcount;
      k.checks = r.checks;
      k.lastCheckAgoMs = r.lastCheckAtMs !== undefined ? i.nowMs - r.lastCheckAtMs : null;
      k.lastLatencyMs = r.lastLatencyMs ?? null;
      k.lastReason = r.lastReason ?? null;
      reals.push(k);
    }
    for (const addr of svc?.dests.keys() ?? []) {
      if (seen.has(addr)) continue;
      const k = kernelReal(addr);
      k.check = v.fallback === addr ? 'fallback' : 'unknown';
      reals.push(k);
    }
    virtuals.push({
      id: v.id,
      kernelKey: key,
      inKernel: svc !== undefined,
      scheduler: svc?.scheduler ?? v.scheduler,
      service: v.service,
      checktype: v.checktype,
      quorum: v.quorum ?? null,
      quorumUp: v.quorumUp,
      fallbackUp: v.fallbackUp,
      cps: i.rates?.get(key)?.[0] ?? null,
      reals,
    });
  }
  return {
    config: i.config,
    daemon: i.daemon.state,
    pid: i.daemon.pid ?? null,
    syncDaemons: [...(i.syncDaemons ?? [])],
    kernelError: i.kernelError ?? null,
    checksTotal: i.state?.checksTotal ?? null,
    virtuals,
  };
}

function n(v: number | string | null): string {
  return v === null ? '-' : String(v);
}

/** The human-readable status. */
export function formatStatus(s: StatusReport): string {
  const out: string[] = [];
  out.push(`director ${s.config}: ${s.daemon}${s.pid !== null ? ` (pid ${s.pid})` : ''}`);
  const sync = s.syncDaemons
    .map((d) => `${d.role} (mcast=${d.mcastInterface}, syncid=${d.syncid})`)
    .join(', ');
  out.push(`sync daemon: ${sync === '' ? 'none' : sync}`);
  if (s.kernelError) out.push(`kernel table: ${s.kernelError}`);
  for (const v of s.virtuals) {
    const q = v.quorum !== null ? ` quorum ${v.quorum} ${v.quorumUp ? 'held' : 'lost'}` : '';
    out.push(
      `${v.kernelKey} ${n(v.scheduler)} service=${n(v.service)} check=${n(v.checktype)}${q}${v.fallbackUp ? ' fallback in' : ''}${v.inKernel ? '' : ' NOT IN KERNEL'}${v.cps !== null ? ` ${v.cps} conn/s` : ''}`,
    );
    out.push(
      '  -> real                  weight(cfg/kernel) check         last   latency  active inact conn/s  reason',
    );
    for (const r of v.reals) {
      const last = r.lastCheckAgoMs === null ? '-' : `${(r.lastCheckAgoMs / 1000).toFixed(1)}s`;
      const lat = r.lastLatencyMs === null ? '-' : `${r.lastLatencyMs.toFixed(1)}ms`;
      out.push(
        `  -> ${r.addr.padEnd(21)} ${`${n(r.configuredWeight)}/${n(r.kernelWeight)}`.padEnd(18)} ${`${r.check}${r.failcount > 0 ? ` ${r.failcount}` : ''}`.padEnd(13)} ${last.padStart(6)} ${lat.padStart(9)} ${n(r.activeConn).padStart(6)} ${n(r.inactConn).padStart(5)} ${n(r.cps).padStart(6)}  ${r.lastReason ?? ''}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}
