/**
 * The storage of the post_api hot path, as ONE asynchronous interface for the whole host (issue 12: inbound latency;
 * issue 13: the same code on PostgreSQL). Every method returns a Promise, so an implementation may batch, go over the
 * network or run off the event loop. Two implementations: SQLite (`SqliteStorage`, src/store/sqlite-storage.ts: the
 * host's `<data_dir>/openwx.db`) and PostgreSQL (`PgStorage`, src/store/pg/pg-storage.ts: the cluster, issue 13).
 *
 * What it stores: the message history (received and sent messages), the durable post_api outbox (one row per report,
 * delivered in `seq` order per account), its dead letters, and the acted-on answers (`answered`: reply once).
 *
 * The contract every implementation keeps (the reporter, the delivery worker and their tests rely on it):
 * - **Order.** Calls on one `Storage` take effect, and their promises settle, in call order (FIFO). Per account this
 *   is the report order; a report's row gets a larger `seq` than every row of that account committed before it.
 * - **Durable on resolve.** A write's promise resolves only once the write is committed (SQLite: in WAL,
 *   `synchronous=NORMAL`). The durability barrier (WxClient.addDurabilityBarrier) awaits `commitReports`: WeChat is
 *   told a webwxsync answer was received only after its reports resolved.
 * - **Failure isolation.** One `ReportJob` is atomic (its history record and its outbox row together or neither);
 *   a job that cannot be stored fails ALONE (its outcome is `{ ok: false }`), the others of the same batch are kept.
 *   `commitReports` rejects only when the storage itself is gone (closed).
 * - **Batching is the implementation's business.** SQLite commits every call made during one event-loop turn, for
 *   every account of the host, in ONE transaction (at the next `setImmediate`). Callers never wait for a batch to
 *   fill: a call costs at most one turn of latency.
 * - **Rows keyed by account.** Every method is on an account's handle (`Storage.forAccount`). An implementation that
 *   fences writes (PostgreSQL: an owner's lease epoch) binds the fence to the handle; a fenced-out write rejects.
 * - **Event ids.** A report's `eventId` (sent as X-Openwx-Event-Id, stable across retries and restarts) is given by
 *   the caller, or made by the storage when absent.
 *
 * The delivery worker keeps its account's pending rows in memory: loaded once at start (`pendingReports`), then
 * fed by the rows `commitReports` returns; it reads again only when more rows are pending than it keeps in memory
 * (a receiver outage), or after a replay of dead letters.
 */
import type { OutboxMedia, OutboxRow, DeadLetter } from './outbox.ts';
import type { SentNote, StoredMessage } from './history.ts';

export type { OutboxMedia, OutboxRow, DeadLetter, SentNote, StoredMessage };

/** One report to store: its history record and/or its outbox row, atomically. */
export interface ReportJob {
  /**
   * The message's history record. `ifNew`: record it only if its MsgID is not in the history yet (a message from
   * the sync loop: WeChat delivers again after a restart what the saved SyncKey had not acknowledged); when it is
   * there already the job is a duplicate and its report is NOT stored. Otherwise the record is inserted or updated.
   */
  message?: { record: StoredMessage; ifNew: boolean } | undefined;
  /** The outbox row (a post_api report). Absent: only the history record. */
  report?: NewReport | undefined;
}

export interface NewReport {
  /** `receive_message`, `send_message`, `event:<name>`, … */
  kind: string;
  /** The report JSON (without `media_data` when `media` is set). */
  body: string;
  /** A media report's file, read into `media_data` when the report is POSTed. */
  media?: OutboxMedia | null | undefined;
  /** Made by the storage when absent. */
  eventId?: string | undefined;
  /** ms; the row's `created_at` and first `next_at`. */
  createdAt: number;
  /**
   * true: the row's first attempt is counted by its insert (`attempts` 1), because the delivery worker will send it
   * as soon as it is handed the row (DeliveryWorker.startsAtOnce): the worker does not count that attempt again
   * (`markStarted`), which saves a write and a transaction per report. The returned row's `attempts` says whether the
   * storage did (both implementations do; one that ignored the hint would return 0, and the worker would count the
   * attempt itself). Default false.
   */
  started?: boolean | undefined;
  /**
   * false: no outbox row (no durable post_api sink takes the report); only the event log of a storage that keeps one
   * (`AccountStorage.logsReports`). Default true.
   */
  outbox?: boolean | undefined;
}

/** What became of one `ReportJob`. */
export type ReportOutcome =
  /** Stored. `duplicate`: the message was in the history already (nothing stored). `row`: the outbox row, if any. */
  | { ok: true; duplicate: boolean; row: OutboxRow | null }
  /** Not stored (rolled back alone); the other jobs are unaffected. */
  | { ok: false; error: Error };

/** One account's view of the host storage. Every row it reads or writes is that account's. */
export interface AccountStorage {
  readonly account: string;
  /** Every stored report is also appended to an event log (PostgreSQL: openwx_events), also one without an outbox row. */
  readonly logsReports?: boolean | undefined;

  // ---- reports (the reporter) ----
  /** Stores each job atomically, in order; one outcome per job, in the same order. */
  commitReports(jobs: readonly ReportJob[]): Promise<ReportOutcome[]>;

  // ---- the outbox (the delivery worker) ----
  /** Up to `limit` pending rows with `seq > afterSeq`, in `seq` order (start-up, and reads past the memory window). */
  pendingReports(afterSeq: number, limit: number): Promise<OutboxRow[]>;
  /** Counts an attempt of each row, BEFORE its request is sent (X-Openwx-Attempt keeps counting after a crash). */
  markStarted(seqs: readonly number[]): Promise<void>;
  /** Deletes delivered rows. */
  markDelivered(seqs: readonly number[]): Promise<void>;
  /** A failed attempt: its error, when to retry, whether the receiver refused it (`rejections` + 1). */
  markFailed(seq: number, error: string, nextAt: number, rejected: boolean): Promise<void>;
  /** Moves a row to the dead letters. */
  markDead(seq: number, error: string, now: number): Promise<void>;
  /** Pending rows of the account (including those in flight). */
  outboxDepth(): Promise<number>;
  deadDepth(): Promise<number>;
  /** The oldest dead letters first; `limit` -1: all. */
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /** Moves dead letters (all, or these event ids) back to the end of the outbox, keeping their event ids; returns how many. */
  replayDead(eventIds: readonly string[] | undefined, now: number): Promise<number>;

  // ---- answers acted on (replies: once per event id) ----
  /** true: recorded now, act on it; false: an earlier answer to this report was acted on already. */
  claimAnswer(eventId: string, now: number): Promise<boolean>;
  /** Forgets acted-on answers recorded before `before` (ms); returns how many. */
  purgeAnswered(before: number): Promise<number>;

  // ---- the message history (replies, revoke_message) ----
  message(msgId: string): Promise<StoredMessage | undefined>;
  /** What a send answered (LocalID) and, for a post_api reply, which message it answered. */
  noteSent(note: SentNote): Promise<void>;
  /** Deletes messages with `time` (unix seconds) before `beforeSec`; returns how many. */
  purgeMessages(beforeSec: number): Promise<number>;
}

/**
 * The lease an account's handle writes under (PostgreSQL: src/cluster/lease.ts). Every write of the handle lands only
 * while the account's row still names this worker and epoch with a live lease; otherwise it rejects with
 * OWX_ERR_LEASE_LOST (and `onFenced` is called once). SQLite ignores it.
 */
export interface StorageFence {
  epoch: number;
  workerId: string;
  /** The account's lease is gone (a write was refused): the owner stops the account. */
  onFenced?: ((why: string) => void) | undefined;
}

/** The host's storage: one per process (SQLite) or per controller (PostgreSQL). */
export interface Storage {
  /**
   * The handle of one account (cheap; the same account may be asked for again). `fence`: bind its writes to the
   * owner's lease (an implementation that fences may also find the fence itself); ignored by SQLite.
   */
  forAccount(account: string, fence?: StorageFence | null): AccountStorage;
  /** Commits what is queued, then refuses further calls. Does not close a database it was given. */
  close(): Promise<void>;
  /**
   * The host is stopping: from now on a call that fails for want of a connection fails at once instead of being tried
   * again (PostgreSQL retries for up to 30 s; a stop must not wait that long). Calls still run. Optional: storage
   * that never retries has nothing to do.
   */
  stopRetrying?(): void;
}
