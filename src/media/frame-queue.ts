// Part: the bounded queue between a medium's receive side and its single consumer.

import { assert } from '../lib/assert.js';
import type { ReceivedFrame, ReceiveQueueLimits } from './medium.js';

/**
 * Frames wait here until the consumer pulls them. Bounded in frames and bytes: when the
 * consumer stalls, new frames are refused (the caller reports the drop) instead of growing
 * memory; heartbeat's read child likewise drops when its IPC queue is full.
 */
export class FrameQueue {
  readonly #limits: ReceiveQueueLimits;
  #items: ReceivedFrame[] = [];
  #bytes = 0;
  #ended = false;
  #consumer = false;
  #waiter: ((result: IteratorResult<ReceivedFrame>) => void) | undefined;

  constructor(limits: ReceiveQueueLimits) {
    assert(limits.frames > 0 && limits.bytes > 0, 'receive queue limits must be positive');
    this.#limits = limits;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Hands a frame to the consumer; false when the queue is full or ended (the frame is dropped). */
  push(frame: ReceivedFrame): boolean {
    if (this.#ended) return false;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter({ value: frame, done: false });
      return true;
    }
    if (this.#items.length >= this.#limits.frames || this.#bytes + frame.bytes.length > this.#limits.bytes) {
      return false;
    }
    this.#items.push(frame);
    this.#bytes += frame.bytes.length;
    return true;
  }

  /** Ends iteration now; queued frames are dropped because their medium is gone. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#items = [];
    this.#bytes = 0;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  /** One consumer at a time: a second concurrent iteration is a programmer error. */
  iterate(): AsyncIterableIterator<ReceivedFrame> {
    assert(!this.#consumer, 'frames() already has a consumer');
    this.#consumer = true;
    let finished = false;
    const finish = (): IteratorResult<ReceivedFrame> => {
      if (!finished) {
        finished = true;
        this.#consumer = false;
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter?.({ value: undefined, done: true });
      }
      return { value: undefined, done: true };
    };
    const iterator: AsyncIterableIterator<ReceivedFrame> = {
      next: () => {
        if (finished) return Promise.resolve({ value: undefined, done: true });
        const item = this.#items.shift();
        if (item) {
          this.#bytes -= item.bytes.length;
          return Promise.resolve({ value: item, done: false });
        }
        if (this.#ended) return Promise.resolve(finish());
        return new Promise<IteratorResult<ReceivedFrame>>((resolve) => {
          this.#waiter = (result) => {
            if (result.done) finish();
            resolve(result);
          };
        });
      },
      return: () => Promise.resolve(finish()),
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
