/**
 * The durable post_api sink: the reporter's `Delivery` (src/delivery/sink.ts) over the host's storage
 * (src/store/storage.ts: the outbox rows of one account) and one DeliveryWorker. The reporter commits a report
 * together with its history record and hands the stored row over (`accept`); `enqueue` (other senders: OneBot
 * webhooks) commits the report itself. Neither blocks the sync loop. The worker delivers in order, at least once,
 * and dead-letters reports past the attempt/age limit. This re-emits the worker's `delivered` / `failed` / `dead`
 * events and keeps `depth` and `deadCount` in memory (metrics, get_client_info: read synchronously): counted from
 * the store once at start, then kept up to date by what this sink stores, delivers, kills and replays.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../client/clock.ts';
import { InFlight } from '../client/in-flight.ts';
import type { DeliveredHandler, Delivery, Report } from './sink.ts';
import { randomUUID } from 'node:crypto';
import { Outbox } from '../store/outbox.ts';
import { SqliteStorage } from '../store/sqlite-storage.ts';
import type { AccountStorage, DeadLetter, OutboxRow } from '../store/storage.ts';
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
  readonly #store: AccountStorage;
  readonly #worker: DeliveryWorker;
  /** Reports stored and not yet delivered or dead (from the store at start, then counted here). */
  #depth = 0;
  #dead = 0;
  /** Stores in flight (`enqueue`): close() and flush() wait for them. */
  readonly #storing = new InFlight();
  readonly #log: Logger | undefined;
  readonly #clock: Clock;
  #handlers: DeliveredHandler[] = [];
  #closed = false;
  #waiters = new Set<() => void>();

  /**
   * `store`: the account's handle of the host's storage. An `Outbox` (a database handle) still works: it gets a
   * storage of its own, which batches only this sink's writes.
   */
  constructor(store: AccountStorage | Outbox, o: OutboxDeliveryOptions) {
    super();
    this.account = o.account;
    this.#store = store instanceof Outbox ? new SqliteStorage(store.db).forAccount(o.account) : store;
    this.#worker = new DeliveryWorker(this.#store, o);
    this.#log = o.logger;
    this.#clock = o.clock ?? systemClock;
    // First in the store's queue for this account: the counts are those of earlier runs, before anything is stored.
    this.#track(this.#store.outboxDepth().then((n) => (this.#depth += n)));
    this.#track(this.#store.deadDepth().then((n) => (this.#dead += n)));
    this.#worker.on('delivered', (row, res) => {
      const report: Report = { kind: row.kind, body: row.body, eventId: row.eventId };
      if (row.media) report.media = row.media;
      for (const h of this.#handlers) {
        try {
          h(report, res);
        } catch (err) {
          this.#log?.warn({ err }, 'post_api answer handler failed');
        }
      }
      this.#depth--;
      this.emit('delivered', row, res);
      this.#check();
    });
    this.#worker.on('failed', (row, error, nextAt) => this.emit('failed', row, error, nextAt));
    this.#worker.on('dead', (row, error) => {
      this.#depth--;
      this.#dead++;
      this.emit('dead', row, error);
      this.#check();
    });
    this.#worker.on('idle', () => this.#check());
    // Reports left by an earlier run (stop, crash, kill -9) are delivered first, in their order.
    this.#worker.start();
  }

  /** Reports waiting in the outbox (including the one in flight). */
  get depth(): number {
    return this.#closed ? 0 : Math.max(0, this.#depth);
  }

  /** Reports moved to the dead-letter table. */
  get deadCount(): number {
    return this.#closed ? 0 : Math.max(0, this.#dead);
  }

  /** The account's storage handle (the reporter commits its reports there and hands the rows over: `accept`). */
  get storage(): AccountStorage {
    return this.#store;
  }

  deadLetters(limit = 100): Promise<DeadLetter[]> {
    return this.#store.deadLetters(limit);
  }

  /** Moves dead letters (all, or those event ids) back to the outbox; returns how many. */
  async replay(eventIds?: string[]): Promise<number> {
    const n = await this.#store.replayDead(eventIds, this.#clock.now());
    if (n > 0) {
      this.#dead -= n;
      this.#depth += n;
      this.#worker.wake();
    }
    return n;
  }

  /** Records that this report's answer is acted on; false if it was already (a report that came again). */
  claimAnswer(eventId: string): Promise<boolean> {
    return this.#store.claimAnswer(eventId, this.#clock.now());
  }

  /** Forgets acted-on answers older than `maxAgeMs`; returns how many. */
  purgeAnswered(maxAgeMs: number): Promise<number> {
    return this.#store.purgeAnswered(this.#clock.now() - maxAgeMs);
  }

  onDelivered(handler: DeliveredHandler): void {
    this.#handlers.push(handler);
  }

  /** A row of this account the storage committed (the reporter's `commitReports`): delivered in its turn. */
  accept(row: OutboxRow): void {
    if (this.#closed) return; // stored: delivered after the next start
    this.#depth++;
    this.#worker.accept(row);
  }

  /** Whether a row handed over now would be sent at once (its first attempt may be counted by its insert). */
  startsAtOnce(): boolean {
    return !this.#closed && this.#worker.startsAtOnce();
  }

  /** Stores one report (committed with the other writes of this turn), then delivers it. */
  enqueue(report: Report): void {
    if (this.#closed) {
      this.#log?.warn({ kind: report.kind }, 'post_api report after close: not stored');
      return;
    }
    report.eventId ??= randomUUID();
    const job = {
      report: { kind: report.kind, body: report.body, media: report.media ?? null, eventId: report.eventId, createdAt: this.#clock.now(), started: this.#worker.startsAtOnce() },
    };
    this.#depth++; // counted at once, like a synchronous insert
    this.#track(
      this.#store.commitReports([job]).then(([out]) => {
        if (out?.ok && out.row) {
          if (!this.#closed) this.#worker.accept(out.row);
          return;
        }
        this.#depth--;
        if (out && !out.ok) this.#log?.warn({ err: out.error, kind: report.kind }, 'report dropped: could not store it');
      }),
    );
  }

  /** Resolves when the outbox of this account is empty, or after `timeoutMs` (what is left stays stored). */
  async flush(timeoutMs: number): Promise<void> {
    await this.#storing.settled();
    if (this.depth === 0) return;
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
    await this.#storing.settled();
    await this.#worker.stop();
    this.#closed = true;
    for (const w of [...this.#waiters]) w();
  }

  #track(p: Promise<unknown>): void {
    void this.#storing.track(p.catch((err: unknown) => this.#log?.error({ err }, 'post_api outbox: storage failed')));
  }

  #check(): void {
    if (this.#waiters.size === 0 || this.depth > 0) return;
    for (const w of [...this.#waiters]) w();
  }
}
