// Part: the event journal: a bounded, in-memory record of the typed events behind every
// ownership change (links and nodes going dead, fencing, resource work and each agent action
// with its duration), fed by the daemon shell from what the cores already emit. Words come
// later (explain.ts); nothing here formats prose.

/** One journal entry: wall-clock time (for the operator) and monotonic time (for durations). */
export type JournalEvent = { readonly atMs: number; readonly monoMs: number } & JournalBody;

export type JournalBody =
  | {
      readonly kind: 'linkStatus';
      readonly node: string;
      readonly link: string;
      readonly status: 'up' | 'dead';
    }
  | {
      readonly kind: 'nodeDead';
      readonly node: string;
      readonly silentMs: number;
      readonly limitMs: number;
      /** Links of that node dead when it was declared dead, and how many it has. */
      readonly linksDead: number;
      readonly linksTotal: number;
    }
  | { readonly kind: 'nodeStatus'; readonly node: string; readonly from: string; readonly to: string }
  | { readonly kind: 'restart'; readonly node: string; readonly generation: number }
  | { readonly kind: 'partitionHealed'; readonly node: string }
  | { readonly kind: 'commUp' }
  | { readonly kind: 'operator'; readonly request: 'standby' | 'takeover'; readonly set: string }
  | {
      readonly kind: 'work';
      readonly id: number;
      readonly action: 'acquire' | 'release' | 'fence';
      readonly purpose: string;
      readonly keys: readonly string[];
      readonly peer?: string;
    }
  | {
      readonly kind: 'workDone';
      readonly id: number;
      readonly startFailed: readonly string[];
      readonly stopFailed: readonly string[];
      readonly fenced?: boolean;
    }
  | {
      readonly kind: 'agent';
      readonly resource: string;
      /** The group (its key) the resource belongs to. */
      readonly group?: string;
      readonly agent: string;
      readonly action: string;
      readonly rc: number;
      readonly durationMs: number;
      readonly timedOut: boolean;
    }
  | {
      readonly kind: 'fence';
      readonly node: string;
      readonly device: string;
      readonly ok: boolean;
      readonly durationMs: number;
    }
  | { readonly kind: 'configMismatch'; readonly node: string; readonly files: readonly string[] };

/** Enough for hours of normal life and the whole of any incident; older entries go first. */
export const JOURNAL_CAPACITY = 5000;

export class Journal {
  private readonly entries: JournalEvent[] = [];
  private readonly capacity: number;
  /** Entries dropped because the journal was full (the oldest). */
  dropped = 0;

  constructor(capacity = JOURNAL_CAPACITY) {
    this.capacity = capacity;
  }

  record(atMs: number, monoMs: number, body: JournalBody): void {
    this.entries.push({ atMs, monoMs, ...body });
    if (this.entries.length > this.capacity) {
      this.entries.shift();
      this.dropped++;
    }
  }

  /** The last `n` entries, oldest first. */
  recent(n: number): JournalEvent[] {
    return this.entries.slice(-n);
  }

  /** Entries at or after `sinceMs` (wall clock), oldest first. */
  since(sinceMs = Number.NEGATIVE_INFINITY): JournalEvent[] {
    return this.entries.filter((e) => e.atMs >= sinceMs);
  }
}
