/**
 * The queue behind `/openwx/check_event` (reference §1.9), fixed for several pollers.
 *
 * Semantics:
 * - Items (message post-JSON and queued events) are kept in a bounded FIFO of `maxSize` (Mojo: 20); when it is
 *   full, the oldest item is dropped (and counted in `dropped`).
 * - A poll with items queued takes them all at once and empties the queue.
 * - A poll with nothing queued waits up to `timeoutMs` (30 s). A new item goes to exactly one waiting poller —
 *   the one that has waited longest — as `[item]`; with no poller waiting it is queued. A timed-out poll gets `[]`.
 * - So every item is handed out exactly once, to one poller: no poller sees an item twice and none gets `[null]`
 *   (Mojo's bug with concurrent pollers). A poller whose connection closes stops waiting and takes nothing.
 * - `close()` answers every waiting poll with `[]` and makes later polls answer `[]` at once.
 */

interface Waiter<T> {
  resolve: (items: T[]) => void;
  timer: NodeJS.Timeout;
  cleanup: () => void;
}

export class EventQueue<T = unknown> {
  readonly maxSize: number;
  readonly timeoutMs: number;
  #items: T[] = [];
  #waiters: Waiter<T>[] = [];
  #dropped = 0;
  #closed = false;

  constructor(maxSize = 20, timeoutMs = 30_000) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`check_event queue size must be >= 1, got ${maxSize}`);
    this.maxSize = maxSize;
    this.timeoutMs = timeoutMs;
  }

  get size(): number {
    return this.#items.length;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Items dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  push(item: T): void {
    if (this.#closed) return;
    const w = this.#waiters.shift();
    if (w) {
      w.cleanup();
      w.resolve([item]);
      return;
    }
    this.#items.push(item);
    if (this.#items.length > this.maxSize) {
      this.#items.shift();
      this.#dropped++;
    }
  }

  /** Waits for items; `signal` aborts the wait (the poller went away) and answers `[]`. */
  poll(signal?: AbortSignal, timeoutMs = this.timeoutMs): Promise<T[]> {
    if (this.#items.length > 0) {
      const out = this.#items;
      this.#items = [];
      return Promise.resolve(out);
    }
    if (this.#closed || signal?.aborted) return Promise.resolve([]);
    return new Promise<T[]>((resolve) => {
      const onAbort = () => finish();
      const w: Waiter<T> = {
        resolve,
        timer: setTimeout(() => finish(), timeoutMs),
        cleanup: () => {
          clearTimeout(w.timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      const finish = () => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        w.cleanup();
        resolve([]);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(w);
    });
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) {
      w.cleanup();
      w.resolve([]);
    }
  }
}
