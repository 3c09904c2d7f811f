import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventQueue } from '../../src/api/check-event.ts';

test('a poll with items queued takes them all and empties the queue', async () => {
  const q = new EventQueue<number>(20, 10_000);
  q.push(1);
  q.push(2);
  assert.deepEqual(await q.poll(), [1, 2]);
  assert.equal(q.size, 0);
});

test('the queue is bounded: the oldest items are dropped', async () => {
  const q = new EventQueue<number>(3, 10_000);
  for (let i = 1; i <= 5; i++) q.push(i);
  assert.equal(q.dropped, 2);
  assert.deepEqual(await q.poll(), [3, 4, 5]);
});

test('an empty poll times out with []', async () => {
  const q = new EventQueue<number>(3, 20);
  assert.deepEqual(await q.poll(), []);
  assert.equal(q.waiting, 0);
});

test('with several pollers waiting, each item goes to exactly one of them, longest waiter first', async () => {
  const q = new EventQueue<string>(20, 10_000);
  const a = q.poll();
  const b = q.poll();
  const c = q.poll();
  assert.equal(q.waiting, 3);
  q.push('x');
  q.push('y');
  assert.deepEqual(await a, ['x']);
  assert.deepEqual(await b, ['y']);
  assert.equal(q.waiting, 1);
  assert.equal(q.size, 0, 'delivered items are not also queued');
  q.push('z');
  assert.deepEqual(await c, ['z']);
  // Nothing is waiting now: the next item stays queued for the next poll.
  q.push('w');
  assert.equal(q.size, 1);
  assert.deepEqual(await q.poll(), ['w']);
});

test('an aborted poll stops waiting and takes nothing', async () => {
  const q = new EventQueue<string>(20, 10_000);
  const ac = new AbortController();
  const gone = q.poll(ac.signal);
  const stays = q.poll();
  ac.abort();
  assert.deepEqual(await gone, []);
  q.push('x');
  assert.deepEqual(await stays, ['x']);
  assert.deepEqual(await q.poll(AbortSignal.abort()), []);
});

test('close() answers waiting polls with [] and later polls at once', async () => {
  const q = new EventQueue<string>(20, 10_000);
  const p = q.poll();
  q.close();
  assert.deepEqual(await p, []);
  assert.deepEqual(await q.poll(), []);
  q.push('ignored');
  assert.equal(q.size, 0);
});

test('the size must be at least 1', () => {
  assert.throws(() => new EventQueue(0), RangeError);
});
