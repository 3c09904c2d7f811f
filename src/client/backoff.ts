/**
 * Capped exponential backoff with full jitter ("decorrelated" enough for a single client): attempt n waits a
 * random time in [base·2ⁿ/2, base·2ⁿ], never more than `maxMs`.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** 0..1; the share of the delay that is randomised (1 = delay in [0, d], 0.5 = [d/2, d]). */
  jitter?: number;
  random?: () => number;
}

export function backoffDelayMs(attempt: number, o: BackoffOptions): number {
  const jitter = o.jitter ?? 0.5;
  const random = o.random ?? Math.random;
  const exp = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const delay = exp * (1 - jitter) + exp * jitter * random();
  return Math.max(0, Math.min(o.maxMs, Math.round(delay)));
}

/** Counts consecutive failures; `next()` gives the next delay, `reset()` after a success. */
export class Backoff {
  #attempt = 0;
  constructor(private readonly o: BackoffOptions) {}
  next(): number {
    return backoffDelayMs(this.#attempt++, this.o);
  }
  reset(): void {
    this.#attempt = 0;
  }
  get attempts(): number {
    return this.#attempt;
  }
}
