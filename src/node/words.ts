// Part: the operator's words for what the membership and ownership cores report (heartbeat's
// log lines, heartbeat-rm-cli.md §5 and §7.3, plus tsbeat's measured figures) and for medium
// trouble. Log watchers grep these lines: their text is compatibility, not prose.

import { printable } from '../lib/printable.js';
import type { RejectedInput } from '../lib/rejected.js';
import type { MediumEvent } from '../media/medium.js';
import type { MembershipEvent } from '../membership/model.js';
import type { OwnershipEvent } from '../resources/model.js';
import type { NodeLog } from './ha-node.js';

/** heartbeat's operator lines (heartbeat-rm-cli.md §7.3), plus tsbeat's measured figures. */
export function wordMembershipEvent(log: NodeLog, rejected: RejectedInput, e: MembershipEvent): void {
  switch (e.kind) {
    case 'localStatus':
      log.info(`Local status now set to: '${e.status}'`);
      return;
    case 'nodeStatus':
      if (e.to !== 'dead')
        log.info(`Status update for node ${e.node}: status ${e.to}`, {
          node: e.node,
          from: e.from,
          to: e.to,
        });
      return;
    case 'nodeDead':
      log.warn(`node ${e.node}: is dead`, { node: e.node, silentMs: e.silentMs, limitMs: e.limitMs });
      log.info(`node ${e.node}: last heartbeat ${e.silentMs} ms ago (limit ${e.limitMs} ms)`);
      return;
    case 'pingNodeStatus':
      // heartbeat words a ping node like any node: "is dead", or a status update to `ping`.
      if (e.to === 'dead') {
        log.warn(`node ${e.node}: is dead`, { node: e.node, silentMs: e.silentMs, ping: true });
        log.info(`ping node ${e.node}: no echo reply for ${e.silentMs} ms (deadping)`);
      } else if (e.to === 'ping') {
        log.info(`Status update for node ${e.node}: status ping`, { node: e.node, from: e.from, to: e.to });
      }
      return;
    case 'linkStatus':
      log.info(`Link ${e.node}:${e.link} ${e.status}.`, { node: e.node, link: e.link, status: e.status });
      return;
    case 'lateHeartbeat':
      if (e.beyondDeadtime)
        log.crit(`Late heartbeat: Node ${e.node}: interval ${e.intervalMs} ms (> deadtime)`);
      else log.warn(`Late heartbeat: Node ${e.node}: interval ${e.intervalMs} ms`);
      return;
    case 'restart':
      log.info(`Heartbeat restart on node ${e.node}`, { node: e.node, generation: e.generation });
      return;
    case 'partitionHealed':
      log.crit(`Cluster node ${e.node} returning after partition.`);
      log.info('For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain');
      log.warn('Deadtime value may be too small.');
      return;
    case 'commUp':
      log.info('Comm_now_up(): updating status to active');
      return;
    case 'lostPackets':
      log.warn(`${e.count} lost packet(s) for [${e.node}] [${e.lastSeq}:${e.seq}]`);
      return;
    case 'tooManyLost':
      log.error(`lost a lot of packets (${e.count}) from ${e.node}: sequence tracking reset`);
      return;
    case 'noPacketsMissing':
      log.info(`No pkts missing from ${e.node}!`);
      return;
    case 'irretrievable':
      log.error(`Irretrievably lost packet: node ${e.node} seq ${e.seq} (${e.info})`);
      return;
    case 'oldGeneration':
      rejected.reject(
        'oldGeneration',
        e.node,
        `should_drop_message: attempted replay attack [${e.node}]? [gen = ${e.generation}, curgen = ${e.known}]`,
      );
      return;
    case 'replay':
      rejected.reject(
        'replay',
        e.node,
        `frame seq ${e.seq} of ${e.node} seen before on ${e.link}: replayed or duplicated; dropped, it refreshes nothing`,
        'warn',
      );
      return;
    case 'badNode':
      rejected.reject('badNode', e.src, `bad node [${printable(e.src, 100)}] in message`);
      return;
    case 'badMessage':
      rejected.reject('badMessage', e.node, `bad message from ${printable(e.node, 100)}: ${e.reason}`);
      return;
    case 'uuidChanged':
      log.info(`node ${e.node} changed its uuid`);
      return;
    case 'flowControlDisabled':
      log.info(`flow control disabled due to different version heartbeat (node ${e.node})`);
      return;
    case 'rexmitBeyondMax':
      log.warn(`Rexmit of seq ${e.seq} requested by ${e.node}. ${e.maxSeq} is max.`);
      return;
    case 'stall':
      log.warn(
        `tsbeat did not run for ${e.frozenMs} ms (stopped or starved): giving every peer a fresh chance before judging it`,
      );
      return;
    case 'nodeListDiffers':
      log.warn(`node ${e.node} reports nodes [${e.nodelist.join(' ')}], which differ from ha.cf`);
      return;
  }
}

/** heartbeat-style log lines for medium trouble. */
export function logMediumEvent(log: NodeLog, e: MediumEvent): void {
  switch (e.kind) {
    case 'send-failed':
      log.error(`write failure on ${e.medium}: ${e.message}`);
      return;
    case 'send-errors-suppressed':
      log.warn(`Temporarily Suppressing write error messages on ${e.medium}`);
      log.warn(`Is a cable unplugged on ${e.medium}?`);
      return;
    case 'send-recovered':
      log.info(`${e.medium}: writes work again after ${e.failed} failures`);
      return;
    case 'send-dropped':
      log.warn(`${e.medium}: ${e.frames} frame(s) dropped (${e.reason})`);
      return;
    case 'receive-error':
      log.error(`read failure on ${e.medium}: ${e.message}`);
      return;
    case 'receive-dropped':
      log.warn(`${e.medium}: ${e.bytes} received bytes dropped (${e.reason})`);
      return;
    case 'notice':
      log.info(`${e.medium}: ${e.message}`);
      return;
  }
}

const TAKE_RISK =
  '(configure stonith_host in ha.cf, or accept the risk with "takeover_without_fencing yes" in tsbeat.cf)';

/**
 * heartbeat's resource manager lines (hb_resource.c, ResourceManager; heartbeat-rm-cli.md §5),
 * word for word where heartbeat has one, and tsbeat's own where it does more (overlap
 * resolution, recovery, fencing refusals). The interop tests compare these with real heartbeat.
 */
export function wordOwnershipEvent(log: NodeLog, e: OwnershipEvent): void {
  switch (e.kind) {
    case 'initialAcquisitionDone':
      log.info(`Initial resource acquisition complete (${e.reason})`);
      return;
    case 'noLocalResources':
      log.info(`No local resources [ResourceManager listkeys ${e.node}] to acquire.`);
      return;
    case 'remoteTransitionCompleted':
      log.info('remote resource transition completed.');
      return;
    case 'localTransitionCompleted':
      log.info('local resource transition completed.');
      return;
    case 'localAcquisitionCompleted':
      log.info(
        e.none ? 'Local Resource acquisition completed. (none)' : 'Local Resource acquisition completed.',
      );
      return;
    case 'localAcquisitionWaitsForFence':
      log.info('Local Resource acquisition waits for STONITH of the dead peer.');
      return;
    case 'badRscHold':
      log.error(
        e.message === 'resource'
          ? `bad rsc_hold "${e.value}" in a resource message from ${e.from}`
          : `bad rsc_hold "${e.value}" in ask_resources from ${e.from}`,
      );
      return;
    case 'lateAnnouncement':
      log.info(`late resource announcement from ${e.from} (seq ${e.seq}) ignored`);
      return;
    case 'audit':
      log.error(AUDIT_WORDS[e.finding]);
      return;
    case 'takingUnheldOwnGroups':
      log.warn('taking our own resources: neither node holds them');
      return;
    case 'overlapRelease':
      log.warn(
        `both ${e.node} and ${e.peer} hold the groups ${e.peer} prefers (${e.keys.join(' ')}): releasing them here so that none runs twice`,
      );
      return;
    case 'standbyNeedsNiceFailback':
      log.info('Standby mode only implemented when nice_failback on');
      return;
    case 'goingStandby':
      log.info(`Going standby [${e.set}].`);
      return;
    case 'standbyBusy':
      log.warn(`Standby in progress- new request from ${e.from} ignored [${e.secondsLeft} seconds left]`);
      return;
    case 'standbyPeerInFlux':
      log.warn(`standby message [me] from ${e.from} ignored.  Other side is in flux.`);
      return;
    case 'standbyLocalInFlux':
      log.warn(`standby message [me] from ${e.from} ignored.  local resources in flux.`);
      return;
    case 'wantsStandby':
      log.info(`${e.node} wants to go standby [${e.set}]`);
      return;
    case 'standbyMessageIgnored':
      log.error(`Ignored standby message '${e.info}' from ${e.from} in state ${e.phase}`);
      return;
    case 'standbyAnswerMismatch':
      log.error(`Ignored standby message 'other' [${e.set}] from ${e.from}: we asked for [${e.asked}]`);
      return;
    case 'standbyPeerCanTake':
      log.info(`standby: ${e.peer} can take our ${e.set} resources`);
      return;
    case 'standbyGiveUp':
      log.info(`give up ${e.set} HA resources (standby).`);
      return;
    case 'standbyLocalCompleted':
      log.info(`Local standby process completed [${e.set}].`);
      return;
    case 'standbyAcquisitionDone':
      log.info(`Standby resource acquisition done [${e.set}].`);
      return;
    case 'standbyPeerCompletedTakeover':
      log.info(`Other node completed standby takeover of ${e.set} resources.`);
      return;
    case 'standbyAcquireFrom':
      log.info(`standby: acquire [${e.set}] resources from ${e.peer}`);
      log.info(`acquire ${e.mine} HA resources (standby).`);
      return;
    case 'standbyAdoptReleased':
      log.info(`standby: ${e.peer} gave up [${e.set}] after the exchange was cancelled here; acquiring them`);
      return;
    case 'standbyReleaseCompleted':
      log.info(`${e.set} HA resource release completed (standby).`);
      return;
    case 'standbyAcquisitionCompleted':
      log.info(`${e.set} HA resource acquisition completed (standby).`);
      return;
    case 'standbyAborted':
      log.crit(`standby of [${e.set}] aborted: ${e.keys.join(' ')} could not be stopped; this node keeps it`);
      return;
    case 'standbyCancelled':
      switch (e.why) {
        case 'peerGone':
          log.info('Cancelling pending standby operation');
          return;
        case 'overlap':
          log.warn('Standby request cancelled: both nodes hold the same groups.');
          return;
        case 'noReply':
          log.warn('No reply to standby request.  Standby request cancelled.');
          return;
        case 'timedOut':
          log.warn(`Standby transfer with ${e.peer} timed out; standby cancelled.`);
          return;
        case 'abandonedByPeer':
          log.warn(`Standby transfer with ${e.peer} abandoned by ${e.peer}; standby cancelled.`);
          return;
        case 'peerStable':
          log.warn(`Standby transfer with ${e.peer} ended: ${e.peer} is stable; standby cancelled.`);
          return;
      }
      return;
    case 'deadNodeGaveUp':
      log.info(`Dead node ${e.node} gave up resources.`);
      return;
    case 'noStonith':
      log.warn('No STONITH device configured.');
      log.warn('Shared disks are not protected.');
      return;
    case 'sharedStorageNotTaken':
      log.crit(
        `not taking over ${e.key}: it uses shared storage and ${e.node} could not be fenced, so it may still write to it ${TAKE_RISK}`,
      );
      return;
    case 'takeoverCancelledByShutdown':
      log.info('Resource takeover cancelled - shutdown in progress.');
      return;
    case 'takeoverFrom':
      log.info(`Resources being acquired from ${e.node}.`);
      return;
    case 'machDownComplete':
      log.info(`mach_down takeover complete for node ${e.node}.`);
      log.info('mach_down takeover complete.');
      return;
    case 'shutdownNotice':
      log.info(`Received shutdown notice from '${e.node}'.`);
      return;
    case 'partitionReturn':
      log.crit(`Cluster node ${e.node} returning after partition.`);
      return;
    case 'partitionRelease':
      log.warn(
        `partition healed: releasing the groups ${e.node} prefers (${e.keys.join(' ')}) so that none runs twice`,
      );
      return;
    case 'fenceFailed':
      log.error(`STONITH of ${e.node} failed.  Retrying...`);
      return;
    case 'ipRequestResp':
      log.info(`received ip-request-resp ${e.key} ${e.ok} ${e.weown}`);
      return;
    case 'peerKeeps':
      log.warn(`${e.peer} keeps ${e.key} (its stop failed there): not acquiring it; asking again later`);
      return;
    case 'shutdownDelayed':
      log.warn('Shutdown delayed until current resource activity finishes.');
      return;
    case 'shutdownInProgress':
      log.info(`Heartbeat shutdown in progress. (${e.pid})`);
      return;
    case 'givingUpAll':
      log.info('Giving up all HA resources.');
      return;
    case 'allRelinquished':
      log.info('All HA resources relinquished.');
      return;
    case 'shutdownAborted':
      log.crit(
        `shutdown aborted: ${e.keys.join(' ')} could not be stopped; this node keeps holding it (fix it, then run "tsbeat stop" again)`,
      );
      return;
    case 'startFailed':
      log.crit(`Giving up resources due to failure of ${e.key}`);
      return;
    case 'recoverStart':
      log.info(`retrying the start of ${e.keys.join(' ')} (its last start or stop failed here)`);
      return;
    case 'recoverStop':
      log.info(
        `retrying the stop of ${e.keys.join(' ')} (it may still run here, and this node does not hold it)`,
      );
      return;
  }
}

/** heartbeat's audit lines (hb_resource.c), by finding. */
const AUDIT_WORDS = {
  bothOwnOurs: 'Both machines own our resources!',
  bothOwnForeign: 'Both machines own foreign resources!',
  noneOwnsOurs: 'No one owns our local resources!',
  noneOwnsForeign: 'No one owns foreign resources!',
} as const;
