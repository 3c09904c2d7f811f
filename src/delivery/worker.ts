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
 * Failures (src/delivery/failure.ts, docs/delivery.md "Failures and retries"): a receiver that could not be reached
 * or answered "later" (503, 429, …) holds the line: every report behind it would fail the same way. A report the
 * receiver refused (500, 400, …) or did not answer in time holds the line for `holdMs` at most (order `bounded`,
 * the default): then it is passed, the reports behind it go on, and it is retried on its own, over a second
 * connection, one attempt at a time, until it is delivered or dead (a refused one after `rejectedMaxAttempts`).
 * Order `strict` keeps every failing report at the head until it is delivered or dead. Each attempt has one
 * overall deadline (`timeoutMs`: request, answer headers and body), and is counted in the outbox before it is sent.
 *
 * The worker keeps its account's pending rows in memory (src/store/storage.ts): read from the store once at start
 * (in batches of `readBatch`), then fed by the rows the reporter's commits return (`accept`), up to
 * `pendingMemoryMaxRows`; past that (a receiver outage) and after a replay it reads the store again, in `seq` order.
 * `started` is awaited before a request is sent; the delivered, failed and dead rows are written behind (the host's
 * storage batches the writes of one event-loop turn, of every account, in one transaction).
 *
 * A media report's body is streamed from its file (src/delivery/media-body.ts). Its request is prepared (file
 * checked, signature computed over the streamed bytes) before it is handed to undici, and the requests behind it
 * wait for that, so requests reach the connection in launch order. undici dispatches a stream body only when no
 * other request is in flight on the connection and pipelines nothing else while it writes it; the reports behind it
 * are pipelined again once it is written. The order on the wire is unchanged.
 */
import { EventEmitter } from 'node:events';
import { Client } from 'undici';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../client/clock.ts';
import { HOUR_MS, SETTING_DEFAULTS } from '../settings/defaults.ts';
import { Outbox } from '../store/outbox.ts';
import { SqliteStorage } from '../store/sqlite-storage.ts';
import type { AccountStorage, OutboxRow } from '../store/storage.ts';
import { classifyError, classifyStatus, isReportFailure, type FailureClass } from './failure.ts';
import { AbortHub } from '../client/abort-hub.ts';
import { InFlight } from '../client/in-flight.ts';
import { postTarget, reportHeaders, reportRequest, sendAttempt, type DeliveredResponse, type ExtraHeaders, type ReportRequest } from './post.ts';

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
  /** One attempt as a whole (request, answer headers, answer body) fails after this. Default 40 s. */
  timeoutMs?: number;
  /**
   * `bounded` (default): a report the receiver refused or did not answer holds the reports behind it for `holdMs`
   * at most, then they go on and it is retried on its own. `strict`: it holds them until delivered or dead.
   */
  order?: PostOrder;
  /** Bounded order: how long a failing report (refused, no answer) holds the reports behind it. Default 5 s. */
  holdMs?: number;
  /** Attempts the receiver may refuse (non-2xx other than 408/429/502/503/504) before a dead letter. Default 3. */
  rejectedMaxAttempts?: number;
  /** Largest response body read (the reply JSON). */
  maxResponseBytes?: number;
  /** Reports in flight at once on the pipelined connection (1 = one at a time, the head blocking the rest). Default 8. */
  concurrency?: number;
  /** Rows read from the outbox per query (start-up, and past `pendingMemoryMaxRows`). Default 64. */
  readBatch?: number;
  /** Pending rows kept in memory (at least 2 × concurrency); more wait in the store. Default 256. */
  pendingMemoryMaxRows?: number;
  userAgent?: string;
  /** Further request headers of every attempt (OneBot webhooks: their Authorization, X-Self-ID, X-OneBot-Version). */
  headers?: ExtraHeaders | undefined;
  logger?: Logger;
  /** Backoff and hold timers, attempt deadlines, row timestamps and signature timestamps; default the system clock. */
  clock?: Clock;
}

export type { DeliveredResponse };

export interface DeliveryWorkerEvents {
  delivered: [row: OutboxRow, res: DeliveredResponse];
  failed: [row: OutboxRow, error: string, nextAt: number];
  dead: [row: OutboxRow, error: string];
  idle: [];
}

export type PostOrder = 'bounded' | 'strict';
export const POST_ORDERS: readonly PostOrder[] = ['bounded', 'strict'];

/** One pending row of the window: not sent (or waiting for its retry), in flight, or answered 2xx and held. */
interface Entry {
  row: OutboxRow;
  state: 'waiting' | 'inflight' | 'ok';
  res: DeliveredResponse | null;
  /** When it first failed in this run (its hold starts there); null: it has not failed. */
  failedAt: number | null;
  /** The class of its last failure. */
  cls: FailureClass | null;
  /** Passed (bounded order): the reports behind it went on; it is retried on its own and acted on when delivered. */
  passed: boolean;
  /** Its attempt in flight runs on the side connection (retries of a report that failed on its own). */
  side: boolean;
  /** Its next attempt is counted already (`attempts`): its first, counted by the insert that stored the row. */
  counted: boolean;
}

// The settings' defaults (src/settings/defaults.ts).
export const DEFAULT_POST_API_CONCURRENCY = SETTING_DEFAULTS.post_api_concurrency;
export const DEFAULT_POST_API_TIMEOUT_MS = SETTING_DEFAULTS.post_api_timeout_ms;
export const DEFAULT_POST_API_HOLD_MS = SETTING_DEFAULTS.post_api_hold_ms;
export const DEFAULT_POST_API_REJECTED_MAX_ATTEMPTS = SETTING_DEFAULTS.post_api_rejected_max_attempts;
export const DEFAULT_PENDING_MEMORY_MAX_ROWS = 256;

export class DeliveryWorker extends EventEmitter<DeliveryWorkerEvents> {
  readonly #store: AccountStorage;
  readonly #o: Required<Omit<DeliveryWorkerOptions, 'secret' | 'logger' | 'clock' | 'headers'>> & Pick<DeliveryWorkerOptions, 'secret' | 'logger' | 'headers'>;
  readonly #clock: Clock;
  readonly #client: Client;
  /** The second connection: retries of reports that failed on their own (refused, no answer), one at a time. */
  readonly #side: Client;
  readonly #url: string;
  /** `Basic …` from the post_api URL's credentials (never logged). */
  readonly #authorization: string | undefined;
  #sideBusy = false;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  /** A signal came while no sleep waited for it. */
  #signalled = false;
  #timer: unknown = null;
  #abort = new AbortController();
  /** The attempts' one listener on #abort (src/client/abort-hub.ts). */
  #stopHub = new AbortHub(this.#abort.signal);
  /** The window: pending rows in `seq` order. */
  #queue: Entry[] = [];
  /** Largest seq read from the outbox. */
  #readSeq = 0;
  /** The outbox may hold rows beyond `#readSeq` (set by wake() and by rows accepted past the memory window, cleared when a read came back short). */
  #more = true;
  /** Counts the rows that set `#more` (a read in flight clears `#more` only if none came meanwhile). */
  #moreGen = 0;
  /** Rows accepted past the memory window whose first attempt their insert counted: not counted again when read. */
  readonly #countedAhead = new Set<number>();
  /** The writes behind (delivered, failed, dead) not yet settled: stop() waits for them. */
  readonly #writes = new InFlight();
  #inflight = 0;
  /** Reports allowed in flight now (1 after a failure or an empty outbox, doubling per delivered report). */
  #limit = 1;
  /** Settles once the last request that had to wait its turn was handed to undici. */
  #dispatched: Promise<unknown> = Promise.resolve();
  /** Requests waiting for their turn (a media report's preparation, and the reports launched behind it). */
  #preparing = 0;

  /**
   * `store`: the account's handle of the host's storage. An `Outbox` (a database handle) still works: it gets a
   * storage of its own, which batches only this worker's writes.
   */
  constructor(store: AccountStorage | Outbox, opts: DeliveryWorkerOptions) {
    super();
    this.#store = store instanceof Outbox ? new SqliteStorage(store.db).forAccount(opts.account) : store;
    this.#o = {
      maxAttempts: SETTING_DEFAULTS.post_api_max_attempts,
      maxAgeMs: SETTING_DEFAULTS.post_api_max_age_hours * HOUR_MS,
      backoffBaseMs: SETTING_DEFAULTS.post_api_backoff_base_ms,
      backoffMaxMs: SETTING_DEFAULTS.post_api_backoff_max_ms,
      timeoutMs: DEFAULT_POST_API_TIMEOUT_MS,
      order: SETTING_DEFAULTS.post_api_order,
      holdMs: DEFAULT_POST_API_HOLD_MS,
      rejectedMaxAttempts: DEFAULT_POST_API_REJECTED_MAX_ATTEMPTS,
      maxResponseBytes: 1024 * 1024,
      concurrency: DEFAULT_POST_API_CONCURRENCY,
      readBatch: 64,
      pendingMemoryMaxRows: DEFAULT_PENDING_MEMORY_MAX_ROWS,
      userAgent: 'openwx',
      ...opts,
    };
    this.#o.concurrency = Math.max(1, Math.floor(this.#o.concurrency));
    this.#clock = opts.clock ?? systemClock;
    const target = postTarget(this.#o.url);
    this.#url = target.url;
    this.#authorization = target.authorization;
    const origin = new URL(target.url).origin;
    // One connection, so the receiver gets the reports in the order they were sent. A Client, not an Agent: undici's
    // Agent replaces its client after a disconnect (a timeout) while the old one still finishes its queue, so two
    // connections would carry reports at once and the receiver could get them out of order.
    this.#client = new Client(origin, { keepAliveTimeout: 10_000, pipelining: this.#o.concurrency });
    // Out-of-line retries never wait behind (or stall) the in-order pipeline.
    this.#side = new Client(origin, { keepAliveTimeout: 10_000, pipelining: 1 });
  }

  /** Pending rows held in memory (the window; with more pending than `pendingMemoryMaxRows` the store holds the rest). */
  get depth(): number {
    return this.#queue.length;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#stopHub = new AbortHub(this.#abort.signal);
    this.#loop = this.#run();
  }

  /** Tells the worker rows were stored that it was not handed (a replay): it reads the store again. */
  wake(): void {
    this.#more = true;
    this.#moreGen++;
    this.#signal();
  }

  /**
   * A row the store just committed (in `seq` order per account): kept in memory, unless the window is full or
   * rows before it still wait in the store; then it is read from the store in its turn.
   */
  accept(row: OutboxRow): void {
    if (row.seq <= this.#readSeq) return;
    if (!this.#more && this.#queue.length < this.#windowRows()) {
      this.#queue.push({ row, state: 'waiting', res: null, failedAt: null, cls: null, passed: false, side: false, counted: row.attempts > 0 });
      this.#readSeq = row.seq;
    } else {
      // Read from the store in its turn; its first attempt, counted by its insert, is not counted again then.
      if (row.attempts > 0) this.#countedAhead.add(row.seq);
      this.#more = true;
      this.#moreGen++;
    }
    this.#signal();
  }

  /**
   * Whether a row handed over now (`accept`) would be sent at once: nothing of this account is pending, waiting or
   * failing. The reporter then has the row's first attempt counted by the insert that stores it
   * (`NewReport.started`), which spares the worker a write (and a transaction) before it sends the row. Only a
   * crash between that commit and the request makes the next start send it as attempt 2.
   */
  startsAtOnce(): boolean {
    return this.#running && !this.#more && this.#queue.length === 0;
  }

  #windowRows(): number {
    return Math.max(this.#o.pendingMemoryMaxRows, 2 * this.#o.concurrency);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#abort.abort();
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#signal();
    await this.#loop;
    await Promise.all([this.#client.close(), this.#side.close()]);
    await this.#writes.settled();
  }

  #signal(): void {
    const w = this.#wake;
    if (!w) {
      this.#signalled = true; // during a pass (it awaits the store): the next sleep returns at once
      return;
    }
    this.#wake = null;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    w();
  }

  /** The end of a sleep's timeout (one function for every sleep: a pass allocates no timer callback). */
  readonly #timedOut = (): void => {
    this.#timer = null;
    const w = this.#wake;
    this.#wake = null;
    w?.();
  };

  /** Null when a signal came during the pass: no sleep then. A signal or the timeout (`ms`; null: none) ends it. */
  #sleep(ms: number | null): Promise<void> | null {
    if (this.#signalled) {
      this.#signalled = false;
      return null;
    }
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      if (ms !== null) this.#timer = this.#clock.setTimeout(this.#timedOut, ms);
    });
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let wait: number | null;
      try {
        wait = await this.#step();
      } catch (err) {
        if (!this.#running) break;
        // The database (disk full, locked) or a listener failed: never let the loop die silently.
        this.#o.logger?.error({ err }, 'post_api delivery loop error; retrying');
        wait = this.#o.backoffBaseMs;
      }
      const sleep = this.#sleep(wait);
      if (sleep) await sleep;
    }
  }

  /** One pass: acts on the answers at the front, reads new rows, sends what may go; returns how long to sleep (null: until signalled). */
  async #step(): Promise<number | null> {
    this.#drain();
    if (this.#more) await this.#fill();
    if (!this.#running) return null;
    if (this.#queue.length === 0) {
      this.#limit = 1;
      this.emit('idle');
      return null;
    }
    const now = this.#clock.now();
    let wakeAt = Infinity;
    const main: Entry[] = [];
    let side: Entry | null = null;
    let inflight = this.#inflight;
    for (const e of this.#queue) {
      if (e.state === 'ok') continue;
      if (this.#onItsOwn(e)) {
        // Failed on its own (refused, no answer): retried over the side connection; the line waits for it only
        // until its hold ends.
        if (!e.passed && now - e.failedAt! >= this.#o.holdMs) {
          e.passed = true;
          this.#o.logger?.info({ eventId: e.row.eventId, attempts: e.row.attempts, heldMs: now - e.failedAt! }, 'post_api report passed: the reports behind it go on');
        }
        if (e.state === 'waiting') {
          if (e.row.nextAt > now) wakeAt = Math.min(wakeAt, e.row.nextAt);
          else if (!this.#sideBusy && !side) side = e;
        }
        if (e.passed) continue;
        wakeAt = Math.min(wakeAt, e.failedAt! + this.#o.holdMs);
        break;
      }
      if (e.state !== 'waiting') continue;
      // Nothing is sent past a report waiting for its retry.
      if (e.row.nextAt > now) {
        wakeAt = Math.min(wakeAt, e.row.nextAt);
        break;
      }
      if (inflight >= this.#limit) break;
      main.push(e);
      inflight++;
    }
    if (side) main.push(side);
    if (main.length > 0) {
      // Counted before they are sent: X-Openwx-Attempt keeps counting after a crash mid-attempt. A first attempt the
      // row's insert counted already (the usual case: a report sent as soon as it is committed) is sent at once.
      let uncounted: number[] | null = null;
      for (const e of main) if (!e.counted) (uncounted ??= []).push(e.row.seq);
      if (uncounted && !(await this.#count(main, side, uncounted))) return null; // stopping: the rows stay in the outbox for the next start
      for (const e of main) {
        if (e.counted) e.counted = false;
        else e.row.attempts++;
        this.#launch(e, e === side);
      }
    }
    // Capped: a clock set backwards must not park a report for longer than one backoff step.
    return wakeAt === Infinity ? null : Math.min(Math.max(0, wakeAt - now), this.#o.backoffMaxMs);
  }

  /** Counts the attempts of `seqs` (of `launch`, held reserved meanwhile); false: the worker is stopping. */
  async #count(launch: readonly Entry[], side: Entry | null, seqs: readonly number[]): Promise<boolean> {
    // Reserved while their attempts are counted (an answer settling meanwhile must not pick them).
    for (const e of launch) {
      e.state = 'inflight';
      if (e === side) this.#sideBusy = true;
      else this.#inflight++;
    }
    try {
      await this.#store.markStarted(seqs);
    } finally {
      for (const e of launch) {
        e.state = 'waiting';
        if (e === side) this.#sideBusy = false;
        else this.#inflight--;
      }
    }
    return this.#running;
  }

  /** Bounded order: a report whose last failure was its own (refused, no answer) is retried apart from the line. */
  #onItsOwn(e: Entry): boolean {
    return e.passed || (this.#o.order === 'bounded' && e.failedAt !== null && e.cls !== null && isReportFailure(e.cls));
  }

  /**
   * Delivered rows: deleted in one transaction, then `delivered` in order. Only the front of the window is acted
   * on (answers follow the outbox order), except that passed reports do not hold back the ones behind them.
   */
  #drain(): void {
    const done: Entry[] = [];
    for (const e of this.#queue) {
      if (e.state === 'ok') done.push(e);
      else if (!e.passed) break;
    }
    if (done.length === 0) return;
    // Written behind: a crash before it commits means these are delivered again (at least once; replies are
    // claimed once per event id).
    this.#behind(this.#store.markDelivered(done.map((e) => e.row.seq)), 'could not delete delivered reports');
    // A front run (the usual case) is spliced off; passed reports leave gaps, filtered out.
    if (this.#queue[done.length - 1] === done[done.length - 1]) this.#queue.splice(0, done.length);
    else {
      const gone = new Set(done);
      this.#queue = this.#queue.filter((e) => !gone.has(e));
    }
    for (const e of done) {
      if (!e.passed) this.#limit = Math.min(this.#o.concurrency, this.#limit * 2);
      // A throwing listener must neither turn a delivered report into a failed one nor stop the loop.
      this.#emitSafely('delivered', e.row, e.res!);
    }
  }

  /** Tops the window up from the store when rows wait there (one query for up to `readBatch` rows). */
  async #fill(): Promise<void> {
    if (!this.#more) return;
    const room = Math.min(this.#o.readBatch, this.#windowRows() - this.#queue.length);
    if (room <= 0) return;
    const gen = this.#moreGen;
    const rows = await this.#store.pendingReports(this.#readSeq, room);
    for (const row of rows) {
      if (row.seq <= this.#readSeq) continue;
      this.#queue.push({ row, state: 'waiting', res: null, failedAt: null, cls: null, passed: false, side: false, counted: this.#countedAhead.delete(row.seq) });
      this.#readSeq = row.seq;
    }
    // A short read saw every row stored so far, unless a row was accepted past the window meanwhile.
    this.#more = rows.length === room || gen !== this.#moreGen;
  }

  /** Tracks a write behind (stop() waits for it); a failure is logged, the loop goes on. */
  #behind(write: Promise<void>, what: string): void {
    void this.#writes.track(write.catch((err: unknown) => this.#o.logger?.error({ err }, `post_api delivery: ${what}`)));
  }

  #launch(e: Entry, side: boolean): void {
    e.state = 'inflight';
    e.side = side;
    if (side) this.#sideBusy = true;
    else this.#inflight++;
    this.#post(e.row, side).then(
      (res) => this.#settle(e, res, null),
      (err: unknown) => this.#settle(e, null, err),
    );
  }

  #settle(e: Entry, res: DeliveredResponse | null, err: unknown): void {
    const side = e.side;
    if (side) this.#sideBusy = false;
    else this.#inflight--;
    e.side = false;
    e.state = 'waiting';
    if (!this.#running) return; // stopping: the row stays in the outbox for the next start
    try {
      if (res && res.status >= 200 && res.status < 300) {
        e.state = 'ok';
        e.res = res;
      } else if (res) {
        this.#failed(e, classifyStatus(res.status), `HTTP ${res.status}`, side, res.retryAfterMs ?? null);
      } else {
        this.#failed(e, classifyError(err), (err as Error)?.message || String(err), side, null);
      }
    } catch (dbErr) {
      // Recording the failure failed (database): retry the row later, from memory.
      if (!side) this.#limit = 1;
      e.row.nextAt = this.#clock.now() + this.#o.backoffBaseMs;
      this.#o.logger?.error({ err: dbErr }, 'post_api delivery: could not record an attempt; retrying');
    }
    this.#signal();
  }

  #failed(e: Entry, cls: FailureClass, error: string, side: boolean, retryAfterMs: number | null): void {
    const row = e.row;
    const before = { ...row };
    const attempts = row.attempts; // counted when it started
    const rejections = row.rejections + (cls === 'rejected' ? 1 : 0);
    const now = this.#clock.now();
    if (!side) this.#limit = 1;
    if (
      attempts >= this.#o.maxAttempts ||
      now - row.createdAt >= this.#o.maxAgeMs ||
      (cls === 'rejected' && rejections >= this.#o.rejectedMaxAttempts)
    ) {
      this.#queue.splice(this.#queue.indexOf(e), 1);
      this.#o.logger?.warn({ eventId: row.eventId, attempts, failure: cls, error }, 'post_api report moved to dead letters');
      // `dead` once the row is in the dead letters (a listener may look there).
      const moved = this.#store.markDead(row.seq, error, now).then(() => this.#emitSafely('dead', before, error));
      this.#behind(moved, 'could not move a report to the dead letters');
      return;
    }
    const exp = Math.min(this.#o.backoffMaxMs, this.#o.backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
    let wait = Math.round(exp / 2 + Math.random() * (exp / 2));
    // "Later": the receiver's Retry-After is honoured, up to the longest backoff step.
    if (cls === 'busy' && retryAfterMs !== null) wait = Math.max(wait, Math.min(retryAfterMs, this.#o.backoffMaxMs));
    const nextAt = now + wait;
    this.#behind(this.#store.markFailed(row.seq, error, nextAt, cls === 'rejected'), 'could not record a failed attempt');
    row.rejections = rejections;
    row.nextAt = nextAt;
    row.lastError = error.slice(0, 1000);
    e.cls = cls;
    e.failedAt ??= now;
    this.#o.logger?.info({ eventId: row.eventId, attempts, failure: cls, error, retryInMs: wait }, 'post_api delivery failed');
    this.#emitSafely('failed', before, error, nextAt);
  }

  #emitSafely<E extends 'delivered' | 'failed' | 'dead'>(event: E, ...args: DeliveryWorkerEvents[E]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.#o.logger?.warn({ err, event }, 'post_api delivery listener failed');
    }
  }

  #post(row: OutboxRow, side: boolean): Promise<DeliveredResponse> {
    const input = {
      account: row.account, eventId: row.eventId, attempt: row.attempts, userAgent: this.#o.userAgent, secret: this.#o.secret,
      authorization: this.#authorization, headers: this.#o.headers, body: row.body, media: row.media, logger: this.#o.logger, clock: this.#clock,
    };
    // A retry on its own: nothing to keep in line with.
    if (side) return reportRequest(input).then((req) => this.#send(req, true));
    // Requests reach undici in launch order. A report without media is handed over at once, unless a media report's
    // request is still being prepared (file checks, the signature pass over the file): then it waits its turn.
    if (!row.media && this.#preparing === 0) return this.#send({ headers: reportHeaders(input), body: row.body }, false);
    this.#preparing++;
    const turn = this.#dispatched.then(async () => {
      try {
        return { answer: this.#send(await reportRequest(input), false) }; // wrapped: the next turn waits for the dispatch only
      } finally {
        this.#preparing--;
      }
    });
    this.#dispatched = turn.catch(() => undefined);
    return turn.then(({ answer }) => answer);
  }

  /** Hands the request to undici (synchronously, in call order) and reads the answer, under one deadline. */
  #send(req: ReportRequest, side: boolean): Promise<DeliveredResponse> {
    return sendAttempt(req, {
      url: this.#url,
      dispatcher: side ? this.#side : this.#client,
      timeoutMs: this.#o.timeoutMs,
      maxResponseBytes: this.#o.maxResponseBytes,
      stop: this.#stopHub,
      pipelined: !side,
      clock: this.#clock,
    });
  }
}
