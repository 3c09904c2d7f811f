/**
 * Callbacks waiting for a change (long polls), all woken and dropped at once.
 *
 * `wake` hands the set to the callbacks and starts a new one; it does not `clear()` it. The owner (a session, a QR
 * ticket) lives long, so its set's hash table soon sits in V8's old generation, and clearing or rehashing an
 * old-generation table allocates its successor there too while the dead table keeps its entries. Each entry is a long
 * poll's callback holding its request and reply, so a session woken on every message had every request it served
 * promoted and freed only by the next mark-compact: ~7 MB/s of the benchmark sandbox's old generation
 * (docs/decisions.md, "Per-message garbage that outlives the young generation"). A new Set per wake stays young.
 */
export class Waiters {
  #set = new Set<() => void>();

  /** Adds `w`; the returned function removes it again (a no-op once woken). */
  add(w: () => void): () => void {
    const set = this.#set;
    set.add(w);
    return () => void set.delete(w);
  }

  /** Calls every waiting callback once; callbacks added meanwhile wait for the next wake. */
  wake(): void {
    const woken = this.#set;
    this.#set = new Set();
    for (const w of woken) w();
  }

  get size(): number {
    return this.#set.size;
  }
}
