// Part: the operator's words for what the membership core reports (heartbeat's log lines,
// heartbeat-rm-cli.md §7.3, plus tsbeat's measured figures) and for medium trouble. Log
// watchers grep these lines: their text is compatibility, not prose.

import { printable } from '../lib/printable.js';
import type { RejectedInput } from '../lib/rejected.js';
import type { MediumEvent } from '../media/medium.js';
import type { MembershipEvent } from '../membership/model.js';
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
