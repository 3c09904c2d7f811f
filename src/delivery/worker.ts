/**
 * Delivers the outbox of one account to post_api: strictly in order, at least once, with capped exponential
 * backoff and jitter, dead-lettering rows past the attempt/age limit. Never blocks the caller: enqueue + wake().
 */
import { EventEmitter } from 'node:events';
import { Agent, request } from 'undici';
import type { Logger } from 'pino';
import type { Outbox, OutboxRow } from '../store/outbox.ts';
import { sign } from './sign.ts';

export interface DeliveryWorkerOptions {
  account: string;
  url: string;
  secret?: string | undefined;
  /** Give up (dead letter) after this many attempts… */
  maxAttempts?: number;
  /** …or when the first attempt is older than this. */
  maxAgeMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  timeoutMs?: number;
  /** Largest response body read (the reply JSON). */
  maxResponseBytes?: number;
  userAgent?: string;
  logger?: Logger;
}

export interface DeliveredResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface DeliveryWorkerEvents {
  delivered: [row: OutboxRow, res: DeliveredResponse];
  failed: [row: OutboxRow, error: string, nextAt: number];
  dead: [row: OutboxRow, error: string];
  idle: [];
}

export class DeliveryWorker extends EventEmitter<DeliveryWorkerEvents> {
  readonly #outbox: Outbox;
  readonly #o: Required<Omit<DeliveryWorkerOptions, 'secret' | 'logger'>> & Pick<DeliveryWorkerOptions, 'secret' | 'logger'>;
  readonly #agent: Agent;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #abort: AbortController | null = null;

  constructor(outbox: Outbox, opts: DeliveryWorkerOptions) {
    super();
    this.#outbox = outbox;
    this.#o = {
      maxAttempts: 50,
      maxAgeMs: 24 * 3600_000,
      backoffBaseMs: 500,
      backoffMaxMs: 60_000,
      timeoutMs: 10_000,
      maxResponseBytes: 1024 * 1024,
      userAgent: 'openwx',
      ...opts,
    };
    this.#agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  }

  get depth(): number {
    return this.#outbox.depth(this.#o.account);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Tells the worker a row was enqueued. */
  wake(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#abort?.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.wake();
    await this.#loop;
    await this.#agent.close();
  }

  #sleep(ms: number | null): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      if (ms !== null) {
        this.#timer = setTimeout(() => {
          this.#timer = null;
          if (this.#wake === resolve) this.#wake = null;
          resolve();
        }, ms);
      }
    }).finally(() => {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
    });
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        const row = this.#outbox.head(this.#o.account);
        if (!row) {
          this.emit('idle');
          await this.#sleep(null);
          continue;
        }
        const wait = row.nextAt - Date.now();
        if (wait > 0) {
          // Capped: a clock set backwards must not park a report for longer than one backoff step.
          await this.#sleep(Math.min(wait, this.#o.backoffMaxMs));
          continue;
        }
        await this.#attempt(row);
      } catch (err) {
        if (!this.#running) break;
        // The database (disk full, locked) or a listener failed: never let the loop die silently.
        this.#o.logger?.error({ err }, 'post_api delivery loop error; retrying');
        await this.#sleep(this.#o.backoffBaseMs);
      }
    }
  }

  async #attempt(row: OutboxRow): Promise<void> {
    let error: string;
    let res: DeliveredResponse | null = null;
    try {
      res = await this.#post(row);
      error = `HTTP ${res.status}`;
    } catch (e) {
      if (!this.#running) return; // stopping: the row stays in the outbox for the next start
      error = (e as Error).message || String(e);
    }
    if (res && res.status >= 200 && res.status < 300) {
      this.#outbox.delivered(row.seq);
      // A throwing listener must neither turn a delivered report into a failed one nor stop the loop.
      this.#emitSafely('delivered', row, res);
      return;
    }
    const attempts = row.attempts + 1;
    const now = Date.now();
    if (attempts >= this.#o.maxAttempts || now - row.createdAt >= this.#o.maxAgeMs) {
      this.#outbox.kill(row.seq, error, now);
      this.#o.logger?.warn({ eventId: row.eventId, attempts, error }, 'post_api report moved to dead letters');
      this.#emitSafely('dead', row, error);
      return;
    }
    const exp = Math.min(this.#o.backoffMaxMs, this.#o.backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
    const nextAt = now + Math.round(exp / 2 + Math.random() * (exp / 2));
    this.#outbox.failed(row.seq, error, nextAt);
    this.#o.logger?.info({ eventId: row.eventId, attempts, error, retryInMs: nextAt - now }, 'post_api delivery failed');
    this.#emitSafely('failed', row, error, nextAt);
  }

  #emitSafely<E extends 'delivered' | 'failed' | 'dead'>(event: E, ...args: DeliveryWorkerEvents[E]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.#o.logger?.warn({ err, event }, 'post_api delivery listener failed');
    }
  }

  async #post(row: OutboxRow): Promise<DeliveredResponse> {
    const ts = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-openwx-event-id': row.eventId,
      'x-openwx-account': row.account,
      'x-openwx-attempt': String(row.attempts + 1),
      'user-agent': this.#o.userAgent,
    };
    if (this.#o.secret) {
      headers['x-openwx-timestamp'] = ts;
      headers['x-openwx-signature'] = sign(this.#o.secret, ts, row.body);
    }
    this.#abort = new AbortController();
    const res = await request(this.#o.url, {
      method: 'POST',
      headers,
      body: row.body,
      dispatcher: this.#agent,
      headersTimeout: this.#o.timeoutMs,
      bodyTimeout: this.#o.timeoutMs,
      signal: this.#abort.signal,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body) {
      size += (c as Buffer).length;
      if (size > this.#o.maxResponseBytes) {
        res.body.on('error', () => undefined).destroy();
        break;
      }
      chunks.push(c as Buffer);
    }
    const ct = res.headers['content-type'];
    return {
      status: res.statusCode,
      contentType: Array.isArray(ct) ? ct.join(',') : (ct ?? ''),
      body: Buffer.concat(chunks).toString('utf8'),
    };
  }
}
