// Part: the resource layer's vocabulary: holdings (heartbeat's rsc_hold bits), the work the
// ownership core asks the executor to do, and what comes back.

/** heartbeat's rsc_hold bitmask: LOCAL = groups haresources gives this node, FOREIGN = all others. */
export const LOCAL = 1;
export const FOREIGN = 2;
export const ALL = 3;
export type Holdings = 0 | 1 | 2 | 3;

const WORDS = ['none', 'local', 'foreign', 'all'] as const;
export type HoldWord = (typeof WORDS)[number];

export function holdWord(h: Holdings): HoldWord {
  return WORDS[h];
}

export function parseHold(word: string | undefined): Holdings | undefined {
  const i = WORDS.indexOf(word as HoldWord);
  return i < 0 ? undefined : (i as Holdings);
}

/** Swap LOCAL and FOREIGN: the same groups seen from the other node of a pair. */
export function mirror(h: Holdings): Holdings {
  return (((h & LOCAL) << 1) | ((h & FOREIGN) >> 1)) as Holdings;
}

/** heartbeat's going_standby. */
export type StandbyPhase = 'not' | 'me' | 'other' | 'done';

/** Why a piece of resource work was requested: decides what happens when it finishes. */
export type WorkPurpose =
  | 'reqOurResources'
  | 'machDown'
  | 'shutdownAcquire'
  | 'standbyRelease'
  | 'standbyAcquire'
  | 'shutdownRelease'
  | 'shutdownAbortAcquire'
  | 'legacyRelease'
  | 'legacyAcquire'
  | 'partitionRelease'
  | 'recoverAcquire'
  | 'standbyAbortAcquire'
  | 'recoverRelease'
  | 'fence';

/**
 * Resource work for the executor, done one item at a time (heartbeat runs one resource
 * child at a time). Groups are named by their key (the first resource of the line).
 */
export type WorkItem =
  | {
      readonly id: number;
      readonly kind: 'acquire';
      readonly purpose: WorkPurpose;
      readonly keys: readonly string[];
      /** heartbeat's req_resource: skip a group whose key resource already runs. */
      readonly skipIfKeyRunning: boolean;
      /** For legacy ip-request-resp and similar: the node this work answers. */
      readonly peer?: string;
    }
  | {
      readonly id: number;
      readonly kind: 'release';
      readonly purpose: WorkPurpose;
      readonly keys: readonly string[];
      readonly peer?: string;
    }
  | { readonly id: number; readonly kind: 'fence'; readonly purpose: 'fence'; readonly node: string };

/** What the executor reports when a work item is over. */
export interface WorkResult {
  readonly id: number;
  /** Groups that could not be started (each was stopped again, right to left). */
  readonly startFailed: readonly string[];
  /** Groups that could not be stopped even after the retries: still (partly) running here. */
  readonly stopFailed: readonly string[];
  /** Fence outcome, for `fence` work. */
  readonly fenced?: boolean;
}

/** A cluster message for the membership layer to send (user fields only, in heartbeat's order). */
export interface OutMessage {
  readonly fields: readonly (readonly [string, string])[];
}

/**
 * What the ownership core reports, as data: the shell (src/node/words.ts) words each event as
 * heartbeat 3.0.6's log line(s) (hb_resource.c, ResourceManager) or tsbeat's own, and picks its
 * level. Sets are holdings words as the core sees them (`local` = this node's groups).
 */
export type OwnershipEvent =
  // Start-up negotiation and the first acquisition.
  | { readonly kind: 'initialAcquisitionDone'; readonly reason: string }
  | { readonly kind: 'noLocalResources'; readonly node: string }
  | { readonly kind: 'remoteTransitionCompleted' }
  | { readonly kind: 'localTransitionCompleted' }
  | { readonly kind: 'localAcquisitionCompleted'; readonly none: boolean }
  | { readonly kind: 'localAcquisitionWaitsForFence' }
  // Resource announcements.
  | {
      readonly kind: 'badRscHold';
      readonly from: string;
      readonly value: string;
      readonly message: 'resource' | 'ask_resources';
    }
  | { readonly kind: 'lateAnnouncement'; readonly from: string; readonly seq: string }
  | {
      readonly kind: 'audit';
      readonly finding: 'bothOwnOurs' | 'bothOwnForeign' | 'noneOwnsOurs' | 'noneOwnsForeign';
    }
  | { readonly kind: 'takingUnheldOwnGroups' }
  | {
      readonly kind: 'overlapRelease';
      readonly node: string;
      readonly peer: string;
      readonly keys: readonly string[];
    }
  // The standby exchange (ask_resources me / other / done).
  | { readonly kind: 'standbyNeedsNiceFailback' }
  | { readonly kind: 'goingStandby'; readonly set: HoldWord }
  | { readonly kind: 'standbyBusy'; readonly from: string; readonly secondsLeft: number }
  | { readonly kind: 'standbyPeerInFlux'; readonly from: string }
  | { readonly kind: 'standbyLocalInFlux'; readonly from: string }
  | { readonly kind: 'wantsStandby'; readonly node: string; readonly set: HoldWord }
  | {
      readonly kind: 'standbyMessageIgnored';
      readonly from: string;
      readonly info: string;
      readonly phase: StandbyPhase;
    }
  | {
      readonly kind: 'standbyAnswerMismatch';
      readonly from: string;
      readonly set: HoldWord;
      readonly asked: HoldWord;
    }
  | { readonly kind: 'standbyPeerCanTake'; readonly peer: string; readonly set: HoldWord }
  | { readonly kind: 'standbyGiveUp'; readonly set: HoldWord }
  | { readonly kind: 'standbyLocalCompleted'; readonly set: HoldWord }
  | { readonly kind: 'standbyAcquisitionDone'; readonly set: HoldWord }
  | { readonly kind: 'standbyPeerCompletedTakeover'; readonly set: HoldWord }
  /** `set` in the requester's words, `mine` the same groups in ours. */
  | {
      readonly kind: 'standbyAcquireFrom';
      readonly peer: string;
      readonly set: HoldWord;
      readonly mine: HoldWord;
    }
  | { readonly kind: 'standbyAdoptReleased'; readonly peer: string; readonly set: HoldWord }
  | { readonly kind: 'standbyReleaseCompleted'; readonly set: HoldWord }
  | { readonly kind: 'standbyAcquisitionCompleted'; readonly set: HoldWord }
  | { readonly kind: 'standbyAborted'; readonly set: HoldWord; readonly keys: readonly string[] }
  | { readonly kind: 'standbyCancelled'; readonly why: 'peerGone' | 'overlap' | 'noReply' }
  | {
      readonly kind: 'standbyCancelled';
      readonly why: 'timedOut' | 'abandonedByPeer' | 'peerStable';
      readonly peer: string;
    }
  // Peers going away and coming back.
  | { readonly kind: 'deadNodeGaveUp'; readonly node: string }
  | { readonly kind: 'noStonith' }
  | { readonly kind: 'sharedStorageNotTaken'; readonly key: string; readonly node: string }
  | { readonly kind: 'takeoverCancelledByShutdown' }
  | { readonly kind: 'takeoverFrom'; readonly node: string }
  | { readonly kind: 'machDownComplete'; readonly node: string }
  | { readonly kind: 'shutdownNotice'; readonly node: string }
  | { readonly kind: 'partitionReturn'; readonly node: string }
  | { readonly kind: 'partitionRelease'; readonly node: string; readonly keys: readonly string[] }
  | { readonly kind: 'fenceFailed'; readonly node: string }
  // Legacy ip-request.
  | { readonly kind: 'ipRequestResp'; readonly key: string; readonly ok: string; readonly weown: string }
  | { readonly kind: 'peerKeeps'; readonly peer: string; readonly key: string }
  // Shutdown.
  | { readonly kind: 'shutdownDelayed' }
  | { readonly kind: 'shutdownInProgress'; readonly pid: number }
  | { readonly kind: 'givingUpAll' }
  | { readonly kind: 'allRelinquished' }
  | { readonly kind: 'shutdownAborted'; readonly keys: readonly string[] }
  // Failed agents.
  | { readonly kind: 'startFailed'; readonly key: string }
  | { readonly kind: 'recoverStart'; readonly keys: readonly string[] }
  | { readonly kind: 'recoverStop'; readonly keys: readonly string[] };

export type OwnershipEventKind = OwnershipEvent['kind'];
