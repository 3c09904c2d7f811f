/**
 * Retrying an idempotent protocol step: network errors, timeouts, HTTP errors and garbage answers are retried
 * with capped exponential backoff and jitter; protocol answers (Ret ≠ 0) and aborts are not.
 */
import { isOpenwxError } from '../errors.ts';
import { Backoff } from './backoff.ts';
import type { Timers } from './clock.ts';
import type { Logger } from './logger.ts';

export function isTransient(err: unknown): boolean {
  if (!isOpenwxError(err)) return true;
  return ['OWX_ERR_NETWORK', 'OWX_ERR_TIMEOUT', 'OWX_ERR_WX_HTTP', 'OWX_ERR_WX_BAD_RESPONSE'].includes(err.code);
}

export interface RetryOptions {
  retries: number;
  baseMs: number;
  maxMs: number;
  timers: Timers;
  logger: Logger;
  signal?: AbortSignal;
}

export async function retrying<T>(name: string, o: RetryOptions, fn: () => Promise<T>): Promise<T> {
  const backoff = new Backoff({ baseMs: o.baseMs, maxMs: o.maxMs });
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (o.signal?.aborted) throw o.signal.reason ?? err;
      if (!isTransient(err) || attempt >= o.retries) throw err;
      const delay = backoff.next();
      o.logger.warn({ step: name, err: (err as Error).message, retryInMs: delay, attempt: attempt + 1 }, 'request failed; retrying');
      await o.timers.sleep(delay, o.signal);
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<I, R>(items: I[], limit: number, fn: (item: I, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
