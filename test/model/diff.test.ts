import { test } from 'node:test';
import assert from 'node:assert/strict';
import { friendFromRaw, groupFromRaw } from '../../src/model/contacts.ts';
import { diffMembers, friendListEvents, friendUpdateEvents, groupListEvents, groupUpdateEvents, userUpdateEvents } from '../../src/model/diff.ts';
import { userFromRaw } from '../../src/model/contacts.ts';

test('friend update: one event per changed property, [obj, prop, old, new]; no spurious sex/uid changes', () => {
  const old = friendFromRaw({ UserName: '@f', NickName: 'A', Sex: 1, Uin: 0, RemarkName: '' });
  const next = friendFromRaw({ UserName: '@f', NickName: 'B', Sex: 1, Uin: 0, RemarkName: 'rb' }, old);
  const ev = friendUpdateEvents(old, next);
  assert.deepEqual(ev.map((e) => [e.event, ...e.args.slice(1)]), [
    ['friend_property_change', 'name', 'A', 'B'],
    ['friend_property_change', 'markname', '', 'rb'],
  ]);
  assert.equal(ev[0]!.args[0], next);
  assert.deepEqual(friendUpdateEvents(old, friendFromRaw({ UserName: '@f', Sex: 1, Uin: 0 }, old)), []);
  const u = userFromRaw({ UserName: '@me', NickName: 'me', Uin: 7 });
  assert.deepEqual(userUpdateEvents(u, userFromRaw({ UserName: '@me', Signature: 'hi' }, u)).map((e) => e.args[1]), ['signature']);
});

test('group update: property change, member property change, new and lost members (with the updated group)', () => {
  const old = groupFromRaw({ UserName: '@@g', NickName: 'T', OwnerUin: 1, MemberList: [
    { UserName: '@a', NickName: 'a', DisplayName: '' }, { UserName: '@b', NickName: 'b', DisplayName: '' },
  ] as never }, '@me');
  const next = groupFromRaw({ UserName: '@@g', NickName: 'T2', MemberList: [
    { UserName: '@a', NickName: 'a', DisplayName: '群名片' }, { UserName: '@c', NickName: 'c', DisplayName: '' },
  ] as never }, '@me', old);
  const ev = groupUpdateEvents(old, next);
  assert.deepEqual(ev.map((e) => e.event), ['group_property_change', 'group_member_property_change', 'new_group_member', 'lose_group_member']);
  assert.deepEqual(ev[0]!.args.slice(1), ['name', 'T', 'T2']);
  assert.deepEqual(ev[1]!.args.slice(1), ['display', '', '群名片']);
  assert.equal((ev[2]!.args[0] as { id: string }).id, '@c');
  assert.equal(ev[2]!.args[1], next);
  assert.equal((ev[3]!.args[0] as { id: string }).id, '@b');
  const d = diffMembers(old.member, next.member);
  assert.deepEqual([d.added.length, d.removed.length, d.changed.length], [1, 1, 1]);
});

test('list refresh: new / lose friend and group', () => {
  const a = friendFromRaw({ UserName: '@a', NickName: 'a' });
  const b = friendFromRaw({ UserName: '@b', NickName: 'b' });
  assert.deepEqual(friendListEvents([a], [b]).map((e) => e.event), ['new_friend', 'lose_friend']);
  const g = groupFromRaw({ UserName: '@@g', NickName: 'g' }, '@me');
  assert.deepEqual(groupListEvents([g], []).map((e) => e.event), ['lose_group']);
  assert.deepEqual(groupListEvents([], [g]).map((e) => e.event), ['new_group']);
});
