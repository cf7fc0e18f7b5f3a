// Part: the membership core: heartbeats, node and link liveness, comm-up, sequence
// tracking, retransmission and ACKs, as heartbeat 3.0.6 does them (heartbeat/heartbeat.c:
// send_local_status, should_drop_message, process_rexmit, check_for_timeouts; see
// shared spec heartbeat-wire.md §4-§7 and the §9 interop checklist).
//
// Deterministic and free of I/O: time, randomness and frames come in, messages to send,
// events and the next wake-up time go out. The state object belongs to the core: `step`
// updates it in place (as raft's RawNode does) and returns what the shell must do.

import { binaryField, type Field, getBinary, getString, type Message, stringField } from '../codec/model.js';
import { assert } from '../lib/assert.js';
import type { Random } from '../lib/random.js';
import {
  type Delivered,
  type Env,
  type Input,
  type MembershipConfig,
  type MembershipEvent,
  type MembershipState,
  type NodeStatus,
  type Outbound,
  type Output,
  type PeerState,
  type PingNodeState,
  type PingNodeStatus,
  PROTOCOL,
} from './model.js';

const ZERO_UUID = new Uint8Array(16);

/** A fresh membership state; nothing is sent until the `start` input. */
export function createMembership(cfg: MembershipConfig, random: Random): MembershipState {
  assert(cfg.nodes.includes(cfg.localNode), 'local node must be a configured node');
  assert(cfg.uuid.length === 16, 'uuid must be 16 bytes');
  const peers = new Map<string, PeerState>();
  for (const name of cfg.nodes) {
    if (name === cfg.localNode) continue;
    peers.set(name, {
      name,
      status: 'init',
      heard: false,
      generation: undefined,
      uuid: undefined,
      deadtimeMs: cfg.deadtimeMs,
      lastStatusAtMs: undefined,
      lastStatusSeq: undefined,
      lastStatusTs: undefined,
      lastSeq: undefined,
      seqHighWater: undefined,
      missing: new Map(),
      ackTrigger: random.int(0, PROTOCOL.ackModulo - 1),
      ackedSeq: 0,
      protocol: true,
      links: cfg.links.map(() => ({
        status: 'dead' as const,
        lastHeardAtMs: undefined,
        seqHighWater: undefined,
      })),
    });
  }
  const pingNodes = new Map<string, PingNodeState>();
  const pingHosts = new Map<string, string>();
  for (const p of cfg.pingNodes ?? []) {
    assert(!cfg.nodes.includes(p.name), `ping node ${p.name} is also a normal node`);
    assert(p.hosts.length > 0, `ping node ${p.name} has no host`);
    pingNodes.set(p.name, {
      name: p.name,
      hosts: p.hosts,
      status: 'init',
      lastReplyAtMs: undefined,
      link: 'dead',
    });
    for (const h of p.hosts) if (!pingHosts.has(h)) pingHosts.set(h, p.name);
  }
  return {
    cfg,
    random,
    startedAtMs: 0,
    started: false,
    localStatus: 'init',
    commUp: false,
    reqnodes: undefined,
    seq: 0,
    history: [],
    peers,
    pingNodes,
    pingHosts,
    selfLinks: cfg.links.map(() => ({
      status: 'dead' as const,
      lastHeardAtMs: undefined,
      seqHighWater: undefined,
    })),
    nextKeepaliveAtMs: 0,
    flowControl: true,
    lastStepAtMs: undefined,
  };
}

const hex = (n: number): string => n.toString(16);

function parseHex(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9a-fA-F]{1,13}$/.test(s)) return undefined;
  return Number.parseInt(s, 16);
}

function parseDec(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,15}$/.test(s)) return undefined;
  return Number.parseInt(s, 10);
}

/** Everything one step produces; collected while handling the input. */
class Step {
  readonly send: Outbound[] = [];
  readonly events: MembershipEvent[] = [];
  readonly deliver: Delivered[] = [];
  readonly probes: string[] = [];
  readonly st: MembershipState;
  readonly env: Env;
  constructor(st: MembershipState, env: Env) {
    this.st = st;
    this.env = env;
  }
  get now(): number {
    return this.env.monoMs;
  }
  get cfg(): MembershipConfig {
    return this.st.cfg;
  }
  get random(): Random {
    return this.st.random;
  }
}

/** Advance the core by one input. */
export function step(st: MembershipState, input: Input, env: Env): Output {
  const s = new Step(st, env);
  detectStall(s);
  switch (input.kind) {
    case 'start':
      start(s);
      break;
    case 'frame':
      receive(s, input.link, input.msg);
      break;
    case 'send':
      if (st.started) sendUser(s, input.msg);
      break;
    case 'pingReply':
      if (st.started) pingReply(s, input.host);
      break;
    case 'tick':
      break;
  }
  if (st.started) timers(s);
  st.lastStepAtMs = env.monoMs;
  return {
    send: s.send,
    events: s.events,
    deliver: s.deliver,
    wakeAtMs: nextWake(st),
    probes: s.probes,
  };
}

// ---------------------------------------------------------------------------------------
// Sending

/**
 * Fields that repeat from message to message (src, srcuuid, hg, ttl never change; ts and ld
 * change once a second), built once and shared: fields are immutable values, and building
 * them anew costs a few allocations per field on every heartbeat.
 */
interface FieldCache {
  readonly src: Field;
  readonly srcuuid: Field;
  readonly hg: Field;
  readonly ttl: Field;
  ts: Field | undefined;
  ld: Field | undefined;
}
const fieldCaches = new WeakMap<MembershipConfig, FieldCache>();

function fieldCacheOf(cfg: MembershipConfig): FieldCache {
  let c = fieldCaches.get(cfg);
  if (!c) {
    c = {
      src: stringField('src', cfg.localNode),
      srcuuid: binaryField('srcuuid', cfg.uuid),
      hg: stringField('hg', hex(cfg.generation)),
      ttl: stringField('ttl', String(cfg.nodes.length + cfg.hopfudge)),
      ts: undefined,
      ld: undefined,
    };
    fieldCaches.set(cfg, c);
  }
  return c;
}

/** A string field, reused while its value stays the same. */
function sameOr(cached: Field | undefined, name: string, value: string): Field {
  return cached !== undefined && cached.kind === 'string' && latin1Equals(cached.value, value)
    ? cached
    : stringField(name, value);
}

function latin1Equals(bytes: Uint8Array, text: string): boolean {
  if (bytes.length !== text.length) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Add heartbeat's control fields (heartbeat-wire.md §4) and keep non-NS messages for rexmit. */
function finish(s: Step, user: Message): Message {
  const { cfg, st } = s;
  const type = getString(user, 't') ?? '';
  const ns = type.startsWith('NS_');
  const cache = fieldCacheOf(cfg);
  // One copy of the field list, edited in place (setField semantics: the first field of that
  // name is replaced where it stands, else the field is appended).
  const fields = user.fields.slice();
  // NS_ messages keep fields already present (e.g. a pre-set src); others are overwritten.
  const put = (field: Field): void => {
    for (let i = 0; i < fields.length; i++) {
      if (fields[i]!.name === field.name) {
        if (!ns) fields[i] = field;
        return;
      }
    }
    fields.push(field);
  };
  const dest = getString(user, 'dest');
  if (dest !== undefined)
    put(binaryField('destuuid', st.peers.get(dest)?.uuid ?? (dest === cfg.localNode ? cfg.uuid : ZERO_UUID)));
  put(cache.src);
  put(cache.srcuuid);
  let seq = 0;
  if (!ns) {
    seq = ++st.seq;
    put(stringField('seq', hex(seq)));
  }
  put(cache.hg);
  cache.ts = sameOr(cache.ts, 'ts', hex(Math.max(1, Math.floor(s.env.wallMs / 1000))));
  put(cache.ts);
  if (!ns) {
    cache.ld = sameOr(cache.ld, 'ld', s.env.loadavg);
    put(cache.ld);
  }
  put(cache.ttl);
  const msg: Message = { fields };
  if (!ns) {
    st.history.push({ seq, msg, lastResentAtMs: undefined });
    if (st.history.length > PROTOCOL.historySize) st.history.shift();
  }
  return msg;
}

function emit(s: Step, user: Message): Message {
  const msg = finish(s, user);
  s.send.push({ msg });
  return msg;
}

/** A message from the layer above: sent to everybody, and looped back to ourselves. */
function sendUser(s: Step, user: Message): void {
  const msg = emit(s, user);
  const type = getString(msg, 't') ?? '';
  const dest = getString(msg, 'dest');
  if (!type.startsWith('NS_') && (dest === undefined || dest === s.cfg.localNode)) {
    s.deliver.push({ from: s.cfg.localNode, type, msg });
  }
}

/** Our current `dt`: deadtime, plus a margin in the first seconds after start. */
function advertisedDeadtime(s: Step): number {
  const young = s.now - s.st.startedAtMs < PROTOCOL.startupWindowMs;
  return s.cfg.deadtimeMs + (young ? PROTOCOL.startupDeadtimeExtraMs : 0);
}

function sendStatus(s: Step): void {
  const fields = [
    stringField('t', 'status'),
    stringField('st', s.st.localStatus),
    stringField('dt', hex(advertisedDeadtime(s))),
  ];
  if (s.st.flowControl) fields.push(stringField('protocol', PROTOCOL.version));
  emit(s, { fields });
  s.st.nextKeepaliveAtMs = s.now + s.cfg.keepaliveMs;
  // heartbeat's ping medium sends one echo per status it is handed (ping.c ping_write).
  for (const p of s.st.pingNodes.values()) for (const h of p.hosts) s.probes.push(h);
}

function setLocalStatus(s: Step, status: 'init' | 'up' | 'active'): void {
  if (s.st.localStatus === status) return;
  s.st.localStatus = status;
  s.events.push({ kind: 'localStatus', status });
}

function start(s: Step): void {
  const { st } = s;
  if (st.started) return;
  st.started = true;
  st.startedAtMs = s.now;
  // heartbeat's first packets: st=init (seq 1), then st=up: a new generation is seen on a status.
  sendStatus(s);
  setLocalStatus(s, 'up');
  sendStatus(s);
  if (st.peers.size === 0) commUp(s);
}

// ---------------------------------------------------------------------------------------
// Receiving

function setNodeStatus(s: Step, p: PeerState, to: NodeStatus): void {
  if (p.status === to) return;
  const from = p.status;
  p.status = to;
  s.events.push({ kind: 'nodeStatus', node: p.name, from, to });
}

function refreshLink(s: Step, node: string, links: PeerState['links'], link: number): void {
  const l = links[link];
  if (!l) return;
  l.lastHeardAtMs = s.now;
  if (l.status !== 'up') {
    l.status = 'up';
    s.events.push({ kind: 'linkStatus', node, link: s.cfg.links[link] ?? String(link), status: 'up' });
  }
}

/** A new generation starts its seqs again: what was seen of the old one says nothing. */
function forgetSeqHighWater(p: PeerState): void {
  p.seqHighWater = undefined;
  for (const l of p.links) l.seqHighWater = undefined;
}

function resetTracking(p: PeerState): void {
  p.lastSeq = undefined;
  p.missing.clear();
  p.lastStatusSeq = undefined;
  p.lastStatusTs = undefined;
  p.ackedSeq = 0;
}

function receive(s: Step, link: number, msg: Message): void {
  const { st, cfg } = s;
  const src = getString(msg, 'src')?.toLowerCase();
  const type = getString(msg, 't');
  const ts = parseHex(getString(msg, 'ts'));
  if (src === undefined || type === undefined || ts === undefined || ts === 0) {
    s.events.push({ kind: 'badMessage', node: src ?? '?', reason: 'missing or bad src/t/ts' });
    return;
  }
  if (src === cfg.localNode) {
    // Our own broadcast or multicast echo: it proves our side of the medium works, unless it
    // is an old frame of ours played back.
    const own = st.selfLinks[link];
    const hg = parseHex(getString(msg, 'hg'));
    const seq = parseHex(getString(msg, 'seq'));
    if (own && hg === cfg.generation && seq !== undefined && seq > (own.seqHighWater ?? 0)) {
      own.seqHighWater = seq;
      refreshLink(s, src, st.selfLinks, link);
    }
    return;
  }
  const p = st.peers.get(src);
  if (!p) {
    s.events.push({ kind: 'badNode', src });
    return;
  }
  const uuid = getBinary(msg, 'srcuuid');
  if (uuid && uuid.length === 16) {
    if (p.uuid && !bytesEq(p.uuid, uuid)) s.events.push({ kind: 'uuidChanged', node: p.name });
    p.uuid = uuid;
  }
  const dest = getString(msg, 'dest')?.toLowerCase();
  const forUs = dest === undefined || dest === cfg.localNode;

  if (type.startsWith('NS_')) {
    // NS_ messages carry no seq, so a replayed one cannot be told from a new one: they refresh
    // no liveness (status heartbeats on every medium do that).
    if (forUs) receiveNs(s, p, type, msg);
    return;
  }

  const hg = parseHex(getString(msg, 'hg'));
  const seq = parseHex(getString(msg, 'seq'));
  if (hg === undefined || seq === undefined || seq === 0) {
    s.events.push({ kind: 'badMessage', node: p.name, reason: 'missing or bad seq/hg' });
    return;
  }
  if (p.generation !== undefined && hg < p.generation && cfg.mutationAcceptOldGeneration !== true) {
    s.events.push({ kind: 'oldGeneration', node: p.name, generation: hg, known: p.generation });
    return;
  }
  const isStatus = type === 'status';
  let newGeneration = false;
  if (p.generation === undefined) {
    // Only a status names a peer's generation: adopting it from another message that
    // overtook the first status would make that status look like a healed partition.
    if (isStatus) {
      p.generation = hg;
      newGeneration = true;
      forgetSeqHighWater(p);
    }
  } else if (hg > p.generation) {
    if (!isStatus) return; // a restarted node announces its new generation with a status first
    s.events.push({ kind: 'restart', node: p.name, generation: hg });
    newGeneration = true;
    p.generation = hg;
    resetTracking(p);
    forgetSeqHighWater(p);
    if (p.status === 'dead') p.lastStatusAtMs = undefined;
  }
  // Replay protection: a seq of this generation seen before (and not a retransmission we
  // asked for) refreshes nothing, neither the node nor, when this link delivered it already,
  // the link. Only then may a dead node's frame count as a healed partition.
  const l = p.links[link];
  const newForLink = l !== undefined && (l.seqHighWater === undefined || seq > l.seqHighWater);
  if (p.seqHighWater !== undefined && seq <= p.seqHighWater && !p.missing.has(seq)) {
    if (newForLink) {
      // The same frame on another medium: proof that this medium works.
      l.seqHighWater = seq;
      refreshLink(s, p.name, p.links, link);
    } else {
      s.events.push({ kind: 'replay', node: p.name, seq, link: cfg.links[link] ?? String(link) });
    }
    return;
  }
  if (isStatus && p.status === 'dead' && !newGeneration) {
    // Same generation from a node we declared dead: it was alive all along (partition,
    // or it was frozen). heartbeat logs "Cluster node X returning after partition."
    s.events.push({ kind: 'partitionHealed', node: p.name });
    resetTracking(p);
  }
  if (newForLink) {
    l.seqHighWater = seq;
    refreshLink(s, p.name, p.links, link);
  }
  if (p.generation !== undefined && (p.seqHighWater === undefined || seq > p.seqHighWater))
    p.seqHighWater = seq;

  // Before its first status names the generation, a frame is taken but starts no sequence
  // tracking: a status it overtook would look old and be ignored, and the peer be declared
  // dead while it is heard (found by the fault campaign under reordering).
  if (p.generation !== undefined && !track(s, p, seq)) return;
  p.heard = true;

  if (isStatus) {
    receiveStatus(s, p, msg, seq, ts);
  } else if (forUs) {
    if (type === 'reqnodes') {
      emit(s, {
        fields: [
          stringField('dest', p.name),
          stringField('t', 'repnodes'),
          stringField('nodelist', cfg.nodes.map((n) => `${n} `).join('')),
          stringField('delnodelist', ' '),
        ],
      });
    } else if (type === 'repnodes') {
      const list = (getString(msg, 'nodelist') ?? '').split(' ').filter(Boolean);
      if (list.slice().sort().join(' ') !== cfg.nodes.slice().sort().join(' ')) {
        s.events.push({ kind: 'nodeListDiffers', node: p.name, nodelist: list });
      }
      if (st.reqnodes) {
        st.reqnodes = undefined;
        commUp(s);
      }
    } else {
      s.deliver.push({ from: p.name, type, msg });
    }
  }
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Sequence bookkeeping for every non-NS message, also those for other nodes
 * (should_drop_message). Returns whether the message is new and must be processed.
 */
function track(s: Step, p: PeerState, seq: number): boolean {
  if (p.lastSeq === undefined || seq === p.lastSeq + 1) {
    p.lastSeq = seq;
    maybeAck(s, p, seq);
    return true;
  }
  if (seq === p.lastSeq) return false;
  if (seq > p.lastSeq) {
    const count = seq - p.lastSeq - 1;
    if (count > PROTOCOL.maxMissing) {
      s.events.push({ kind: 'tooManyLost', node: p.name, count });
      p.missing.clear();
    } else {
      s.events.push({ kind: 'lostPackets', node: p.name, count, lastSeq: p.lastSeq, seq });
      for (let missing = p.lastSeq + 1; missing < seq; missing++) {
        if (p.missing.size >= PROTOCOL.maxMissing) break;
        p.missing.set(missing, s.now + firstRexmitDelay(s));
      }
    }
    p.lastSeq = seq;
    return true;
  }
  if (p.missing.delete(seq)) {
    if (p.missing.size === 0) {
      s.events.push({ kind: 'noPacketsMissing', node: p.name });
      sendAck(s, p, p.lastSeq);
    }
    return true;
  }
  return false;
}

/** heartbeat: random in [50, max] ms (or [0, max] when max < 100) before the first request. */
function firstRexmitDelay(s: Step): number {
  const max = s.cfg.maxRexmitDelayMs;
  return max < 100 ? s.random.int(0, max) : s.random.int(50, max);
}

function maybeAck(s: Step, p: PeerState, seq: number): void {
  // An ACK says "I have everything up to seq": never while a gap is open, or the sender
  // would ignore our retransmission requests for it.
  if (!s.st.flowControl || p.missing.size > 0) return;
  if (seq % PROTOCOL.ackModulo === p.ackTrigger) sendAck(s, p, seq);
}

function sendAck(s: Step, p: PeerState, seq: number): void {
  if (!s.st.flowControl) return;
  emit(s, {
    fields: [stringField('t', 'NS_ackmsg'), stringField('dest', p.name), stringField('ackseq', hex(seq))],
  });
}

function receiveStatus(s: Step, p: PeerState, msg: Message, seq: number, ts: number): void {
  const { cfg } = s;
  // A retransmitted old status (both ts and seq older) must not move the clock back.
  if (
    p.lastStatusTs !== undefined &&
    p.lastStatusSeq !== undefined &&
    ts < p.lastStatusTs &&
    seq < p.lastStatusSeq
  )
    return;
  if (p.lastStatusAtMs !== undefined) {
    const interval = s.now - p.lastStatusAtMs;
    if (interval > cfg.warntimeMs) {
      s.events.push({
        kind: 'lateHeartbeat',
        node: p.name,
        intervalMs: Math.round(interval),
        beyondDeadtime: interval > p.deadtimeMs,
      });
    }
  }
  p.lastStatusAtMs = s.now;
  p.lastStatusSeq = seq;
  p.lastStatusTs = ts;
  const dt = parseHex(getString(msg, 'dt'));
  p.deadtimeMs = dt !== undefined && dt > 0 ? dt : cfg.deadtimeMs;
  const st = getString(msg, 'st');
  const wasDead = p.status === 'dead';
  if (st === 'init' || st === 'up' || st === 'active') setNodeStatus(s, p, st);
  else s.events.push({ kind: 'badMessage', node: p.name, reason: `unknown status "${st ?? ''}"` });
  if (getString(msg, 'protocol') === undefined && p.protocol) {
    // heartbeat disables flow control for good when a peer does not speak it.
    p.protocol = false;
    if (s.st.flowControl) {
      s.st.flowControl = false;
      s.events.push({ kind: 'flowControlDisabled', node: p.name });
    }
  }
  if (wasDead && st !== 'init') {
    // A peer back from the dead sees our status at once (legacy-mode race, spec §8.6).
    sendStatus(s);
  }
}

function receiveNs(s: Step, p: PeerState, type: string, msg: Message): void {
  switch (type) {
    case 'NS_ackmsg': {
      const ack = parseHex(getString(msg, 'ackseq'));
      if (ack !== undefined && ack > p.ackedSeq && ack <= s.st.seq) p.ackedSeq = ack;
      return;
    }
    case 'NS_rexmit': {
      const first = parseDec(getString(msg, 'firstseq'));
      const last = parseDec(getString(msg, 'lastseq')) ?? first;
      if (first === undefined || last === undefined || last < first) {
        s.events.push({ kind: 'badMessage', node: p.name, reason: 'bad NS_rexmit range' });
        return;
      }
      serveRexmit(s, p, first, Math.min(last, first + PROTOCOL.maxRexmitPerRequest - 1));
      return;
    }
    case 'NS_nak_rexmit': {
      const seq = parseHex(getString(msg, 'firstseq'));
      if (seq !== undefined && p.missing.delete(seq)) {
        s.events.push({ kind: 'irretrievable', node: p.name, seq, info: getString(msg, 'info') ?? '' });
        if (p.missing.size === 0) s.events.push({ kind: 'noPacketsMissing', node: p.name });
      }
      return;
    }
    default:
      return;
  }
}

function serveRexmit(s: Step, p: PeerState, first: number, last: number): void {
  const { st, cfg } = s;
  const lowest = st.history[0]?.seq ?? st.seq + 1;
  for (let seq = first; seq <= last; seq++) {
    if (seq <= p.ackedSeq) continue;
    if (seq > st.seq) {
      s.events.push({ kind: 'rexmitBeyondMax', node: p.name, seq, maxSeq: st.seq });
      continue;
    }
    const entry = seq >= lowest ? st.history[seq - lowest] : undefined;
    if (!entry || entry.seq !== seq) {
      emit(s, {
        fields: [
          stringField('t', 'NS_nak_rexmit'),
          stringField('firstseq', hex(seq)),
          stringField('dest', p.name),
          stringField('info', seq < lowest ? 'seqno too low' : 'seqno not found'),
        ],
      });
      continue;
    }
    if (entry.lastResentAtMs !== undefined && s.now - entry.lastResentAtMs < cfg.maxRexmitDelayMs - 10)
      continue;
    entry.lastResentAtMs = s.now;
    s.send.push({ msg: entry.msg, rexmit: true });
  }
}

// ---------------------------------------------------------------------------------------
// Ping nodes (heartbeat's ping/ping_group media: the echo reply is a status of the pseudo node)

function deadpingOf(cfg: MembershipConfig): number {
  return cfg.deadpingMs ?? cfg.deadtimeMs;
}

/** `silentMs`: how long the ping node had not answered when its status changed. */
function setPingStatus(s: Step, p: PingNodeState, to: PingNodeStatus, silentMs: number): void {
  if (p.status === to) return;
  const from = p.status;
  p.status = to;
  s.events.push({ kind: 'pingNodeStatus', node: p.name, from, to, silentMs: Math.round(silentMs) });
}

function pingReply(s: Step, host: string): void {
  const name = s.st.pingHosts.get(host);
  const p = name === undefined ? undefined : s.st.pingNodes.get(name);
  if (!p) return; // not ours: the shell only reports hosts it was asked to ping
  const silentMs = s.now - (p.lastReplyAtMs ?? s.st.startedAtMs);
  p.lastReplyAtMs = s.now;
  if (p.link !== 'up') {
    p.link = 'up';
    s.events.push({ kind: 'linkStatus', node: p.name, link: p.name, status: 'up' });
  }
  setPingStatus(s, p, 'ping', silentMs);
}

function pingDeadlineOf(st: MembershipState, p: PingNodeState): number {
  return (p.lastReplyAtMs ?? st.startedAtMs) + deadpingOf(st.cfg);
}

function pingTimers(s: Step): void {
  for (const p of s.st.pingNodes.values()) {
    if (p.status === 'dead' || s.now < pingDeadlineOf(s.st, p)) continue;
    setPingStatus(s, p, 'dead', s.now - (p.lastReplyAtMs ?? s.st.startedAtMs));
    if (p.link === 'up') {
      p.link = 'dead';
      s.events.push({ kind: 'linkStatus', node: p.name, link: p.name, status: 'dead' });
    }
  }
}

// ---------------------------------------------------------------------------------------
// Timers

/**
 * If the whole process was frozen (SIGSTOP, a long stall), deadlines that passed meanwhile
 * say nothing about the peers: give each one a fresh, short chance before judging it.
 */
function detectStall(s: Step): void {
  const { st, cfg } = s;
  if (!st.started || st.lastStepAtMs === undefined) return;
  const gap = s.now - st.lastStepAtMs;
  // The core always asks to be woken at least every keepalive: anything far beyond is a freeze.
  if (gap <= cfg.keepaliveMs + 1000) return;
  s.events.push({ kind: 'stall', frozenMs: Math.round(gap) });
  const grace = cfg.stallGraceMs ?? 2 * cfg.keepaliveMs;
  // Our own echoes were not sent while we were frozen: silence says nothing about the path.
  const deadping = deadpingOf(cfg);
  for (const p of st.pingNodes.values()) {
    if (p.status === 'dead') continue;
    const since = p.lastReplyAtMs ?? st.startedAtMs;
    if (since + deadping < s.now + grace) {
      const fresh = s.now + Math.min(grace, deadping) - deadping;
      if (p.lastReplyAtMs !== undefined) p.lastReplyAtMs = fresh;
      else st.startedAtMs = Math.max(st.startedAtMs, fresh);
    }
  }
  for (const p of st.peers.values()) {
    if (p.status === 'dead') continue;
    const limit = limitFor(st, p);
    const since = p.lastStatusAtMs ?? st.startedAtMs;
    if (since + limit < s.now + grace) {
      const fresh = s.now + Math.min(grace, limit) - limit;
      if (p.lastStatusAtMs !== undefined) p.lastStatusAtMs = fresh;
      else st.startedAtMs = Math.max(st.startedAtMs, fresh);
    }
    for (const l of p.links) {
      if (
        l.status === 'up' &&
        l.lastHeardAtMs !== undefined &&
        l.lastHeardAtMs + p.deadtimeMs < s.now + grace
      ) {
        l.lastHeardAtMs = s.now + Math.min(grace, p.deadtimeMs) - p.deadtimeMs;
      }
    }
  }
}

/** Silence allowed for a peer: initdead before comm-up, its advertised dt after. */
function limitFor(st: MembershipState, p: PeerState): number {
  return st.commUp ? p.deadtimeMs : Math.max(st.cfg.initdeadMs, p.deadtimeMs);
}

function deadlineOf(st: MembershipState, p: PeerState): number {
  // A peer never heard since start gets initdead, also once comm-up came from another peer.
  if (p.lastStatusAtMs === undefined) return st.startedAtMs + Math.max(st.cfg.initdeadMs, p.deadtimeMs);
  return p.lastStatusAtMs + limitFor(st, p);
}

function declareDead(s: Step, p: PeerState): void {
  const since = p.lastStatusAtMs ?? s.st.startedAtMs;
  s.events.push({
    kind: 'nodeDead',
    node: p.name,
    silentMs: Math.round(s.now - since),
    limitMs: limitFor(s.st, p),
  });
  setNodeStatus(s, p, 'dead');
  p.missing.clear();
  for (let i = 0; i < p.links.length; i++) {
    const l = p.links[i]!;
    if (l.status === 'up') {
      l.status = 'dead';
      s.events.push({ kind: 'linkStatus', node: p.name, link: s.cfg.links[i] ?? String(i), status: 'dead' });
    }
  }
}

function commUp(s: Step): void {
  if (s.st.commUp) return;
  s.st.commUp = true;
  s.st.reqnodes = undefined;
  setLocalStatus(s, 'active');
  s.events.push({ kind: 'commUp' });
  sendStatus(s);
}

function firstLivePeer(st: MembershipState): PeerState | undefined {
  for (const name of st.cfg.nodes) {
    const p = st.peers.get(name);
    if (p?.heard && p.status !== 'dead') return p;
  }
  return undefined;
}

function sendReqnodes(s: Step, target: PeerState): void {
  emit(s, { fields: [stringField('t', 'reqnodes'), stringField('dest', target.name)] });
  s.st.reqnodes = { target: target.name, nextAtMs: s.now + PROTOCOL.reqnodesRetryMs };
}

function timers(s: Step): void {
  const { st, cfg } = s;
  pingTimers(s);
  for (const p of st.peers.values()) {
    if (p.status !== 'dead' && s.now >= deadlineOf(st, p)) declareDead(s, p);
    if (p.status === 'dead') continue;
    for (let i = 0; i < p.links.length; i++) {
      const l = p.links[i]!;
      if (l.status === 'up' && l.lastHeardAtMs !== undefined && s.now >= l.lastHeardAtMs + p.deadtimeMs) {
        l.status = 'dead';
        s.events.push({ kind: 'linkStatus', node: p.name, link: cfg.links[i] ?? String(i), status: 'dead' });
      }
    }
  }
  for (let i = 0; i < st.selfLinks.length; i++) {
    const l = st.selfLinks[i]!;
    if (l.status === 'up' && l.lastHeardAtMs !== undefined && s.now >= l.lastHeardAtMs + cfg.deadtimeMs) {
      l.status = 'dead';
      s.events.push({
        kind: 'linkStatus',
        node: cfg.localNode,
        link: cfg.links[i] ?? String(i),
        status: 'dead',
      });
    }
  }

  // Comm-up: every node heard from or dead. With flow control, sync node lists first.
  if (!st.commUp) {
    const settled = [...st.peers.values()].every((p) => p.heard || p.status === 'dead');
    if (settled) {
      const target = firstLivePeer(st);
      if (!target || !st.flowControl) {
        commUp(s);
      } else if (!st.reqnodes || st.reqnodes.target !== target.name) {
        sendReqnodes(s, target);
      } else if (s.now >= st.reqnodes.nextAtMs) {
        sendReqnodes(s, target);
      }
    } else if (st.reqnodes) {
      st.reqnodes = undefined;
    }
  }

  // Retransmission requests: one NS_rexmit per missing seq, repeated while it is missing.
  for (const p of st.peers.values()) {
    if (p.status !== 'up' && p.status !== 'active') continue;
    for (const [seq, at] of p.missing) {
      if (s.now < at) continue;
      emit(s, {
        fields: [
          stringField('t', 'NS_rexmit'),
          stringField('dest', p.name),
          stringField('firstseq', String(seq)),
          stringField('lastseq', String(seq)),
        ],
      });
      p.missing.set(seq, s.now + cfg.maxRexmitDelayMs);
    }
  }

  if (s.now >= st.nextKeepaliveAtMs) sendStatus(s);
}

function nextWake(st: MembershipState): number {
  if (!st.started) return Number.POSITIVE_INFINITY;
  let at = st.nextKeepaliveAtMs;
  for (const p of st.peers.values()) {
    if (p.status !== 'dead') at = Math.min(at, deadlineOf(st, p));
    if (p.status === 'dead') continue;
    for (const l of p.links) {
      if (l.status === 'up' && l.lastHeardAtMs !== undefined)
        at = Math.min(at, l.lastHeardAtMs + p.deadtimeMs);
    }
    if (p.status === 'up' || p.status === 'active') for (const t of p.missing.values()) at = Math.min(at, t);
  }
  for (const l of st.selfLinks) {
    if (l.status === 'up' && l.lastHeardAtMs !== undefined)
      at = Math.min(at, l.lastHeardAtMs + st.cfg.deadtimeMs);
  }
  if (st.reqnodes) at = Math.min(at, st.reqnodes.nextAtMs);
  for (const p of st.pingNodes.values()) if (p.status !== 'dead') at = Math.min(at, pingDeadlineOf(st, p));
  return at;
}

// ---------------------------------------------------------------------------------------
// Views for status commands

export interface NodeView {
  readonly name: string;
  readonly status: NodeStatus;
  readonly generation: number | undefined;
  /** The dead time in force for this node: its advertised `dt` (our own deadtime for us). */
  readonly deadtimeMs: number;
  readonly lastHeardAgoMs: number | undefined;
  /** Sequence tracking of this node's messages: highest in order, gaps open, what it acknowledged of ours. */
  readonly seq?: { readonly last: number | undefined; readonly missing: number; readonly ackedOurs: number };
  readonly links: readonly {
    readonly name: string;
    readonly status: LinkStatusView;
    readonly lastHeardAgoMs: number | undefined;
  }[];
}
type LinkStatusView = 'up' | 'dead';

/** A snapshot of every node (the local one first) for cl_status and tsbeat status. */
export function nodeViews(st: MembershipState, nowMs: number): NodeView[] {
  const { cfg } = st;
  const linkNames = cfg.links;
  const ago = (t: number | undefined): number | undefined =>
    t === undefined ? undefined : Math.round(nowMs - t);
  const out: NodeView[] = [
    {
      name: cfg.localNode,
      status: st.localStatus,
      generation: cfg.generation,
      deadtimeMs: cfg.deadtimeMs,
      lastHeardAgoMs: 0,
      links: st.selfLinks.map((l, i) => ({
        name: linkNames[i] ?? String(i),
        status: l.status,
        lastHeardAgoMs: ago(l.lastHeardAtMs),
      })),
    },
  ];
  for (const p of st.peers.values()) {
    out.push({
      name: p.name,
      status: p.status,
      generation: p.generation,
      deadtimeMs: p.deadtimeMs,
      lastHeardAgoMs: p.lastStatusAtMs === undefined ? undefined : nowMs - p.lastStatusAtMs,
      seq: { last: p.lastSeq, missing: p.missing.size, ackedOurs: p.ackedSeq },
      links: p.links.map((l, i) => ({
        name: linkNames[i] ?? String(i),
        status: l.status,
        lastHeardAgoMs: ago(l.lastHeardAtMs),
      })),
    });
  }
  return out;
}

/** A ping node as `cl_status` shows it: its status and its one link, named after it. */
export interface PingNodeView {
  readonly name: string;
  readonly hosts: readonly string[];
  readonly status: PingNodeStatus;
  readonly deadpingMs: number;
  readonly lastHeardAgoMs: number | undefined;
  readonly link: 'up' | 'dead';
}

/** Every ping node, in ha.cf order. */
export function pingNodeViews(st: MembershipState, nowMs: number): PingNodeView[] {
  return [...st.pingNodes.values()].map((p) => ({
    name: p.name,
    hosts: p.hosts,
    status: p.status,
    deadpingMs: deadpingOf(st.cfg),
    lastHeardAgoMs: p.lastReplyAtMs === undefined ? undefined : Math.round(nowMs - p.lastReplyAtMs),
    link: p.link,
  }));
}
