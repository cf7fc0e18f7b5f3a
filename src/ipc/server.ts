// Part: the local API server on a Unix socket: bounded, line-based, and unable to disturb
// the daemon whatever a client sends.

import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import {
  API_VERSION,
  type ApiRequest,
  type ApiResponse,
  MAX_REQUEST_BYTES,
  parseRequest,
} from './protocol.js';

export type Handler = (req: ApiRequest) => unknown | Promise<unknown>;

/** An error a handler throws to answer `ok: false` with a code (anything else is "internal"). */
export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const MAX_CLIENTS = 64;

export class ApiServer {
  private server: Server | undefined;
  private readonly handlers: Record<string, Handler>;
  private readonly clients = new Set<Socket>();
  constructor(handlers: Record<string, Handler>) {
    this.handlers = handlers;
  }

  async listen(path: string, mode = 0o666): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    chmodSync(path, mode);
  }

  private accept(sock: Socket): void {
    if (this.clients.size >= MAX_CLIENTS) {
      sock.destroy();
      return;
    }
    this.clients.add(sock);
    sock.setTimeout(30_000, () => sock.destroy());
    sock.on('close', () => this.clients.delete(sock));
    sock.on('error', () => sock.destroy());
    let buffered = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES && !buffered.includes('\n')) {
        this.reply(sock, {
          v: API_VERSION,
          ok: false,
          error: { code: 'too-large', message: `request over ${MAX_REQUEST_BYTES} bytes` },
        });
        sock.end();
        buffered = '';
        return;
      }
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        void this.handle(sock, line);
      }
    });
  }

  private async handle(sock: Socket, line: string): Promise<void> {
    const req = parseRequest(line);
    if (typeof req === 'string') {
      this.reply(sock, { v: API_VERSION, ok: false, error: { code: 'bad-request', message: req } });
      return;
    }
    const h = this.handlers[req.cmd];
    if (!h) {
      this.reply(sock, {
        v: API_VERSION,
        ok: false,
        error: { code: 'unknown-command', message: `unknown command "${req.cmd}"` },
      });
      return;
    }
    try {
      this.reply(sock, { v: API_VERSION, ok: true, result: await h(req) });
    } catch (e) {
      const code = e instanceof ApiError ? e.code : 'internal';
      this.reply(sock, { v: API_VERSION, ok: false, error: { code, message: (e as Error).message } });
    }
  }

  private reply(sock: Socket, r: ApiResponse): void {
    if (!sock.destroyed) sock.write(`${JSON.stringify(r)}\n`);
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
