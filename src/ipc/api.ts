// Part: the daemon's local API: which commands exist and on which socket. Reading is open to
// every local user (socket mode 0666); changing state goes through a second socket that only
// root (and the owning group) can open, because Node cannot read a peer's credentials.

import { join } from 'node:path';
import { ApiServer } from './server.js';
import type { ClusterView } from './view.js';

export interface ApiServers {
  close(): Promise<void>;
}

/** A full JSON report of the view, for `tsbeat status --json`. */
export function statusReport(view: ClusterView): unknown {
  return {
    version: view.version,
    node: view.localNode(),
    pid: process.pid,
    generation: view.nodes().find((n) => n.name === view.localNode())?.generation,
    timing: view.timing(),
    rscstatus: view.rscStatus(),
    nodes: view.nodes(),
    groups: view.groups(),
    events: view.recentEvents(),
  };
}

/** Start the read-only and the control socket in `runDir`. */
export async function startApiServers(view: ClusterView, runDir: string): Promise<ApiServers> {
  const readOnly = new ApiServer({
    status: () => statusReport(view),
    ping: () => ({ pong: true }),
  });
  await readOnly.listen(join(runDir, 'api.sock'), 0o666);
  const control = new ApiServer({
    standby: (req) => view.standby(String(req.args?.['set'] ?? 'all') as 'all'),
    takeover: (req) => view.takeover(String(req.args?.['set'] ?? 'all') as 'all'),
  });
  await control.listen(join(runDir, 'control.sock'), 0o600);
  return {
    close: async () => {
      await Promise.all([readOnly.close(), control.close()]);
    },
  };
}
