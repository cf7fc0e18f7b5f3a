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

/** heartbeat's resourcestate (heartbeat/hb_resource.c). */
export type ResourceState = 'init' | 'starting' | 'bothstarting' | 'rscrcvd' | 'stable' | 'shutdown';

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

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error' | 'crit';
  readonly msg: string;
}
