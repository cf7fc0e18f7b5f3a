// Part: the daemon's local API: the commands of schema.ts answered from the ClusterView, on two
// sockets, each with its own pool of clients. Reading is open to every local user (api.sock,
// mode 0666); control.sock, which only root and heartbeat's API group can open, answers the
// same reads and the state changes. Node cannot read a peer's credentials (no SO_PEERCRED),
// so the two sockets are the privilege split: a flood of api.sock never reaches root's pool.

import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiAuthConfig } from '../config/model.js';
import { REJECT_CLASSES, type RejectCounts, RejectedInput } from '../lib/rejected.js';
import { API_VERSION, type ApiRequest, SUPPORTED_VERSIONS } from './protocol.js';
import {
  type Args,
  COMMANDS,
  type CommandName,
  type ControlResult,
  type FencingWire,
  isCommand,
  type NodeWire,
  pacemakerEnabled,
  type Results,
  type StatusReport,
  validateArgs,
} from './schema.js';
import { ApiError, ApiServer, type Dispatch, type ServerLimits } from './server.js';
import { apiSocketPaths } from './socket-paths.js';
import type { ClusterView, FencingInfo, NodeInfo, StandbyResult } from './view.js';

export { apiSocketPaths, CONTROL_SOCKET_NAME, READ_SOCKET_NAME } from './socket-paths.js';

/** heartbeat's API group (HA_APIGROUP), authorised for casual clients unless ha.cf says otherwise. */
export const DEFAULT_API_GROUP = 'haclient';

/**
 * The group that may use the control socket: the first gid of `apiauth anon ...` (heartbeat's
 * authorisation for casual clients such as cl_status), else heartbeat's default `haclient`.
 * undefined when an `anon` line names users only: then root alone.
 */
export function controlGroupName(apiauth: readonly ApiAuthConfig[]): string | undefined {
  const anon = apiauth.find((a) => a.client === 'anon');
  return anon ? anon.gids[0] : DEFAULT_API_GROUP;
}

/** A group's id from /etc/group (or a numeric gid as is); undefined when it does not exist. */
export function resolveGroup(name: string, groupFile = '/etc/group'): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

export interface ApiServers {
  close(): Promise<void>;
  /** The apiauth client sockets opened (none without apiauth lines for other clients). */
  readonly clientSockets: readonly ClientSocket[];
  /** Who is signed on through them. */
  readonly signedOn: SignedOnClients;
  readonly readSocket: string;
  readonly controlSocket: string;
  /** The group that may use the control socket besides root, if any. */
  readonly controlGroup: string | undefined;
  /** Where both sockets count what they refuse: the one passed in, or their own. */
  readonly rejected: RejectedInput;
}

export interface ApiServerOptions {
  /** Where group names are looked up (tests). Default /etc/group. */
  readonly groupFile?: string;
  /**
   * The daemon's counters of rejected input. When it is given, the view's `rejected()` is
   * taken to include these counts; without it the servers keep their own counters, log through
   * `log`, and `status` adds them to what the view reports.
   */
  readonly rejected?: RejectedInput;
  /** Where the servers' own counters log (rate-limited), when `rejected` is not given. */
  readonly log?: (level: 'warn' | 'error', line: string) => void;
  /** Where user names are looked up (tests). Default /etc/passwd. */
  readonly passwdFile?: string;
  /** The daemon's table of signed-on clients (for clientstatus); else the servers keep their own. */
  readonly signedOn?: SignedOnClients;
  /** Limits of each socket's server (tests). Default DEFAULT_LIMITS. */
  readonly limits?: Partial<ServerLimits>;
}

/** Start the read-only and the control socket in `runDir`. */
export async function startApiServers(
  view: ClusterView,
  runDir: string,
  opts: ApiServerOptions = {},
): Promise<ApiServers> {
  const paths = apiSocketPaths(runDir);
  const wantedGroup = controlGroupName(view.apiAuth?.() ?? []);
  const gid = wantedGroup === undefined ? undefined : resolveGroup(wantedGroup, opts.groupFile);
  const controlGroup = gid === undefined ? undefined : wantedGroup;
  const rejected =
    opts.rejected ??
    new RejectedInput({ nowMs: () => performance.now(), log: opts.log ?? (() => undefined) });
  const counts = (): RejectCounts => {
    const fromView = view.rejected?.();
    if (!fromView) return rejected.snapshot();
    // The daemon's own instance was passed in: the view already counts what the sockets refused.
    return opts.rejected ? fromView : addCounts(fromView, rejected.snapshot());
  };
  const handlers = apiHandlers(view, counts);
  const serverOpts = { rejected };

  const readOnly = new ApiServer(
    dispatcher(handlers, 'read', paths.control, controlGroup),
    opts.limits,
    serverOpts,
  );
  await readOnly.listen(paths.read, { mode: 0o666 });
  ensureSearchable(runDir);
  const control = new ApiServer(
    dispatcher(handlers, 'control', paths.control, controlGroup),
    opts.limits,
    serverOpts,
  );
  try {
    await listenControl(control, paths.control, gid);
  } catch (e) {
    await readOnly.close();
    throw e;
  }
  const signedOn = opts.signedOn ?? new SignedOnClients();
  const clientServers: ApiServer[] = [];
  const clientSockets: ClientSocket[] = [];
  try {
    for (const gate of clientGates(view.apiAuth?.() ?? [], opts)) {
      const server = new ApiServer(
        clientDispatcher(
          dispatcher(handlers, 'read', paths.control, controlGroup),
          gate,
          view.apiAuth?.() ?? [],
          signedOn,
          () => view.localNode(),
        ),
        opts.limits,
        serverOpts,
      );
      clientServers.push(server);
      const path = join(runDir, CLIENT_DIR_NAME, gate.file);
      await server.listen(
        path,
        gate.kind === 'uid' ? { mode: 0o600, uid: gate.id } : { mode: 0o660, gid: gate.id },
      );
      clientSockets.push({ ...gate, path });
    }
  } catch (e) {
    await Promise.all([readOnly.close(), control.close(), ...clientServers.map((c) => c.close())]);
    throw e;
  }
  if (clientSockets.length > 0) ensureSearchable(join(runDir, CLIENT_DIR_NAME));
  return {
    readSocket: paths.read,
    controlSocket: paths.control,
    controlGroup,
    rejected,
    clientSockets,
    signedOn,
    close: async () => {
      await Promise.all([readOnly.close(), control.close(), ...clientServers.map((c) => c.close())]);
    },
  };
}

/** The directory of the apiauth client sockets, in the run directory. */
export const CLIENT_DIR_NAME = 'clients';

/**
 * heartbeat never lets `default` stand in for these (ha.cf's apiauth notes): they have built-in
 * authorisations of their own.
 */
const NO_DEFAULT = new Set(['ipfail', 'ccm', 'ping', 'cl_status']);

/** Clients ha.cf may authorise whose sockets tsbeat does not open (see hacf-directives.ts). */
const NOT_SOCKET_CLIENTS = new Set(['anon', 'ipfail']);

/**
 * One socket of an apiauth line: for `uid=` a socket owned by that user with mode 0600, for
 * `gid=` one of root and that group with mode 0660. Connecting needs write permission on the
 * socket file, so the kernel refuses every other process (except root) before the daemon sees
 * it: the uid/gid check heartbeat makes with the peer's credentials, made by the file system
 * because Node cannot read SO_PEERCRED.
 */
export interface ClientGate {
  readonly client: string;
  readonly kind: 'uid' | 'gid';
  /** The user or group as ha.cf names it. */
  readonly name: string;
  readonly id: number;
  /** File name in clients/: CLIENT.uid-NAME.sock or CLIENT.gid-NAME.sock. */
  readonly file: string;
}

export interface ClientSocket extends ClientGate {
  readonly path: string;
}

/** Client names that can be file names (heartbeat's client ids are free text). */
const CLIENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

/** The sockets the apiauth lines call for; users and groups that do not exist get none. */
export function clientGates(
  apiauth: readonly ApiAuthConfig[],
  opts: { readonly groupFile?: string; readonly passwdFile?: string } = {},
): ClientGate[] {
  const gates: ClientGate[] = [];
  for (const a of apiauth) {
    if (NOT_SOCKET_CLIENTS.has(a.client) || !CLIENT_NAME.test(a.client)) continue;
    for (const name of a.uids) {
      const id = resolveUser(name, opts.passwdFile);
      if (id !== undefined && /^[A-Za-z0-9_.-]+$/.test(name))
        gates.push({ client: a.client, kind: 'uid', name, id, file: `${a.client}.uid-${name}.sock` });
    }
    for (const name of a.gids) {
      const id = resolveGroup(name, opts.groupFile);
      if (id !== undefined && /^[A-Za-z0-9_.-]+$/.test(name))
        gates.push({ client: a.client, kind: 'gid', name, id, file: `${a.client}.gid-${name}.sock` });
    }
  }
  return gates;
}

/** A user's id from /etc/passwd (or a numeric uid as is); undefined when there is no such user. */
export function resolveUser(name: string, passwdFile = '/etc/passwd'): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  let text: string;
  try {
    text = readFileSync(passwdFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , uid] = line.split(':');
    if (user === name && uid !== undefined && /^\d+$/.test(uid)) return Number(uid);
  }
  return undefined;
}

/**
 * The API clients signed on through the client sockets: a client is online while at least one
 * of its connections that signed on stays open (heartbeat: between signon and signoff).
 */
export class SignedOnClients {
  private readonly open = new Map<string, number>();
  /** Told when a client's first connection signs on and when its last one goes. */
  onChange: ((client: string, st: 'join' | 'leave') => void) | undefined;

  add(client: string): void {
    const n = this.open.get(client) ?? 0;
    this.open.set(client, n + 1);
    if (n === 0) this.onChange?.(client, 'join');
  }

  remove(client: string): void {
    const n = this.open.get(client) ?? 0;
    if (n <= 1) {
      this.open.delete(client);
      if (n === 1) this.onChange?.(client, 'leave');
    } else this.open.set(client, n - 1);
  }

  has(client: string): boolean {
    return this.open.has(client);
  }
}

/**
 * Whether a connection on `gate`'s socket may sign on as `client`: its own line's client, or,
 * on a `default` socket, any client without a line of its own (heartbeat's "default" group),
 * except those heartbeat never lets default stand in for.
 */
export function mayClientSignOn(
  gate: ClientGate,
  client: string,
  apiauth: readonly ApiAuthConfig[],
): boolean {
  if (client === gate.client) return true;
  if (gate.client !== 'default') return false;
  return !NO_DEFAULT.has(client) && !apiauth.some((a) => a.client === client);
}

function clientDispatcher(
  reads: Dispatch,
  gate: ClientGate,
  apiauth: readonly ApiAuthConfig[],
  signedOn: SignedOnClients,
  localNode: () => string,
): Dispatch {
  return (req, conn) => {
    if (req.cmd !== 'signon') return reads(req, conn);
    const args = validateArgs('signon', req.args);
    if (typeof args === 'string') throw new ApiError('bad-args', args);
    const client = args['client'] ?? '';
    if (!mayClientSignOn(gate, client, apiauth)) {
      throw new ApiError(
        'permission-denied',
        `this socket is apiauth ${gate.client}'s ${gate.kind}=${gate.name}: it does not authorise client "${client}"`,
      );
    }
    signedOn.add(client);
    conn.onClose(() => signedOn.remove(client));
    return { client, node: localNode() };
  };
}

/**
 * Every local user may read the status, so every user must be able to reach api.sock: the run
 * directory needs search permission (a restrictive umask would otherwise hide the socket).
 */
function ensureSearchable(dir: string): void {
  try {
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o011) !== 0o011) chmodSync(dir, mode | 0o011);
  } catch {
    // Not ours to change (another owner): the socket's own mode is all we can offer.
  }
}

async function listenControl(server: ApiServer, path: string, gid: number | undefined): Promise<void> {
  if (gid !== undefined) {
    try {
      await server.listen(path, { mode: 0o660, gid });
      return;
    } catch (e) {
      // Giving the socket to a group can fail for a non-root daemon: fall back to owner only.
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      await server.close();
    }
  }
  await server.listen(path, { mode: 0o600 });
}

type Handlers = { [C in CommandName]: (args: Args[C]) => Results[C] | Promise<Results[C]> };

function dispatcher(
  handlers: Handlers,
  socket: 'read' | 'control',
  controlPath: string,
  controlGroup: string | undefined,
): Dispatch {
  return (req: ApiRequest) => {
    const cmd = req.cmd;
    if (!isCommand(cmd)) {
      throw new ApiError(
        'unknown-command',
        `unknown command "${cmd}" (known: ${Object.keys(COMMANDS).join(', ')})`,
      );
    }
    if (COMMANDS[cmd].access === 'client') {
      throw new ApiError(
        'permission-denied',
        `"${cmd}" is accepted only on an apiauth client socket (${CLIENT_DIR_NAME}/ in the run directory)`,
      );
    }
    if (COMMANDS[cmd].access === 'control' && socket !== 'control') {
      throw new ApiError(
        'permission-denied',
        `"${cmd}" changes the cluster: it is accepted only on ${controlPath}, which needs root${controlGroup ? ` or group ${controlGroup}` : ''}`,
      );
    }
    const args = validateArgs(cmd, req.args);
    if (typeof args === 'string') throw new ApiError('bad-args', args);
    const handler = handlers[cmd] as (a: unknown) => unknown;
    return handler(args);
  };
}

/** heartbeat's node lookup ignores case; link names are compared exactly. */
function findNode(view: ClusterView, name: string): NodeInfo | undefined {
  const lower = name.toLowerCase();
  return view.nodes().find((n) => n.name.toLowerCase() === lower);
}

function noSuchNode(name: string): ApiError {
  return new ApiError('no-such-node', `no node named "${name}" in this cluster`);
}

/** Whole milliseconds (the clock is finer), null for never. */
const ms = (v: number | undefined): number | null => (v === undefined ? null : Math.round(v));

function nodeWire(n: NodeInfo): NodeWire {
  return {
    name: n.name,
    type: n.type,
    status: n.status,
    weight: n.weight,
    site: n.site,
    generation: n.generation ?? null,
    deadtimeMs: Math.round(n.deadtimeMs),
    lastHeardAgoMs: ms(n.lastHeardAgoMs),
    links: n.links.map((l) => ({ name: l.name, status: l.status, lastHeardAgoMs: ms(l.lastHeardAgoMs) })),
  };
}

/** Communication is up: the daemon's own word, else heartbeat's sign, the local node being active. */
export function isCommUp(view: ClusterView): boolean {
  if (view.commUp) return view.commUp();
  return view.nodes().find((n) => n.name === view.localNode())?.status === 'active';
}

function control(r: StandbyResult): ControlResult {
  return { accepted: r.accepted, message: r.message };
}

/** Counts of every class, zero where nothing was rejected. */
export function zeroCounts(): RejectCounts {
  return Object.fromEntries(REJECT_CLASSES.map((c) => [c, 0])) as Record<keyof RejectCounts, number>;
}

function addCounts(a: RejectCounts, b: RejectCounts): RejectCounts {
  return Object.fromEntries(REJECT_CLASSES.map((c) => [c, (a[c] ?? 0) + (b[c] ?? 0)])) as Record<
    keyof RejectCounts,
    number
  >;
}

function apiHandlers(view: ClusterView, rejectCounts: () => RejectCounts): Handlers {
  return {
    hello: () => ({
      api: API_VERSION,
      apiVersions: SUPPORTED_VERSIONS,
      version: view.version,
      node: view.localNode(),
      pid: process.pid,
      ready: isCommUp(view),
      keepaliveMs: view.timing().keepaliveMs,
      deadtimeMs: view.timing().deadtimeMs,
      hbversion: view.parameter('hbversion') ?? null,
      pacemaker: view.parameter('pacemaker') ?? null,
    }),
    nodes: () => ({ nodes: view.nodes().map(nodeWire) }),
    node: ({ node }) => {
      const n = findNode(view, node);
      if (!n) throw noSuchNode(node);
      return nodeWire(n);
    },
    link: ({ node, link }) => {
      const n = findNode(view, node);
      if (!n) throw noSuchNode(node);
      const l = n.links.find((x) => x.name === link);
      if (!l) throw new ApiError('no-such-link', `node ${n.name} has no link named "${link}"`);
      return { status: l.status };
    },
    // "crm" is heartbeat's deprecated alias of "pacemaker".
    parameter: ({ name }) => ({ value: view.parameter(name === 'crm' ? 'pacemaker' : name) ?? null }),
    rscstatus: () => {
      if (view.managesResources?.() === false)
        throw new ApiError('not-managed', 'Resource is managed by crm. Use crm tool to query resource');
      return { status: view.rscStatus() };
    },
    clientstatus: ({ node, client }) => {
      const n = findNode(view, node);
      if (!n) throw noSuchNode(node);
      // As heartbeat: the local node answers from its own client table, a peer that is not
      // active has no clients; an active peer is asked, and heartbeat addresses it by the name
      // as typed, so a name in other case never gets an answer.
      if (node === view.localNode() || n.status !== 'active') {
        return { status: node === view.localNode() ? view.clientStatus(node, client) : 'offline' };
      }
      if (node !== n.name) throw new ApiError('no-response', `node ${node} did not answer`);
      return { status: view.clientStatus(n.name, client) };
    },
    status: () => statusReport(view, rejectCounts()),
    journal: ({ since }) => {
      const sinceMs = since === undefined ? Number.NEGATIVE_INFINITY : Number(since);
      if (since !== undefined && !Number.isFinite(sinceMs))
        throw new ApiError('bad-args', 'journal: "since" must be milliseconds since the epoch');
      return view.journal?.(sinceMs) ?? { events: [], dropped: 0 };
    },
    standby: async ({ set }) => control(await view.standby(set)),
    takeover: async ({ set }) => control(await view.takeover(set)),
    shutdown: async () => {
      if (!view.shutdown) throw new ApiError('unsupported', 'this daemon cannot be stopped through its API');
      return control(await view.shutdown());
    },
    // Answered by the client sockets' dispatcher, which knows the connection (clientDispatcher).
    signon: () => {
      throw new ApiError('permission-denied', 'signon is accepted only on an apiauth client socket');
    },
  };
}

/**
 * The full report of the view: the `status` command and `tsbeat status --json`. `rejected`
 * overrides the view's counters (the API servers add their own); without either, all zero.
 */
export function statusReport(view: ClusterView, rejected?: RejectCounts): StatusReport {
  const local = view.localNode();
  const nodes = view.nodes();
  const t = view.timing();
  const peers = nodes.filter((n) => n.name !== local && n.type === 'normal');
  const detectionMs = Math.max(t.deadtimeMs, ...peers.map((p) => p.deadtimeMs));
  const managed = view.managesResources?.() !== false;
  return {
    format: 'tsbeat-status/1',
    version: view.version,
    node: local,
    pid: process.pid,
    startedAt: view.startedAt?.() ?? null,
    ready: isCommUp(view),
    generation: nodes.find((n) => n.name === local)?.generation ?? null,
    cluster: view.parameter('cluster') ?? null,
    managedBy: pacemakerEnabled(view.parameter('pacemaker')) ? 'pacemaker' : 'haresources',
    rscstatus: managed ? view.rscStatus() : null,
    timing: {
      keepaliveMs: t.keepaliveMs,
      warntimeMs: t.warntimeMs,
      deadtimeMs: t.deadtimeMs,
      initdeadMs: t.initdeadMs,
      detectionMs,
      startupDetectionMs: Math.max(detectionMs, t.initdeadMs),
      heartbeatDetectionMs: detectionMs + t.keepaliveMs,
    },
    nodes: nodes.map((n) => ({ ...nodeWire(n), local: n.name === local })),
    groups: view.groups().map((g) => ({
      key: g.key,
      preferredNode: g.preferredNode,
      resources: [...g.resources],
      runningOn: g.runningOn ?? null,
      state: g.state,
    })),
    fencing: fencingWire(view.fencing?.()),
    events: view.recentEvents().map((e) => ({ at: e.at, level: e.level, message: e.message })),
    rejected: completeCounts(rejected ?? view.rejected?.() ?? zeroCounts()),
    logs: (view.logs?.() ?? []).map((l) => ({
      file: l.file,
      ok: l.ok,
      queuedLines: l.queuedLines,
      writtenLines: l.writtenLines,
      droppedLines: l.droppedLines,
      lastError: l.lastError ?? null,
    })),
    configMismatch: (view.configMismatch?.() ?? []).map((m) => ({ node: m.node, files: [...m.files] })),
  };
}

/** Every class as a key, in REJECT_CLASSES order, whatever the source left out. */
function completeCounts(c: Partial<RejectCounts>): RejectCounts {
  return Object.fromEntries(REJECT_CLASSES.map((k) => [k, c[k] ?? 0])) as Record<keyof RejectCounts, number>;
}

function fencingWire(f: FencingInfo | undefined): FencingWire {
  if (!f)
    return {
      configured: false,
      device: null,
      preferredSurvivor: null,
      delayMs: 0,
      takeoverWithoutFencing: false,
      lastCheck: null,
      lastFence: null,
    };
  return {
    configured: f.configured,
    device: f.device ?? null,
    preferredSurvivor: f.preferredSurvivor ?? null,
    delayMs: f.delayMs,
    takeoverWithoutFencing: f.takeoverWithoutFencing,
    lastCheck: f.lastCheck ? { ...f.lastCheck } : null,
    lastFence: f.lastFence ? { ...f.lastFence } : null,
  };
}
