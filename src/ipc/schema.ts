// Part: the local API's commands: for each, who may call it, its arguments (checked before any
// handler runs) and the shape of its result. The single source for server, client and docs.

import type { RejectCounts } from '../lib/rejected.js';
import type { JournalEvent } from '../observe/journal.js';
import { MAX_ARG_STRING } from './protocol.js';
import type { NodeStatusWord, NodeType, ResourceSet, RscStatusWord } from './view.js';

/** Every argument is a string today (names, resource sets); bounded by MAX_ARG_STRING. */
interface FieldSpec {
  readonly type: 'string';
  readonly optional?: boolean;
  readonly values?: readonly string[];
}

export interface CommandSpec {
  /**
   * `read`: every socket. `control`: only the control socket (root or the API group). `client`:
   * only an apiauth client's socket (clients/, see api.ts).
   */
  readonly access: 'read' | 'control' | 'client';
  readonly args: Readonly<Record<string, FieldSpec>>;
  readonly summary: string;
}

const RESOURCE_SETS: readonly ResourceSet[] = ['all', 'local', 'foreign', 'failback'];

export const COMMANDS = {
  hello: { access: 'read', args: {}, summary: 'sign on: daemon identity, readiness, timing' },
  nodes: { access: 'read', args: {}, summary: 'every node with its links, in ha.cf order' },
  node: { access: 'read', args: { node: { type: 'string' } }, summary: 'one node (name case-insensitive)' },
  link: {
    access: 'read',
    args: { node: { type: 'string' }, link: { type: 'string' } },
    summary: "one link's status",
  },
  parameter: { access: 'read', args: { name: { type: 'string' } }, summary: 'an ha.cf parameter' },
  rscstatus: { access: 'read', args: {}, summary: 'which resources this node holds' },
  clientstatus: {
    access: 'read',
    args: { node: { type: 'string' }, client: { type: 'string' } },
    summary: "an API client's status on a node",
  },
  status: { access: 'read', args: {}, summary: 'the full report behind tsbeat status' },
  journal: {
    access: 'read',
    args: { since: { type: 'string', optional: true } },
    summary: 'the event journal behind tsbeat explain (since: ms since the epoch)',
  },
  standby: {
    access: 'control',
    args: { set: { type: 'string', values: RESOURCE_SETS } },
    summary: 'give resources up (hb_standby)',
  },
  takeover: {
    access: 'control',
    args: { set: { type: 'string', values: RESOURCE_SETS } },
    summary: 'take resources over (hb_takeover)',
  },
  shutdown: { access: 'control', args: {}, summary: 'stop the daemon gracefully' },
  signon: {
    access: 'client',
    args: { client: { type: 'string' } },
    summary: 'sign on as an apiauth client (online while the connection stays open)',
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export function isCommand(cmd: string): cmd is CommandName {
  return Object.hasOwn(COMMANDS, cmd);
}

/** Check `args` against the command's schema: the clean arguments, or why they are wrong. */
export function validateArgs(
  cmd: CommandName,
  args: Readonly<Record<string, unknown>>,
): Record<string, string> | string {
  const spec: Readonly<Record<string, FieldSpec>> = COMMANDS[cmd].args;
  const out: Record<string, string> = {};
  for (const key of Object.keys(args)) {
    if (!Object.hasOwn(spec, key)) return `${cmd}: unknown argument "${key.slice(0, 40)}"`;
  }
  for (const [key, f] of Object.entries(spec)) {
    const value = Object.hasOwn(args, key) ? args[key] : undefined;
    if (value === undefined) {
      if (f.optional) continue;
      return `${cmd}: argument "${key}" is required`;
    }
    if (typeof value !== 'string') return `${cmd}: argument "${key}" must be a string`;
    if (value.length > MAX_ARG_STRING)
      return `${cmd}: argument "${key}" is longer than ${MAX_ARG_STRING} characters`;
    if (f.values && !f.values.includes(value))
      return `${cmd}: argument "${key}" must be one of ${f.values.join(', ')}`;
    out[key] = value;
  }
  return out;
}

// ---- Results (JSON: absent values are null, never missing) ----

export interface LinkWire {
  readonly name: string;
  readonly status: 'up' | 'dead';
  readonly lastHeardAgoMs: number | null;
}

export interface NodeWire {
  readonly name: string;
  readonly type: NodeType;
  readonly status: NodeStatusWord;
  readonly weight: number;
  readonly site: string;
  readonly generation: number | null;
  readonly deadtimeMs: number;
  readonly lastHeardAgoMs: number | null;
  /** In ha.cf media order. */
  readonly links: readonly LinkWire[];
}

export interface HelloResult {
  /** The protocol version of this answer, and every version the daemon speaks. */
  readonly api: number;
  readonly apiVersions: readonly number[];
  readonly version: string;
  readonly node: string;
  readonly pid: number;
  /** Communication is up; before that heartbeat refuses API clients (cl_status: not running). */
  readonly ready: boolean;
  readonly keepaliveMs: number;
  readonly deadtimeMs: number;
  /** `hbparameter hbversion` and `pacemaker`, as heartbeat caches them at sign-on. */
  readonly hbversion: string | null;
  readonly pacemaker: string | null;
}

export interface ControlResult {
  readonly accepted: boolean;
  readonly message: string;
}

export interface GroupWire {
  readonly key: string;
  readonly preferredNode: string;
  readonly resources: readonly string[];
  readonly runningOn: string | null;
  /** This node's state for the group (stopped, starting, running, stopping, failed, ...). */
  readonly state: string;
}

export interface EventWire {
  readonly at: string;
  readonly level: 'info' | 'warn' | 'error' | 'crit';
  readonly message: string;
}

/** `tsbeat status --json` and the `status` command: documented in tsbeat(8), TSBEAT STATUS. */
export interface StatusReport {
  readonly format: 'tsbeat-status/1';
  readonly version: string;
  readonly node: string;
  readonly pid: number;
  readonly startedAt: string | null;
  readonly ready: boolean;
  readonly generation: number | null;
  readonly cluster: string | null;
  readonly managedBy: 'haresources' | 'pacemaker';
  readonly rscstatus: RscStatusWord | null;
  readonly timing: {
    readonly keepaliveMs: number;
    readonly warntimeMs: number;
    readonly deadtimeMs: number;
    readonly initdeadMs: number;
    /** Longest silence before a failed peer is declared dead: the largest dead time a peer advertises. */
    readonly detectionMs: number;
    /** The same before communication is up: initdead, if larger. */
    readonly startupDetectionMs: number;
    /** What heartbeat 3.0.6 itself may take (it checks once per keepalive): detection + keepalive. */
    readonly heartbeatDetectionMs: number;
  };
  readonly nodes: readonly (NodeWire & { readonly local: boolean })[];
  readonly groups: readonly GroupWire[];
  readonly fencing: FencingWire;
  readonly events: readonly EventWire[];
  /** Rejected input since the daemon started, per class of src/lib/rejected.ts (all keys, 0 if none). */
  readonly rejected: RejectCounts;
  /** Each log destination (logfile, debugfile, syslog, stderr): what is queued, written, dropped. */
  readonly logs: readonly LogWire[];
  /** Peers whose ha.cf (media lines apart), haresources or authkeys differ from this node's; [] when all agree. */
  readonly configMismatch: readonly { readonly node: string; readonly files: readonly string[] }[];
}

/** One log destination; lines are dropped (and counted) rather than block when it cannot keep up. */
export interface LogWire {
  readonly file: string;
  readonly ok: boolean;
  readonly queuedLines: number;
  readonly writtenLines: number;
  readonly droppedLines: number;
  readonly lastError: string | null;
}

/** STONITH as this node runs it; times are ISO wall-clock times. */
export interface FencingWire {
  readonly configured: boolean;
  readonly device: string | null;
  readonly preferredSurvivor: string | null;
  readonly delayMs: number;
  readonly takeoverWithoutFencing: boolean;
  readonly lastCheck: { readonly at: string; readonly ok: boolean; readonly detail: string } | null;
  readonly lastFence: {
    readonly at: string;
    readonly node: string;
    readonly ok: boolean;
    readonly detail: string;
  } | null;
}

/** What each command answers. */
export interface Results {
  hello: HelloResult;
  nodes: { readonly nodes: readonly NodeWire[] };
  node: NodeWire;
  link: { readonly status: 'up' | 'dead' };
  parameter: { readonly value: string | null };
  rscstatus: { readonly status: RscStatusWord };
  clientstatus: { readonly status: 'online' | 'offline' | 'join' | 'leave' };
  status: StatusReport;
  journal: { readonly events: readonly JournalEvent[]; readonly dropped: number };
  standby: ControlResult;
  takeover: ControlResult;
  shutdown: ControlResult;
  signon: { readonly client: string; readonly node: string };
}

/** What each command takes. */
export interface Args {
  hello: Record<string, never>;
  nodes: Record<string, never>;
  node: { readonly node: string };
  link: { readonly node: string; readonly link: string };
  parameter: { readonly name: string };
  rscstatus: Record<string, never>;
  clientstatus: { readonly node: string; readonly client: string };
  status: Record<string, never>;
  journal: { readonly since?: string };
  standby: { readonly set: ResourceSet };
  takeover: { readonly set: ResourceSet };
  shutdown: Record<string, never>;
  signon: { readonly client: string };
}

/**
 * Whether a `pacemaker` (or `crm`) parameter value enables Pacemaker, as cl_status decides:
 * heartbeat's boolean words (true/on/yes/y/1, false/off/no/n/0, any case) mean what they say;
 * anything else (respawn, manual, or no value at all) counts as enabled.
 */
export function pacemakerEnabled(value: string | null | undefined): boolean {
  if (value === null || value === undefined) return true;
  const v = value.toLowerCase();
  if (['false', 'off', 'no', 'n', '0'].includes(v)) return false;
  return true;
}
