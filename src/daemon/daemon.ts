// Part: the daemon's life: configuration, identity (generation, uuid), pid file, logging,
// media, the membership shell, the local API, signals, and a clean shutdown.

import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  isBuiltinAgent,
  prewarmBuiltinAgents,
  runHeartbeatStyle,
  shutdownBuiltinAgents,
} from '../agents/builtin.js';
import { ResourceRunner, scriptEnvironment } from '../agents/runner.js';
import type { Config } from '../config/model.js';
import { type ApiServers, startApiServers } from '../ipc/api.js';
import { systemClock } from '../lib/clock.js';
import { seededRandom } from '../lib/random.js';
import { type Medium, MediumOpenError } from '../media/index.js';
import { type Fencer, ResourceManager } from '../resources/manager.js';
import { findStonithCommand, StonithFencer } from '../stonith/fencer.js';
import { ClusterNode, logMediumEvent } from './cluster-node.js';
import { createLog, type Log } from './log.js';
import { buildMedia, linkName, UnsupportedMediumError } from './media-factory.js';
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
}

/** How long a stopping node keeps heartbeating after `shutdone`, so peers hear it (heartbeat: ~1 s). */
const SHUTDOWN_LINGER_MS = 1000;
/** How long a stopping daemon waits for its log lines to be written (a stuck disk loses them). */
const LOG_FLUSH_MS = 2000;

export class Daemon {
  private readonly opts: DaemonOptions;
  readonly log: Log;
  private media: Medium[] = [];
  private node: ClusterNode | undefined;
  private rm: ResourceManager | undefined;
  private api: ApiServers | undefined;
  view: DaemonView | undefined;
  private stopping: Promise<boolean> | undefined;
  generation = 0;

  constructor(opts: DaemonOptions) {
    this.opts = opts;
    const h = opts.config.haCf;
    this.log = createLog({
      ...(h.logfile !== undefined ? { logfile: h.logfile } : {}),
      ...(h.debugfile !== undefined ? { debugfile: h.debugfile } : {}),
      ...(h.logfacility !== undefined ? { logfacility: h.logfacility } : {}),
      stderr: opts.stderr,
      debugLevel: h.debugLevel,
      syslogmsgfmt:
        h.params['syslogmsgfmt'] !== undefined
          ? !/^(false|off|no|n|0)$/i.test(h.params['syslogmsgfmt'])
          : true,
    });
  }

  /** Start everything; on failure, undo what was done and throw a one-line reason. */
  async start(): Promise<void> {
    const { config, paths } = this.opts;
    const h = config.haCf;
    const log = this.log;
    log.info(`tsbeat ${VERSION} starting (heartbeat 3.0.6 compatible) on node ${config.localNode}`);
    writePidFile(paths.pidFile, process.pid);

    const gen = nextGeneration(paths.generationFile, h.hbgenmethod, Math.floor(Date.now() / 1000));
    this.generation = gen.generation;
    if (gen.fresh) log.warn(`No Previous generation - starting at ${gen.generation}`);
    log.info(`Heartbeat generation: ${gen.generation}`);
    const id = nodeUuid(paths.uuidFile);
    if (id.created) log.info('No uuid found for current node - generating a new uuid.');

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

    this.node = new ClusterNode({
      membership: {
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
      clock: systemClock,
      random: seededRandom(Number(process.hrtime.bigint() % 2_147_483_647n)),
      log,
    });
    this.rm = this.createResourceManager(this.node);
    const rm = this.rm;
    this.node.onEvent((e) => rm.onMembershipEvent(e));
    this.node.onDeliver((d) => rm.onDelivered(d));
    this.node.start();

    const view = new DaemonView(VERSION, config, this.node);
    this.view = view;
    view.resources = {
      rscStatus: () => rm.rscStatus(),
      groups: () => rm.groups(),
      standby: async (set) => rm.standby(set),
      takeover: async (set) => rm.takeover(set),
    };
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
          takeoverWithoutFencing: false,
          lastCheck: check
            ? { at: new Date(check.atMs).toISOString(), ok: check.ok, detail: check.detail }
            : undefined,
          lastFence: last
            ? { at: new Date(last.atMs).toISOString(), node: last.node, ok: last.ok, detail: last.detail }
            : undefined,
        };
      };
    }
    this.api = await startApiServers(this.view, paths.runDir);
    log.info(`local API listening on ${paths.socket}`);
  }

  /** heartbeat's resource layer over the membership shell, with its scripts and environment. */
  private createResourceManager(node: ClusterNode): ResourceManager {
    const { config } = this.opts;
    const h = config.haCf;
    const log = this.log;
    const envValue = (name: string): string | undefined => h.env.find(([k]) => k === name)?.[1];
    const stopRetryMax = Number.parseInt(envValue('STOPRETRYMAX') ?? '10', 10);
    const timeoutS = Number.parseInt(envValue('TSBEAT_RESOURCE_TIMEOUT') ?? '', 10);
    // An operator who wants heartbeat's own script for an agent tsbeat has built in names it here.
    const scriptAgents = new Set((envValue('TSBEAT_SCRIPT_AGENTS') ?? '').split(':').filter(Boolean));
    const runner = new ResourceRunner({
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
      builtin: { isBuiltinAgent, runHeartbeatStyle },
      external: scriptAgents,
      ...(Number.isFinite(timeoutS) && timeoutS > 0
        ? { timeoutMs: { start: timeoutS * 1000, stop: timeoutS * 1000 } }
        : {}),
    });
    let builtinUsed = false;
    for (const g of config.groups) {
      for (const r of g.resources) {
        const where = runner.locate(r.script);
        if (where?.kind === 'builtin') builtinUsed = true;
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
    return new ResourceManager({
      config,
      runner: { run: (resource, action, signal) => runner.run(resource, action, signal) },
      ...(fencer ? { fencer } : {}),
      takeoverWithoutFencing: /^(yes|true|on|1)$/i.test(envValue('TSBEAT_TAKEOVER_WITHOUT_FENCING') ?? ''),
      send: (msg) => node.send(msg),
      log: {
        debug: (m) => log.debug(m),
        info: (m) => log.info(m),
        warn: (m) => log.warn(m),
        error: (m) => log.error(m),
        crit: (m) => log.crit(m),
      },
      clock: systemClock,
      everHeard: (n) => node.state.peers.get(n)?.heard ?? false,
      ...(Number.isFinite(stopRetryMax) ? { stopRetryMax } : {}),
    });
  }

  /** The STONITH device of ha.cf (the last applicable line wins, as in heartbeat). */
  private createFencer(): (Fencer & { fencer: StonithFencer }) | undefined {
    const { config } = this.opts;
    const h = config.haCf;
    const device = h.stonith.at(-1);
    if (!device) return undefined;
    const log = this.log;
    const envValue = (name: string): string | undefined => h.env.find(([k]) => k === name)?.[1];
    const delayS = Number.parseFloat(envValue('TSBEAT_FENCE_DELAY') ?? '5');
    const command = findStonithCommand();
    const fencer = new StonithFencer({
      device,
      localNode: config.localNode,
      preferredSurvivor: (envValue('TSBEAT_PREFERRED_SURVIVOR') ?? h.nodes[0] ?? '').toLowerCase(),
      delayMs: Number.isFinite(delayS) ? Math.max(0, delayS * 1000) : 5000,
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
    return { configured: true, fence: (node) => fencer.fence(node), fencer };
  }

  fencer: StonithFencer | undefined;
  private builtinAgents = false;

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
    if (this.rm && this.node) {
      const done = await this.rm.shutdown();
      if (!done) {
        this.stopping = undefined;
        return false;
      }
      await new Promise((r) => setTimeout(r, SHUTDOWN_LINGER_MS));
    } else if (this.node) {
      this.node.send({
        fields: [
          { name: 't', kind: 'string', value: Buffer.from('shutdone') },
          { name: 'st', kind: 'string', value: Buffer.from('dead') },
        ],
      });
      await new Promise((r) => setTimeout(r, SHUTDOWN_LINGER_MS));
    }
    this.rm?.close();
    if (this.builtinAgents) shutdownBuiltinAgents();
    this.node?.stop();
    await this.api?.close();
    await this.closeMedia();
    removePidFile(this.opts.paths.pidFile, process.pid);
    log.info(`${this.opts.config.localNode} Heartbeat shutdown complete.`);
    await log.flush(LOG_FLUSH_MS);
    log.close();
    return true;
  }

  private async closeMedia(): Promise<void> {
    await Promise.all(this.media.map((m) => m.close()));
  }
}

/** The hostname heartbeat uses (`uname -n`), lowercased. */
export function localHostname(): string {
  return hostname().toLowerCase();
}
