// Part: the director's decisions — which real servers are in service, when the fallback (sorry)
// server is in, which ipvsadm commands that takes — from check results and the observed kernel
// table. Pure: time and events come in, effects go out as data; the shell runs them.
//
// The rules are ldirectord's (`ld_start`, `_service_up`, `_service_down`, `_restore_service`,
// `_remove_service`, `fallback_on`/`fallback_off`, `ld_stop` in /usr/sbin/ldirectord), so that the
// command stream matches the stock daemon's for the same events. Additions, all tsbeat extensions:
// `successcount` (successes before a down real is re-added), keepalived's `quorum`/`hysteresis`
// with `quorum_up`/`quorum_down` (the fallback is in while quorum is lost), and `reconcile()`,
// which repairs a table someone else changed, touching only services this configuration names.

import {
  applyCommand,
  cloneTable,
  type DestSpec,
  destArgs,
  type IpvsTable,
  serviceArgs,
  serviceKey,
  serviceOption,
} from './ipvs.js';
import type { DirectorConfig, Fallback, RealServer, VirtualService } from './model.js';

/** What the shell must do, in order. */
export type DirectorEffect =
  | { readonly kind: 'ipvsadm'; readonly args: readonly string[] }
  | { readonly kind: 'log'; readonly message: string }
  /** Run a program with arguments (fallbackcommand, quorum_up/down): the shell splits `command` on blanks. */
  | { readonly kind: 'exec'; readonly command: string; readonly args: readonly string[] };

/** The outcome of one check of one real server. */
export interface CheckOutcome {
  readonly ok: boolean;
  /** Why it failed (or what it saw), one line. */
  readonly reason: string;
  readonly latencyMs: number;
}

/** What the director knows of one real server of one virtual service. */
export interface RealState {
  readonly real: RealServer;
  /** `ip:port` as sent to ipvsadm. */
  readonly addr: string;
  /** In service (ldirectord's real_status). */
  up: boolean;
  /** Consecutive failures while up. */
  failcount: number;
  /** Consecutive successes while down (tsbeat successcount). */
  successes: number;
  checks: number;
  lastCheckAtMs?: number;
  lastLatencyMs?: number;
  lastOk?: boolean;
  lastReason?: string;
  /** When it last changed between up and down. */
  sinceMs?: number;
}

/** One virtual service's state. */
export interface VirtualState {
  readonly virtual: VirtualService;
  readonly reals: RealState[];
  fallbackUp: boolean;
  fallbackCommandStatus?: 'start' | 'stop';
  quorumUp: boolean;
}

function realAddr(r: RealServer): string {
  return `${r.ip}:${r.port}`;
}

function fallbackAddr(v: VirtualService, f: Fallback): string {
  return `${f.ip}:${f.port ?? v.port}`;
}

/** The decisions of one director (one configuration). */
export class DirectorCore {
  /** The core's view of the kernel table, kept in step with every command it issues. */
  private table: IpvsTable = new Map();
  readonly virtuals: VirtualState[];
  private effects: DirectorEffect[] = [];

  readonly config: DirectorConfig;

  /** `previous`: states to carry over (reload), matched by virtual id and real address. */
  constructor(config: DirectorConfig, previous?: readonly VirtualState[]) {
    this.config = config;
    this.virtuals = config.virtuals.map((v) => {
      const old = previous?.find((p) => p.virtual.id === v.id);
      return {
        virtual: v,
        reals: v.reals.map((r) => {
          const o = old?.reals.find((x) => x.addr === realAddr(r));
          return o
            ? { ...o, real: r }
            : { real: r, addr: realAddr(r), up: false, failcount: 0, successes: 0, checks: 0 };
        }),
        fallbackUp: false,
        quorumUp: false,
      };
    });
  }

  /** The table as the core believes it to be (for status and tests). */
  view(): IpvsTable {
    return cloneTable(this.table);
  }

  private take(): DirectorEffect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  private log(message: string): void {
    this.effects.push({ kind: 'log', message });
  }

  private ipvsadm(args: string[]): void {
    this.effects.push({ kind: 'ipvsadm', args });
    applyCommand(this.table, args);
  }

  private virtualName(v: VirtualService): string {
    return v.protocol === 'fwm' ? String(v.fwmark) : `${v.address}:${v.port}`;
  }

  /** The destination entry, also under the virtual's port (the kernel maps port 0 / non-masq there). */
  private findDest(
    v: VirtualService,
    addr: string,
  ): { addr: string; d: NonNullable<ReturnType<IpvsTable['get']>> } | undefined {
    const svc = this.table.get(serviceKey(v));
    if (!svc) return undefined;
    if (svc.dests.has(addr)) return { addr, d: svc };
    const ip = addr.slice(0, addr.lastIndexOf(':'));
    const mapped = `${ip}:${v.port}`;
    if (svc.dests.has(mapped)) return { addr: mapped, d: svc };
    return undefined;
  }

  /** ldirectord's _restore_service: add, or edit when anything differs. */
  private restore(v: VirtualService, spec: DestSpec, tag: 'real' | 'fallback'): void {
    const found = this.findDest(v, spec.addr);
    const cur = found?.d.dests.get(found.addr);
    const log = `${tag} server: ${spec.addr} (${this.virtualName(v)})`;
    if (cur) {
      if (
        cur.weight !== spec.weight ||
        cur.upperThreshold !== spec.upperThreshold ||
        cur.lowerThreshold !== spec.lowerThreshold ||
        cur.forward !== spec.forward
      ) {
        this.ipvsadm(['-e', ...destArgs(v, spec)]);
        this.log(`Restored ${log} (Weight set to ${spec.weight})`);
      }
    } else {
      this.ipvsadm(['-a', ...destArgs(v, spec)]);
      this.log(`Added ${log} (Weight set to ${spec.weight})`);
    }
  }

  /** ldirectord's _remove_service: quiesce (weight 0) or delete. */
  private remove(
    v: VirtualService,
    addr: string,
    forward: RealServer['forward'],
    tag: 'real' | 'fallback',
  ): void {
    if (!this.table.has(serviceKey(v))) return;
    const quiescent = tag === 'real' && v.quiescent;
    const found = this.findDest(v, addr);
    const cur = found?.d.dests.get(found.addr);
    const target = found?.addr ?? addr;
    const svcArgs = serviceOption(v);
    const flag = { gate: '-g', masq: '-m', ipip: '-i' }[forward];
    const log = `${tag} server: ${target} ${target !== addr ? `mapped from ${addr} ` : ''}(${this.virtualName(v)})`;
    if (quiescent) {
      if (cur) {
        if (cur.weight === 0 && cur.forward === forward) return;
        this.ipvsadm(['-e', ...svcArgs, '-r', target, flag, '-w', '0']);
        this.log(`Quiescent ${log} (Weight set to 0)`);
      } else if (this.config.readdquiescent) {
        this.ipvsadm(['-a', ...svcArgs, '-r', target, flag, '-w', '0']);
        this.log(`Readd Quiescent ${log} (Weight set to 0)`);
      }
      return;
    }
    if (!cur) return;
    this.ipvsadm(['-d', ...svcArgs, '-r', target]);
    this.log(`Deleted ${log}`);
  }

  private realSpec(rs: RealState): DestSpec {
    return {
      addr: rs.addr,
      forward: rs.real.forward,
      weight: rs.real.weight,
      upperThreshold: rs.real.upperThreshold,
      lowerThreshold: rs.real.lowerThreshold,
    };
  }

  /** Up weight against quorum (with hysteresis); without quorum: "some real is up". */
  private evaluateQuorum(vs: VirtualState): void {
    const v = vs.virtual;
    const upWeight = vs.reals.filter((r) => r.up).reduce((a, r) => a + r.real.weight, 0);
    if (v.quorum === undefined) {
      vs.quorumUp = vs.reals.some((r) => r.up);
      return;
    }
    if (!vs.quorumUp && upWeight >= v.quorum + v.hysteresis) {
      vs.quorumUp = true;
      this.log(`Gained quorum ${upWeight}+${v.hysteresis}>=${v.quorum} for ${v.id}`);
      if (v.quorumUp !== undefined) this.effects.push({ kind: 'exec', command: v.quorumUp, args: [] });
    } else if (vs.quorumUp && upWeight < v.quorum - v.hysteresis) {
      vs.quorumUp = false;
      this.log(`Lost quorum ${upWeight}-${v.hysteresis}<${v.quorum} for ${v.id}`);
      if (v.quorumDown !== undefined) this.effects.push({ kind: 'exec', command: v.quorumDown, args: [] });
    }
  }

  /** fallback_on / fallback_off, and the fallback command, after any change. */
  private updateFallback(vs: VirtualState): void {
    this.evaluateQuorum(vs);
    const v = vs.virtual;
    const want = !vs.quorumUp;
    const f = v.fallback;
    if (f && want && !vs.fallbackUp) {
      vs.fallbackUp = true;
      this.restore(
        v,
        { addr: fallbackAddr(v, f), forward: f.forward, weight: 1, upperThreshold: 0, lowerThreshold: 0 },
        'fallback',
      );
    } else if (f && !want && vs.fallbackUp) {
      vs.fallbackUp = false;
      this.remove(v, fallbackAddr(v, f), f.forward, 'fallback');
    }
    const status = want ? 'start' : 'stop';
    if (vs.fallbackCommandStatus !== status) {
      vs.fallbackCommandStatus = status;
      if (v.fallbackcommand !== undefined) {
        this.effects.push({
          kind: 'exec',
          command: v.fallbackcommand,
          args: [status, this.virtualName(v), v.protocol],
        });
      }
    }
  }

  private serviceUp(vs: VirtualState, rs: RealState, nowMs: number, force: boolean): void {
    if (rs.failcount > 0) {
      this.log(`Resetting soft failure count: ${rs.addr} (${vs.virtual.id})`);
    }
    rs.failcount = 0;
    if (rs.up && !force) return;
    if (!rs.up) rs.sinceMs = nowMs;
    rs.up = true;
    this.restore(vs.virtual, this.realSpec(rs), 'real');
    this.updateFallback(vs);
  }

  private serviceDown(vs: VirtualState, rs: RealState, nowMs: number, force: boolean): void {
    if (!rs.up && !force) return;
    rs.failcount++;
    if (!force && rs.failcount < vs.virtual.failurecount) {
      this.log(
        `Soft failure real server: ${rs.addr} (${vs.virtual.id}) failure ${rs.failcount}/${vs.virtual.failurecount}`,
      );
      return;
    }
    if (rs.up) rs.sinceMs = nowMs;
    rs.up = false;
    this.remove(vs.virtual, rs.addr, rs.real.forward, 'real');
    this.updateFallback(vs);
  }

  /**
   * ldirectord's start (and reload): edit or add each virtual service, keep reals the table has
   * in service, purge unconfigured reals of our services, then every other real is added once
   * and taken down again (quiesced or deleted) until its first check — the stock daemon's
   * sequence, kept so that the command streams compare.
   */
  start(observed: IpvsTable, nowMs: number, previous?: DirectorConfig): DirectorEffect[] {
    this.table = cloneTable(observed);
    for (const vs of this.virtuals) {
      const v = vs.virtual;
      if (this.table.has(serviceKey(v))) {
        this.ipvsadm(['-E', ...serviceArgs(v)]);
        this.log(`Changed virtual server: ${this.virtualName(v)}`);
      } else {
        this.ipvsadm(['-A', ...serviceArgs(v)]);
        this.log(`Added virtual server: ${this.virtualName(v)}`);
      }
    }
    const down: [VirtualState, RealState][] = [];
    for (const vs of this.virtuals) {
      const v = vs.virtual;
      const svc = this.table.get(serviceKey(v));
      const leftover = new Set(svc ? svc.dests.keys() : []);
      const fb = v.fallback ? fallbackAddr(v, v.fallback) : undefined;
      if (fb !== undefined) {
        leftover.delete(fb);
        vs.fallbackUp = svc?.dests.has(fb) ?? false;
      }
      for (const rs of vs.reals) {
        const found = this.findDest(v, rs.addr);
        const cur = found?.d.dests.get(found.addr);
        if (!cur || cur.weight === 0) down.push([vs, rs]);
        else {
          rs.up = false;
          this.serviceUp(vs, rs, nowMs, true);
        }
        if (found) leftover.delete(found.addr);
      }
      for (const addr of leftover) {
        this.ipvsadm(['-d', ...serviceOption(v), '-r', addr]);
        this.log(`Purged real server (start): ${addr} (${this.virtualName(v)})`);
      }
      this.updateFallback(vs);
    }
    for (const [vs, rs] of down) {
      if (!this.config.readdquiescent) this.serviceUp(vs, rs, nowMs, true);
      this.serviceDown(vs, rs, nowMs, true);
      rs.failcount = 0;
    }
    if (previous) {
      for (const old of previous.virtuals) {
        if (this.virtuals.some((vs) => vs.virtual.id === old.id)) continue;
        if (!this.table.has(serviceKey(old))) continue;
        this.ipvsadm(['-D', ...serviceOption(old)]);
        this.log(`Purged virtual server (start): ${this.virtualName(old)}`);
      }
    }
    return this.take();
  }

  /** One check result for real `addr` of virtual `id`. */
  checkResult(id: string, addr: string, outcome: CheckOutcome, nowMs: number): DirectorEffect[] {
    const vs = this.virtuals.find((x) => x.virtual.id === id);
    const rs = vs?.reals.find((r) => r.addr === addr);
    if (!vs || !rs) return [];
    rs.checks++;
    rs.lastCheckAtMs = nowMs;
    rs.lastLatencyMs = outcome.latencyMs;
    rs.lastOk = outcome.ok;
    rs.lastReason = outcome.reason;
    if (outcome.ok) {
      if (!rs.up) {
        rs.successes++;
        if (rs.successes < vs.virtual.successcount) {
          this.log(
            `Success ${rs.successes}/${vs.virtual.successcount} of real server: ${rs.addr} (${vs.virtual.id})`,
          );
          return this.take();
        }
      }
      rs.successes = 0;
      this.serviceUp(vs, rs, nowMs, false);
    } else {
      rs.successes = 0;
      this.serviceDown(vs, rs, nowMs, false);
    }
    return this.take();
  }

  /** `checktype=on`: in service without checks. */
  forceUp(id: string, addr: string, nowMs: number): DirectorEffect[] {
    const vs = this.virtuals.find((x) => x.virtual.id === id);
    const rs = vs?.reals.find((r) => r.addr === addr);
    if (vs && rs) this.serviceUp(vs, rs, nowMs, false);
    return this.take();
  }

  /** A maintenance file names this real: down now, without soft failures. */
  maintenance(id: string, addr: string, nowMs: number): DirectorEffect[] {
    const vs = this.virtuals.find((x) => x.virtual.id === id);
    const rs = vs?.reals.find((r) => r.addr === addr);
    if (vs && rs) {
      rs.lastReason = 'Server in maintenance';
      rs.lastOk = false;
      this.serviceDown(vs, rs, nowMs, true);
    }
    return this.take();
  }

  /**
   * Compare a fresh read of the kernel table with what the state says and repair the difference
   * (a virtual or real removed by hand, a weight edited, a flushed table). Only services and
   * real servers of this configuration are touched.
   */
  reconcile(observed: IpvsTable): DirectorEffect[] {
    this.table = cloneTable(observed);
    for (const vs of this.virtuals) {
      const v = vs.virtual;
      if (!this.table.has(serviceKey(v))) {
        this.ipvsadm(['-A', ...serviceArgs(v)]);
        this.log(`Added virtual server: ${this.virtualName(v)} (it had gone from the kernel table)`);
      }
      for (const rs of vs.reals) {
        if (rs.up) this.restore(v, this.realSpec(rs), 'real');
        else if (v.quiescent && !this.findDest(v, rs.addr)) {
          const flag = { gate: '-g', masq: '-m', ipip: '-i' }[rs.real.forward];
          this.ipvsadm(['-a', ...serviceOption(v), '-r', rs.addr, flag, '-w', '0']);
          this.log(`Readd Quiescent real server: ${rs.addr} (${this.virtualName(v)}) (Weight set to 0)`);
        } else this.remove(v, rs.addr, rs.real.forward, 'real');
      }
      const f = v.fallback;
      if (f && vs.fallbackUp) {
        this.restore(
          v,
          { addr: fallbackAddr(v, f), forward: f.forward, weight: 1, upperThreshold: 0, lowerThreshold: 0 },
          'fallback',
        );
      }
    }
    return this.take();
  }

  /** ldirectord's ld_stop with cleanstop: delete the reals in service, then the virtual services. */
  stop(): DirectorEffect[] {
    for (const vs of this.virtuals) {
      const v = vs.virtual;
      if (!v.cleanstop) continue;
      for (const rs of vs.reals) {
        if (!rs.up) continue;
        this.ipvsadm(['-d', ...serviceOption(v), '-r', rs.addr]);
        this.log(`Purged real server (stop): ${rs.addr} (${this.virtualName(v)})`);
        rs.up = false;
      }
      if (this.table.has(serviceKey(v))) {
        this.ipvsadm(['-D', ...serviceOption(v)]);
        this.log(`Purged virtual server (stop): ${this.virtualName(v)}`);
      }
    }
    return this.take();
  }
}
