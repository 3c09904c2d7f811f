/**
 * Promises in flight, for a close or a check that must wait until every one started before it has settled.
 *
 * Not a Set of the promises: an owner that lives long (a delivery worker, an outbox, a reply tracker) has its Set's
 * hash table in V8's old generation, and a table there that entries keep entering and leaving is rebuilt there, each
 * dead table still holding the promises (and everything their callbacks hold) until the next mark-compact. At
 * 1,000 reports a second that was a tenth of what the controller promoted (docs/decisions.md, "Per-message garbage
 * that outlives the young generation"). Here a promise only counts itself in and out of the current epoch; `settled()`
 * closes the epoch (a new one takes the later promises) and waits for it and every epoch closed before. A promise
 * that never settles keeps only its epoch's counter.
 */
const ignore = (): void => undefined;

interface Epoch {
  pending: number;
  /** Set once the epoch is closed while promises of it are pending: called when the last one settles. */
  drained: (() => void) | null;
}

export class InFlight {
  #epoch: Epoch = { pending: 0, drained: null };
  /** Settles once every closed epoch has drained. */
  #closed: Promise<void> = Promise.resolve();
  #count = 0;

  /** Tracks `p` (its failure is the caller's to handle: here it only counts as settled); returns `p`. */
  track<T>(p: Promise<T>): Promise<T> {
    const e = this.#epoch;
    e.pending++;
    this.#count++;
    const done = (): void => {
      this.#count--;
      if (--e.pending === 0) e.drained?.();
    };
    p.then(done, done);
    return p;
  }

  /** Settles (never rejects) once every promise tracked before this call has settled. */
  settled(): Promise<void> {
    const e = this.#epoch;
    if (e.pending === 0) return this.#closed;
    this.#epoch = { pending: 0, drained: null };
    const drained = new Promise<void>((resolve) => (e.drained = resolve));
    this.#closed = Promise.all([this.#closed, drained]).then(ignore);
    return this.#closed;
  }

  /** Promises tracked and not settled yet. */
  get size(): number {
    return this.#count;
  }
}
