import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publishWireRequest, wireRequestChannel, WireRequestRouter, type WireRequestEvent } from '../src/diagnostics.ts';

const ev = (account: string, name = 'synccheck'): WireRequestEvent => ({ account, name, durationMs: 1, status: 200, ok: true });

test('WireRequestRouter: one channel subscription for every account; each event reaches its account only', () => {
  const before = wireRequestChannel.hasSubscribers;
  const router = new WireRequestRouter();
  const got: string[] = [];
  const offA = router.on('a', (e) => got.push(`a:${e.account}`));
  const offB1 = router.on('b', (e) => got.push(`b1:${e.account}`));
  const offB2 = router.on('b', (e) => got.push(`b2:${e.account}`));
  assert.equal(wireRequestChannel.hasSubscribers, true);
  publishWireRequest(ev('a'));
  publishWireRequest(ev('b'));
  publishWireRequest(ev('c'));
  assert.deepEqual(got, ['a:a', 'b1:b', 'b2:b']);
  offB1();
  offB1(); // twice: no effect
  publishWireRequest(ev('b'));
  assert.deepEqual(got.slice(3), ['b2:b']);
  offA();
  offB2();
  assert.equal(wireRequestChannel.hasSubscribers, before, 'the last undo leaves the channel');
  publishWireRequest(ev('a'));
  assert.equal(got.length, 4);
});
