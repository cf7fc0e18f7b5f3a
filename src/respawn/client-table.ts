// Part: which API clients run on the peers, as they announce them (heartbeat's
// `t=hbapi-clstat st=join|leave from_id=CLIENT`), for `cl_status clientstatus PEER CLIENT`.
// A peer that dies or restarts takes its clients with it.

import { getString } from '../codec/model.js';
import type { Delivered, MembershipEvent } from '../membership/model.js';

export class PeerClientTable {
  private readonly clients = new Map<string, Map<string, 'join' | 'leave'>>();
  private readonly localNode: string;

  constructor(localNode: string) {
    this.localNode = localNode;
  }

  delivered(d: Delivered): void {
    if (d.type !== 'hbapi-clstat' || d.from === this.localNode) return;
    const st = getString(d.msg, 'st');
    const id = getString(d.msg, 'from_id');
    if (id === undefined || (st !== 'join' && st !== 'leave')) return;
    let m = this.clients.get(d.from);
    if (!m) {
      m = new Map();
      this.clients.set(d.from, m);
    }
    m.set(id, st);
  }

  event(e: MembershipEvent): void {
    if (e.kind === 'nodeDead' || e.kind === 'restart') this.clients.delete(e.node);
  }

  /** heartbeat's answer: `online` for a client that joined, `offline` otherwise. */
  status(node: string, client: string): 'online' | 'offline' {
    return this.clients.get(node)?.get(client) === 'join' ? 'online' : 'offline';
  }
}
