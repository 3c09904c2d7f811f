/**
 * The SQLite database of one openwx data folder: created 0600, WAL journal, schema migrations by user_version.
 * Used by the outbox (durable post_api delivery) and the message history.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type DB = Database.Database;

/** SQL, or a step that inspects the schema first. */
type Migration = string | ((db: DB) => void);

/** Adds a nullable column unless the table has it already. */
function addColumn(db: DB, table: string, column: string, type: string): void {
  const has = (db.pragma(`table_info(${table})`) as { name: string }[]).some((c) => c.name === column);
  if (!has) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}

/** Each entry migrates from version index to index+1. Append only; never edit a shipped migration. */
const MIGRATIONS: Migration[] = [
  `CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id TEXT NOT NULL UNIQUE,
     account TEXT NOT NULL,
     kind TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL,
     last_error TEXT
   );
   CREATE INDEX outbox_account_seq ON outbox(account, seq);
   CREATE TABLE dead_letters (
     seq INTEGER PRIMARY KEY,
     event_id TEXT NOT NULL UNIQUE,
     account TEXT NOT NULL,
     kind TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     last_error TEXT,
     died_at INTEGER NOT NULL
   );
   CREATE INDEX dead_letters_account ON dead_letters(account, seq);
   CREATE TABLE messages (
     account TEXT NOT NULL,
     msg_id TEXT NOT NULL,
     peer TEXT NOT NULL,
     local_id TEXT,
     class TEXT NOT NULL,
     time INTEGER NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (account, msg_id)
   );
   CREATE INDEX messages_time ON messages(account, time);`,
  // The message a sent message answered, when it is a post_api reply (the self-reply guard survives restarts).
  `ALTER TABLE messages ADD COLUMN reply_to TEXT;`,
  // A media report's file reference (JSON {path,size}): media_data is streamed from the file when the report is
  // POSTed, never stored (src/delivery/media-body.ts). Dead letters keep it for replays.
  (db) => {
    addColumn(db, 'outbox', 'media', 'TEXT');
    addColumn(db, 'dead_letters', 'media', 'TEXT');
  },
  // `attempts` now counts an attempt when it starts (X-Openwx-Attempt keeps counting after a crash); `rejections`
  // counts the answers that refused a report (a few retries, then a dead letter: src/delivery/failure.ts).
  // `answered`: the reports whose answer's reply/media openwx acted on: a report coming again (same event id)
  // never makes openwx reply twice, after a restart too.
  (db) => {
    addColumn(db, 'outbox', 'rejections', 'INTEGER NOT NULL DEFAULT 0');
    db.exec(`CREATE TABLE IF NOT EXISTS answered (
       account TEXT NOT NULL,
       event_id TEXT NOT NULL,
       at INTEGER NOT NULL,
       PRIMARY KEY (account, event_id)
     );
     CREATE INDEX IF NOT EXISTS answered_at ON answered(at);`);
  },
];

export function openDatabase(path: string): DB {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Create the files 0600 before SQLite does, so secrets in bodies are never world-readable.
    for (const p of [path, `${path}-wal`, `${path}-shm`]) {
      closeSync(openSync(p, 'a', 0o600));
      chmodSync(p, 0o600);
    }
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: DB): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      const m = MIGRATIONS[v]!;
      if (typeof m === 'string') db.exec(m);
      else m(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
