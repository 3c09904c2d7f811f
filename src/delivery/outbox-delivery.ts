/**
 * The durable post_api sink: the reporter's `Delivery` (src/delivery/sink.ts) over the SQLite outbox
 * (src/store/outbox.ts) and one DeliveryWorker per account. `enqueue` is a single local insert (never blocks the
 * sync loop); the worker delivers in order, at least once, and dead-letters reports past the attempt/age limit.
 * It re-emits the worker's `delivered` / `failed` / `dead` events and exposes `depth` (metrics, get_client_info).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../client/clock.ts';
import type { DeliveredHandler, Delivery, Report } from './sink.ts';
import type { DeadLetter, Outbox, OutboxRow } from '../store/outbox.ts';
import { DeliveryWorker, type DeliveredResponse, type DeliveryWorkerOptions } from './worker.ts';

export interface OutboxDeliveryEvents {
  delivered: [row: OutboxRow, res: DeliveredResponse];
  failed: [row: OutboxRow, error: string, nextAt: number];
  dead: [row: OutboxRow, error: string];
}

export type OutboxDeliveryOptions = DeliveryWorkerOptions;

export class OutboxDelivery extends EventEmitter<OutboxDeliveryEvents> implements Delivery {
  /** A media report is stored with its file reference; the worker streams media_data into the POST. */
  readonly mediaByReference = true;
  readonly account: string;
  readonly #outbox: Outbox;
  readonly #worker: DeliveryWorker;
  readonly #log: Logger | undefined;
  readonly #clock: Clock;
  #handlers: DeliveredHandler[] = [];
  #closed = false;
  #waiters = new Set<() => void>();

  constructor(outbox: Outbox, o: OutboxDeliveryOptions) {
    super();
    this.account = o.account;
    this.#outbox = outbox;
    this.#log = o.logger;
    this.#clock = o.clock ?? systemClock;
    this.#worker = new DeliveryWorker(outbox, o);
    this.#worker.on('delivered', (row, res) => {
      const report: Report = { kind: row.kind, body: row.body, eventId: row.eventId, ...(row.media ? { media: row.media } : {}) };
      for (const h of this.#handlers) {
        try {
          h(report, res);
        } catch (err) {
          this.#log?.warn({ err }, 'post_api answer handler failed');
        }
      }
      this.emit('delivered', row, res);
      this.#check();
    });
    this.#worker.on('failed', (row, error, nextAt) => this.emit('failed', row, error, nextAt));
    this.#worker.on('dead', (row, error) => {
      this.emit('dead', row, error);
      this.#check();
    });
    this.#worker.on('idle', () => this.#check());
    // Reports left by an earlier run (stop, crash, kill -9) are delivered first, in their order.
    this.#worker.start();
  }

  /** Reports waiting in the outbox (including the one in flight). */
  get depth(): number {
    return this.#closed ? 0 : this.#outbox.depth(this.account);
  }

  /** Reports moved to the dead-letter table. */
  get deadCount(): number {
    return this.#closed ? 0 : this.#outbox.deadDepth(this.account);
  }

  deadLetters(limit = 100): DeadLetter[] {
    return this.#outbox.deadLetters(this.account, limit);
  }

  /** Moves dead letters (all, or those event ids) back to the outbox; returns how many. */
  replay(eventIds?: string[]): number {
    const n = this.#outbox.replay(this.account, eventIds, this.#clock.now());
    if (n > 0) this.#worker.wake();
    return n;
  }

  /** Records that this report's answer is acted on; false if it was already (a report that came again). */
  claimAnswer(eventId: string): boolean {
    return this.#outbox.claimAnswer(this.account, eventId, this.#clock.now());
  }

  /** Forgets acted-on answers older than `maxAgeMs`; returns how many. */
  purgeAnswered(maxAgeMs: number): number {
    return this.#outbox.purgeAnswered(this.#clock.now() - maxAgeMs);
  }

  onDelivered(handler: DeliveredHandler): void {
    this.#handlers.push(handler);
  }

  enqueue(report: Report): void {
    if (this.#closed) {
      this.#log?.warn({ kind: report.kind }, 'post_api report after close: not stored');
      return;
    }
    report.eventId = this.#outbox.enqueue(this.account, report.kind, report.body, this.#clock.now(), report.media ?? null);
    this.#worker.wake();
  }

  /** Resolves when the outbox of this account is empty, or after `timeoutMs` (what is left stays stored). */
  flush(timeoutMs: number): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#clock.clearTimeout(t);
        this.#waiters.delete(done);
        resolve();
      };
      const t = this.#clock.setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#worker.stop();
    this.#closed = true;
    for (const w of [...this.#waiters]) w();
  }

  #check(): void {
    if (this.#waiters.size === 0 || this.depth > 0) return;
    for (const w of [...this.#waiters]) w();
  }
}
