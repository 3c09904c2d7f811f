/**
 * Events both versions map from WeChat: a group message with WeChat's own @ form (mention segments / at), a revoke
 * (message delete / recall, with the id the message event gave), and a friend request answered through the
 * request action.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../helpers/stack.ts';
import { startWsPair, type Peer } from './helpers.ts';

let pair: Awaited<ReturnType<typeof startWsPair>>;
let s: Stack;
let w12: Peer;
let w11: Peer;

before(async () => {
  pair = await startWsPair();
  ({ s, w12, w11 } = pair);
});
after(async () => {
  await pair.close();
});

test('group message with @: v12 mention segments, v11 at with the member’s integer id', async () => {
  const gid = s.groupId('相亲相爱一家人');
  const g = s.client.group(gid)!;
  const target = g.member.find((m) => m.id !== s.client.user()!.id && m.displayname)!;
  const name = target.displayname;
  s.sb.handle.inject({ type: 'text', group: '相亲相爱一家人', from: '张伟', content: `@${name}\u2005看这里 @所有人\u2005` });
  const e12 = await w12.next((m) => m.type === 'message' && m.detail_type === 'group', 'v12 group message');
  assert.deepEqual(e12.message, [
    { type: 'mention', data: { user_id: target.stable_id } },
    { type: 'text', data: { text: '看这里 ' } },
    { type: 'mention_all', data: {} },
  ]);
  assert.equal(e12.group_id, g.stable_id);
  const e11 = await w11.next((m) => m.post_type === 'message' && m.message_type === 'group', 'v11 group message');
  assert.equal(e11.message[0].type, 'at');
  const members = (await w11.call('get_group_member_list', { group_id: e11.group_id })).data as any[];
  assert.ok(members.some((m) => String(m.user_id) === e11.message[0].data.qq), 'at names a member by its integer id');
  assert.deepEqual(e11.message[2], { type: 'at', data: { qq: 'all' } });
});

test('revoke: v12 private_message_delete and v11 friend_recall carry the id of the message event', async () => {
  const [msgId] = s.sb.handle.inject({ type: 'text', from: '张伟', content: '说错了' }).msgIds;
  const m12 = await w12.next((m) => m.alt_message === '说错了', 'v12 message');
  const m11 = await w11.next((m) => m.raw_message === '说错了', 'v11 message');
  s.sb.handle.inject({ type: 'revoke', from: '张伟', msgId } as never);
  const d12 = await w12.next((m) => m.detail_type === 'private_message_delete', 'v12 delete');
  assert.equal(d12.message_id, m12.message_id);
  assert.equal(d12.user_id, m12.user_id);
  const d11 = await w11.next((m) => m.notice_type === 'friend_recall', 'v11 recall');
  assert.equal(d11.message_id, m11.message_id);
});

test('friend request: v12 request.wx.friend_request + wx.set_friend_add_request; v11 request friend + set_friend_add_request', async () => {
  s.sb.handle.inject({ type: 'friend_request', from: '何杰', content: '加个好友' });
  const r12 = await w12.next((m) => m.type === 'request', 'v12 request');
  assert.equal(r12.detail_type, 'wx.friend_request');
  assert.equal(r12.message, '加个好友');
  const r11 = await w11.next((m) => m.post_type === 'request', 'v11 request');
  assert.equal(r11.request_type, 'friend');
  assert.equal(r11.comment, '加个好友');
  const ok = await w11.call('set_friend_add_request', { flag: r11.flag, approve: true });
  assert.equal(ok.status, 'ok', JSON.stringify(ok));
  assert.equal((await w11.call('set_friend_add_request', { flag: 'nobody', approve: true })).retcode, 100);
  assert.equal((await w12.call('wx.set_friend_add_request', { user_id: 'nobody' })).retcode, 35001);
});

test('WeChat-only: a group renamed → v12 notice.wx.group_name_update, v11 notice wx_group_name_update', async () => {
  const fam = ((await w12.call('get_group_list')).data as any[]).find((g) => g.group_name === '相亲相爱一家人');
  const r = await w12.call('set_group_name', { group_id: fam.group_id, group_name: '新名字' });
  assert.equal(r.status, 'ok', JSON.stringify(r));
  const n12 = await w12.next((m) => m.detail_type === 'wx.group_name_update', 'v12 rename');
  assert.equal(n12.group_name, '新名字');
  assert.equal(n12['wx.old_name'], '相亲相爱一家人');
  assert.equal(n12.group_id, fam.group_id, 'the stable id survives the rename');
  const n11 = await w11.next((m) => m.notice_type === 'wx_group_name_update', 'v11 rename');
  assert.equal(n11.group_name, '新名字');
});
