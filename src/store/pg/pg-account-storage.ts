/**
 * One account's handle of `PgStorage` (src/store/pg/pg-storage.ts): each method is one call queued on the storage,
 * run inside the storage's transaction of that turn, as SQL on the tables of migration 3 (src/cluster/schema.ts),
 * every row keyed by `client`. Writes are fenced by the storage (the handle's `fence`); reads are not.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { owxError } from '../../errors.ts';
import type { BatchedReport } from './report-batch.ts';
import { jsonbText } from './events.ts';
import type {
  AccountStorage,
  DeadLetter,
  OutboxMedia,
  OutboxRow,
  ReportJob,
  ReportOutcome,
  SentNote,
  StorageFence,
  StoredMessage,
} from '../storage.ts';

/** What a call may do in the storage's transaction besides its own SQL. */
export interface TxContext {
  /** Appends a stored report to openwx_events (with its NOTIFY) in this transaction. */
  event(client: string, eventId: string, body: string): Promise<void>;
}

export type OpRun = (c: pg.PoolClient, tx: TxContext) => Promise<unknown>;

/** The queue of the storage, as a handle sees it. */
export interface OpQueue {
  /** `report`: the call is one report job, which the cheap path may store with its neighbours in one statement. */
  run<T>(handle: PgAccountStorage, write: boolean, fn: (c: pg.PoolClient, tx: TxContext) => Promise<T>, report?: BatchedReport): Promise<T>;
  /** Whether stored reports are appended to openwx_events. */
  readonly logsEvents: boolean;
}

/** Most characters of an attempt's error kept (as in SQLite). */
const ERROR_MAX_CHARS = 1000;

interface RawOutbox {
  seq: string;
  event_id: string;
  client: string;
  kind: string;
  body: string;
  media: unknown;
  created_at: string;
  attempts: number;
  rejections?: number;
  next_at?: string;
  last_error: string | null;
  died_at?: string;
}

interface RawMessage {
  msg_id: string;
  peer: string;
  local_id: string | null;
  class: 'send' | 'recv';
  time: string;
  body: string;
  reply_to: string | null;
}

function parseMedia(m: unknown): OutboxMedia | null {
  if (!m || typeof m !== 'object') return null;
  const { path, size } = m as Partial<OutboxMedia>;
  // A reference that cannot be used is dropped: the report is still delivered, without media_data.
  return typeof path === 'string' && Number.isSafeInteger(size) ? { path, size: size! } : null;
}

// jsonbText: a lone surrogate of the path becomes U+FFFD (jsonb refuses it), the bytes Node writes for it anyway.
const mediaJson = (m: OutboxMedia | null | undefined): string | null => (m ? jsonbText(JSON.stringify({ path: m.path, size: m.size })) : null);

const toRow = (r: RawOutbox): OutboxRow => ({
  seq: Number(r.seq),
  eventId: r.event_id,
  account: r.client,
  kind: r.kind,
  body: r.body,
  media: parseMedia(r.media),
  createdAt: Number(r.created_at),
  attempts: r.attempts,
  rejections: r.rejections ?? 0,
  nextAt: Number(r.next_at),
  lastError: r.last_error,
});

const toDead = (r: RawOutbox): DeadLetter => ({
  seq: Number(r.seq),
  eventId: r.event_id,
  account: r.client,
  kind: r.kind,
  body: r.body,
  media: parseMedia(r.media),
  createdAt: Number(r.created_at),
  attempts: r.attempts,
  lastError: r.last_error,
  diedAt: Number(r.died_at),
});

const toStored = (r: RawMessage): StoredMessage => ({
  msgId: r.msg_id,
  peer: r.peer,
  localId: r.local_id,
  class: r.class,
  time: Number(r.time),
  body: JSON.parse(r.body) as unknown,
  replyTo: r.reply_to,
});

const MESSAGE_COLUMNS = '(client, msg_id, peer, local_id, class, time, body, reply_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)';

export class PgAccountStorage implements AccountStorage {
  readonly account: string;
  /** The lease its writes are bound to; null: unfenced. */
  readonly fence: StorageFence | null;
  readonly #q: OpQueue;
  /** Set once a fenced write was refused: the epoch never comes back, so every later write is refused too. */
  #lost: Error | null = null;

  constructor(account: string, fence: StorageFence | null, q: OpQueue) {
    this.account = account;
    this.fence = fence;
    this.#q = q;
  }

  get logsReports(): boolean {
    return this.#q.logsEvents;
  }

  get lost(): Error | null {
    return this.#lost;
  }

  /** The storage found the account's row no longer carries this handle's epoch and worker (or its lease ran out). */
  markLost(why: string): Error {
    if (!this.#lost) {
      this.#lost = owxError('OWX_ERR_LEASE_LOST', [`storage write for ${this.account} (${why})`]);
      try {
        this.fence?.onFenced?.(why);
      } catch {
        // the owner's handler is its business; the write is refused either way
      }
    }
    return this.#lost;
  }

  commitReports(jobs: readonly ReportJob[]): Promise<ReportOutcome[]> {
    return Promise.all(
      jobs.map((job) => {
        // Made before the call is queued: a transaction run again (after a failed statement) keeps the same id.
        const eventId = job.report ? (job.report.eventId ?? randomUUID()) : '';
        return this.#q.run(this, true, (c, tx) => this.#store(c, tx, job, eventId), { client: this.account, job, eventId }).then(
          (r): ReportOutcome => r,
          (error: unknown): ReportOutcome => ({ ok: false, error: error instanceof Error ? error : new Error(String(error)) }),
        );
      }),
    );
  }

  async #store(c: pg.PoolClient, tx: TxContext, job: ReportJob, eventId: string): Promise<ReportOutcome> {
    const m = job.message;
    if (m) {
      const v = messageValues(this.account, m.record);
      if (m.ifNew) {
        const r = await c.query(`INSERT INTO openwx_messages ${MESSAGE_COLUMNS} ON CONFLICT (client, msg_id) DO NOTHING`, v);
        if (r.rowCount === 0) return { ok: true, duplicate: true, row: null };
      } else {
        await c.query(
          `INSERT INTO openwx_messages ${MESSAGE_COLUMNS}
           ON CONFLICT (client, msg_id) DO UPDATE SET peer = EXCLUDED.peer, local_id = coalesce(EXCLUDED.local_id, openwx_messages.local_id),
             class = EXCLUDED.class, time = EXCLUDED.time, body = EXCLUDED.body, reply_to = coalesce(EXCLUDED.reply_to, openwx_messages.reply_to)`,
          v,
        );
      }
    }
    const rep = job.report;
    if (!rep) return { ok: true, duplicate: false, row: null };
    if (rep.outbox === false) {
      // No durable sink takes it: only the event log.
      if (this.#q.logsEvents) await tx.event(this.account, eventId, rep.body);
      return { ok: true, duplicate: false, row: null };
    }
    const media = rep.media ?? null;
    const attempts = rep.started ? 1 : 0;
    const r = await c.query<{ seq: string }>(
      `INSERT INTO openwx_outbox (event_id, client, kind, body, media, created_at, next_at, attempts) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6, $7) RETURNING seq`,
      [eventId, this.account, rep.kind, rep.body, mediaJson(media), rep.createdAt, attempts],
    );
    if (this.#q.logsEvents) await tx.event(this.account, eventId, rep.body);
    const row: OutboxRow = {
      seq: Number(r.rows[0]!.seq),
      eventId,
      account: this.account,
      kind: rep.kind,
      body: rep.body,
      media: media ? { path: media.path, size: media.size } : null,
      createdAt: rep.createdAt,
      attempts,
      rejections: 0,
      nextAt: rep.createdAt,
      lastError: null,
    };
    return { ok: true, duplicate: false, row };
  }

  pendingReports(afterSeq: number, limit: number): Promise<OutboxRow[]> {
    return this.#q.run(this, false, async (c) => {
      const r = await c.query<RawOutbox>('SELECT * FROM openwx_outbox WHERE client = $1 AND seq > $2 ORDER BY seq LIMIT $3', [this.account, afterSeq, limit]);
      return r.rows.map(toRow);
    });
  }

  markStarted(seqs: readonly number[]): Promise<void> {
    return this.#write('UPDATE openwx_outbox SET attempts = attempts + 1 WHERE client = $1 AND seq = ANY($2::bigint[])', [this.account, [...seqs]]);
  }

  markDelivered(seqs: readonly number[]): Promise<void> {
    return this.#write('DELETE FROM openwx_outbox WHERE client = $1 AND seq = ANY($2::bigint[])', [this.account, [...seqs]]);
  }

  markFailed(seq: number, error: string, nextAt: number, rejected: boolean): Promise<void> {
    return this.#write('UPDATE openwx_outbox SET next_at = $3, last_error = $4, rejections = rejections + $5 WHERE client = $1 AND seq = $2', [
      this.account,
      seq,
      nextAt,
      error.slice(0, ERROR_MAX_CHARS),
      rejected ? 1 : 0,
    ]);
  }

  markDead(seq: number, error: string, now: number): Promise<void> {
    return this.#write(
      `WITH gone AS (DELETE FROM openwx_outbox WHERE client = $1 AND seq = $2 RETURNING *)
       INSERT INTO openwx_dead_letters (seq, event_id, client, kind, body, media, created_at, attempts, last_error, died_at)
       SELECT seq, event_id, client, kind, body, media, created_at, attempts, $3, $4 FROM gone`,
      [this.account, seq, error.slice(0, ERROR_MAX_CHARS), now],
    );
  }

  outboxDepth(): Promise<number> {
    return this.#count('SELECT count(*) AS n FROM openwx_outbox WHERE client = $1');
  }

  deadDepth(): Promise<number> {
    return this.#count('SELECT count(*) AS n FROM openwx_dead_letters WHERE client = $1');
  }

  deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.#q.run(this, false, async (c) => {
      const r = await c.query<RawOutbox>('SELECT * FROM openwx_dead_letters WHERE client = $1 ORDER BY seq LIMIT $2', [this.account, limit < 0 ? null : limit]);
      return r.rows.map(toDead);
    });
  }

  replayDead(eventIds: readonly string[] | undefined, now: number): Promise<number> {
    // Back to the end of the outbox with their event ids, in the order given (else in their old order). A replay
    // starts a new age window and counts attempts from 0 again (as SQLite does: src/store/outbox.ts).
    return this.#q.run(this, true, async (c) => {
      const r = await c.query(
        `WITH gone AS (
           DELETE FROM openwx_dead_letters WHERE client = $1 AND ($2::text[] IS NULL OR event_id = ANY($2::text[])) RETURNING *
         )
         INSERT INTO openwx_outbox (event_id, client, kind, body, media, created_at, next_at)
         SELECT event_id, client, kind, body, media, $3, $3 FROM gone
          ORDER BY coalesce(array_position($2::text[], event_id), 0), seq`,
        [this.account, eventIds ? [...new Set(eventIds)] : null, now],
      );
      return r.rowCount ?? 0;
    });
  }

  claimAnswer(eventId: string, now: number): Promise<boolean> {
    return this.#q.run(this, true, async (c) => {
      const r = await c.query('INSERT INTO openwx_answered (client, event_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [this.account, eventId, now]);
      return r.rowCount === 1;
    });
  }

  purgeAnswered(before: number): Promise<number> {
    return this.#q.run(this, true, async (c) => (await c.query('DELETE FROM openwx_answered WHERE client = $1 AND at < $2', [this.account, before])).rowCount ?? 0);
  }

  message(msgId: string): Promise<StoredMessage | undefined> {
    return this.#q.run(this, false, async (c) => {
      const r = await c.query<RawMessage>('SELECT * FROM openwx_messages WHERE client = $1 AND msg_id = $2', [this.account, msgId]);
      const row = r.rows[0];
      return row && toStored(row);
    });
  }

  noteSent(n: SentNote): Promise<void> {
    return this.#write(
      `INSERT INTO openwx_messages (client, msg_id, peer, local_id, class, time, body, reply_to) VALUES ($1, $2, $3, $4, 'send', $5, '{}', $6)
       ON CONFLICT (client, msg_id) DO UPDATE SET local_id = coalesce(EXCLUDED.local_id, openwx_messages.local_id),
         reply_to = coalesce(EXCLUDED.reply_to, openwx_messages.reply_to)`,
      [this.account, n.msgId, n.peer, n.localId ?? null, n.time ?? Math.floor(Date.now() / 1000), n.replyTo ?? null],
    );
  }

  purgeMessages(beforeSec: number): Promise<number> {
    return this.#q.run(this, true, async (c) => (await c.query('DELETE FROM openwx_messages WHERE client = $1 AND time < $2', [this.account, beforeSec])).rowCount ?? 0);
  }

  #write(sql: string, values: unknown[]): Promise<void> {
    return this.#q.run(this, true, async (c) => {
      await c.query(sql, values);
    });
  }

  #count(sql: string): Promise<number> {
    return this.#q.run(this, false, async (c) => Number((await c.query<{ n: string }>(sql, [this.account])).rows[0]!.n));
  }
}

function messageValues(client: string, m: StoredMessage): unknown[] {
  return [client, m.msgId, m.peer, m.localId, m.class, m.time, m.bodyJson ?? JSON.stringify(m.body), m.replyTo ?? null];
}
