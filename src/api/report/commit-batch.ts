/**
 * Commit batching: the reporter's one ordered chain of reports, and the batched commit of what they store.
 *
 * - Every report is a step appended to one promise chain (building its JSON, checking its media file), so reports
 *   reach the sink and the check_event queue in event order: per-account order is kept.
 * - A step stages the storing part of its report (history record + outbox insert: `StoreJob`). Every job staged
 *   during one turn of the event loop (one webwxsync answer's AddMsgList) is committed in ONE SQLite transaction at
 *   the next `setImmediate`, in staging order, before the delivery worker can read any of them: a report is POSTed
 *   only once committed. If the batch fails, each job is committed again in its own transaction, so only the bad
 *   one is dropped. Without a transaction (no database) the jobs run one by one.
 * - `commitPending` is the client's durability barrier (WxClient.addDurabilityBarrier): it resolves once the
 *   report of every event emitted before the call is committed, or dropped with its warning. The sync loop awaits it
 *   before it acknowledges a webwxsync answer to WeChat, so a kill -9 cannot lose a message WeChat was told we
 *   received. It commits what is staged at once instead of at the next setImmediate: still one transaction per sync
 *   answer.
 *
 * The batch boundary is a turn of the event loop (setImmediate), not a time: it takes no clock.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../client/clock.ts';

/** Stores one report (inside the commit's transaction); returns what to do once committed, or null for nothing. */
export type StoreJob = () => (() => void) | null;

export interface CommitBatchOptions {
  logger: Logger;
  /** Runs `fn` in one transaction, rolled back if it throws (only a real database transaction does). */
  transaction?: (<T>(fn: () => T) => T) | undefined;
}

export class CommitBatch {
  readonly #log: Logger;
  readonly #tx: (<T>(fn: () => T) => T) | undefined;
  #chain: Promise<void> = Promise.resolve();
  /** Jobs staged but not yet committed: committed together at the next setImmediate (`stage`). */
  #staged: { kind: string; store: StoreJob }[] = [];
  #committing: Promise<void> | null = null;

  constructor(o: CommitBatchOptions) {
    this.#log = o.logger;
    this.#tx = o.transaction;
  }

  /** Appends one report's step to the chain; a step that throws drops that report with `dropped` as the warning. */
  append(kind: string, step: () => Promise<void>, dropped: string): void {
    this.#chain = this.#chain.then(step).catch((err: unknown) => this.#log.warn({ err, kind }, dropped));
  }

  /** Queues the storing part of one report for the commit at the next setImmediate (or an earlier commitPending). */
  stage(kind: string, store: StoreJob): void {
    this.#staged.push({ kind, store });
    if (this.#committing) return;
    this.#committing = new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#committing = null;
        try {
          this.#commit();
        } finally {
          resolve();
        }
      }),
    );
  }

  /** The durability barrier: every report appended before the call is committed (or dropped) when it resolves. */
  async commitPending(): Promise<void> {
    await this.#chain;
    if (this.#staged.length > 0) this.#commit();
  }

  /** Waits for the chain (at most `timeoutMs`) and then for the commit in flight. */
  async settle(timeoutMs: number, clock: Clock): Promise<void> {
    let timer: unknown;
    try {
      await Promise.race([this.#chain, new Promise<void>((r) => (timer = clock.setTimeout(r, timeoutMs)))]);
    } finally {
      clock.clearTimeout(timer);
    }
    await this.#committing;
  }

  #commit(): void {
    const jobs = this.#staged;
    this.#staged = [];
    if (jobs.length === 0) return; // committed early by commitPending
    const tx = this.#tx;
    let after: ((() => void) | null)[] = [];
    const one = (job: (typeof jobs)[number], run: (f: StoreJob) => (() => void) | null) => {
      try {
        return run(job.store);
      } catch (err) {
        this.#log.warn({ err, kind: job.kind }, 'report dropped: could not store it');
        return null;
      }
    };
    if (!tx) {
      after = jobs.map((job) => one(job, (f) => f()));
    } else {
      try {
        tx(() => {
          for (const job of jobs) after.push(job.store());
        });
      } catch {
        // A report could not be stored and the whole batch rolled back: store them one by one, each in its own
        // transaction (its history record and outbox row together), so only the bad one is dropped.
        after = jobs.map((job) => one(job, tx));
      }
    }
    for (const a of after) {
      try {
        a?.();
      } catch (err) {
        this.#log.warn({ err }, 'report bookkeeping failed');
      }
    }
  }
}
