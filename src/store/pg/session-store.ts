/**
 * The cluster's session store: an account's session (cookies, keys, SyncKey, host family, uin) and its stable-id
 * table in PostgreSQL (`openwx_sessions`), with the file store's interface (src/store/session-store.ts), so the
 * Account uses either unchanged. A new owner therefore resumes the session without a scan and keeps the ids.
 *
 * - `PgSessionStore.preload()` reads the row before the account starts; `load()`/`loadStableIds()` then answer from
 *   it synchronously, as the file store does.
 * - Saves are asynchronous and coalesced like the file store's: at most one write in flight per kind (session,
 *   stable ids); saves made meanwhile replace the value waiting, written once after.
 * - Every write is FENCED: it lands only while the account's row still carries this owner's `worker` and `epoch`
 *   and an unexpired lease (`FOR SHARE` on that row, so a concurrent takeover is waited for and then seen). A
 *   refused write rejects with OWX_ERR_LEASE_LOST and calls `onFenced`: the owner stops the account.
 */
import type pg from 'pg';
import { owxError } from '../../errors.ts';
import type { Fence } from '../../cluster/lease.ts';
import { SESSION_FILE_VERSION, type SessionFile } from '../session-store.ts';
import { Coalesced } from './coalesce.ts';

export interface StoredSession {
  session: SessionFile['session'];
  lastUin: string;
  stableIds: unknown;
  savedAt: number;
}

export interface PgSessionStoreOptions {
  pool: pg.Pool;
  fence: Fence;
  /** The row as read before the account started (preload), or null. */
  initial: StoredSession | null;
  /** A write was refused: this controller no longer holds the account. */
  onFenced?: ((why: string) => void) | undefined;
}

/** The row's owner condition, as a FROM … WHERE that yields the row only for the current holder. */
const HOLDER = `FROM openwx_accounts a WHERE a.client = $1 AND a.epoch = $2 AND a.worker = $3 AND a.lease_until > now() FOR SHARE`;

export class PgSessionStore {
  readonly account: string;
  readonly #o: PgSessionStoreOptions;
  #current: StoredSession | null;
  readonly #session: Coalesced<string>;
  readonly #stable: Coalesced<string>;

  constructor(o: PgSessionStoreOptions) {
    this.#o = o;
    this.account = o.fence.client;
    this.#current = o.initial;
    const f = o.fence;
    this.#session = new Coalesced<string>(async (json) => {
      const r = await o.pool.query(
        `INSERT INTO openwx_sessions (client, epoch, session, last_uin, saved_at)
         SELECT a.client, a.epoch, ($4::jsonb)->'session', ($4::jsonb)->>'lastUin', now() ${HOLDER}
         ON CONFLICT (client) DO UPDATE SET epoch = EXCLUDED.epoch, session = EXCLUDED.session, last_uin = EXCLUDED.last_uin, saved_at = now()`,
        [f.client, f.epoch, f.workerId, json],
      );
      if (r.rowCount === 0) this.#refused('session save');
    });
    this.#stable = new Coalesced<string>(async (json) => {
      const r = await o.pool.query(
        `INSERT INTO openwx_sessions (client, epoch, stable_ids, saved_at)
         SELECT a.client, a.epoch, $4::jsonb, now() ${HOLDER}
         ON CONFLICT (client) DO UPDATE SET epoch = EXCLUDED.epoch, stable_ids = EXCLUDED.stable_ids, saved_at = now()`,
        [f.client, f.epoch, f.workerId, json],
      );
      if (r.rowCount === 0) this.#refused('stable-id save');
    });
  }

  /** The stored row of `client` (any epoch), or null. */
  static async preload(q: pg.Pool | pg.PoolClient, client: string): Promise<StoredSession | null> {
    const r = await q.query<{ session: SessionFile['session']; last_uin: string; stable_ids: unknown; saved_at: Date }>(
      'SELECT session, last_uin, stable_ids, saved_at FROM openwx_sessions WHERE client = $1',
      [client],
    );
    const row = r.rows[0];
    if (!row) return null;
    return { session: row.session ?? null, lastUin: row.last_uin ?? '', stableIds: row.stable_ids ?? undefined, savedAt: row.saved_at.getTime() };
  }

  #refused(what: string): never {
    const why = `${what} refused by PostgreSQL: epoch ${this.#o.fence.epoch} is no longer the account's`;
    this.#o.onFenced?.(why);
    throw owxError('OWX_ERR_LEASE_LOST', [what]);
  }

  load(): SessionFile | null {
    const c = this.#current;
    if (!c || (c.session === null && !c.lastUin)) return null;
    return { version: SESSION_FILE_VERSION, account: this.account, savedAt: c.savedAt, session: c.session, lastUin: c.lastUin };
  }

  loadStableIds(): unknown {
    return this.#current?.stableIds ?? undefined;
  }

  /** Resolves once this state (or a newer one) is stored; rejects when the write failed or was fenced off. */
  save(f: Omit<SessionFile, 'version' | 'account' | 'savedAt'>): Promise<void> {
    this.#current = { session: f.session, lastUin: f.lastUin, stableIds: this.#current?.stableIds, savedAt: Date.now() };
    return this.#session.push(JSON.stringify({ session: f.session, lastUin: f.lastUin }));
  }

  saveStableIds(state: unknown): Promise<void> {
    return this.#stable.push(JSON.stringify(state));
  }

  /** Completed writes (both kinds). */
  get writesDone(): number {
    return this.#session.writesDone + this.#stable.writesDone;
  }
}
