// Part: the test side of medium-host: starts a host in a namespace and presents each medium
// living there as a local `Medium`, so the one compliance suite runs unchanged against UDP.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { FrameQueue } from '../../src/media/frame-queue.js';
import {
  DEFAULT_RECEIVE_QUEUE_LIMITS,
  type FrameFormat,
  type Medium,
  type MediumKind,
  type ReceivedFrame,
} from '../../src/media/index.js';
import type { HostMessage, HostRequest } from './medium-host.js';

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };
type RequestBody = HostRequest extends infer R ? (R extends HostRequest ? Omit<R, 'id'> : never) : never;

/** A medium-host process in one namespace. */
export class MediumHost {
  readonly namespace: string;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, Pending>();
  readonly #media = new Map<string, RemoteMedium>();
  #nextId = 1;
  #nextMedium = 1;
  #stderr = '';
  #exited: Promise<void>;

  private constructor(namespace: string, child: ChildProcessWithoutNullStreams) {
    this.namespace = namespace;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // A write racing the host's exit fails with EPIPE; the exit handler reports it.
    child.stdin.on('error', () => undefined);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => this.#onLine(line));
    child.once('exit', (code, signal) => {
      const err = new Error(`medium host in ${namespace} exited (${code ?? signal}): ${this.#stderr}`);
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      for (const m of this.#media.values()) m.queue.end();
    });
  }

  /** Runs `ip netns exec NS node hostJs`; `ip` execs node, so the pid is node's. */
  static start(namespace: string, hostJs: string): MediumHost {
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, hostJs], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new MediumHost(namespace, child);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Media events reported by the host, for assertions. */
  readonly events: { mid: string; event: unknown }[] = [];

  request(body: RequestBody): Promise<unknown> {
    const id = this.#nextId++;
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
      return Promise.reject(new Error(`medium host in ${this.namespace} has exited: ${this.#stderr}`));
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.stdin.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  async medium(kind: 'bcast' | 'mcast' | 'ucast', init: Record<string, unknown>): Promise<RemoteMedium> {
    const mid = `m${this.#nextMedium++}`;
    const remote = new RemoteMedium(this, mid);
    this.#media.set(mid, remote);
    const info = (await this.request({ op: 'create', mid, kind, init })) as Pick<
      Medium,
      'name' | 'kind' | 'link' | 'frameFormat'
    >;
    remote.describe(info);
    return remote;
  }

  /** Sends a datagram from this namespace outside any medium. */
  async raw(options: {
    from?: string;
    to: string;
    port: number;
    data: Uint8Array;
    multicastInterface?: string;
  }) {
    await this.request({
      op: 'raw',
      to: options.to,
      port: options.port,
      data: Buffer.from(options.data).toString('base64'),
      ...(options.from ? { from: options.from } : {}),
      ...(options.multicastInterface ? { multicastInterface: options.multicastInterface } : {}),
    });
  }

  /** Closes stdin (the host closes its media and exits); kills it by pid if it lingers. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.stdin.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }

  #onLine(line: string): void {
    const message = JSON.parse(line) as HostMessage;
    if ('id' in message) {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (!pending) return;
      if (message.ok) pending.resolve(message.result);
      else pending.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
      return;
    }
    const remote = this.#media.get(message.mid);
    if (message.ev === 'frame') {
      remote?.queue.push({
        bytes: new Uint8Array(Buffer.from(message.data, 'base64')),
        from: message.from,
        receivedAtMs: message.receivedAtMs,
      });
    } else if (message.ev === 'end') {
      remote?.queue.end();
    } else {
      this.events.push({ mid: message.mid, event: message.event });
    }
  }
}

/** A medium living in a host process; errors keep their names across the pipe. */
export class RemoteMedium implements Medium {
  name = '';
  kind: MediumKind = 'memory';
  link = '';
  frameFormat: FrameFormat = 'netstring';
  readonly mid: string;
  readonly queue = new FrameQueue(DEFAULT_RECEIVE_QUEUE_LIMITS);
  readonly #host: MediumHost;

  constructor(host: MediumHost, mid: string) {
    this.#host = host;
    this.mid = mid;
  }

  describe(info: Pick<Medium, 'name' | 'kind' | 'link' | 'frameFormat'>): void {
    this.name = info.name;
    this.kind = info.kind;
    this.link = info.link;
    this.frameFormat = info.frameFormat;
  }

  async open(): Promise<void> {
    await this.#host.request({ op: 'open', mid: this.mid });
  }

  async send(frame: Uint8Array): Promise<void> {
    await this.#host.request({ op: 'send', mid: this.mid, data: Buffer.from(frame).toString('base64') });
  }

  frames(): AsyncIterable<ReceivedFrame> {
    return { [Symbol.asyncIterator]: () => this.queue.iterate() };
  }

  async close(): Promise<void> {
    await this.#host.request({ op: 'close', mid: this.mid });
  }

  /** Events the host reported for this medium. */
  events(): unknown[] {
    return this.#host.events.filter((e) => e.mid === this.mid).map((e) => e.event);
  }
}
