/**
 * Message history: every received and sent message of an account, kept for a configurable time. revoke_message
 * looks sent messages up here (it needs ToUserName and the LocalID/ClientMsgId), and reply context survives
 * restarts because it lives in SQLite rather than in memory.
 */
import type { DB } from './db.ts';

export interface StoredMessage {
  msgId: string;
  peer: string;
  localId: string | null;
  class: 'send' | 'recv';
  time: number;
  body: unknown;
}

export class MessageHistory {
  readonly #stmts;
  readonly #account: string;

  constructor(db: DB, account: string) {
    this.#account = account;
    this.#stmts = {
      put: db.prepare(
        `INSERT INTO messages (account, msg_id, peer, local_id, class, time, body) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(account, msg_id) DO UPDATE SET peer = excluded.peer, local_id = coalesce(excluded.local_id, local_id),
           class = excluded.class, time = excluded.time, body = excluded.body`,
      ),
      get: db.prepare('SELECT * FROM messages WHERE account = ? AND msg_id = ?'),
      recent: db.prepare('SELECT * FROM messages WHERE account = ? ORDER BY time DESC, rowid DESC LIMIT ?'),
      purge: db.prepare('DELETE FROM messages WHERE account = ? AND time < ?'),
      count: db.prepare('SELECT count(*) AS n FROM messages WHERE account = ?'),
    };
  }

  put(m: StoredMessage): void {
    this.#stmts.put.run(this.#account, m.msgId, m.peer, m.localId, m.class, m.time, JSON.stringify(m.body));
  }

  get(msgId: string): StoredMessage | undefined {
    const r = this.#stmts.get.get(this.#account, msgId) as RawRow | undefined;
    return r && toStored(r);
  }

  recent(limit = 50): StoredMessage[] {
    return (this.#stmts.recent.all(this.#account, limit) as RawRow[]).map(toStored);
  }

  /** Deletes messages older than `retentionMs`; returns how many. `time` is in seconds, like WeChat's CreateTime. */
  purge(retentionMs: number, nowMs = Date.now()): number {
    return this.#stmts.purge.run(this.#account, Math.floor((nowMs - retentionMs) / 1000)).changes;
  }

  count(): number {
    return (this.#stmts.count.get(this.#account) as { n: number }).n;
  }
}

interface RawRow {
  msg_id: string;
  peer: string;
  local_id: string | null;
  class: 'send' | 'recv';
  time: number;
  body: string;
}

const toStored = (r: RawRow): StoredMessage => ({
  msgId: r.msg_id,
  peer: r.peer,
  localId: r.local_id,
  class: r.class,
  time: r.time,
  body: JSON.parse(r.body) as unknown,
});
