/**
 * The cluster's PostgreSQL schema: versioned, append-only migrations (never edit one that shipped; add the next),
 * applied on start by every controller. All of them run in ONE transaction that first takes a transaction-scoped
 * advisory lock (`pg_advisory_xact_lock`), so two controllers starting at once apply each migration exactly once:
 * the second waits for the first to commit, then finds nothing left to do. docs/cluster.md, "Schema".
 */
import type pg from 'pg';
import { inTransaction } from './db.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The advisory lock key of the migrator (any fixed 64-bit number; ours spells "openwx" in ASCII). */
export const MIGRATION_LOCK_KEY = '0x6f70656e7778';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'control plane: workers, accounts with leases, sessions, event log',
    sql: `
      CREATE TABLE openwx_workers (
        worker_id      text PRIMARY KEY,
        advertise_url  text NOT NULL,
        started        timestamptz NOT NULL DEFAULT now(),
        heartbeat      timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE openwx_accounts (
        client            text PRIMARY KEY,
        settings          jsonb NOT NULL DEFAULT '{}'::jsonb,
        worker            text,
        epoch             bigint NOT NULL DEFAULT 0,
        lease_until       timestamptz,
        state             text NOT NULL DEFAULT 'init',
        start_time        bigint NOT NULL DEFAULT 0,
        user_id           text,
        user_name         text,
        user_displayname  text,
        added_at          timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX openwx_accounts_worker ON openwx_accounts (worker);
      CREATE INDEX openwx_accounts_lease ON openwx_accounts (lease_until);
      CREATE TABLE openwx_sessions (
        client      text PRIMARY KEY REFERENCES openwx_accounts (client) ON DELETE CASCADE,
        epoch       bigint NOT NULL,
        session     jsonb,
        last_uin    text NOT NULL DEFAULT '',
        stable_ids  jsonb,
        saved_at    timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE openwx_events (
        id          bigserial PRIMARY KEY,
        client      text NOT NULL,
        event_id    text,
        report      jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX openwx_events_client_id ON openwx_events (client, id);
      CREATE INDEX openwx_events_created_at ON openwx_events (created_at);
    `,
  },
  {
    version: 2,
    name: 'epochs from one sequence: an account deleted and added again never reuses an epoch',
    sql: `CREATE SEQUENCE openwx_epoch_seq;`,
  },
  {
    version: 3,
    name: 'data plane: post_api outbox, dead letters, message history, acted-on answers (src/store/pg/pg-storage.ts)',
    // The SQLite tables of src/store/db.ts keyed by `client`; times in ms (outbox, answered) or unix seconds
    // (messages.time, like WeChat's CreateTime), as there. Bodies are text: the exact report JSON, never re-encoded.
    sql: `
      CREATE TABLE openwx_outbox (
        seq         bigserial PRIMARY KEY,
        event_id    text NOT NULL UNIQUE,
        client      text NOT NULL,
        kind        text NOT NULL,
        body        text NOT NULL,
        media       jsonb,
        created_at  bigint NOT NULL,
        attempts    integer NOT NULL DEFAULT 0,
        rejections  integer NOT NULL DEFAULT 0,
        next_at     bigint NOT NULL,
        last_error  text
      );
      CREATE INDEX openwx_outbox_client_seq ON openwx_outbox (client, seq);
      CREATE TABLE openwx_dead_letters (
        seq         bigint PRIMARY KEY,
        event_id    text NOT NULL UNIQUE,
        client      text NOT NULL,
        kind        text NOT NULL,
        body        text NOT NULL,
        media       jsonb,
        created_at  bigint NOT NULL,
        attempts    integer NOT NULL,
        last_error  text,
        died_at     bigint NOT NULL
      );
      CREATE INDEX openwx_dead_letters_client_seq ON openwx_dead_letters (client, seq);
      CREATE TABLE openwx_messages (
        client      text NOT NULL,
        msg_id      text NOT NULL,
        peer        text NOT NULL,
        local_id    text,
        class       text NOT NULL,
        time        bigint NOT NULL,
        body        text NOT NULL,
        reply_to    text,
        PRIMARY KEY (client, msg_id)
      );
      CREATE INDEX openwx_messages_client_time ON openwx_messages (client, time);
      CREATE TABLE openwx_answered (
        client      text NOT NULL,
        event_id    text NOT NULL,
        at          bigint NOT NULL,
        PRIMARY KEY (client, event_id)
      );
      CREATE INDEX openwx_answered_at ON openwx_answered (client, at);
    `,
  },
];

export interface MigrateResult {
  /** Versions this call applied (empty: the schema was current). */
  applied: number[];
  /** The schema version after the call. */
  version: number;
}

/** Applies every migration not applied yet, in one transaction under the advisory lock. */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
  return inTransaction(pool, async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await c.query(`CREATE TABLE IF NOT EXISTS openwx_schema_migrations (
      version     integer PRIMARY KEY,
      name        text NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set((await c.query<{ version: number }>('SELECT version FROM openwx_schema_migrations')).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await c.query(m.sql);
      await c.query('INSERT INTO openwx_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
      done.add(m.version);
    }
    return { applied, version: Math.max(0, ...done) };
  });
}
