/**
 * OneBot 12 over real HTTP and WebSocket against the sandbox: token rules, the spec's retcodes, the actions, events
 * with `self`, sending text / mention / image and revoking.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Peer, post, TOKEN } from './helpers.ts';

let s: Stack;
let url: string;
const auth = { authorization: `Bearer ${TOKEN}` };
const act = async (action: string, params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  (await post(url, { action, params, echo: 'x', ...extra }, auth)).json;

before(async () => {
  s = await startStack({
    openwx: { onebot: { accessToken: TOKEN, v12: { http: true, ws: true, webhook: [], ws_reverse: [], heartbeat_ms: 0 } } },
  });
  url = `${s.base}/onebot/v12/`;
});
after(() => s.close());

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 9)]);

test('v12 token: missing or wrong → HTTP 401; Bearer header or access_token query → served', async () => {
  const body = { action: 'get_version', params: {} };
  assert.equal((await post(url, body)).status, 401);
  assert.equal((await post(url, body, { authorization: 'Bearer wrong-token-x' })).status, 401);
  const ok = await post(url, body, auth);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json.data.onebot_version, '12');
  assert.equal((await post(`${url}?access_token=${TOKEN}`, body)).json.status, 'ok');
  await assert.rejects(Peer.connect(`${s.base.replace('http', 'ws')}/onebot/v12/ws`), (e: any) => e.status === 401);
  await assert.rejects(Peer.connect(`${s.base.replace('http', 'ws')}/onebot/v12/ws?access_token=nope-nope`), (e: any) => e.status === 401);
});

test('v12 errors: unsupported action 10002, bad request 10001, bad param 10003, unknown self 10102, not JSON 415', async () => {
  const u = await act('set_group_avatar');
  assert.equal(u.retcode, 10002);
  assert.equal(u.status, 'failed');
  assert.equal(u.echo, 'x');
  assert.equal((await post(url, { params: {} }, auth)).json.retcode, 10001);
  assert.equal((await post(url, '[1,2]', auth)).json.retcode, 10001);
  assert.equal((await post(url, '{bad json', auth)).json.retcode, 10001);
  assert.equal((await act('get_user_info', {})).retcode, 10003);
  assert.equal((await act('get_self_info', {}, { self: { platform: 'qq', user_id: 'x' } })).retcode, 10102);
  assert.equal((await act('get_self_info', {}, { self: { platform: 'wechat', user_id: 'nobody' } })).retcode, 10102);
  const form = await post(url, 'action=get_version', { ...auth, 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 415);
});

test('v12 get_supported_actions is the table every other action answers from', async () => {
  const list: string[] = (await act('get_supported_actions')).data;
  for (const a of ['get_status', 'get_version', 'get_self_info', 'send_message', 'delete_message', 'get_file', 'upload_file', 'wx.kick_group_member']) {
    assert.ok(list.includes(a), a);
  }
  for (const a of list) assert.notEqual((await act(a)).retcode, 10002, `${a} is supported`);
  assert.ok(!list.includes('leave_group'), 'WeChat web cannot leave a group');
});

test('v12 info actions: self, friends, groups, members with stable string ids', async () => {
  const self = await act('get_self_info');
  assert.equal(self.status, 'ok');
  assert.equal(self.data.user_id, s.client.user()!.stable_id);
  // self given explicitly (stable id or the account name) is the same bot
  assert.equal((await act('get_self_info', {}, { self: { platform: 'wechat', user_id: self.data.user_id } })).status, 'ok');
  const friends = (await act('get_friend_list')).data as any[];
  const zw = friends.find((f) => f.user_name === '张伟' || f.user_remark === '张伟' || f.user_displayname === '张伟');
  assert.ok(zw, 'friend 张伟 listed');
  assert.equal(zw.user_id, s.client.friend(s.friendId('张伟'))!.stable_id);
  assert.ok(!zw.user_id.startsWith('@'), 'not the session id');
  const info = await act('get_user_info', { user_id: zw.user_id });
  assert.equal(info.data.user_id, zw.user_id);
  const groups = (await act('get_group_list')).data as any[];
  const fam = groups.find((g) => g.group_name === '相亲相爱一家人');
  assert.ok(fam);
  assert.equal((await act('get_group_info', { group_id: fam.group_id })).data.group_name, '相亲相爱一家人');
  const members = (await act('get_group_member_list', { group_id: fam.group_id })).data as any[];
  assert.ok(members.length >= 2);
  const m = await act('get_group_member_info', { group_id: fam.group_id, user_id: members[0].user_id });
  assert.equal(m.data.user_id, members[0].user_id);
  assert.equal((await act('get_group_info', { group_id: 'nope' })).retcode, 35001);
  const st = await act('get_status');
  assert.equal(st.data.good, true);
  assert.deepEqual(st.data.bots, [{ self: { platform: 'wechat', user_id: self.data.user_id }, online: true }]);
});

test('v12 send_message private text, group mention, image by uploaded file id; delete_message revokes', async () => {
  const zwId = s.client.friend(s.friendId('张伟'))!.stable_id;
  const r = await act('send_message', { detail_type: 'private', user_id: zwId, message: [{ type: 'text', data: { text: '你好 OneBot' } }] });
  assert.equal(r.status, 'ok', JSON.stringify(r));
  const rec = s.sb.handle.sent().find((x) => x.MsgID === r.data.message_id);
  assert.equal(rec?.Content, '你好 OneBot');
  assert.equal(rec?.ToUserName, s.friendId('张伟'));

  const del = await act('delete_message', { message_id: r.data.message_id });
  assert.equal(del.status, 'ok', JSON.stringify(del));
  assert.equal(s.sb.handle.sent().find((x) => x.MsgID === r.data.message_id)?.revoked, true);
  assert.equal((await act('delete_message', { message_id: '123456789' })).retcode, 35001);

  const fam = ((await act('get_group_list')).data as any[]).find((g) => g.group_name === '相亲相爱一家人');
  const members = (await act('get_group_member_list', { group_id: fam.group_id })).data as any[];
  const other = members.find((m) => m.user_id !== s.client.user()!.stable_id);
  const g = await act('send_message', {
    detail_type: 'group',
    group_id: fam.group_id,
    message: [{ type: 'mention', data: { user_id: other.user_id } }, { type: 'text', data: { text: '开会' } }],
  });
  assert.equal(g.status, 'ok', JSON.stringify(g));
  const grec = s.sb.handle.sent().find((x) => x.MsgID === g.data.message_id);
  assert.match(grec!.Content, /^@.+\u2005开会$/);

  const up = await act('upload_file', { type: 'data', name: 'a.png', data: PNG.toString('base64') });
  assert.equal(up.status, 'ok');
  const img = await act('send_message', { detail_type: 'private', user_id: zwId, message: [{ type: 'image', data: { file_id: up.data.file_id } }] });
  assert.equal(img.status, 'ok', JSON.stringify(img));
  const irec = s.sb.handle.sent().find((x) => x.MsgID === img.data.message_id);
  assert.ok(irec?.MediaId, 'sent as media');
  const back = await act('get_file', { file_id: up.data.file_id, type: 'data' });
  assert.equal(Buffer.from(back.data.data, 'base64').equals(PNG), true);

  // refused rather than faked
  assert.equal((await act('send_message', { detail_type: 'private', user_id: zwId, message: [{ type: 'mention_all', data: {} }] })).retcode, 10005);
  assert.equal((await act('send_message', { detail_type: 'private', user_id: zwId, message: [{ type: 'wx.sticker', data: {} }] })).retcode, 10005);
  assert.equal((await act('send_message', { detail_type: 'private', user_id: zwId, message: [{ type: 'image', data: { file_id: 'nope' } }] })).retcode, 10006);
  assert.equal((await act('send_message', { detail_type: 'channel', user_id: zwId, message: 'x' })).retcode, 10004);
});

test('v12 forward WebSocket: connect meta event, message events with self and segments, actions with echo', async () => {
  const ws = await Peer.connect(`${s.base.replace('http', 'ws')}/onebot/v12/ws`, auth);
  try {
    const c = await ws.next((m) => m.type === 'meta' && m.detail_type === 'connect', 'connect event');
    assert.equal(c.version.impl, 'openwx');
    s.sb.handle.inject({ type: 'text', from: '张伟', content: '在吗 ws' });
    const ev = await ws.next((m) => m.type === 'message' && m.alt_message === '在吗 ws', 'message event');
    assert.equal(ev.detail_type, 'private');
    assert.deepEqual(ev.self, { platform: 'wechat', user_id: s.client.user()!.stable_id });
    assert.equal(ev.user_id, s.client.friend(s.friendId('张伟'))!.stable_id);
    assert.deepEqual(ev.message, [{ type: 'text', data: { text: '在吗 ws' } }]);

    s.sb.handle.inject({ type: 'image', from: '张伟' } as never);
    const im = await ws.next((m) => m.type === 'message' && m.message?.[0]?.type === 'image', 'image event');
    const fid = im.message[0].data.file_id;
    await waitFor(async () => (await ws.call('get_file', { file_id: fid, type: 'path' })).status === 'ok', 'received image reachable by get_file');

    const reply = await ws.call('send_message', { detail_type: 'private', user_id: ev.user_id, message: [{ type: 'text', data: { text: '在' } }] });
    assert.equal(reply.status, 'ok');
    assert.equal((await ws.call('delete_message', { message_id: reply.data.message_id })).status, 'ok');
    assert.equal((await ws.call('no_such_action')).retcode, 10002);
  } finally {
    ws.close();
  }
});
