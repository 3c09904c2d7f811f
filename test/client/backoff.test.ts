import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, backoffDelayMs } from '../../src/client/backoff.ts';

test('delays grow exponentially, stay within [d/2, d] with the default jitter, and are capped', () => {
  for (let a = 0; a < 12; a++) {
    const d = Math.min(8000, 100 * 2 ** a);
    assert.equal(backoffDelayMs(a, { baseMs: 100, maxMs: 8000, random: () => 0 }), d / 2);
    assert.equal(backoffDelayMs(a, { baseMs: 100, maxMs: 8000, random: () => 1 }), d);
    const r = backoffDelayMs(a, { baseMs: 100, maxMs: 8000 });
    assert.ok(r >= d / 2 && r <= d, `${a}: ${r}`);
  }
});

test('Backoff counts attempts and resets', () => {
  const b = new Backoff({ baseMs: 10, maxMs: 1000, random: () => 1 });
  assert.deepEqual([b.next(), b.next(), b.next()], [10, 20, 40]);
  assert.equal(b.attempts, 3);
  b.reset();
  assert.equal(b.next(), 10);
});
