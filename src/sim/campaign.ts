// Part: the seeded fault campaign (after TigerBeetle's VOPR): a cluster and a fault schedule
// drawn from one seed, run over the production HaNode in the simulator, with invariants
// checked after every step and named on failure; heartbeat's known split-brain case is
// counted apart, never silently.

import type { AutoFailback, ResourceGroupConfig } from '../config/model.js';
import type { ResourceSet } from '../ipc/view.js';
import { type Random, seededRandom } from '../lib/random.js';
import type { MembershipEvent } from '../membership/model.js';
import type { HaNodeMutations } from '../node/ha-node.js';
import { FOREIGN, LOCAL } from '../resources/model.js';
import { shutdownStatus } from '../resources/ownership.js';
import { SimCluster } from './cluster.js';

/** The invariants, by the name a failure report gives. */
export const INVARIANTS = {
  /** A group runs on two machines, and it is not heartbeat's split-brain case. */
  safety: 'a group never runs on two nodes at once (outside heartbeat split brain)',
  /** A node declared a peer dead although it processed a heartbeat of it within deadtime. */
  falseDeath: 'a node never declares a peer dead while it hears it on some medium',
  /** A node still believes in a peer whose daemon has been gone for well over deadtime. */
  phantomPeer: 'a node never keeps a silent peer alive past deadtime',
  /** Frames of one generation left a node out of sequence order. */
  sendOrder: 'frames leave a node in sequence order',
  /** An exception escaped a node's input handling. */
  internalError: 'no internal error in a node',
  /** After the faults stopped: every group on exactly one node, every view active. */
  liveness: 'once faults stop, every group runs on exactly one node and all views agree',
} as const;
export type InvariantName = keyof typeof INVARIANTS;

/** The fault kinds, by the draw that picks them (0..19; 19 is a quiet step). */
export const FAULT_KINDS = [
  'loss',
  'duplication',
  'delay',
  'cut',
  'cutOneWay',
  'partition',
  'serialCut',
  'crash',
  'pause',
  'stall',
  'wallStep',
  'agent',
  'agent',
  'fencing',
  'standby',
  'standby',
  'takeover',
  'stop',
  'replay',
  'none',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface CampaignOptions {
  readonly mutations?: HaNodeMutations;
  /** Fault kinds not injected (the draw is kept, so the other faults stay where they were). */
  readonly exclude?: readonly FaultKind[];
  /** Keep the whole trace (replay) instead of its tail, with every log line of the nodes. */
  readonly fullTrace?: boolean;
  /**
   * Both nodes ping one ping node and run built-in ipfail (not under auto_failback legacy,
   * which ipfail refuses); each fault step may also cut one node's or both nodes' path to it.
   * Those cuts come from their own random stream, so the other faults of a seed stay the same.
   */
  readonly ipfail?: boolean;
}

const PING_HOST = '10.0.0.254';

export interface SeedResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violation?: { readonly invariant: InvariantName; readonly atMs: number; readonly detail: string };
  /** The scenario drawn from the seed, one line. */
  readonly scenario: string;
  /** heartbeat's split-brain case: a group on both sides of a cut without fencing. */
  readonly splitBrains: number;
  /**
   * A group on two nodes because one of them could not stop it (its stop failed, the group is
   * stuck there and that node does not claim it): heartbeat reboots such a node
   * (ResourceManager's RecoverFromFailedStop), tsbeat keeps the group and tries the stop again
   * every 30 s. Counted apart, like split brain, never silently.
   */
  readonly stopFailures: number;
  readonly faults: number;
  readonly virtualMs: number;
  readonly trace: readonly string[];
}

class Violation extends Error {
  readonly invariant: InvariantName;
  readonly atMs: number;
  constructor(invariant: InvariantName, atMs: number, detail: string) {
    super(detail);
    this.invariant = invariant;
    this.atMs = atMs;
  }
}

const NODES = ['n1', 'n2'] as const;
const KEEPALIVE_MS = 500;
const WARNTIME_MS = 1500;
const DEADTIME_MS = 2500;
const INITDEAD_MS = 5000;
const FAULT_PHASE_MS = 40_000;
/** initdead, heartbeat's 10 s settle, a start failure's 30 s hand-over, agent deadlines. */
const LIVENESS_BUDGET_MS = 90_000;
/** A double run right after the last moment one side thought the other dead is still split brain. */
const SPLIT_BRAIN_GRACE_MS = 15_000;

interface Scenario {
  readonly media: readonly string[];
  readonly mode: AutoFailback;
  readonly stonith: boolean;
  readonly groups: readonly ResourceGroupConfig[];
  readonly opMs: number;
}

function pick<T>(r: Random, xs: readonly T[]): T {
  return xs[r.int(0, xs.length - 1)]!;
}

function drawScenario(r: Random): Scenario {
  const media = pick(r, [['eth0'], ['eth0', 'eth1'], ['eth0', '/dev/ttyS0']] as const);
  const mode = pick(r, ['on', 'on', 'off', 'legacy'] as const);
  const stonith = r.next() < 0.4;
  const groups: ResourceGroupConfig[] = [];
  const count = r.int(2, 3);
  for (let i = 0; i < count; i++) {
    const node = NODES[i % 2]!;
    const ip = `IPaddr::10.0.0.${i + 1}`;
    const resources = [{ spec: ip, script: 'IPaddr', args: [`10.0.0.${i + 1}`] }];
    if (r.next() < 0.5) resources.push({ spec: `svc${i + 1}`, script: `svc${i + 1}`, args: [] });
    groups.push({ node, key: ip, resources });
  }
  return { media, mode, stonith, groups, opMs: r.int(20, 400) };
}

function describeScenario(s: Scenario): string {
  return `media=${s.media.join(',')} auto_failback=${s.mode} stonith=${s.stonith ? 'yes' : 'no'} groups=${s.groups
    .map((g) => `${g.node}:${g.resources.map((x) => x.spec).join('+')}`)
    .join(' ')} opMs=${s.opMs}`;
}

/** Run one seed: scenario and faults drawn from it, invariants after every step. */
export async function runSeed(seed: number, options: CampaignOptions = {}): Promise<SeedResult> {
  const r = seededRandom(seed ^ 0x5eed);
  const scenario = drawScenario(r);
  const sim = new SimCluster({
    seed,
    nodes: NODES,
    media: scenario.media,
    keepaliveMs: KEEPALIVE_MS,
    warntimeMs: WARNTIME_MS,
    deadtimeMs: DEADTIME_MS,
    initdeadMs: INITDEAD_MS,
    mode: scenario.mode,
    groups: scenario.groups,
    stonith: scenario.stonith,
    opMs: scenario.opMs,
    ...(options.mutations ? { mutations: options.mutations } : {}),
    ...(options.ipfail
      ? { pingNodes: [PING_HOST], deadpingMs: DEADTIME_MS, ipfail: scenario.mode !== 'legacy' }
      : {}),
  });
  const pingRandom = seededRandom(seed ^ 0x1bfa11);
  sim.recordWire = false;
  sim.rebootAfterFenceMs = 8000;
  const trace: string[] = [];
  const note = (text: string): void => {
    trace.push(`${(sim.nowMs / 1000).toFixed(3).padStart(8)} ${text}`);
    if (!options.fullTrace && trace.length > 400) trace.splice(0, 200);
  };
  let splitBrains = 0;
  let stopFailures = 0;
  const inStopFailure = new Set<string>();
  let faults = 0;
  /** Last moment each node thought the other dead (or its daemon was gone): `a>b`. */
  const deadBelief = new Map<string, number>();
  /** When each node's daemon went away (crash, stop, fence), undefined while it runs. */
  const goneAt = new Map<string, number>();
  /** When each node last started or resumed running. */
  const runningSince = new Map<string, number>();
  const inSplitBrain = new Set<string>();
  /** Per pair: the newest (by send time) heartbeat of the peer's current generation processed. */
  const lastHeard = new Map<string, { generation: number; atMs: number }>();
  let heardIndex = 0;
  let logIndex = 0;
  const wasFrozen = new Set<string>();

  const fail = (invariant: InvariantName, detail: string): never => {
    throw new Violation(invariant, sim.nowMs, detail);
  };
  /** Seen inside a node's listener: raised at the next check, outside the node. */
  let pending: Violation | undefined;

  sim.onNodeEvent = (node: string, e: MembershipEvent) => {
    switch (e.kind) {
      case 'nodeDead': {
        note(`${node}: ${e.node} is dead (silent ${e.silentMs} ms)`);
        absorbHeard();
        const h = lastHeard.get(`${node}>${e.node}`);
        const peer = sim.node(e.node);
        if (h && peer.alive && h.generation === peer.generation && sim.nowMs - h.atMs < DEADTIME_MS - 1)
          pending ??= new Violation(
            'falseDeath',
            sim.nowMs,
            `${node} declared ${e.node} dead ${Math.round(sim.nowMs - h.atMs)} ms after processing a heartbeat it sent then (deadtime ${DEADTIME_MS} ms)`,
          );
        return;
      }
      case 'commUp':
      case 'restart':
      case 'partitionHealed':
        note(`${node}: ${e.kind}${'node' in e ? ` ${e.node}` : ''}`);
        return;
      case 'nodeStatus':
        note(`${node}: ${e.node} ${e.from} -> ${e.to}`);
        return;
      default:
        return;
    }
  };

  /** Fold the frames processed since the last look into lastHeard (receipt time). */
  function absorbHeard(): void {
    for (; heardIndex < sim.heard.length; heardIndex++) {
      const h = sim.heard[heardIndex]!;
      const key = `${h.node}>${h.from}`;
      const prev = lastHeard.get(key);
      // By send time: a late copy or a replay of an old heartbeat is not news of the peer.
      if (!Number.isFinite(h.sentAtMs)) continue;
      if (
        !prev ||
        h.generation > prev.generation ||
        (h.generation === prev.generation && h.sentAtMs >= prev.atMs)
      )
        lastHeard.set(key, { generation: h.generation, atMs: h.sentAtMs });
    }
    if (sim.heard.length > 5000) {
      sim.heard.splice(0, heardIndex);
      heardIndex = 0;
    }
  }

  const check = (): void => {
    if (pending) throw pending;
    const now = sim.nowMs;
    for (; logIndex < sim.log.length; logIndex++) {
      const l = sim.log[logIndex]!;
      if (
        options.fullTrace === true ||
        /resource group|takeover|STONITH|standby|Giving up|shutdown|partition|both .* hold|Resources being acquired/i.test(
          l.msg,
        )
      )
        note(`${l.node} ${l.level}: ${l.msg}`);
    }
    if (sim.log.length > 5000) {
      sim.log.splice(0, logIndex);
      logIndex = 0;
    }
    for (const n of NODES) {
      const sn = sim.node(n);
      if (!sn.alive) {
        if (!goneAt.has(n)) goneAt.set(n, now);
        continue;
      }
      if (goneAt.delete(n)) runningSince.set(n, now);
      if (sn.frozen) wasFrozen.add(n);
      else if (wasFrozen.delete(n)) runningSince.set(n, now);
    }
    const w = sim.wireViolations[0];
    if (w) fail('sendOrder', w.detail);
    const ie = sim.internalErrors[0];
    if (ie) fail('internalError', `${ie.node} (${ie.where}): ${ie.error}`);
    // Beliefs: who thinks whom dead right now.
    for (const a of NODES) {
      for (const b of NODES) {
        if (a === b) continue;
        const na = sim.node(a);
        const nb = sim.node(b);
        const aThinksBDead = na.alive && na.ha !== undefined && sim.statusOf(a, b) === 'dead';
        if (aThinksBDead || !nb.alive) deadBelief.set(`${a}>${b}`, now);
      }
    }
    // Safety.
    for (const g of scenario.groups) {
      const on = sim.whereGroup(g.key);
      if (on.length < 2) {
        inSplitBrain.delete(g.key);
        inStopFailure.delete(g.key);
        continue;
      }
      const [a, b] = on as [string, string];
      const lastBelief = Math.max(deadBelief.get(`${a}>${b}`) ?? -1e12, deadBelief.get(`${b}>${a}`) ?? -1e12);
      const excused = !scenario.stonith && now - lastBelief <= SPLIT_BRAIN_GRACE_MS;
      const stuckOn = on.find((n) => stuckUnwanted(sim, n, g.key));
      if (!excused && stuckOn !== undefined) {
        if (!inStopFailure.has(g.key)) {
          inStopFailure.add(g.key);
          stopFailures++;
          note(`stop failure (heartbeat would reboot ${stuckOn}): ${g.key} on ${a} and ${b}`);
        }
        continue;
      }
      if (!excused)
        fail(
          'safety',
          `${g.key} runs on ${a} and ${b}${scenario.stonith ? ' with STONITH configured' : ` ${now - lastBelief} ms after either last thought the other dead`}`,
        );
      if (!inSplitBrain.has(g.key)) {
        inSplitBrain.add(g.key);
        splitBrains++;
        note(`split brain (heartbeat's known case, no STONITH): ${g.key} on ${a} and ${b}`);
      }
    }
    // Phantom peers: a daemon gone for long must be dead in every running peer's view.
    for (const a of NODES) {
      const na = sim.node(a);
      if (!na.alive || na.frozen) continue;
      const since = runningSince.get(a) ?? 0;
      for (const b of NODES) {
        if (a === b) continue;
        const gone = goneAt.get(b);
        if (gone === undefined) continue;
        const limit = Math.max(gone, since) + Math.max(DEADTIME_MS, INITDEAD_MS) + 2 * KEEPALIVE_MS + 2000;
        if (now > limit && sim.statusOf(a, b) !== 'dead')
          fail(
            'phantomPeer',
            `${a} still sees ${b} as ${sim.statusOf(a, b)} ${now - gone} ms after its daemon went away`,
          );
      }
    }
  };

  const start = async (name: string): Promise<void> => {
    await sim.start(name);
    goneAt.delete(name);
    runningSince.set(name, sim.nowMs);
  };

  try {
    note(`seed ${seed}: ${describeScenario(scenario)}`);
    await start('n1');
    await sim.runFor(r.int(0, 3000), check);
    await start('n2');
    // Faults: at random moments of the fault phase.
    const end = sim.nowMs + FAULT_PHASE_MS;
    const healers: { atMs: number; what: string; run: () => Promise<void> | void }[] = [];
    while (sim.nowMs < end) {
      await sim.runFor(r.int(200, 4000), check);
      for (const h of healers.filter((x) => x.atMs <= sim.nowMs)) {
        healers.splice(healers.indexOf(h), 1);
        note(`heal: ${h.what}`);
        await h.run();
      }
      faults++;
      await injectFault(r, sim, scenario, note, healers, start, options.exclude ?? []);
      if (options.ipfail && pingRandom.next() < 0.3) {
        const who = pick(pingRandom, [['n1'], ['n2'], ['n1', 'n2']] as const);
        const forMs = pingRandom.int(1000, 15_000);
        note(`fault: ping path of ${who.join('+')} cut for ${forMs} ms`);
        for (const n of who) sim.cutPing(n, PING_HOST);
        healers.push({
          atMs: sim.nowMs + forMs,
          what: `ping path of ${who.join('+')}`,
          run: () => {
            for (const n of who) sim.cutPing(n, PING_HOST, false);
          },
        });
      }
      absorbHeard();
      check();
    }
    // Faults stop: heal everything, wake and start every node, agents and fencing work.
    note('faults stop');
    for (const h of healers.splice(0)) await h.run();
    sim.net.clearFaults();
    const [lo, hi] = [1, 5];
    sim.net.setFaults({}, { delayMs: lo, jitterMs: hi - lo });
    sim.failStart.clear();
    sim.failStop.clear();
    sim.hang.clear();
    sim.fenceWorks = true;
    sim.fenceHangs = false;
    sim.fenceExtraMs = 0;
    for (const n of NODES) if (sim.node(n).frozen) sim.thaw(n);
    await sim.runFor(3000, check);
    // A `tsbeat stop` drawn last may still be releasing: the operator starts the node again
    // once it has exited (its restart, queued as a healer, found it still running).
    const stopping = (n: string): boolean => {
      const o = sim.node(n).alive ? sim.node(n).ha?.ownership : undefined;
      return o !== undefined && (shutdownStatus(o) !== 'none' || sim.node(n).shutdownComplete);
    };
    for (let i = 0; i < 60 && NODES.some(stopping); i++) await sim.runFor(500, check);
    for (const n of NODES) if (!sim.node(n).alive) await start(n);
    const quietAt = sim.nowMs;
    await sim.runUntil(quietAt + LIVENESS_BUDGET_MS, () => {
      absorbHeard();
      check();
    });
    // Liveness.
    for (const n of NODES) {
      if (!sim.node(n).alive) fail('liveness', `${n} is not running at the end`);
      if (sim.state(n).localStatus !== 'active')
        fail('liveness', `${n}'s own status is ${sim.state(n).localStatus}`);
      for (const m of NODES)
        if (m !== n && sim.statusOf(n, m) !== 'active')
          fail(
            'liveness',
            `${n} sees ${m} as ${sim.statusOf(n, m)} ${LIVENESS_BUDGET_MS} ms after the faults stopped`,
          );
    }
    for (const g of scenario.groups) {
      const on = sim.whereGroup(g.key);
      if (on.length !== 1)
        fail(
          'liveness',
          `${g.key} runs on [${on.join(' ')}] ${LIVENESS_BUDGET_MS} ms after the faults stopped`,
        );
      const node = on[0]!;
      const missing = g.resources.filter((x) => !sim.machines.on(node).has(x.spec));
      if (missing.length > 0)
        fail(
          'liveness',
          `${g.key} is only partly running on ${node}: ${missing.map((x) => x.spec).join(' ')} down`,
        );
    }
    sim.close();
    return {
      seed,
      ok: true,
      scenario: describeScenario(scenario),
      splitBrains,
      stopFailures,
      faults,
      virtualMs: sim.nowMs,
      trace,
    };
  } catch (e) {
    sim.close();
    if (!(e instanceof Violation)) throw e;
    note(`VIOLATION ${e.invariant}: ${e.message}`);
    return {
      seed,
      ok: false,
      violation: { invariant: e.invariant, atMs: e.atMs, detail: e.message },
      scenario: describeScenario(scenario),
      splitBrains,
      stopFailures,
      faults,
      virtualMs: sim.nowMs,
      trace,
    };
  }
}

/**
 * Node `n` runs group `key` only because a stop of it failed there: the ownership core marks
 * it stuck, and no longer wants it here (nice_failback: its class is not held; legacy: the
 * last request was a release).
 */
function stuckUnwanted(sim: SimCluster, n: string, key: string): boolean {
  const sn = sim.node(n);
  const o = sn.alive ? sn.ha?.ownership : undefined;
  if (!o?.stuck.has(key)) return false;
  const g = o.cfg.groups.find((x) => x.key === key);
  if (!g) return false;
  if (o.cfg.mode === 'legacy') return o.intent.get(key) === 'stop';
  return (o.iHold & (g.node === n ? LOCAL : FOREIGN)) === 0;
}

type Note = (text: string) => void;
type Healers = { atMs: number; what: string; run: () => Promise<void> | void }[];

const SETS: readonly ResourceSet[] = ['all', 'local', 'foreign', 'failback'];

/** One fault, drawn from the seed; what undoes it is queued in `healers`. */
async function injectFault(
  r: Random,
  sim: SimCluster,
  scenario: Scenario,
  note: Note,
  healers: Healers,
  start: (name: string) => Promise<void>,
  exclude: readonly FaultKind[],
): Promise<void> {
  const node = pick(r, NODES);
  const other = node === 'n1' ? 'n2' : 'n1';
  const link = r.int(0, scenario.media.length - 1);
  const segment = scenario.media[link]!;
  const later = (ms: number, what: string, run: () => Promise<void> | void): void => {
    healers.push({ atMs: sim.nowMs + ms, what, run });
  };
  const kind = r.int(0, 19);
  if (exclude.includes(FAULT_KINDS[kind]!)) return;
  switch (kind) {
    case 0: {
      const p = Math.round(r.next() * 50) / 100;
      note(`fault: ${Math.round(p * 100)}% loss on ${segment}`);
      const undo = sim.net.setFaults({ segment }, { loss: p });
      later(r.int(1000, 15_000), `loss on ${segment}`, undo);
      return;
    }
    case 1: {
      const p = Math.round(r.next() * 50) / 100;
      note(`fault: ${Math.round(p * 100)}% duplication on ${segment}`);
      const undo = sim.net.setFaults({ segment }, { duplicate: p });
      later(r.int(1000, 15_000), `duplication on ${segment}`, undo);
      return;
    }
    case 2: {
      const delay = r.int(0, 400);
      const jitter = r.int(50, 800);
      note(`fault: delay ${delay} ms + jitter ${jitter} ms (reordering) on ${segment}`);
      const undo = sim.net.setFaults({ segment }, { delayMs: delay, jitterMs: jitter });
      later(r.int(1000, 15_000), `delay on ${segment}`, undo);
      return;
    }
    case 3: {
      note(`fault: ${segment} cut between ${node} and ${other}`);
      const undo = sim.net.cut(segment, node, other);
      later(r.int(1000, 20_000), `${segment} reconnected`, undo);
      return;
    }
    case 4: {
      note(`fault: ${segment} cut one way, ${node} -> ${other}`);
      const undo = sim.net.cut(segment, node, other, true);
      later(r.int(1000, 20_000), `${segment} ${node} -> ${other} reconnected`, undo);
      return;
    }
    case 5: {
      note(`fault: full partition between ${node} and ${other}`);
      const undos = scenario.media.map((m) => sim.net.cut(m, node, other));
      later(r.int(1000, 20_000), 'partition healed', () => {
        for (const u of undos) u();
      });
      return;
    }
    case 6: {
      const serial = scenario.media.find((m) => m.startsWith('/dev/'));
      if (!serial) return;
      note(`fault: serial line ${serial} cut`);
      const undo = sim.net.cut(serial, node, other);
      later(r.int(1000, 30_000), `serial line ${serial} reconnected`, undo);
      return;
    }
    case 7: {
      if (!sim.node(node).alive) return;
      const machine = r.next() < 0.6;
      note(`fault: ${machine ? 'machine' : 'daemon'} crash of ${node}`);
      sim.kill(node, { machine });
      later(r.int(500, 15_000), `${node} restarted`, async () => {
        if (!sim.node(node).alive) await start(node);
      });
      return;
    }
    case 8: {
      if (!sim.isUp(node)) return;
      const ms = r.int(500, 8000);
      note(`fault: ${node} paused (SIGSTOP) for ${ms} ms`);
      sim.freeze(node);
      later(ms, `${node} resumed (SIGCONT)`, () => sim.thaw(node));
      return;
    }
    case 9: {
      if (!sim.isUp(node)) return;
      const ms = r.int(50, 1500);
      note(`fault: ${node}'s event loop stalls for ${ms} ms`);
      sim.freeze(node);
      later(ms, `${node}'s event loop runs again`, () => sim.thaw(node));
      return;
    }
    case 10: {
      const delta = pick(r, [-3_600_000, -60_000, -5_000, 5_000, 60_000, 86_400_000]);
      note(`fault: ${node}'s wall clock steps ${delta / 1000} s`);
      sim.jumpWallClock(node, delta);
      return;
    }
    case 11:
    case 12: {
      const g = pick(r, scenario.groups);
      const res = pick(r, g.resources);
      const k = `${node}:${res.spec}`;
      const what = pick(r, ['start fails', 'stop fails', 'hangs'] as const);
      note(`fault: agent ${res.spec} on ${node} ${what}`);
      const set = what === 'start fails' ? sim.failStart : what === 'stop fails' ? sim.failStop : sim.hang;
      set.add(k);
      later(r.int(500, 20_000), `agent ${res.spec} on ${node} works again`, () => {
        set.delete(k);
      });
      return;
    }
    case 13: {
      if (!scenario.stonith) return;
      const what = pick(r, ['fails', 'hangs', 'is slow'] as const);
      note(`fault: fencing ${what}`);
      if (what === 'fails') sim.fenceWorks = false;
      else if (what === 'hangs') sim.fenceHangs = true;
      else sim.fenceExtraMs = r.int(1000, 8000);
      later(r.int(1000, 20_000), 'fencing works again', () => {
        sim.fenceWorks = true;
        sim.fenceHangs = false;
        sim.fenceExtraMs = 0;
      });
      return;
    }
    case 14:
    case 15: {
      if (!sim.isUp(node)) return;
      const set = pick(r, SETS);
      note(`operator: hb_standby ${set} on ${node}`);
      sim.standby(node, set);
      return;
    }
    case 16: {
      if (!sim.isUp(node)) return;
      const set = pick(r, SETS);
      note(`operator: hb_takeover ${set} on ${node}`);
      sim.takeover(node, set);
      return;
    }
    case 17: {
      if (!sim.isUp(node)) return;
      note(`operator: tsbeat stop on ${node}`);
      sim.shutdown(node);
      later(r.int(3000, 20_000), `${node} started again`, async () => {
        if (!sim.node(node).alive) await start(node);
      });
      return;
    }
    case 18: {
      // Replays a node must drop: frames of a generation every running receiver already knows
      // (or an older one). A receiver that never heard the sender since it started cannot tell
      // a replay from the sender itself (heartbeat has no challenge either): not drawn.
      const sender = pick(r, NODES);
      const receivers = NODES.filter((n) => n !== sender && sim.isUp(n));
      if (receivers.length === 0) return;
      // Frames a receiver never got (sent into a cut) cannot be told from late ones: only
      // frames of an older generation, or of the known one up to the highest seq it accepted.
      const frames = (sim.captured.get(sender) ?? []).filter((f) => {
        const id = sim.frameId(f);
        if (!id) return false;
        return receivers.every((n) => {
          const p = sim.state(n).peers.get(sender);
          if (p?.generation === undefined) return false;
          return (
            id.generation < p.generation ||
            (id.generation === p.generation && id.seq <= (p.seqHighWater ?? 0))
          );
        });
      });
      if (frames.length === 0) return;
      const from = r.int(0, Math.max(0, frames.length - 20));
      const batch = frames.slice(from, from + 20);
      note(`fault: ${batch.length} captured frames of ${sender} replayed on ${scenario.media[0]}`);
      await sim.replay(batch);
      return;
    }
    default:
      return;
  }
}

/**
 * The fault kinds CI leaves out: none. Every network, process, clock, fencing, agent and
 * operator fault of the campaign runs in CI.
 */
export const CI_EXCLUDE: readonly FaultKind[] = [];

/** The seed list CI runs (test/sim/campaign.test.ts): fixed, so a failure reproduces. */
export function ciSeeds(count: number, first = 1): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}
