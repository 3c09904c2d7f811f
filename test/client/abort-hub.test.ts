/**
 * AbortHub: the work in flight under one long-lived signal, behind one 'abort' listener (src/client/abort-hub.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { AbortHub, AbortHubs } from '../../src/client/abort-hub.ts';

test('abort hub: every registered callback runs once on abort; removed ones do not; the signal has one listener however many come and go', () => {
  const ac = new AbortController();
  const hub = new AbortHub(ac.signal);
  const ran: number[] = [];
  for (let i = 0; i < 1000; i++) hub.off(hub.on(() => ran.push(-1)));
  const kept = [1, 2, 3, 4].map((i) => hub.on(() => ran.push(i)));
  hub.off(kept[1]!); // from the middle
  hub.off(kept[3]!); // the newest (the list's head)
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
  ac.abort();
  assert.deepEqual(ran.sort(), [1, 3]);
  hub.off(kept[0]!); // after it ran: nothing happens
  assert.deepEqual(ran, [1, 3]);
});

test('abort hub: on() after the abort runs at once and gives null; a callback may remove one that has not run yet', () => {
  const ac = new AbortController();
  const hub = new AbortHub(ac.signal);
  const ran: string[] = [];
  const later = hub.on(() => ran.push('later'));
  hub.on(() => {
    ran.push('first');
    hub.off(later);
  });
  ac.abort();
  assert.deepEqual(ran, ['first'], 'the newest runs first and took the other off');
  assert.equal(hub.on(() => ran.push('now')), null);
  assert.deepEqual(ran, ['first', 'now']);
  hub.off(null);
});

test('abort hubs: one hub per signal', () => {
  const hubs = new AbortHubs();
  const a = new AbortController();
  const b = new AbortController();
  assert.equal(hubs.for(a.signal), hubs.for(a.signal));
  assert.notEqual(hubs.for(a.signal), hubs.for(b.signal));
  assert.equal(getEventListeners(a.signal, 'abort').length, 1);
});
