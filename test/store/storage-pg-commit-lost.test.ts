/**
 * PgStorage when the answer to a COMMIT is lost (the connection drops after PostgreSQL committed, before the answer
 * arrived): a real server behind a TCP proxy that cuts the connection instead of relaying that one answer. The calls
 * of the transaction must settle as committed, with what they did, not as failures or duplicates of themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../../src/cluster/schema.ts';
import { PgStorage } from '../../src/store/pg/pg-storage.ts';
import { postgresForFile, relayProxy } from '../helpers/postgres.ts';
import { msg, report } from './storage-contract.ts';

const server = postgresForFile();

/**
 * A TCP proxy to PostgreSQL; `cutNextAnswer(text)`: the answer to the next query whose text contains this (BEGIN,
 * COMMIT) is dropped and the connection cut.
 */
async function answerCutter(target: URL): Promise<{ url: string; cutNextAnswer(sql: string): void; cuts(): number; close(): Promise<void> }> {
  let armed: Buffer | null = null;
  let cuts = 0;
  const served = await relayProxy(target.href, (flow) => {
    let cutAnswer = false;
    return {
      fromClient(d) {
        if (armed && d.includes(armed)) {
          armed = null;
          cutAnswer = true;
        }
        return false;
      },
      fromServer() {
        if (!cutAnswer) return false;
        cuts++;
        flow.end(); // PostgreSQL answered (a COMMIT: the transaction committed); the client never hears it
        return true;
      },
    };
  });
  return { ...served, cutNextAnswer: (text: string) => (armed = Buffer.from(text)), cuts: () => cuts };
}

async function throughCutter(fn: (s: PgStorage, cutter: Awaited<ReturnType<typeof answerCutter>>, admin: pg.Pool) => Promise<void>): Promise<void> {
  const direct = await server.createDatabase('owx_cut');
  const admin = new pg.Pool({ connectionString: direct, max: 1 });
  await migrate(admin);
  const cutter = await answerCutter(new URL(direct));
  const pool = new pg.Pool({ connectionString: cutter.url, max: 2 });
  pool.on('error', () => undefined); // an idle connection cut
  const s = new PgStorage({ pool, retryBackoffBaseMs: 20, retryBackoffMaxMs: 100, retryGiveUpMs: 60_000 });
  try {
    assert.ok((await s.forAccount('alice').commitReports([{ report: report(0) }]))[0]!.ok, 'through the proxy');
    await fn(s, cutter, admin);
  } finally {
    await s.close();
    await pool.end();
    await admin.end();
    await cutter.close();
  }
}

test('postgresql: a connection cut in the middle of a transaction is survived (no uncaught error event): the calls are retried and stored once', async () => {
  await throughCutter(async (s, cutter, admin) => {
    const a = s.forAccount('alice');
    cutter.cutNextAnswer('BEGIN');
    const outs = (await Promise.all([a.commitReports([{ report: report(1) }]), a.commitReports([{ report: report(2) }])])).flat();
    assert.equal(cutter.cuts(), 1);
    assert.ok(s.stats.retries >= 1);
    assert.deepEqual(outs.map((o) => o.ok && !o.duplicate && o.row !== null), [true, true]);
    assert.deepEqual((await admin.query<{ n: string }>('SELECT count(*) AS n FROM openwx_outbox')).rows[0]!.n, '3');
  });
});

test('postgresql: a COMMIT whose answer was lost settles its calls as committed (rows handed over, answer claimed once, nothing twice)', async () => {
  await throughCutter(async (s, cutter, admin) => {
    const a = s.forAccount('alice');
    cutter.cutNextAnswer('COMMIT');
    // One turn: one transaction, whose COMMIT lands but whose answer is lost.
    const [[m1], [r2], claimed] = await Promise.all([
      a.commitReports([{ message: { record: msg('M1'), ifNew: true }, report: report(1) }]),
      a.commitReports([{ report: report(2, { eventId: 'given-2' }) }]),
      a.claimAnswer('answer-1', 100),
    ]);
    assert.equal(cutter.cuts(), 1, 'the COMMIT answer was cut');
    assert.ok(s.stats.retries >= 1, 'the storage saw the connection fail');
    const rows = (await admin.query<{ seq: string; event_id: string }>('SELECT seq, event_id FROM openwx_outbox ORDER BY seq')).rows;
    assert.equal(rows.length, 3, 'nothing stored twice');
    // The reporter hands a stored row to the delivery worker only when its outcome says so: a failure or a
    // "duplicate" here would leave the row undelivered until the account's next start.
    assert.ok(m1!.ok && r2!.ok, 'stored, not failed');
    assert.deepEqual([m1.duplicate, m1.row?.seq, r2.row?.seq, r2.row?.eventId], [false, Number(rows[1]!.seq), Number(rows[2]!.seq), 'given-2']);
    assert.equal(claimed, true, 'the answer was claimed by this call: its reply is sent (once)');
    assert.equal(await a.claimAnswer('answer-1', 200), false);
    assert.equal((await admin.query('SELECT 1 FROM openwx_events')).rowCount, 3);
    assert.ok((await a.commitReports([{ report: report(3) }]))[0]!.ok, 'the storage goes on');
  });
});
