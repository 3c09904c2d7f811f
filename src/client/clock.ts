/**
 * Time for the client: an injectable clock (tests can fake it) and a `Timers` owner, so every timer an Account
 * starts is tracked and cleared on stop (no stray timers keep a process alive after `stop()`).
 */

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** An abort reason used when a wait is cut short by `Timers.clear()`. */
export class TimersClearedError extends Error {
  constructor() {
    super('timers cleared');
    this.name = 'TimersClearedError';
  }
}

/** Owns timers: `sleep()`/`after()` register here; `clear()` cancels all of them (pending sleeps reject). */
export class Timers {
  readonly #clock: Clock;
  readonly #pending = new Map<unknown, (() => void) | null>();

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  get clock(): Clock {
    return this.#clock;
  }

  /** Runs `fn` after `ms`, unless cleared. Returns a cancel function. */
  after(ms: number, fn: () => void): () => void {
    const h = this.#clock.setTimeout(() => {
      this.#pending.delete(h);
      fn();
    }, Math.max(0, ms));
    this.#pending.set(h, null);
    return () => {
      if (this.#pending.delete(h)) this.#clock.clearTimeout(h);
    };
  }

  /** Resolves after `ms`; rejects when `signal` aborts or the timers are cleared. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new TimersClearedError());
      let h: unknown;
      const onAbort = () => {
        if (this.#pending.delete(h)) this.#clock.clearTimeout(h);
        reject(signal?.reason ?? new TimersClearedError());
      };
      h = this.#clock.setTimeout(() => {
        this.#pending.delete(h);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      this.#pending.set(h, () => {
        signal?.removeEventListener('abort', onAbort);
        reject(new TimersClearedError());
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get size(): number {
    return this.#pending.size;
  }

  clear(): void {
    const entries = [...this.#pending.entries()];
    this.#pending.clear();
    for (const [h, rejectSleep] of entries) {
      this.#clock.clearTimeout(h);
      rejectSleep?.();
    }
  }
}
