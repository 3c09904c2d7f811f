import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventQueue } from '../../src/api/check-event.ts';
import { mimeBase64 } from '../../src/model/post-json.ts';

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

test('a media item is queued by reference and gets media_data when it is taken; a poll takes media up to its byte budget', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-check-event-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = [600, 500, 10, 0].map((n, i) => {
    const data = Buffer.alloc(n, i + 1);
    const path = join(dir, `m${i}.bin`);
    writeFileSync(path, data);
    return { path, size: n, data };
  });
  const q = new EventQueue<Record<string, unknown>>(20, 10_000, { mediaBytesPerPoll: 1000 });
  q.push({ n: 0 }, files[0]);
  q.push({ n: 1 }, files[1]);
  q.push({ n: 2 }, files[2]);
  q.push({ n: 3 });
  q.push({ n: 4 }, files[3]);
  // 600 + 500 > 1000: the first poll stops before the second file
  assert.deepEqual(await q.poll(), [{ n: 0, media_data: mimeBase64(files[0]!.data) }]);
  assert.equal(q.size, 4);
  assert.deepEqual(await q.poll(), [
    { n: 1, media_data: mimeBase64(files[1]!.data) },
    { n: 2, media_data: mimeBase64(files[2]!.data) },
    { n: 3 },
    { n: 4, media_data: '' },
  ]);
  // one file larger than the budget still goes, alone
  const small = new EventQueue<Record<string, unknown>>(20, 10_000, { mediaBytesPerPoll: 100 });
  small.push({ n: 5 }, files[0]);
  small.push({ n: 6 });
  assert.deepEqual(await small.poll(), [{ n: 5, media_data: mimeBase64(files[0]!.data) }]);
  assert.deepEqual(await small.poll(), [{ n: 6 }]);
  // a waiting poller gets the item with its media_data; a file deleted before the poll leaves it out
  const waiting = q.poll();
  q.push({ n: 7 }, files[2]);
  assert.deepEqual(await waiting, [{ n: 7, media_data: mimeBase64(files[2]!.data) }]);
  q.push({ n: 8 }, files[1]);
  rmSync(files[1]!.path);
  assert.deepEqual(await q.poll(), [{ n: 8 }]);
});
