/**
 * The event log for consumers: every report of an account (the post_api JSON body, without `media_data`) appended
 * to `openwx_events` in order, each with `NOTIFY openwx_events, '<id>'`. Consumers read it with
 * `SELECT … WHERE id > $last` plus `LISTEN openwx_events` (docs/cluster.md).
 *
 * - The reporter's sink is wrapped (`tapDelivery`): each report handed to post_api's sink is also handed here, with its
 *   event id (`X-Openwx-Event-Id`), synchronously and in order.
 * - Reports of one turn are written in one INSERT, one batch at a time per account (order kept). The insert is
 *   FENCED like every write of an owner (`epoch`, `worker`, live lease): a stale owner's rows are refused and the
 *   account is reported lost.
 * - `drained()` resolves once everything tapped so far is in PostgreSQL: the owner adds it to the client's
 *   durability barrier, so WeChat is told a sync answer was received only once its reports are in the log too.
 * - Retention: rows older than `events_retention_hours` are deleted by `pruneEvents` (every controller runs it).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Delivery, Report } from '../delivery/sink.ts';
import { owxError } from '../errors.ts';
import type { Fence } from './lease.ts';

export const EVENTS_CHANNEL = 'openwx_events';

export interface EventLogOptions {
  pool: pg.Pool;
  fence: Fence;
  /** An insert was refused: this controller no longer holds the account. */
  onFenced(why: string): void;
  /** An insert failed for another reason (PostgreSQL unreachable): the batch is kept and tried again. */
  onError(err: unknown): void;
  /** Wait before trying a failed batch again. */
  retryDelayMs?: number | undefined;
}

export class AccountEventLog {
  readonly #o: EventLogOptions;
  #pending: { eventId: string | null; body: string }[] = [];
  #writing: Promise<void> | null = null;
  #failed: Error | null = null;
  #closed = false;
  #retryTimer: NodeJS.Timeout | null = null;
  appended = 0;

  constructor(o: EventLogOptions) {
    this.#o = o;
  }

  /** One report, in order (called synchronously by the tapped sink). */
  append(report: Report): void {
    if (this.#closed || this.#failed) return;
    this.#pending.push({ eventId: report.eventId ?? null, body: report.body });
    this.#kick();
  }

  #kick(): void {
    if (this.#writing || this.#retryTimer) return;
    this.#writing = (async () => {
      await Promise.resolve(); // one batch for what the current turn appends
      while (this.#pending.length > 0 && !this.#failed) {
        const batch = this.#pending;
        this.#pending = [];
        try {
          await this.#insert(batch);
          this.appended += batch.length;
        } catch (err) {
          if ((err as { code?: string }).code === 'OWX_ERR_LEASE_LOST') {
            this.#failed = err as Error;
            break;
          }
          // Kept, in order, for the next try.
          this.#pending = [...batch, ...this.#pending];
          this.#o.onError(err);
          if (!this.#closed) {
            this.#retryTimer = setTimeout(() => {
              this.#retryTimer = null;
              this.#kick();
            }, this.#o.retryDelayMs ?? 1_000);
          }
          break;
        }
      }
    })().finally(() => {
      this.#writing = null;
    });
  }

  async #insert(batch: { eventId: string | null; body: string }[]): Promise<void> {
    const f = this.#o.fence;
    const r = await this.#o.pool.query(
      `WITH holder AS (
         SELECT 1 FROM openwx_accounts a WHERE a.client = $1 AND a.epoch = $2 AND a.worker = $3 AND a.lease_until > now() FOR SHARE
       ), ins AS (
         INSERT INTO openwx_events (client, event_id, report)
         SELECT $1, e.event_id, e.report::jsonb FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS e(event_id, report, n)
          WHERE EXISTS (SELECT 1 FROM holder) ORDER BY e.n
         RETURNING id
       )
       SELECT id, pg_notify('${EVENTS_CHANNEL}', id::text) FROM ins`,
      [f.client, f.epoch, f.workerId, batch.map((b) => b.eventId), batch.map((b) => b.body)],
    );
    if (!r.rowCount) {
      const why = `event log insert refused by PostgreSQL: epoch ${f.epoch} is no longer the account's`;
      this.#o.onFenced(why);
      throw owxError('OWX_ERR_LEASE_LOST', ['event log insert']);
    }
  }

  /** Resolves once every report appended before the call is in PostgreSQL; rejects when the account lost its lease. */
  async drained(): Promise<void> {
    for (;;) {
      if (this.#failed) throw this.#failed;
      if (this.#writing) {
        await this.#writing;
        continue;
      }
      if (this.#pending.length === 0) return;
      if (this.#retryTimer) throw owxError('OWX_ERR_CLUSTER_DB', ['the event log could not be written; it is retried']);
      this.#kick();
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }
}

/**
 * The reporter's sink with every enqueued report also handed to `tap` (after the sink gave it its event id). Without
 * a sink (no post_api) reports still reach the tap: the event log works alongside post_api or without it.
 */
export function tapDelivery(inner: Delivery | null, tap: (r: Report) => void): Delivery {
  return {
    mediaByReference: inner ? inner.mediaByReference : true,
    enqueue(report: Report) {
      inner?.enqueue(report);
      report.eventId ??= randomUUID(); // no post_api sink: the log's own id, as the in-memory sink would give
      tap(report);
    },
    onDelivered: (h) => inner?.onDelivered(h),
    ...(inner?.claimAnswer ? { claimAnswer: (id: string) => inner.claimAnswer!(id) } : {}),
    get depth() {
      return inner?.depth ?? 0;
    },
    flush: (timeoutMs) => inner?.flush(timeoutMs) ?? Promise.resolve(),
    close: () => inner?.close() ?? Promise.resolve(),
  };
}

/** Deletes events older than `hours`; returns how many. */
export async function pruneEvents(pool: pg.Pool, hours: number): Promise<number> {
  const r = await pool.query(`DELETE FROM openwx_events WHERE created_at < now() - $1 * interval '1 hour'`, [hours]);
  return r.rowCount ?? 0;
}
