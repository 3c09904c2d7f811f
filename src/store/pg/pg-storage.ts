/**
 * The PostgreSQL `Storage` (src/store/storage.ts) of one controller of a cluster (docs/cluster.md, "Data"): the same
 * contract as SQLite's, over a `pg.Pool` it is given (and does not close).
 *
 * - **Batching, order.** Every call of every account is queued; at the next `setImmediate` the queue runs, in call
 *   order, in ONE transaction on one connection. One transaction at a time: calls made meanwhile form the next one.
 *   Promises settle after the COMMIT, in call order. Reads are queued too, so a read sees every write called before it.
 * - **Failure isolation.** A transaction first runs its calls straight through (the cheap path). If one statement
 *   fails (PostgreSQL aborts the whole transaction then), it is rolled back and run again with each call in a
 *   SAVEPOINT of its own: the failing call is rolled back alone and only its promise rejects (a `ReportJob`'s outcome
 *   is `{ ok: false }`).
 * - **Fencing.** A handle may be bound to its owner's lease (`forAccount(account, fence)`, or the `fenceOf` option,
 *   asked when the handle is made). Each transaction first locks the rows of the fenced accounts among its writes
 *   `FOR SHARE` where they still carry the handle's epoch and worker and a live lease (so a takeover waits for the
 *   commit, then sees it); the writes of an account not found are refused with OWX_ERR_LEASE_LOST, and so is every
 *   later write of that handle (`onFenced` is called once).
 * - **Event log.** Each report `commitReports` stores is also appended to `openwx_events` with its NOTIFY in the same
 *   transaction (src/store/pg/events.ts), in call order; events older than `eventsRetentionHours` are deleted every
 *   `eventsPurgeIntervalMs`.
 * - **PostgreSQL unreachable.** A transaction that fails for the connection (not for a statement) is tried again,
 *   whole, with exponential backoff, logged once per outage; the calls stay pending meanwhile (the durability
 *   barrier therefore holds WeChat's acknowledgement back). After `retryGiveUpMs`, or once closing, they reject.
 *   A COMMIT whose answer was lost may have landed: before running it again, the retry asks PostgreSQL
 *   (`txid_status` of the transaction's id, read with its BEGIN); if it committed, its calls settle with
 *   the results they had (rows handed to the delivery worker, answers claimed once), else it runs again. The checked-out
 *   connection has an 'error' listener: a connection lost mid-transaction is a retry, not an uncaught exception.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { owxError } from '../../errors.ts';
import { CLUSTER_DEFAULTS } from '../../settings/defaults.ts';
import type { AccountStorage, Storage, StorageFence } from '../storage.ts';
import { appendEvents, lockEventLog, purgeEvents, type LoggedEvent } from './events.ts';
import { PgAccountStorage, type OpQueue, type OpRun, type TxContext } from './pg-account-storage.ts';
import { batchable, storeReports, type BatchedReport } from './report-batch.ts';

export const DEFAULT_BATCH_MAX_OPS = 1_000;
export const DEFAULT_RETRY_BACKOFF_BASE_MS = 100;
export const DEFAULT_RETRY_BACKOFF_MAX_MS = 5_000;
export const DEFAULT_RETRY_GIVE_UP_MS = 30_000;
export const DEFAULT_EVENTS_RETENTION_HOURS: number = CLUSTER_DEFAULTS.events_retention_hours;
export const DEFAULT_EVENTS_PURGE_INTERVAL_MS = 600_000;

export interface PgStorageOptions {
  pool: pg.Pool;
  /** The fence of a handle made without one (a controller: its lease keeper's current fence); absent: unfenced. */
  fenceOf?: ((account: string) => StorageFence | null) | undefined;
  /** Append stored reports to openwx_events (default true). */
  eventLog?: boolean | undefined;
  /** Events older than this are deleted (0: never). */
  eventsRetentionHours?: number | undefined;
  /** How often old events are deleted. */
  eventsPurgeIntervalMs?: number | undefined;
  /** Most calls in one transaction. */
  batchMaxOps?: number | undefined;
  retryBackoffBaseMs?: number | undefined;
  retryBackoffMaxMs?: number | undefined;
  /** Calls still failing for the connection after this long reject. */
  retryGiveUpMs?: number | undefined;
  logger?: Logger | undefined;
}

export interface PgStorageStats {
  /** Transactions committed. */
  transactions: number;
  /** Calls run. */
  operations: number;
  /** Transactions run again call by call (savepoints) after a statement failed. */
  isolated: number;
  /** Transactions tried again after the connection failed. */
  retries: number;
  /** Writes refused by the fence. */
  fenced: number;
  /** Report jobs stored by the one-statement path. */
  batched: number;
}

interface Op {
  handle: PgAccountStorage;
  write: boolean;
  run: OpRun;
  report?: BatchedReport | undefined;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * SQLSTATEs of the connection or the server rather than of a statement: connection exceptions (08), insufficient
 * resources (53), system errors (58), operator intervention (57: shutdown, crash, cancelled by statement_timeout),
 * serialization failures and deadlocks (40001, 40P01).
 */
const CONNECTION_ERROR = /^(08|53|57|58|40001$|40P01$)/;

/** The connection failed after a COMMIT was sent, before its answer came: the transaction may have landed. */
class CommitAnswerLost extends Error {
  readonly xid: string;
  /** What its calls did, if it landed. */
  readonly results: Settled[];
  constructor(cause: unknown, xid: string, results: Settled[]) {
    super(`the answer to COMMIT was lost: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.xid = xid;
    this.results = results;
  }
}

/** true: the connection or server failed (retry the transaction); false: a statement failed (isolate it). */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true; // ECONNREFUSED, "Connection terminated", timeouts
  return CONNECTION_ERROR.test(code);
}

export class PgStorage implements Storage, OpQueue {
  readonly pool: pg.Pool;
  readonly logsEvents: boolean;
  readonly stats: PgStorageStats = { transactions: 0, operations: 0, isolated: 0, retries: 0, fenced: 0, batched: 0 };
  readonly #o: PgStorageOptions;
  readonly #accounts = new Map<string, PgAccountStorage>();
  readonly #batchMax: number;
  #queue: Op[] = [];
  #scheduled: NodeJS.Immediate | null = null;
  #pumping: Promise<void> | null = null;
  #backoff: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  #purgeTimer: NodeJS.Timeout | null = null;
  #closing = false;
  #closed = false;

  constructor(o: PgStorageOptions) {
    this.#o = o;
    this.pool = o.pool;
    this.logsEvents = o.eventLog ?? true;
    this.#batchMax = o.batchMaxOps ?? DEFAULT_BATCH_MAX_OPS;
    const hours = o.eventsRetentionHours ?? DEFAULT_EVENTS_RETENTION_HOURS;
    const every = o.eventsPurgeIntervalMs ?? DEFAULT_EVENTS_PURGE_INTERVAL_MS;
    if (this.logsEvents && hours > 0 && every > 0) {
      this.#purgeTimer = setInterval(() => {
        this.purgeEvents().catch((err: unknown) => o.logger?.warn({ err: (err as Error).message }, 'openwx_events retention purge failed; tried again later'));
      }, every);
      this.#purgeTimer.unref();
    }
  }

  forAccount(account: string, fence?: StorageFence | null): AccountStorage {
    const f = fence ?? this.#o.fenceOf?.(account) ?? null;
    const fenced = this.#o.fenceOf !== undefined;
    let a = this.#accounts.get(account);
    // A handle is bound to one epoch: a new lease (or a lost one) makes a new handle.
    if (!a || a.fence?.epoch !== f?.epoch || a.fence?.workerId !== f?.workerId || a.lost) {
      a = new PgAccountStorage(account, f, this);
      // A fenced storage asked for an account it does not hold: every write is refused.
      if (fenced && !f) a.markLost('this controller holds no lease on it');
      this.#accounts.set(account, a);
    }
    return a;
  }

  /** Deletes events older than `eventsRetentionHours`; returns how many. */
  async purgeEvents(retentionHours = this.#o.eventsRetentionHours ?? DEFAULT_EVENTS_RETENTION_HOURS): Promise<number> {
    const n = await purgeEvents(this.pool, retentionHours);
    if (n > 0) this.#o.logger?.info({ deleted: n, retentionHours }, 'old events deleted from openwx_events (events_retention_hours)');
    return n;
  }

  run<T>(handle: PgAccountStorage, write: boolean, fn: (c: pg.PoolClient, tx: TxContext) => Promise<T>, report?: BatchedReport): Promise<T> {
    if (this.#closed) return Promise.reject(owxError('OWX_ERR_STORAGE_CLOSED', ['storage call']));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ handle, write, run: fn, report, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#pumping) this.#scheduled ??= setImmediate(() => this.#pump());
    });
  }

  /** A connection failure from now on is final (the host is stopping); a batch waiting to retry tries once more now. */
  stopRetrying(): void {
    this.#closing = true;
    this.#backoff?.wake();
  }

  /** Commits what is queued (giving up at once on a connection failure), then refuses further calls. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.stopRetrying();
    if (this.#purgeTimer) clearInterval(this.#purgeTimer);
    this.#purgeTimer = null;
    while (this.#scheduled || this.#pumping) {
      if (this.#scheduled) {
        clearImmediate(this.#scheduled);
        this.#pump();
      }
      await this.#pumping;
    }
    this.#closed = true;
  }

  #pump(): void {
    this.#scheduled = null;
    if (this.#pumping) return;
    this.#pumping = (async () => {
      while (this.#queue.length > 0) {
        const ops = this.#queue.splice(0, this.#batchMax);
        const results = await this.#runBatch(ops);
        this.stats.operations += ops.length;
        ops.forEach((op, i) => {
          const r = results[i]!;
          if (r.ok) op.resolve(r.value);
          else op.reject(r.error);
        });
      }
    })().finally(() => {
      this.#pumping = null;
      // Calls made by the continuations of the last settled ones, after the loop looked at the queue.
      if (this.#queue.length > 0) this.#scheduled ??= setImmediate(() => this.#pump());
    });
  }

  /** One transaction for `ops`; tried again on connection failures, with backoff, until `retryGiveUpMs`. */
  async #runBatch(ops: readonly Op[]): Promise<Settled[]> {
    const started = Date.now();
    const giveUpMs = this.#o.retryGiveUpMs ?? DEFAULT_RETRY_GIVE_UP_MS;
    /** The last attempt's COMMIT was sent but its answer lost: it may have landed. */
    let unknown: CommitAnswerLost | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        if (unknown) {
          // Run again, a landed transaction would fail or count its own rows as duplicates, and its claims as made by
          // someone else: its calls settle with what they did instead.
          const r = await this.pool.query<{ s: string | null }>('SELECT txid_status($1::bigint) AS s', [unknown.xid]);
          const status = r.rows[0]?.s ?? null;
          if (status === 'committed') {
            this.stats.transactions++;
            this.#o.logger?.info({ attempts: attempt + 1 }, 'PostgreSQL storage works again (the transaction whose COMMIT answer was lost had committed)');
            return unknown.results;
          }
          if (status === 'in progress') throw unknown; // not decided yet: asked again after the backoff
          unknown = null; // aborted: run it again
        }
        const out = await this.#transaction(ops);
        if (attempt > 0) this.#o.logger?.info({ attempts: attempt + 1 }, 'PostgreSQL storage works again');
        return out;
      } catch (err) {
        if (err instanceof CommitAnswerLost) unknown = err;
        // A statement that fails even call by call (outside any call: the fence query, COMMIT) is not retried.
        if (!isConnectionError(err) || this.#closing || Date.now() - started >= giveUpMs) {
          this.#o.logger?.error({ err: (err as Error).message, calls: ops.length }, 'PostgreSQL storage: giving up on these calls');
          return ops.map(() => ({ ok: false, error: err }));
        }
        const base = this.#o.retryBackoffBaseMs ?? DEFAULT_RETRY_BACKOFF_BASE_MS;
        const delay = Math.min(this.#o.retryBackoffMaxMs ?? DEFAULT_RETRY_BACKOFF_MAX_MS, base * 2 ** Math.min(attempt, 16));
        if (attempt === 0) {
          this.#o.logger?.warn({ err: (err as Error).message, calls: ops.length, retryInMs: delay }, 'PostgreSQL storage unreachable: retrying with backoff');
        }
        this.stats.retries++;
        await new Promise<void>((wake) => {
          const timer = setTimeout(wake, delay);
          this.#backoff = {
            timer,
            wake: () => {
              clearTimeout(timer);
              wake();
            },
          };
        });
        this.#backoff = null;
      }
    }
  }

  /** Runs `ops` in one transaction: straight through, or call by call in savepoints after a failed statement. */
  async #transaction(ops: readonly Op[]): Promise<Settled[]> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no 'error' listener of the pool's: a connection lost meanwhile (PostgreSQL restarting,
    // a network cut) emits 'error' on it, which without this one is an uncaught exception (the process dies). The
    // query in flight fails with the same error, which the retry handles.
    const lost = (err: Error) => (broken ??= err);
    c.on('error', lost);
    try {
      try {
        return await this.#attempt(c, ops, false);
      } catch (err) {
        if (isConnectionError(err)) throw err;
        this.stats.isolated++;
        return await this.#attempt(c, ops, true);
      }
    } catch (err) {
      broken = err as Error;
      throw err;
    } finally {
      c.removeListener('error', lost);
      // A connection that failed is closed rather than handed back to the pool.
      c.release(broken && isConnectionError(broken) ? broken : undefined);
    }
  }

  async #attempt(c: pg.PoolClient, ops: readonly Op[], isolated: boolean): Promise<Settled[]> {
    // With its id, in the same round trip: whether it landed is asked by that id if the COMMIT's answer is lost.
    const begun = (await c.query('BEGIN; SELECT txid_current()::text AS xid')) as unknown as pg.QueryResult<{ xid: string }>[];
    const xid = begun[1]!.rows[0]!.xid;
    try {
      const refused = await this.#fence(c, ops);
      const events: LoggedEvent[] = [];
      let locked = false;
      // Call by call, the lock is taken before the first savepoint: a lock taken inside a savepoint that is rolled back
      // (a report the event log cannot take) is released with it, and the calls after it would append unlocked.
      if (isolated && this.logsEvents && ops.some((op) => op.report)) {
        await lockEventLog(c);
        locked = true;
      }
      const tx: TxContext = {
        event: async (client, eventId, body) => {
          if (!isolated) {
            events.push({ client, eventId, body });
            return;
          }
          // Call by call: the event is appended inside the call's savepoint (a report it cannot take fails alone).
          if (!locked) await lockEventLog(c);
          locked = true;
          await appendEvents(c, [{ client, eventId, body }]);
        },
      };
      const results: Settled[] = [];
      // The cheap path stores each run of consecutive report jobs in one statement (src/store/pg/report-batch.ts).
      let run: { i: number; r: BatchedReport }[] = [];
      const storeRun = async () => {
        if (run.length === 0) return;
        const batch = run;
        run = [];
        if (!batchable(batch.map((x) => x.r))) {
          for (const { i } of batch) results[i] = { ok: true, value: await ops[i]!.run(c, tx) };
          return;
        }
        const outs = await storeReports(c, batch.map((x) => x.r));
        for (const [k, { i, r }] of batch.entries()) {
          const out = outs[k]!;
          if (this.logsEvents && r.job.report && out.ok && !out.duplicate) await tx.event(r.client, r.eventId, r.job.report.body);
          results[i] = { ok: true, value: out };
        }
        this.stats.batched += batch.length;
      };
      for (const [i, op] of ops.entries()) {
        if (op.write && refused.has(op.handle)) {
          this.stats.fenced++;
          results[i] = { ok: false, error: op.handle.lost };
          continue;
        }
        if (!isolated) {
          if (op.report) {
            run.push({ i, r: op.report });
            continue;
          }
          await storeRun();
          results[i] = { ok: true, value: await op.run(c, tx) };
          continue;
        }
        await c.query('SAVEPOINT owx_call');
        try {
          const value = await op.run(c, tx);
          await c.query('RELEASE SAVEPOINT owx_call');
          results[i] = { ok: true, value };
        } catch (err) {
          if (isConnectionError(err)) throw err;
          await c.query('ROLLBACK TO SAVEPOINT owx_call');
          results[i] = { ok: false, error: err };
        }
      }
      await storeRun();
      // The event log's lock is taken last and held only until the COMMIT (rows visible in id order).
      if (events.length > 0) {
        await lockEventLog(c);
        await appendEvents(c, events);
      }
      try {
        await c.query('COMMIT');
      } catch (err) {
        if (isConnectionError(err)) throw new CommitAnswerLost(err, xid, results);
        throw err;
      }
      this.stats.transactions++;
      return results;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /**
   * Locks the rows of the fenced accounts written to in this transaction (`FOR SHARE`) where they still carry the
   * handle's epoch and worker and a live lease; returns the handles whose writes are refused.
   */
  async #fence(c: pg.PoolClient, ops: readonly Op[]): Promise<Set<PgAccountStorage>> {
    const refused = new Set<PgAccountStorage>();
    const check = new Set<PgAccountStorage>();
    for (const op of ops) {
      if (!op.write) continue;
      if (op.handle.lost) refused.add(op.handle);
      else if (op.handle.fence) check.add(op.handle);
    }
    if (check.size === 0) return refused;
    const hs = [...check];
    const r = await c.query<{ client: string; epoch: string; worker: string }>(
      `SELECT a.client, a.epoch, a.worker FROM openwx_accounts a
         JOIN unnest($1::text[], $2::bigint[], $3::text[]) AS f(client, epoch, worker)
           ON a.client = f.client AND a.epoch = f.epoch AND a.worker = f.worker
        WHERE a.lease_until > now()
        FOR SHARE OF a`,
      [hs.map((h) => h.account), hs.map((h) => h.fence!.epoch), hs.map((h) => h.fence!.workerId)],
    );
    const live = new Set(r.rows.map((x) => `${x.client}\u0000${x.epoch}\u0000${x.worker}`));
    for (const h of hs) {
      if (live.has(`${h.account}\u0000${h.fence!.epoch}\u0000${h.fence!.workerId}`)) continue;
      h.markLost(`epoch ${h.fence!.epoch} of worker ${h.fence!.workerId} is no longer the account's, or its lease ran out`);
      refused.add(h);
    }
    return refused;
  }
}
