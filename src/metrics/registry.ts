// Part: a small metrics registry (counters, gauges, histograms with labels) and its text
// exposition in both formats Prometheus reads: OpenMetrics 1.0 (what a Prometheus server asks
// for) and the classic text format 0.0.4 (what `promtool check metrics` and curl get).
// No I/O; src/metrics/server.ts serves it.

import { compareCodeUnits } from '../lib/diagnostic.js';
export type Labels = Readonly<Record<string, string>>;

type Kind = 'counter' | 'gauge' | 'histogram';

interface Family {
  readonly name: string;
  readonly help: string;
  readonly kind: Kind;
  readonly buckets?: readonly number[];
  /** Label set (serialised) -> value, or histogram state. */
  readonly values: Map<string, { labels: Labels; value: number; counts?: number[]; sum?: number }>;
  /** Gauges computed at scrape time. */
  collect?: () => readonly { labels: Labels; value: number }[];
}

/** Durations from a few milliseconds (an IP address) to minutes (a filesystem check). */
export const DURATION_BUCKETS_S = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => compareCodeUnits(a, b)));
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Labels, extra?: readonly [string, string]): string {
  const all = Object.entries(labels);
  if (extra) all.push([extra[0], extra[1]]);
  if (all.length === 0) return '';
  return `{${all.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function num(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}

export class Registry {
  private readonly families = new Map<string, Family>();

  private family(name: string, help: string, kind: Kind, buckets?: readonly number[]): Family {
    if (!NAME.test(name) || name.endsWith('_total')) throw new Error(`bad metric name ${name}`);
    let f = this.families.get(name);
    if (!f) {
      f = { name, help, kind, values: new Map(), ...(buckets ? { buckets } : {}) };
      this.families.set(name, f);
    }
    return f;
  }

  /**
   * Declare a counter (exposed as NAME_total); declaring makes it appear at 0 without labels.
   * `collect` reads counts kept elsewhere (they must only grow) at scrape time.
   */
  counter(name: string, help: string, collect?: () => readonly { labels: Labels; value: number }[]): void {
    const f = this.family(name, help, 'counter');
    if (collect) f.collect = collect;
  }

  gauge(name: string, help: string, collect?: () => readonly { labels: Labels; value: number }[]): void {
    const f = this.family(name, help, 'gauge');
    if (collect) f.collect = collect;
  }

  histogram(name: string, help: string, buckets: readonly number[] = DURATION_BUCKETS_S): void {
    this.family(name, help, 'histogram', buckets);
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    const f = this.families.get(name);
    if (f?.kind !== 'counter') throw new Error(`no counter ${name}`);
    const k = key(labels);
    const v = f.values.get(k);
    if (v) v.value += by;
    else f.values.set(k, { labels, value: by });
  }

  set(name: string, labels: Labels, value: number): void {
    const f = this.families.get(name);
    if (f?.kind !== 'gauge') throw new Error(`no gauge ${name}`);
    f.values.set(key(labels), { labels, value });
  }

  observe(name: string, labels: Labels, value: number): void {
    const f = this.families.get(name);
    if (f?.kind !== 'histogram' || !f.buckets) throw new Error(`no histogram ${name}`);
    const k = key(labels);
    let v = f.values.get(k);
    if (!v) {
      v = { labels, value: 0, counts: f.buckets.map(() => 0), sum: 0 };
      f.values.set(k, v);
    }
    v.value++;
    v.sum = (v.sum ?? 0) + value;
    f.buckets.forEach((b, i) => {
      if (value <= b) v.counts![i]!++;
    });
  }

  /** The exposition; `openMetrics` selects OpenMetrics 1.0 (counters' TYPE without _total, # EOF). */
  expose(openMetrics: boolean): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      const family = f.kind === 'counter' && !openMetrics ? `${f.name}_total` : f.name;
      out.push(`# HELP ${family} ${escapeHelp(f.help)}`);
      out.push(`# TYPE ${family} ${f.kind}`);
      const samples = f.collect ? f.collect().map((s) => ({ ...s })) : [...f.values.values()];
      if (f.kind === 'counter' && samples.length === 0 && !f.collect) {
        out.push(`${f.name}_total 0`);
        continue;
      }
      for (const s of samples) {
        if (f.kind === 'counter') out.push(`${f.name}_total${labelText(s.labels)} ${num(s.value)}`);
        else if (f.kind === 'gauge') out.push(`${f.name}${labelText(s.labels)} ${num(s.value)}`);
        else {
          const h = s as { labels: Labels; value: number; counts?: number[]; sum?: number };
          f.buckets!.forEach((b, i) => {
            out.push(`${f.name}_bucket${labelText(h.labels, ['le', num(b)])} ${h.counts![i]}`);
          });
          out.push(`${f.name}_bucket${labelText(h.labels, ['le', '+Inf'])} ${h.value}`);
          out.push(`${f.name}_count${labelText(h.labels)} ${h.value}`);
          out.push(`${f.name}_sum${labelText(h.labels)} ${num(h.sum ?? 0)}`);
        }
      }
    }
    if (openMetrics) out.push('# EOF');
    return `${out.join('\n')}\n`;
  }
}
