// Part: the vocabulary of `tsbeat export pacemaker`: what goes in (heartbeat's three files,
// parsed, with positions), the Pacemaker configuration it becomes (format-free), and the
// migration report that says what became of every line.

import type { Keyring } from '../codec/auth/keyring.js';
import type { HaCfSource, Pos } from '../config/hacf.js';
import type { HaresourcesSource } from '../config/haresources.js';
import type { HaCf, ResourceGroupConfig, StonithConfig } from '../config/model.js';

/** Where OCF agents that both resource-agents and tsbeat ship come from (`--provider`). */
export type OcfProvider = 'heartbeat' | 'tsbeat';
/** The class for init scripts that are not agents (`--service`). */
export type ServiceClass = 'lsb' | 'systemd';

export interface ExportOptions {
  readonly provider: OcfProvider;
  readonly service: ServiceClass;
}

/** heartbeat's three files as the config parsers return them, plus where each item was written. */
export interface ExportInput {
  readonly haCf: HaCf;
  readonly haCfFile: string;
  readonly haCfSource: HaCfSource;
  /**
   * Every `stonith`/`stonith_host` line, whichever node it applies to (the parser keeps only
   * the local node's, so the shell parses once per node and merges by position).
   */
  readonly stonith: readonly { readonly entry: StonithConfig; readonly at: Pos }[];
  readonly groups: readonly ResourceGroupConfig[];
  readonly haresourcesFile: string;
  readonly haresourcesSource: HaresourcesSource;
  readonly keyring: Keyring;
  readonly authkeysFile: string;
  /**
   * Every directive line of ha.cf (line number, directive name, the line as written), so that
   * repeated directives, whose earlier lines the parsed config no longer shows, are reported too.
   */
  readonly haCfLines: readonly { readonly line: number; readonly directive: string; readonly text: string }[];
}

/** One `name=value` of instance attributes, meta attributes or cluster properties. */
export interface Nv {
  readonly name: string;
  readonly value: string;
  /** Why this value: written as a comment next to it. */
  readonly why?: string;
}

export interface Op {
  readonly name: 'monitor' | 'start' | 'stop' | 'promote' | 'demote';
  readonly interval: string;
  readonly timeout: string;
  readonly role?: 'Promoted' | 'Unpromoted';
}

export interface Primitive {
  readonly kind: 'primitive';
  readonly id: string;
  readonly class: 'ocf' | 'lsb' | 'systemd' | 'stonith';
  readonly provider?: string;
  readonly type: string;
  readonly params: readonly Nv[];
  readonly ops: readonly Op[];
  readonly why?: string;
}

export interface Group {
  readonly kind: 'group';
  readonly id: string;
  readonly members: readonly Primitive[];
  readonly why?: string;
}

export interface PromotableClone {
  readonly kind: 'clone';
  readonly id: string;
  readonly primitive: Primitive;
  readonly meta: readonly Nv[];
  readonly why?: string;
}

export type Resource = Primitive | Group | PromotableClone;

export type Constraint =
  | {
      readonly kind: 'location';
      readonly id: string;
      readonly rsc: string;
      readonly node: string;
      readonly score: string;
      readonly role?: 'Promoted';
      readonly why?: string;
    }
  | {
      readonly kind: 'colocation';
      readonly id: string;
      readonly rsc: string;
      readonly withRsc: string;
      readonly withRole?: 'Promoted';
      readonly score: string;
      readonly why?: string;
    }
  | {
      readonly kind: 'order';
      readonly id: string;
      readonly first: string;
      readonly firstAction: 'start' | 'promote';
      readonly thenRsc: string;
      readonly thenAction: 'start';
      readonly why?: string;
    };

/** A Pacemaker configuration, independent of how it is written (XML, crmsh, pcs). */
export interface PacemakerConfig {
  readonly nodes: readonly string[];
  readonly properties: readonly Nv[];
  readonly rscDefaults: readonly Nv[];
  readonly resources: readonly Resource[];
  readonly constraints: readonly Constraint[];
}

/**
 * What became of one item of the input. `mapped`: same behaviour. `changed`: mapped, but the
 * behaviour differs in a way the operator should know. `decide`: the export could not choose
 * for the operator. `none`: nothing to map (the new stack does it itself, or it was tsbeat's).
 */
export type ReportStatus = 'mapped' | 'changed' | 'decide' | 'none';

export interface ReportEntry {
  readonly file: string;
  readonly line?: number;
  /** The input item, as the operator wrote it (or a short description). */
  readonly item: string;
  readonly status: ReportStatus;
  /** What it became, or what to do. */
  readonly became: string;
}

/** The group placement tsbeat decides, as the export predicts it (checked against tsbeat's core). */
export interface GroupPlacement {
  /** The group id in the CIB. */
  readonly id: string;
  /** The haresources key of the group. */
  readonly key: string;
  readonly preferredNode: string;
  /** Guards shared storage (drbddisk, Filesystem, ...): never taken over without fencing. */
  readonly sharedStorage: boolean;
}
