/**
 * Promises in flight, for a close or a check that must wait until every one started before it has settled.
 *
 * Not a Set of the promises: an owner that lives long (a delivery worker, an outbox, a reply tracker) has its Set's
 * hash table in V8's old generation, and a table there that entries keep entering and leaving is rebuilt there, each
 * dead table still holding the promises (and everything their callbacks hold) until the next mark-compact. At
 * 1,000 reports a second that was a tenth of what the controller promoted (docs/decisions.md, "Per-message garbage
 * that outlives the young generation"). Here each promise extends a chain instead, whose links die as they settle.
 */
const ignore = (): void => undefined;

export class InFlight {
  #all: Promise<void> = Promise.resolve();
  #count = 0;

  /** Tracks `p` (its failure is the caller's to handle: the chain ignores it); returns `p`. */
  track<T>(p: Promise<T>): Promise<T> {
    this.#count++;
    const settled = p.then(ignore, ignore).then(() => void this.#count--);
    this.#all = this.#all.then(() => settled);
    return p;
  }

  /** Settles (never rejects) once every promise tracked before this call has settled. */
  settled(): Promise<void> {
    return this.#all;
  }

  /** Promises tracked and not settled yet. */
  get size(): number {
    return this.#count;
  }
}
