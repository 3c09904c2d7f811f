import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContactBook, matches } from '../../src/client/contact-book.ts';
import type { RawContact } from '../../src/wire/types.ts';

const friend = (UserName: string, NickName: string, extra: Partial<RawContact> = {}) =>
  ({ UserName, NickName, RemarkName: '', Sex: 1, Uin: 0, VerifyFlag: 0, Alias: '', Province: '广东', City: '深圳', Signature: '', ...extra }) as RawContact;
const group = (UserName: string, NickName: string, members: [string, string][]) =>
  ({ UserName, NickName, Uin: 0, OwnerUin: 0, EncryChatRoomId: '@e1', MemberList: members.map(([u, n]) => ({ UserName: u, NickName: n, DisplayName: '', Uin: 0 })) }) as unknown as RawContact;

function book() {
  const b = new ContactBook();
  b.setUser({ UserName: '@me', NickName: 'Me', Uin: 42 });
  b.load([friend('@f1', 'Ann', { RemarkName: 'ann-r' }), friend('@f2', 'Bob')], [group('@@g1', 'Team', [['@me', 'Me'], ['@f1', 'Ann']])]);
  return b;
}

test('load: friends (with the file helper), groups with members, Mojo fields', () => {
  const b = book();
  assert.deepEqual(b.friends().map((f) => f.id).sort(), ['@f1', '@f2', 'filehelper']);
  const ann = b.friend('@f1')!;
  assert.equal(ann.sex, 'male');
  assert.equal(ann.displayname, 'ann-r');
  assert.equal(ann.category, '好友');
  assert.equal(b.group('@@g1')!.member.length, 2);
  assert.equal(b.groupOfMember('@f1')!.id, '@@g1');
  assert.equal(b.encryChatRoomId('@@g1'), '@e1');
  assert.ok(ann.stable_id);
});

test('sync updates emit Mojo events with normalised values and keep stable_id', () => {
  const b = book();
  const before = b.friend('@f1')!.stable_id;
  const ev = b.applyContact(friend('@f1', 'Ann', { RemarkName: 'ann-new', Sex: 2 }));
  assert.deepEqual(ev.map((e) => [e.event, e.args[1], e.args[2], e.args[3]]), [
    ['friend_property_change', 'markname', 'ann-r', 'ann-new'],
    ['friend_property_change', 'sex', 'male', 'female'],
  ]);
  assert.equal(b.friend('@f1')!.stable_id, before);
  assert.deepEqual(b.applyContact(friend('@f3', 'Cat')).map((e) => e.event), ['new_friend']);
  const gev = b.applyContact(group('@@g1', 'Team2', [['@me', 'Me'], ['@f2', 'Bob']]));
  assert.deepEqual(gev.map((e) => e.event), ['group_property_change', 'new_group_member', 'lose_group_member']);
  assert.deepEqual(b.removeContact('@f2').map((e) => e.event), ['lose_friend']);
  assert.deepEqual(b.removeContact('@@g1').map((e) => e.event), ['lose_group']);
  assert.deepEqual(b.removeContact('@nobody'), []);
});

test('stable ids survive a new QR login (new wire ids) after a rename, through the persisted aliases', () => {
  const b = book();
  const ann = b.friend('@f1')!.stable_id;
  b.applyContact(friend('@f1', 'Ann', { RemarkName: 'ann-new' }));
  const saved = JSON.parse(JSON.stringify(b.stable.export()));
  const b2 = new ContactBook();
  b2.stable.import(saved);
  b2.setUser({ UserName: '@me2', NickName: 'Me', Uin: 42 });
  b2.load([friend('@x1', 'Ann', { RemarkName: 'ann-new' }), friend('@x2', 'Bob')], []);
  assert.equal(b2.friend('@x1')!.stable_id, ann);
  assert.equal(b2.friend('@x2')!.stable_id, b.friend('@f2')!.stable_id);
  assert.equal(b2.user()!.stable_id, b.user()!.stable_id);
});

test('search: every given key must match; unknown keys never match', () => {
  const b = book();
  assert.deepEqual(b.searchFriends({ name: 'Ann' }).map((f) => f.id), ['@f1']);
  assert.deepEqual(b.searchFriends({ name: 'Ann', sex: 'female' }), []);
  assert.deepEqual(b.searchFriends({ nosuchkey: 'x' }), []);
  assert.equal(matches({ uid: 42 }, { uid: '42' }), true);
  assert.deepEqual(b.searchGroups({ name: 'Team' }).map((g) => g.id), ['@@g1']);
});

test('search answers from its indexes exactly like a scan, and sees every change (rename, add, remove, reload)', () => {
  const b = book();
  const scan = (q: Record<string, string>) => b.friends().filter((f) => matches(f, q)).map((f) => f.id);
  const queries: Record<string, string>[] = [{ name: 'Ann' }, { id: '@f2' }, { markname: 'ann-r' }, { sex: 'male' }, { province: '广东', name: 'Bob' }, {}];
  for (const q of queries) {
    assert.deepEqual(b.searchFriends(q).map((f) => f.id), scan(q), JSON.stringify(q));
  }
  assert.deepEqual(b.searchFriends({ member: 'x' }), []);
  // a rename replaces the object: the old value no longer matches, the new one does
  b.applyContact(friend('@f1', 'Ann', { RemarkName: 'ann-new' }));
  assert.deepEqual(b.searchFriends({ markname: 'ann-r' }), []);
  assert.deepEqual(b.searchFriends({ markname: 'ann-new' }).map((f) => f.id), ['@f1']);
  b.applyContact(friend('@f3', 'Ann'));
  assert.deepEqual(b.searchFriends({ name: 'Ann' }).map((f) => f.id), ['@f1', '@f3']);
  b.removeContact('@f1');
  assert.deepEqual(b.searchFriends({ name: 'Ann' }).map((f) => f.id), ['@f3']);
  assert.deepEqual(b.searchGroups({ id: '@@g1' }).map((g) => g.id), ['@@g1']);
  b.applyContact(group('@@g1', 'Team2', [['@me', 'Me']]));
  assert.deepEqual(b.searchGroups({ name: 'Team' }), []);
  assert.deepEqual(b.searchGroups({ name: 'Team2' }).map((g) => g.id), ['@@g1']);
  b.load([friend('@y1', 'Zed')], []);
  assert.deepEqual(b.searchFriends({ name: 'Ann' }), []);
  assert.deepEqual(b.searchFriends({ name: 'Zed' }).map((f) => f.id), ['@y1']);
  // many distinct search keys never grow without bound, and still answer right
  for (let i = 0; i < 50; i++) assert.deepEqual(b.searchFriends({ [`k${i}`]: 'x' }), []);
  assert.deepEqual(b.searchFriends({ name: 'Zed' }).map((f) => f.id), ['@y1']);
});

test('members: the same person in several groups is one shared object when equal; per-group display and stable ids stay', () => {
  const b = new ContactBook();
  b.setUser({ UserName: '@me', NickName: 'Me', Uin: 42 });
  const withDisplay = group('@@g3', 'Three', [['@p1', 'Pat'], ['@p2', 'Quinn']]) as unknown as { MemberList: { DisplayName: string }[] };
  withDisplay.MemberList[0]!.DisplayName = 'Pat in Three';
  b.load([], [
    group('@@g1', 'One', [['@p1', 'Pat'], ['@p2', 'Quinn']]),
    group('@@g2', 'Two', [['@p2', 'Quinn'], ['@p1', 'Pat']]),
    withDisplay as unknown as RawContact,
  ]);
  const m = (g: string, id: string) => b.member(g, id)!;
  assert.equal(m('@@g1', '@p1'), m('@@g2', '@p1'), 'equal members are one object');
  assert.equal(m('@@g1', '@p2'), m('@@g3', '@p2'));
  assert.notEqual(m('@@g1', '@p1'), m('@@g3', '@p1'), 'a different group display name is its own object');
  assert.equal(m('@@g3', '@p1').display, 'Pat in Three');
  assert.equal(m('@@g3', '@p1').displayname, 'Pat in Three');
  assert.equal(m('@@g1', '@p1').displayname, 'Pat');
  assert.equal(m('@@g3', '@p1').stable_id, m('@@g1', '@p1').stable_id, 'same person, same key');
  assert.match(m('@@g1', '@p1').stable_id, /^[0-9a-f]{16}$/);
  // a rename seen in one group's update: that group's member changes, the other group's object does not
  const before = m('@@g2', '@p1');
  const ev = b.applyContact(group('@@g1', 'One', [['@p1', 'Pat2'], ['@p2', 'Quinn']]));
  const change = ev.filter((e) => e.event === 'group_member_property_change').map((e) => [e.args[1], e.args[2], e.args[3]]);
  assert.deepEqual(change.filter(([p]) => p === 'markname'), [['markname', 'Pat', 'Pat2']]);
  assert.equal(m('@@g1', '@p1').markname, 'Pat2');
  assert.equal(m('@@g1', '@p1').stable_id, before.stable_id, 'a member keeps its first key within the session');
  assert.equal(m('@@g2', '@p1'), before);
  assert.equal(before.markname, 'Pat');
});
