/**
 * Durable post_api outbox: every report is written here before it is sent (at-least-once delivery). Rows of one
 * account are delivered in `seq` order (docs/delivery.md, "Order"), failed rows are retried at `next_at`, and
 * rows past the attempt/age limit move to `dead_letters`, from where they can be replayed. The worker reads the
 * pending rows in batches (`pendingAfter`) and deletes delivered ones in one transaction (`deliveredMany`).
 * A media report's row holds its JSON without `media_data` and the file reference in `media` (JSON `{path,size}`):
 * the file is read when the report is POSTed (src/delivery/media-body.ts); dead letters and replays keep it.
 * `attempts` is counted when an attempt starts (`started`), before its request is sent. `answered` records the
 * reports whose answer was acted on (reply/media sent), so a report that comes again never replies twice.
 */
import { randomUUID } from 'node:crypto';
import type { DB } from './db.ts';

/** The media file of a report (same shape as `ReportMedia` of src/delivery/media-body.ts). */
export interface OutboxMedia {
  path: string;
  size: number;
}

export interface OutboxRow {
  seq: number;
  eventId: string;
  account: string;
  kind: string;
  /** The report JSON (without `media_data` when `media` is set). */
  body: string;
  /** A media report's file, streamed into the POST body as `media_data`; null otherwise. */
  media: OutboxMedia | null;
  createdAt: number;
  /** Attempts started (counted when an attempt starts, so a crash mid-attempt still counts it). */
  attempts: number;
  /** Attempts the receiver answered with a refusal (the `rejected` class of src/delivery/failure.ts). */
  rejections: number;
  nextAt: number;
  lastError: string | null;
}

export interface DeadLetter extends Omit<OutboxRow, 'nextAt' | 'rejections'> {
  diedAt: number;
}

interface RawRow {
  seq: number;
  event_id: string;
  account: string;
  kind: string;
  body: string;
  media: string | null;
  created_at: number;
  attempts: number;
  rejections?: number;
  next_at: number;
  last_error: string | null;
  died_at?: number;
}

function parseMedia(text: string | null): OutboxMedia | null {
  if (!text) return null;
  try {
    const m = JSON.parse(text) as Partial<OutboxMedia>;
    // A reference that cannot be used is dropped: the report is still delivered, without media_data.
    return typeof m.path === 'string' && Number.isSafeInteger(m.size) ? { path: m.path, size: m.size! } : null;
  } catch {
    return null;
  }
}

const mediaText = (m: OutboxMedia | null | undefined): string | null => (m ? JSON.stringify({ path: m.path, size: m.size }) : null);

const toRow = (r: RawRow): OutboxRow => ({
  seq: r.seq,
  eventId: r.event_id,
  account: r.account,
  kind: r.kind,
  body: r.body,
  media: parseMedia(r.media),
  createdAt: r.created_at,
  attempts: r.attempts,
  rejections: r.rejections ?? 0,
  nextAt: r.next_at,
  lastError: r.last_error,
});

export class Outbox {
  readonly #db: DB;
  /** The database the rows are in. */
  readonly db: DB;
  readonly #stmts;
  readonly #deleteMany: (seqs: readonly number[]) => void;
  readonly #startMany: (seqs: readonly number[]) => void;

  constructor(db: DB) {
    this.#db = db;
    this.db = db;
    this.#stmts = {
      insert: db.prepare(
        'INSERT INTO outbox (event_id, account, kind, body, media, created_at, next_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      head: db.prepare('SELECT * FROM outbox WHERE account = ? ORDER BY seq LIMIT 1'),
      after: db.prepare('SELECT * FROM outbox WHERE account = ? AND seq > ? ORDER BY seq LIMIT ?'),
      del: db.prepare('DELETE FROM outbox WHERE seq = ?'),
      start: db.prepare('UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?'),
      fail: db.prepare('UPDATE outbox SET next_at = ?, last_error = ?, rejections = rejections + ? WHERE seq = ?'),
      claim: db.prepare('INSERT OR IGNORE INTO answered (account, event_id, at) VALUES (?, ?, ?)'),
      purgeAnswered: db.prepare('DELETE FROM answered WHERE account = ? AND at < ?'),
      depth: db.prepare('SELECT count(*) AS n FROM outbox WHERE account = ?'),
      accounts: db.prepare('SELECT DISTINCT account FROM outbox'),
      toDead: db.prepare(
        `INSERT INTO dead_letters (seq, event_id, account, kind, body, media, created_at, attempts, last_error, died_at)
         SELECT seq, event_id, account, kind, body, media, created_at, attempts, ?, ? FROM outbox WHERE seq = ?`,
      ),
      dead: db.prepare('SELECT * FROM dead_letters WHERE account = ? ORDER BY seq LIMIT ?'),
      deadDepth: db.prepare('SELECT count(*) AS n FROM dead_letters WHERE account = ?'),
      deadOne: db.prepare('SELECT * FROM dead_letters WHERE account = ? AND event_id = ?'),
      deadDel: db.prepare('DELETE FROM dead_letters WHERE seq = ?'),
      reinsert: db.prepare(
        'INSERT INTO outbox (event_id, account, kind, body, media, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
    };
    const del = this.#stmts.del;
    this.#deleteMany = db.transaction((seqs: readonly number[]) => {
      for (const s of seqs) del.run(s);
    });
    const start = this.#stmts.start;
    this.#startMany = db.transaction((seqs: readonly number[]) => {
      for (const s of seqs) start.run(s);
    });
  }

  /**
   * Stores one report; returns its event id (stable across retries, sent as X-Openwx-Event-Id). `media`: the file
   * whose base64 is sent as `media_data` (then `body` is the JSON without it).
   */
  enqueue(account: string, kind: string, body: string, now = Date.now(), media: OutboxMedia | null = null): string {
    return this.insert(account, kind, body, now, media).eventId;
  }

  /**
   * Stores one report with this event id (a new one when absent); returns its row. `attempts`: 1 when its first
   * attempt is counted with the insert (the worker sends it at once: `NewReport.started`), else 0.
   */
  insert(account: string, kind: string, body: string, now: number, media: OutboxMedia | null, eventId: string = randomUUID(), attempts = 0): OutboxRow {
    const seq = Number(this.#stmts.insert.run(eventId, account, kind, body, mediaText(media), now, now, attempts).lastInsertRowid);
    return { seq, eventId, account, kind, body, media: media ? { path: media.path, size: media.size } : null, createdAt: now, attempts, rejections: 0, nextAt: now, lastError: null };
  }

  /** The oldest undelivered report of the account (delivery order = insertion order). */
  head(account: string): OutboxRow | undefined {
    const r = this.#stmts.head.get(account) as RawRow | undefined;
    return r && toRow(r);
  }

  /**
   * Up to `limit` pending rows of the account with `seq > afterSeq`, in order. New rows always get a larger seq
   * (AUTOINCREMENT, one process per data folder), so a reader that remembers the last seq it read sees every row once.
   */
  pendingAfter(account: string, afterSeq: number, limit: number): OutboxRow[] {
    return (this.#stmts.after.all(account, afterSeq, limit) as RawRow[]).map(toRow);
  }

  delivered(seq: number): void {
    this.#stmts.del.run(seq);
  }

  /** Deletes delivered rows in one transaction (the caller's, when one is open). */
  deliveredMany(seqs: readonly number[]): void {
    if (seqs.length === 1 || this.#db.inTransaction) {
      for (const s of seqs) this.#stmts.del.run(s);
      return;
    }
    this.#deleteMany(seqs);
  }

  /**
   * Counts the attempts about to start (one transaction), BEFORE their requests are sent: `X-Openwx-Attempt` is
   * `attempts` after this, and keeps counting after a crash or kill -9 mid-attempt.
   */
  started(seqs: readonly number[]): void {
    if (seqs.length === 1 || this.#db.inTransaction) for (const s of seqs) this.#stmts.start.run(s);
    else if (seqs.length > 1) this.#startMany(seqs);
  }

  /** Records a failed attempt (already counted by `started`): its error and when to retry; `rejected`: the receiver refused it. */
  failed(seq: number, error: string, nextAt: number, rejected = false): void {
    this.#stmts.fail.run(nextAt, error.slice(0, 1000), rejected ? 1 : 0, seq);
  }

  /**
   * Records that the answer to this report was acted on (its reply/media sent). false: it was already, by an
   * earlier answer to the same report (a report that came again after a restart): do not act again.
   */
  claimAnswer(account: string, eventId: string, now = Date.now()): boolean {
    return this.#stmts.claim.run(account, eventId, now).changes === 1;
  }

  /** Forgets the account's acted-on answers recorded before `before` (ms); returns how many. Other accounts keep theirs (their retention may differ). */
  purgeAnswered(account: string, before: number): number {
    return this.#stmts.purgeAnswered.run(account, before).changes;
  }

  kill(seq: number, error: string, now = Date.now()): void {
    this.#db.transaction(() => {
      this.#stmts.toDead.run(error.slice(0, 1000), now, seq);
      this.#stmts.del.run(seq);
    })();
  }

  depth(account: string): number {
    return (this.#stmts.depth.get(account) as { n: number }).n;
  }

  /** Accounts that have pending rows (a restarted process resumes them). */
  pendingAccounts(): string[] {
    return (this.#stmts.accounts.all() as { account: string }[]).map((r) => r.account);
  }

  deadLetters(account: string, limit = 100): DeadLetter[] {
    return (this.#stmts.dead.all(account, limit) as RawRow[]).map((r) => {
      const { nextAt: _n, rejections: _r, ...rest } = toRow(r);
      return { ...rest, diedAt: r.died_at! };
    });
  }

  deadDepth(account: string): number {
    return (this.#stmts.deadDepth.get(account) as { n: number }).n;
  }

  /** Moves dead letters back to the end of the outbox (all, or the given event ids), keeping their event ids; returns how many. */
  replay(account: string, eventIds?: string[], now = Date.now()): number {
    return this.#db.transaction(() => {
      // An id given twice is replayed once (its dead letter is gone after the first).
      const rows = eventIds
        ? [...new Set(eventIds)].map((id) => this.#stmts.deadOne.get(account, id) as RawRow | undefined).filter((r): r is RawRow => !!r)
        : (this.#stmts.dead.all(account, -1) as RawRow[]);
      for (const r of rows) {
        this.#stmts.deadDel.run(r.seq);
        // A replay starts a new age window (created_at = now): the operator asked for new attempts, and an old
        // report would otherwise die again on its first failure. Attempts start again from 0.
        this.#stmts.reinsert.run(r.event_id, r.account, r.kind, r.body, r.media, now, now);
      }
      return rows.length;
    })();
  }
}
