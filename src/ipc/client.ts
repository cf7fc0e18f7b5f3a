// Part: the client side of the local API, used by the CLIs. Never hangs: every call has a deadline.

import { connect } from 'node:net';
import { API_VERSION, type ApiResponse } from './protocol.js';

export class ApiUnavailableError extends Error {
  override readonly name = 'ApiUnavailableError';
}

export async function apiCall(
  socketPath: string,
  cmd: string,
  args?: Record<string, unknown>,
  timeoutMs = 5000,
): Promise<ApiResponse> {
  return new Promise<ApiResponse>((resolve, reject) => {
    const sock = connect(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ApiUnavailableError(`no answer from ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () =>
      sock.write(`${JSON.stringify(args ? { v: API_VERSION, cmd, args } : { v: API_VERSION, cmd })}\n`),
    );
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as ApiResponse);
      } catch {
        reject(new ApiUnavailableError('the daemon sent an unreadable answer'));
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new ApiUnavailableError(
          e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'tsbeat is not running' : e.message,
        ),
      );
    });
  });
}
