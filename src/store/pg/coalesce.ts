/**
 * One coalesced writer: at most one write in flight; values pushed meanwhile replace the one waiting, which is
 * written once when the running write is done. Every promise from `push` settles with the write that carries its
 * value or a newer one (the same contract as the file store's writes).
 */
interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class Coalesced<T> {
  readonly #write: (v: T) => Promise<void>;
  #next: { v: T } | null = null;
  #waiters: Waiter[] = [];
  #running = false;
  writesDone = 0;

  constructor(write: (v: T) => Promise<void>) {
    this.#write = write;
  }

  push(v: T): Promise<void> {
    this.#next = { v };
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#running) {
      this.#running = true;
      void this.#drain();
    }
    return done;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#next !== null) {
        const { v } = this.#next;
        const waiters = this.#waiters;
        this.#next = null;
        this.#waiters = [];
        try {
          await this.#write(v);
          this.writesDone++;
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
