// Part: test-only fault injection for the daemon's own edges (TSBEAT_TEST_FAULT): an exception
// thrown inside a timer handler or inside the receive path, or one that nothing catches (the
// process-wide last line of defence), armed when a file appears, so a namespace test can break
// a running daemon at the moment it chooses. Inert when unset.

import { access } from 'node:fs/promises';
import { parseFaultHooks } from '../lib/fault-hooks.js';

/** The daemon edges a fault can be injected into. */
export type FaultSite = 'timer' | 'receive' | 'uncaught';

const SITES: Readonly<Record<string, FaultSite>> = {
  'tick-throw': 'timer',
  'receive-throw': 'receive',
  'uncaught-throw': 'uncaught',
};

export interface DaemonFaults {
  /** True once for each armed site: the caller throws. */
  throwIn(site: FaultSite): boolean;
  stop(): void;
}

/**
 * Parse `TSBEAT_TEST_FAULT` (a comma-separated list; entries this module does not know belong
 * to other hooks and are ignored): `tick-throw:/run/arm` arms an exception in the next timer
 * handler once the file /run/arm exists; `receive-throw:/run/arm` likewise for the receive path.
 * Returns undefined when no entry is for the daemon's edges. The files are polled
 * asynchronously every 200 ms, never on the heartbeat path. `uncaught-throw:FILE` throws from
 * the poll timer itself, where nothing but the process-wide handler can catch it.
 */
export function daemonFaults(spec: string | undefined): DaemonFaults | undefined {
  const watched: { site: FaultSite; file: string; armed: boolean; fired: boolean }[] = [];
  for (const hook of parseFaultHooks(spec).hooks) {
    const site = SITES[hook.name];
    if (site === undefined) continue;
    const file = hook.args.join(':');
    watched.push({ site, file, armed: file === '', fired: false });
  }
  if (watched.length === 0) return undefined;
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    Promise.all(
      watched
        .filter((w) => !w.armed)
        .map((w) =>
          access(w.file).then(
            () => {
              w.armed = true;
            },
            () => undefined,
          ),
        ),
    ).finally(() => {
      polling = false;
      const w = watched.find((x) => x.site === 'uncaught' && x.armed && !x.fired);
      if (w) {
        w.fired = true;
        setImmediate(() => {
          throw new Error('test fault: an exception nothing catches');
        });
      }
    });
  }, 200);
  timer.unref();
  return {
    throwIn(site) {
      const w = watched.find((x) => x.site === site && x.armed && !x.fired);
      if (!w) return false;
      w.fired = true;
      return true;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
