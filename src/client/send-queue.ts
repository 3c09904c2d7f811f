/**
 * The per-account send queue: FIFO, a minimum spacing between sends, a token bucket (burst + steady rate), and an
 * automatic pause on WeChat's rate limit (Ret 1205 → OWX_ERR_WX_RATE_LIMITED), doubled on each repeat up to a cap,
 * with a bounded number of retries of the limited send. All waits go through the owned `Timers` (fake-able clock).
 */
import { isOpenwxError, owxError } from '../errors.ts';
import type { Timers } from './clock.ts';
import type { Logger } from './logger.ts';

export interface SendQueueOptions {
  sendIntervalMs: number;
  sendBurst: number;
  sendRefillMs: number;
  rateLimitBackoffMs: number;
  rateLimitBackoffMaxMs: number;
  rateLimitRetries: number;
}

interface Job {
  name: string;
  run: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  rateLimitedTimes: number;
}

export class SendQueue {
  readonly #o: SendQueueOptions;
  readonly #timers: Timers;
  readonly #logger: Logger;
  readonly #jobs: Job[] = [];
  #tokens: number;
  #refilledAt: number;
  #lastSendAt = -Infinity;
  #pausedUntil = 0;
  #streak = 0;
  #working = false;
  #closed: Error | null = null;

  constructor(o: SendQueueOptions, timers: Timers, logger: Logger) {
    this.#o = o;
    this.#timers = timers;
    this.#logger = logger;
    this.#tokens = o.sendBurst;
    this.#refilledAt = timers.clock.now();
  }

  get length(): number {
    return this.#jobs.length;
  }

  /** Epoch ms until which sends are paused after a 1205 (0 when not paused). */
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  enqueue<T>(name: string, run: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<T>((resolve, reject) => {
      this.#jobs.push({ name, run, resolve: resolve as (v: unknown) => void, reject, rateLimitedTimes: 0 });
      void this.#work();
    });
  }

  /** Rejects every waiting send with `err` and refuses new ones. */
  close(err: Error = owxError('OWX_ERR_STOPPED')): void {
    this.#closed = err;
    for (const j of this.#jobs.splice(0)) j.reject(err);
  }

  /** Accepts sends again after `close()` (a new login). */
  reopen(): void {
    this.#closed = null;
  }

  #refill(now: number): void {
    const gained = (now - this.#refilledAt) / this.#o.sendRefillMs;
    if (gained > 0) {
      this.#tokens = Math.min(this.#o.sendBurst, this.#tokens + gained);
      this.#refilledAt = now;
    }
  }

  /** Ms to wait before the next send may start (0 = now). */
  #waitMs(): number {
    const now = this.#timers.clock.now();
    this.#refill(now);
    const spacing = this.#lastSendAt + this.#o.sendIntervalMs - now;
    const pause = this.#pausedUntil - now;
    const token = this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) * this.#o.sendRefillMs);
    return Math.max(0, spacing, pause, token);
  }

  async #work(): Promise<void> {
    if (this.#working) return;
    this.#working = true;
    try {
      while (this.#jobs.length > 0 && !this.#closed) {
        const wait = this.#waitMs();
        if (wait > 0) {
          try {
            await this.#timers.sleep(wait);
          } catch {
            // timers cleared (stop): jobs are rejected by close()
            return;
          }
          continue;
        }
        const job = this.#jobs.shift()!;
        this.#tokens -= 1;
        this.#lastSendAt = this.#timers.clock.now();
        try {
          const v = await job.run();
          this.#streak = 0;
          job.resolve(v);
        } catch (err) {
          if (isOpenwxError(err, 'OWX_ERR_WX_RATE_LIMITED')) {
            const pause = Math.min(this.#o.rateLimitBackoffMaxMs, this.#o.rateLimitBackoffMs * 2 ** Math.min(this.#streak, 20));
            this.#streak++;
            this.#pausedUntil = this.#timers.clock.now() + pause;
            job.rateLimitedTimes++;
            const retry = job.rateLimitedTimes <= this.#o.rateLimitRetries;
            this.#logger.warn(
              { send: job.name, pauseMs: pause, retry, attempt: job.rateLimitedTimes },
              'WeChat rate limit (Ret 1205 "too frequent"): pausing the send queue',
            );
            if (retry) this.#jobs.unshift(job);
            else job.reject(err);
          } else {
            job.reject(err);
          }
        }
      }
    } finally {
      this.#working = false;
    }
  }
}
