// Part: where tsbeat runs each exported group — at start, after a node fails, after it
// returns — as a small model of heartbeat's v1 rules (hb_resource.c: each node takes its own
// haresources lines; a dead peer's groups are taken over, shared storage only once the peer
// is fenced; auto_failback on/legacy hands them back). The tests check it against tsbeat's
// real ownership core (the simulator) and against crm_simulate.

import type { AutoFailback } from '../config/model.js';
import type { GroupPlacement } from './model.js';

export type PlacementEvent =
  | { readonly kind: 'start' }
  | { readonly kind: 'fail'; readonly node: string }
  | { readonly kind: 'return'; readonly node: string };

/** Group id -> the node running it, or null when it runs nowhere. */
export type Placement = Readonly<Record<string, string | null>>;

export interface PlacementModel {
  readonly nodes: readonly string[];
  readonly groups: readonly GroupPlacement[];
  readonly autoFailback: AutoFailback;
  readonly stonith: boolean;
}

/** Apply events in order, starting from a cluster where nothing runs. */
export function predictPlacement(m: PlacementModel, events: readonly PlacementEvent[]): Placement[] {
  const up = new Set<string>();
  const where = new Map<string, string | null>(m.groups.map((g) => [g.id, null]));
  const out: Placement[] = [];
  for (const e of events) {
    if (e.kind === 'start') {
      for (const n of m.nodes) up.add(n);
      for (const g of m.groups) where.set(g.id, up.has(g.preferredNode) ? g.preferredNode : null);
    } else if (e.kind === 'fail') {
      up.delete(e.node);
      const survivor = m.nodes.find((n) => up.has(n));
      for (const g of m.groups) {
        if (where.get(g.id) !== e.node) continue;
        // tsbeat refuses to take over shared storage from a peer it could not fence.
        where.set(g.id, survivor !== undefined && (m.stonith || !g.sharedStorage) ? survivor : null);
      }
    } else {
      const peerUp = m.nodes.some((n) => up.has(n));
      up.add(e.node);
      for (const g of m.groups) {
        if (g.preferredNode !== e.node) continue;
        // With auto_failback off the peer answers that it holds every group it took over, also
        // one it refused to start (shared storage it could not fence for): that one stays down.
        if (m.autoFailback !== 'off' || !peerUp) where.set(g.id, e.node);
      }
    }
    out.push(Object.fromEntries(where));
  }
  return out;
}
