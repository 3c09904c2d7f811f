import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  categoryOf, fileHelperFriend, friendFromRaw, groupDisplayname, groupFromRaw, memberFromRaw, userFromRaw, withMembers,
} from '../../src/model/contacts.ts';
import { assignFriendStableIds, friendStableId } from '../../src/model/stable-id.ts';
import type { RawContact } from '../../src/wire/types.ts';
import { fixtureJson } from '../helpers/fixtures.ts';

test('friends from webwxgetcontact (wechat4u capture): categories, sex, uid "", account, Mojo key set', () => {
  const list: RawContact[] = fixtureJson('webwxgetcontact.wechat4u.json').MemberList;
  const byName = new Map(list.filter((c) => !c.UserName.startsWith('@@')).map((c) => [c.NickName, friendFromRaw(c)]));
  const red = byName.get('微信红包')!;
  assert.deepEqual([red.category, red.account, red.province, red.city, red.uid, red.sex], ['公众号', 'cft_fahongbao', '广东', '深圳', '', '']);
  const st = byName.get('SToneX')!;
  assert.deepEqual([st.category, st.sex, st.account, st.displayname, st.markname], ['好友', 'male', 'stonexer', 'SToneX', '']);
  assert.deepEqual(Object.keys(st).sort(),
    ['account', 'category', 'city', 'display', 'displayname', 'id', 'markname', 'name', 'province', 'sex', 'signature', 'stable_id', 'uid']);
  const weixin = friendFromRaw(fixtureJson('webwxgetcontact-response.wwdk.json').MemberList[0]);
  assert.equal(weixin.category, '公众号');
  assert.equal(categoryOf('filehelper', 0), '系统帐号');
  assert.equal(categoryOf('newsapp', 8), '系统帐号');
  assert.equal(categoryOf('@x', 24), '公众号');
  assert.equal(categoryOf('@x', 0), '好友');
  const fh = fileHelperFriend();
  assert.deepEqual([fh.id, fh.category, fh.displayname, fh.uid], ['filehelper', '系统帐号', '文件传输助手', '']);
});

test('displayname rules: friend remark wins, unknown nickname; emoji spans and entities decoded', () => {
  const f = friendFromRaw({ UserName: '@f1', NickName: '小灰<span class="emoji emoji1f31b"></span> &amp; co', RemarkName: '', Sex: 2, Uin: 0 });
  assert.deepEqual([f.name, f.displayname, f.sex], ['小灰🌛 & co', '小灰🌛 & co', 'female']);
  const r = friendFromRaw({ UserName: '@f1', NickName: '小灰', RemarkName: 'xh' });
  assert.equal(r.displayname, 'xh');
  assert.equal(friendFromRaw({ UserName: '@f2' }).displayname, '昵称未知');
  const u = userFromRaw(fixtureJson('webwxinit-response.qjesus.json').User);
  assert.deepEqual([u.uid, u.sex, u.id], [176666155, 'male', '@f0c04abe389590b02d91684d99584439']);
  assert.equal(u.displayname, u.name);
  assert.equal(userFromRaw({ UserName: '@me', NickName: '', Uin: 1 }).displayname, '');
});

test('partial sync updates keep absent keys and normalise sex (no raw-number leak)', () => {
  const full = friendFromRaw({ UserName: '@f', NickName: 'A', Sex: 1, Alias: 'acc', Province: 'P', City: 'C', Uin: 0, VerifyFlag: 0, RemarkName: 'R' });
  const mod = fixtureJson('webwxsync-group-text-modcontact-delcontact.wwdk.jsonc').ModContactList[0];
  const upd = friendFromRaw({ ...mod, UserName: '@f', Sex: 1 }, full);
  assert.equal(upd.sex, 'male');
  assert.equal(upd.uid, ''); // Uin absent in ModContactList → kept
  const partial = friendFromRaw({ UserName: '@f', NickName: 'B' }, full);
  assert.deepEqual([partial.name, partial.sex, partial.account, partial.markname, partial.category], ['B', 'male', 'acc', 'R', '好友']);
});

test('groups and members from batchgetcontact / chatroom captures: member markname ← NickName, name ""', () => {
  const raw = fixtureJson('contact-chatroom-with-memberlist.wechaty-web.json');
  const g = groupFromRaw(raw, '@me');
  assert.equal(g.name, '（通知）中国青年天使会官方家');
  assert.equal(g.displayname, g.name);
  assert.equal(g.uid, '');
  assert.equal(g.member.length, raw.MemberList.length);
  const m = g.member.find((x) => x.markname === '田美坤Maggie')!;
  assert.deepEqual([m.name, m.display, m.displayname, m.uid, m.sex], ['', '田美坤', '田美坤', '', '']);
  const withUin = g.member.find((x) => x.markname === '周宏光')!;
  assert.equal(withUin.uid, 2351423900);
  const w4u = groupFromRaw(fixtureJson('webwxbatchgetcontact-chatroom.wechat4u.json').ContactList[0], '@me');
  assert.deepEqual([w4u.name, w4u.owner_uid, w4u.member[0]!.markname], ['家庭', 155217200, 'SToneX']);
  const sync = fixtureJson('webwxsync-statusnotify51-and-text.wechat4u.json').ModContactList[0];
  const sg = groupFromRaw(sync, '@me');
  assert.equal(sg.member[0]!.markname, '吃圡死月不會碼代碼🌛');
  assert.equal(sg.member[0]!.uid, 195765975);
  const kept = groupFromRaw({ UserName: sg.id, NickName: 'new topic' }, '@me', sg);
  assert.deepEqual([kept.name, kept.member.length, kept.owner_uid], ['new topic', 1, 0]);
});

test('group displayname without topic: first 3 other members joined with 、, else 群名未知', () => {
  const members = ['@me', '@a', '@b', '@c', '@d'].map((id, i) =>
    memberFromRaw({ UserName: id, NickName: `n${i}`, DisplayName: i === 1 ? '群名片' : '' }));
  const g = groupFromRaw({ UserName: '@@g', NickName: '', MemberList: [] }, '@me');
  assert.equal(g.displayname, '群名未知');
  const g2 = withMembers(g, members, '@me');
  assert.equal(g2.displayname, '群名片、n2、n3');
  assert.equal(groupDisplayname({ name: '', member: [members[0]!] }, '@me'), '群名未知');
  assert.notEqual(g2.stable_id, g.stable_id);
});

test('stable ids: independent of the session id, remark wins, Uin wins, collisions separated', () => {
  const a1 = friendFromRaw({ UserName: '@s1', NickName: '小明', Alias: 'xm', RemarkName: '' });
  const a2 = friendFromRaw({ UserName: '@s2-other-login', NickName: '小明', Alias: 'xm', RemarkName: '' });
  assert.equal(a1.stable_id, a2.stable_id);
  assert.match(a1.stable_id, /^[0-9a-f]{16}$/);
  const remarked = friendFromRaw({ UserName: '@s3', NickName: '改了昵称', RemarkName: '老王' });
  const remarked2 = friendFromRaw({ UserName: '@s4', NickName: '又改了', RemarkName: '老王' });
  assert.equal(remarked.stable_id, remarked2.stable_id);
  assert.notEqual(friendStableId({ ...a1, uid: 5 }), a1.stable_id);
  const twins = assignFriendStableIds([
    friendFromRaw({ UserName: '@1', NickName: 'Tom', Sex: 1, City: 'A' }),
    friendFromRaw({ UserName: '@2', NickName: 'Tom', Sex: 1, City: 'B' }),
    friendFromRaw({ UserName: '@3', NickName: 'Tom', Sex: 1, City: 'B' }),
    friendFromRaw({ UserName: '@4', NickName: 'Ann' }),
  ]);
  assert.equal(new Set(twins.map((f) => f.stable_id)).size, 4);
  assert.equal(twins[3]!.stable_id, friendFromRaw({ UserName: '@9', NickName: 'Ann' }).stable_id);
  assert.ok(twins[2]!.stable_id.endsWith('-2'));
  const gA = groupFromRaw({ UserName: '@@x', NickName: 'T', MemberList: [{ UserName: '@a', NickName: 'b' }, { UserName: '@b', NickName: 'a' }] as never }, '@me');
  const gB = groupFromRaw({ UserName: '@@y', NickName: 'T', MemberList: [{ UserName: '@c', NickName: 'a' }, { UserName: '@d', NickName: 'b' }] as never }, '@me');
  assert.equal(gA.stable_id, gB.stable_id);
});
