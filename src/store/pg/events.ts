/**
 * The event log for consumers (`openwx_events`, docs/cluster.md "Data"): every report `PgStorage.commitReports`
 * stores is appended here in the SAME transaction as its outbox row, with `NOTIFY openwx_events, '<id>'` (PostgreSQL
 * delivers a notification only when its transaction commits, so a listener never hears of a row it cannot read).
 *
 * Order. The rows of one transaction get their ids in call order. Across transactions, and across controllers, ids
 * are taken under one transaction-scoped advisory lock held until COMMIT, so rows become visible in id order: a
 * consumer reading `WHERE id > $last` never skips a row that commits later with a smaller id.
 */
import type pg from 'pg';

export const EVENTS_CHANNEL = 'openwx_events';
/** The advisory lock key of the event log's appends (any fixed 64-bit number; ours spells "owxevt" in ASCII). */
export const EVENTS_LOCK_KEY = '0x6f7778657674';

export interface LoggedEvent {
  client: string;
  eventId: string;
  /** The report JSON as it is POSTed (a media report without `media_data`, as the outbox keeps it). */
  body: string;
}

/** A UTF-16 surrogate without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The report as jsonb accepts it. jsonb cannot hold the character U+0000, which a WeChat text may carry (JSON-escaped
 * as \u0000), nor a lone UTF-16 surrogate (JSON.stringify writes one as \ud83d: an emoji cut in two), which it refuses
 * as invalid input: the report would fail. Such characters become U+FFFD in the event log, in values and keys (the
 * outbox keeps the exact body).
 */
export function jsonbText(body: string): string {
  if (!body.includes('\\u0000') && !/\\u[dD][89a-fA-F]/.test(body)) return body;
  const clean = (t: string): string => t.replace(LONE_SURROGATE, '\uFFFD').replaceAll('\u0000', '\uFFFD');
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return clean(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [clean(k), walk(x)]));
    return v;
  };
  return JSON.stringify(walk(JSON.parse(body)));
}

/** Takes the event log's append lock (until the transaction ends). Idempotent within a transaction. */
export async function lockEventLog(c: pg.PoolClient): Promise<void> {
  await c.query(`SELECT pg_advisory_xact_lock(${EVENTS_LOCK_KEY})`);
}

/** Appends the events in order, each with its NOTIFY; returns their ids. The caller holds the append lock. */
export async function appendEvents(c: pg.PoolClient, events: readonly LoggedEvent[]): Promise<number[]> {
  if (events.length === 0) return [];
  const r = await c.query<{ id: string }>(
    `WITH ins AS (
       INSERT INTO openwx_events (client, event_id, report)
       SELECT e.client, e.event_id, e.report::jsonb
         FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS e(client, event_id, report, n)
        ORDER BY e.n
       RETURNING id
     )
     SELECT id, pg_notify('${EVENTS_CHANNEL}', id::text) FROM ins ORDER BY id`,
    [events.map((e) => e.client), events.map((e) => e.eventId), events.map((e) => jsonbText(e.body))],
  );
  return r.rows.map((x) => Number(x.id));
}

/** Deletes events older than `retentionHours` (by the database clock); returns how many. */
export async function purgeEvents(q: pg.Pool | pg.PoolClient, retentionHours: number): Promise<number> {
  const r = await q.query(`DELETE FROM openwx_events WHERE created_at < now() - $1 * interval '1 hour'`, [retentionHours]);
  return r.rowCount ?? 0;
}
