import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { openDatabase } from '../../src/store/db.ts';
import { Outbox } from '../../src/store/outbox.ts';
import { DeliveryWorker } from '../../src/delivery/worker.ts';
import { verify } from '../../src/delivery/sign.ts';
import { Receiver } from '../helpers/receiver.ts';

const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'owx-deliv-')), 'openwx.db');

test('receiver down, then up: everything arrives in order, once per event id, signed', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  let down = true;
  rx.answer = () => (down ? { status: 503 } : { status: 200, json: { ok: 1 } });
  const db = openDatabase(tmpDb());
  const ob = new Outbox(db);
  const w = new DeliveryWorker(ob, { account: 'acc', url: rx.url, secret: 's3cret', backoffBaseMs: 5, backoffMaxMs: 40 });
  t.after(async () => {
    await w.stop();
    db.close();
  });
  w.start();
  for (let i = 0; i < 20; i++) ob.enqueue('acc', 'receive_message', JSON.stringify({ i }));
  w.wake();
  // a few failures happen while the receiver is down
  for (let f = 0; f < 3; f++) await once(w, 'failed');
  assert.equal(rx.received.length, 0);
  let delivered = 0;
  const allDelivered = new Promise<void>((resolve) => w.on('delivered', () => ++delivered === 20 && resolve()));
  down = false;
  const got = await rx.waitFor(20);
  await allDelivered;
  assert.deepEqual(got.map((r) => r.json.i), [...Array(20).keys()]);
  const ids = got.map((r) => r.headers['x-openwx-event-id']);
  assert.equal(new Set(ids).size, 20);
  for (const r of got) {
    assert.equal(r.headers['x-openwx-account'], 'acc');
    assert.ok(
      verify('s3cret', { timestamp: r.headers['x-openwx-timestamp'] as string, signature: r.headers['x-openwx-signature'] as string }, r.body),
    );
  }
  assert.equal(w.depth, 0);
});

test('a report that keeps failing goes to dead letters and the queue moves on', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  rx.answer = (r) => (r.json?.poison ? { status: 400 } : { status: 200 });
  const db = openDatabase(tmpDb());
  const ob = new Outbox(db);
  const w = new DeliveryWorker(ob, { account: 'a', url: rx.url, maxAttempts: 3, backoffBaseMs: 1, backoffMaxMs: 2 });
  t.after(async () => {
    await w.stop();
    db.close();
  });
  ob.enqueue('a', 'event', '{"poison":true}');
  ob.enqueue('a', 'event', '{"ok":true}');
  const dead = once(w, 'dead');
  w.start();
  await dead;
  await rx.waitFor(1);
  assert.equal(ob.deadDepth('a'), 1);
  assert.equal(ob.deadLetters('a')[0]!.lastError, 'HTTP 400');
});

test('kill -9 during delivery: a new worker delivers everything after restart', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  const dbPath = tmpDb();
  // The child enqueues 50 reports, starts delivering to a receiver that hangs, and is SIGKILLed mid-request.
  let hung = 0;
  rx.answer = () => (hung++ === 0 ? { hang: true } : { status: 200 });
  const firstRequest = once(rx, 'request');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '-e', `
      import { openDatabase } from './src/store/db.ts';
      import { Outbox } from './src/store/outbox.ts';
      import { DeliveryWorker } from './src/delivery/worker.ts';
      const ob = new Outbox(openDatabase(${JSON.stringify(dbPath)}));
      for (let i = 0; i < 50; i++) ob.enqueue('k', 'receive_message', JSON.stringify({ i }));
      new DeliveryWorker(ob, { account: 'k', url: ${JSON.stringify(rx.url)} }).start();
      process.stdout.write('ready\\n');
    `],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // wait until the child's first POST is hanging at the receiver, then kill it mid-delivery
  await firstRequest;
  child.kill('SIGKILL');
  await once(child, 'exit');
  const db = openDatabase(dbPath);
  const ob = new Outbox(db);
  assert.equal(ob.depth('k'), 50);
  const w = new DeliveryWorker(ob, { account: 'k', url: rx.url });
  t.after(async () => {
    await w.stop();
    db.close();
  });
  w.start();
  const got = await rx.waitFor(50);
  assert.deepEqual(got.map((r) => r.json.i), [...Array(50).keys()]);
});

test('a replayed dead letter gets a new age window: one more failure does not kill it again', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  let failures = 0;
  rx.answer = () => (failures-- > 0 ? { status: 500 } : { status: 200 });
  const db = openDatabase(tmpDb());
  const ob = new Outbox(db);
  const w = new DeliveryWorker(ob, { account: 'a', url: rx.url, maxAgeMs: 3600_000, backoffBaseMs: 1, backoffMaxMs: 2 });
  t.after(async () => {
    await w.stop();
    db.close();
  });
  // written two days ago (e.g. before a long outage): the first failure dead-letters it (too old)
  const id = ob.enqueue('a', 'event', '{"old":true}', Date.now() - 2 * 86400_000);
  failures = 1;
  const dead = once(w, 'dead');
  w.start();
  await dead;
  assert.equal(ob.deadDepth('a'), 1);
  // the operator replays it; the receiver fails once more, then accepts: it must be retried, not killed again
  failures = 1;
  const delivered = once(w, 'delivered');
  assert.equal(ob.replay('a', [id]), 1);
  w.wake();
  const [row] = await delivered;
  assert.equal(row.eventId, id);
  assert.equal(ob.deadDepth('a'), 0);
  assert.equal(rx.received.length, 1);
  assert.equal(rx.received[0]!.headers['x-openwx-event-id'], id);
});

test('a throwing delivered listener neither fails the report nor stops the loop', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  const db = openDatabase(tmpDb());
  const ob = new Outbox(db);
  const w = new DeliveryWorker(ob, { account: 'a', url: rx.url, backoffBaseMs: 1, backoffMaxMs: 2 });
  t.after(async () => {
    await w.stop();
    db.close();
  });
  let failed = 0;
  w.on('failed', () => failed++);
  w.on('delivered', () => {
    throw new Error('listener bug');
  });
  for (let i = 0; i < 3; i++) ob.enqueue('a', 'event', JSON.stringify({ i }));
  w.start();
  const got = await rx.waitFor(3);
  assert.deepEqual(got.map((r) => r.json.i), [0, 1, 2]);
  await new Promise<void>((resolve) => (w.depth === 0 ? resolve() : w.once('idle', () => resolve())));
  assert.equal(failed, 0);
  assert.equal(rx.received.length, 3, 'no report sent twice');
});
