/**
 * OneBot 11 integer ids. OneBot 11 wants integers for users, groups and messages; WeChat has `@…` strings that change
 * at every QR login. Each person and group gets an integer derived from its stable key (openwx's `stable_id`), each
 * message one from its MsgID, persisted in the host's database (table `onebot_ids`, rows keyed by account) so it is
 * the same across restarts and relogins. Collision-checked: a number already taken by another key of the same account
 * and kind is derived again with a counter until free. The numbers are below 2^53 (they fit the 63 bits OneBot 11
 * implementations use, and JavaScript frameworks such as Koishi read them as JSON numbers without losing digits).
 * Without a database the map lives in memory (the same numbers, as they are derived, but a collision's
 * resolution is not remembered across restarts).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { DB } from '../store/db.ts';

export type IdKind = 'user' | 'group' | 'msg';

const SAFE_BITS = 53n;

/** The number a key is given (attempt 0), or after `attempt` collisions. Never 0. */
export function deriveId(account: string, kind: IdKind, key: string, attempt = 0): number {
  const h = createHash('sha256').update(`${account}\u0001${kind}\u0001${key}\u0001${attempt}`).digest();
  const n = h.readBigUInt64BE(0) & ((1n << SAFE_BITS) - 1n);
  return n === 0n ? 1 : Number(n);
}

function ensureTable(db: DB): void {
  db.exec(`CREATE TABLE IF NOT EXISTS onebot_ids (
    account TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, num INTEGER NOT NULL, created_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, kind, key), UNIQUE (account, kind, num))`);
}

type IdRow = [account: string, kind: IdKind, key: string, num: number, createdMs: number];

/**
 * The new id rows of every bot of a host, written in ONE transaction per turn of the event loop (at the next
 * setImmediate) instead of one commit per new message id, which cost OneBot 11 ~0.3 ms of the event loop per message
 * at 1,000 msg/s (docs/benchmarks.md, OneBot). Until its turn ends a new number lives in its IdMap's memory (which
 * checks collisions against it); a crash in between loses only numbers that are derived again the same way.
 */
export class IdWriter {
  readonly #db: DB;
  readonly #log: Logger | undefined;
  readonly #write: (rows: IdRow[]) => void;
  #rows: IdRow[] = [];
  #turn: NodeJS.Immediate | null = null;

  constructor(db: DB, log?: Logger) {
    ensureTable(db);
    this.#db = db;
    this.#log = log;
    const put = db.prepare('INSERT OR IGNORE INTO onebot_ids (account, kind, key, num, created_ms) VALUES (?, ?, ?, ?, ?)');
    this.#write = db.transaction((rows: IdRow[]) => {
      for (const r of rows) put.run(...r);
    });
  }

  /** Rows waiting for the end of the turn. */
  get pending(): number {
    return this.#rows.length;
  }

  add(row: IdRow): void {
    this.#rows.push(row);
    this.#turn ??= setImmediate(() => this.flush());
  }

  /** Writes what waits now (also at close). */
  flush(): void {
    if (this.#turn) clearImmediate(this.#turn);
    this.#turn = null;
    const rows = this.#rows;
    this.#rows = [];
    if (rows.length === 0 || !this.#db.open) return;
    try {
      this.#write(rows);
    } catch (err) {
      this.#log?.warn({ err, rows: rows.length }, 'onebot ids not saved (they are derived again the same way)');
    }
  }
}

export class IdMap {
  readonly #account: string;
  readonly #byKey = new Map<string, number>();
  readonly #byNum = new Map<string, string>();
  /** Cached entries at most (with a database the cache is only a cache; without one this bounds memory). */
  readonly #cacheMax: number;
  readonly #stmts: { get: import('better-sqlite3').Statement; rev: import('better-sqlite3').Statement; put: import('better-sqlite3').Statement } | null;
  readonly #writer: IdWriter | null;

  /**
   * `msgRetentionMs`: message ids older than this are dropped when the map opens (0 = kept for good). `writer`: new
   * rows are written by it, batched with other maps' (the writer must be on the same `db`); without one each new row
   * is inserted at once.
   */
  constructor(db: DB | null, account: string, cacheMax = 100_000, msgRetentionMs = 0, writer: IdWriter | null = null) {
    this.#account = account;
    this.#cacheMax = cacheMax;
    this.#writer = db ? writer : null;
    if (db) {
      ensureTable(db);
      // Message ids are kept as long as the message history keeps messages; people and groups for good.
      if (msgRetentionMs > 0) db.prepare("DELETE FROM onebot_ids WHERE account = ? AND kind = 'msg' AND created_ms < ?").run(account, Date.now() - msgRetentionMs);
      this.#stmts = {
        get: db.prepare('SELECT num FROM onebot_ids WHERE account = ? AND kind = ? AND key = ?'),
        rev: db.prepare('SELECT key FROM onebot_ids WHERE account = ? AND kind = ? AND num = ?'),
        put: db.prepare('INSERT OR IGNORE INTO onebot_ids (account, kind, key, num, created_ms) VALUES (?, ?, ?, ?, ?)'),
      };
    } else this.#stmts = null;
  }

  /** The integer of `key` (made and persisted on first use). */
  num(kind: IdKind, key: string): number {
    const mk = `${kind}\u0001${key}`;
    const cached = this.#byKey.get(mk);
    if (cached !== undefined) return cached;
    let n: number | undefined;
    if (this.#stmts) {
      const row = this.#stmts.get.get(this.#account, kind, key) as { num: number } | undefined;
      n = row?.num;
    }
    for (let attempt = 0; n === undefined; attempt++) {
      const c = deriveId(this.#account, kind, key, attempt);
      if (this.#taken(kind, c)) continue;
      if (this.#writer) this.#writer.add([this.#account, kind, key, c, Date.now()]);
      else if (this.#stmts && this.#stmts.put.run(this.#account, kind, key, c, Date.now()).changes === 0) continue;
      n = c;
    }
    this.#remember(kind, key, n);
    return n;
  }

  /** The key behind an integer, if it was ever given. */
  key(kind: IdKind, num: number): string | undefined {
    const k = this.#byNum.get(this.#numKey(kind, num));
    if (k !== undefined) return k;
    const row = this.#stmts?.rev.get(this.#account, kind, num) as { key: string } | undefined;
    if (row) this.#remember(kind, row.key, num);
    return row?.key;
  }

  #taken(kind: IdKind, n: number): boolean {
    if (this.#byNum.has(this.#numKey(kind, n))) return true;
    return !!this.#stmts?.rev.get(this.#account, kind, n);
  }

  #numKey(kind: IdKind, n: number): string {
    return `${kind}\u0001${n}`;
  }

  #remember(kind: IdKind, key: string, n: number): void {
    // The cache is only a cache when the database has every row: rows waiting in the writer must stay in memory.
    if (this.#byKey.size >= this.#cacheMax && this.#stmts && !this.#writer?.pending) {
      this.#byKey.clear();
      this.#byNum.clear();
    }
    this.#byKey.set(`${kind}\u0001${key}`, n);
    this.#byNum.set(this.#numKey(kind, n), key);
  }
}
