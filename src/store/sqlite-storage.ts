/**
 * The SQLite `Storage` (src/store/storage.ts) of one host: every call of every account made during one turn of the
 * event loop is queued and run, in call order, in ONE transaction at the next `setImmediate` (the host shares one
 * database, `<data_dir>/openwx.db`, WAL, `synchronous=NORMAL`). A failing write is rolled back alone and only its
 * promise rejects (a `ReportJob` then has the outcome `{ ok: false }`): the turn's calls run first without savepoints
 * (the usual case: none fails); if one throws, that attempt is rolled back as a whole and the calls run again, each
 * `atomic` one in its own savepoint. If the transaction as a whole fails (COMMIT, or SQLite rolled it back itself:
 * disk full, I/O error), every queued call is run again in its own transaction. Reads are queued too, so a read sees every write called before it.
 * Promises settle after the COMMIT, in call order.
 *
 * One follow-up: the calls made in reaction to a turn's commit (its promises' continuations: the delivery worker
 * counting the attempts of the rows it was just handed, before it sends them) are committed in a second transaction
 * of the same turn, once those continuations ran (`process.nextTick` from the microtask queue), instead of a whole
 * loop iteration later; calls made during the follow-up's own continuations wait for the next turn as usual.
 */
import { owxError } from '../errors.ts';
import type { DB } from './db.ts';
import { MessageHistory } from './history.ts';
import { Outbox } from './outbox.ts';
import type { AccountStorage, DeadLetter, NewReport, OutboxRow, ReportJob, ReportOutcome, SentNote, Storage, StoredMessage } from './storage.ts';

/**
 * `atomic`: several statements that must hold together (a report's history record and outbox row; a dead letter's
 * move): run in a savepoint, rolled back alone when they throw. `single`: a read, or writes each of which stands on
 * its own (one statement, or a list of independent row updates: counted attempts, deleted delivered rows).
 */
type OpKind = 'atomic' | 'single';

interface Op {
  run: () => unknown;
  kind: OpKind;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface SqliteStorageStats {
  /** Transactions committed (one per event-loop turn with calls). */
  transactions: number;
  /** Calls run. */
  operations: number;
}

export class SqliteStorage implements Storage {
  readonly db: DB;
  readonly outbox: Outbox;
  /** Counters for tests and the benchmark. */
  readonly stats: SqliteStorageStats = { transactions: 0, operations: 0 };
  readonly #accounts = new Map<string, SqliteAccountStorage>();
  /** The turn's calls in one transaction, each in a savepoint (`atomic`) or on its own; a failing call fails alone. */
  readonly #inTransaction: (ops: readonly Op[], results: Settled[]) => void;
  /** The same without savepoints: the first call that throws rolls the whole transaction back (and rethrows). */
  readonly #optimistic: (ops: readonly Op[], results: Settled[]) => void;
  /** Runs `f` in a savepoint inside the turn's transaction, or in a transaction of its own outside one. */
  readonly #atomic: (f: () => unknown) => unknown;
  #queue: Op[] = [];
  #scheduled: NodeJS.Immediate | null = null;
  /** A follow-up flush is scheduled (nextTick). */
  #followUpScheduled = false;
  /** In the continuations of a turn's flush: a call made now is committed by the follow-up, in the same turn. */
  #inFollowUpWindow = false;
  #closed = false;

  constructor(db: DB) {
    this.db = db;
    this.outbox = new Outbox(db);
    this.#atomic = db.transaction((f: () => unknown) => f());
    this.#inTransaction = db.transaction((ops: readonly Op[], results: Settled[]) => {
      for (const op of ops) {
        try {
          results.push({ ok: true, value: op.kind === 'atomic' ? this.#atomic(op.run) : op.run() });
        } catch (error) {
          // SQLite may have rolled the whole transaction back (SQLITE_FULL, I/O errors): then nothing of it holds.
          if (!db.inTransaction) throw error;
          results.push({ ok: false, error });
        }
      }
    });
    this.#optimistic = db.transaction((ops: readonly Op[], results: Settled[]) => {
      for (const op of ops) results.push({ ok: true, value: op.run() });
    });
  }

  forAccount(account: string): AccountStorage {
    let a = this.#accounts.get(account);
    if (!a) {
      a = new SqliteAccountStorage(account, this, new MessageHistory(this.db, account));
      this.#accounts.set(account, a);
    }
    return a;
  }

  /** Queues one call for this turn's transaction. */
  run<T>(fn: () => T, kind: OpKind): Promise<T>;
  /** `failure`: a failed call resolves with what it makes of the error, instead of rejecting. */
  run<T, F>(fn: () => T, kind: OpKind, failure: (error: unknown) => F): Promise<T | F>;
  run<T, F>(fn: () => T, kind: OpKind, failure?: (error: unknown) => F): Promise<T | F> {
    if (this.#closed) {
      const error = owxError('OWX_ERR_STORAGE_CLOSED', ['storage call']);
      return failure ? Promise.resolve(failure(error)) : Promise.reject(error);
    }
    return new Promise<T | F>((resolve, reject) => {
      this.#queue.push({ run: fn, kind, resolve: resolve as (v: unknown) => void, reject: failure ? (e) => resolve(failure(e)) : reject });
      if (this.#inFollowUpWindow) {
        if (!this.#followUpScheduled) {
          this.#followUpScheduled = true;
          process.nextTick(() => {
            this.#followUpScheduled = false;
            this.#flush(false);
          });
        }
      } else {
        this.#scheduled ??= setImmediate(() => this.#flush(true));
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    this.#flush(false);
    this.#closed = true;
  }

  /** `turn`: the turn's flush (setImmediate), whose continuations may be followed up; false: a follow-up or close. */
  #flush(turn: boolean): void {
    if (turn) this.#scheduled = null;
    this.#inFollowUpWindow = false;
    const ops = this.#queue;
    this.#queue = [];
    if (ops.length === 0) return;
    let results: Settled[] = [];
    if (this.db.open) {
      try {
        // Calls almost never fail: first without savepoints (a SAVEPOINT and its RELEASE per report cost about a third
        // of the report inserts). A failing call rolls this attempt back as a whole; then the calls run again, each
        // in its own savepoint, so that one fails alone. The calls only touch the database, so running them again
        // after a rollback is the same as running them once.
        this.#optimistic(ops, results);
        this.stats.transactions++;
      } catch {
        results = [];
        this.#isolated(ops, results);
      }
    } else {
      results = ops.map(() => ({ ok: false, error: owxError('OWX_ERR_STORAGE_CLOSED', ['storage call (its database is closed)']) }));
    }
    this.stats.operations += ops.length;
    for (let i = 0; i < ops.length; i++) {
      const r = results[i]!;
      if (r.ok) ops[i]!.resolve(r.value);
      else ops[i]!.reject(r.error);
    }
    if (!turn) return;
    // The continuations of these promises run as microtasks once this callback returns. This window opens now and
    // closes after them: a nextTick queued from a microtask runs only once the microtask queue is empty.
    this.#inFollowUpWindow = true;
    queueMicrotask(() => process.nextTick(() => (this.#inFollowUpWindow = false)));
  }

  /** The calls of a transaction that failed without savepoints: each call in a savepoint, so a failing one fails alone. */
  #isolated(ops: readonly Op[], results: Settled[]): void {
    try {
      this.#inTransaction(ops, results);
      this.stats.transactions++;
    } catch {
      // The transaction failed as a whole and was rolled back: each call again, in a transaction of its own.
      results.length = 0;
      for (const op of ops) {
        try {
          results.push({ ok: true, value: this.#atomic(op.run) });
        } catch (error) {
          results.push({ ok: false, error });
        }
      }
    }
  }
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

const failed = (error: unknown): ReportOutcome => ({ ok: false, error: error instanceof Error ? error : new Error(String(error)) });
const one = (r: ReportOutcome): ReportOutcome[] => [r];

class SqliteAccountStorage implements AccountStorage {
  readonly account: string;
  readonly #s: SqliteStorage;
  readonly #outbox: Outbox;
  readonly #history: MessageHistory;

  constructor(account: string, s: SqliteStorage, history: MessageHistory) {
    this.account = account;
    this.#s = s;
    this.#outbox = s.outbox;
    this.#history = history;
  }

  commitReports(jobs: readonly ReportJob[]): Promise<ReportOutcome[]> {
    // One job (the reporter's way: one call per report) without a Promise.all around it; settled one step after its
    // commit either way, so calls keep their order.
    if (jobs.length === 1) return this.#commit(jobs[0]!).then(one);
    return Promise.all(jobs.map((job) => this.#commit(job)));
  }

  #commit(job: ReportJob): Promise<ReportOutcome> {
    // A report alone is one INSERT; with its history record it is two, kept together. A job that fails is an outcome.
    return this.#s.run(() => this.#store(job), job.message && job.report ? 'atomic' : 'single', failed);
  }

  #store(job: ReportJob): ReportOutcome {
    const m = job.message;
    if (m) {
      if (m.ifNew) {
        if (!this.#history.putNew(m.record)) return { ok: true, duplicate: true, row: null };
      } else {
        this.#history.put(m.record);
      }
    }
    const r: NewReport | undefined = job.report;
    // `outbox: false` is a report only for an event log, which SQLite does not keep: nothing to store.
    const row = r && r.outbox !== false ? this.#outbox.insert(this.account, r.kind, r.body, r.createdAt, r.media ?? null, r.eventId, r.started ? 1 : 0) : null;
    return { ok: true, duplicate: false, row };
  }

  pendingReports(afterSeq: number, limit: number): Promise<OutboxRow[]> {
    return this.#s.run(() => this.#outbox.pendingAfter(this.account, afterSeq, limit), 'single');
  }

  markStarted(seqs: readonly number[]): Promise<void> {
    return this.#s.run(() => this.#outbox.started(seqs), 'single');
  }

  markDelivered(seqs: readonly number[]): Promise<void> {
    return this.#s.run(() => this.#outbox.deliveredMany(seqs), 'single');
  }

  markFailed(seq: number, error: string, nextAt: number, rejected: boolean): Promise<void> {
    return this.#s.run(() => this.#outbox.failed(seq, error, nextAt, rejected), 'single');
  }

  markDead(seq: number, error: string, now: number): Promise<void> {
    return this.#s.run(() => this.#outbox.kill(seq, error, now), 'atomic');
  }

  outboxDepth(): Promise<number> {
    return this.#s.run(() => this.#outbox.depth(this.account), 'single');
  }

  deadDepth(): Promise<number> {
    return this.#s.run(() => this.#outbox.deadDepth(this.account), 'single');
  }

  deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.#s.run(() => this.#outbox.deadLetters(this.account, limit), 'single');
  }

  replayDead(eventIds: readonly string[] | undefined, now: number): Promise<number> {
    return this.#s.run(() => this.#outbox.replay(this.account, eventIds ? [...eventIds] : undefined, now), 'atomic');
  }

  claimAnswer(eventId: string, now: number): Promise<boolean> {
    return this.#s.run(() => this.#outbox.claimAnswer(this.account, eventId, now), 'single');
  }

  purgeAnswered(before: number): Promise<number> {
    return this.#s.run(() => this.#outbox.purgeAnswered(this.account, before), 'single');
  }

  message(msgId: string): Promise<StoredMessage | undefined> {
    return this.#s.run(() => this.#history.get(msgId), 'single');
  }

  noteSent(note: SentNote): Promise<void> {
    return this.#s.run(() => this.#history.noteSent(note), 'single');
  }

  purgeMessages(beforeSec: number): Promise<number> {
    return this.#s.run(() => this.#history.purge(0, beforeSec * 1000), 'single');
  }
}
