// A raw socket client for the API tests: send bytes, collect response lines.
import { connect } from 'node:net';

export interface RawResult {
  readonly lines: Record<string, unknown>[];
  /** The server closed the connection. */
  readonly closed: boolean;
}

/**
 * Send `data` to `path` and collect response lines until `want` lines came, the server closed
 * the connection, or `waitMs` passed. `end` half-closes after sending.
 */
export function raw(
  path: string,
  data: string | Buffer,
  o: { want?: number; waitMs?: number; end?: boolean } = {},
): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    const lines: Record<string, unknown>[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ lines, closed });
    };
    const timer = setTimeout(() => finish(false), o.waitMs ?? 3000);
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') finish(true);
      else if (!done) {
        done = true;
        clearTimeout(timer);
        reject(e);
      }
    });
    sock.on('connect', () => {
      sock.write(data);
      if (o.end) sock.end();
    });
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
      if (o.want !== undefined && lines.length >= o.want) finish(false);
    });
    sock.on('close', () => finish(true));
  });
}

export const req = (cmd: string, args: Record<string, unknown> = {}, id: number | string = 1): string =>
  `${JSON.stringify({ v: 1, id, cmd, args })}\n`;
