/**
 * The reports of one transaction in ONE statement (PgStorage's cheap path): a run of consecutive `commitReports`
 * jobs becomes a single INSERT of their history records (`ON CONFLICT DO NOTHING`: a MsgID already there makes its
 * job a duplicate) and of the outbox rows of the jobs that are not duplicates, in job order. One round trip instead
 * of two per report. A run the statement cannot express (a history record to update rather than insert, the same
 * MsgID twice) is left to the per-job path; a failing statement aborts the transaction, which PgStorage then runs
 * again call by call in savepoints.
 */
import type pg from 'pg';
import { jsonbText } from './events.ts';
import type { OutboxMedia, OutboxRow, ReportJob, ReportOutcome } from '../storage.ts';

export interface BatchedReport {
  client: string;
  job: ReportJob;
  /** The report's event id (made before the call was queued). */
  eventId: string;
}

/** Whether one statement can store these jobs exactly as the per-job path would. */
export function batchable(reports: readonly BatchedReport[]): boolean {
  const seen = new Set<string>();
  for (const r of reports) {
    const m = r.job.message;
    if (!m) continue;
    if (!m.ifNew) return false;
    const k = `${r.client}\u0000${m.record.msgId}`;
    if (seen.has(k)) return false;
    seen.add(k);
  }
  return true;
}

// jsonbText: a lone surrogate of the path becomes U+FFFD (jsonb refuses it), the bytes Node writes for it anyway.
const mediaJson = (m: OutboxMedia | null | undefined): string | null => (m ? jsonbText(JSON.stringify({ path: m.path, size: m.size })) : null);

/** Stores the jobs (see `batchable`); one outcome per job, in order. */
export async function storeReports(c: pg.PoolClient, reports: readonly BatchedReport[]): Promise<ReportOutcome[]> {
  const col = <T>(f: (r: BatchedReport) => T): T[] => reports.map(f);
  const rec = (r: BatchedReport) => r.job.message?.record;
  const rep = (r: BatchedReport) => r.job.report;
  const res = await c.query<{ n: number; duplicate: boolean; seq: string | null }>(
    `WITH j AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[],
                            $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::bigint[], $14::int[])
         WITH ORDINALITY AS j(client, msg_id, peer, local_id, class, time, mbody, reply_to, event_id, kind, body, media, created_at, attempts, n)
     ), m AS (
       INSERT INTO openwx_messages (client, msg_id, peer, local_id, class, time, body, reply_to)
       SELECT client, msg_id, peer, local_id, class, time, mbody, reply_to FROM j WHERE msg_id IS NOT NULL ORDER BY n
       ON CONFLICT (client, msg_id) DO NOTHING
       RETURNING client, msg_id
     ), d AS (
       SELECT j.n, (j.msg_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM m WHERE m.client = j.client AND m.msg_id = j.msg_id)) AS duplicate
         FROM j
     ), o AS (
       INSERT INTO openwx_outbox (event_id, client, kind, body, media, created_at, next_at, attempts)
       SELECT j.event_id, j.client, j.kind, j.body, j.media, j.created_at, j.created_at, j.attempts FROM j JOIN d USING (n)
        WHERE j.kind IS NOT NULL AND NOT d.duplicate ORDER BY j.n
       RETURNING seq, event_id
     )
     SELECT d.n::int AS n, d.duplicate, o.seq FROM d JOIN j USING (n) LEFT JOIN o ON o.event_id = j.event_id ORDER BY d.n`,
    [
      col((r) => r.client),
      col((r) => rec(r)?.msgId ?? null),
      col((r) => rec(r)?.peer ?? null),
      col((r) => rec(r)?.localId ?? null),
      col((r) => rec(r)?.class ?? null),
      col((r) => rec(r)?.time ?? null),
      col((r) => (rec(r) ? (rec(r)!.bodyJson ?? JSON.stringify(rec(r)!.body)) : null)),
      col((r) => rec(r)?.replyTo ?? null),
      // Only reports that get an outbox row; one for the event log alone (`outbox: false`) has none.
      col((r) => (rep(r) && rep(r)!.outbox !== false ? r.eventId : null)),
      col((r) => (rep(r) && rep(r)!.outbox !== false ? rep(r)!.kind : null)),
      col((r) => (rep(r) && rep(r)!.outbox !== false ? rep(r)!.body : null)),
      col((r) => (rep(r) && rep(r)!.outbox !== false ? mediaJson(rep(r)!.media) : null)),
      col((r) => rep(r)?.createdAt ?? null),
      // The first attempt counted by the insert (NewReport.started).
      col((r) => (rep(r)?.started ? 1 : 0)),
    ],
  );
  return reports.map((r, i): ReportOutcome => {
    const x = res.rows[i]!;
    if (x.duplicate) return { ok: true, duplicate: true, row: null };
    const p = rep(r);
    if (!p || p.outbox === false || x.seq === null) return { ok: true, duplicate: false, row: null };
    const media = p.media ?? null;
    const row: OutboxRow = {
      seq: Number(x.seq),
      eventId: r.eventId,
      account: r.client,
      kind: p.kind,
      body: p.body,
      media: media ? { path: media.path, size: media.size } : null,
      createdAt: p.createdAt,
      attempts: p.started ? 1 : 0,
      rejections: 0,
      nextAt: p.createdAt,
      lastError: null,
    };
    return { ok: true, duplicate: false, row };
  });
}
