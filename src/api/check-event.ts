/**
 * The queue behind `/openwx/check_event` (reference §1.9), fixed for several pollers.
 *
 * Semantics:
 * - Items (message post-JSON and queued events) are kept in a bounded FIFO of `maxSize` (Mojo: 20); when it is
 *   full, the oldest item is dropped (and counted in `dropped`).
 * - A poll with items queued takes them all at once and empties the queue (but see media below).
 * - A poll with nothing queued waits up to `timeoutMs` (30 s). A new item goes to exactly one waiting poller —
 *   the one that has waited longest — as `[item]`; with no poller waiting it is queued. A timed-out poll gets `[]`.
 * - So every item is handed out exactly once, to one poller: no poller sees an item twice and none gets `[null]`
 *   (Mojo's bug with concurrent pollers). A poller whose connection closes stops waiting and takes nothing.
 * - `close()` answers every waiting poll with `[]` and makes later polls answer `[]` at once.
 *
 * Media: a media message is queued without `media_data`, with a reference to its file (`push(json, media)`), and
 * gets its `media_data` (the same MIME base64 post_api gets) only when a poller takes it. Bounded: one poll takes
 * the queued items in order up to `mediaBytesPerPoll` bytes of media files (default 20 MiB; always at least one
 * item), the rest stays queued for the next poll; and the items of one poll are read after those of the previous
 * one, so at most one poll's media is being encoded at a time. A file that is gone or changed since the report
 * leaves the item without `media_data`.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../client/clock.ts';
import { LIBRARY_DEFAULTS, SETTING_DEFAULTS } from '../settings/defaults.ts';
import { withMediaData, type ReportMedia } from '../delivery/media-body.ts';

/** Bytes of media files one poll materialises as `media_data` (at least one item is always handed out). */
export const CHECK_EVENT_MEDIA_BYTES_PER_POLL = 20 * 1024 * 1024;

interface Entry<T> {
  item: T;
  media: ReportMedia | undefined;
}

interface Waiter<T> {
  resolve: (items: T[] | PromiseLike<T[]>) => void;
  timer: unknown;
  cleanup: () => void;
}

export class EventQueue<T = unknown> {
  readonly maxSize: number;
  readonly timeoutMs: number;
  readonly mediaBytesPerPoll: number;
  #items: Entry<T>[] = [];
  #waiters: Waiter<T>[] = [];
  #dropped = 0;
  #closed = false;
  /** Settles when the media of the last poll that had some was read. */
  #reading: Promise<unknown> = Promise.resolve();
  #log: Logger | undefined;
  readonly #clock: Clock;

  /** `clock`: the poll timeouts' timers (default the system clock; tests can drive it). */
  constructor(maxSize: number = SETTING_DEFAULTS.check_event_list_max_size, timeoutMs: number = LIBRARY_DEFAULTS.checkEventTimeoutMs, o: { mediaBytesPerPoll?: number; logger?: Logger; clock?: Clock | undefined } = {}) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`check_event queue size must be >= 1, got ${maxSize}`);
    this.maxSize = maxSize;
    this.timeoutMs = timeoutMs;
    this.mediaBytesPerPoll = o.mediaBytesPerPoll ?? CHECK_EVENT_MEDIA_BYTES_PER_POLL;
    this.#log = o.logger;
    this.#clock = o.clock ?? systemClock;
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

  /** Queues an item; `media` (object items only): the file read into the item's `media_data` when it is taken. */
  push(item: T, media?: ReportMedia): void {
    if (this.#closed) return;
    const entry: Entry<T> = { item, media };
    const w = this.#waiters.shift();
    if (w) {
      w.cleanup();
      w.resolve(this.#handOut([entry]));
      return;
    }
    this.#items.push(entry);
    if (this.#items.length > this.maxSize) {
      this.#items.shift();
      this.#dropped++;
    }
  }

  /** Waits for items; `signal` aborts the wait (the poller went away) and answers `[]`. */
  poll(signal?: AbortSignal, timeoutMs = this.timeoutMs): Promise<T[]> {
    if (this.#items.length > 0) return this.#handOut(this.#take());
    if (this.#closed || signal?.aborted) return Promise.resolve([]);
    return new Promise<T[]>((resolve) => {
      const onAbort = () => finish();
      const w: Waiter<T> = {
        resolve,
        timer: this.#clock.setTimeout(() => finish(), timeoutMs),
        cleanup: () => {
          this.#clock.clearTimeout(w.timer);
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

  /** The queued items one poll takes: all of them, or those whose media fit in `mediaBytesPerPoll` (at least one). */
  #take(): Entry<T>[] {
    let bytes = 0;
    let n = 0;
    for (const e of this.#items) {
      bytes += e.media?.size ?? 0;
      if (n > 0 && bytes > this.mediaBytesPerPoll) break;
      n++;
    }
    return this.#items.splice(0, n);
  }

  /** The items with their `media_data` read, one poll's media after the other's. */
  #handOut(entries: Entry<T>[]): Promise<T[]> {
    if (!entries.some((e) => e.media)) return Promise.resolve(entries.map((e) => e.item));
    const read = this.#reading.then(() =>
      Promise.all(entries.map(async (e) => (e.media ? ((await withMediaData(e.item as Record<string, unknown>, e.media, this.#log)) as T) : e.item))),
    );
    this.#reading = read.catch(() => undefined);
    return read;
  }
}
