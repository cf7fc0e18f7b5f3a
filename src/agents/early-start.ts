// Part: starting virtual IPs ahead of their agent: at a takeover the daemon sends, in one `ip`
// exchange, what the built-in IPaddr2 starts of a group's leading resources will do — each
// one's discovery queries followed by its address change — and the agents' own status and start
// then run as always, against a replay of that exchange. The address is configured within a
// round trip of the verdict, where the agent path alone (status, discovery, change: three
// exchanges and a few milliseconds of JavaScript that runs once a takeover) took 4-16 ms.
//
// Why this is the same as running the agents: the queries of resource k run in the batch right
// before its change and after the changes of resources 1..k-1, exactly where the agents' own
// status and start would run them; the agent decides from those answers as it always does, and
// its change is used only if it is word for word the change sent ahead. Otherwise — the routes
// changed since the plan was made, the address turned up on the loopback, the agent wants to do
// more — the change sent ahead is undone (the address deleted again, if it was added) and the
// agent's own lines run on a real session, from the state it was shown. A resource whose status
// says it runs, or a group start that ends before reaching it, also has its change undone.
//
// A plan (the queries and the change of one resource) is noted by the agent whenever it runs
// its discovery in the daemon (the start-up check asks every resource's status), so a takeover
// needs no extra work beforehand.

import type { IpCommand, IpOutcome, IpSession, IpSessionOptions } from './ip.js';

/** What one resource's start asks and changes, when that is all it does. */
export interface StartPlan {
  readonly queries: readonly IpCommand[];
  readonly changes: readonly IpCommand[];
}

export function sameCommands(a: readonly IpCommand[], b: readonly IpCommand[]): boolean {
  return (
    a.length === b.length &&
    a.every((c, i) => {
      const d = b[i]!;
      return c.json === d.json && c.args.length === d.args.length && c.args.every((w, j) => w === d.args[j]);
    })
  );
}

/** The lines that take back a change sent ahead: its address additions, deleted again. */
export function undoLines(changes: readonly IpCommand[], outcomes: readonly IpOutcome[]): IpCommand[] {
  const out: IpCommand[] = [];
  changes.forEach((c, i) => {
    if (!outcomes[i]?.ok || c.args[0] !== 'addr' || c.args[1] !== 'add') return;
    const dev = c.args.indexOf('dev');
    const address = c.args[2];
    const nic = dev === -1 ? undefined : c.args[dev + 1];
    if (address !== undefined && nic !== undefined)
      out.push({ args: ['addr', 'del', address, 'dev', nic], json: false });
  });
  return out;
}

/** One resource's share of the batch sent ahead. */
export class EarlyStart {
  readonly plan: StartPlan;
  /** The answers to its queries, then the outcomes of its changes (when the batch is back). */
  private readonly answers: Promise<{ queries: IpOutcome[]; changes: IpOutcome[] }>;
  /** A real session of the daemon's runtime (for undoing, and for agents that do otherwise). */
  readonly openReal: () => IpSession;
  private state: 'pending' | 'claimed' | 'undone' = 'pending';
  private undoing: Promise<void> | undefined;

  /** Told once, with the addresses removed, when undo() took something back. */
  private readonly onTakenBack: (removed: string[]) => void;

  constructor(
    plan: StartPlan,
    answers: Promise<{ queries: IpOutcome[]; changes: IpOutcome[] }>,
    openReal: () => IpSession,
    onTakenBack: (removed: string[]) => void,
  ) {
    this.plan = plan;
    this.answers = answers;
    this.openReal = openReal;
    this.onTakenBack = onTakenBack;
  }

  /** An IpSession for the agent's status or start that replays this share, then goes real. */
  session(options: IpSessionOptions, forStart: boolean): IpSession {
    return new ReplaySession(this, options, forStart);
  }

  /** @internal */
  async replayQueries(commands: readonly IpCommand[]): Promise<IpOutcome[] | undefined> {
    if (this.state !== 'pending' || !sameCommands(commands, this.plan.queries)) return undefined;
    const { queries } = await this.answers;
    // A failed line (ip gone, a link gone): the agent asks again for real.
    return queries.every((o) => o.ok) ? queries : undefined;
  }

  /** @internal The agent's change: the outcomes sent ahead if it is the same, else undefined. */
  async claimChanges(commands: readonly IpCommand[]): Promise<IpOutcome[] | undefined> {
    if (this.state !== 'pending' || !sameCommands(commands, this.plan.changes)) return undefined;
    const { changes } = await this.answers;
    // A line that failed ahead (say a stale interface name) is not the agent's failure: it runs
    // its change for real instead.
    if (!changes.every((o) => o.ok)) return undefined;
    this.state = 'claimed';
    return changes;
  }

  /** Take the change back unless an agent has made it its own (idempotent). */
  undo(): Promise<void> {
    if (this.state === 'claimed') return Promise.resolve();
    if (this.undoing) return this.undoing;
    this.state = 'undone';
    this.undoing = this.answers.then(async ({ changes }) => {
      const lines = undoLines(this.plan.changes, changes);
      if (lines.length === 0) return;
      const s = this.openReal();
      try {
        await s.run(lines);
      } finally {
        s.close();
      }
      this.onTakenBack(lines.map((l) => `${l.args[2]} on ${l.args[4]}`));
    });
    return this.undoing;
  }

  get claimed(): boolean {
    return this.state === 'claimed';
  }
}

/**
 * The agent's session during a status or start that has a share sent ahead: its first exchange
 * (the discovery) and, in a start, its second (the change) are answered from the batch when
 * they are the planned lines; anything else undoes the share and runs for real.
 */
class ReplaySession implements IpSession {
  readonly options: IpSessionOptions;
  private readonly early: EarlyStart;
  private readonly forStart: boolean;
  private exchanges = 0;
  private real: IpSession | undefined;
  private closed = false;

  constructor(early: EarlyStart, options: IpSessionOptions, forStart: boolean) {
    this.early = early;
    this.options = options;
    this.forStart = forStart;
  }

  get alive(): boolean {
    return !this.closed && (this.real?.alive ?? true);
  }

  async run(commands: readonly IpCommand[], signal?: AbortSignal): Promise<IpOutcome[]> {
    const n = this.exchanges++;
    if (!this.closed && n === 0) {
      const answers = await this.early.replayQueries(commands);
      if (answers) return answers;
    } else if (!this.closed && n === 1 && this.forStart) {
      const outcomes = await this.early.claimChanges(commands);
      if (outcomes) return outcomes;
    }
    await this.early.undo();
    this.real ??= this.early.openReal();
    return this.real.run(commands, signal);
  }

  close(): void {
    this.closed = true;
    this.real?.close();
  }

  kill(): void {
    this.closed = true;
    this.real?.kill();
  }

  unref(): void {
    this.real?.unref();
  }

  ref(): void {
    this.real?.ref();
  }
}
