/**
 * The ownership core reports typed events; the shell words them (src/node/words.ts). Log
 * watchers and the interop tests compare these lines with heartbeat 3.0.6's, so their text
 * and level are compatibility. This table gives, for every event kind (the Record type makes
 * a new kind without a line here a compile error), the exact lines the core wrote before it
 * emitted events (heartbeat's where it has one: hb_resource.c, ResourceManager), one
 * `level: text` per line, in order.
 */
import { describe, expect, it } from 'vitest';
import type { NodeLog } from '../../../src/node/ha-node.js';
import { wordOwnershipEvent } from '../../../src/node/words.js';
import type { OwnershipEvent, OwnershipEventKind } from '../../../src/resources/model.js';

type Case = readonly [OwnershipEvent, readonly string[]];

const CASES: { readonly [K in OwnershipEventKind]: readonly Case[] } = {
  initialAcquisitionDone: [
    [
      { kind: 'initialAcquisitionDone', reason: 'T_RESOURCES(us)' },
      ['info: Initial resource acquisition complete (T_RESOURCES(us))'],
    ],
  ],
  noLocalResources: [
    [
      { kind: 'noLocalResources', node: 'n1' },
      ['info: No local resources [ResourceManager listkeys n1] to acquire.'],
    ],
  ],
  remoteTransitionCompleted: [
    [{ kind: 'remoteTransitionCompleted' }, ['info: remote resource transition completed.']],
  ],
  localTransitionCompleted: [
    [{ kind: 'localTransitionCompleted' }, ['info: local resource transition completed.']],
  ],
  localAcquisitionCompleted: [
    [{ kind: 'localAcquisitionCompleted', none: false }, ['info: Local Resource acquisition completed.']],
    [
      { kind: 'localAcquisitionCompleted', none: true },
      ['info: Local Resource acquisition completed. (none)'],
    ],
  ],
  localAcquisitionWaitsForFence: [
    [
      { kind: 'localAcquisitionWaitsForFence' },
      ['info: Local Resource acquisition waits for STONITH of the dead peer.'],
    ],
  ],
  badRscHold: [
    [
      { kind: 'badRscHold', from: 'n2', value: 'most', message: 'resource' },
      ['error: bad rsc_hold "most" in a resource message from n2'],
    ],
    [
      { kind: 'badRscHold', from: 'n2', value: '', message: 'ask_resources' },
      ['error: bad rsc_hold "" in ask_resources from n2'],
    ],
  ],
  lateAnnouncement: [
    [
      { kind: 'lateAnnouncement', from: 'n2', seq: '1f' },
      ['info: late resource announcement from n2 (seq 1f) ignored'],
    ],
  ],
  audit: [
    [{ kind: 'audit', finding: 'bothOwnOurs' }, ['error: Both machines own our resources!']],
    [{ kind: 'audit', finding: 'bothOwnForeign' }, ['error: Both machines own foreign resources!']],
    [{ kind: 'audit', finding: 'noneOwnsOurs' }, ['error: No one owns our local resources!']],
    [{ kind: 'audit', finding: 'noneOwnsForeign' }, ['error: No one owns foreign resources!']],
  ],
  takingUnheldOwnGroups: [
    [{ kind: 'takingUnheldOwnGroups' }, ['warn: taking our own resources: neither node holds them']],
  ],
  overlapRelease: [
    [
      { kind: 'overlapRelease', node: 'n1', peer: 'n2', keys: ['B', 'C'] },
      ['warn: both n1 and n2 hold the groups n2 prefers (B C): releasing them here so that none runs twice'],
    ],
  ],
  standbyNeedsNiceFailback: [
    [{ kind: 'standbyNeedsNiceFailback' }, ['info: Standby mode only implemented when nice_failback on']],
  ],
  goingStandby: [[{ kind: 'goingStandby', set: 'all' }, ['info: Going standby [all].']]],
  standbyBusy: [
    [
      { kind: 'standbyBusy', from: 'n2', secondsLeft: 7 },
      ['warn: Standby in progress- new request from n2 ignored [7 seconds left]'],
    ],
  ],
  standbyPeerInFlux: [
    [
      { kind: 'standbyPeerInFlux', from: 'n1' },
      ['warn: standby message [me] from n1 ignored.  Other side is in flux.'],
    ],
  ],
  standbyLocalInFlux: [
    [
      { kind: 'standbyLocalInFlux', from: 'n2' },
      ['warn: standby message [me] from n2 ignored.  local resources in flux.'],
    ],
  ],
  wantsStandby: [
    [{ kind: 'wantsStandby', node: 'n2', set: 'local' }, ['info: n2 wants to go standby [local]']],
  ],
  standbyMessageIgnored: [
    [
      { kind: 'standbyMessageIgnored', from: 'n2', info: 'other', phase: 'not' },
      ["error: Ignored standby message 'other' from n2 in state not"],
    ],
    [
      { kind: 'standbyMessageIgnored', from: 'n1', info: 'done', phase: 'me' },
      ["error: Ignored standby message 'done' from n1 in state me"],
    ],
  ],
  standbyAnswerMismatch: [
    [
      { kind: 'standbyAnswerMismatch', from: 'n2', set: 'foreign', asked: 'local' },
      ["error: Ignored standby message 'other' [foreign] from n2: we asked for [local]"],
    ],
  ],
  standbyPeerCanTake: [
    [
      { kind: 'standbyPeerCanTake', peer: 'n2', set: 'local' },
      ['info: standby: n2 can take our local resources'],
    ],
  ],
  standbyGiveUp: [[{ kind: 'standbyGiveUp', set: 'local' }, ['info: give up local HA resources (standby).']]],
  standbyLocalCompleted: [
    [{ kind: 'standbyLocalCompleted', set: 'local' }, ['info: Local standby process completed [local].']],
  ],
  standbyAcquisitionDone: [
    [{ kind: 'standbyAcquisitionDone', set: 'local' }, ['info: Standby resource acquisition done [local].']],
  ],
  standbyPeerCompletedTakeover: [
    [
      { kind: 'standbyPeerCompletedTakeover', set: 'all' },
      ['info: Other node completed standby takeover of all resources.'],
    ],
  ],
  standbyAcquireFrom: [
    [
      { kind: 'standbyAcquireFrom', peer: 'n1', set: 'local', mine: 'foreign' },
      ['info: standby: acquire [local] resources from n1', 'info: acquire foreign HA resources (standby).'],
    ],
  ],
  standbyAdoptReleased: [
    [
      { kind: 'standbyAdoptReleased', peer: 'n1', set: 'local' },
      ['info: standby: n1 gave up [local] after the exchange was cancelled here; acquiring them'],
    ],
  ],
  standbyReleaseCompleted: [
    [
      { kind: 'standbyReleaseCompleted', set: 'local' },
      ['info: local HA resource release completed (standby).'],
    ],
  ],
  standbyAcquisitionCompleted: [
    [
      { kind: 'standbyAcquisitionCompleted', set: 'foreign' },
      ['info: foreign HA resource acquisition completed (standby).'],
    ],
  ],
  standbyAborted: [
    [
      { kind: 'standbyAborted', set: 'all', keys: ['A'] },
      ['crit: standby of [all] aborted: A could not be stopped; this node keeps it'],
    ],
  ],
  standbyCancelled: [
    [{ kind: 'standbyCancelled', why: 'peerGone' }, ['info: Cancelling pending standby operation']],
    [
      { kind: 'standbyCancelled', why: 'overlap' },
      ['warn: Standby request cancelled: both nodes hold the same groups.'],
    ],
    [
      { kind: 'standbyCancelled', why: 'noReply' },
      ['warn: No reply to standby request.  Standby request cancelled.'],
    ],
    [
      { kind: 'standbyCancelled', why: 'timedOut', peer: 'n2' },
      ['warn: Standby transfer with n2 timed out; standby cancelled.'],
    ],
    [
      { kind: 'standbyCancelled', why: 'abandonedByPeer', peer: 'n2' },
      ['warn: Standby transfer with n2 abandoned by n2; standby cancelled.'],
    ],
    [
      { kind: 'standbyCancelled', why: 'peerStable', peer: 'n2' },
      ['warn: Standby transfer with n2 ended: n2 is stable; standby cancelled.'],
    ],
  ],
  deadNodeGaveUp: [[{ kind: 'deadNodeGaveUp', node: 'n2' }, ['info: Dead node n2 gave up resources.']]],
  noStonith: [
    [{ kind: 'noStonith' }, ['warn: No STONITH device configured.', 'warn: Shared disks are not protected.']],
  ],
  sharedStorageNotTaken: [
    [
      { kind: 'sharedStorageNotTaken', key: 'drbddisk::r0', node: 'n2' },
      [
        'crit: not taking over drbddisk::r0: it uses shared storage and n2 could not be fenced, so it may still write to it (configure stonith_host in ha.cf, or accept the risk with "takeover_without_fencing yes" in tsbeat.cf)',
      ],
    ],
  ],
  takeoverCancelledByShutdown: [
    [{ kind: 'takeoverCancelledByShutdown' }, ['info: Resource takeover cancelled - shutdown in progress.']],
  ],
  takeoverFrom: [[{ kind: 'takeoverFrom', node: 'n2' }, ['info: Resources being acquired from n2.']]],
  machDownComplete: [
    [
      { kind: 'machDownComplete', node: 'n2' },
      ['info: mach_down takeover complete for node n2.', 'info: mach_down takeover complete.'],
    ],
  ],
  shutdownNotice: [[{ kind: 'shutdownNotice', node: 'n2' }, ["info: Received shutdown notice from 'n2'."]]],
  partitionReturn: [
    [{ kind: 'partitionReturn', node: 'n2' }, ['crit: Cluster node n2 returning after partition.']],
  ],
  partitionRelease: [
    [
      { kind: 'partitionRelease', node: 'n2', keys: ['B'] },
      ['warn: partition healed: releasing the groups n2 prefers (B) so that none runs twice'],
    ],
  ],
  fenceFailed: [[{ kind: 'fenceFailed', node: 'n2' }, ['error: STONITH of n2 failed.  Retrying...']]],
  ipRequestResp: [
    [
      { kind: 'ipRequestResp', key: '10.0.0.1', ok: 'OK', weown: 'yes' },
      ['info: received ip-request-resp 10.0.0.1 OK yes'],
    ],
  ],
  peerKeeps: [
    [
      { kind: 'peerKeeps', peer: 'n2', key: 'A' },
      ['warn: n2 keeps A (its stop failed there): not acquiring it; asking again later'],
    ],
  ],
  shutdownDelayed: [
    [{ kind: 'shutdownDelayed' }, ['warn: Shutdown delayed until current resource activity finishes.']],
  ],
  shutdownInProgress: [
    [{ kind: 'shutdownInProgress', pid: 4242 }, ['info: Heartbeat shutdown in progress. (4242)']],
  ],
  givingUpAll: [[{ kind: 'givingUpAll' }, ['info: Giving up all HA resources.']]],
  allRelinquished: [[{ kind: 'allRelinquished' }, ['info: All HA resources relinquished.']]],
  shutdownAborted: [
    [
      { kind: 'shutdownAborted', keys: ['A', 'B'] },
      [
        'crit: shutdown aborted: A B could not be stopped; this node keeps holding it (fix it, then run "tsbeat stop" again)',
      ],
    ],
  ],
  startFailed: [[{ kind: 'startFailed', key: 'A' }, ['crit: Giving up resources due to failure of A']]],
  recoverStart: [
    [
      { kind: 'recoverStart', keys: ['A'] },
      ['info: retrying the start of A (its last start or stop failed here)'],
    ],
  ],
  recoverStop: [
    [
      { kind: 'recoverStop', keys: ['A', 'B'] },
      ['info: retrying the stop of A B (it may still run here, and this node does not hold it)'],
    ],
  ],
};

function worded(e: OwnershipEvent): string[] {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (msg: string): void => {
      lines.push(`${level}: ${msg}`);
    };
  const log: NodeLog = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    crit: at('crit'),
  };
  wordOwnershipEvent(log, e);
  return lines;
}

describe('the ownership core’s events, worded', () => {
  const cases = Object.values(CASES).flat();

  it('covers all 50 event kinds', () => {
    expect(Object.keys(CASES)).toHaveLength(50);
    expect(new Set(cases.map(([e]) => e.kind)).size).toBe(50);
  });

  it.each(cases.map(([e, lines]) => [`${e.kind} ${JSON.stringify(e)}`, e, lines] as const))(
    '%s',
    (_name, e, lines) => {
      expect(worded(e)).toEqual(lines);
    },
  );
});
