// Part: the metrics listener: GET /metrics over HTTP on the address of tsbeat.cf's `metrics`
// line (off unless configured). OpenMetrics when the client asks for it (a Prometheus
// server does), the classic text format otherwise. Bounded: few connections, short timeouts,
// no request body read; a scrape never touches the heartbeat path beyond reading counters.

import { createServer, type Server } from 'node:http';
import type { MetricsListen } from '../config/tsbeat-cf.js';
import type { Registry } from './registry.js';

export const OPENMETRICS_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Could not listen on the configured address (in use, not local, no permission). */
export class MetricsListenError extends Error {
  override readonly name = 'MetricsListenError';
}

export interface MetricsServer {
  readonly address: string;
  /** The port listened on (the configured one; port 0 in tests picks a free one). */
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(listen: MetricsListen, registry: Registry): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('tsbeat serves /metrics only\n');
      return;
    }
    const om = /application\/openmetrics-text/.test(req.headers.accept ?? '');
    let body: string;
    try {
      body = registry.expose(om);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': om ? OPENMETRICS_TYPE : TEXT_TYPE });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.maxConnections = 16;
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new MetricsListenError(
          `metrics: cannot listen on ${listen.host}:${listen.port}: ${e.code ?? e.message}`,
        ),
      ),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  // Errors after start (a client resetting) are the client's problem, never the daemon's.
  server.on('error', () => undefined);
  server.on('clientError', (_e, socket) => socket.destroy());
  const bound = server.address();
  const port = bound !== null && typeof bound === 'object' ? bound.port : listen.port;
  const where = listen.host.includes(':') ? `[${listen.host}]:${port}` : `${listen.host}:${port}`;
  return {
    address: where,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
