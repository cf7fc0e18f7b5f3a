// Part: the daemon's life: configuration, identity (generation, uuid), single instance, pid
// file, logging, start-up reconciliation, media, the membership shell, the local API, a clean
// shutdown, and the failure policy (an internal error fails the node over, see failOver()).

import { createHash } from 'node:crypto';
import { openSync, readSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import inspector from 'node:inspector';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { builtinAgents, prewarmBuiltinAgents, shutdownBuiltinAgents } from '../agents/builtin.js';
import { ResourceRunner, scriptEnvironment } from '../agents/runner.js';
import type { Keyring } from '../codec/auth/keyring.js';
import { compressionPolicy } from '../codec/compression.js';
import { type Message, stringField } from '../codec/model.js';
import { authkeysModeProblem, parseAuthkeys } from '../config/authkeys.js';
import type { Config, ResourceConfig } from '../config/model.js';
import { tsbeatSettingsOf } from '../config/tsbeat-cf.js';
import { type ApiServers, SignedOnClients, startApiServers } from '../ipc/api.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { formatDiagnostic } from '../lib/diagnostic.js';
import { FAULT_ENV, parseFaultHooks } from '../lib/fault-hooks.js';
import { seededRandom } from '../lib/random.js';
import { RejectedInput } from '../lib/rejected.js';
import { type Medium, MediumOpenError } from '../media/index.js';
import type { MetricsServer } from '../metrics/server.js';
import { type Fencer, HaNode, type HaNodeResources } from '../node/ha-node.js';
import { logMediumEvent } from '../node/words.js';
import { readConfigDigest } from '../observe/config-digest.js';
import { Observer } from '../observe/observer.js';
import type { IpfailDriver } from '../ping/ipfail-driver.js';
import { ipfailSetup, isIpfailCommand } from '../ping/ipfail-setup.js';
import { ipv6Hosts, pingNodeSpecs } from '../ping/nodes.js';
import type { SystemPinger } from '../ping/pinger.js';
import { PeerClientTable } from '../respawn/client-table.js';
import type { ClientChildren } from '../respawn/respawn.js';
import type { StonithFencer } from '../stonith/fencer.js';
import type { Watchdog } from '../watchdog/watchdog.js';
import { type DaemonFaults, daemonFaults } from './faults.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import { createLog, type Log } from './log.js';
import { buildMedia, linkName, UnsupportedMediumError } from './media-factory.js';
import { applyOsTuning } from './os-tuning.js';
import type { DaemonPaths } from './paths.js';
import { removePidFile, writePidFile } from './pidfile.js';
import { nextGeneration, nodeUuid } from './state-files.js';
import { DaemonView } from './view.js';

export const VERSION = '0.1.0';

export interface DaemonOptions {
  readonly config: Config;
  readonly paths: DaemonPaths;
  /** Mirror log lines to stderr (foreground runs). */
  readonly stderr: 'text' | 'json' | false;
  /**
   * End the process with this code. Called once, after a clean failover from an internal
   * error (see failOver). Default: process.exit.
   */
  readonly exit?: (code: number) => void;
}

/**
 * The subsystems ha.cf asks for only on some clusters, loaded at start when it does: each costs
 * resident memory in every daemon that imports it, used or not. None is on the takeover path
 * unless configured (a STONITH device fences before a takeover), and all are loaded before the
 * media open, so nothing waits on a load once the node runs.
 */
interface OptionalSubsystems {
  readonly watchdog?: typeof import('../watchdog/watchdog.js');
  readonly stonith?: typeof import('../stonith/fencer.js');
  readonly pinger?: typeof import('../ping/pinger.js');
  readonly ipfail?: typeof import('../ping/ipfail-driver.js');
  readonly respawn?: typeof import('../respawn/respawn.js');
  readonly lvsDr?: typeof import('../director/lvs-dr.js');
}

async function loadOptionalSubsystems(config: Config): Promise<OptionalSubsystems> {
  const h = config.haCf;
  const [watchdog, stonith, pinger, ipfail, respawn, lvsDr] = await Promise.all([
    h.watchdog !== undefined ? import('../watchdog/watchdog.js') : undefined,
    h.stonith.length > 0 ? import('../stonith/fencer.js') : undefined,
    h.pingNodes.length > 0 ? import('../ping/pinger.js') : undefined,
    h.clientChildren.some((c) => isIpfailCommand(c.command)) ? import('../ping/ipfail-driver.js') : undefined,
    h.clientChildren.some((c) => !c.failfast && !isIpfailCommand(c.command))
      ? import('../respawn/respawn.js')
      : undefined,
    tsbeatSettingsOf(config).lvsDr ? import('../director/lvs-dr.js') : undefined,
  ]);
  return {
    ...(watchdog ? { watchdog } : {}),
    ...(stonith ? { stonith } : {}),
    ...(pinger ? { pinger } : {}),
    ...(ipfail ? { ipfail } : {}),
    ...(respawn ? { respawn } : {}),
    ...(lvsDr ? { lvsDr } : {}),
  };
}

/** Exit status after an internal error was contained (resources released or not). */
export const EXIT_INTERNAL_ERROR = 70;

/** How long a stopping node keeps heartbeating after `shutdone`, so peers hear it (heartbeat: ~1 s). */
const SHUTDOWN_LINGER_MS = 1000;
/** How long a stopping daemon waits for its log lines to be written (a stuck disk loses them). */
const LOG_FLUSH_MS = 2000;

export class Daemon {
  private readonly opts: DaemonOptions;
  readonly log: Log;
  private media: Medium[] = [];
  private node: HaNode | undefined;
  private api: ApiServers | undefined;
  view: DaemonView | undefined;
  private stopping: Promise<boolean> | undefined;
  private failing: Promise<void> | undefined;
  private lock: InstanceLock | undefined;
  private runner: ResourceRunner | undefined;
  private readonly faults: DaemonFaults | undefined;
  /** Rejected frames and API requests, counted for `tsbeat status`, logged rate-limited. */
  readonly rejected: RejectedInput;
  generation = 0;

  constructor(opts: DaemonOptions) {
    this.opts = opts;
    const h = opts.config.haCf;
    const logjson = tsbeatSettingsOf(opts.config).logjson;
    this.log = createLog({
      ...(h.logfile !== undefined ? { logfile: h.logfile } : {}),
      ...(h.debugfile !== undefined ? { debugfile: h.debugfile } : {}),
      ...(h.logfacility !== undefined ? { logfacility: h.logfacility } : {}),
      stderr: opts.stderr,
      ...(logjson !== undefined ? { jsonFile: logjson, jsonBase: { localNode: opts.config.localNode } } : {}),
      debugLevel: h.debugLevel,
      syslogmsgfmt:
        h.params['syslogmsgfmt'] !== undefined
          ? !/^(false|off|no|n|0)$/i.test(h.params['syslogmsgfmt'])
          : true,
    });
    this.rejected = new RejectedInput({
      nowMs: () => systemClock.monotonicMs(),
      log: (level, line) => this.log[level](line),
    });
    this.faults = daemonFaults(process.env[FAULT_ENV]);
  }

  /** Start everything; on failure, undo what was done and throw a one-line reason. */
  async start(): Promise<void> {
    const { config, paths } = this.opts;
    const h = config.haCf;
    const log = this.log;
    // The runtime's debugger would let any local user run code as root in here.
    if (inspector.url() !== undefined) {
      inspector.close();
      log.warn(
        'the Node.js inspector was open (NODE_OPTIONS?): closed it; tsbeat never runs with a debugger port',
      );
    }
    this.lock = await acquireInstanceLock(paths.runDir);
    const optional = await loadOptionalSubsystems(config);
    this.optional = optional;
    const faults = parseFaultHooks(process.env[FAULT_ENV]);
    if (faults.hooks.length > 0 || faults.errors.length > 0) {
      log.warn(
        `${FAULT_ENV} is set (${faults.hooks.map((h) => [h.name, ...h.args].join(':')).join(', ') || 'nothing usable'}): test-only fault injection; never on a production node`,
      );
      for (const e of faults.errors) log.warn(`${FAULT_ENV}: ${e}`);
    }
    log.info(`tsbeat ${VERSION} starting (heartbeat 3.0.6 compatible) on node ${config.localNode}`);
    writePidFile(paths.pidFile, process.pid);

    const gen = nextGeneration(paths.generationFile, h.hbgenmethod, Math.floor(Date.now() / 1000));
    this.generation = gen.generation;
    if (gen.problem) log.warn(gen.problem);
    if (gen.fresh) log.warn(`No Previous generation - starting at ${gen.generation}`);
    log.info(`Heartbeat generation: ${gen.generation}`);
    const id = nodeUuid(paths.uuidFile, { uuidfrom: h.uuidfrom, nodename: config.localNode });
    if (id.seed !== undefined) log.info(`uuid from node name ${config.localNode} (seed is ${id.seed})`);
    if (id.created) log.info('No uuid found for current node - generating a new uuid.');

    if (h.watchdog !== undefined && optional.watchdog) {
      const { Watchdog, WatchdogOpenError } = optional.watchdog;
      try {
        this.watchdog = Watchdog.open(h.watchdog, (level, msg) => log[level](msg));
      } catch (e) {
        if (e instanceof WatchdogOpenError) throw new Error(`${join(config.dir, 'ha.cf')}: ${e.message}`);
        throw e;
      }
    }
    this.configDigests = await readConfigDigests(config.dir);
    this.runner = this.createRunner();
    await this.reconcile(this.runner);
    this.observer = new Observer({
      config,
      log,
      clock: systemClock,
      digest: await readConfigDigest(config.dir),
      generation: gen.generation,
      rejected: () => this.rejected.snapshot(),
      logDrops: () => log.stats(),
    });
    // The tutorial's lvsdr boot script, when ha.cf asks for it (src/director/lvs-dr.ts).
    optional.lvsDr?.lvsDrAtStart(config, (level, message) => log[level](message));

    try {
      this.media = buildMedia(h.media, systemClock, (e) => logMediumEvent(log, e));
    } catch (e) {
      if (e instanceof UnsupportedMediumError) throw new Error(e.message);
      throw e;
    }
    for (const m of this.media) {
      try {
        await m.open();
        log.info(`${m.name}: started`);
      } catch (e) {
        const why = e instanceof MediumOpenError ? e.message : `${m.name}: ${(e as Error).message}`;
        await this.closeMedia();
        throw new Error(`cannot open heartbeat medium: ${why}`);
      }
    }

    // Ping nodes: the core judges them, the system `ping` sends the echoes (src/ping/).
    const pingNodes = pingNodeSpecs(h.pingNodes, h.nodes);
    if (pingNodes.length > 0 && optional.pinger) {
      this.pinger = new optional.pinger.SystemPinger({
        onReply: (host) => this.node?.pingReply(host),
        log: (level, msg) => log[level](msg),
        replyTimeoutMs: Math.max(1000, h.keepaliveMs),
        ipv6Hosts: ipv6Hosts(pingNodes),
      });
      log.info(`ping nodes: ${pingNodes.map((p) => p.name).join(' ')} (deadping ${h.deadpingMs} ms)`);
    }
    const watchdog = this.watchdog;
    this.node = new HaNode({
      ...(this.pinger ? { pinger: this.pinger } : {}),
      ...(watchdog ? { onHeartbeat: () => watchdog.tickle() } : {}),
      membership: {
        ...(pingNodes.length > 0 ? { pingNodes, deadpingMs: h.deadpingMs } : {}),
        localNode: config.localNode,
        nodes: h.nodes,
        links: h.media.map(linkName),
        keepaliveMs: h.keepaliveMs,
        deadtimeMs: h.deadtimeMs,
        warntimeMs: h.warntimeMs,
        initdeadMs: h.initdeadMs,
        maxRexmitDelayMs: h.maxRexmitDelayMs,
        hopfudge: h.hopfudge,
        generation: gen.generation,
        uuid: id.uuid,
      },
      media: this.media,
      keyring: config.keyring,
      innerAuth: h.msgfmt === 'classic',
      compression: compressionPolicy(h),
      clock: systemClock,
      random: seededRandom(Number(process.hrtime.bigint() % 2_147_483_647n)),
      log,
      loadavg: loadavgReader(systemClock),
      rejected: this.rejected,
      resources: this.resourceSide(this.runner),
      onInternalError: (where, e) =>
        void this.failOver(where === 'listener' ? 'the resource layer' : `membership (${where})`, e),
      ...(this.faults ? { faults: this.faults } : {}),
    });
    const node = this.node;
    const observer = this.observer;
    observer.attach(node);
    const ipfail = ipfailSetup(config);
    if (ipfail && 'problem' in ipfail) log.error(`ipfail not started: ${ipfail.problem}`);
    else if (ipfail && optional.ipfail) {
      this.ipfail = new optional.ipfail.IpfailDriver({
        node,
        clock: systemClock,
        cfg: ipfail.cfg,
        log: (l, m) => log[l](m),
      });
      log.info(`ipfail: built in, watching ${pingNodes.length} ping node(s) against ${ipfail.cfg.peer}`);
    }
    node.start();
    // respawn lines (ipfail is built in, above): started with the daemon, stopped first at shutdown.
    const children = h.clientChildren.filter((c) => !c.failfast && !isIpfailCommand(c.command));
    if (children.length > 0 && optional.respawn) {
      this.clients = new optional.respawn.ClientChildren({
        children,
        env: this.clientEnvironment(),
        log: (level, msg) => log[level](msg),
      });
      this.clients.start();
    }
    const peerClients = new PeerClientTable(config.localNode);
    node.onDeliver((d) => peerClients.delivered(d));
    node.onEvent((e) => peerClients.event(e));

    const view = new DaemonView(VERSION, config, this.node);
    this.view = view;
    view.clientStatusOf = (n, client) =>
      n === config.localNode
        ? (client === 'ipfail' && this.ipfail) ||
          this.clients?.status(client) === 'online' ||
          this.signedOn.has(client)
          ? 'online'
          : 'offline'
        : peerClients.status(n, client);
    // heartbeat tells the peers when an API client signs on or off (hbapi-clstat).
    this.signedOn.onChange = (client, st) => {
      log.info(`API client ${client}: ${st === 'join' ? 'signed on' : 'signed off'}`);
      node.send({
        fields: [
          stringField('t', 'hbapi-clstat'),
          stringField('st', st),
          stringField('from_id', client),
          stringField('info', 'tsbeat API client'),
        ],
      });
    };
    view.resources = {
      rscStatus: () => node.rscStatus(),
      groups: () => node.groups(),
      standby: async (set) => {
        observer.operator('standby', set);
        return node.standby(set);
      },
      takeover: async (set) => {
        observer.operator('takeover', set);
        return node.takeover(set);
      },
    };
    view.configMismatchOf = () => observer.configMismatch();
    view.journalOf = (sinceMs) => ({
      events: observer.journal.since(sinceMs),
      dropped: observer.journal.dropped,
    });
    this.node.onEvent((e) => {
      switch (e.kind) {
        case 'nodeStatus':
          view.note(e.to === 'dead' ? 'warn' : 'info', `node ${e.node}: ${e.from} -> ${e.to}`);
          break;
        case 'linkStatus':
          view.note(e.status === 'dead' ? 'warn' : 'info', `link ${e.node}:${e.link} ${e.status}`);
          break;
        case 'restart':
          view.note('info', `node ${e.node} restarted (generation ${e.generation})`);
          break;
        case 'partitionHealed':
          view.note('crit', `node ${e.node} returned after a partition`);
          break;
        case 'stall':
          view.note('warn', `tsbeat did not run for ${e.frozenMs} ms`);
          break;
        default:
          break;
      }
    });
    const fencer = this.fencer;
    if (fencer) {
      view.fencingInfo = () => {
        const policy = fencer.policy();
        const check = fencer.lastStatus;
        const last = fencer.lastResult;
        return {
          configured: true,
          device: fencer.describe(),
          preferredSurvivor: policy.preferredSurvivor || undefined,
          delayMs: policy.delayMs,
          takeoverWithoutFencing: tsbeatSettingsOf(config).takeoverWithoutFencing,
          lastCheck: check
            ? { at: new Date(check.atMs).toISOString(), ok: check.ok, detail: check.detail }
            : undefined,
          lastFence: last
            ? { at: new Date(last.atMs).toISOString(), node: last.node, ok: last.ok, detail: last.detail }
            : undefined,
        };
      };
    }
    // Scheduling priority and core dumps, as far as a Node process can (ha.cf(5)); off the
    // heartbeat path: the lines come when the tools answered.
    void applyOsTuning({
      realtime: h.realtime,
      ...(h.rtprio !== undefined ? { rtprio: h.rtprio } : {}),
      coredumps: h.coredumps,
    }).then(
      (lines) => {
        for (const l of lines) log[l.level](l.text);
      },
      (e: unknown) => log.warn(`realtime/coredumps: ${(e as Error).message}`),
    );
    view.rejectedCounts = () => this.rejected.snapshot();
    view.logStats = () => log.stats();
    this.api = await startApiServers(this.view, paths.runDir, {
      rejected: this.rejected,
      signedOn: this.signedOn,
    });
    log.info(`local API listening on ${paths.socket}`);
    for (const c of this.api.clientSockets)
      log.info(`local API: apiauth ${c.client} ${c.kind}=${c.name} signs on through ${c.path}`);
    const listen = tsbeatSettingsOf(config).metrics;
    if (listen) {
      // A metrics port that cannot be opened costs the operator graphs, never the cluster.
      try {
        // Imported only when asked for: node:http costs a daemon without metrics ~1 MB of RSS.
        const { startMetricsServer } = await import('../metrics/server.js');
        this.metrics = await startMetricsServer(listen, observer.registry);
        log.info(`metrics: OpenMetrics on http://${this.metrics.address}/metrics`);
      } catch (e) {
        log.error(`${(e as Error).message}; running without the metrics endpoint`);
      }
    }
  }

  /** The scripts and built-in agents of haresources, with heartbeat's environment. */
  private createRunner(): ResourceRunner {
    const { config } = this.opts;
    const h = config.haCf;
    const log = this.log;
    const envValue = (name: string): string | undefined => h.env.find(([k]) => k === name)?.[1];
    const timeoutS = Number.parseInt(envValue('TSBEAT_RESOURCE_TIMEOUT') ?? '', 10);
    // An operator who wants heartbeat's own script for an agent tsbeat has built in names it here.
    const scriptAgents = new Set((envValue('TSBEAT_SCRIPT_AGENTS') ?? '').split(':').filter(Boolean));
    return new ResourceRunner({
      scriptDirs: [join(config.dir, 'resource.d'), '/etc/init.d'],
      env: scriptEnvironment({
        localNode: config.localNode,
        dir: config.dir,
        params: h.params,
        env: h.env,
        ...(h.logfile !== undefined ? { logfile: h.logfile } : {}),
        ...(h.debugfile !== undefined ? { debugfile: h.debugfile } : {}),
        ...(h.logfacility !== undefined ? { logfacility: h.logfacility } : {}),
        niceFailback: h.autoFailback !== 'legacy',
      }),
      log: (level, message) => log[level](message),
      // In-process where the registry allows it; Filesystem, drbddisk, ... as their own executable.
      builtin: builtinAgents,
      external: scriptAgents,
      ...(Number.isFinite(timeoutS) && timeoutS > 0
        ? { timeoutMs: { start: timeoutS * 1000, stop: timeoutS * 1000 } }
        : {}),
    });
  }

  /**
   * Start-up reconciliation: before this node says a word to the cluster, ask every configured
   * resource whether it runs (a VIP left by a crashed instance, a service started at boot). This
   * node holds nothing yet in the protocol's eyes, and the peer may hold those groups now, so
   * whatever runs is stopped (right to left, as a group) before joining: two owners are never
   * possible, and nothing is left silently. A resource that will not stop keeps tsbeat out of
   * the cluster (start fails and says which).
   */
  private async reconcile(runner: ResourceRunner): Promise<void> {
    const { config } = this.opts;
    const log = this.log;
    const probe = new AbortController();
    const leftovers: { group: string; running: ResourceConfig[] }[] = [];
    for (const g of config.groups) {
      const running: ResourceConfig[] = [];
      for (const r of g.resources) {
        if (!runner.locate(r.script)) continue;
        const res = await runner.run(r, 'status', probe.signal);
        if (res.running) running.push(r);
      }
      if (running.length > 0) leftovers.push({ group: g.key, running });
    }
    if (leftovers.length === 0) {
      log.info('start-up check: no configured resource is running here');
      return;
    }
    for (const { group, running } of leftovers) {
      const g = config.groups.find((x) => x.key === group)!;
      log.warn(
        `start-up check: ${running.map((r) => r.spec).join(' ')} of group ${group} already running here (left by a previous instance, or started outside tsbeat); releasing the group before joining the cluster`,
      );
      const stuck = await stopRightToLeft(runner, g.resources, probe.signal);
      if (stuck.length > 0) {
        throw new Error(
          `${stuck.join(' ')} is running here and will not stop, so this node cannot join the cluster without risking it running twice; stop it by hand, then start tsbeat again`,
        );
      }
      log.info(`start-up check: group ${group} released`);
    }
  }

  /** heartbeat's resource layer: haresources, the agents and the STONITH device. */
  private resourceSide(runner: ResourceRunner): HaNodeResources {
    const { config } = this.opts;
    const h = config.haCf;
    const log = this.log;
    const envValue = (name: string): string | undefined => h.env.find(([k]) => k === name)?.[1];
    const stopRetryMax = Number.parseInt(envValue('STOPRETRYMAX') ?? '10', 10);
    let builtinUsed = false;
    for (const g of config.groups) {
      for (const r of g.resources) {
        const where = runner.locate(r.script);
        if (where?.kind === 'builtin' && where.inProcess) builtinUsed = true;
        if (!where)
          log.warn(
            `resource ${r.spec}: no script ${r.script} in ${join(config.dir, 'resource.d')} or /etc/init.d; starting it will fail`,
          );
      }
    }
    // Idle `ip -batch` helpers are forked now, while the daemon is small, so a takeover forks nothing.
    if (builtinUsed) {
      prewarmBuiltinAgents();
      this.builtinAgents = true;
    }
    const fencer = this.createFencer();
    return {
      mode: h.autoFailback,
      groups: config.groups,
      runner: {
        run: (resource, action, signal) =>
          this.observer
            ? this.observer.agentRun(resource, action, () => runner.run(resource, action, signal))
            : runner.run(resource, action, signal),
        prepareStart: (resources) => runner.prepareStart(resources),
        endStart: (resources) => runner.endStart(resources),
      },
      ...(fencer ? { fencer } : {}),
      takeoverWithoutFencing: tsbeatSettingsOf(config).takeoverWithoutFencing,
      pid: process.pid,
      ...(Number.isFinite(stopRetryMax) ? { stopRetryMax } : {}),
    };
  }

  /** The STONITH device of ha.cf (the last applicable line wins, as in heartbeat). */
  private createFencer(): (Fencer & { fencer: StonithFencer }) | undefined {
    const { config } = this.opts;
    const h = config.haCf;
    const device = h.stonith.at(-1);
    const stonith = this.optional?.stonith;
    if (!device || !stonith) return undefined;
    const { findStonithCommand, StonithFencer } = stonith;
    const log = this.log;
    const settings = tsbeatSettingsOf(config);
    const command = findStonithCommand();
    const fencer = new StonithFencer({
      device,
      localNode: config.localNode,
      preferredSurvivor: settings.preferredSurvivor,
      delayMs: settings.fenceDelayMs,
      log: (level, message) => log[level](message),
      ...(command ? { stonithCommand: command } : {}),
    });
    this.fencer = fencer;
    log.info(`STONITH device: ${fencer.describe()}`);
    void fencer.status().then((r) => {
      log.info(`Checking status of STONITH device [${device.type}]`);
      if (r.ok) log.info(`STONITH device [${device.type}] is operational.`);
      else {
        log.error('STONITH status operation failed.');
        log.info(`This may mean that the STONITH device has failed! (${r.detail})`);
      }
    });
    const observer = this.observer;
    return {
      configured: true,
      fence: (node) =>
        observer ? observer.fence(node, device.type, () => fencer.fence(node)) : fencer.fence(node),
      fencer,
    };
  }

  fencer: StonithFencer | undefined;
  /** What loadOptionalSubsystems loaded for this configuration. */
  private optional: OptionalSubsystems | undefined;
  /** Journal, metrics and config digest (src/observe). */
  observer: Observer | undefined;
  private metrics: MetricsServer | undefined;
  private pinger: SystemPinger | undefined;
  private ipfail: IpfailDriver | undefined;
  private watchdog: Watchdog | undefined;
  private clients: ClientChildren | undefined;
  /** API clients signed on through the apiauth client sockets. */
  private readonly signedOn = new SignedOnClients();

  /** What heartbeat's client children get: the environment of its scripts. */
  private clientEnvironment(): Record<string, string> {
    const { config } = this.opts;
    const h = config.haCf;
    return scriptEnvironment({
      localNode: config.localNode,
      dir: config.dir,
      params: h.params,
      env: h.env,
      ...(h.logfile !== undefined ? { logfile: h.logfile } : {}),
      ...(h.debugfile !== undefined ? { debugfile: h.debugfile } : {}),
      ...(h.logfacility !== undefined ? { logfacility: h.logfacility } : {}),
      niceFailback: h.autoFailback !== 'legacy',
    });
  }
  private builtinAgents = false;
  /** Digests of ha.cf, authkeys and haresources as started, to tell what SIGHUP finds changed. */
  private configDigests: Record<ConfigFile, string> | undefined;

  /**
   * SIGUSR1 (+1) / SIGUSR2 (-1): heartbeat's way to change the debug level of a running daemon
   * (0..255). Never opens a debugger, never ends the daemon.
   */
  changeDebugLevel(delta: number): void {
    const level = this.log.setDebugLevel(this.log.debugLevel() + delta);
    this.log.info(`debug level now ${level} (signal ${delta > 0 ? 'SIGUSR1' : 'SIGUSR2'})`);
  }

  /**
   * SIGHUP, as heartbeat: reopen the log files (after logrotate), re-read authkeys when it
   * changed (new keys in force at once), and say plainly what cannot be applied while running:
   * heartbeat restarts itself for a changed ha.cf, tsbeat asks the operator to restart it.
   */
  async reload(): Promise<void> {
    const log = this.log;
    log.reopen();
    const before = this.configDigests;
    const now = await readConfigDigests(this.opts.config.dir);
    if (!before) return;
    const changed = CONFIG_FILES.filter((f) => before[f] !== now[f]);
    if (changed.length === 0) {
      log.info('Configuration unchanged.');
      return;
    }
    if (changed.includes('authkeys')) {
      const file = join(this.opts.config.dir, 'authkeys');
      const problem = await readAuthkeys(file);
      if (typeof problem === 'string') {
        log.error(`SIGHUP: ${problem}; the keys in force are unchanged`);
      } else {
        log.info('Rereading authentication file.');
        this.node?.setKeyring(problem);
        this.configDigests = { ...before, authkeys: now.authkeys };
      }
    }
    for (const f of changed.filter((x) => x !== 'authkeys')) {
      log.warn(
        `SIGHUP: ${join(this.opts.config.dir, f)} changed since start; tsbeat applies it only at start: move the resources away (hb_standby), then restart tsbeat on this node`,
      );
    }
  }

  /**
   * Graceful stop: give every group up (right to left), tell the peers (shutdone), keep
   * heartbeating a moment so they hear it, close everything. Resolves false when the
   * shutdown was refused because a resource would not stop (the daemon keeps running).
   */
  stop(reason: string): Promise<boolean> {
    if (!this.stopping) this.stopping = this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<boolean> {
    const log = this.log;
    log.info(`shutdown requested (${reason})`);
    // Client children first, as heartbeat: nothing of theirs acts on a cluster going away.
    await this.clients?.stop();
    this.ipfail?.leave();
    if (this.node) {
      const done = await this.node.shutdown();
      if (!done) {
        this.clients?.resume();
        this.stopping = undefined;
        return false;
      }
      await sleep(SHUTDOWN_LINGER_MS);
    }
    await this.closeAll();
    log.info(`${this.opts.config.localNode} Heartbeat shutdown complete.`);
    await log.flush(LOG_FLUSH_MS);
    log.close();
    return true;
  }

  /** Tell the peers this node is gone and holds nothing (heartbeat's shutdone). */
  private sendShutdone(): void {
    this.node?.send(shutdoneMessage());
  }

  /** `clean`: nothing may still run here (a graceful stop, or a failover that released all). */
  private async closeAll(clean = true): Promise<void> {
    if (this.builtinAgents) shutdownBuiltinAgents();
    this.node?.stop();
    this.pinger?.close();
    this.ipfail?.stop();
    this.watchdog?.close(clean);
    await this.clients?.stop();
    this.faults?.stop();
    await this.metrics?.close();
    await this.api?.close();
    await this.closeMedia();
    removePidFile(this.opts.paths.pidFile, process.pid);
    await this.lock?.release();
  }

  /**
   * The failure policy (tsbeat(8), FAILURE POLICY). An internal error (an exception in the
   * membership core or a listener, a timer, the receive path, anywhere the process would
   * otherwise die) must not leave this node's resources up without the peer knowing. So:
   * 1. take no further input (the state may be half-updated);
   * 2. stop every group that may hold resources, right to left, bypassing the ownership core
   *    (which may be what broke), each action under its hard deadline;
   * 3. if everything stopped, say so (shutdone: the peer takes over at once, without fencing);
   *    if something would not stop, say nothing: the peer declares this node dead after
   *    deadtime and fences it before taking over (without STONITH, shared-storage groups are
   *    not taken over);
   * 4. exit with status 70, so a supervisor (systemd Restart=on-failure) restarts the daemon,
   *    whose start-up check then finds a clean node.
   */
  failOver(where: string, err: unknown): Promise<void> {
    if (this.failing) {
      this.log.crit(`internal error in ${where} while failing over: ${describeError(err)}`);
      return this.failing;
    }
    this.failing = this.doFailOver(where, err);
    return this.failing;
  }

  private async doFailOver(where: string, err: unknown): Promise<void> {
    const log = this.log;
    log.crit(
      `internal error in ${where}: ${describeError(err)}; failing over: releasing resources, then exiting`,
    );
    if (err instanceof Error && err.stack)
      log.error(`internal error stack: ${err.stack.split('\n').slice(0, 12).join(' | ')}`);

    let released = true;
    try {
      const groups = this.node?.groups() ?? [];
      this.node?.closeResources();
      const runner = this.runner;
      if (runner) {
        const signal = new AbortController().signal;
        for (const g of [...groups].reverse()) {
          if (g.state === 'stopped' || g.state === 'failed') continue;
          const group = this.opts.config.groups.find((x) => x.key === g.key);
          if (!group) continue;
          log.info(`failover: releasing group ${g.key} (was ${g.state})`);
          for (const spec of await stopRightToLeft(runner, group.resources, signal)) {
            released = false;
            log.crit(`failover: ${spec} would not stop; it may still run here`);
          }
        }
      }
    } catch (e) {
      released = false;
      log.crit(`failover: releasing resources failed: ${describeError(e)}`);
    }
    if (released) {
      let told = false;
      try {
        if (this.node?.isClosed === false) {
          this.sendShutdone();
          told = true;
        } else if (this.node) {
          told = this.node.sendLastWords(shutdoneMessage());
        }
      } catch (e) {
        log.crit(`failover: could not tell the peers: ${describeError(e)}`);
      }
      if (told) {
        log.info('failover: every group released; told the peers (shutdone)');
        await sleep(SHUTDOWN_LINGER_MS);
      } else {
        log.crit(
          'failover: every group released, but the peers could not be told: they will find this node dead after deadtime',
        );
      }
    } else {
      log.crit(
        'failover: not telling the peers anything was released: they will declare this node dead after deadtime and fence it before taking over',
      );
    }
    try {
      // A resource that would not stop: no magic close, so the watchdog reboots the machine.
      await this.closeAll(released);
    } catch (e) {
      log.crit(`failover: cleanup failed: ${describeError(e)}`);
    }
    log.crit(
      `exiting with status ${EXIT_INTERNAL_ERROR} after an internal error; a supervisor should restart tsbeat`,
    );
    await log.flush(LOG_FLUSH_MS);
    log.close();
    (this.opts.exit ?? ((code: number) => process.exit(code)))(EXIT_INTERNAL_ERROR);
  }

  private async closeMedia(): Promise<void> {
    await Promise.all(this.media.map((m) => m.close()));
  }
}

/**
 * Stop a group's resources right to left outside the resource manager (start-up check,
 * failover). Returns the resources that may still run: the stop failed and status says
 * running, or cannot say.
 */
async function stopRightToLeft(
  runner: ResourceRunner,
  resources: readonly ResourceConfig[],
  signal: AbortSignal,
): Promise<string[]> {
  const stuck: string[] = [];
  for (const r of [...resources].reverse()) {
    const stop = await runner.run(r, 'stop', signal);
    if (stop.rc === 0) continue;
    const check = await runner.run(r, 'status', signal);
    if (check.running || check.timedOut) stuck.push(r.spec);
  }
  return stuck;
}

const CONFIG_FILES = ['ha.cf', 'authkeys', 'haresources'] as const;
type ConfigFile = (typeof CONFIG_FILES)[number];

async function readConfigDigests(dir: string): Promise<Record<ConfigFile, string>> {
  const digest = async (f: ConfigFile): Promise<string> => {
    try {
      return createHash('sha256')
        .update(await readFile(join(dir, f)))
        .digest('hex');
    } catch (e) {
      return `unreadable: ${(e as NodeJS.ErrnoException).code ?? 'error'}`;
    }
  };
  const [a, b, c] = await Promise.all(CONFIG_FILES.map(digest));
  return { 'ha.cf': a!, authkeys: b!, haresources: c! };
}

/** The keys of a changed authkeys, or why they cannot be used (file:line, fix). */
async function readAuthkeys(file: string): Promise<Keyring | string> {
  try {
    const st = await stat(file);
    const mode = authkeysModeProblem(st.mode);
    if (mode) return `${file}: ${mode} (chmod 600 ${file})`;
    const parsed = parseAuthkeys((await readFile(file)).toString('latin1'), file);
    const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0 || !parsed.keyring)
      return errors.map(formatDiagnostic).join('; ') || `${file}: no usable key`;
    return parsed.keyring;
  } catch (e) {
    return `cannot read ${file}: ${(e as Error).message}`;
  }
}

/**
 * The `ld` field (informational): /proc/loadavg, re-read at most once a second. The file
 * stays open and is re-read at offset 0 (procfs renders it afresh). The read is synchronous:
 * procfs answers from memory and never waits for a disk, and an asynchronous read would cost
 * a thread-pool round trip (two thread wake-ups) a second, a measurable share of an idle
 * daemon's CPU at keepalive 1 s.
 */
function loadavgReader(clock: Clock): () => string {
  let cached = 'n/a';
  let at = Number.NEGATIVE_INFINITY;
  let fd: number | undefined;
  const buf = Buffer.alloc(128);
  return () => {
    const now = clock.monotonicMs();
    if (now - at < 1000) return cached;
    at = now;
    try {
      fd ??= openSync('/proc/loadavg', 'r');
      cached = buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0)).trim();
    } catch {
      cached = 'n/a';
    }
    return cached;
  };
}

function shutdoneMessage(): Message {
  return { fields: [stringField('t', 'shutdone'), stringField('st', 'dead')] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The hostname heartbeat uses (`uname -n`), lowercased. */
export function localHostname(): string {
  return hostname().toLowerCase();
}
