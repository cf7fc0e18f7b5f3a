// Part: ipfail, built in: the pure decision of heartbeat's ipfail client (contrib/ipfail/
// ipfail.c in heartbeat 3.0.x): compare how many ping nodes each side sees and make the
// side that sees fewer give its resources up (hb_standby semantics). Time and events come in;
// messages to send, a standby request, log lines and the next wake-up go out.
//
// The protocol is ipfail's own, on heartbeat's wire, so a tsbeat node and a heartbeat node
// running the real ipfail understand each other:
//   - when a ping node dies or comes back, and when the peer's ipfail joins, a node sends
//     `t=num_ping_nodes num_ping=N` to the peer (ask_ping_nodes);
//   - the receiver compares with its own count: more → `t=you_are_dead` back; fewer → it gives
//     up all its resources after a delay; equal → `t=abort_giveup` back, cancels its own
//     pending give-up, or (auto_failback on, holding foreign groups) gives those back;
//   - `you_are_dead` starts a delayed give-up of everything; `abort_giveup` cancels one.
// ipfail's delay is 2 x keepalive, restarted by every new verdict: the peer's ping node
// usually dies within a keepalive of ours, and its `abort_giveup` must arrive first.
//
// What tsbeat adds (hysteresis, so resources do not flap with a flaky ping node):
//   - a give-up fires only if this node still sees fewer ping nodes than the peer last said
//     it sees, and none is in transition (else it waits and asks again);
//   - the foreign give-back on a balanced count (auto_failback) waits deadping, not 2 x
//     keepalive: a ping node that came back must keep answering as long as it took to
//     declare it dead before the groups move again.

/** Which resources a give-up releases (hb_standby's argument). */
export type GiveupSet = 'all' | 'foreign';

export interface IpfailConfig {
  readonly localNode: string;
  /** The other normal node (ipfail works in pairs). */
  readonly peer: string;
  /** auto_failback on: on a balanced count, foreign groups are given back. */
  readonly autoFailback: boolean;
  /** ipfail's delayed give-up: 2 x keepalive. */
  readonly giveupDelayMs: number;
  /** Delay before giving foreign groups back on a balanced count: deadping. */
  readonly givebackDelayMs: number;
  /** How long to wait before retrying a give-up that met a transition. */
  readonly retryMs: number;
}

export interface IpfailState {
  readonly cfg: IpfailConfig;
  /** The peer's last reported count (from its num_ping_nodes); undefined = not heard. */
  peerCount: number | undefined;
  /** A pending give-up and when it fires. */
  giveup: { set: GiveupSet; atMs: number } | undefined;
}

/** What the node looks like at this step (read from the membership and ownership cores). */
export interface IpfailEnv {
  readonly nowMs: number;
  /** Ping nodes this node sees (status `ping`). */
  readonly count: number;
  /** No group is starting or stopping here (heartbeat's "stable"). */
  readonly stable: boolean;
  /** This node holds the peer's groups. */
  readonly holdsForeign: boolean;
}

export type IpfailInput =
  /** A ping node changed status (the count in env is the new one). */
  | { readonly kind: 'pingChanged' }
  /** The peer's ipfail signed on (hbapi-clstat join), or the peer came back. */
  | { readonly kind: 'peerJoined' }
  /** The peer is dead or left: nothing it said counts any more. */
  | { readonly kind: 'peerGone' }
  | { readonly kind: 'message'; readonly type: string; readonly numPing: string | undefined }
  | { readonly kind: 'tick' };

export interface IpfailOutput {
  /** Messages for the peer (fields in order; the shell adds dest and the client ids). */
  readonly send: (readonly (readonly [string, string])[])[];
  readonly standby: GiveupSet | undefined;
  readonly log: { readonly level: 'info' | 'warn'; readonly msg: string }[];
  readonly wakeAtMs: number;
}

export function createIpfail(cfg: IpfailConfig): IpfailState {
  return { cfg, peerCount: undefined, giveup: undefined };
}

/** Parse ipfail's num_ping (C atoi: leading digits; garbage is 0). */
function atoi(s: string | undefined): number {
  const m = /^\s*([+-]?\d{1,9})/.exec(s ?? '');
  return m ? Number.parseInt(m[1]!, 10) : 0;
}

export function ipfailStep(st: IpfailState, input: IpfailInput, env: IpfailEnv): IpfailOutput {
  const send: (readonly (readonly [string, string])[])[] = [];
  const log: IpfailOutput['log'] = [];
  let standby: GiveupSet | undefined;
  const { cfg } = st;
  const ask = (): void => {
    log.push({
      level: 'info',
      msg: `ipfail: asking ${cfg.peer} for its ping node count (we see ${env.count})`,
    });
    send.push([
      ['t', 'num_ping_nodes'],
      ['num_ping', String(env.count)],
    ]);
  };
  const delayGiveup = (set: GiveupSet, delayMs: number): void => {
    st.giveup = { set, atMs: env.nowMs + delayMs };
    log.push({
      level: 'info',
      msg: `ipfail: giving up ${set} resources in ${Math.round(delayMs)} ms unless the counts balance`,
    });
  };
  switch (input.kind) {
    case 'pingChanged':
    case 'peerJoined':
      ask();
      break;
    case 'peerGone':
      st.peerCount = undefined;
      if (st.giveup)
        log.push({ level: 'info', msg: `ipfail: ${cfg.peer} is gone; pending give-up cancelled` });
      st.giveup = undefined;
      break;
    case 'message':
      switch (input.type) {
        case 'num_ping_nodes': {
          const theirs = atoi(input.numPing);
          st.peerCount = theirs;
          if (env.count > theirs) {
            log.push({
              level: 'info',
              msg: `ipfail: we see ${env.count} ping node(s), ${cfg.peer} ${theirs}: telling it to give up`,
            });
            send.push([['t', 'you_are_dead']]);
          } else if (env.count < theirs) {
            log.push({
              level: 'warn',
              msg: `ipfail: we see ${env.count} ping node(s), ${cfg.peer} ${theirs}: giving up because we have less visible ping nodes`,
            });
            delayGiveup('all', cfg.giveupDelayMs);
          } else {
            log.push({ level: 'info', msg: `ipfail: ping node count is balanced (${env.count})` });
            send.push([['t', 'abort_giveup']]);
            if (st.giveup) {
              log.push({ level: 'info', msg: 'ipfail: aborted delayed give-up' });
              st.giveup = undefined;
            } else if (cfg.autoFailback && env.holdsForeign) {
              log.push({ level: 'info', msg: 'ipfail: giving up foreign resources (auto_failback)' });
              delayGiveup('foreign', cfg.givebackDelayMs);
            }
          }
          break;
        }
        case 'you_are_dead':
          log.push({
            level: 'warn',
            msg: `ipfail: ${cfg.peer} sees more ping nodes than we do (${env.count}): giving up`,
          });
          // The peer said it sees more than we do; remember that for the re-check at fire time.
          st.peerCount = Math.max(st.peerCount ?? 0, env.count + 1);
          delayGiveup('all', cfg.giveupDelayMs);
          break;
        case 'abort_giveup':
          if (st.giveup) {
            log.push({
              level: 'info',
              msg: `ipfail: ${cfg.peer} sees as many ping nodes: aborted delayed give-up`,
            });
            st.giveup = undefined;
          }
          break;
        default:
          break;
      }
      break;
    case 'tick':
      break;
  }
  const g = st.giveup;
  if (g && env.nowMs >= g.atMs) {
    if (!env.stable) {
      // heartbeat's ipfail waits for stability and then asks again.
      st.giveup = { set: g.set, atMs: env.nowMs + cfg.retryMs };
    } else if (g.set === 'all' && st.peerCount !== undefined && env.count >= st.peerCount) {
      log.push({
        level: 'info',
        msg: `ipfail: we see ${env.count} ping node(s) again, ${cfg.peer} last said ${st.peerCount}: not giving up; asking again`,
      });
      st.giveup = undefined;
      ask();
    } else if (g.set === 'foreign' && !env.holdsForeign) {
      st.giveup = undefined;
    } else {
      st.giveup = undefined;
      log.push({ level: 'warn', msg: `ipfail: giving up ${g.set} resources (hb_standby ${g.set})` });
      standby = g.set;
    }
  }
  return { send, standby, log, wakeAtMs: st.giveup ? st.giveup.atMs : Number.POSITIVE_INFINITY };
}
