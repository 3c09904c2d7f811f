/** A manual clock for unit tests of timer-driven code: time moves only when the test calls `advance()`. */
import type { Clock } from '../../src/client/clock.ts';

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** The time of the next due timer, or null. */
  nextAt(): number | null {
    let min: number | null = null;
    for (const t of this.#timers.values()) if (min === null || t.at < min) min = t.at;
    return min;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promise callbacks run between them. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await flush();
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.#timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
    }
    this.#now = end;
    await flush();
  }
}

/** Lets pending promise callbacks (several rounds) run. */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
