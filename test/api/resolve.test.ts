import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRIEND_KEYS, GROUP_KEYS, idList, isGroupId, pickQuery, searchQuery } from '../../src/api/resolve.ts';
import { isOpenwxError } from '../../src/errors.ts';

test('pickQuery keeps only the given keys of the fixed set, and null when none is given', () => {
  assert.deepEqual(pickQuery({ id: '@a', content: 'hi', markname: '小灰' }, FRIEND_KEYS), { id: '@a', markname: '小灰' });
  assert.deepEqual(pickQuery({ id: '' }, FRIEND_KEYS), { id: '' }, 'an empty value is given (and matches nothing)');
  assert.equal(pickQuery({ content: 'hi' }, FRIEND_KEYS), null);
  assert.deepEqual(pickQuery({ displayname: 'g', name: 'x' }, GROUP_KEYS), { displayname: 'g' });
});

test('searchQuery takes every attribute except routing, JSONP and auth params', () => {
  assert.deepEqual(searchQuery({ province: '广东', city: '深圳', client: 'c1', datatype: 'jsonp', callback: 'cb' }), {
    province: '广东',
    city: '深圳',
  });
  assert.equal(searchQuery({ client: 'c1' }), null);
  assert.deepEqual(searchQuery({ foo: 'bar' }), { foo: 'bar' });
});

test('isGroupId: @@ prefix or @chatroom suffix', () => {
  assert.ok(isGroupId('@@abc'));
  assert.ok(isGroupId('123@chatroom'));
  assert.ok(!isGroupId('@abc'));
  assert.ok(!isGroupId('filehelper'));
});

test('idList accepts both spellings, trims, dedupes, and an empty list is code 200', () => {
  assert.deepEqual(idList({ friends: '@a, @b' }, 'friends', 'friend', 'friend'), ['@a', '@b']);
  assert.deepEqual(idList({ friend: '@c' }, 'friends', 'friend', 'friend'), ['@c']);
  assert.deepEqual(idList({ members: '@a', member: '@a,@d' }, 'members', 'member', 'member'), ['@a', '@d']);
  try {
    idList({ friends: ' , ' }, 'friends', 'friend', 'friend');
    assert.fail('no error');
  } catch (e) {
    assert.ok(isOpenwxError(e, 'OWX_ERR_ID_LIST_EMPTY'));
    assert.equal(e.apiCode, 200);
    assert.equal(e.message, 'friend id empty');
  }
});
