/**
 * A report's first attempt counted by the insert that stores it (NewReport.started, DeliveryWorker.startsAtOnce):
 * when the worker would send a row as soon as it is handed it, the reporter has its first attempt counted in the same
 * write, and the worker sends it without a write (and a transaction) of its own. X-Openwx-Attempt stays exact while
 * the process runs, also for a row accepted past the memory window; after a crash a row never sent may be sent as
 * attempt 2 (counted, never under-counted).
 */
import { test } from 'node:test';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/db.ts';
import { SqliteStorage } from '../../src/store/sqlite-storage.ts';
import type { AccountStorage, OutboxRow } from '../../src/store/storage.ts';
import { OutboxDelivery } from '../../src/delivery/outbox-delivery.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { counted, downReceiverRig } from '../helpers/counted.ts';

const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'owx-first-')), 'openwx.db');


/** Commits one report as the reporter does (`started` as the sink says, or forced) and hands the row to the sink. */
async function commitOne(store: AccountStorage, sink: OutboxDelivery, i: number, started = sink.startsAtOnce()): Promise<OutboxRow> {
  const [out] = await store.commitReports([{ report: { kind: 'receive_message', body: JSON.stringify({ i }), createdAt: Date.now(), started } }]);
  assert.ok(out?.ok && out.row);
  sink.accept(out.row);
  return out.row;
}

test('a report committed while the worker is idle is stored with its first attempt counted: sent as attempt 1 with no write before it', async (t) => {
  const rx = await new Receiver().start();
  const db = openDatabase(tmpDb());
  const storage = new SqliteStorage(db);
  const { store, calls } = counted(storage.forAccount('a'));
  const sink = new OutboxDelivery(store, { account: 'a', url: rx.url });
  t.after(async () => {
    await sink.close();
    await storage.close();
    db.close();
    await rx.stop();
  });
  const rows: OutboxRow[] = [];
  for (let i = 0; i < 5; i++) {
    await waitFor(() => sink.startsAtOnce(), 'the worker idle');
    rows.push(await commitOne(store, sink, i));
    await rx.waitFor(i + 1);
    await waitFor(() => sink.depth === 0, 'delivered');
  }
  assert.deepEqual(rows.map((r) => r.attempts), [1, 1, 1, 1, 1], 'counted by the insert');
  assert.deepEqual(rx.received.map((r) => r.headers['x-openwx-attempt']), ['1', '1', '1', '1', '1']);
  assert.equal(calls.get('markStarted') ?? 0, 0, 'no attempt counted apart from the insert');
});

test('while reports wait, the worker does not start at once; a counted row accepted past the memory window is still sent as attempt 1', async (t) => {
  const { rx, storage, store, calls, sink, setDown } = await downReceiverRig(t, { concurrency: 1, pendingMemoryMaxRows: 2, backoffBaseMs: 5, backoffMaxMs: 20 });
  const all: Received[] = [];
  rx.on('request', (r) => all.push(r));
  await waitFor(() => sink.startsAtOnce(), 'the worker idle');
  await commitOne(store, sink, 0);
  await once(sink, 'failed'); // the receiver is down: the head waits for its retry
  assert.equal(sink.startsAtOnce(), false, 'a report waits: the next one would not be sent at once');
  // Rows staged in the same turn as the head all asked while the worker was idle: counted by their inserts, and
  // past the memory window (2 rows) they wait in the store.
  for (let i = 1; i < 6; i++) await commitOne(store, sink, i, true);
  setDown(false);
  const got = await rx.waitFor(6);
  await waitFor(() => sink.depth === 0, 'all delivered');
  assert.deepEqual(got.map((r) => r.json.i), [0, 1, 2, 3, 4, 5]);
  const first = (i: number) => all.find((r) => r.json.i === i)!.headers['x-openwx-attempt'];
  assert.deepEqual([1, 2, 3, 4, 5].map(first), ['1', '1', '1', '1', '1'], 'each first attempt is attempt 1, also for rows read from the store');
  assert.ok((calls.get('pendingReports') ?? 0) > 1, 'rows past the window were read from the store');
  // The head's retries are counted by the worker, before they are sent.
  const head = all.filter((r) => r.json.i === 0).map((r) => Number(r.headers['x-openwx-attempt']));
  assert.ok(head.length >= 2);
  assert.deepEqual(head, head.map((_, k) => k + 1));
});

test('a row counted by its insert but never sent (the process stopped) is sent as attempt 2 after the restart: never under-counted', async (t) => {
  const path = tmpDb();
  {
    const db = openDatabase(path);
    const s = new SqliteStorage(db);
    const [out] = await s.forAccount('a').commitReports([{ report: { kind: 'receive_message', body: '{"i":0}', createdAt: Date.now(), started: true } }]);
    assert.ok(out?.ok && out.row?.attempts === 1);
    assert.equal((await s.forAccount('a').pendingReports(0, 10))[0]!.attempts, 1, 'stored with its attempt counted');
    await s.close();
    db.close();
  }
  const rx = await new Receiver().start();
  const db = openDatabase(path);
  const storage = new SqliteStorage(db);
  const sink = new OutboxDelivery(storage.forAccount('a'), { account: 'a', url: rx.url });
  t.after(async () => {
    await sink.close();
    await storage.close();
    db.close();
    await rx.stop();
  });
  const [r] = await rx.waitFor(1);
  assert.equal(r!.headers['x-openwx-attempt'], '2');
});
