/**
 * What the API keeps in the data folder's database (`<dataDir>/openwx.db`, 0600, WAL): the durable post_api
 * outbox (`OutboxDelivery`, the default sink whenever there is a data folder) and the message history, with its
 * owned purge timer. Both go through the host's storage (src/store/storage.ts: one asynchronous interface, every
 * account's writes of one event-loop turn in one transaction). Without a data folder openwx falls back to the
 * in-memory sink and keeps no history.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../client/clock.ts';
import { OutboxDelivery } from '../delivery/outbox-delivery.ts';
import { openDatabase, type DB } from '../store/db.ts';
import { MessageHistory } from '../store/history.ts';
import { SqliteStorage } from '../store/sqlite-storage.ts';
import type { AccountStorage, Storage } from '../store/storage.ts';
import { MemoryDelivery } from '../delivery/memory-delivery.ts';
import type { Delivery } from '../delivery/sink.ts';
import type { ResolvedOptions } from './options.ts';

export const DATABASE_FILE = 'openwx.db';
const DAY_MS = 86_400_000;

export interface DurableStore {
  db: DB | null;
  delivery: Delivery | null;
  /** The durable sink when there is one (dead letters, replay). */
  outbox: OutboxDelivery | null;
  /**
   * Synchronous reads of the history (routes/send.ts revoke_message, OneBot): SQLite only; new code should use
   * `storage.message` (asynchronous, on any storage).
   */
  history: MessageHistory | null;
  /** The account's handle of the host storage (history + outbox); null without a database. */
  storage: AccountStorage | null;
  /** Whether messages are recorded in the history (`historyRetentionDays` > 0). */
  keepsHistory: boolean;
  close(): Promise<void>;
}

export interface DurableOptions {
  account: string;
  options: ResolvedOptions;
  logger: Logger;
  /** A sink given by the host replaces the default one. */
  delivery?: Delivery | undefined;
  /** The purge timer and the sinks' timers and timestamps; default the system clock. */
  clock?: Clock | undefined;
  /**
   * The host's shared database (rows keyed by account): used instead of opening `<dataDir>/openwx.db`, and left
   * open on close (the host closes it). `null`: no database (in-memory sink, no history).
   */
  db?: DB | null | undefined;
  /** The host's storage over `db` (one per host: it batches every account's writes); default one of this store. */
  storage?: Storage | null | undefined;
}

export function openDurableStore(o: DurableOptions): DurableStore {
  const { options, account } = o;
  const log = o.logger.child({ module: 'post_api' });
  const clock = o.clock ?? systemClock;
  const ownDb = o.db === undefined;
  const db = o.db !== undefined ? o.db : options.dataDir ? openDatabase(join(options.dataDir, DATABASE_FILE)) : null;
  const ownStorage = db !== null && !o.storage;
  const hostStorage: Storage | null = db ? (o.storage ?? new SqliteStorage(db)) : null;
  const storage = hostStorage?.forAccount(account) ?? null;
  let outbox: OutboxDelivery | null = null;
  let delivery: Delivery | null = o.delivery ?? null;
  if (!delivery && options.postApi) {
    if (storage) {
      outbox = new OutboxDelivery(storage, {
        account,
        url: options.postApi,
        secret: options.postApiSecret,
        maxAttempts: options.postMaxAttempts,
        maxAgeMs: options.postMaxAgeMs,
        backoffBaseMs: options.postBackoffBaseMs,
        backoffMaxMs: options.postBackoffMaxMs,
        timeoutMs: options.postTimeoutMs,
        concurrency: options.postConcurrency,
        order: options.postOrder,
        holdMs: options.postHoldMs,
        rejectedMaxAttempts: options.postRejectedMaxAttempts,
        userAgent: `openwx/${options.version}`,
        logger: log,
        clock,
      });
      delivery = outbox;
    } else {
      delivery = new MemoryDelivery({
        url: options.postApi,
        account,
        timeoutMs: options.postTimeoutMs,
        attempts: options.postAttempts,
        maxQueue: options.postQueueMax,
        userAgent: `openwx/${options.version}`,
        ...(options.postApiSecret ? { secret: options.postApiSecret } : {}),
        logger: log,
        clock,
      });
    }
  }
  const keepsHistory = !!storage && options.historyRetentionDays > 0;
  const history = db && keepsHistory ? new MessageHistory(db, account) : null;
  let timer: unknown = null;
  if (storage && (keepsHistory || outbox)) {
    const retentionMs = options.historyRetentionDays * DAY_MS;
    // The acted-on answers (a report coming again never replies twice) are kept as long as the history, and at
    // least as long as a report may be retried.
    const answeredMs = Math.max(retentionMs, options.postMaxAgeMs);
    const purge = () => {
      if (keepsHistory) {
        storage.purgeMessages(Math.floor((clock.now() - retentionMs) / 1000)).then(
          (n) => {
            if (n > 0) o.logger.debug({ module: 'history', purged: n }, 'old messages purged from the history');
          },
          (err: unknown) => o.logger.warn({ module: 'history', err }, 'history purge failed'),
        );
      }
      outbox?.purgeAnswered(answeredMs).catch((err: unknown) => o.logger.warn({ module: 'post_api', err }, 'purge of acted-on answers failed'));
    };
    // Every historyPurgeIntervalMs, re-armed after each run (the clock has one-shot timers); it never keeps the
    // process alive.
    const schedule = () => {
      timer = clock.setTimeout(() => {
        purge();
        if (timer !== null) schedule();
      }, options.historyPurgeIntervalMs);
      (timer as { unref?: () => void } | null)?.unref?.();
    };
    purge();
    schedule();
  }
  let closed: Promise<void> | null = null;
  return {
    db,
    delivery,
    outbox,
    history,
    storage,
    keepsHistory,
    close() {
      closed ??= (async () => {
        if (timer !== null) clock.clearTimeout(timer);
        timer = null;
        await delivery?.close();
        if (ownStorage) await hostStorage?.close();
        if (ownDb) db?.close();
      })();
      return closed;
    },
  };
}
