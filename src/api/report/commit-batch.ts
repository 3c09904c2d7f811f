/**
 * Commit batching: the reporter's one ordered chain of reports, and the commit of what they store.
 *
 * - Every report is a step appended to one promise chain (building its JSON, checking its media file), so reports
 *   reach the sink and the check_event queue in event order: per-account order is kept.
 * - A step stages the storing part of its report (`StagedReport`: history record + outbox row, one `ReportJob` of
 *   the host's storage, src/store/storage.ts). The storage commits every job called during one turn of the event
 *   loop, of every account of the host, in ONE transaction, in call order; each job is atomic and fails alone (that
 *   report is dropped with its warning, the others are kept). A report is handed to the sink only once committed.
 * - What follows a commit (`done`: the row to the delivery worker, the check_event queue, counters) runs in staging
 *   order, also for reports with nothing to store.
 * - `commitPending` is the client's durability barrier (WxClient.addDurabilityBarrier): it resolves once the report
 *   of every event emitted before the call is committed, or dropped with its warning. The sync loop awaits it before
 *   it acknowledges a webwxsync answer to WeChat, so a kill -9 cannot lose a message WeChat was told we received.
 *
 * The batch boundary is the storage's (a turn of the event loop for SQLite), not a time: it takes no clock.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../client/clock.ts';
import type { AccountStorage, OutboxRow, ReportJob, ReportOutcome } from '../../store/storage.ts';

/** The storing part of one report. */
export interface StagedReport {
  /** What to store; null: nothing (no history, or a sink that is not the storage's). */
  job: ReportJob | null;
  /**
   * Runs once the job is committed, in staging order. `duplicate`: the message was in the history already (nothing
   * was stored); `row`: the report's outbox row, when the job had one.
   */
  done: (duplicate: boolean, row: OutboxRow | null) => void;
}

export interface CommitBatchOptions {
  logger: Logger;
  /** The account's storage (history + outbox); null: nothing is stored, `done` runs at once. */
  storage?: AccountStorage | null | undefined;
}

export class CommitBatch {
  readonly #log: Logger;
  readonly #storage: AccountStorage | null;
  #chain: Promise<void> = Promise.resolve();
  /** Settles after the `done` of the last staged report ran (never rejects). */
  #tail: Promise<void> = Promise.resolve();
  /** Staged reports whose `done` has not run yet. */
  #pending = 0;

  constructor(o: CommitBatchOptions) {
    this.#log = o.logger;
    this.#storage = o.storage ?? null;
  }

  /** Appends one report's step to the chain; a step that throws drops that report with `dropped` as the warning. */
  append(kind: string, step: () => Promise<void>, dropped: string): void {
    this.#chain = this.#chain.then(step).catch((err: unknown) => this.#log.warn({ err, kind }, dropped));
  }

  /** Hands the storing part of one report to the storage (committed with the rest of this turn's calls). */
  stage(kind: string, s: StagedReport): void {
    const committed = s.job && this.#storage ? this.#storage.commitReports([s.job]) : null;
    if (!committed && this.#pending === 0) {
      this.#done(kind, s, { ok: true, duplicate: false, row: null });
      return;
    }
    this.#pending++;
    this.#tail = this.#tail
      .then(() => committed)
      .then(
        (outs) => {
          this.#pending--;
          this.#done(kind, s, outs?.[0] ?? { ok: true, duplicate: false, row: null });
        },
        (err: unknown) => {
          this.#pending--;
          this.#done(kind, s, { ok: false, error: err instanceof Error ? err : new Error(String(err)) });
        },
      );
  }

  /** The durability barrier: every report appended before the call is committed (or dropped) when it resolves. */
  async commitPending(): Promise<void> {
    await this.#chain;
    await this.#tail;
  }

  /** Waits for the chain (at most `timeoutMs`) and then for the commits in flight. */
  async settle(timeoutMs: number, clock: Clock): Promise<void> {
    let timer: unknown;
    try {
      await Promise.race([this.#chain, new Promise<void>((r) => (timer = clock.setTimeout(r, timeoutMs)))]);
    } finally {
      clock.clearTimeout(timer);
    }
    await this.#tail;
  }

  #done(kind: string, s: StagedReport, out: ReportOutcome): void {
    if (!out.ok) {
      this.#log.warn({ err: out.error, kind }, 'report dropped: could not store it');
      return;
    }
    try {
      s.done(out.duplicate, out.row);
    } catch (err) {
      this.#log.warn({ err }, 'report bookkeeping failed');
    }
  }
}
