/**
 * Message history: every received and sent message of an account, kept for a configurable time. revoke_message
 * looks sent messages up here (ToUserName and the LocalID/ClientMsgId), the post_api reporter recognises messages
 * WeChat delivers again after a restart, and the self-reply guard (which sent messages are post_api replies)
 * survives restarts because it lives in SQLite rather than in memory.
 */
import type { DB } from './db.ts';

export interface StoredMessage {
  /** WeChat's MsgID (the part before `:` of a sent message's Openwx id). */
  msgId: string;
  /** The chat: the group, else the friend (the receiver of a sent message, the sender of a received one). */
  peer: string;
  localId: string | null;
  class: 'send' | 'recv';
  /** Unix seconds, like WeChat's CreateTime. */
  time: number;
  /** The post JSON of the message (without media_data). */
  body: unknown;
  /**
   * `body` as JSON text, when the writer has it already (the reporter: the report's outbox body is the same text):
   * stored as is, instead of a second JSON.stringify. Must be `JSON.stringify(body)`. Never set on a record read back.
   */
  bodyJson?: string | undefined;
  /** For a post_api reply: the id of the message it answered. */
  replyTo?: string | null;
}

export interface SentNote {
  msgId: string;
  peer: string;
  localId?: string | null | undefined;
  replyTo?: string | null | undefined;
  time?: number;
}

export class MessageHistory {
  readonly #stmts;
  readonly #account: string;

  constructor(db: DB, account: string) {
    this.#account = account;
    this.#stmts = {
      put: db.prepare(
        `INSERT INTO messages (account, msg_id, peer, local_id, class, time, body, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(account, msg_id) DO UPDATE SET peer = excluded.peer, local_id = coalesce(excluded.local_id, local_id),
           class = excluded.class, time = excluded.time, body = excluded.body, reply_to = coalesce(excluded.reply_to, reply_to)`,
      ),
      // Records a message unless one with this MsgID is already there (changes = 0 then).
      putNew: db.prepare(
        `INSERT INTO messages (account, msg_id, peer, local_id, class, time, body, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(account, msg_id) DO NOTHING`,
      ),
      // What the sender learns from the send answer (LocalID, reply origin); keeps a body recorded earlier.
      note: db.prepare(
        `INSERT INTO messages (account, msg_id, peer, local_id, class, time, body, reply_to) VALUES (?, ?, ?, ?, 'send', ?, '{}', ?)
         ON CONFLICT(account, msg_id) DO UPDATE SET local_id = coalesce(excluded.local_id, local_id),
           reply_to = coalesce(excluded.reply_to, reply_to)`,
      ),
      get: db.prepare('SELECT * FROM messages WHERE account = ? AND msg_id = ?'),
      has: db.prepare('SELECT 1 FROM messages WHERE account = ? AND msg_id = ?'),
      recent: db.prepare('SELECT * FROM messages WHERE account = ? ORDER BY time DESC, rowid DESC LIMIT ?'),
      purge: db.prepare('DELETE FROM messages WHERE account = ? AND time < ?'),
      count: db.prepare('SELECT count(*) AS n FROM messages WHERE account = ?'),
    };
  }

  put(m: StoredMessage): void {
    this.#stmts.put.run(this.#account, m.msgId, m.peer, m.localId, m.class, m.time, m.bodyJson ?? JSON.stringify(m.body), m.replyTo ?? null);
  }

  /** Records the message if its MsgID is new; false (and nothing changed) when it is already in the history. */
  putNew(m: StoredMessage): boolean {
    return (
      this.#stmts.putNew.run(this.#account, m.msgId, m.peer, m.localId, m.class, m.time, m.bodyJson ?? JSON.stringify(m.body), m.replyTo ?? null)
        .changes === 1
    );
  }

  /** Records what a send answered (LocalID) and, for a post_api reply, what it answered. */
  noteSent(n: SentNote): void {
    this.#stmts.note.run(this.#account, n.msgId, n.peer, n.localId ?? null, n.time ?? Math.floor(Date.now() / 1000), n.replyTo ?? null);
  }

  get(msgId: string): StoredMessage | undefined {
    const r = this.#stmts.get.get(this.#account, msgId) as RawRow | undefined;
    return r && toStored(r);
  }

  has(msgId: string): boolean {
    return this.#stmts.has.get(this.#account, msgId) !== undefined;
  }

  /** True when this sent message is a post_api reply. */
  isReply(msgId: string): boolean {
    return !!this.get(msgId)?.replyTo;
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
  reply_to: string | null;
}

const toStored = (r: RawRow): StoredMessage => ({
  msgId: r.msg_id,
  peer: r.peer,
  localId: r.local_id,
  class: r.class,
  time: r.time,
  body: JSON.parse(r.body) as unknown,
  replyTo: r.reply_to,
});
