/**
 * The Controller's list of accounts, kept in the host's shared database so a restarted controller starts the
 * accounts it had (each resumes its saved session: no scan). One row per account: its name, the per-account
 * settings it was started with (as given to start_client or in the settings file: re-read at each start against
 * the current defaults) and when it was added. stop_client removes the row.
 */
import type { DB } from '../store/db.ts';

export interface ListedAccount {
  name: string;
  settings: Record<string, string>;
  addedAt: number;
}

export class AccountList {
  readonly #db: DB;

  constructor(db: DB) {
    this.#db = db;
    db.exec(`CREATE TABLE IF NOT EXISTS controller_accounts (
      name TEXT PRIMARY KEY,
      settings TEXT NOT NULL,
      added_at INTEGER NOT NULL
    )`);
  }

  all(): ListedAccount[] {
    const rows = this.#db.prepare('SELECT name, settings, added_at FROM controller_accounts ORDER BY added_at, name').all() as {
      name: string;
      settings: string;
      added_at: number;
    }[];
    return rows.map((r) => ({ name: r.name, settings: JSON.parse(r.settings) as Record<string, string>, addedAt: r.added_at }));
  }

  put(name: string, settings: Record<string, string>, addedAt = Date.now()): void {
    this.#db
      .prepare('INSERT INTO controller_accounts (name, settings, added_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET settings = excluded.settings')
      .run(name, JSON.stringify(settings), addedAt);
  }

  remove(name: string): void {
    this.#db.prepare('DELETE FROM controller_accounts WHERE name = ?').run(name);
  }
}
