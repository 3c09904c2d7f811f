import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventParams, passesFilter } from '../../src/api/reporter.ts';

test('post_message_filter: a key that exists with another value drops the message; absent keys pass', () => {
  const m = { type: 'group_message', group_name: 'PERL', format: 'text', code: 0 };
  assert.ok(passesFilter(m, undefined));
  assert.ok(passesFilter(m, { type: 'group_message' }));
  assert.ok(!passesFilter(m, { type: 'friend_message' }));
  assert.ok(passesFilter(m, { sender_account: 'x' }), 'absent key passes');
  assert.ok(passesFilter(m, { code: '0' }), 'compared as strings');
});

test('eventParams shapes event arguments as Mojo posts them', () => {
  assert.deepEqual(eventParams('login', [1]), [1]);
  assert.deepEqual(eventParams('login', [-1, 'refused']), [-1, 'refused']);
  assert.deepEqual(eventParams('input_qrcode', ['/q.jpg', 'AAA=\n', '']), ['/q.jpg', 'AAA=\n']);
  assert.deepEqual(eventParams('input_qrcode', ['/q.jpg', 'AAA=\n', 'http://u']), ['/q.jpg', 'AAA=\n', 'http://u']);
  assert.deepEqual(eventParams('update_friend', [[{ id: 'a' }, { id: 'b' }]]), [{ id: 'a' }, { id: 'b' }]);
  assert.deepEqual(eventParams('state_change', ['init', 'loading']), ['init', 'loading']);
  assert.deepEqual(eventParams('stop', []), []);
});
