/**
 * The in-memory post_api sink: the fallback `Delivery` (src/delivery/sink.ts) without a data folder (library use).
 * The default sink, whenever openwx has a data folder, is the durable SQLite outbox (`OutboxDelivery`,
 * src/delivery/outbox-delivery.ts). This one is an in-memory FIFO, one request at a time (so order is kept),
 * bounded retries, bounded size. A media report's body is stored without `media_data` and refers to its file
 * (`media`); like the outbox it streams `media_data` into the POST body (src/delivery/media-body.ts), so it never
 * holds the file or its base64 in memory.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../client/clock.ts';
import { AbortHub } from '../client/abort-hub.ts';
import { postTarget, reportRequest, sendAttempt, type DeliveredResponse, type PostTarget } from './post.ts';
import type { DeliveredHandler, Delivery, Report } from './sink.ts';
import { DEFAULT_POST_API_TIMEOUT_MS } from './worker.ts';
import { LIBRARY_DEFAULTS } from '../settings/defaults.ts';

export interface MemoryDeliveryOptions {
  url: string;
  account: string;
  timeoutMs?: number;
  /** Attempts per report (1 = no retry). */
  attempts?: number;
  retryDelayMs?: number;
  /** Reports held while post_api is slow or down; the oldest is dropped beyond this. */
  maxQueue?: number;
  maxResponseBytes?: number;
  userAgent?: string;
  /** Signs each POST like the outbox does (`X-Openwx-Timestamp`, `X-Openwx-Signature`). */
  secret?: string;
  logger?: Logger;
  /** Retry delays, flush deadlines, attempt deadlines and signature timestamps; default the system clock. */
  clock?: Clock;
}

export class MemoryDelivery implements Delivery {
  readonly mediaByReference = true;
  readonly #o: Required<Omit<MemoryDeliveryOptions, 'logger' | 'secret' | 'clock'>> & { logger?: Logger | undefined; secret?: string | undefined };
  readonly #clock: Clock;
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, connections: 2 });
  readonly #target: PostTarget;
  readonly #stop = new AbortController();
  /** The attempts' one listener on #stop (src/client/abort-hub.ts). */
  readonly #stopHub = new AbortHub(this.#stop.signal);
  #queue: Report[] = [];
  #handlers: DeliveredHandler[] = [];
  #busy = false;
  #closed = false;
  #idle: (() => void)[] = [];
  #retryTimer: unknown = null;
  #wake: (() => void) | null = null;
  #dropped = 0;

  constructor(o: MemoryDeliveryOptions) {
    this.#o = {
      timeoutMs: DEFAULT_POST_API_TIMEOUT_MS,
      attempts: LIBRARY_DEFAULTS.postAttempts,
      retryDelayMs: 500,
      maxQueue: LIBRARY_DEFAULTS.postQueueMax,
      maxResponseBytes: 1024 * 1024,
      userAgent: 'openwx',
      ...o,
    };
    this.#target = postTarget(this.#o.url);
    this.#clock = o.clock ?? systemClock;
  }

  get depth(): number {
    return this.#queue.length;
  }

  /** Reports dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  onDelivered(handler: DeliveredHandler): void {
    this.#handlers.push(handler);
  }

  enqueue(report: Report): void {
    if (this.#closed) return;
    report.eventId ??= randomUUID();
    this.#queue.push(report);
    if (this.#queue.length > this.#o.maxQueue) {
      // Never drop the head while it is in flight.
      const i = this.#busy ? 1 : 0;
      const [lost] = this.#queue.splice(i, 1);
      this.#dropped++;
      this.#o.logger?.warn({ kind: lost?.kind, maxQueue: this.#o.maxQueue }, 'post_api queue full: oldest report dropped');
    }
    if (!this.#busy) void this.#run();
  }

  flush(timeoutMs: number): Promise<void> {
    if (this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = this.#clock.setTimeout(done, timeoutMs);
      const self = this;
      function done() {
        self.#clock.clearTimeout(t);
        const i = self.#idle.indexOf(done);
        if (i >= 0) self.#idle.splice(i, 1);
        resolve();
      }
      this.#idle.push(done);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stop.abort();
    if (this.#retryTimer !== null) this.#clock.clearTimeout(this.#retryTimer);
    this.#wake?.();
    this.#queue = [];
    for (const f of this.#idle.splice(0)) f();
    await this.#agent.close().catch(() => undefined);
  }

  async #run(): Promise<void> {
    this.#busy = true;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const report = this.#queue[0]!;
        await this.#deliver(report);
        if (this.#queue[0] === report) this.#queue.shift();
      }
    } finally {
      this.#busy = false;
      if (this.#queue.length === 0) for (const f of this.#idle.splice(0)) f();
    }
  }

  async #deliver(report: Report): Promise<void> {
    for (let attempt = 1; attempt <= this.#o.attempts && !this.#closed; attempt++) {
      let error: string;
      try {
        const res = await this.#post(report, attempt);
        if (res.status >= 200 && res.status < 300) {
          for (const h of this.#handlers) {
            try {
              h(report, res);
            } catch (err) {
              this.#o.logger?.warn({ err }, 'post_api answer handler failed');
            }
          }
          return;
        }
        error = `HTTP ${res.status}`;
      } catch (e) {
        if (this.#closed) return;
        error = (e as Error).message || String(e);
      }
      const last = attempt >= this.#o.attempts;
      this.#o.logger?.warn({ kind: report.kind, attempt, error, giveUp: last }, 'post_api delivery failed');
      if (!last) await this.#sleep(this.#o.retryDelayMs * 2 ** (attempt - 1));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#retryTimer = this.#clock.setTimeout(() => {
        this.#retryTimer = null;
        this.#wake = null;
        resolve();
      }, ms);
    });
  }

  async #post(report: Report, attempt: number): Promise<DeliveredResponse> {
    const req = await reportRequest({
      account: this.#o.account, eventId: report.eventId ?? '', attempt, userAgent: this.#o.userAgent, secret: this.#o.secret,
      authorization: this.#target.authorization, body: report.body, media: report.media, logger: this.#o.logger, clock: this.#clock,
    });
    return sendAttempt(req, {
      url: this.#target.url,
      dispatcher: this.#agent,
      timeoutMs: this.#o.timeoutMs,
      maxResponseBytes: this.#o.maxResponseBytes,
      stop: this.#stopHub,
      clock: this.#clock,
    });
  }
}
