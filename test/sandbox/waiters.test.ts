import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Waiters } from '../../src/sandbox/waiters.ts';
import { promotedInChild } from '../helpers/gc.ts';

test('Waiters: wake calls each waiting callback once; removed ones and ones added meanwhile wait', () => {
  const w = new Waiters();
  const calls: string[] = [];
  w.add(() => calls.push('a'));
  const offB = w.add(() => calls.push('b'));
  w.add(() => {
    calls.push('c');
    w.add(() => calls.push('re-armed'));
  });
  offB();
  assert.equal(w.size, 2);
  w.wake();
  assert.deepEqual(calls, ['a', 'c']);
  assert.equal(w.size, 1, 'the callback added during the wake waits for the next one');
  w.wake();
  assert.deepEqual(calls, ['a', 'c', 're-armed']);
  w.wake();
  assert.equal(calls.length, 3, 'each callback runs once');
});

test('Waiters: removing a callback after it was woken changes nothing', () => {
  const w = new Waiters();
  let n = 0;
  const off = w.add(() => n++);
  w.wake();
  off();
  const off2 = w.add(() => n++);
  off();
  assert.equal(w.size, 1, "an old removal does not touch the next wait's callbacks");
  off2();
  w.wake();
  assert.equal(n, 1);
});

test('Waiters of a long-lived owner do not keep woken callbacks past the young generation', () => {
  // A session lives for hours and is woken on every message. Copying and clear()ing a Set whose table is in the old
  // generation kept every woken long poll's callback, and all it held, until the next mark-compact (here all ~8 MB).
  const rounds = 200;
  const grew = promotedInChild({
    imports: "import { Waiters } from './src/sandbox/waiters.ts';",
    setup: 'const w = new Waiters(); w.wake();',
    round: 'w.wake(); const held = payload(1000); w.add(() => void held.length); w.wake();',
    rounds,
  });
  const allocated = rounds * 1000 * 40;
  assert.ok(grew < allocated / 4, `old generation grew by ${grew} bytes of ~${allocated} allocated and dropped`);
});
