/**
 * The storage contract (storage-contract.ts) on PostgreSQL (`PgStorage`, a real server: test/helpers/postgres.ts),
 * and what only PostgreSQL does: writes fenced by the owner's lease epoch, the event log (`openwx_events` rows and
 * their NOTIFY, in order, in the report's transaction), its retention, rows keyed by account for seq-addressed writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../../src/cluster/schema.ts';
import { isOpenwxError } from '../../src/errors.ts';
import { EVENTS_CHANNEL } from '../../src/store/pg/events.ts';
import { isConnectionError, PgStorage, type PgStorageOptions } from '../../src/store/pg/pg-storage.ts';
import { postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { msg, report, storageContract } from './storage-contract.ts';

const server = postgresForFile();

async function database(): Promise<{ url: string; pool: pg.Pool }> {
  const url = await server.createDatabase('owx_storage');
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on('error', () => undefined); // an idle connection cut by a server restart (the restart test)
  await migrate(pool);
  return { url, pool };
}

storageContract('postgresql', async () => {
  const { url, pool } = await database();
  const storage = new PgStorage({ pool });
  const others: { s: PgStorage; p: pg.Pool }[] = [];
  return {
    storage,
    reopen: async () => {
      const p = new pg.Pool({ connectionString: url, max: 1 });
      const s = new PgStorage({ pool: p });
      others.push({ s, p });
      return s;
    },
    transactions: () => storage.stats.transactions,
    close: async () => {
      await storage.close();
      for (const o of others) {
        await o.s.close();
        await o.p.end();
      }
      await pool.end();
    },
  };
});

async function withStorage(o: Omit<PgStorageOptions, 'pool'>, fn: (s: PgStorage, pool: pg.Pool, url: string) => Promise<void>): Promise<void> {
  const { url, pool } = await database();
  const s = new PgStorage({ ...o, pool });
  try {
    await fn(s, pool, url);
  } finally {
    await s.close();
    await pool.end();
  }
}

/** An account row held by `worker` with `epoch` and a lease for `leaseMs` more (negative: expired). */
async function hold(pool: pg.Pool, client: string, worker: string, epoch: number, leaseMs = 60_000): Promise<void> {
  await pool.query(
    `INSERT INTO openwx_accounts (client, worker, epoch, lease_until) VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
     ON CONFLICT (client) DO UPDATE SET worker = EXCLUDED.worker, epoch = EXCLUDED.epoch, lease_until = EXCLUDED.lease_until`,
    [client, worker, epoch, leaseMs],
  );
}

test('postgresql: a seq of another account is never touched through this handle', async () => {
  await withStorage({}, async (s) => {
    const [ra] = await s.forAccount('alice').commitReports([{ report: report(1) }]);
    assert.ok(ra!.ok && ra.row);
    const b = s.forAccount('bob');
    await b.markStarted([ra.row.seq]);
    await b.markFailed(ra.row.seq, 'no', 5, true);
    await b.markDead(ra.row.seq, 'no', 5);
    await b.markDelivered([ra.row.seq]);
    const [row] = await s.forAccount('alice').pendingReports(0, 10);
    assert.deepEqual([row?.seq, row?.attempts, row?.rejections, row?.lastError], [ra.row.seq, 0, 0, null]);
  });
});

test('postgresql: writes are fenced by the lease epoch: a taken-over or expired account\'s writes are refused, the others\' kept', async () => {
  await withStorage({ eventLog: true }, async (s, pool) => {
    await hold(pool, 'alice', 'w1', 5);
    await hold(pool, 'bob', 'w1', 7);
    const lost: string[] = [];
    const a = s.forAccount('alice', { epoch: 5, workerId: 'w1', onFenced: (why) => lost.push(why) });
    const b = s.forAccount('bob', { epoch: 7, workerId: 'w1' });
    assert.ok((await a.commitReports([{ report: report(1) }]))[0]!.ok, 'the holder writes');
    // Another controller takes alice over (a new epoch).
    await hold(pool, 'alice', 'w2', 6);
    const [outsA, outsB, depth] = await Promise.all([a.commitReports([{ report: report(2) }, { report: report(3) }]), b.commitReports([{ report: report(4) }]), a.outboxDepth()]);
    assert.deepEqual(outsA.map((o) => o.ok), [false, false]);
    for (const o of outsA) assert.ok(!o.ok && isOpenwxError(o.error) && o.error.code === 'OWX_ERR_LEASE_LOST', 'refused with OWX_ERR_LEASE_LOST');
    assert.ok(outsB[0]!.ok, 'another account in the same transaction is stored');
    assert.equal(depth, 1, 'reads still answer; nothing of the refused writes landed');
    await assert.rejects(a.claimAnswer('e', 1), (e: unknown) => isOpenwxError(e) && e.code === 'OWX_ERR_LEASE_LOST');
    await assert.rejects(a.markDelivered([1]), /lease lost/);
    assert.equal(lost.length, 1, 'the owner is told once');
    // Even when the account's row comes back with the old epoch, a handle once fenced out stays out.
    await hold(pool, 'alice', 'w1', 5);
    await assert.rejects(a.noteSent({ msgId: 'x', peer: 'p' }), /lease lost/);
    // The same worker and epoch, with the lease run out (database clock): refused.
    await hold(pool, 'bob', 'w1', 7, -1_000);
    assert.ok(!(await b.commitReports([{ report: report(5) }]))[0]!.ok);
    const events = await pool.query<{ n: string }>('SELECT count(*) AS n FROM openwx_events');
    assert.equal(Number(events.rows[0]!.n), 2, 'only the stored reports are in the event log');
    // A fenced storage asked for an account it holds no lease on refuses its writes.
    const unheld = new PgStorage({ pool, fenceOf: () => null });
    try {
      await assert.rejects(unheld.forAccount('carol').markStarted([1]), /lease lost/);
    } finally {
      await unheld.close();
    }
  });
});

test('postgresql: a takeover waits for a transaction that holds the fence, then the old owner is refused', async () => {
  await withStorage({}, async (s, pool) => {
    await hold(pool, 'alice', 'w1', 1);
    const a = s.forAccount('alice', { epoch: 1, workerId: 'w1' });
    // A transaction of the owner holds the row FOR SHARE; the takeover's UPDATE waits for its COMMIT.
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SELECT 1 FROM openwx_accounts WHERE client = 'alice' FOR SHARE`);
      const takeover = pool.query(`UPDATE openwx_accounts SET worker = 'w2', epoch = 2 WHERE client = 'alice'`);
      const waiting = await waitFor(async () => {
        const r = await s.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE openwx_accounts%'`);
        return Number(r.rows[0]!.n) > 0;
      }, 'the takeover to wait for the row lock');
      assert.ok(waiting);
      await c.query('COMMIT');
      await takeover;
    } finally {
      c.release();
    }
    assert.ok(!(await a.commitReports([{ report: report(1) }]))[0]!.ok, 'the old epoch is refused after the takeover');
  });
});

test('postgresql: every stored report is appended to openwx_events in order with its NOTIFY, in the same transaction', async () => {
  await withStorage({}, async (s, pool, url) => {
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const heard: number[] = [];
    listener.on('notification', (n) => {
      if (n.channel === EVENTS_CHANNEL) heard.push(Number(n.payload));
    });
    await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
    try {
      const a = s.forAccount('alice');
      const b = s.forAccount('bob');
      const media = { post_type: 'receive_message', format: 'media', media_path: '/m/1.jpg' };
      const calls = [
        a.commitReports([{ report: report(1), message: { record: msg('A1'), ifNew: true } }]),
        b.commitReports([{ report: report(2) }]),
        // A duplicate message: nothing stored, nothing logged.
        a.commitReports([{ report: report(3), message: { record: msg('A1'), ifNew: true } }]),
        // A job that fails (its event id is taken): nothing logged for it, the others are.
        a.commitReports([{ report: report(4, { eventId: 'taken' }) }, { report: report(5, { eventId: 'taken' }) }, { report: report(6) }]),
        a.commitReports([{ report: { kind: 'receive_message', body: JSON.stringify(media), media: { path: '/m/1.jpg', size: 3 }, createdAt: 9 } }]),
        // jsonb cannot hold U+0000: the event log has U+FFFD, the outbox the exact body.
        b.commitReports([{ report: report(7, { body: JSON.stringify({ content: 'a\u0000b' }) }) }]),
        b.commitReports([{ message: { record: msg('B9'), ifNew: true } }]),
      ];
      const outs = (await Promise.all(calls)).flat();
      assert.deepEqual(outs.map((o) => o.ok && !o.duplicate), [true, true, false, true, false, true, true, true, true]);
      assert.ok(s.stats.isolated >= 1, 'the failed job was isolated by savepoints');
      const rows = (
        await pool.query<{ id: string; client: string; event_id: string; report: unknown; created_at: Date }>('SELECT * FROM openwx_events ORDER BY id')
      ).rows;
      const stored = outs.flatMap((o) => (o.ok && o.row ? [o.row] : []));
      assert.deepEqual(
        rows.map((r) => [r.client, r.event_id]),
        stored.map((r) => [r.account, r.eventId]),
        'one event per stored report, in call order, with its outbox event id',
      );
      assert.deepEqual(rows[0]!.report, JSON.parse(report(1).body), 'the exact post_api body');
      assert.deepEqual(rows[4]!.report, media, 'a media report as the outbox keeps it (without media_data)');
      assert.deepEqual(rows[5]!.report, { content: 'a\uFFFDb' });
      assert.equal((await b.pendingReports(0, 10)).find((r) => r.body.includes('\\u0000'))?.body, JSON.stringify({ content: 'a\u0000b' }));
      const ids = rows.map((r) => Number(r.id));
      await waitFor(() => heard.length >= ids.length, 'a NOTIFY for every event');
      assert.deepEqual(heard, ids, 'notified once per row, in id order');
      // A consumer reading after the last id it saw gets the rest, in order.
      const after = await pool.query<{ id: string }>('SELECT id FROM openwx_events WHERE id > $1 ORDER BY id', [ids[1]]);
      assert.deepEqual(after.rows.map((r) => Number(r.id)), ids.slice(2));
    } finally {
      await listener.end();
    }
  });
});

test('postgresql: events of concurrent storages (controllers) become visible in id order', async () => {
  await withStorage({}, async (s1, pool, url) => {
    const pool2 = new pg.Pool({ connectionString: url, max: 2 });
    const s2 = new PgStorage({ pool: pool2 });
    try {
      // A reader polls `id > last` while two storages commit at once; it must never skip an id it had not seen.
      const seen: number[] = [];
      let last = 0;
      let done = false;
      const reader = (async () => {
        for (;;) {
          const finished = done;
          const r = await pool.query<{ id: string }>('SELECT id FROM openwx_events WHERE id > $1 ORDER BY id', [last]);
          for (const x of r.rows) seen.push(Number(x.id));
          if (r.rows.length > 0) last = Number(r.rows.at(-1)!.id);
          if (finished && r.rows.length === 0) break;
        }
      })();
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 100; i++) {
        writes.push(s1.forAccount('a').commitReports([{ report: report(i) }]));
        writes.push(s2.forAccount('b').commitReports([{ report: report(i) }]));
        if (i % 10 === 9) await Promise.all(writes.splice(0));
      }
      await Promise.all(writes);
      done = true;
      await reader;
      const all = (await pool.query<{ id: string }>('SELECT id FROM openwx_events ORDER BY id')).rows.map((r) => Number(r.id));
      assert.equal(all.length, 200);
      assert.deepEqual([s1.stats.batched, s1.stats.isolated], [100, 0], 'the cheap path stored the reports in one statement per turn');
      assert.deepEqual(seen, all, 'the polling reader saw every row once, in order');
    } finally {
      await s2.close();
      await pool2.end();
    }
  });
});

test('postgresql: events older than events_retention_hours are purged, on demand and by the storage\'s timer', async () => {
  await withStorage({ eventsRetentionHours: 2, eventsPurgeIntervalMs: 50 }, async (s, pool) => {
    const a = s.forAccount('alice');
    await a.commitReports([1, 2, 3].map((n) => ({ report: report(n) })));
    await pool.query(`UPDATE openwx_events SET created_at = now() - interval '3 hours' WHERE id IN (SELECT id FROM openwx_events ORDER BY id LIMIT 2)`);
    const left = await waitFor(async () => {
      const r = await pool.query<{ report: { n: number } }>('SELECT report FROM openwx_events ORDER BY id');
      return r.rows.length === 1 ? r.rows : null;
    }, 'the retention timer to delete the old events');
    assert.deepEqual(left.map((r) => r.report.n), [3]);
    await pool.query(`UPDATE openwx_events SET created_at = now() - interval '90 minutes'`);
    assert.equal(await s.purgeEvents(), 0, 'younger than the retention');
    assert.equal(await s.purgeEvents(1), 1);
    assert.equal(await a.outboxDepth(), 3, 'the outbox is not the event log');
  });
});

test('postgresql: calls made while PostgreSQL is down wait, and are stored once it is back', async (t) => {
  if (!server.embedded) {
    t.skip('needs the embedded server (OPENWX_TEST_DATABASE_URL is set)');
    return;
  }
  await withStorage({ retryBackoffBaseMs: 50, retryBackoffMaxMs: 200, retryGiveUpMs: 60_000 }, async (s, pool) => {
    const a = s.forAccount('alice');
    assert.ok((await a.commitReports([{ report: report(1) }]))[0]!.ok);
    await server.halt();
    let settled = false;
    const pending = a.commitReports([{ report: report(2) }]).finally(() => (settled = true));
    await waitFor(() => s.stats.retries >= 2, 'the storage to retry');
    assert.equal(settled, false, 'the call waits for PostgreSQL');
    await server.resume();
    const [out] = await pending;
    assert.ok(out!.ok);
    assert.deepEqual((await a.pendingReports(0, 10)).map((r) => JSON.parse(r.body).n), [1, 2]);
    const n = await pool.query<{ n: string }>('SELECT count(*) AS n FROM openwx_events');
    assert.equal(Number(n.rows[0]!.n), 2);
  });
});

test('postgresql: a report without an outbox row (no durable sink) is only logged; a storage without the event log logs nothing', async () => {
  await withStorage({}, async (s, pool) => {
    const a = s.forAccount('alice');
    assert.equal(a.logsReports, true);
    const [out] = await a.commitReports([{ report: report(1, { outbox: false, eventId: 'only-logged' }), message: { record: msg('L1'), ifNew: true } }]);
    assert.deepEqual(out, { ok: true, duplicate: false, row: null });
    assert.equal(await a.outboxDepth(), 0);
    assert.ok(await a.message('L1'));
    const ev = await pool.query<{ event_id: string; report: unknown }>('SELECT event_id, report FROM openwx_events');
    assert.deepEqual(ev.rows, [{ event_id: 'only-logged', report: JSON.parse(report(1).body) }]);
    const quiet = new PgStorage({ pool, eventLog: false });
    try {
      const q = quiet.forAccount('bob');
      assert.equal(q.logsReports, false);
      assert.ok((await q.commitReports([{ report: report(2) }]))[0]!.ok);
      assert.equal((await pool.query('SELECT 1 FROM openwx_events')).rowCount, 1, 'nothing logged without the event log');
    } finally {
      await quiet.close();
    }
  });
});

test('postgresql: closing while PostgreSQL is down does not hang: the waiting calls fail, the backoff timer is cleared', async (t) => {
  if (!server.embedded) {
    t.skip('needs the embedded server (OPENWX_TEST_DATABASE_URL is set)');
    return;
  }
  // A backoff of 10 minutes: without close() cutting it short the test would time out.
  await withStorage({ retryBackoffBaseMs: 600_000, retryBackoffMaxMs: 600_000, retryGiveUpMs: 3_600_000 }, async (s) => {
    const a = s.forAccount('alice');
    assert.ok((await a.commitReports([{ report: report(1) }]))[0]!.ok);
    await server.halt();
    try {
      const pending = a.commitReports([{ report: report(2) }]);
      await waitFor(() => s.stats.retries >= 1, 'the storage to back off');
      await s.close();
      const [out] = await pending;
      assert.equal(out!.ok, false, 'given up at close, not left pending');
      await assert.rejects(a.outboxDepth(), /closed/);
    } finally {
      await server.resume();
    }
  });
});

test('postgresql: a transaction whose COMMIT itself fails (not the connection) fails its calls at once, without retrying', async () => {
  // Retries would last 10 minutes: the test would time out.
  await withStorage({ retryGiveUpMs: 600_000 }, async (s, pool) => {
    // A deferred constraint is checked only at COMMIT, after every call succeeded (also call by call).
    await pool.query('ALTER TABLE openwx_outbox ADD CONSTRAINT body_once UNIQUE (body) DEFERRABLE INITIALLY DEFERRED');
    const outs = (await Promise.all([s.forAccount('alice').commitReports([{ report: report(1) }]), s.forAccount('bob').commitReports([{ report: report(1) }])])).flat();
    assert.deepEqual(outs.map((o) => o.ok), [false, false]);
    assert.equal(s.stats.retries, 0);
    assert.ok((await s.forAccount('alice').commitReports([{ report: report(2) }]))[0]!.ok, 'the storage goes on');
    assert.equal((await pool.query('SELECT 1 FROM openwx_outbox')).rowCount, 1);
  });
});

test('postgresql: which failures are the connection\'s (the transaction is retried) and which a statement\'s (isolated, not retried)', () => {
  const e = (code?: string) => Object.assign(new Error('x'), code === undefined ? {} : { code });
  for (const c of [undefined, 'ECONNREFUSED', 'ECONNRESET', '08006', '57P01', '57P03', '57014', '53300', '58030', '40001', '40P01']) {
    assert.equal(isConnectionError(e(c)), true, String(c));
  }
  for (const c of ['23505', '22P02', '42P01', '55000', '25P02', '40002', 'XX000', 'P0001']) assert.equal(isConnectionError(e(c)), false, c);
});

test('postgresql: a report whose text has a lone surrogate (a cut emoji) is stored; the event log has U+FFFD in its place', async () => {
  await withStorage({}, async (s, pool) => {
    const a = s.forAccount('alice');
    // JSON.stringify writes a lone surrogate as the escape \ud83d, which jsonb refuses (22P02): the whole report was dropped.
    const body = JSON.stringify({ content: 'cut \ud83d', '\udc00key': 'low \udc00 alone', ok: '\ud83d\ude00' });
    const outs = await a.commitReports([{ message: { record: msg('S1'), ifNew: true }, report: report(1, { body }) }, { report: report(2) }]);
    assert.deepEqual(outs.map((o) => o.ok), [true, true]);
    assert.equal((await a.pendingReports(0, 10))[0]?.body, body, 'the outbox keeps the exact body');
    assert.ok(await a.message('S1'), 'and the history record');
    const rows = (await pool.query<{ report: unknown }>('SELECT report FROM openwx_events ORDER BY id')).rows;
    assert.deepEqual(rows[0]?.report, { content: 'cut \uFFFD', '\uFFFDkey': 'low \uFFFD alone', ok: '\ud83d\ude00' });
    assert.equal(rows.length, 2);
  });
});

test('postgresql: call by call, the event log lock stays held after a call that took it was rolled back', async () => {
  await withStorage({}, async (s, pool) => {
    // Every event row checks that its transaction holds an advisory lock (the event log's): ids become visible in order
    // only if every append happens under it.
    await pool.query(`CREATE FUNCTION owx_test_locked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted) THEN
          RAISE EXCEPTION 'event % appended without the event log lock', NEW.event_id;
        END IF;
        RETURN NEW;
      END $$`);
    await pool.query('CREATE TRIGGER owx_test_locked BEFORE INSERT ON openwx_events FOR EACH ROW EXECUTE FUNCTION owx_test_locked()');
    const a = s.forAccount('alice');
    // The first report's event cannot be logged (not JSON): it fails alone, after taking the lock in its savepoint.
    const outs = await a.commitReports([{ report: report(1, { body: 'not json' }) }, { report: report(2) }, { report: report(3) }]);
    assert.deepEqual(outs.map((o) => o.ok), [false, true, true]);
    assert.ok(s.stats.isolated >= 1);
    assert.equal((await pool.query('SELECT 1 FROM openwx_events')).rowCount, 2);
  });
});

test('postgresql: a media report whose file name has a lone surrogate is stored (its reference names the same file)', async () => {
  await withStorage({}, async (s) => {
    const a = s.forAccount('alice');
    const path = '/media/cut \ud83d.jpg';
    const outs = await a.commitReports([{ report: report(1, { media: { path, size: 3 } }) }]);
    assert.deepEqual(outs.map((o) => o.ok), [true]);
    const one = await s.forAccount('bob').commitReports([{ report: report(2, { media: { path, size: 3 } }) }, { report: report(3) }]);
    assert.deepEqual(one.map((o) => o.ok), [true, true], 'also with other reports in the transaction');
    const stored = (await a.pendingReports(0, 10))[0]!.media!;
    // The file system gets the same bytes either way: Node writes a lone surrogate of a path as U+FFFD.
    assert.deepEqual(Buffer.from(stored.path), Buffer.from(path));
    assert.equal(stored.size, 3);
  });
});
