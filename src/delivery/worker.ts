/**
 * Delivers the outbox of one account to post_api: in order, at least once, with capped exponential backoff and
 * jitter, dead-lettering rows past the attempt/age limit. Never blocks the caller: enqueue + wake().
 *
 * Pipelining (docs/delivery.md, "Order"): up to `concurrency` reports are in flight at once, POSTed in outbox order
 * on one keep-alive HTTP/1.1 connection (undici pipelining), so the receiver gets them in that order and answers
 * them in that order. The rules that keep the order:
 * - first attempts go out in `seq` order; nothing is sent past a report that waits for its retry;
 * - a failed attempt drops the window to one report: the failed report is retried alone (after the reports
 *   already in flight settle), and the window reopens (doubling per delivered report) only after it was delivered
 *   or dead-lettered. A window also restarts at one after the outbox was empty (the receiver is probed by one
 *   report before a burst is pipelined to it);
 * - answers are acted on in `seq` order: a 2xx answer that arrives while an earlier report is still being retried
 *   is held (its row stays in the outbox) until the earlier one is delivered or dead, then `delivered` fires.
 * `concurrency: 1` is strictly one report at a time, the head blocking the rest.
 *
 * The worker keeps a window of pending rows in memory, read from the outbox in batches (rows with a larger `seq`
 * than the last one read), and deletes the delivered rows of one pass in one transaction.
 *
 * A media report's body is streamed from its file (src/delivery/media-body.ts). Its request is prepared (file
 * checked, signature computed over the streamed bytes) before it is handed to undici, and the requests behind it
 * wait for that, so requests reach the connection in launch order. undici dispatches a stream body only when no
 * other request is in flight on the connection and pipelines nothing else while it writes it; the reports behind it
 * are pipelined again once it is written. The order on the wire is unchanged.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { Client, request } from 'undici';
import type { Logger } from 'pino';
import type { Outbox, OutboxRow } from '../store/outbox.ts';
import { readAnswer, reportHeaders, reportRequest, type DeliveredResponse, type ReportRequest } from './post.ts';

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
  /** Reports in flight at once on the pipelined connection (1 = one at a time, the head blocking the rest). Default 8. */
  concurrency?: number;
  /** Rows read from the outbox per query (at least 2 × concurrency are kept in memory). Default 64. */
  readBatch?: number;
  userAgent?: string;
  logger?: Logger;
}

export type { DeliveredResponse };

export interface DeliveryWorkerEvents {
  delivered: [row: OutboxRow, res: DeliveredResponse];
  failed: [row: OutboxRow, error: string, nextAt: number];
  dead: [row: OutboxRow, error: string];
  idle: [];
}

/** One pending row of the window: not sent (or waiting for its retry), in flight, or answered 2xx and held. */
interface Entry {
  row: OutboxRow;
  state: 'waiting' | 'inflight' | 'ok';
  res: DeliveredResponse | null;
}

export const DEFAULT_POST_API_CONCURRENCY = 8;

export class DeliveryWorker extends EventEmitter<DeliveryWorkerEvents> {
  readonly #outbox: Outbox;
  readonly #o: Required<Omit<DeliveryWorkerOptions, 'secret' | 'logger'>> & Pick<DeliveryWorkerOptions, 'secret' | 'logger'>;
  readonly #client: Client;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #abort = new AbortController();
  /** The window: pending rows in `seq` order. */
  #queue: Entry[] = [];
  /** Largest seq read from the outbox. */
  #readSeq = 0;
  /** The outbox may hold rows beyond `#readSeq` (set by wake(), cleared when a read came back short). */
  #more = true;
  #inflight = 0;
  /** Reports allowed in flight now (1 after a failure or an empty outbox, doubling per delivered report). */
  #limit = 1;
  /** Settles once the last request that had to wait its turn was handed to undici. */
  #dispatched: Promise<unknown> = Promise.resolve();
  /** Requests waiting for their turn (a media report's preparation, and the reports launched behind it). */
  #preparing = 0;

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
      concurrency: DEFAULT_POST_API_CONCURRENCY,
      readBatch: 64,
      userAgent: 'openwx',
      ...opts,
    };
    this.#o.concurrency = Math.max(1, Math.floor(this.#o.concurrency));
    // One connection, so the receiver gets the reports in the order they were sent. A Client, not an Agent: undici's
    // Agent replaces its client after a disconnect (a timeout) while the old one still finishes its queue, so two
    // connections would carry reports at once and the receiver could get them out of order.
    this.#client = new Client(new URL(this.#o.url).origin, { keepAliveTimeout: 10_000, pipelining: this.#o.concurrency });
  }

  get depth(): number {
    return this.#outbox.depth(this.#o.account);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    setMaxListeners(this.#o.concurrency + 10, this.#abort.signal);
    this.#loop = this.#run();
  }

  /** Tells the worker a row was enqueued (or replayed). */
  wake(): void {
    this.#more = true;
    this.#signal();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#signal();
    await this.#loop;
    await this.#client.close();
  }

  #signal(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
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
      let wait: number | null;
      try {
        wait = this.#step();
      } catch (err) {
        if (!this.#running) break;
        // The database (disk full, locked) or a listener failed: never let the loop die silently.
        this.#o.logger?.error({ err }, 'post_api delivery loop error; retrying');
        wait = this.#o.backoffBaseMs;
      }
      await this.#sleep(wait);
    }
  }

  /** One pass: acts on the answers at the front, reads new rows, sends what may go; returns how long to sleep (null: until signalled). */
  #step(): number | null {
    this.#drain();
    this.#fill();
    if (this.#queue.length === 0) {
      this.#limit = 1;
      this.emit('idle');
      return null;
    }
    const now = Date.now();
    for (const e of this.#queue) {
      if (e.state !== 'waiting') continue;
      // Nothing is sent past a report waiting for its retry. Capped: a clock set backwards must not park a report
      // for longer than one backoff step.
      if (e.row.nextAt > now) return Math.min(e.row.nextAt - now, this.#o.backoffMaxMs);
      if (this.#inflight >= this.#limit) break;
      this.#launch(e);
    }
    return null; // woken by an answer or a new row
  }

  /** Delivered rows at the front of the window: deleted in one transaction, then `delivered` in order. */
  #drain(): void {
    let n = 0;
    while (this.#queue[n]?.state === 'ok') n++;
    if (n === 0) return;
    const done = this.#queue.slice(0, n);
    this.#outbox.deliveredMany(done.map((e) => e.row.seq));
    this.#queue.splice(0, n);
    for (const e of done) {
      this.#limit = Math.min(this.#o.concurrency, this.#limit * 2);
      // A throwing listener must neither turn a delivered report into a failed one nor stop the loop.
      this.#emitSafely('delivered', e.row, e.res!);
    }
  }

  /** Tops the window up from the outbox (one query for up to `readBatch` rows). */
  #fill(): void {
    if (!this.#more) return;
    const room = Math.max(this.#o.readBatch, 2 * this.#o.concurrency) - this.#queue.length;
    if (room <= 0) return;
    const rows = this.#outbox.pendingAfter(this.#o.account, this.#readSeq, room);
    for (const row of rows) this.#queue.push({ row, state: 'waiting', res: null });
    if (rows.length > 0) this.#readSeq = rows[rows.length - 1]!.seq;
    this.#more = rows.length === room;
  }

  #launch(e: Entry): void {
    e.state = 'inflight';
    this.#inflight++;
    this.#post(e.row).then(
      (res) => this.#settle(e, res, null),
      (err: unknown) => this.#settle(e, null, err),
    );
  }

  #settle(e: Entry, res: DeliveredResponse | null, err: unknown): void {
    this.#inflight--;
    e.state = 'waiting';
    if (!this.#running) return; // stopping: the row stays in the outbox for the next start
    try {
      if (res && res.status >= 200 && res.status < 300) {
        e.state = 'ok';
        e.res = res;
      } else {
        this.#failed(e, res ? `HTTP ${res.status}` : (err as Error)?.message || String(err));
      }
    } catch (dbErr) {
      // Recording the failure failed (database): retry the row later, from memory.
      this.#limit = 1;
      e.row.nextAt = Date.now() + this.#o.backoffBaseMs;
      this.#o.logger?.error({ err: dbErr }, 'post_api delivery: could not record an attempt; retrying');
    }
    this.#signal();
  }

  #failed(e: Entry, error: string): void {
    const row = e.row;
    const before = { ...row };
    const attempts = row.attempts + 1;
    const now = Date.now();
    this.#limit = 1;
    if (attempts >= this.#o.maxAttempts || now - row.createdAt >= this.#o.maxAgeMs) {
      this.#outbox.kill(row.seq, error, now);
      this.#queue.splice(this.#queue.indexOf(e), 1);
      this.#o.logger?.warn({ eventId: row.eventId, attempts, error }, 'post_api report moved to dead letters');
      this.#emitSafely('dead', before, error);
      return;
    }
    const exp = Math.min(this.#o.backoffMaxMs, this.#o.backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
    const nextAt = now + Math.round(exp / 2 + Math.random() * (exp / 2));
    this.#outbox.failed(row.seq, error, nextAt);
    row.attempts = attempts;
    row.nextAt = nextAt;
    row.lastError = error.slice(0, 1000);
    this.#o.logger?.info({ eventId: row.eventId, attempts, error, retryInMs: nextAt - now }, 'post_api delivery failed');
    this.#emitSafely('failed', before, error, nextAt);
  }

  #emitSafely<E extends 'delivered' | 'failed' | 'dead'>(event: E, ...args: DeliveryWorkerEvents[E]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.#o.logger?.warn({ err, event }, 'post_api delivery listener failed');
    }
  }

  #post(row: OutboxRow): Promise<DeliveredResponse> {
    const input = {
      account: row.account, eventId: row.eventId, attempt: row.attempts + 1, userAgent: this.#o.userAgent, secret: this.#o.secret,
      body: row.body, media: row.media, logger: this.#o.logger,
    };
    // Requests reach undici in launch order. A report without media is handed over at once, unless a media report's
    // request is still being prepared (file checks, the signature pass over the file): then it waits its turn.
    if (!row.media && this.#preparing === 0) return this.#send({ headers: reportHeaders(input), body: row.body });
    this.#preparing++;
    const turn = this.#dispatched.then(async () => {
      try {
        return { answer: this.#send(await reportRequest(input)) }; // wrapped: the next turn waits for the dispatch only
      } finally {
        this.#preparing--;
      }
    });
    this.#dispatched = turn.catch(() => undefined);
    return turn.then(({ answer }) => answer);
  }

  /** Hands the request to undici (synchronously, in call order) and reads the answer. */
  async #send(req: ReportRequest): Promise<DeliveredResponse> {
    const res = await request(this.#o.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      dispatcher: this.#client,
      // Lets undici pipeline the POSTs: it never pipelines non-idempotent requests, and waits for the answer's
      // headers before writing the next request unless `blocking` is off. Receivers de-duplicate with
      // X-Openwx-Event-Id: a report may be sent again anyway (at least once).
      idempotent: true,
      blocking: false,
      headersTimeout: this.#o.timeoutMs,
      bodyTimeout: this.#o.timeoutMs,
      signal: this.#abort.signal,
    });
    return readAnswer(res, this.#o.maxResponseBytes);
  }
}
