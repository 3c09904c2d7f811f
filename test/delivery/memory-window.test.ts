/**
 * The delivery worker's pending rows in memory (src/delivery/worker.ts over src/store/storage.ts): loaded once at
 * start, then fed by the committed rows (no query per fill); past `pendingMemoryMaxRows` it reads the store again, in
 * order; a restart delivers what an earlier run left, in order, before what comes next.
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
import { Receiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { counted, downReceiverRig } from '../helpers/counted.ts';

const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'owx-window-')), 'openwx.db');


/** Commits reports `from..to-1` as the reporter does (one job each) and hands the rows to the sink. */
async function commit(store: AccountStorage, sink: OutboxDelivery, from: number, to: number): Promise<void> {
  const outs = await Promise.all(
    Array.from({ length: to - from }, (_, k) => store.commitReports([{ report: { kind: 'receive_message', body: JSON.stringify({ i: from + k }), createdAt: Date.now() } }])),
  );
  for (const [out] of outs) {
    assert.ok(out?.ok && out.row);
    sink.accept(out.row);
  }
}

test('rows fed by the commits are delivered in order without a store read per fill', async (t) => {
  const rx = await new Receiver().start();
  const db = openDatabase(tmpDb());
  const storage = new SqliteStorage(db);
  const { store, calls } = counted(storage.forAccount('a'));
  const sink = new OutboxDelivery(store, { account: 'a', url: rx.url, concurrency: 4 });
  t.after(async () => {
    await sink.close();
    await storage.close();
    db.close();
    await rx.stop();
  });
  // Ten bursts, as ten sync answers would bring.
  for (let b = 0; b < 10; b++) await commit(store, sink, b * 20, b * 20 + 20);
  const got = await rx.waitFor(200);
  assert.deepEqual(got.map((r) => r.json.i), [...Array(200).keys()]);
  await waitFor(() => sink.depth === 0, 'every delivered row counted off');
  assert.equal(calls.get('pendingReports'), 1, 'the store was read once, at start');
  await waitFor(async () => (await storage.forAccount('a').outboxDepth()) === 0, 'the delivered rows deleted (written behind)');
  // Deletes and attempt counts were batched: far fewer transactions than rows.
  assert.ok(storage.stats.transactions < 200, `${storage.stats.transactions} transactions for 200 reports`);
});

test('more pending rows than the memory window: the rest is read from the store, in order, each once', async (t) => {
  const { rx, storage, store, calls, sink, setDown } = await downReceiverRig(t, { concurrency: 2, pendingMemoryMaxRows: 4, backoffBaseMs: 5, backoffMaxMs: 20 });
  await commit(store, sink, 0, 25);
  await once(sink, 'failed'); // the receiver is down: nothing goes out
  assert.equal(sink.depth, 25);
  await commit(store, sink, 25, 40);
  setDown(false);
  const got = await rx.waitFor(40);
  await waitFor(() => sink.depth === 0, 'all delivered');
  assert.deepEqual(got.map((r) => r.json.i), [...Array(40).keys()]);
  assert.equal(new Set(got.map((r) => r.headers['x-openwx-event-id'])).size, 40, 'each once');
  assert.ok((calls.get('pendingReports') ?? 0) > 1, 'rows past the window were read from the store');
});

test('a restart loads the pending rows once and delivers them in order, before the new ones', async (t) => {
  const path = tmpDb();
  // An earlier run stored 30 reports and stopped before delivering them.
  {
    const db = openDatabase(path);
    const s = new SqliteStorage(db);
    const a = s.forAccount('a');
    const outs = await a.commitReports(Array.from({ length: 30 }, (_, i) => ({ report: { kind: 'receive_message', body: JSON.stringify({ i }), createdAt: Date.now() } })));
    assert.ok(outs.every((o) => o.ok));
    await s.close();
    db.close();
  }
  const rx = await new Receiver().start();
  const db = openDatabase(path);
  const storage = new SqliteStorage(db);
  const { store, calls } = counted(storage.forAccount('a'));
  // Read in batches of 8: the new rows arrive while the earlier ones are still being read.
  const sink = new OutboxDelivery(store, { account: 'a', url: rx.url, readBatch: 8 });
  const delivered: OutboxRow[] = [];
  sink.on('delivered', (row) => delivered.push(row));
  t.after(async () => {
    await sink.close();
    await storage.close();
    db.close();
    await rx.stop();
  });
  // New reports committed right away, while the earlier ones are being loaded.
  await commit(store, sink, 30, 40);
  const got = await rx.waitFor(40);
  assert.deepEqual(got.map((r) => r.json.i), [...Array(40).keys()]);
  await waitFor(() => sink.depth === 0, 'depth counts the loaded rows and the new ones down to 0');
  assert.deepEqual(delivered.map((r) => JSON.parse(r.body).i), [...Array(40).keys()]);
  // 30 earlier rows in reads of 8, then the new ones come from the commits (at most one more read, the short one).
  assert.ok((calls.get('pendingReports') ?? 0) <= 6, `${calls.get('pendingReports')} reads`);
});
