/**
 * The callbacks of the work in flight under one long-lived AbortSignal (an account's run, a delivery worker), behind
 * ONE 'abort' listener on it.
 *
 * Why not a listener per request: adding and removing a listener on an AbortSignal (Node's EventTarget) allocates a
 * listener record, a per-type root and, each time the last listener goes, a new hash table for the signal's map of
 * event types. The long-lived signal references them, so they leave the young generation; at 1,000 msg/s over 100
 * accounts that was a fifth of what the controller promoted to its old generation (measured with
 * BENCH_HEAP_PROF=promoted, docs/benchmarks.md), and promoted garbage is what brings on the mark-compacts that make
 * the latency's tail. Here a registration is one small node of a linked list, unlinked (and its links cleared) when
 * the work ends.
 */
export interface AbortEntry {
  fn: () => void;
  prev: AbortEntry | null;
  next: AbortEntry | null;
}

export class AbortHub {
  readonly signal: AbortSignal;
  #head: AbortEntry | null = null;

  constructor(signal: AbortSignal) {
    this.signal = signal;
    if (!signal.aborted) signal.addEventListener('abort', () => this.#fire(), { once: true });
  }

  /** Calls `fn` once when the signal aborts; at once (and returns null) if it has. Give the entry to `off`. */
  on(fn: () => void): AbortEntry | null {
    if (this.signal.aborted) {
      fn();
      return null;
    }
    const e: AbortEntry = { fn, prev: null, next: this.#head };
    if (this.#head) this.#head.prev = e;
    this.#head = e;
    return e;
  }

  /** Forgets an entry of `on` (no effect once it ran, or for null). */
  off(e: AbortEntry | null): void {
    if (!e) return;
    if (e.prev) e.prev.next = e.next;
    else if (this.#head === e) this.#head = e.next;
    else return; // already run or removed
    if (e.next) e.next.prev = e.prev;
    e.prev = e.next = null;
  }

  /** Runs the entries newest first, each taken off the list before it runs (one may `off` another meanwhile). */
  #fire(): void {
    for (let e = this.#head; e; e = this.#head) {
      this.#head = e.next;
      if (e.next) e.next.prev = null;
      e.prev = e.next = null;
      e.fn();
    }
  }
}

/** One hub per signal, for code handed signals per call (the transport): kept by its owner, never module-wide. */
export class AbortHubs {
  readonly #hubs = new WeakMap<AbortSignal, AbortHub>();

  for(signal: AbortSignal): AbortHub {
    let h = this.#hubs.get(signal);
    if (!h) this.#hubs.set(signal, (h = new AbortHub(signal)));
    return h;
  }
}
