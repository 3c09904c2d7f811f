/**
 * The delivery sinks run their timers and timestamps on the injected clock (src/client/clock.ts), so tests drive
 * them: a retry waits for the clock, not for wall time; a report's age is counted on the same clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryDelivery } from '../../src/delivery/memory-delivery.ts';
import { OutboxDelivery } from '../../src/delivery/outbox-delivery.ts';
import { openDatabase } from '../../src/store/db.ts';
import { Outbox } from '../../src/store/outbox.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { Receiver } from '../helpers/receiver.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';

const MINUTE_MS = 60_000;
const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'owx-clock-')), 'openwx.db');

test('outbox: a failed report is retried when the injected clock reaches its backoff, not before', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  let busy = true;
  rx.answer = () => (busy ? { status: 503 } : { status: 200 });
  const clock = new FakeClock(Date.now());
  const db = openDatabase(tmpDb());
  // backoff of one minute: wall time alone would not retry within the test's deadlines
  const sink = new OutboxDelivery(new Outbox(db), { account: 'a', url: rx.url, backoffBaseMs: MINUTE_MS, backoffMaxMs: MINUTE_MS, clock });
  t.after(async () => {
    await sink.close();
    db.close();
  });
  const failed = nextEvent<[unknown, string, number]>(sink, 'failed');
  const t0 = clock.now();
  sink.enqueue({ kind: 'receive_message', body: '{"n":1}' });
  const [, , nextAt] = await failed;
  // the retry time is on the fake clock: half to all of one backoff step after it
  assert.ok(nextAt >= t0 + MINUTE_MS / 2 && nextAt <= t0 + MINUTE_MS, `nextAt ${nextAt - t0} ms after the fake now`);
  busy = false;
  await clock.advance(MINUTE_MS / 2 - 1);
  assert.equal(rx.received.length, 0, 'not retried before its time');
  await clock.advance(MINUTE_MS / 2 + 1);
  await rx.waitFor(1);
  await waitFor(() => sink.depth === 0, 'the delivered row removed');
});

test('outbox: a report is dead-lettered by age counted on the injected clock', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  rx.answer = () => ({ status: 503 });
  const clock = new FakeClock(Date.now());
  const db = openDatabase(tmpDb());
  const sink = new OutboxDelivery(new Outbox(db), {
    account: 'a', url: rx.url, maxAgeMs: 10 * MINUTE_MS, backoffBaseMs: MINUTE_MS, backoffMaxMs: MINUTE_MS, clock,
  });
  t.after(async () => {
    await sink.close();
    db.close();
  });
  const failed = nextEvent(sink, 'failed');
  sink.enqueue({ kind: 'receive_message', body: '{"n":1}' });
  await failed;
  assert.equal(sink.deadCount, 0);
  const dead = nextEvent(sink, 'dead');
  // eleven fake minutes: the next attempt fails older than maxAgeMs
  await clock.advance(11 * MINUTE_MS);
  await dead;
  assert.equal(sink.deadCount, 1);
  assert.equal(sink.depth, 0);
});

test('in-memory sink: its retry delay runs on the injected clock', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  const clock = new FakeClock(Date.now());
  let busy = true;
  const requests: number[] = [];
  rx.on('request', () => requests.push(clock.now()));
  rx.answer = () => (busy ? { status: 503 } : { status: 200 });
  const sink = new MemoryDelivery({ url: rx.url, account: 'a', attempts: 2, retryDelayMs: MINUTE_MS, clock });
  t.after(() => sink.close());
  const t0 = clock.now();
  sink.enqueue({ kind: 'receive_message', body: '{"n":1}' });
  // after the failed first attempt, the only timer left is the retry delay, one fake minute away
  await waitFor(() => requests.length === 1 && clock.pending === 1 && clock.nextAt() === t0 + MINUTE_MS, 'the retry scheduled on the clock');
  busy = false;
  await clock.advance(MINUTE_MS);
  await rx.waitFor(1);
  assert.equal(requests.length, 2);
  assert.equal(requests[1], t0 + MINUTE_MS, 'the retry went out when the fake clock reached it');
  assert.equal(sink.depth, 0);
});
